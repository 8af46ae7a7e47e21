//! Reading whatever a user brings: PEM (certificates and keys), DER certificates
//! and keys, and PKCS#12 files, detected from the bytes themselves.

use serde::Serialize;

use crate::{
    certificate::Certificate,
    error::{Error, Result},
    key::PrivateKey,
    pem, pkcs12,
};

/// The encoding an input was recognised as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum InputFormat {
    /// PEM text with one or more blocks.
    Pem,
    /// A DER certificate (`.cer`, `.der`, as macOS Keychain exports).
    DerCertificate,
    /// A DER private key (PKCS#8, SEC1 or PKCS#1).
    DerPrivateKey,
    /// A PKCS#12 file (`.p12`, `.pfx`).
    Pkcs12,
}

/// Certificates and at most one private key read from one input.
#[derive(Debug, Clone)]
pub struct Imported {
    /// How the input was encoded.
    pub format: InputFormat,
    /// Every certificate, in input order.
    pub certificates: Vec<Certificate>,
    /// The private key, if the input held one.
    pub private_key: Option<PrivateKey>,
    /// Labels of PEM blocks that were passed over because they hold nothing
    /// Marshal uses and nothing secret (`EC PARAMETERS`, a CSR, a CRL,
    /// a public key), in input order.
    pub skipped: Vec<String>,
}

impl Imported {
    /// The device certificate: the one matching the key when there is a key,
    /// else the first. `NoCertificate` when there is none.
    pub fn leaf(&self) -> Result<&Certificate> {
        if let Some(key) = &self.private_key
            && let Some(cert) = self
                .certificates
                .iter()
                .find(|c| key.check_matches(c).is_ok())
        {
            return Ok(cert);
        }
        self.certificates.first().ok_or(Error::NoCertificate)
    }

    /// The private key, or `NoPrivateKey`.
    pub fn key(&self) -> Result<&PrivateKey> {
        self.private_key.as_ref().ok_or(Error::NoPrivateKey)
    }

    /// When the input holds both a key and certificates: whether the key
    /// belongs to one of them.
    pub fn key_matches(&self) -> Option<Result<()>> {
        let key = self.private_key.as_ref()?;
        if self.certificates.is_empty() {
            return None;
        }
        Some(
            if self
                .certificates
                .iter()
                .any(|c| key.check_matches(c).is_ok())
            {
                Ok(())
            } else {
                Err(Error::KeyMismatch)
            },
        )
    }
}

/// Reads `input`, whatever it is. `password` opens PKCS#12 files and encrypted
/// keys; the empty string is the empty password.
pub fn import(input: &[u8], password: &str) -> Result<Imported> {
    if input.iter().all(u8::is_ascii_whitespace) {
        return Err(Error::Empty);
    }
    // Binary files may contain the PEM marker (in a name, say): bytes that
    // frame as exactly one DER or BER SEQUENCE are not read as text.
    if pem::looks_like_pem(input) && !is_one_sequence(input) {
        return import_pem(&String::from_utf8_lossy(input), password);
    }
    if pkcs12::looks_like_pkcs12(input) {
        let contents = pkcs12::import(input, password)?;
        return Ok(Imported {
            format: InputFormat::Pkcs12,
            certificates: contents.certificates,
            private_key: contents.private_key,
            skipped: Vec::new(),
        });
    }
    let cert_error = match Certificate::from_der(input) {
        Ok(cert) => {
            return Ok(Imported {
                format: InputFormat::DerCertificate,
                certificates: vec![cert],
                private_key: None,
                skipped: Vec::new(),
            });
        }
        Err(e) => e,
    };
    match PrivateKey::from_der_any(input) {
        Ok(key) => {
            return Ok(Imported {
                format: InputFormat::DerPrivateKey,
                certificates: Vec::new(),
                private_key: Some(key),
                skipped: Vec::new(),
            });
        }
        // A broken key is refused for what is wrong with it (issue 13).
        Err(e) if crate::key::is_private_key_form(input) => return Err(e),
        Err(_) => {}
    }
    // An encrypted key says why it cannot be read: a wrong password, an
    // unsupported cipher or key, not that the file was not recognised.
    if crate::key::looks_like_encrypted_pkcs8(input) {
        let key = PrivateKey::from_encrypted_pkcs8_der(input, password)?;
        return Ok(Imported {
            format: InputFormat::DerPrivateKey,
            certificates: Vec::new(),
            private_key: Some(key),
            skipped: Vec::new(),
        });
    }
    Err(match cert_error {
        truncated @ Error::TruncatedDer(_) => truncated,
        // Say what is wrong with something shaped like a certificate,
        // rather than that it was not recognised at all.
        not_a_certificate @ Error::NotACertificate(_) if certificate_shaped(input) => {
            not_a_certificate
        }
        _ => Error::UnrecognisedInput,
    })
}

/// PEM labels of public, non-secret things that travel beside certificates
/// and keys (`openssl ecparam -genkey` writes `EC PARAMETERS` before the
/// key): passed over instead of refusing the whole file.
const PASSED_OVER: [&str; 9] = [
    "EC PARAMETERS",
    "DH PARAMETERS",
    "X9.42 DH PARAMETERS",
    "PARAMETERS",
    "CERTIFICATE REQUEST",
    "NEW CERTIFICATE REQUEST",
    "X509 CRL",
    "PUBLIC KEY",
    "RSA PUBLIC KEY",
];

/// `SEQUENCE { SEQUENCE { [0] version | INTEGER serial, ...`: a certificate's
/// start. Keys start with an INTEGER, encrypted keys with an algorithm's
/// SEQUENCE { OID ... }.
fn certificate_shaped(input: &[u8]) -> bool {
    let Some(tbs) = input.strip_prefix(&[0x30]).and_then(after_length) else {
        return false;
    };
    let Some(fields) = tbs.strip_prefix(&[0x30]).and_then(after_length) else {
        return false;
    };
    matches!(fields.first(), Some(0xa0 | 0x02))
}

/// The bytes after a DER length field (definite lengths of up to 4 bytes).
fn after_length(bytes: &[u8]) -> Option<&[u8]> {
    match *bytes.first()? {
        0..=0x7f => bytes.get(1..),
        long @ 0x81..=0x84 => bytes.get(1 + usize::from(long & 0x7f)..),
        _ => None,
    }
}

/// True when `input` is one SEQUENCE header whose length covers exactly the
/// rest (or is BER's indefinite length), as every certificate, key and
/// PKCS#12 file is and text never is.
fn is_one_sequence(input: &[u8]) -> bool {
    let [0x30, first, rest @ ..] = input else {
        return false;
    };
    match *first {
        0x80 => true,
        len @ 0..=0x7f => rest.len() == usize::from(len),
        long => {
            let count = usize::from(long & 0x7f);
            if count > 4 || rest.len() < count {
                return false;
            }
            let (digits, content) = rest.split_at(count);
            let len = digits
                .iter()
                .fold(0usize, |acc, &b| acc << 8 | usize::from(b));
            content.len() == len
        }
    }
}

fn import_pem(text: &str, password: &str) -> Result<Imported> {
    let mut certificates = Vec::new();
    let mut keys = Vec::new();
    let mut skipped = Vec::new();
    for block in pem::parse_blocks(text)? {
        match block.label.as_str() {
            "CERTIFICATE" | "X509 CERTIFICATE" | "TRUSTED CERTIFICATE" => {
                certificates.push(Certificate::from_der(&block.der)?);
            }
            _ => match PrivateKey::from_pem_block(&block, password)? {
                Some(key) => keys.push(key),
                None if PASSED_OVER.contains(&block.label.as_str()) => {
                    skipped.push(block.label.clone());
                }
                None => {
                    return Err(Error::WrongPemLabel {
                        found: block.label.clone(),
                        expected: "CERTIFICATE or a PRIVATE KEY",
                    });
                }
            },
        }
    }
    if keys.len() > 1 {
        return Err(Error::SeveralPrivateKeys(keys.len()));
    }
    if certificates.is_empty() && keys.is_empty() {
        // Passed-over blocks alone: say what was found instead.
        return Err(match skipped.into_iter().next() {
            Some(found) => Error::WrongPemLabel {
                found,
                expected: "CERTIFICATE or a PRIVATE KEY",
            },
            None => Error::MalformedPem(
                "the text mentions -----BEGIN but holds no complete PEM block".into(),
            ),
        });
    }
    Ok(Imported {
        format: InputFormat::Pem,
        certificates,
        private_key: keys.pop(),
        skipped,
    })
}
