//! Managing a registered certificate: look-up, status, delete, copy and move.

use serde::{Deserialize, Serialize};

use super::{CertificateStatus, TargetError};

/// A certificate as one target's registry sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TargetCertificate {
    /// Target id.
    pub target: String,
    /// Whether the certificate is registered there.
    pub present: bool,
    /// Its status, when present.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<CertificateStatus>,
    /// Whether the caller may manage it there (they or their group own it, or
    /// they administer the target). When false, `policies` and `things` are
    /// not shown.
    #[serde(default)]
    pub managed: bool,
    /// Attached policies, when present and managed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub policies: Vec<String>,
    /// Attached things, when present and managed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub things: Vec<String>,
    /// The certificate, PEM, when present and managed (so the page can read
    /// the subject and key algorithm of the one it rotates).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate_pem: Option<String>,
    /// The target could not be asked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<TargetError>,
}

/// `GET /v1/certificates/{id}`: the certificate in every target the caller may see.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GetCertificateResponse {
    /// The certificate ID asked for.
    pub certificate_id: String,
    /// One per visible target, in configuration order.
    pub targets: Vec<TargetCertificate>,
}

/// `POST /v1/certificates/{id}/status`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdateStatusRequest {
    /// ACTIVE, INACTIVE or REVOKED.
    pub status: CertificateStatus,
    /// Target ids.
    pub targets: Vec<String>,
}

/// The outcome of an action in one target.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TargetOutcome {
    /// Target id.
    pub target: String,
    /// Whether the action succeeded (or there was nothing to do).
    pub ok: bool,
    /// Status afterwards, when the certificate is there.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<CertificateStatus>,
    /// What happened, for people ("deleted", "was not registered", ...).
    pub detail: String,
    /// Present when `ok` is false.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<TargetError>,
}

/// `POST /v1/certificates/{id}/status` response (200 or 207).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateStatusResponse {
    /// The certificate ID.
    pub certificate_id: String,
    /// One per requested target.
    pub results: Vec<TargetOutcome>,
}

/// `DELETE /v1/certificates/{id}?targets=a,b` response (200 or 207).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeleteCertificateResponse {
    /// The certificate ID.
    pub certificate_id: String,
    /// One per requested target; absent certificates are `ok` ("was not registered").
    pub results: Vec<TargetOutcome>,
}

/// What happens at the source after a transfer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TransferMode {
    /// Leave the source as it is.
    Copy,
    /// Deactivate at the source once every destination is ACTIVE.
    MoveDeactivate,
    /// Delete at the source once every destination is ACTIVE.
    MoveDelete,
}

/// `POST /v1/certificates/{id}/transfer`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TransferCertificateRequest {
    /// Where it is registered now; its PEM is read there.
    pub from: String,
    /// Where to register it.
    pub to: Vec<String>,
    /// An allowed policy to attach at the destinations.
    pub policy: String,
    /// Thing at the destinations; default: the certificate's CN.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thing_name: Option<String>,
    /// Copy, or move (make before break).
    pub mode: TransferMode,
}

/// `POST /v1/certificates/{id}/transfer` response (200 or 207).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TransferCertificateResponse {
    /// The certificate ID.
    pub certificate_id: String,
    /// Per destination.
    pub destinations: Vec<super::RegistrationResult>,
    /// What was done at the source (absent when nothing was to be done, or a
    /// destination failed so the source was left untouched).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<TargetOutcome>,
}

/// `POST /v1/certificates/{id}/adopt` and `POST /v1/things/{name}/adopt`
/// (target admins only): brings a certificate (with the things attached to
/// it) or a thing made outside Marshal under Marshal's ownership records, so
/// it can be managed, or a thing reused, through Marshal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AdoptRequest {
    /// Target ids.
    pub targets: Vec<String>,
    /// The group to own it besides the adopting admin; absent: the admin alone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner_group: Option<String>,
}

/// `POST /v1/certificates/{id}/adopt` response (200 or 207).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AdoptCertificateResponse {
    /// The certificate ID.
    pub certificate_id: String,
    /// One per requested target.
    pub results: Vec<TargetOutcome>,
}

/// `POST /v1/things/{name}/adopt` response (200 or 207).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AdoptThingResponse {
    /// The thing's name.
    pub thing_name: String,
    /// One per requested target.
    pub results: Vec<TargetOutcome>,
}
