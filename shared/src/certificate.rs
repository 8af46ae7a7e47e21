//! X.509 certificates: decoding from PEM or DER, and what a person needs to know about one.

use der::{Decode, Encode};
use serde::Serialize;
use spki::SubjectPublicKeyInfoRef;
use time::OffsetDateTime;
use x509_cert::ext::pkix::{BasicConstraints, ExtendedKeyUsage, KeyUsage, KeyUsages};

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
    parsed: x509_cert::Certificate,
}

impl std::fmt::Debug for Certificate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Certificate")
            .field("id", &self.id())
            .field(
                "subject",
                &crate::name::rfc4514(self.parsed.tbs_certificate().subject()),
            )
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
        let parsed = x509_cert::Certificate::from_der(der).map_err(Error::from_cert_der)?;
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
        self.parsed
            .tbs_certificate()
            .subject_public_key_info()
            .subject_public_key
            .raw_bytes()
    }

    /// The subject's common name, if it has one.
    pub fn common_name(&self) -> Option<String> {
        self.parsed
            .tbs_certificate()
            .subject()
            .common_name()
            .ok()
            .flatten()
            .map(|cn| cn.value().into_owned())
    }

    /// Start and end of validity.
    pub fn validity(&self) -> (OffsetDateTime, OffsetDateTime) {
        let v = self.parsed.tbs_certificate().validity();
        (to_offset(v.not_before), to_offset(v.not_after))
    }

    /// The subject public key's algorithm and size.
    pub fn key_algorithm(&self) -> Result<KeyAlgorithm> {
        let spki_der = self
            .parsed
            .tbs_certificate()
            .subject_public_key_info()
            .to_der()
            .map_err(|e| Error::NotACertificate(e.to_string()))?;
        let spki = SubjectPublicKeyInfoRef::from_der(&spki_der)
            .map_err(|e| Error::NotACertificate(e.to_string()))?;
        KeyAlgorithm::from_spki(&spki)
    }

    /// The signature algorithm.
    pub fn signature_algorithm(&self) -> SignatureAlgorithm {
        SignatureAlgorithm::from_oid(self.parsed.signature_algorithm().oid)
    }

    /// basicConstraints CA:TRUE.
    pub fn is_ca(&self) -> bool {
        matches!(
            self.parsed.tbs_certificate().get_extension::<BasicConstraints>(),
            Ok(Some((_, bc))) if bc.ca
        )
    }

    /// Issuer equals subject and the signature verifies under the certificate's own key.
    pub fn is_self_signed(&self) -> bool {
        let tbs = self.parsed.tbs_certificate();
        tbs.issuer() == tbs.subject() && self.verify_own_signature()
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
        let Ok(tbs) = self.parsed.tbs_certificate().to_der() else {
            return false;
        };
        let Some(signature) = self.parsed.signature().as_bytes() else {
            return false;
        };
        sig::UnparsedPublicKey::new(algorithm, self.public_key_bits())
            .verify(&tbs, signature)
            .is_ok()
    }

    /// keyUsage bit names, in RFC 5280 order.
    pub fn key_usage(&self) -> Vec<String> {
        let Ok(Some((_, KeyUsage(flags)))) =
            self.parsed.tbs_certificate().get_extension::<KeyUsage>()
        else {
            return Vec::new();
        };
        [
            (KeyUsages::DigitalSignature, "digitalSignature"),
            (KeyUsages::NonRepudiation, "nonRepudiation"),
            (KeyUsages::KeyEncipherment, "keyEncipherment"),
            (KeyUsages::DataEncipherment, "dataEncipherment"),
            (KeyUsages::KeyAgreement, "keyAgreement"),
            (KeyUsages::KeyCertSign, "keyCertSign"),
            (KeyUsages::CRLSign, "cRLSign"),
            (KeyUsages::EncipherOnly, "encipherOnly"),
            (KeyUsages::DecipherOnly, "decipherOnly"),
        ]
        .into_iter()
        .filter(|(flag, _)| flags.contains(*flag))
        .map(|(_, name)| name.to_owned())
        .collect()
    }

    /// extendedKeyUsage purposes by name, or OID when unknown.
    pub fn extended_key_usage(&self) -> Vec<String> {
        let Ok(Some((_, ExtendedKeyUsage(purposes)))) = self
            .parsed
            .tbs_certificate()
            .get_extension::<ExtendedKeyUsage>()
        else {
            return Vec::new();
        };
        purposes
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
        let tbs = self.parsed.tbs_certificate();
        let (not_before, not_after) = self.validity();
        Ok(CertificateInfo {
            certificate_id: self.id(),
            fingerprints: Fingerprints::of(&self.der),
            subject: crate::name::rfc4514(tbs.subject()),
            common_name: self.common_name(),
            issuer: crate::name::rfc4514(tbs.issuer()),
            serial: hex::encode(tbs.serial_number().as_bytes()),
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

fn to_offset(t: x509_cert::time::Time) -> OffsetDateTime {
    let secs = t.to_unix_duration().as_secs();
    // X.509 times end at 9999-12-31, far inside OffsetDateTime's range.
    OffsetDateTime::from_unix_timestamp(i64::try_from(secs).unwrap_or(i64::MAX))
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

/// RFC 3339 text of a time; falls back to the Unix timestamp if formatting fails.
pub(crate) fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| t.unix_timestamp().to_string())
}
