//! PKCS#12 (`.p12`/`.pfx`): reading legacy and modern files, writing modern ones.

use const_oid::ObjectIdentifier;
use p12_keystore::{KeyStore, KeyStoreEntry, Pkcs12Archive, PrivateKeyChain};

use crate::{
    certificate::Certificate,
    error::{Error, Result},
    key::PrivateKey,
};

/// Iterations for PBKDF2 and the MAC in files we write (OpenSSL 3 writes 2,048).
pub const EXPORT_ITERATIONS: u32 = 10_000;

/// What a PKCS#12 file held.
#[derive(Debug, Clone)]
pub struct Pkcs12Contents {
    /// Every certificate, in file order.
    pub certificates: Vec<Certificate>,
    /// The private key, when there is one.
    pub private_key: Option<PrivateKey>,
}

/// True when the bytes look like a PKCS#12 PFX (a SEQUENCE starting with version 3).
pub fn looks_like_pkcs12(der: &[u8]) -> bool {
    // SEQUENCE { INTEGER 3, ContentInfo ... }: after the outer header comes 02 01 03.
    let body = match der {
        [0x30, 0x80, rest @ ..] => rest,
        [0x30, len, rest @ ..] if *len < 0x80 => rest,
        [0x30, len, rest @ ..] => {
            let n = usize::from(len & 0x7f);
            rest.get(n..).unwrap_or_default()
        }
        _ => return false,
    };
    body.starts_with(&[0x02, 0x01, 0x03])
}

/// Decrypts and reads a PKCS#12 file. The empty string is the empty password.
pub fn import(der: &[u8], password: &str) -> Result<Pkcs12Contents> {
    let archive = Pkcs12Archive::from_pkcs12(der, password).map_err(|e| map_error(e, der))?;
    let certificates = archive
        .certs
        .iter()
        .map(|bag| Certificate::from_der(bag.cert.as_der()))
        .collect::<Result<Vec<_>>>()?;
    let mut keys = archive
        .keys
        .iter()
        .map(|bag| PrivateKey::from_pkcs8_der(bag.key.as_der()))
        .collect::<Result<Vec<_>>>()?;
    let private_key = match keys.len() {
        0 => None,
        1 => keys.pop(),
        n => return Err(Error::SeveralPrivateKeys(n)),
    };
    Ok(Pkcs12Contents {
        certificates,
        private_key,
    })
}

/// Writes a modern PKCS#12 (PBES2 + PBKDF2-HMAC-SHA-256 + AES-256-CBC, HMAC-SHA-256 MAC),
/// the OpenSSL 3 default that current tools read. Checks that key and certificate match.
pub fn export(
    certificate: &Certificate,
    key: &PrivateKey,
    password: &str,
    friendly_name: &str,
) -> Result<Vec<u8>> {
    key.check_matches(certificate)?;
    let p12_key = p12_keystore::PrivateKey::from_der(key.pkcs8_der())
        .map_err(|e| Error::crypto("PKCS#12 file", e))?;
    let p12_cert = p12_keystore::Certificate::from_der(certificate.der())
        .map_err(|e| Error::crypto("PKCS#12 file", e))?;
    // The local key ID ties the key bag to its certificate bag; the certificate ID is unique.
    let local_key_id = crate::fingerprint::certificate_id(certificate.der()).into_bytes();
    let mut store = KeyStore::new();
    store.add_entry(
        friendly_name,
        KeyStoreEntry::PrivateKeyChain(PrivateKeyChain::new(local_key_id, p12_key, [p12_cert])),
    );
    store
        .writer(password)
        .encryption_algorithm(p12_keystore::EncryptionAlgorithm::PbeWithHmacSha256AndAes256)
        .encryption_iterations(EXPORT_ITERATIONS)
        .mac_algorithm(p12_keystore::MacAlgorithm::HmacSha256)
        .mac_iterations(EXPORT_ITERATIONS)
        .write()
        .map_err(|e| Error::crypto("PKCS#12 file", e))
}

fn map_error(err: p12_keystore::error::Error, der: &[u8]) -> Error {
    use p12_keystore::error::Error as P;
    match err {
        // A MAC mismatch, or garbage after decryption when there is no MAC.
        P::MacError(_) | P::UnpadError => Error::WrongPassword("the PKCS#12 file"),
        P::UnsupportedEncryptionScheme | P::UnsupportedMacAlgorithm => {
            Error::UnsupportedEncryption {
                context: "PKCS#12 file",
                algorithm: unsupported_algorithm(der),
            }
        }
        P::Pkcs5Error(msg) if msg.to_ascii_lowercase().contains("decrypt") => {
            Error::WrongPassword("the PKCS#12 file")
        }
        P::DerError(e) if matches!(e.kind(), der::ErrorKind::Incomplete { .. }) => {
            Error::TruncatedDer(format!("PKCS#12: {e}"))
        }
        other => Error::MalformedPkcs12(other.to_string()),
    }
}

/// Names the first algorithm in the file that the reader does not implement.
fn unsupported_algorithm(der: &[u8]) -> String {
    let mut found = Vec::new();
    collect_oids(der, 0, &mut found);
    found
        .into_iter()
        .filter(|oid| KNOWN.iter().any(|(k, _, _)| k == oid))
        .find(|oid| !KNOWN.iter().any(|(k, _, supported)| k == oid && *supported))
        .map(algorithm_name)
        .unwrap_or_else(|| "an algorithm this tool does not implement".into())
}

/// The name of an encryption, MAC or digest algorithm, or its OID when unknown.
pub fn algorithm_name(oid: ObjectIdentifier) -> String {
    KNOWN
        .iter()
        .find(|(k, _, _)| *k == oid)
        .map(|(_, name, _)| (*name).to_owned())
        .unwrap_or_else(|| format!("algorithm {oid}"))
}

const fn oid(s: &str) -> ObjectIdentifier {
    ObjectIdentifier::new_unwrap(s)
}

/// (OID, name, readable by the PKCS#12 reader we use).
const KNOWN: &[(ObjectIdentifier, &str, bool)] = &[
    (
        oid("1.2.840.113549.1.12.1.1"),
        "pbeWithSHAAnd128BitRC4",
        false,
    ),
    (
        oid("1.2.840.113549.1.12.1.2"),
        "pbeWithSHAAnd40BitRC4",
        false,
    ),
    (
        oid("1.2.840.113549.1.12.1.3"),
        "pbeWithSHAAnd3-KeyTripleDES-CBC",
        true,
    ),
    (
        oid("1.2.840.113549.1.12.1.4"),
        "pbeWithSHAAnd2-KeyTripleDES-CBC",
        false,
    ),
    (
        oid("1.2.840.113549.1.12.1.5"),
        "pbeWithSHAAnd128BitRC2-CBC",
        false,
    ),
    (
        oid("1.2.840.113549.1.12.1.6"),
        "pbeWithSHAAnd40BitRC2-CBC",
        true,
    ),
    (oid("1.2.840.113549.1.5.1"), "pbeWithMD2AndDES-CBC", false),
    (oid("1.2.840.113549.1.5.3"), "pbeWithMD5AndDES-CBC", false),
    (oid("1.2.840.113549.1.5.6"), "pbeWithMD5AndRC2-CBC", false),
    (oid("1.2.840.113549.1.5.10"), "pbeWithSHA1AndDES-CBC", false),
    (oid("1.2.840.113549.1.5.11"), "pbeWithSHA1AndRC2-CBC", false),
    (oid("1.2.840.113549.1.5.13"), "PBES2", true),
    (oid("1.2.840.113549.1.5.14"), "PBMAC1", false),
    (oid("1.2.840.113549.1.5.12"), "PBKDF2", true),
    (oid("1.3.6.1.4.1.11591.4.11"), "scrypt", true),
    (oid("2.16.840.1.101.3.4.1.2"), "AES-128-CBC", true),
    (oid("2.16.840.1.101.3.4.1.22"), "AES-192-CBC", true),
    (oid("2.16.840.1.101.3.4.1.42"), "AES-256-CBC", true),
    (oid("1.2.840.113549.3.7"), "DES-EDE3-CBC", false),
    (oid("1.3.14.3.2.7"), "DES-CBC", false),
    (oid("1.2.840.113549.3.2"), "RC2-CBC", false),
    (oid("1.2.840.113549.2.5"), "MD5", false),
    (oid("1.3.14.3.2.26"), "SHA-1", true),
    (oid("2.16.840.1.101.3.4.2.1"), "SHA-256", true),
    (oid("2.16.840.1.101.3.4.2.2"), "SHA-384", true),
    (oid("2.16.840.1.101.3.4.2.3"), "SHA-512", true),
    (oid("1.2.840.113549.2.7"), "HMAC-SHA-1", true),
    (oid("1.2.840.113549.2.9"), "HMAC-SHA-256", true),
];

/// Collects every OID in a DER tree, descending into OCTET STRINGs that hold DER.
fn collect_oids(mut input: &[u8], depth: usize, out: &mut Vec<ObjectIdentifier>) {
    if depth > 12 {
        return;
    }
    while let Some((tag, content, rest)) = split_tlv(input) {
        if tag == 0x06 {
            if let Ok(oid) = ObjectIdentifier::from_bytes(content) {
                out.push(oid);
            }
        } else if tag & 0x20 != 0 || tag == 0x04 {
            collect_oids(content, depth + 1, out);
        }
        input = rest;
    }
}

/// One definite-length TLV: (tag, content, rest). `None` on anything odd.
fn split_tlv(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = input.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 || rest.len() < n {
            return None;
        }
        let len = rest[..n]
            .iter()
            .fold(0usize, |acc, &b| (acc << 8) | usize::from(b));
        (len, &rest[n..])
    };
    if rest.len() < len {
        return None;
    }
    Some((tag, &rest[..len], &rest[len..]))
}
