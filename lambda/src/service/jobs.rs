//! Factory jobs: many certificates registered through a queue, by workers
//! that pace themselves to each registry's AWS IoT quotas.
//!
//! A job is created by `POST /v1/jobs` with its certificates in the body, or
//! with an upload URL for a file (`start` then queues it to be split). The
//! split cuts the certificates into chunks (one item each in the jobs
//! table) and queues one message per chunk; a worker takes a chunk and
//! registers each certificate × target through the same idempotent
//! [`register_pair`](super::registration::register_pair) as the API, as the
//! job's creator. A chunk is marked done in the same transaction that adds
//! its counts to the job, so a redelivered message changes nothing twice.

mod pace;
mod pacer;
mod upload;
mod worker;

pub(crate) use pacer::Pacer;

use std::{sync::Arc, time::SystemTime};

use async_trait::async_trait;
use marshal_shared::{
    OffsetDateTime,
    api::{
        CreateJobRequest, CreateJobResponse, ErrorCode, Job, JobError, JobResultsResponse,
        JobState, PairCounts, TargetProgress, UploadFormat, UploadInstructions,
    },
};
use serde::{Deserialize, Serialize};

pub use pace::Pace;
pub use worker::WorkOutcome;

use super::{Service, ownership::StoreError, registration::PreparedCertificate};
use crate::{error::ApiError, identity::Caller};

/// The caller a job acts as, as it was when the job was created.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobCaller {
    /// JWT `sub`.
    pub subject: String,
    /// A human name, when the token had one.
    pub username: Option<String>,
    /// Groups.
    pub groups: Vec<String>,
    /// `auth = "none"`.
    pub unrestricted: bool,
}

impl JobCaller {
    fn of(caller: &Caller) -> JobCaller {
        JobCaller {
            subject: caller.subject.clone(),
            username: caller.username.clone(),
            groups: caller.groups.iter().cloned().collect(),
            unrestricted: caller.unrestricted,
        }
    }

    /// The caller for work done on the job's behalf; `request` names the
    /// work in the ledger.
    pub(crate) fn acting(&self, request: String) -> Caller {
        Caller {
            subject: self.subject.clone(),
            username: self.username.clone(),
            groups: self.groups.iter().cloned().collect(),
            unrestricted: self.unrestricted,
            request_id: request,
        }
    }
}

/// Counts of one target's pairs that are done.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Done {
    /// Registered as asked.
    pub succeeded: u64,
    /// Failed.
    pub failed: u64,
    /// Not attempted: the job was cancelled.
    pub skipped: u64,
}

/// A job as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct JobRecord {
    /// 32 lowercase hex digits.
    pub id: String,
    /// Where it is.
    pub state: JobState,
    /// Who created it.
    pub caller: JobCaller,
    /// The owning group of what it registers.
    pub owner_group: Option<String>,
    /// Target ids, in the order counts are kept.
    pub targets: Vec<String>,
    /// The policy.
    pub policy: String,
    /// Whether certificates end ACTIVE.
    pub activate: bool,
    /// The upload's format; `None` for certificates sent in the body.
    pub format: Option<UploadFormat>,
    /// Unix ms.
    pub created_ms: i64,
    /// When its chunks were queued.
    pub started_ms: Option<i64>,
    /// When it ended.
    pub ended_ms: Option<i64>,
    /// Certificates (0 until split).
    pub certificates: u64,
    /// Chunks (0 until split).
    pub chunks: u64,
    /// Chunks done or skipped.
    pub chunks_done: u64,
    /// How many of its chunks are queued at once: the first `window` when
    /// it starts to run, then chunk `k + window` once chunk `k` is done, so
    /// other jobs' chunks take turns with its own on the queue (`[jobs]
    /// chunksQueuedPerJob` when it started; a job from before had all of
    /// them queued at once).
    pub window: u64,
    /// Per target, in `targets` order.
    pub done: Vec<Done>,
    /// Throttling replies met.
    pub throttled: u64,
    /// Why it failed.
    pub error: Option<JobError>,
    /// When `start` last queued its work again (Unix ms).
    pub requeued_ms: Option<i64>,
}

/// One certificate of a chunk, checked when the job was split.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChunkCertificate {
    /// Its position in the job (line or row, from 0).
    pub index: u64,
    /// Canonical PEM.
    pub pem: String,
    /// SHA-256 of the DER.
    pub id: String,
    /// The thing.
    pub thing: String,
    /// `notAfter`, Unix ms.
    pub not_after_ms: i64,
}

impl ChunkCertificate {
    fn from_prepared(p: PreparedCertificate) -> ChunkCertificate {
        ChunkCertificate {
            index: p.index as u64,
            pem: p.pem,
            id: p.id,
            thing: p.thing,
            not_after_ms: p.not_after_ms,
        }
    }

    fn prepared(&self) -> PreparedCertificate {
        PreparedCertificate {
            index: usize::try_from(self.index).unwrap_or(usize::MAX),
            pem: self.pem.clone(),
            id: self.id.clone(),
            thing: self.thing.clone(),
            not_after_ms: self.not_after_ms,
        }
    }
}

/// One row of the results: a certificate in a target.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResultRow {
    /// The certificate's position in the job.
    pub index: u64,
    /// The thing.
    pub thing: String,
    /// The certificate.
    pub certificate_id: String,
    /// Target id.
    pub target: String,
    /// `registered`, `failed` or `skipped`.
    pub outcome: String,
    /// The status after the work, on success.
    pub status: Option<String>,
    /// The certificate's ARN, on success.
    pub arn: Option<String>,
    /// The target's data endpoint, on success.
    pub endpoint: Option<String>,
    /// On failure.
    pub error_code: Option<String>,
    /// On failure, in words.
    pub error_message: Option<String>,
}

/// A chunk as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChunkRecord {
    /// From 0.
    pub index: u64,
    /// Its certificates.
    pub certificates: Vec<ChunkCertificate>,
    /// Its rows once done.
    pub results: Option<Vec<ResultRow>>,
}

/// What a state change also sets.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Transition {
    /// Set when the chunks are queued.
    pub started_ms: Option<i64>,
    /// Set when the job ends.
    pub ended_ms: Option<i64>,
    /// Set by the split.
    pub certificates: Option<u64>,
    /// Set by the split.
    pub chunks: Option<u64>,
    /// Set when the chunks are queued.
    pub window: Option<u64>,
    /// Set when the job fails.
    pub error: Option<JobError>,
}

/// The jobs table: jobs, their chunks and the registries' paces.
#[async_trait]
pub trait JobStore: Send + Sync {
    /// Stores a new job (fails with `Conflict` if the id exists).
    async fn create(&self, job: &JobRecord) -> Result<(), StoreError>;
    /// The job of that id.
    async fn get(&self, id: &str) -> Result<Option<JobRecord>, StoreError>;
    /// Moves the job to `to` if it is in one of `from`; false if it was not.
    async fn transition(
        &self,
        id: &str,
        from: &[JobState],
        to: JobState,
        set: &Transition,
    ) -> Result<bool, StoreError>;
    /// Stores chunks (overwriting chunks of the same index that are not done).
    async fn put_chunks(&self, id: &str, chunks: &[ChunkRecord]) -> Result<(), StoreError>;
    /// One chunk.
    async fn chunk(&self, id: &str, index: u64) -> Result<Option<ChunkRecord>, StoreError>;
    /// Marks a chunk done with its rows and adds `done` (per target) to the
    /// job's counts, in one transaction; false if it was done already.
    async fn finish_chunk(
        &self,
        id: &str,
        index: u64,
        results: &[ResultRow],
        done: &[Done],
    ) -> Result<bool, StoreError>;
    /// Every chunk of the job, in order.
    async fn chunks(&self, id: &str) -> Result<Vec<ChunkRecord>, StoreError>;
    /// Notes `now_ms` as the job's last requeue if it is in one of `states`
    /// and was not requeued after `after_ms`; false if it was not noted.
    async fn claim_requeue(
        &self,
        id: &str,
        states: &[JobState],
        now_ms: i64,
        after_ms: i64,
    ) -> Result<bool, StoreError>;
    /// Adds to the job's count of throttling replies.
    async fn add_throttled(&self, id: &str, count: u64) -> Result<(), StoreError>;
    /// Notes `job` among the jobs of `subject` that have not ended, if they
    /// are fewer than `max` (or `job` is among them already); false if not.
    async fn open_slot(&self, subject: &str, job: &str, max: usize) -> Result<bool, StoreError>;
    /// The jobs noted for `subject` (some may have ended since).
    async fn slots(&self, subject: &str) -> Result<Vec<String>, StoreError>;
    /// Takes `job` off `subject`'s jobs (nothing if it is not there).
    async fn close_slot(&self, subject: &str, job: &str) -> Result<(), StoreError>;
    /// A registry's pace and the version to write it back at.
    async fn pace(&self, key: &str) -> Result<Option<(Pace, u64)>, StoreError>;
    /// Writes a registry's pace if its version is still `version` (`None`: absent).
    async fn set_pace(
        &self,
        key: &str,
        pace: &Pace,
        version: Option<u64>,
    ) -> Result<(), StoreError>;
}

/// What travels on the queue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum JobMessage {
    /// Read the job's upload and cut it into chunks.
    Split {
        /// The job.
        job: String,
    },
    /// Register one chunk.
    Chunk {
        /// The job.
        job: String,
        /// The chunk.
        chunk: u64,
    },
}

/// The job queue.
#[async_trait]
pub trait JobQueue: Send + Sync {
    /// Sends messages (in batches of at most 10).
    async fn send(&self, messages: &[JobMessage]) -> Result<(), String>;
}

/// A file read as it comes, never held whole.
pub type FileReader = Box<dyn tokio::io::AsyncBufRead + Send + Unpin>;

/// Why a file could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileError {
    /// Larger than allowed: its size.
    TooLarge(u64),
    /// The store failed.
    Unavailable(String),
}

/// A presigned URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Presigned {
    /// The URL.
    pub url: String,
    /// Headers the request must carry.
    pub headers: Vec<(String, String)>,
}

/// The job files: uploads and results (S3).
#[async_trait]
pub trait JobFiles: Send + Sync {
    /// A URL to `PUT` `key` with `content_type`, for `seconds`.
    async fn upload_url(
        &self,
        key: &str,
        content_type: &str,
        seconds: u64,
    ) -> Result<Presigned, String>;
    /// The file as a stream, if it exists and is at most `max` bytes.
    async fn open(&self, key: &str, max: u64) -> Result<Option<FileReader>, FileError>;
    /// Writes a file.
    async fn write(&self, key: &str, bytes: Vec<u8>, content_type: &str) -> Result<(), String>;
    /// A URL to `GET` `key` for `seconds`.
    async fn download_url(&self, key: &str, seconds: u64) -> Result<String, String>;
}

/// The job ports; a deployment without a queue has none.
#[derive(Clone)]
pub struct JobPorts {
    /// Jobs, chunks, paces.
    pub store: Arc<dyn JobStore>,
    /// The queue.
    pub queue: Arc<dyn JobQueue>,
    /// Uploads and results; without it only jobs in the body are possible.
    pub files: Option<Arc<dyn JobFiles>>,
}

impl std::fmt::Debug for JobPorts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JobPorts")
            .field("files", &self.files.is_some())
            .finish_non_exhaustive()
    }
}

pub use marshal_shared::validate::is_job_id;

/// The pattern of [`is_job_id`], for the OpenAPI document.
pub const JOB_ID_PATTERN: &str = "^[0-9a-f]{32}$";

fn upload_key(id: &str) -> String {
    format!("uploads/{id}")
}

fn results_key(id: &str) -> String {
    format!("results/{id}.csv")
}

pub(crate) fn now_ms() -> i64 {
    super::ownership::unix_ms(SystemTime::now())
}

fn rfc3339(ms: i64) -> String {
    super::ledger::timestamp_ms(ms)
}

fn not_found() -> ApiError {
    ApiError::new(ErrorCode::JobNotFound, "no job of yours has that id")
}

/// The least time between two requeues of a job by `start`: the longest a
/// worker may still be on a delivery (its timeout). Each requeue reads every
/// chunk and queues again every one not done, so an owner repeating `start`
/// would otherwise multiply the job's reads and messages.
const REQUEUE_INTERVAL_MS: i64 = 15 * 60 * 1000;

/// Notes a requeue of `job` by `start`, or refuses it (409) within
/// [`REQUEUE_INTERVAL_MS`] of the last one, or once the job moved on.
async fn claim_requeue(ports: &JobPorts, job: &JobRecord) -> Result<(), ApiError> {
    let now = now_ms();
    let claimed = ports
        .store
        .claim_requeue(
            &job.id,
            &[JobState::Splitting, JobState::Running],
            now,
            now - REQUEUE_INTERVAL_MS,
        )
        .await
        .map_err(|e| unavailable("the job could not be updated", &e))?;
    if claimed {
        return Ok(());
    }
    let latest = ports
        .store
        .get(&job.id)
        .await
        .map_err(|e| unavailable("the job could not be read", &e))?;
    let message = match latest {
        Some(latest) if matches!(latest.state, JobState::Splitting | JobState::Running) => {
            let last = latest.requeued_ms.unwrap_or(now);
            format!(
                "the job's work was queued again at {}; it can be queued again from {} \
                 (a worker may still be on what was queued)",
                rfc3339(last),
                rfc3339(last + REQUEUE_INTERVAL_MS)
            )
        }
        Some(latest) => format!("the job is {} now", latest.state.as_str()),
        None => "the job is gone".to_owned(),
    };
    Err(ApiError::new(ErrorCode::JobConflict, message))
}

/// `certificates` cut into chunks of `size`, numbered from `first`.
fn chunk_records(certificates: &[ChunkCertificate], size: usize, first: u64) -> Vec<ChunkRecord> {
    certificates
        .chunks(size)
        .zip(first..)
        .map(|(c, index)| ChunkRecord {
            index,
            certificates: c.to_vec(),
            results: None,
        })
        .collect()
}

fn unavailable(what: &str, e: &dyn std::fmt::Display) -> ApiError {
    tracing::error!(error = %e, "{what}");
    ApiError::new(ErrorCode::InternalError, format!("{what}; try again later"))
}

impl Service {
    /// The job ports, or 503 when this deployment runs no jobs.
    fn job_ports(&self) -> Result<&JobPorts, ApiError> {
        self.jobs.as_deref().ok_or_else(|| {
            ApiError::new(
                ErrorCode::JobsUnavailable,
                "this deployment runs no job queue ([jobs] queueUrl is not configured)",
            )
        })
    }

    /// `POST /v1/jobs`.
    pub async fn create_job(
        &self,
        caller: &Caller,
        request: &CreateJobRequest,
        now: OffsetDateTime,
    ) -> Result<CreateJobResponse, ApiError> {
        let ports = self.job_ports()?;
        self.allowed_policy(&request.policy)?;
        let targets = self.resolve_targets(caller, &request.targets)?;
        super::registration::owner_of(caller, request.owner_group.as_deref())?;
        let inline = match (&request.certificates, request.upload) {
            (Some(certificates), None) => Some(self.prepare_certificates(certificates, now)?),
            (None, Some(_)) => {
                if ports.files.is_none() {
                    return Err(ApiError::new(
                        ErrorCode::JobsUnavailable,
                        "this deployment has no job bucket ([jobs] bucket): send the certificates in the body",
                    ));
                }
                None
            }
            _ => {
                return Err(ApiError::new(
                    ErrorCode::InvalidRequest,
                    "give exactly one of certificates (a small job) and upload (the format of a file to upload)",
                ));
            }
        };
        let mut bytes = [0u8; 16];
        getrandom::fill(&mut bytes).map_err(|e| unavailable("no randomness for a job id", &e))?;
        let id = hex::encode(bytes);
        self.take_slot(ports, caller, &id).await?;
        let created_ms = now_ms();
        let mut job = JobRecord {
            id,
            state: if inline.is_some() {
                JobState::Splitting
            } else {
                JobState::AwaitingUpload
            },
            caller: JobCaller::of(caller),
            owner_group: request.owner_group.clone(),
            targets: targets.iter().map(|t| t.id.clone()).collect(),
            policy: request.policy.clone(),
            activate: request.activate,
            format: request.upload,
            created_ms,
            started_ms: None,
            ended_ms: None,
            certificates: 0,
            chunks: 0,
            chunks_done: 0,
            window: 0,
            done: vec![Done::default(); targets.len()],
            throttled: 0,
            requeued_ms: None,
            error: None,
        };
        if let Err(e) = ports.store.create(&job).await {
            release_slot(ports, &job).await;
            return Err(unavailable("the job could not be stored", &e));
        }
        tracing::info!(job = %job.id, caller = %caller.subject, targets = job.targets.len(), "job created");
        let upload = match (inline, request.upload) {
            (Some(prepared), _) => {
                let certificates = prepared
                    .into_iter()
                    .map(ChunkCertificate::from_prepared)
                    .collect();
                self.queue_chunks(ports, &job, certificates)
                    .await
                    .map_err(|e| {
                        unavailable(
                            &format!(
                                "job {} was stored but not all of it could be queued \
                                 (POST /v1/jobs/{}/start queues the rest)",
                                job.id, job.id
                            ),
                            &e,
                        )
                    })?;
                None
            }
            (None, Some(format)) => {
                let files = ports.files.as_ref().ok_or_else(not_found)?;
                let seconds = self.config.jobs.url_seconds;
                let presigned = files
                    .upload_url(&upload_key(&job.id), content_type(format), seconds)
                    .await
                    .map_err(|e| unavailable("no upload URL could be made", &e))?;
                Some(UploadInstructions {
                    url: presigned.url,
                    method: "PUT".into(),
                    headers: presigned.headers,
                    expires_at: rfc3339(created_ms + i64::try_from(seconds).unwrap_or(0) * 1000),
                    max_bytes: self.config.jobs.max_upload_bytes,
                })
            }
            (None, None) => None,
        };
        if let Some(current) = ports
            .store
            .get(&job.id)
            .await
            .map_err(|e| unavailable("the job could not be read", &e))?
        {
            job = current;
        }
        Ok(CreateJobResponse {
            job: self.job_view(&job),
            upload,
        })
    }

    /// Notes job `id` among the caller's jobs that have not ended, or 429
    /// when they are as many as a caller may have. A note left behind by a
    /// job that ended without taking it back (a failed write) is cleared
    /// here, when it is in the way.
    async fn take_slot(&self, ports: &JobPorts, caller: &Caller, id: &str) -> Result<(), ApiError> {
        let max = self.config.jobs.max_active_per_caller;
        let store = ports.store.as_ref();
        let subject = &caller.subject;
        let open = |e: StoreError| unavailable("the caller's jobs could not be counted", &e);
        if store.open_slot(subject, id, max).await.map_err(open)? {
            return Ok(());
        }
        let mut active = Vec::new();
        for noted in store.slots(subject).await.map_err(open)? {
            match store.get(&noted).await.map_err(open)? {
                Some(job) if !job.state.is_terminal() => active.push(job),
                _ => store.close_slot(subject, &noted).await.map_err(open)?,
            }
        }
        if active.len() < max && store.open_slot(subject, id, max).await.map_err(open)? {
            return Ok(());
        }
        active.sort_by_key(|job| job.created_ms);
        let listed: Vec<String> = active
            .iter()
            .map(|job| format!("{} ({})", job.id, job.state.as_str()))
            .collect();
        tracing::info!(caller = %subject, active = active.len(), "job refused: too many jobs under way");
        Err(ApiError::new(
            ErrorCode::TooManyJobs,
            format!(
                "you have {} jobs that have not ended, as many as a caller may have ({max}): {}; \
                 wait for one to end, or cancel one you no longer need (POST /v1/jobs/{{id}}/cancel)",
                active.len(),
                listed.join(", ")
            ),
        ))
    }

    /// Stores a job's chunks, queues them and marks the job running.
    pub(crate) async fn queue_chunks(
        &self,
        ports: &JobPorts,
        job: &JobRecord,
        certificates: Vec<ChunkCertificate>,
    ) -> Result<(), String> {
        let total = certificates.len() as u64;
        let chunks = chunk_records(&certificates, self.config.jobs.chunk_size, 0);
        let count = chunks.len() as u64;
        ports
            .store
            .put_chunks(&job.id, &chunks)
            .await
            .map_err(|e| e.to_string())?;
        self.start_running(ports, job, total, count).await
    }

    /// Moves a job whose `chunks` (`total` certificates) are stored from
    /// splitting to running, then queues them.
    pub(crate) async fn start_running(
        &self,
        ports: &JobPorts,
        job: &JobRecord,
        total: u64,
        count: u64,
    ) -> Result<(), String> {
        // Counts first, then the messages: a chunk done before the job says
        // how many there are could not tell that it was the last.
        let window = self.config.jobs.chunks_queued_per_job as u64;
        let moved = ports
            .store
            .transition(
                &job.id,
                &[JobState::Splitting],
                JobState::Running,
                &Transition {
                    started_ms: Some(now_ms()),
                    certificates: Some(total),
                    chunks: Some(count),
                    window: Some(window),
                    ..Transition::default()
                },
            )
            .await
            .map_err(|e| e.to_string())?;
        if !moved {
            // Cancelled meanwhile, or another delivery of the split got
            // here first and queued the chunks itself.
            return Ok(());
        }
        let messages: Vec<JobMessage> = (0..count.min(window))
            .map(|chunk| JobMessage::Chunk {
                job: job.id.clone(),
                chunk,
            })
            .collect();
        ports.queue.send(&messages).await
    }

    /// Queues the chunk that follows chunk `index` of `job` in its chain
    /// (`index + window`), once chunk `index` is done: each chunk has one
    /// chunk before it, so none is queued twice by workers finishing at
    /// once, and a job has `window` chunks on the queue at most. A chunk
    /// delivered again after it was done queues its follower again (the
    /// first send may have been cut off); the follower is done once. A
    /// cancelled job's chunks still go through, to be marked skipped.
    pub(crate) async fn queue_after(
        &self,
        ports: &JobPorts,
        job: &JobRecord,
        index: u64,
    ) -> Result<(), String> {
        let next = index.saturating_add(job.window);
        if job.window == 0
            || !matches!(job.state, JobState::Running | JobState::Cancelled)
            || next >= job.chunks
        {
            return Ok(());
        }
        ports
            .queue
            .send(&[JobMessage::Chunk {
                job: job.id.clone(),
                chunk: next,
            }])
            .await
    }

    /// Queues again every chunk of a running job that is not done and whose
    /// chain has reached it (among the first `window`, or the chunk before
    /// it is done): at most one per chain, what a send that failed part-way
    /// may have lost; how many. A chunk queued twice is done once (its
    /// results are written in the transaction that counts it).
    pub(crate) async fn requeue_pending(&self, ports: &JobPorts, id: &str) -> Result<u64, String> {
        let Some(job) = ports.store.get(id).await.map_err(|e| e.to_string())? else {
            return Ok(0);
        };
        let chunks = ports.store.chunks(id).await.map_err(|e| e.to_string())?;
        let done: std::collections::HashSet<u64> = chunks
            .iter()
            .filter(|c| c.results.is_some())
            .map(|c| c.index)
            .collect();
        let messages: Vec<JobMessage> = chunks
            .iter()
            .filter(|c| {
                c.results.is_none()
                    && c.index
                        .checked_sub(job.window)
                        .is_none_or(|before| done.contains(&before))
            })
            .map(|c| JobMessage::Chunk {
                job: id.to_owned(),
                chunk: c.index,
            })
            .collect();
        if !messages.is_empty() {
            ports.queue.send(&messages).await?;
        }
        Ok(messages.len() as u64)
    }

    /// The caller's job of that id, or 404 (also for someone else's).
    async fn own_job(&self, caller: &Caller, id: &str) -> Result<(&JobPorts, JobRecord), ApiError> {
        let ports = self.job_ports()?;
        if !is_job_id(id) {
            return Err(ApiError::new(
                ErrorCode::InvalidRequest,
                "a job id is 32 lowercase hex digits",
            ));
        }
        let job = ports
            .store
            .get(id)
            .await
            .map_err(|e| unavailable("the job could not be read", &e))?
            .filter(|job| job.caller.subject == caller.subject)
            .ok_or_else(not_found)?;
        Ok((ports, job))
    }

    /// `GET /v1/jobs/{id}`.
    pub async fn job(&self, caller: &Caller, id: &str) -> Result<Job, ApiError> {
        let (_, job) = self.own_job(caller, id).await?;
        Ok(self.job_view(&job))
    }

    /// `POST /v1/jobs/{id}/start`: the upload is there; queue it to be split.
    /// Called again on a job that is splitting or running, it queues again
    /// what may have been lost (a queue that failed after the job moved on):
    /// the split, or every chunk not done. Work queued twice is done once.
    pub async fn start_job(&self, caller: &Caller, id: &str) -> Result<Job, ApiError> {
        let (ports, job) = self.own_job(caller, id).await?;
        match job.state {
            JobState::AwaitingUpload => {}
            JobState::Splitting => {
                claim_requeue(ports, &job).await?;
                ports
                    .queue
                    .send(&[JobMessage::Split { job: id.to_owned() }])
                    .await
                    .map_err(|e| unavailable("the job could not be queued", &e))?;
                tracing::info!(job = %id, "split queued again");
                return self.job(caller, id).await;
            }
            JobState::Running => {
                claim_requeue(ports, &job).await?;
                let count = self
                    .requeue_pending(ports, id)
                    .await
                    .map_err(|e| unavailable("the job could not be queued", &e))?;
                tracing::info!(job = %id, chunks = count, "pending chunks queued again");
                return self.job(caller, id).await;
            }
            _ => {
                return Err(ApiError::new(
                    ErrorCode::JobConflict,
                    format!(
                        "the job is {}: only a job awaiting its upload can be started",
                        job.state.as_str()
                    ),
                ));
            }
        }
        let moved = ports
            .store
            .transition(
                id,
                &[JobState::AwaitingUpload],
                JobState::Splitting,
                &Transition::default(),
            )
            .await
            .map_err(|e| unavailable("the job could not be updated", &e))?;
        if !moved {
            return Err(ApiError::new(
                ErrorCode::JobConflict,
                "the job was started or cancelled meanwhile",
            ));
        }
        ports
            .queue
            .send(&[JobMessage::Split { job: id.to_owned() }])
            .await
            .map_err(|e| unavailable("the job could not be queued", &e))?;
        self.job(caller, id).await
    }

    /// `POST /v1/jobs/{id}/cancel`: no chunk starts any more; chunks being
    /// registered finish. Cancelling a cancelled job changes nothing.
    pub async fn cancel_job(&self, caller: &Caller, id: &str) -> Result<Job, ApiError> {
        let (ports, job) = self.own_job(caller, id).await?;
        match job.state {
            JobState::Cancelled => return Ok(self.job_view(&job)),
            JobState::Finished | JobState::Failed => {
                return Err(ApiError::new(
                    ErrorCode::JobConflict,
                    format!("the job is {} already", job.state.as_str()),
                ));
            }
            _ => {}
        }
        let moved = ports
            .store
            .transition(
                id,
                &[
                    JobState::AwaitingUpload,
                    JobState::Splitting,
                    JobState::Running,
                ],
                JobState::Cancelled,
                &Transition {
                    ended_ms: Some(now_ms()),
                    ..Transition::default()
                },
            )
            .await
            .map_err(|e| unavailable("the job could not be updated", &e))?;
        if moved {
            tracing::info!(job = %id, caller = %caller.subject, "job cancelled");
            release_slot(ports, &job).await;
        }
        self.job(caller, id).await
    }

    /// `GET /v1/jobs/{id}/results`: the rows so far as CSV, written to the
    /// bucket and handed out as a presigned URL.
    pub async fn job_results(
        &self,
        caller: &Caller,
        id: &str,
    ) -> Result<JobResultsResponse, ApiError> {
        let (ports, job) = self.own_job(caller, id).await?;
        let files = ports.files.as_ref().ok_or_else(|| {
            ApiError::new(
                ErrorCode::JobsUnavailable,
                "this deployment has no job bucket ([jobs] bucket) for results files",
            )
        })?;
        let chunks = ports
            .store
            .chunks(id)
            .await
            .map_err(|e| unavailable("the job's chunks could not be read", &e))?;
        let mut rows: Vec<&ResultRow> = chunks
            .iter()
            .filter_map(|c| c.results.as_ref())
            .flatten()
            .collect();
        rows.sort_by(|a, b| (a.index, &a.target).cmp(&(b.index, &b.target)));
        let csv = upload::results_csv(&rows);
        let key = results_key(id);
        files
            .write(&key, csv.into_bytes(), "text/csv; charset=utf-8")
            .await
            .map_err(|e| unavailable("the results could not be written", &e))?;
        let seconds = self.config.jobs.url_seconds;
        let url = files
            .download_url(&key, seconds)
            .await
            .map_err(|e| unavailable("no download URL could be made", &e))?;
        Ok(JobResultsResponse {
            url,
            expires_at: rfc3339(now_ms() + i64::try_from(seconds).unwrap_or(0) * 1000),
            rows: rows.len() as u64,
            complete: job.state.is_terminal() && job.chunks_done >= job.chunks,
        })
    }

    /// The wire view of a job, with its rate and what is left.
    pub(crate) fn job_view(&self, job: &JobRecord) -> Job {
        let per_target: Vec<TargetProgress> = job
            .targets
            .iter()
            .zip(&job.done)
            .map(|(target, done)| TargetProgress {
                target: target.clone(),
                counts: PairCounts {
                    pending: job
                        .certificates
                        .saturating_sub(done.succeeded + done.failed + done.skipped),
                    succeeded: done.succeeded,
                    failed: done.failed,
                    skipped: done.skipped,
                },
                budget_per_second: self
                    .config
                    .targets
                    .iter()
                    .find(|t| &t.id == target)
                    .map_or(self.config.jobs.calls_per_second, |t| {
                        self.config.jobs.pace_of(t)
                    }),
            })
            .collect();
        let mut counts = PairCounts::default();
        for p in &per_target {
            counts.pending += p.counts.pending;
            counts.succeeded += p.counts.succeeded;
            counts.failed += p.counts.failed;
            counts.skipped += p.counts.skipped;
        }
        let attempted = counts.succeeded + counts.failed;
        let (rate, eta) = match job.started_ms {
            Some(started) if attempted > 0 => {
                let until = job.ended_ms.unwrap_or_else(now_ms);
                let seconds = (until - started).max(1) as f64 / 1000.0;
                let rate = attempted as f64 / seconds;
                let eta = (!job.state.is_terminal())
                    .then(|| (counts.pending as f64 / rate).ceil() as u64);
                (Some((rate * 100.0).round() / 100.0), eta)
            }
            _ => (None, None),
        };
        Job {
            id: job.id.clone(),
            state: job.state,
            created_by: job
                .caller
                .username
                .clone()
                .unwrap_or_else(|| job.caller.subject.clone()),
            created_at: rfc3339(job.created_ms),
            started_at: job.started_ms.map(rfc3339),
            ended_at: job.ended_ms.map(rfc3339),
            targets: job.targets.clone(),
            policy: job.policy.clone(),
            activate: job.activate,
            owner_group: job.owner_group.clone(),
            certificates: job.certificates,
            chunks: job.chunks,
            chunks_done: job.chunks_done,
            counts,
            per_target,
            throttled: job.throttled,
            rate_per_second: rate,
            eta_seconds: eta,
            error: job.error.clone(),
        }
    }
}

/// The content type an upload is sent with (part of its signature).
pub fn content_type(format: UploadFormat) -> &'static str {
    match format {
        UploadFormat::Ndjson => "application/x-ndjson",
        UploadFormat::Csv => "text/csv",
    }
}

/// A job error.
fn job_error(code: &str, message: impl Into<String>) -> JobError {
    JobError {
        code: code.to_owned(),
        message: message.into(),
        findings: Vec::new(),
    }
}

/// Takes an ended job off its caller's jobs under way. A failure is only
/// logged: the note is cleared when it is next in the caller's way.
pub(crate) async fn release_slot(ports: &JobPorts, job: &JobRecord) {
    if let Err(e) = ports.store.close_slot(&job.caller.subject, &job.id).await {
        tracing::warn!(job = %job.id, error = %e, "could not take an ended job off its caller's jobs under way");
    }
}
