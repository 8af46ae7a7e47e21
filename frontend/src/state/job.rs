//! A finished batch registered as a factory job (`POST /v1/jobs`): what is
//! sent, and the job's progress as the page last read it. Pure, so it is
//! tested natively; the component does the calls.

use std::rc::Rc;

use marshal_shared::api::{
    CertificateInput, CreateJobRequest, GetConfigResponse, Job, JobState, UploadFormat,
};

use super::{ApiFailure, RegisterForm};
use crate::i18n::jobs::JobText;

/// The batch's job, from submission to its end.
#[derive(Debug, Clone, Default, PartialEq)]
pub enum JobWatch {
    /// Not submitted.
    #[default]
    Idle,
    /// On its way: created, its file uploaded, started.
    Submitting(JobStep),
    /// As last read; read again until it ends.
    Watching {
        job: Rc<Job>,
        /// Cancel was pressed and not yet answered.
        cancelling: bool,
        /// The last read failed (the job goes on; reading is retried).
        stale: Option<ApiFailure>,
    },
    /// It could not be submitted. `job` is set when it was created but
    /// not started (its id, to look it up with `marshal job`).
    Failed {
        failure: ApiFailure,
        job: Option<String>,
    },
}

/// Where a submission is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobStep {
    Creating,
    Uploading,
    Starting,
}

/// Changes to [`JobWatch`], each for the batch `run` it belongs to (answers
/// for an older batch are dropped).
#[derive(Debug, Clone)]
pub enum JobAction {
    Step(JobStep),
    /// The job as the server gave it.
    Read(Rc<Job>),
    /// A call failed; `job` is the id when one was created.
    Failed {
        failure: ApiFailure,
        job: Option<String>,
    },
    Cancelling,
}

impl JobWatch {
    /// Applies `action`.
    pub fn apply(&mut self, action: JobAction) {
        *self = match (std::mem::take(self), action) {
            (_, JobAction::Step(step)) => JobWatch::Submitting(step),
            (JobWatch::Watching { cancelling, .. }, JobAction::Read(job)) => JobWatch::Watching {
                cancelling: cancelling && !job.state.is_terminal(),
                job,
                stale: None,
            },
            (_, JobAction::Read(job)) => JobWatch::Watching {
                job,
                cancelling: false,
                stale: None,
            },
            // A failed read of a job being watched: it runs on regardless.
            (JobWatch::Watching { job, .. }, JobAction::Failed { failure, .. }) => {
                JobWatch::Watching {
                    job,
                    cancelling: false,
                    stale: Some(failure),
                }
            }
            (_, JobAction::Failed { failure, job }) => JobWatch::Failed { failure, job },
            (JobWatch::Watching { job, stale, .. }, JobAction::Cancelling) => JobWatch::Watching {
                job,
                cancelling: true,
                stale,
            },
            (other, JobAction::Cancelling) => other,
        };
    }

    /// Whether a submission or a watch is under way.
    pub fn busy(&self) -> bool {
        match self {
            JobWatch::Submitting(_) => true,
            JobWatch::Watching { job, .. } => !job.state.is_terminal(),
            JobWatch::Idle | JobWatch::Failed { .. } => false,
        }
    }
}

/// What a job of the batch is sent as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobPlan {
    /// In the request body.
    Inline(CreateJobRequest),
    /// The request, then the file PUT where the answer says, then start.
    Upload(CreateJobRequest),
}

/// Bodies up to this share of the API's `maxBodyBytes` carry their
/// certificates; larger batches go through an upload. The rest leaves room
/// for the request's other fields and JSON escaping.
const INLINE_SHARE: f64 = 0.8;

/// The job for a batch whose certificates are `job_file` (NDJSON, as
/// [`crate::batch::BatchZip::job_file`] writes it), into the targets and
/// with the policy chosen in the Register section; or why there is none.
pub fn plan(
    register: &RegisterForm,
    config: &GetConfigResponse,
    job_file: &str,
) -> Result<JobPlan, JobText> {
    if register.targets.is_empty() {
        return Err(JobText::ChooseTargets);
    }
    if register.targets.len() > config.limits.max_targets_per_request {
        return Err(JobText::TooManyTargets);
    }
    let Some(policy) = register.policy.clone() else {
        return Err(JobText::ChoosePolicy);
    };
    if job_file.trim().is_empty() {
        return Err(JobText::NothingToRegister);
    }
    let mut request = CreateJobRequest {
        targets: register.targets.iter().cloned().collect(),
        policy,
        activate: true,
        owner_group: register.owner_group.clone(),
        certificates: None,
        upload: None,
    };
    if (job_file.len() as f64) <= config.limits.max_body_bytes as f64 * INLINE_SHARE {
        let certificates = job_file
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(serde_json::from_str::<CertificateInput>)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|_| JobText::NothingToRegister)?;
        request.certificates = Some(certificates);
        Ok(JobPlan::Inline(request))
    } else {
        request.upload = Some(UploadFormat::Ndjson);
        Ok(JobPlan::Upload(request))
    }
}

/// Pairs (certificate × target) done, and in all.
pub fn progress(job: &Job) -> (u64, u64) {
    let c = job.counts;
    let total = c.pending + c.succeeded + c.failed + c.skipped;
    (c.succeeded + c.failed + c.skipped, total)
}

/// The job's state in words.
pub fn state_text(state: JobState) -> JobText {
    match state {
        JobState::AwaitingUpload => JobText::AwaitingUpload,
        JobState::Splitting => JobText::Splitting,
        JobState::Running => JobText::Running,
        JobState::Finished => JobText::Finished,
        JobState::Cancelled => JobText::Cancelled,
        JobState::Failed => JobText::Failed,
        JobState::Other => JobText::Running,
    }
}

/// "1 min 05 s" / "42 s": a job's time left, in integers (no float
/// formatting in the page's WebAssembly).
pub fn eta_text(seconds: u64) -> String {
    match seconds {
        0..60 => format!("{seconds} s"),
        60..3600 => format!("{} min {:02} s", seconds / 60, seconds % 60),
        _ => format!("{} h {:02} min", seconds / 3600, (seconds % 3600) / 60),
    }
}

#[cfg(test)]
mod tests;
