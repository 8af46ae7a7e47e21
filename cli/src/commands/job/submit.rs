//! `marshal register --job`: a preflighted batch made into one job's file
//! (NDJSON, `Item::input()` per line: certificates and thing names, never
//! a key), uploaded where the API says, started, and seen to its end.
//! Whatever goes wrong before the job starts, it is cancelled, so no job is
//! left waiting for a file.

use std::{collections::HashMap, path::PathBuf};

use marshal_shared::api::{CreateJobRequest, UploadFormat};

use super::{Ending, Sources, plural, reattach};
use crate::{
    api::{ApiClient, JobId},
    batch::Item,
    cli::ApiArgs,
    outcome::{Failure, Report},
};

/// A batch to register as a job.
pub(crate) struct Submission<'a> {
    pub(crate) api: &'a ApiArgs,
    pub(crate) client: &'a ApiClient,
    /// Preflighted; only the sendable ones go into the file.
    pub(crate) items: &'a [Item],
    /// The batch's problems in words, shown before the job's report.
    pub(crate) problems: &'a str,
    pub(crate) targets: Vec<String>,
    pub(crate) policy: String,
    pub(crate) activate: bool,
    pub(crate) owner_group: Option<String>,
    /// `--results`; default: the job's own name.
    pub(crate) results: Option<PathBuf>,
    /// Follow the job to its end (else return once it is started).
    pub(crate) follow: bool,
}

impl Submission<'_> {
    /// Creates, uploads and starts the job, then follows it if asked.
    pub(crate) fn run(self) -> Result<Report, Failure> {
        let sendable: Vec<&Item> = self.items.iter().filter(|i| i.sendable()).collect();
        let (file, sources) = job_file(&sendable)?;
        let created = self
            .client
            .create_job(&CreateJobRequest {
                targets: self.targets.clone(),
                policy: self.policy.clone(),
                activate: self.activate,
                owner_group: self.owner_group.clone(),
                certificates: None,
                upload: Some(UploadFormat::Ndjson),
            })
            .map_err(refusal_hint)?;
        let id = JobId::parse(&created.job.id).map_err(|_| {
            Failure::check(
                "unexpected_response",
                "the API answered POST /v1/jobs with no usable job id; is it of a compatible version?",
            )
        })?;
        let reattach = reattach(self.api, &id);
        // First, on its own line: whatever happens next, the id is not lost.
        eprintln!("job {id}");
        eprintln!(
            "  created for {} certificate{} × {} target{} ({}), policy {}",
            sendable.len(),
            plural(sendable.len() as u64),
            self.targets.len(),
            plural(self.targets.len() as u64),
            self.targets.join(", "),
            self.policy
        );
        let abandon = |failure: Failure, what: &str| -> Failure {
            // Best effort: a job that never starts registers nothing anyway.
            let cancelled = self.client.cancel_job(&id).is_ok();
            let fate = if cancelled {
                format!("job {id} was cancelled")
            } else {
                format!("job {id} was left waiting for its file; it will never start")
            };
            Failure {
                message: format!(
                    "{}\n{what}: {fate} and nothing was registered; running the same command \
                     again is safe",
                    failure.message
                ),
                ..failure
            }
        };
        let Some(upload) = created.upload else {
            let failure = Failure::check(
                "unexpected_response",
                "the API gave no upload URL for the job's file; is it of a compatible version?",
            );
            return Err(abandon(failure, "no upload"));
        };
        if file.len() as u64 > upload.max_bytes {
            let failure = Failure::input(
                "batch_too_large",
                format!(
                    "the batch's job file is {} bytes; this API takes at most {} per job: \
                     split the batch into several jobs",
                    file.len(),
                    upload.max_bytes
                ),
            );
            return Err(abandon(failure, "not uploaded"));
        }
        eprintln!(
            "  uploading its file ({}, certificates only)",
            size_words(file.len())
        );
        self.client
            .upload(&upload, &file)
            .map_err(|f| abandon(f, "the upload failed"))?;
        let job = self
            .client
            .start_job(&id)
            .map_err(|f| abandon(f, "the job could not be started"))?;
        if self.follow {
            eprintln!("  follow it again any time: {reattach}");
            eprintln!("  Ctrl-C stops following here; the job keeps running on the server");
        }
        let ending = Ending {
            client: self.client,
            id: &id,
            follow: self.follow,
            reattach,
            results: self.results,
            // The results are this run's output, as for `register --batch`.
            replace: true,
            sources,
        };
        let preamble = self.problems.to_owned() + &left_out(self.items);
        let mut report = ending.conclude(job, &preamble)?;
        report.json["certificates"] = self.items.iter().map(Item::to_json).collect();
        Ok(report)
    }
}

/// The job's file, one NDJSON line per certificate, and where each came from.
fn job_file(sendable: &[&Item]) -> Result<(Vec<u8>, Sources), Failure> {
    let mut file = Vec::new();
    let mut sources = Sources {
        by_line: Vec::with_capacity(sendable.len()),
        by_id: HashMap::with_capacity(sendable.len()),
    };
    for item in sendable {
        let (Some(input), Some(id)) = (item.input(), item.id()) else {
            continue;
        };
        serde_json::to_writer(&mut file, &input).map_err(|e| {
            Failure::check(
                "internal_error",
                format!("cannot write the job's file: {e}"),
            )
        })?;
        file.push(b'\n');
        sources.by_line.push(item.source.clone());
        sources.by_id.insert(id, item.source.clone());
    }
    Ok((file, sources))
}

/// Certificates `--skip-invalid` left out of the job, if any.
fn left_out(items: &[Item]) -> String {
    match items.iter().filter(|i| !i.sendable()).count() {
        0 => String::new(),
        n => format!("{n} certificate(s) left out of the job (--skip-invalid)\n"),
    }
}

/// Refusals of `POST /v1/jobs` that have a way around.
fn refusal_hint(failure: Failure) -> Failure {
    match &*failure.code {
        "jobs_unavailable" => failure.with_hint(
            "this API runs no jobs: register without --job, and the batch goes out in requests",
        ),
        "too_many_jobs" => failure.with_hint(
            "wait for one of your jobs to end (`marshal job ID` follows one), or cancel one you no longer need (`marshal job ID --cancel`)",
        ),
        "too_many_targets" => failure.with_hint(
            "a job takes as many targets as one request: run one job per group of targets",
        ),
        _ => failure,
    }
}

/// Bytes in words: `812 bytes`, `41.2 KiB`, `3.0 MiB`.
fn size_words(bytes: usize) -> String {
    match bytes {
        0..1024 => format!("{bytes} bytes"),
        1024..1_048_576 => format!("{:.1} KiB", bytes as f64 / 1024.0),
        _ => format!("{:.1} MiB", bytes as f64 / 1_048_576.0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_as_words() {
        assert_eq!(size_words(812), "812 bytes");
        assert_eq!(size_words(42_188), "41.2 KiB");
        assert_eq!(size_words(3 * 1_048_576), "3.0 MiB");
    }
}
