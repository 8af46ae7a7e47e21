//! `POST /v1/registrations`: register certificates without a CA into targets.

use serde::{Deserialize, Serialize};

use super::{CertificateStatus, TargetError};

/// One certificate to register.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CertificateInput {
    /// The certificate, PEM. Never a private key: bodies carrying one are refused.
    pub certificate_pem: String,
    /// The thing to create and attach; default: the certificate's subject CN.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thing_name: Option<String>,
}

/// `POST /v1/registrations`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateRegistrationRequest {
    /// Certificates (one, or a batch).
    pub certificates: Vec<CertificateInput>,
    /// Target ids from `GET /v1/config`.
    pub targets: Vec<String>,
    /// An allowed policy name.
    pub policy: String,
    /// Bring the certificate to ACTIVE (default) or leave it INACTIVE.
    #[serde(default = "yes")]
    pub activate: bool,
    /// One of the caller's groups that owns what this request registers
    /// alongside the caller (its members may manage it too); absent: the
    /// caller alone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner_group: Option<String>,
}

fn yes() -> bool {
    true
}

/// What one certificate looks like in one target after the request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Registration {
    /// `arn:aws:iot:<region>:<account>:cert/<id>`.
    pub certificate_arn: String,
    /// Status after the request.
    pub status: CertificateStatus,
    /// The attached policy.
    pub policy: String,
    /// The attached thing.
    pub thing: String,
    /// The target's `iot:Data-ATS` endpoint host.
    pub endpoint: String,
    /// Whether this request registered it (false: it was there already).
    pub newly_registered: bool,
}

/// The result for one (certificate, target) pair.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RegistrationResult {
    /// Position of the certificate in the request.
    pub index: usize,
    /// Certificate ID (SHA-256 of the DER), computed locally and checked against AWS.
    pub certificate_id: String,
    /// Target id.
    pub target: String,
    /// Present on success.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registration: Option<Registration>,
    /// Present on failure; what this request created there was rolled back.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<TargetError>,
}

/// Counts over the results.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RegistrationSummary {
    /// Pairs that succeeded.
    pub succeeded: usize,
    /// Pairs that failed.
    pub failed: usize,
}

/// `POST /v1/registrations` response: 200 when every pair succeeded, 207 otherwise.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateRegistrationResponse {
    /// One per (certificate, target), certificates in request order, then targets.
    pub results: Vec<RegistrationResult>,
    /// Counts.
    pub summary: RegistrationSummary,
}
