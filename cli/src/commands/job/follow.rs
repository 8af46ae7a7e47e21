//! Following a job: `GET /v1/jobs/{id}` every few seconds until it has
//! ended, drawn with `progress.rs` from its counts. A lost answer or two is
//! waited out; whatever stops the following, the job goes on.

use std::time::{Duration, Instant};

use marshal_shared::api::{Job, JobState};

use super::{duration_words, plural, settled, state_words};
use crate::{
    api::{ApiClient, JobId},
    outcome::Failure,
    progress::Progress,
};

/// How often the job is asked for.
const POLL: Duration = Duration::from_secs(2);
/// Failed polls in a row waited out before giving up.
const RETRIES: u32 = 5;
/// With no change for this long, say what the job may be waiting for.
const STALL: Duration = Duration::from_secs(60);

/// Follows `job` until it has settled; returns it as it ended.
pub(super) fn follow(
    client: &ApiClient,
    id: &JobId,
    mut job: Job,
    reattach: &str,
) -> Result<Job, Failure> {
    let mut view = View::default();
    let mut failures = 0;
    loop {
        view.show(&job);
        if settled(&job) || job.state == JobState::AwaitingUpload {
            break;
        }
        std::thread::sleep(POLL * (1 << failures.min(4)));
        match client.job(id) {
            Ok(next) => {
                failures = 0;
                job = next;
            }
            Err(failure) if transient(&failure) && failures < RETRIES => {
                failures += 1;
                view.note(&format!(
                    "note: {} (trying again; the job goes on meanwhile)",
                    failure.message
                ));
            }
            Err(failure) => {
                view.finish();
                return Err(Failure {
                    message: format!(
                        "{}\nstopped following job {id}; the job goes on: `{reattach}` \
                         follows it again",
                        failure.message
                    ),
                    ..failure
                });
            }
        }
    }
    view.finish();
    Ok(job)
}

/// Failures worth waiting out: the API or its gateway failing for a moment.
fn transient(failure: &Failure) -> bool {
    matches!(
        &*failure.code,
        "api_unreachable" | "internal_error" | "api_error"
    )
}

/// What has been drawn so far.
#[derive(Default)]
struct View {
    progress: Option<Progress>,
    /// The last state announced in words.
    state: Option<JobState>,
    /// Pairs done and state when they last changed.
    last: Option<(u64, JobState, Instant)>,
    stall_told: bool,
}

impl View {
    fn show(&mut self, job: &Job) {
        let done = job.counts.succeeded + job.counts.failed + job.counts.skipped;
        let total = job.certificates * job.targets.len() as u64;
        if self.state != Some(job.state) {
            self.state = Some(job.state);
            match job.state {
                JobState::Splitting => self.note(
                    "the server is checking the job's file: no key material, every certificate \
                     through preflight",
                ),
                JobState::Running if total > 0 => self.note(&format!(
                    "registering {} certificate{} in {} target{}: {total} registrations",
                    job.certificates,
                    plural(job.certificates),
                    job.targets.len(),
                    plural(job.targets.len() as u64),
                )),
                JobState::Cancelled if !settled(job) => {
                    self.note("the job is cancelled: chunks under way finish, the rest is skipped")
                }
                _ => {}
            }
        }
        if total > 0 {
            let progress = self
                .progress
                .get_or_insert_with(|| Progress::measured(total, "registering", job.targets.len()));
            let details: Vec<String> = target_lines(job);
            progress.set(done, &summary(job), &details);
        }
        match self.last {
            Some((d, s, _)) if d == done && s == job.state => {}
            _ => self.last = Some((done, job.state, Instant::now())),
        }
        if let Some((_, _, since)) = self.last
            && !self.stall_told
            && since.elapsed() >= STALL
            && !settled(job)
        {
            self.stall_told = true;
            self.note(&format!(
                "note: no progress for {} while the job is {}: its workers may be stopped \
                 or busy with other jobs (the job goes on when they come back)",
                duration_words(STALL.as_secs()),
                state_words(job.state)
            ));
        }
    }

    fn note(&self, line: &str) {
        match &self.progress {
            Some(progress) => progress.note(line),
            None => eprintln!("{line}"),
        }
    }

    fn finish(&self) {
        if let Some(progress) = &self.progress {
            progress.finish();
        }
    }
}

/// What follows the count: pace, time left, throttling.
fn summary(job: &Job) -> String {
    let mut parts = Vec::new();
    if job.counts.failed > 0 {
        parts.push(format!("{} failed", job.counts.failed));
    }
    if job.counts.skipped > 0 {
        parts.push(format!("{} skipped", job.counts.skipped));
    }
    if let Some(rate) = job.rate_per_second {
        parts.push(format!("{rate:.1}/s"));
    }
    if let Some(eta) = job.eta_seconds.filter(|_| !job.state.is_terminal()) {
        parts.push(format!("about {} left", duration_words(eta)));
    }
    parts.push(format!("throttled by AWS: {}", job.throttled));
    parts.join(" · ")
}

/// One line per target: its counts and pace.
fn target_lines(job: &Job) -> Vec<String> {
    let width = job
        .per_target
        .iter()
        .map(|t| t.target.chars().count())
        .max()
        .unwrap_or(0);
    job.per_target
        .iter()
        .map(|t| {
            let c = &t.counts;
            let done = c.succeeded + c.failed + c.skipped;
            let mut line = format!(
                "{:width$}  {done}/{} done ({} succeeded",
                t.target,
                done + c.pending,
                c.succeeded
            );
            if c.failed > 0 {
                line.push_str(&format!(", {} failed", c.failed));
            }
            if c.skipped > 0 {
                line.push_str(&format!(", {} skipped", c.skipped));
            }
            line.push_str(&format!("), up to {}/s", t.budget_per_second));
            line
        })
        .collect()
}
