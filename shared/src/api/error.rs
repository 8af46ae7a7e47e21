//! Error codes: stable snake_case names, each with its HTTP status. Append-only.

use serde::{Deserialize, Serialize};

use crate::preflight::Finding;

/// Why a whole request was refused. Clients match on these, never on messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ErrorCode {
    /// 400: the body is not JSON of the expected shape.
    InvalidJson,
    /// 400: a field has a value the API cannot use (the message names it).
    InvalidRequest,
    /// 400: a target id that the configuration does not know.
    UnknownTarget,
    /// 400: the certificate ID in the path is not 64 hex digits.
    InvalidCertificateId,
    /// 401: no caller identity (behind API Gateway: no valid JWT).
    Unauthorized,
    /// 403: the caller's groups do not allow this target.
    ForbiddenTarget,
    /// 403: the policy is not in the allowed list.
    PolicyNotAllowed,
    /// 404: no such route.
    NotFound,
    /// 404: the certificate is not registered where the request says it is.
    CertificateNotFound,
    /// 405: the route exists with another method.
    MethodNotAllowed,
    /// 413: the body is larger than the configured limit.
    BodyTooLarge,
    /// 415: the body is not `application/json`.
    UnsupportedMediaType,
    /// 422: the body carries private key material; nothing was done.
    KeyMaterialRefused,
    /// 422: a certificate PEM could not be decoded.
    CertificateInvalid,
    /// 422: preflight found errors; `findings` lists them.
    PreflightFailed,
    /// 422: a thing name breaks AWS's rules or the configured pattern.
    InvalidThingName,
    /// 422: more targets than the limit.
    TooManyTargets,
    /// 422: more certificates than the limit.
    TooManyCertificates,
    /// 500: a fault of ours; the request id finds it in the logs.
    InternalError,
    /// 403: the certificate is not Marshal's to change for this caller in a
    /// target of the request (registered outside Marshal, or owned by another
    /// user or group); nothing was changed.
    CertificateNotManaged,
    /// 403: only the target's `adminGroups` may do this (REVOKED, adopt).
    AdminOnly,
    /// 403: `ownerGroup` is not one of the caller's groups.
    ForbiddenGroup,
    /// 403: the `Host`, `Origin` or forwarding headers show that the request
    /// did not come straight from this machine, which a server without
    /// authentication (`auth = "none"`, loopback only) requires.
    HostNotAllowed,
    /// 404: no job of that id is the caller's.
    JobNotFound,
    /// 409: the job is not in a state that allows this (e.g. starting a job
    /// whose file was not uploaded, or one already started).
    JobConflict,
    /// 503: this deployment runs no job queue (`[jobs]` is not configured).
    JobsUnavailable,
    /// 429: the caller has as many jobs that have not ended as a caller may
    /// (`[jobs] maxActivePerCaller`); the message names them.
    TooManyJobs,
}

impl ErrorCode {
    /// The HTTP status that goes with the code.
    pub fn http_status(self) -> u16 {
        match self {
            ErrorCode::InvalidJson
            | ErrorCode::InvalidRequest
            | ErrorCode::UnknownTarget
            | ErrorCode::InvalidCertificateId => 400,
            ErrorCode::Unauthorized => 401,
            ErrorCode::ForbiddenTarget
            | ErrorCode::PolicyNotAllowed
            | ErrorCode::CertificateNotManaged
            | ErrorCode::AdminOnly
            | ErrorCode::ForbiddenGroup
            | ErrorCode::HostNotAllowed => 403,
            ErrorCode::NotFound | ErrorCode::CertificateNotFound | ErrorCode::JobNotFound => 404,
            ErrorCode::MethodNotAllowed => 405,
            ErrorCode::BodyTooLarge => 413,
            ErrorCode::UnsupportedMediaType => 415,
            ErrorCode::KeyMaterialRefused
            | ErrorCode::CertificateInvalid
            | ErrorCode::PreflightFailed
            | ErrorCode::InvalidThingName
            | ErrorCode::TooManyTargets
            | ErrorCode::TooManyCertificates => 422,
            ErrorCode::JobConflict => 409,
            ErrorCode::TooManyJobs => 429,
            ErrorCode::InternalError => 500,
            ErrorCode::JobsUnavailable => 503,
        }
    }

    /// Every code, for documentation and tests.
    pub const ALL: &'static [ErrorCode] = &[
        ErrorCode::InvalidJson,
        ErrorCode::InvalidRequest,
        ErrorCode::UnknownTarget,
        ErrorCode::InvalidCertificateId,
        ErrorCode::Unauthorized,
        ErrorCode::ForbiddenTarget,
        ErrorCode::PolicyNotAllowed,
        ErrorCode::NotFound,
        ErrorCode::CertificateNotFound,
        ErrorCode::MethodNotAllowed,
        ErrorCode::BodyTooLarge,
        ErrorCode::UnsupportedMediaType,
        ErrorCode::KeyMaterialRefused,
        ErrorCode::CertificateInvalid,
        ErrorCode::PreflightFailed,
        ErrorCode::InvalidThingName,
        ErrorCode::TooManyTargets,
        ErrorCode::TooManyCertificates,
        ErrorCode::InternalError,
        ErrorCode::CertificateNotManaged,
        ErrorCode::AdminOnly,
        ErrorCode::ForbiddenGroup,
        ErrorCode::HostNotAllowed,
        ErrorCode::JobNotFound,
        ErrorCode::JobConflict,
        ErrorCode::JobsUnavailable,
        ErrorCode::TooManyJobs,
    ];
}

/// The body of every error response: `{"error": {...}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// The error.
    pub error: ErrorDetail,
}

/// What went wrong.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ErrorDetail {
    /// Stable code.
    pub code: ErrorCode,
    /// For people; may change.
    pub message: String,
    /// Finds the request in the API's logs.
    pub request_id: String,
    /// Preflight findings, with `preflight_failed`: (certificate index, finding).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub findings: Vec<IndexedFinding>,
}

/// A preflight finding about the certificate at `index` in the request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IndexedFinding {
    /// Position of the certificate in the request's list.
    pub index: usize,
    /// The finding's code (see `preflight::FindingCode`).
    pub code: String,
    /// `error` or `warning`.
    pub severity: String,
    /// Plain words.
    pub message: String,
}

impl IndexedFinding {
    /// Wraps a finding.
    pub fn new(index: usize, finding: &Finding) -> IndexedFinding {
        let text = |v: serde_json::Result<serde_json::Value>| {
            v.ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default()
        };
        IndexedFinding {
            index,
            code: text(serde_json::to_value(finding.code)),
            severity: text(serde_json::to_value(finding.severity)),
            message: finding.message.clone(),
        }
    }
}

/// Why one (certificate, target) step failed while the others went on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum TargetErrorCode {
    /// AssumeRole into the target's role was refused.
    AssumeRoleFailed,
    /// AWS refused a call with AccessDenied.
    AwsAccessDenied,
    /// AWS kept throttling after retries.
    AwsThrottled,
    /// An AWS call timed out.
    AwsTimeout,
    /// AWS failed (5xx, network) after retries.
    AwsUnavailable,
    /// AWS refused the request as invalid.
    AwsInvalidRequest,
    /// The resource's state forbids the change (e.g. delete while attached).
    AwsConflict,
    /// The policy does not exist in the target and has no template.
    PolicyMissing,
    /// AWS's certificate ID differs from the SHA-256 of the DER.
    CertificateIdMismatch,
    /// The certificate is not registered in this target.
    NotRegistered,
    /// The certificate is REVOKED there; AWS cannot reactivate it.
    CertificateRevoked,
    /// The certificate exists in this target but Marshal did not register it
    /// for this caller or their group: it is left as it was.
    CertificateNotManaged,
    /// The thing exists and is not the caller's, or already has another
    /// certificate: attaching to it would let this certificate act as that device.
    ThingInUse,
    /// Another request is changing this certificate in this target right now.
    CertificateBusy,
    /// The certificate has a policy or thing Marshal did not attach for its
    /// owner; Marshal does not detach what is not its own.
    ForeignAttachment,
    /// Not started: too little of the request's time was left.
    NotAttempted,
    /// The ownership records could not be read or written.
    OwnershipUnavailable,
    /// The ledger could not record the change, so it was not made.
    LedgerUnavailable,
    /// Retire refused: no successor of this certificate is registered and
    /// ACTIVE in this target (rotate first).
    NotRotated,
    /// Rotate refused: the certificate was already rotated to another
    /// successor in this target.
    AlreadyRotated,
}

/// A per-target failure.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TargetError {
    /// Stable code.
    pub code: TargetErrorCode,
    /// Plain words (AWS's message where there is one).
    pub message: String,
}
