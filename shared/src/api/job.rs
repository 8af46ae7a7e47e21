//! Factory jobs: `POST /v1/jobs` and what follows. A job registers many
//! certificates into targets through a queue and workers paced to each
//! target's AWS IoT quotas; the caller polls its progress and downloads one
//! results row per certificate × target.

use serde::{Deserialize, Serialize};

use super::{CertificateInput, IndexedFinding};

/// The file a large job's certificates come in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UploadFormat {
    /// One JSON object per line: `{"thingName": "...", "certificatePem": "..."}`.
    Ndjson,
    /// A header `thing_name,certificate_pem`, then one row per certificate
    /// (the PEM quoted, as RFC 4180 quotes fields with line breaks).
    Csv,
}

impl UploadFormat {
    /// The wire spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            UploadFormat::Ndjson => "ndjson",
            UploadFormat::Csv => "csv",
        }
    }
}

/// `POST /v1/jobs`: a registration job. Exactly one of `certificates` (a
/// small job, in the body) and `upload` (a large one: the file is PUT to the
/// URL the answer gives, then `POST /v1/jobs/{id}/start`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateJobRequest {
    /// Target ids from `GET /v1/config`.
    pub targets: Vec<String>,
    /// An allowed policy name.
    pub policy: String,
    /// Bring each certificate to ACTIVE (default) or leave it INACTIVE.
    #[serde(default = "yes")]
    pub activate: bool,
    /// One of the caller's groups that owns what the job registers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner_group: Option<String>,
    /// A small job's certificates.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificates: Option<Vec<CertificateInput>>,
    /// A large job: the format of the file that will be uploaded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upload: Option<UploadFormat>,
}

fn yes() -> bool {
    true
}

/// Where and how to upload a large job's file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UploadInstructions {
    /// A presigned URL: `PUT` the file there, with exactly `headers`.
    pub url: String,
    /// Always `PUT`.
    pub method: String,
    /// Headers the upload must carry (they are part of the signature).
    pub headers: Vec<(String, String)>,
    /// When the URL stops working (RFC 3339).
    pub expires_at: String,
    /// The largest file the job accepts, in bytes.
    pub max_bytes: u64,
}

/// `POST /v1/jobs`'s answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateJobResponse {
    /// The job as it stands.
    pub job: Job,
    /// For an upload job: where to put the file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upload: Option<UploadInstructions>,
}

/// Where a job is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobState {
    /// Created; its file is awaited (then `POST /v1/jobs/{id}/start`).
    AwaitingUpload,
    /// Its file is being read, checked and cut into chunks.
    Splitting,
    /// Chunks are queued or being registered.
    Running,
    /// Every chunk is done.
    Finished,
    /// Stopped by its owner: no chunk starts any more.
    Cancelled,
    /// Stopped before registering anything (`error` says why).
    Failed,
    /// A state this build does not know.
    #[serde(other)]
    Other,
}

impl JobState {
    /// The stored and wire spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            JobState::AwaitingUpload => "awaiting_upload",
            JobState::Splitting => "splitting",
            JobState::Running => "running",
            JobState::Finished => "finished",
            JobState::Cancelled => "cancelled",
            JobState::Failed => "failed",
            JobState::Other => "other",
        }
    }

    /// Read back from [`JobState::as_str`].
    pub fn parse(text: &str) -> JobState {
        match text {
            "awaiting_upload" => JobState::AwaitingUpload,
            "splitting" => JobState::Splitting,
            "running" => JobState::Running,
            "finished" => JobState::Finished,
            "cancelled" => JobState::Cancelled,
            "failed" => JobState::Failed,
            _ => JobState::Other,
        }
    }

    /// Whether nothing new will start.
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            JobState::Finished | JobState::Cancelled | JobState::Failed
        )
    }
}

/// Counts of certificate × target pairs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PairCounts {
    /// Not done yet.
    pub pending: u64,
    /// Registered (or found registered) as asked.
    pub succeeded: u64,
    /// Failed; the results say why. Throttling is never counted here.
    pub failed: u64,
    /// Not attempted because the job was cancelled.
    pub skipped: u64,
}

/// One target's share of a job.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TargetProgress {
    /// Target id.
    pub target: String,
    /// Its pairs.
    pub counts: PairCounts,
    /// The pace the workers hold to there: registrations per second.
    pub budget_per_second: f64,
}

/// Why a job failed as a whole.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JobError {
    /// `key_material_refused`, `upload_missing`, `upload_too_large`,
    /// `upload_invalid`, `preflight_failed`, `too_many_certificates`.
    pub code: String,
    /// Plain words, naming the line where there is one.
    pub message: String,
    /// With `preflight_failed`: the findings, indexed by certificate (line) number from 0.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub findings: Vec<IndexedFinding>,
}

/// A job: `GET /v1/jobs/{id}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Job {
    /// The job's id.
    pub id: String,
    /// Where it is.
    pub state: JobState,
    /// Who created it.
    pub created_by: String,
    /// When (RFC 3339).
    pub created_at: String,
    /// When its chunks were queued.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at: Option<String>,
    /// When the last chunk ended, or it was cancelled or failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ended_at: Option<String>,
    /// Target ids.
    pub targets: Vec<String>,
    /// The policy attached.
    pub policy: String,
    /// Whether certificates end ACTIVE.
    pub activate: bool,
    /// The owning group, when one was chosen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner_group: Option<String>,
    /// Certificates in the job (0 until its file is read).
    pub certificates: u64,
    /// Chunks, and how many are done (or skipped).
    pub chunks: u64,
    /// Chunks finished or skipped.
    pub chunks_done: u64,
    /// All pairs.
    pub counts: PairCounts,
    /// Per target.
    pub per_target: Vec<TargetProgress>,
    /// Throttling replies met so far (they slow the pace; never failures).
    pub throttled: u64,
    /// Pairs done per second since the job started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate_per_second: Option<f64>,
    /// Seconds left at that rate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub eta_seconds: Option<u64>,
    /// Why it failed, when it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<JobError>,
}

/// `GET /v1/jobs/{id}/results`: where to download the results CSV.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JobResultsResponse {
    /// A presigned `GET` URL of the CSV: `index,thing_name,certificate_id,
    /// target,outcome,status,certificate_arn,endpoint,error_code,error_message`.
    pub url: String,
    /// When the URL stops working (RFC 3339).
    pub expires_at: String,
    /// Rows in it (one per certificate × target done so far).
    pub rows: u64,
    /// Whether the job is over, so the file is final.
    pub complete: bool,
}

/// The results CSV's header, in column order.
pub const JOB_RESULTS_HEADER: &str = "index,thing_name,certificate_id,target,outcome,status,certificate_arn,endpoint,error_code,error_message";

/// For callers that build a small job from parsed inputs.
impl CreateJobRequest {
    /// A small job of `certificates`.
    pub fn inline(
        certificates: Vec<CertificateInput>,
        targets: Vec<String>,
        policy: String,
    ) -> CreateJobRequest {
        CreateJobRequest {
            targets,
            policy,
            activate: true,
            owner_group: None,
            certificates: Some(certificates),
            upload: None,
        }
    }
}
