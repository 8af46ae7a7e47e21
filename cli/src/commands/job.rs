//! `marshal job`: a factory job on the server — shown, followed to its end
//! with progress, cancelled, and its results CSV downloaded.
//! `marshal register --job` creates one (`submit`) and ends the same way.
//!
//! Following only reads: stopping it (Ctrl-C, a closed terminal, a lost
//! connection) leaves the job running, and `marshal job ID` picks it up.

mod follow;
mod results;
mod submit;
mod summary;

use std::{collections::HashMap, path::PathBuf};

use marshal_shared::api::{Job, JobState};

pub(crate) use submit::Submission;

use crate::{
    api::{ApiClient, JobId},
    cli::{ApiArgs, JobArgs},
    outcome::{Failure, Report},
};

/// `marshal job`.
pub(crate) fn run(args: &JobArgs) -> Result<Report, Failure> {
    let id = JobId::parse(&args.id)?;
    let client = ApiClient::new(&args.api)?;
    let mut notes = Vec::new();
    let job = if args.cancel {
        match client.cancel_job(&id) {
            Ok(job) => job,
            // Finished or failed already: nothing to cancel, which is no
            // reason not to show it.
            Err(failure) if failure.code == "job_conflict" => {
                let job = client.job(&id).map_err(|f| not_found_hint(f, &id))?;
                notes.push(format!(
                    "nothing to cancel: the job is {} already",
                    state_words(job.state)
                ));
                job
            }
            Err(failure) => return Err(not_found_hint(failure, &id)),
        }
    } else {
        client.job(&id).map_err(|f| not_found_hint(f, &id))?
    };
    let ending = Ending {
        client: &client,
        id: &id,
        follow: !args.no_wait,
        reattach: reattach(&args.api, &id),
        results: args.results.clone(),
        replace: args.force,
        sources: Sources::default(),
    };
    if ending.follow && !settled(&job) && job.state != JobState::AwaitingUpload {
        eprintln!(
            "following job {id} until it ends (Ctrl-C stops following; the job keeps running)"
        );
    }
    let mut report = ending.conclude(job, "")?;
    report.notes.extend(notes);
    Ok(report)
}

/// How a job is seen to its end, for `marshal job` and `register --job`.
struct Ending<'a> {
    client: &'a ApiClient,
    id: &'a JobId,
    /// Follow it until it has ended (else show it as it is).
    follow: bool,
    /// The command that follows it again.
    reattach: String,
    /// Where the results go; `None`: the default name, once it has ended.
    results: Option<PathBuf>,
    /// Replace a results file with other contents (register's own output,
    /// or `--force`).
    replace: bool,
    /// Where each certificate came from (from `register`).
    sources: Sources,
}

/// Where a job's certificates came from, when this run made the job.
#[derive(Debug, Default)]
struct Sources {
    /// By position in the job's file (the API's findings are indexed so).
    by_line: Vec<String>,
    /// By certificate ID (the results' rows name them so).
    by_id: HashMap<String, String>,
}

impl Ending<'_> {
    /// Follows the job if asked, downloads its results, and says how it went.
    fn conclude(&self, mut job: Job, preamble: &str) -> Result<Report, Failure> {
        if self.follow && !settled(&job) && job.state != JobState::AwaitingUpload {
            job = follow::follow(self.client, self.id, job, &self.reattach)?;
        }
        let path = match &self.results {
            Some(path) => Some(path.clone()),
            None if settled(&job) && job.state != JobState::Failed => Some(PathBuf::from(format!(
                "marshal-job-{}-results.csv",
                self.id
            ))),
            None => None,
        };
        let saved = path.map(|path| results::save(self.client, self.id, &path, self.replace));
        Ok(summary::report(&summary::Seen {
            job: &job,
            saved: saved.as_ref(),
            sources: &self.sources,
            reattach: &self.reattach,
            preamble,
        }))
    }
}

/// Whether nothing will change any more: finished or failed, or cancelled
/// with every chunk settled (the worker marks the rest skipped).
pub(crate) fn settled(job: &Job) -> bool {
    match job.state {
        JobState::Finished | JobState::Failed => true,
        JobState::Cancelled => job.chunks_done >= job.chunks,
        _ => false,
    }
}

/// A state in words.
fn state_words(state: JobState) -> &'static str {
    match state {
        JobState::AwaitingUpload => "waiting for its file",
        JobState::Splitting => "reading and checking its file",
        JobState::Running => "running",
        JobState::Finished => "finished",
        JobState::Cancelled => "cancelled",
        JobState::Failed => "failed",
        JobState::Other => "in a state this marshal does not know",
    }
}

/// The command that follows job `id` again: `--api` only when it did not
/// come from `MARSHAL_API`, `--token-stdin` when the token came that way.
fn reattach(api: &ApiArgs, id: &JobId) -> String {
    let mut command = format!("marshal job {id}");
    if std::env::var("MARSHAL_API").ok().as_deref() != Some(api.api.as_str()) {
        command.push_str(&format!(" --api {}", api.api));
    }
    if api.token_stdin {
        command.push_str(" --token-stdin");
    }
    command
}

/// `job_not_found` with what it usually means.
fn not_found_hint(failure: Failure, id: &JobId) -> Failure {
    if failure.code == "job_not_found" {
        failure.with_hint(&format!(
            "no job {id} of yours here: a job is seen only by whoever created it, through \
             the API that created it"
        ))
    } else {
        failure
    }
}

fn plural(n: u64) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// Seconds in words: `45 s`, `3 min 5 s`, `2 h 10 min`.
fn duration_words(seconds: u64) -> String {
    match seconds {
        0 => "under a second".to_owned(),
        1..60 => format!("{seconds} s"),
        60..3600 => match seconds % 60 {
            0 => format!("{} min", seconds / 60),
            s => format!("{} min {s} s", seconds / 60),
        },
        _ => match (seconds % 3600) / 60 {
            0 => format!("{} h", seconds / 3600),
            m => format!("{} h {m} min", seconds / 3600),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_as_words() {
        for (seconds, words) in [
            (0, "under a second"),
            (1, "1 s"),
            (59, "59 s"),
            (60, "1 min"),
            (185, "3 min 5 s"),
            (3600, "1 h"),
            (7830, "2 h 10 min"),
        ] {
            assert_eq!(duration_words(seconds), words);
        }
    }

    #[test]
    fn the_reattach_command_names_what_the_environment_does_not() {
        let id = JobId::parse("0123456789abcdef0123456789abcdef").unwrap();
        let api = ApiArgs {
            api: "http://127.0.0.1:1".to_owned(),
            token_stdin: true,
            api_timeout: 5,
        };
        // MARSHAL_API is not set to this odd URL in any test environment.
        assert_eq!(
            reattach(&api, &id),
            "marshal job 0123456789abcdef0123456789abcdef --api http://127.0.0.1:1 --token-stdin"
        );
    }
}
