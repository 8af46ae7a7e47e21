//! Preflight: will AWS IoT accept this certificate? Each problem a finding with a
//! stable code, a severity and a plain message, before any API call is made.

use std::collections::HashMap;

use serde::Serialize;
use time::{Duration, OffsetDateTime};

use crate::{
    algorithm::{Curve, Digest, KeyAlgorithm, SignatureAlgorithm},
    certificate::{Certificate, rfc3339},
};

/// AWS IoT's limit on `certificatePem` (RegisterCertificateWithoutCA).
pub const MAX_PEM_CHARS: usize = 65_536;

/// Certificates expiring sooner than this get a warning.
pub const EXPIRY_WARNING_DAYS: i64 = 30;

/// How serious a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// AWS IoT would refuse the certificate, or devices could not use it.
    Error,
    /// Accepted, but probably not what was meant.
    Warning,
}

/// The stable codes of findings. Append-only: clients match on these.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum FindingCode {
    /// The key algorithm is not RSA or ECDSA.
    KeyTypeUnsupported,
    /// An EC key on a curve other than P-256, P-384 or P-521.
    CurveUnsupported,
    /// An RSA key under 2048 bits.
    RsaKeyTooSmall,
    /// Signed with MD2, MD5, SHA-1 or SHA-224.
    SignatureDigestWeak,
    /// A signature algorithm AWS IoT does not list.
    SignatureAlgorithmUnsupported,
    /// notAfter is in the past.
    Expired,
    /// notBefore is in the future.
    NotYetValid,
    /// Expires within [`EXPIRY_WARNING_DAYS`].
    ExpiresSoon,
    /// basicConstraints CA:TRUE on a device certificate.
    CaCertificate,
    /// extendedKeyUsage present without clientAuth.
    ClientAuthMissing,
    /// The PEM is longer than AWS IoT accepts.
    PemTooLarge,
    /// One input holds several certificates.
    SeveralCertificates,
    /// The same certificate appears more than once in a batch.
    DuplicateInBatch,
}

/// One thing preflight found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// Stable machine-readable code.
    pub code: FindingCode,
    /// Error or warning.
    pub severity: Severity,
    /// What is wrong and what to do, in plain words.
    pub message: String,
}

impl Finding {
    fn error(code: FindingCode, message: impl Into<String>) -> Finding {
        Finding {
            code,
            severity: Severity::Error,
            message: message.into(),
        }
    }

    fn warning(code: FindingCode, message: impl Into<String>) -> Finding {
        Finding {
            code,
            severity: Severity::Warning,
            message: message.into(),
        }
    }
}

/// True when none of `findings` is an error.
pub fn accepted(findings: &[Finding]) -> bool {
    findings.iter().all(|f| f.severity != Severity::Error)
}

/// Checks one certificate against AWS IoT's rules at time `now`.
pub fn check_certificate(cert: &Certificate, now: OffsetDateTime) -> Vec<Finding> {
    let mut findings = Vec::new();
    check_key(cert, &mut findings);
    check_signature(cert, &mut findings);
    check_validity(cert, now, &mut findings);
    if cert.is_ca() {
        findings.push(Finding::warning(
            FindingCode::CaCertificate,
            "this is a CA certificate (basicConstraints CA:TRUE); AWS IoT will register it as a device certificate, but a device certificate should not be a CA",
        ));
    }
    let eku = cert.extended_key_usage();
    if !eku.is_empty() && !eku.iter().any(|p| p == "clientAuth") {
        findings.push(Finding::warning(
            FindingCode::ClientAuthMissing,
            format!(
                "extendedKeyUsage allows only {} but not clientAuth; TLS servers may refuse it as a client certificate",
                eku.join(", ")
            ),
        ));
    }
    findings
}

/// Checks PEM text as AWS IoT would receive it: its size, how many
/// certificates it holds, then each certificate.
pub fn check_pem(
    pem_text: &str,
    certificates: &[Certificate],
    now: OffsetDateTime,
) -> Vec<Finding> {
    let mut findings = Vec::new();
    let chars = pem_text.chars().count();
    if chars > MAX_PEM_CHARS {
        findings.push(Finding::error(
            FindingCode::PemTooLarge,
            format!("the PEM is {chars} characters; AWS IoT accepts at most {MAX_PEM_CHARS}"),
        ));
    }
    findings.extend(check_several(certificates));
    for cert in certificates {
        findings.extend(check_certificate(cert, now));
    }
    findings
}

/// A warning when one input holds more than one certificate.
pub fn check_several(certificates: &[Certificate]) -> Option<Finding> {
    (certificates.len() > 1).then(|| {
        Finding::warning(
            FindingCode::SeveralCertificates,
            format!(
                "the input holds {} certificates; each is registered as a separate device certificate",
                certificates.len()
            ),
        )
    })
}

/// Errors for certificates that appear more than once in a batch.
pub fn check_duplicates(certificates: &[Certificate]) -> Vec<Finding> {
    let mut seen: HashMap<String, usize> = HashMap::new();
    for cert in certificates {
        *seen.entry(cert.id()).or_default() += 1;
    }
    let mut dups: Vec<_> = seen.into_iter().filter(|(_, n)| *n > 1).collect();
    dups.sort();
    dups.into_iter()
        .map(|(id, n)| {
            Finding::error(
                FindingCode::DuplicateInBatch,
                format!("certificate {id} appears {n} times in this batch"),
            )
        })
        .collect()
}

fn check_key(cert: &Certificate, findings: &mut Vec<Finding>) {
    let key = match cert.key_algorithm() {
        Ok(key) => key,
        Err(e) => {
            findings.push(Finding::error(
                FindingCode::KeyTypeUnsupported,
                format!("the public key cannot be read: {e}"),
            ));
            return;
        }
    };
    match key {
        KeyAlgorithm::Rsa { bits } | KeyAlgorithm::RsaPss { bits } if bits < 2048 => {
            findings.push(Finding::error(
                FindingCode::RsaKeyTooSmall,
                format!("RSA key of {bits} bits; AWS IoT requires at least 2048"),
            ));
        }
        KeyAlgorithm::Rsa { .. } | KeyAlgorithm::RsaPss { .. } => {}
        KeyAlgorithm::Ec {
            curve: Curve::P256 | Curve::P384 | Curve::P521,
        } => {}
        KeyAlgorithm::Ec { curve } => findings.push(Finding::error(
            FindingCode::CurveUnsupported,
            format!("EC key on {curve}; AWS IoT accepts only P-256, P-384 and P-521"),
        )),
        other => findings.push(Finding::error(
            FindingCode::KeyTypeUnsupported,
            format!(
                "{other} key; AWS IoT accepts RSA (2048 bits or more) and ECDSA P-256/P-384/P-521"
            ),
        )),
    }
}

fn check_signature(cert: &Certificate, findings: &mut Vec<Finding>) {
    match cert.signature_algorithm() {
        SignatureAlgorithm::Rsa { digest } | SignatureAlgorithm::Ecdsa { digest } => match digest {
            Digest::Sha256 | Digest::Sha384 | Digest::Sha512 => {}
            weak => findings.push(Finding::error(
                FindingCode::SignatureDigestWeak,
                format!("signed with {weak}; AWS IoT requires SHA-256, SHA-384 or SHA-512"),
            )),
        },
        SignatureAlgorithm::RsaPss => {}
        other => findings.push(Finding::error(
            FindingCode::SignatureAlgorithmUnsupported,
            format!(
                "signature algorithm {other}; AWS IoT accepts RSA or ECDSA with SHA-256/384/512"
            ),
        )),
    }
}

fn check_validity(cert: &Certificate, now: OffsetDateTime, findings: &mut Vec<Finding>) {
    let (not_before, not_after) = cert.validity();
    if not_after < now {
        findings.push(Finding::error(
            FindingCode::Expired,
            format!("expired on {}", rfc3339(not_after)),
        ));
    } else if not_after - now < Duration::days(EXPIRY_WARNING_DAYS) {
        findings.push(Finding::warning(
            FindingCode::ExpiresSoon,
            format!("expires soon, on {}", rfc3339(not_after)),
        ));
    }
    if not_before > now {
        findings.push(Finding::error(
            FindingCode::NotYetValid,
            format!(
                "not valid before {}; check the clock of the machine that made it",
                rfc3339(not_before)
            ),
        ));
    }
}
