//! X.509 certificates: decoding from PEM or DER, and what a person needs to know about one.

mod parse;

use serde::Serialize;
use time::OffsetDateTime;

use crate::{
    algorithm::{KeyAlgorithm, SignatureAlgorithm},
    error::{Error, Result},
    fingerprint::{Fingerprints, certificate_id},
    pem,
};

/// A decoded X.509 certificate with its exact DER bytes.
#[derive(Clone)]
pub struct Certificate {
    der: Vec<u8>,
    parsed: parse::Parsed,
}

impl std::fmt::Debug for Certificate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Certificate")
            .field("id", &self.id())
            .field("subject", &crate::name::rfc4514(&self.parsed.subject))
            .finish()
    }
}

impl PartialEq for Certificate {
    fn eq(&self, other: &Self) -> bool {
        self.der == other.der
    }
}
impl Eq for Certificate {}

/// What `inspect` shows about a certificate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CertificateInfo {
    /// The AWS IoT certificate ID (SHA-256 of the DER, lowercase hex).
    pub certificate_id: String,
    /// All fingerprints.
    pub fingerprints: Fingerprints,
    /// Subject as an RFC 4514 string.
    pub subject: String,
    /// The subject's common name, if any.
    pub common_name: Option<String>,
    /// Issuer as an RFC 4514 string.
    pub issuer: String,
    /// Serial number, lowercase hex.
    pub serial: String,
    /// Start of validity, RFC 3339.
    pub not_before: String,
    /// End of validity, RFC 3339.
    pub not_after: String,
    /// The subject public key.
    pub key: KeyAlgorithm,
    /// The signature algorithm.
    pub signature: SignatureAlgorithm,
    /// Issuer equals subject and the signature verifies with the certificate's own key.
    pub self_signed: bool,
    /// basicConstraints says CA:TRUE.
    pub is_ca: bool,
    /// keyUsage bits by name (`digitalSignature`, ...); empty when absent.
    pub key_usage: Vec<String>,
    /// extendedKeyUsage purposes by name (`clientAuth`, ...) or OID.
    pub extended_key_usage: Vec<String>,
}

impl Certificate {
    /// Decodes one DER certificate.
    pub fn from_der(der: &[u8]) -> Result<Certificate> {
        if der.is_empty() {
            return Err(Error::Empty);
        }
        let parsed = parse::parse(der)?;
        Ok(Certificate {
            der: der.to_vec(),
            parsed,
        })
    }

    /// Decodes every `CERTIFICATE` block of PEM text; other blocks are errors.
    pub fn all_from_pem(text: &str) -> Result<Vec<Certificate>> {
        let blocks = pem::parse_blocks(text)?;
        if blocks.is_empty() {
            return Err(Error::MalformedPem("no -----BEGIN ...----- line".into()));
        }
        blocks
            .iter()
            .map(|b| match b.label.as_str() {
                "CERTIFICATE" | "X509 CERTIFICATE" | "TRUSTED CERTIFICATE" => {
                    Certificate::from_der(&b.der)
                }
                other => Err(Error::WrongPemLabel {
                    found: other.to_owned(),
                    expected: "CERTIFICATE",
                }),
            })
            .collect()
    }

    /// Decodes text that must be `CERTIFICATE` PEM blocks and whitespace,
    /// nothing else: what the API accepts, so that nothing (a key in
    /// another form, say) can ride along outside the blocks. Other text,
    /// other labels, headers and broken blocks are
    /// [`Error::UnexpectedPemContent`]; whitespace-only text is [`Error::Empty`].
    pub fn all_from_strict_pem(text: &str) -> Result<Vec<Certificate>> {
        pem::parse_only(text, "CERTIFICATE")?
            .iter()
            .map(|block| Certificate::from_der(&block.der))
            .collect()
    }

    /// Decodes exactly one certificate from PEM text.
    pub fn from_pem(text: &str) -> Result<Certificate> {
        let mut all = Certificate::all_from_pem(text)?;
        match all.len() {
            1 => Ok(all.remove(0)),
            n => Err(Error::InvalidRequest(format!(
                "expected one certificate, found {n}"
            ))),
        }
    }

    /// The exact DER encoding.
    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// The certificate as PEM text.
    pub fn to_pem(&self) -> String {
        pem::encode("CERTIFICATE", &self.der)
    }

    /// The AWS IoT certificate ID: SHA-256 of the DER, lowercase hex.
    pub fn id(&self) -> String {
        certificate_id(&self.der)
    }

    /// The BIT STRING of the SubjectPublicKeyInfo.
    pub fn public_key_bits(&self) -> &[u8] {
        &self.parsed.public_key
    }

    /// The subject's common name, if it has one.
    pub fn common_name(&self) -> Option<String> {
        crate::name::common_name(&self.parsed.subject)
    }

    /// Start and end of validity.
    pub fn validity(&self) -> (OffsetDateTime, OffsetDateTime) {
        (self.parsed.not_before, self.parsed.not_after)
    }

    /// The subject public key's algorithm and size.
    pub fn key_algorithm(&self) -> Result<KeyAlgorithm> {
        KeyAlgorithm::from_spki(
            self.parsed.key_algorithm,
            self.parsed.key_parameters.as_deref(),
            &self.parsed.public_key,
        )
        .map_err(|e| match e {
            Error::MalformedKey(detail) => Error::NotACertificate(detail),
            other => other,
        })
    }

    /// The signature algorithm.
    pub fn signature_algorithm(&self) -> SignatureAlgorithm {
        SignatureAlgorithm::from_oid(self.parsed.signature_algorithm)
    }

    /// basicConstraints CA:TRUE.
    pub fn is_ca(&self) -> bool {
        self.parsed.is_ca
    }

    /// Issuer equals subject and the signature verifies under the certificate's own key.
    pub fn is_self_signed(&self) -> bool {
        self.parsed.issuer == self.parsed.subject && self.verify_own_signature()
    }

    fn verify_own_signature(&self) -> bool {
        use ring::signature as sig;
        let algorithm: &dyn sig::VerificationAlgorithm = match self.signature_algorithm() {
            SignatureAlgorithm::Ecdsa { digest } => match (self.key_algorithm(), digest) {
                (
                    Ok(KeyAlgorithm::Ec {
                        curve: crate::Curve::P256,
                    }),
                    crate::Digest::Sha256,
                ) => &sig::ECDSA_P256_SHA256_ASN1,
                (
                    Ok(KeyAlgorithm::Ec {
                        curve: crate::Curve::P256,
                    }),
                    crate::Digest::Sha384,
                ) => &sig::ECDSA_P256_SHA384_ASN1,
                (
                    Ok(KeyAlgorithm::Ec {
                        curve: crate::Curve::P384,
                    }),
                    crate::Digest::Sha256,
                ) => &sig::ECDSA_P384_SHA256_ASN1,
                (
                    Ok(KeyAlgorithm::Ec {
                        curve: crate::Curve::P384,
                    }),
                    crate::Digest::Sha384,
                ) => &sig::ECDSA_P384_SHA384_ASN1,
                _ => return false,
            },
            SignatureAlgorithm::Rsa { digest } => match digest {
                crate::Digest::Sha256 => &sig::RSA_PKCS1_2048_8192_SHA256,
                crate::Digest::Sha384 => &sig::RSA_PKCS1_2048_8192_SHA384,
                crate::Digest::Sha512 => &sig::RSA_PKCS1_2048_8192_SHA512,
                _ => return false,
            },
            SignatureAlgorithm::Ed25519 => &sig::ED25519,
            _ => return false,
        };
        let tbs = &self.der[self.parsed.tbs.clone()];
        sig::UnparsedPublicKey::new(algorithm, self.public_key_bits())
            .verify(tbs, &self.parsed.signature)
            .is_ok()
    }

    /// keyUsage bit names, in RFC 5280 order.
    pub fn key_usage(&self) -> Vec<String> {
        let flags = self.parsed.key_usage.unwrap_or(0);
        [
            "digitalSignature",
            "nonRepudiation",
            "keyEncipherment",
            "dataEncipherment",
            "keyAgreement",
            "keyCertSign",
            "cRLSign",
            "encipherOnly",
            "decipherOnly",
        ]
        .into_iter()
        .enumerate()
        .filter(|(bit, _)| flags & (1 << bit) != 0)
        .map(|(_, name)| name.to_owned())
        .collect()
    }

    /// extendedKeyUsage purposes by name, or OID when unknown.
    pub fn extended_key_usage(&self) -> Vec<String> {
        self.parsed
            .extended_key_usage
            .iter()
            .map(|oid| match oid.to_string().as_str() {
                "1.3.6.1.5.5.7.3.1" => "serverAuth".to_owned(),
                "1.3.6.1.5.5.7.3.2" => "clientAuth".to_owned(),
                "1.3.6.1.5.5.7.3.3" => "codeSigning".to_owned(),
                "1.3.6.1.5.5.7.3.4" => "emailProtection".to_owned(),
                "1.3.6.1.5.5.7.3.8" => "timeStamping".to_owned(),
                "1.3.6.1.5.5.7.3.9" => "OCSPSigning".to_owned(),
                other => other.to_owned(),
            })
            .collect()
    }

    /// Everything `inspect` shows.
    pub fn info(&self) -> Result<CertificateInfo> {
        let (not_before, not_after) = self.validity();
        Ok(CertificateInfo {
            certificate_id: self.id(),
            fingerprints: Fingerprints::of(&self.der),
            subject: crate::name::rfc4514(&self.parsed.subject),
            common_name: self.common_name(),
            issuer: crate::name::rfc4514(&self.parsed.issuer),
            serial: serial_text(&self.parsed.serial),
            not_before: rfc3339(not_before),
            not_after: rfc3339(not_after),
            key: self.key_algorithm()?,
            signature: self.signature_algorithm(),
            self_signed: self.is_self_signed(),
            is_ca: self.is_ca(),
            key_usage: self.key_usage(),
            extended_key_usage: self.extended_key_usage(),
        })
    }
}

/// A serial number's INTEGER content (two's complement) as lowercase hex,
/// with a `-` and the magnitude when it is negative (RFC 5280 forbids
/// that, but old certificates have them and `openssl` prints the sign).
fn serial_text(content: &[u8]) -> String {
    if content.first().is_none_or(|b| b & 0x80 == 0) {
        return hex::encode(content);
    }
    // Negate: invert every byte and add one, from the last byte up.
    let mut magnitude: Vec<u8> = content.iter().map(|b| !b).collect();
    for byte in magnitude.iter_mut().rev() {
        let (sum, carry) = byte.overflowing_add(1);
        *byte = sum;
        if !carry {
            break;
        }
    }
    let start = magnitude
        .iter()
        .position(|&b| b != 0)
        .unwrap_or(magnitude.len().saturating_sub(1));
    format!("-{}", hex::encode(&magnitude[start..]))
}

/// RFC 3339 text of a time; falls back to the Unix timestamp if formatting fails.
pub(crate) fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| t.unix_timestamp().to_string())
}
