//! A dropped or picked certificate file, read down to its certificate ID.
//!
//! Deliberately not `marshal_shared::import`: that decodes private keys and
//! opens PKCS#12 files, and this section has no use for a key. Here PEM key
//! blocks are recognised by their label and skipped without being decoded,
//! DER keys by their first bytes, and PKCS#12 files are refused whole.

use marshal_shared::Certificate;

/// Largest file read: certificates are a few kilobytes.
pub const MAX_FILE_BYTES: usize = 1 << 20;

const CERTIFICATE_LABELS: [&str; 3] = ["CERTIFICATE", "X509 CERTIFICATE", "TRUSTED CERTIFICATE"];

/// The certificate a file held.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileCertificate {
    /// SHA-256 of the (first) certificate's DER: its AWS IoT ID.
    pub certificate_id: String,
    /// How many certificates the file held; the first is used.
    pub certificates: usize,
    /// The file also held a private key, which was skipped (never decoded).
    pub key_skipped: bool,
}

/// Why a file gave no certificate ID.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileProblem {
    /// Over [`MAX_FILE_BYTES`].
    TooLarge,
    /// Nothing but whitespace.
    Empty,
    /// A private key and no certificate.
    KeyOnly,
    /// A PKCS#12 file: it holds a key, and its certificate is behind a password.
    Pkcs12,
    /// Neither PEM nor DER of a certificate; `detail` is the decoder's words.
    NotACertificate { detail: String },
    /// The browser could not read the file.
    Unreadable { detail: String },
}

/// The certificate ID of the certificate in `bytes` (PEM or DER).
pub fn certificate_id_of_file(bytes: &[u8]) -> Result<FileCertificate, FileProblem> {
    if bytes.len() > MAX_FILE_BYTES {
        return Err(FileProblem::TooLarge);
    }
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(FileProblem::Empty);
    }
    if marshal_shared::pem::looks_like_pem(bytes) {
        return from_pem(&String::from_utf8_lossy(bytes));
    }
    if marshal_shared::pkcs12::looks_like_pkcs12(bytes) {
        return Err(FileProblem::Pkcs12);
    }
    match Certificate::from_der(bytes) {
        Ok(certificate) => Ok(FileCertificate {
            certificate_id: certificate.id(),
            certificates: 1,
            key_skipped: false,
        }),
        Err(_) if looks_like_der_key(bytes) => Err(FileProblem::KeyOnly),
        Err(error) => Err(FileProblem::NotACertificate {
            detail: error.to_string(),
        }),
    }
}

fn from_pem(text: &str) -> Result<FileCertificate, FileProblem> {
    // Only the certificate blocks are copied out, so key blocks are never decoded.
    let mut certificate_text = String::new();
    let mut inside = false;
    let mut key_seen = false;
    for line in text.lines().map(str::trim) {
        if let Some(label) = line
            .strip_prefix("-----BEGIN ")
            .and_then(|rest| rest.strip_suffix("-----"))
        {
            inside = CERTIFICATE_LABELS.contains(&label);
            key_seen |= label.ends_with("PRIVATE KEY");
        }
        if inside {
            certificate_text.push_str(line);
            certificate_text.push('\n');
        }
        if line.starts_with("-----END ") {
            inside = false;
        }
    }
    if certificate_text.is_empty() {
        return Err(if key_seen {
            FileProblem::KeyOnly
        } else {
            FileProblem::NotACertificate {
                detail: "no CERTIFICATE block".to_owned(),
            }
        });
    }
    let certificates = Certificate::all_from_pem(&certificate_text).map_err(|error| {
        FileProblem::NotACertificate {
            detail: error.to_string(),
        }
    })?;
    let first = certificates
        .first()
        .ok_or_else(|| FileProblem::NotACertificate {
            detail: "no CERTIFICATE block".to_owned(),
        })?;
    Ok(FileCertificate {
        certificate_id: first.id(),
        certificates: certificates.len(),
        key_skipped: key_seen,
    })
}

/// A DER SEQUENCE whose first element is an INTEGER: the shape of PKCS#8,
/// SEC1 and PKCS#1 keys (a certificate starts with a SEQUENCE instead).
/// Judged from the first bytes only, so the key is never decoded.
fn looks_like_der_key(der: &[u8]) -> bool {
    let body = match der {
        [0x30, len, rest @ ..] if *len < 0x80 => rest,
        [0x30, len, rest @ ..] if *len > 0x80 => {
            rest.get(usize::from(len & 0x7f)..).unwrap_or_default()
        }
        _ => return false,
    };
    body.first() == Some(&0x02)
}
