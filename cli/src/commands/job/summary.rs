//! How a job went, for people and for `--json`, and the exit status: 0 when
//! everything was registered (or nothing failed yet), 1 when anything was
//! not, 2 when its results could not be written as asked.

use std::fmt::Write as _;

use marshal_shared::{
    OffsetDateTime,
    api::{Job, JobState, TargetError, TargetErrorCode},
};
use serde_json::json;
use time::format_description::well_known::Rfc3339;

use super::{
    Sources, duration_words, plural,
    results::{FailedRow, Saved},
    settled, state_words,
};
use crate::{
    commands::{inventory::short_id, online::explain},
    outcome::{Failure, Report},
    table::Table,
};

/// Everything known about a job at the end of a command.
pub(super) struct Seen<'a> {
    pub(super) job: &'a Job,
    /// The results download, when one was made.
    pub(super) saved: Option<&'a Result<Saved, Failure>>,
    /// Where each certificate came from (from `register`).
    pub(super) sources: &'a Sources,
    /// The command that follows the job again.
    pub(super) reattach: &'a str,
    /// Text before the job's (the batch's warnings, from `register`).
    pub(super) preamble: &'a str,
}

/// The report of a job.
pub(super) fn report(seen: &Seen<'_>) -> Report {
    let job = seen.job;
    let mut text = String::from(seen.preamble);
    let _ = writeln!(text, "job {}: {}", job.id, headline(job));
    if job.state == JobState::Failed {
        failed_job(&mut text, job, seen.sources);
    }
    if job.certificates > 0 {
        text.push_str(&targets_table(job));
        let _ = writeln!(text, "{}", pace(job));
    }
    let mut errors = Vec::new();
    let mut status = u8::from(!succeeded(job));
    let mut results_json = serde_json::Value::Null;
    match seen.saved {
        Some(Ok(saved)) => {
            failures(&mut text, saved, seen.sources);
            let _ = writeln!(text, "{}", results_line(saved));
            results_json = json!({
                "path": saved.path,
                "rows": saved.rows,
                "complete": saved.complete,
                "failed": saved.failed_count,
            });
        }
        Some(Err(failure)) => {
            // A file in the way is for the user to move; anything else may
            // pass, and the results stay on the server to fetch again.
            let again = match &*failure.code {
                "file_exists" | "unwritable_output" => String::new(),
                _ => format!(" (`{}` fetches them again)", seen.reattach),
            };
            errors.push(format!(
                "the results were not saved: {}{again}",
                failure.message
            ));
            status = status.max(failure.status);
        }
        None => {}
    }
    if !settled(job) {
        let _ = writeln!(text, "{}", next_steps(job, seen.reattach));
    } else if job.counts.skipped > 0 || job.counts.failed > 0 {
        let _ = writeln!(
            text,
            "to register what was {}, run the same `marshal register ... --job` again: \
             what is registered already is left as it is",
            match (job.counts.skipped > 0, job.counts.failed > 0) {
                (true, true) => "skipped or failed",
                (true, false) => "skipped",
                _ => "failed (once the cause is fixed)",
            }
        );
    }
    let json = json!({
        "job": job,
        "results": results_json,
    });
    Report {
        status,
        errors,
        ..Report::ok(text, json)
    }
}

/// Whether the job, as far as it went, registered everything: finished
/// with no failure, or (under way) no failure so far.
fn succeeded(job: &Job) -> bool {
    match job.state {
        JobState::Finished => job.counts.failed == 0 && job.counts.skipped == 0,
        // A job that never got its file will never register anything.
        JobState::AwaitingUpload | JobState::Cancelled | JobState::Failed | JobState::Other => {
            false
        }
        JobState::Splitting | JobState::Running => job.counts.failed == 0,
    }
}

/// One line: where it is and what came of it.
fn headline(job: &Job) -> String {
    let c = &job.counts;
    let total = c.pending + c.succeeded + c.failed + c.skipped;
    let size = format!(
        "{} certificate{} × {} target{}",
        job.certificates,
        plural(job.certificates),
        job.targets.len(),
        plural(job.targets.len() as u64)
    );
    let took = elapsed(job)
        .map(|s| format!(" in {}", duration_words(s)))
        .unwrap_or_default();
    match job.state {
        JobState::Finished if c.failed == 0 && c.skipped == 0 => {
            format!("finished: all {total} registrations succeeded ({size}){took}")
        }
        JobState::Finished => format!(
            "finished: {} of {total} registrations succeeded, {} failed ({size}){took}",
            c.succeeded, c.failed
        ),
        JobState::Cancelled => {
            let mut line = format!(
                "cancelled: {} of {total} registrations succeeded, {} failed, {} skipped ({size})",
                c.succeeded, c.failed, c.skipped
            );
            if !settled(job) {
                line.push_str("; chunks under way are finishing, the rest will be skipped");
            }
            line
        }
        JobState::Failed => "failed: nothing was registered".to_owned(),
        JobState::Running => {
            let done = c.succeeded + c.failed + c.skipped;
            format!(
                "running: {done} of {total} registrations done ({} succeeded, {} failed; {size})",
                c.succeeded, c.failed
            )
        }
        JobState::AwaitingUpload => "waiting for its file, which was never uploaded and \
             started: nothing will happen (cancel it with --cancel and run `marshal register \
             --job` again)"
            .to_owned(),
        JobState::Splitting => {
            "reading and checking its file; nothing is registered before that is done".to_owned()
        }
        JobState::Other => state_words(job.state).to_owned(),
    }
}

/// A failed job's error and findings.
fn failed_job(text: &mut String, job: &Job, sources: &Sources) {
    let Some(error) = &job.error else {
        return;
    };
    let _ = writeln!(text, "  {}: {}", error.code, error.message);
    // Findings are indexed by certificate; `register` knows their files.
    for f in &error.findings {
        let at = sources
            .by_line
            .get(f.index)
            .map(|source| format!("{source}: "))
            .unwrap_or_default();
        let _ = writeln!(text, "  {at}{} {}: {}", f.severity, f.code, f.message);
    }
    let hint = match error.code.as_str() {
        "too_many_certificates" | "upload_too_large" => "split the batch into several jobs",
        "preflight_failed" | "invalid_thing_name" | "certificate_invalid" => {
            "fix those certificates (or leave them out) and run the job again"
        }
        "upload_missing" => "its file never arrived: run the command again",
        "key_material_refused" => "a job's file holds certificates only, never a key",
        _ => "",
    };
    if !hint.is_empty() {
        let _ = writeln!(text, "  {hint}");
    }
}

/// Each target's counts and pace.
fn targets_table(job: &Job) -> String {
    let mut table = Table::new([
        "TARGET",
        "SUCCEEDED",
        "FAILED",
        "SKIPPED",
        "PENDING",
        "PACE",
    ]);
    for t in &job.per_target {
        let c = &t.counts;
        table.row([
            t.target.clone(),
            c.succeeded.to_string(),
            c.failed.to_string(),
            c.skipped.to_string(),
            c.pending.to_string(),
            format!("up to {}/s", t.budget_per_second),
        ]);
    }
    table.render()
}

/// The job's rate and throttling, in words.
fn pace(job: &Job) -> String {
    let rate = job
        .rate_per_second
        .map(|r| format!("on average {r:.1} registrations a second"))
        .unwrap_or_else(|| "no registration yet".to_owned());
    let throttled = match job.throttled {
        0 => "AWS throttled no call".to_owned(),
        n => format!(
            "AWS throttled {n} call{} (the workers slowed down; throttling never fails a registration)",
            plural(n)
        ),
    };
    format!("{rate}; {throttled}")
}

/// The failed rows of the results, with their files when known.
fn failures(text: &mut String, saved: &Saved, sources: &Sources) {
    if saved.failed_count == 0 {
        return;
    }
    let _ = writeln!(
        text,
        "{} registration{} failed:",
        saved.failed_count,
        plural(saved.failed_count)
    );
    for row in &saved.failed {
        let _ = writeln!(text, "  {}", failure_line(row, sources));
    }
    let hidden = saved.failed_count - saved.failed.len() as u64;
    if hidden > 0 {
        let _ = writeln!(text, "  ... and {hidden} more in the results file");
    }
}

fn failure_line(row: &FailedRow, sources: &Sources) -> String {
    let who = match sources.by_id.get(&row.certificate_id) {
        Some(source) => source.clone(),
        None => format!("{} ({})", row.thing, short_id(&row.certificate_id, false)),
    };
    // The API's codes are words this marshal can explain; others are shown as they are.
    let why = serde_json::from_value::<TargetErrorCode>(json!(row.code)).map_or_else(
        |_| format!("{}: {}", row.code, row.message),
        |code| {
            let error = TargetError {
                code,
                message: row.message.clone(),
            };
            format!("{}: {}", row.code, explain(&error))
        },
    );
    format!("{who} in {}: {why}", row.target)
}

fn results_line(saved: &Saved) -> String {
    let mut line = format!(
        "results: {} ({} row{}, one per certificate and target",
        saved.path.display(),
        saved.rows,
        plural(saved.rows)
    );
    if !saved.complete {
        line.push_str("; partial: the job is not over");
    }
    if saved.unchanged {
        line.push_str("; already there, unchanged");
    }
    line.push(')');
    line
}

fn next_steps(job: &Job, reattach: &str) -> String {
    match job.state {
        JobState::AwaitingUpload => format!("cancel it: {reattach} --cancel"),
        _ => format!("follow it: {reattach}\ncancel it: {reattach} --cancel"),
    }
}

/// Seconds from start (or creation) to end (or now).
fn elapsed(job: &Job) -> Option<u64> {
    let parse = |t: &str| OffsetDateTime::parse(t, &Rfc3339).ok();
    let from = parse(job.started_at.as_deref().unwrap_or(&job.created_at))?;
    let to = parse(job.ended_at.as_deref()?)?;
    u64::try_from((to - from).whole_seconds()).ok()
}

#[cfg(test)]
mod tests;
