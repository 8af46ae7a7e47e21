//! The worker's half: one queue message at a time, split or chunk. Every
//! step can run twice (SQS delivers at least once) and changes nothing the
//! second time: the split only moves a job out of `splitting` once, and a
//! chunk is marked done in the transaction that counts it.

use std::{
    collections::HashMap,
    sync::atomic::{AtomicU64, Ordering},
    time::{Duration, Instant},
};

use futures::{StreamExt, stream};
use marshal_shared::{
    OffsetDateTime,
    api::{ErrorCode, JobState, LedgerAction, TargetError, TargetErrorCode},
    find_key_material,
};

use super::{
    ChunkCertificate, ChunkRecord, Done, JobMessage, JobPorts, JobRecord, ResultRow, Transition,
    chunk_records, job_error, now_ms,
    pacer::{CANCEL_CHECK, Token},
    release_slot,
    upload::{self, UploadProblem},
    upload_key,
};
use crate::{
    config::Target,
    error::ApiError,
    service::{
        Service,
        ownership::LeaseClock,
        registration::{Acting, ReadyTarget, owner_of, register_pair},
    },
};

/// What to do with a message after the work.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WorkOutcome {
    /// Done (or nothing to do): delete it.
    Done,
    /// Not finished: leave it for redelivery.
    Again,
}

/// How long a pair whose records another delivery holds waits before it
/// tries again.
const BUSY_PAUSE: Duration = Duration::from_secs(1);

/// Most findings a failed job reports.
const MAX_FINDINGS: usize = 100;

/// Certificates read and checked at a time: a file of any size is held
/// [`SEGMENT`] certificates (and one chunk's remainder) at a time.
const SEGMENT: usize = 1000;

/// A split under way.
struct Split<R> {
    records: upload::Records<R>,
    now: OffsetDateTime,
    /// Every certificate so far (the first 128 bits of its ID, enough to
    /// tell a million apart) and the line it came on.
    seen: HashMap<u128, u64>,
    /// Checked, not yet in a chunk.
    pending: Vec<ChunkCertificate>,
    /// Chunks stored.
    chunks: u64,
    /// Certificates read.
    certificates: u64,
}

/// A certificate ID's first 32 hex digits as a number.
fn id_key(id: &str) -> u128 {
    id.get(..32)
        .and_then(|prefix| u128::from_str_radix(prefix, 16).ok())
        .unwrap_or_default()
}

impl Service {
    /// Handles one queue message before `deadline`.
    pub async fn work(&self, body: &str, deadline: Instant) -> WorkOutcome {
        let Some(ports) = self.jobs.as_deref() else {
            tracing::error!("a job message arrived but [jobs] is not configured");
            return WorkOutcome::Again;
        };
        let message: JobMessage = match serde_json::from_str(body) {
            Ok(message) => message,
            Err(e) => {
                // Retrying cannot make it readable; the DLQ is for failures.
                tracing::error!(error = %e, "dropped a job message that is not one");
                return WorkOutcome::Done;
            }
        };
        let result = match &message {
            JobMessage::Split { job } => self.split(ports, job).await.map(|()| WorkOutcome::Done),
            JobMessage::Chunk { job, chunk } => self.work_chunk(ports, job, *chunk, deadline).await,
        };
        result.unwrap_or_else(|e| {
            tracing::warn!(error = %e, message = ?message, "job work left for redelivery");
            WorkOutcome::Again
        })
    }

    /// Reads a job's upload one certificate at a time, checks every one
    /// (key material, preflight, duplicates across the whole file) and
    /// stores them as chunks as it goes; only when the whole file passed
    /// does the job run and its chunks get queued. Otherwise the job fails
    /// and nothing is registered (chunks already stored stay unqueued).
    async fn split(&self, ports: &JobPorts, id: &str) -> Result<(), String> {
        let Some(job) = ports.store.get(id).await.map_err(|e| e.to_string())? else {
            tracing::warn!(job = %id, "split of a job that does not exist");
            return Ok(());
        };
        let format = match (job.state, job.format) {
            (JobState::Splitting, Some(format)) => format,
            // Split, and this message came again: the delivery that split it
            // may have failed while queueing the chunks.
            (JobState::Running, Some(_)) => {
                let count = self.requeue_pending(ports, id).await?;
                tracing::info!(job = %id, chunks = count, "split delivered again: pending chunks queued again");
                return Ok(());
            }
            // Cancelled, ended, or a job whose certificates came in the body.
            _ => return Ok(()),
        };
        let Some(files) = ports.files.as_ref() else {
            return Err("[jobs] bucket is not configured".into());
        };
        let max = self.config.jobs.max_upload_bytes;
        let reader = match files.open(&upload_key(id), max).await {
            Ok(Some(reader)) => reader,
            Ok(None) => {
                let error = job_error(
                    "upload_missing",
                    "nothing was uploaded to the job's URL before it was started",
                );
                return self.fail(ports, &job, error).await;
            }
            Err(super::FileError::TooLarge(size)) => {
                let error = job_error(
                    "upload_too_large",
                    format!("the file has {size} bytes; the limit is {max}"),
                );
                return self.fail(ports, &job, error).await;
            }
            Err(super::FileError::Unavailable(e)) => return Err(e),
        };
        let mut split = Split {
            records: upload::Records::new(reader, format),
            now: OffsetDateTime::now_utc(),
            seen: HashMap::new(),
            pending: Vec::new(),
            chunks: 0,
            certificates: 0,
        };
        loop {
            let segment = match self.next_segment(&mut split).await {
                Ok(segment) => segment,
                Err(error) => return self.fail(ports, &job, error).await,
            };
            let last = segment < SEGMENT;
            let size = self.config.jobs.chunk_size;
            let ready = if last {
                split.pending.len()
            } else {
                split.pending.len() / size * size
            };
            let ready: Vec<ChunkCertificate> = split.pending.drain(..ready).collect();
            let chunks = chunk_records(&ready, size, split.chunks);
            split.chunks += chunks.len() as u64;
            ports
                .store
                .put_chunks(id, &chunks)
                .await
                .map_err(|e| e.to_string())?;
            if last {
                break;
            }
            // A long split notices a cancel between segments.
            let now = ports.store.get(id).await.map_err(|e| e.to_string())?;
            if now.is_none_or(|j| j.state != JobState::Splitting) {
                tracing::info!(job = %id, "split stopped: the job was cancelled");
                return Ok(());
            }
        }
        if split.certificates == 0 {
            let error = job_error("upload_invalid", "the file holds no certificates");
            return self.fail(ports, &job, error).await;
        }
        self.start_running(ports, &job, split.certificates, split.chunks)
            .await?;
        tracing::info!(job = %id, certificates = split.certificates, chunks = split.chunks, "job split and queued");
        Ok(())
    }

    /// Reads up to [`SEGMENT`] certificates, checks them and adds them to
    /// `split.pending`; how many were read (fewer at the end of the file).
    async fn next_segment<R: tokio::io::AsyncBufRead + Unpin>(
        &self,
        split: &mut Split<R>,
    ) -> Result<usize, marshal_shared::api::JobError> {
        let mut lines = Vec::with_capacity(SEGMENT);
        let mut inputs = Vec::with_capacity(SEGMENT);
        while inputs.len() < SEGMENT {
            let record = match split.records.next().await {
                Ok(Some(record)) => record,
                Ok(None) => break,
                Err(UploadProblem { line, message }) => {
                    return Err(job_error(
                        "upload_invalid",
                        format!("line {line}: {message}"),
                    ));
                }
            };
            if let Some(found) = find_key_material(&record.raw) {
                tracing::warn!(
                    line = record.line,
                    kind = found.describe(),
                    "job upload carries key material"
                );
                return Err(job_error(
                    "key_material_refused",
                    format!(
                        "line {}: the file carries private key material ({}); nothing was \
                         registered. Upload certificates only, and keep keys on the devices.",
                        record.line,
                        found.describe()
                    ),
                ));
            }
            lines.push(record.line);
            inputs.push(record.input);
        }
        let offset = split.certificates;
        split.certificates += inputs.len() as u64;
        let most = self.config.jobs.max_certificates;
        if split.certificates > most {
            // At the end of the file the count is the file's.
            let count = split.certificates;
            let message = if inputs.len() < SEGMENT {
                format!("{count} certificates; a job may hold {most}")
            } else {
                format!("at least {count} certificates; a job may hold {most}")
            };
            return Err(job_error("too_many_certificates", message));
        }
        let prepared = self.prepare_all(&inputs, split.now).map_err(|e| {
            let mut error = refusal(e, &lines);
            for finding in &mut error.findings {
                finding.index += offset as usize;
            }
            error
        })?;
        for p in prepared {
            let line = lines.get(p.index).copied().unwrap_or(0);
            if let Some(first) = split.seen.insert(id_key(&p.id), line) {
                let finding = marshal_shared::api::IndexedFinding {
                    index: offset as usize + p.index,
                    code: "duplicate_in_batch".into(),
                    severity: "error".into(),
                    message: format!(
                        "line {line}: certificate {} appears earlier in the file (line {first})",
                        p.id
                    ),
                };
                let mut error = job_error(
                    "preflight_failed",
                    "1 problem(s) found before contacting AWS; nothing was registered",
                );
                error.findings.push(finding);
                return Err(error);
            }
            let mut certificate = ChunkCertificate::from_prepared(p);
            certificate.index += offset;
            split.pending.push(certificate);
        }
        Ok(inputs.len())
    }

    async fn fail(
        &self,
        ports: &JobPorts,
        job: &JobRecord,
        error: marshal_shared::api::JobError,
    ) -> Result<(), String> {
        tracing::info!(job = %job.id, code = %error.code, "job failed before registering anything");
        let moved = ports
            .store
            .transition(
                &job.id,
                &[JobState::Splitting],
                JobState::Failed,
                &Transition {
                    ended_ms: Some(now_ms()),
                    error: Some(error),
                    ..Transition::default()
                },
            )
            .await
            .map_err(|e| e.to_string())?;
        if moved {
            release_slot(ports, job).await;
        }
        Ok(())
    }

    /// Registers one chunk, paced; `Again` when time ran out first.
    async fn work_chunk(
        &self,
        ports: &JobPorts,
        id: &str,
        index: u64,
        deadline: Instant,
    ) -> Result<WorkOutcome, String> {
        let store = ports.store.as_ref();
        let Some(job) = store.get(id).await.map_err(|e| e.to_string())? else {
            tracing::warn!(job = %id, "chunk of a job that does not exist");
            return Ok(WorkOutcome::Done);
        };
        let Some(chunk) = store.chunk(id, index).await.map_err(|e| e.to_string())? else {
            tracing::warn!(job = %id, chunk = index, "a chunk that does not exist");
            return Ok(WorkOutcome::Done);
        };
        if chunk.results.is_some() {
            // Delivered again: what follows a chunk done (the next chunk
            // queued, the job finished) may have been cut off the first time.
            self.queue_after(ports, &job, index).await?;
            self.finish_if_done(ports, id).await?;
            return Ok(WorkOutcome::Done);
        }
        let rows = if matches!(job.state, JobState::Splitting | JobState::Running) {
            match self.register_chunk(ports, &job, &chunk, deadline).await? {
                Some(rows) => rows,
                None => return Ok(WorkOutcome::Again),
            }
        } else {
            skipped(&job, &chunk)
        };
        let done: Vec<Done> = job
            .targets
            .iter()
            .map(|target| {
                let mut d = Done::default();
                for row in rows.iter().filter(|r| &r.target == target) {
                    match row.outcome.as_str() {
                        "registered" => d.succeeded += 1,
                        "skipped" => d.skipped += 1,
                        _ => d.failed += 1,
                    }
                }
                d
            })
            .collect();
        let finished = store
            .finish_chunk(id, index, &rows, &done)
            .await
            .map_err(|e| e.to_string())?;
        if finished {
            self.queue_after(ports, &job, index).await?;
            self.finish_if_done(ports, id).await?;
        }
        Ok(WorkOutcome::Done)
    }

    /// Moves a running job whose chunks are all done to `finished`.
    async fn finish_if_done(&self, ports: &JobPorts, id: &str) -> Result<(), String> {
        let Some(job) = ports.store.get(id).await.map_err(|e| e.to_string())? else {
            return Ok(());
        };
        if job.chunks_done >= job.chunks && job.state == JobState::Running {
            let moved = ports
                .store
                .transition(
                    id,
                    &[JobState::Running],
                    JobState::Finished,
                    &Transition {
                        ended_ms: Some(now_ms()),
                        ..Transition::default()
                    },
                )
                .await
                .map_err(|e| e.to_string())?;
            if moved {
                release_slot(ports, &job).await;
                tracing::info!(job = %id, "job finished");
            }
        }
        Ok(())
    }

    /// The chunk's rows, or `None` when time ran out before every pair was done.
    async fn register_chunk(
        &self,
        ports: &JobPorts,
        job: &JobRecord,
        chunk: &ChunkRecord,
        deadline: Instant,
    ) -> Result<Option<Vec<ResultRow>>, String> {
        let caller = job.caller.acting(format!("job-{}-{}", job.id, chunk.index));
        // The job acts as its creator did: their allow-lists at submission,
        // checked again against today's configuration.
        let policy = self.allowed_policy(&job.policy).cloned();
        let owner = owner_of(&caller, job.owner_group.as_deref());
        let mut ready: Vec<Result<(Target, ReadyTarget), TargetError>> = Vec::new();
        for target_id in &job.targets {
            let target = self
                .config
                .targets
                .iter()
                .find(|t| &t.id == target_id && caller.may_use(t));
            let opened = match (target, &policy) {
                (None, _) => Err(refused("the job's creator may no longer use this target")),
                (_, Err(e)) => Err(refused(&e.message)),
                (Some(target), Ok(policy)) => self
                    .ready_target(target, &caller, policy)
                    .await
                    .map(|r| (target.clone(), r)),
            };
            if let Err(e) = &opened
                && e.code == TargetErrorCode::AwsThrottled
            {
                return Ok(None);
            }
            ready.push(opened);
        }
        let owner = match owner {
            Ok(owner) => owner,
            Err(e) => {
                let error = refused(&e.message);
                return Ok(Some(failed_rows(job, chunk, &error)));
            }
        };
        let policy_name = job.policy.clone();
        let acting = Acting {
            caller: &caller,
            owner: &owner,
            clock: &LeaseClock::until(deadline),
            store: self.ownership.as_ref(),
            deadline,
            pair_budget: self.pair_budget(),
            ledger: self.ledger.as_ref(),
            action: LedgerAction::Register,
            replaces: None,
        };
        let throttled = AtomicU64::new(0);
        let watch = CancelWatch::default();
        let (acting, throttled, policy_name, watch) = (&acting, &throttled, &policy_name, &watch);
        let mut pairs = Vec::new();
        for cert in &chunk.certificates {
            for (target_id, opened) in job.targets.iter().zip(&ready) {
                pairs.push(async move {
                    let prepared = cert.prepared();
                    let outcome = match opened {
                        Err(e) => Err(e.clone()),
                        Ok((target, ready)) => loop {
                            let key = format!("{}#{}", target.account_id, target.region);
                            let budget = self.config.jobs.pace_of(target);
                            // Waiting for the pace, the cancel is looked at again every second.
                            let latest =
                                deadline.checked_sub(self.pair_budget()).unwrap_or(deadline);
                            loop {
                                if watch.cancelled(ports, &job.id).await {
                                    return Some(skipped_row(cert, target_id));
                                }
                                match self.pacer.take(ports, &key, budget, latest).await {
                                    Ok(Token::Taken) => break,
                                    Ok(Token::Later) => {}
                                    Ok(Token::TooLate) => return None,
                                    Err(e) => {
                                        tracing::warn!(error = %e, "the pace could not be read");
                                        return None;
                                    }
                                }
                            }
                            match register_pair(ready, &prepared, policy_name, job.activate, acting)
                                .await
                            {
                                Err(e) if e.code == TargetErrorCode::AwsThrottled => {
                                    throttled.fetch_add(1, Ordering::Relaxed);
                                    self.pacer.throttled(ports, &key, budget).await;
                                }
                                // The same chunk delivered twice at once (SQS delivers
                                // at least once): the other delivery holds the records.
                                // Once it is done, this one finds the pair registered.
                                Err(e) if e.code == TargetErrorCode::CertificateBusy => {
                                    tokio::time::sleep(BUSY_PAUSE).await;
                                }
                                Err(e) if e.code == TargetErrorCode::NotAttempted => return None,
                                other => break other,
                            }
                        },
                    };
                    Some(row(cert, target_id, outcome))
                });
            }
        }
        let rows: Vec<Option<ResultRow>> = stream::iter(pairs)
            .buffer_unordered(self.config.jobs.pairs_in_flight)
            .collect()
            .await;
        let throttled = throttled.load(Ordering::Relaxed);
        if throttled > 0
            && let Err(e) = ports.store.add_throttled(&job.id, throttled).await
        {
            tracing::warn!(error = %e, "the throttling count could not be added");
        }
        Ok(rows.into_iter().collect())
    }
}

/// Whether the job was cancelled, read at most every [`CANCEL_CHECK`]: a
/// cancel stops the pairs of chunks under way too, not only new chunks.
#[derive(Debug, Default)]
struct CancelWatch {
    /// When the job was last read, and whether it was cancelled then.
    last: tokio::sync::Mutex<Option<(Instant, bool)>>,
}

impl CancelWatch {
    async fn cancelled(&self, ports: &JobPorts, id: &str) -> bool {
        let mut last = self.last.lock().await;
        match *last {
            Some((_, true)) => return true,
            Some((at, false)) if at.elapsed() < CANCEL_CHECK => return false,
            _ => {}
        }
        // A failed read counts as not cancelled: the work goes on as before.
        let cancelled = matches!(
            ports.store.get(id).await,
            Ok(Some(job)) if job.state == JobState::Cancelled
        );
        *last = Some((Instant::now(), cancelled));
        cancelled
    }
}

/// A pair refused before any AWS call.
fn refused(message: &str) -> TargetError {
    TargetError {
        code: TargetErrorCode::AwsAccessDenied,
        message: message.to_owned(),
    }
}

fn code_text(code: TargetErrorCode) -> String {
    serde_json::to_value(code)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

fn row(
    cert: &ChunkCertificate,
    target: &str,
    outcome: Result<marshal_shared::api::Registration, TargetError>,
) -> ResultRow {
    let mut row = ResultRow {
        index: cert.index,
        thing: cert.thing.clone(),
        certificate_id: cert.id.clone(),
        target: target.to_owned(),
        outcome: String::new(),
        status: None,
        arn: None,
        endpoint: None,
        error_code: None,
        error_message: None,
    };
    match outcome {
        Ok(registration) => {
            row.outcome = "registered".into();
            row.status = Some(registration.status.as_str().to_owned());
            row.arn = Some(registration.certificate_arn);
            row.endpoint = Some(registration.endpoint);
        }
        Err(error) => {
            row.outcome = "failed".into();
            row.error_code = Some(code_text(error.code));
            row.error_message = Some(error.message);
        }
    }
    row
}

fn failed_rows(job: &JobRecord, chunk: &ChunkRecord, error: &TargetError) -> Vec<ResultRow> {
    chunk
        .certificates
        .iter()
        .flat_map(|cert| {
            job.targets
                .iter()
                .map(move |target| row(cert, target, Err(error.clone())))
        })
        .collect()
}

fn skipped_row(cert: &ChunkCertificate, target: &str) -> ResultRow {
    let mut row = row(
        cert,
        target,
        Err(TargetError {
            code: TargetErrorCode::NotAttempted,
            message: "the job was cancelled before this certificate's turn".into(),
        }),
    );
    row.outcome = "skipped".into();
    row
}

fn skipped(job: &JobRecord, chunk: &ChunkRecord) -> Vec<ResultRow> {
    let mut rows = failed_rows(
        job,
        chunk,
        &TargetError {
            code: TargetErrorCode::NotAttempted,
            message: "the job was cancelled before this chunk started".into(),
        },
    );
    for row in &mut rows {
        row.outcome = "skipped".into();
    }
    rows
}

/// A refusal of the whole file, with certificate positions turned into lines.
fn refusal(error: ApiError, lines: &[u64]) -> marshal_shared::api::JobError {
    let line = |i: usize| lines.get(i).copied().unwrap_or(0);
    let code = match error.code {
        ErrorCode::PreflightFailed => "preflight_failed",
        ErrorCode::InvalidThingName => "invalid_thing_name",
        _ => "certificate_invalid",
    };
    let positions = regex_lite::Regex::new(r"certificates\[(\d+)\]")
        .unwrap_or_else(|_| unreachable!("a fixed pattern"));
    let message = positions
        .replace_all(&error.message, |c: &regex_lite::Captures<'_>| {
            c[1].parse::<usize>()
                .map_or_else(|_| c[0].to_owned(), |i| format!("line {}", line(i)))
        })
        .into_owned();
    let findings = error
        .findings
        .into_iter()
        .take(MAX_FINDINGS)
        .map(|mut f| {
            f.message = format!("line {}: {}", line(f.index), f.message);
            f
        })
        .collect();
    marshal_shared::api::JobError {
        code: code.to_owned(),
        message,
        findings,
    }
}
