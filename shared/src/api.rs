//! The one wire contract of the HTTP API: every JSON type requests and
//! responses use (camelCase), and the error codes with their HTTP statuses.
//! The API, the page and the CLI all speak through these types.

mod certificate;
mod config;
mod error;
mod job;
mod ledger;
mod registration;

pub use certificate::{
    AdoptCertificateResponse, AdoptRequest, AdoptThingResponse, DeleteCertificateResponse,
    GetCertificateResponse, TargetCertificate, TargetOutcome, TransferCertificateRequest,
    TransferCertificateResponse, TransferMode, UpdateStatusRequest, UpdateStatusResponse,
};
pub use config::{ConfigLimits, GetConfigResponse, HealthResponse, PolicyInfo, TargetInfo};
pub use error::{ErrorBody, ErrorCode, ErrorDetail, IndexedFinding, TargetError, TargetErrorCode};
pub use job::{
    CreateJobRequest, CreateJobResponse, JOB_RESULTS_HEADER, Job, JobError, JobResultsResponse,
    JobState, PairCounts, TargetProgress, UploadFormat, UploadInstructions,
};
pub use ledger::{
    CertificateHistoryResponse, Drift, DriftKind, EventPhase, InventoryEntry, InventoryResponse,
    LedgerAction, LedgerEvent, ReconcileRequest, ReconcileResponse, RetireCertificateRequest,
    RetireCertificateResponse, RotateCertificateRequest, RotateCertificateResponse, TargetDrift,
};
pub use registration::{
    CertificateInput, CreateRegistrationRequest, CreateRegistrationResponse, Registration,
    RegistrationResult, RegistrationSummary,
};

use serde::{Deserialize, Serialize};

/// A certificate's status in the AWS IoT registry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum CertificateStatus {
    /// Devices may connect with it.
    Active,
    /// Registered, refused at connect.
    Inactive,
    /// Refused for good: AWS allows no way back to ACTIVE.
    Revoked,
    /// Another status AWS reports (PENDING_TRANSFER, ...).
    #[serde(other)]
    Other,
}

impl CertificateStatus {
    /// The AWS spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            CertificateStatus::Active => "ACTIVE",
            CertificateStatus::Inactive => "INACTIVE",
            CertificateStatus::Revoked => "REVOKED",
            CertificateStatus::Other => "OTHER",
        }
    }
}
