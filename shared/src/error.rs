//! The one error type of `marshal-shared`: every way an input can be refused.

use std::fmt;

/// Why `marshal-shared` refused an input or could not produce an output.
///
/// Messages never contain key material or passwords. Variants carry enough
/// context for a person to fix the input; [`Error::code`] gives a stable
/// machine-readable name for each.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The input is empty.
    #[error("the input is empty")]
    Empty,
    /// The input is neither PEM nor DER of any supported kind.
    #[error(
        "not a certificate, private key or PKCS#12 file (neither PEM nor DER that could be recognised)"
    )]
    UnrecognisedInput,
    /// The bytes are not an X.509 certificate.
    #[error("not an X.509 certificate: {0}")]
    NotACertificate(String),
    /// DER ended before the structure it announces.
    #[error("the DER data is truncated: {0}")]
    TruncatedDer(String),
    /// A PEM block is malformed (missing END line, bad base64, ...).
    #[error("malformed PEM: {0}")]
    MalformedPem(String),
    /// Text that must hold only PEM blocks of one label, and whitespace,
    /// holds something else. The message names the problem and its line,
    /// never the input's bytes.
    #[error("{problem} on line {line}; only {expected} PEM blocks and whitespace are accepted")]
    UnexpectedPemContent {
        /// What is there that should not be.
        problem: crate::pem::PemProblem,
        /// Where (1-based; LF, CRLF and CR all end a line).
        line: usize,
        /// The one label accepted.
        expected: &'static str,
    },
    /// A PEM block carries a label that is not expected here.
    #[error("unexpected PEM label \"{found}\" (expected {expected})")]
    WrongPemLabel {
        /// The label found in the `-----BEGIN ...-----` line.
        found: String,
        /// What the caller accepts, in words.
        expected: &'static str,
    },
    /// A certificate was required but the input holds none.
    #[error("the input holds no certificate")]
    NoCertificate,
    /// A private key was required but the input holds none.
    #[error("the input holds no private key")]
    NoPrivateKey,
    /// The input holds more than one private key.
    #[error("the input holds {0} private keys; give one key at a time")]
    SeveralPrivateKeys(usize),
    /// The PKCS#12 MAC or an encrypted key did not verify with the password.
    #[error("wrong password for {0} (or the file is corrupted)")]
    WrongPassword(&'static str),
    /// An encrypted structure uses an algorithm we do not implement.
    #[error("unsupported encryption in {context}: {algorithm}")]
    UnsupportedEncryption {
        /// Where it was found (for example "PKCS#12 key bag").
        context: &'static str,
        /// The algorithm, by name when known, else its OID.
        algorithm: String,
    },
    /// A PKCS#12 file could not be decoded.
    #[error("malformed PKCS#12 file: {0}")]
    MalformedPkcs12(String),
    /// A private key could not be decoded.
    #[error("malformed private key: {0}")]
    MalformedKey(String),
    /// The key's algorithm is not one we can use.
    #[error("unsupported key type: {0}")]
    UnsupportedKeyType(String),
    /// A private key and a certificate do not belong together.
    #[error("the private key does not match the certificate's public key")]
    KeyMismatch,
    /// A request to generate credentials is invalid.
    #[error("invalid certificate request: {0}")]
    InvalidRequest(String),
    /// The system random number generator failed.
    #[error("the random number generator failed")]
    Random,
    /// Signing or encoding failed inside the crypto backend.
    #[error("could not create the {what}: {detail}")]
    Crypto {
        /// What was being produced.
        what: &'static str,
        /// The backend's words (never key material).
        detail: String,
    },
}

impl Error {
    /// A stable snake_case name for this kind of error, for JSON output.
    pub fn code(&self) -> &'static str {
        match self {
            Error::Empty => "empty_input",
            Error::UnrecognisedInput => "unrecognised_input",
            Error::NotACertificate(_) => "not_a_certificate",
            Error::TruncatedDer(_) => "truncated_der",
            Error::MalformedPem(_) => "malformed_pem",
            Error::WrongPemLabel { .. } => "wrong_pem_label",
            Error::UnexpectedPemContent { .. } => "unexpected_pem_content",
            Error::NoCertificate => "no_certificate",
            Error::NoPrivateKey => "no_private_key",
            Error::SeveralPrivateKeys(_) => "several_private_keys",
            Error::WrongPassword(_) => "wrong_password",
            Error::UnsupportedEncryption { .. } => "unsupported_encryption",
            Error::MalformedPkcs12(_) => "malformed_pkcs12",
            Error::MalformedKey(_) => "malformed_key",
            Error::UnsupportedKeyType(_) => "unsupported_key_type",
            Error::KeyMismatch => "key_mismatch",
            Error::InvalidRequest(_) => "invalid_request",
            Error::Random => "random_failure",
            Error::Crypto { .. } => "crypto_failure",
        }
    }

    pub(crate) fn crypto(what: &'static str, detail: impl fmt::Display) -> Error {
        Error::Crypto {
            what,
            detail: detail.to_string(),
        }
    }
}

/// The result type of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
