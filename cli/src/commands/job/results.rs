//! A job's results CSV: downloaded from the URL the API hands out, checked
//! (its header, its rows), written whole or not at all, and read for the
//! failures to show.

use std::path::{Path, PathBuf};

use marshal_shared::api::JOB_RESULTS_HEADER;

use crate::{
    api::{ApiClient, JobId},
    files::{self, Output},
    outcome::Failure,
};

/// The largest results file read: about five million rows.
const MAX_RESULTS_BYTES: u64 = 2 * 1024 * 1024 * 1024;
/// Failed rows kept to show; the rest are only counted.
pub(super) const FAILURES_SHOWN: usize = 20;

/// One failed row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct FailedRow {
    pub(super) thing: String,
    pub(super) certificate_id: String,
    pub(super) target: String,
    pub(super) code: String,
    pub(super) message: String,
}

/// What became of the results.
#[derive(Debug)]
pub(super) struct Saved {
    pub(super) path: PathBuf,
    /// Rows in the file.
    pub(super) rows: u64,
    /// Whether the job was over, so the file is final.
    pub(super) complete: bool,
    /// The first failed rows, and how many there are in all.
    pub(super) failed: Vec<FailedRow>,
    pub(super) failed_count: u64,
    /// The file was there with these very contents.
    pub(super) unchanged: bool,
}

/// Downloads job `id`'s results to `path`. A file already there with other
/// contents is replaced only when `replace`.
pub(super) fn save(
    client: &ApiClient,
    id: &JobId,
    path: &Path,
    replace: bool,
) -> Result<Saved, Failure> {
    let answer = client.job_results(id)?;
    let bytes = client.download(&answer.url, MAX_RESULTS_BYTES)?;
    let (rows, failed, failed_count) = read(&bytes)?;
    let unchanged = std::fs::read(path).is_ok_and(|old| old == bytes);
    if !unchanged {
        let output = Output {
            path: path.to_path_buf(),
            contents: bytes.into(),
            secret: false,
        };
        files::write_all(&[output], replace).map_err(|f| {
            if f.code == "file_exists" {
                Failure {
                    message: format!(
                        "{} already exists with other contents (--force replaces it, \
                         --results PATH writes elsewhere)",
                        path.display()
                    ),
                    ..f
                }
            } else {
                f
            }
        })?;
    }
    Ok(Saved {
        path: path.to_path_buf(),
        rows,
        complete: answer.complete,
        failed,
        failed_count,
        unchanged,
    })
}

/// Rows, the first failed ones and how many failed.
fn read(bytes: &[u8]) -> Result<(u64, Vec<FailedRow>, u64), Failure> {
    let unexpected = |why: String| {
        Failure::check(
            "unexpected_response",
            format!("the job's results file {why}; is the API of a compatible version?"),
        )
    };
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(bytes);
    let header = reader
        .headers()
        .map_err(|_| unexpected("is not CSV".to_owned()))?
        .iter()
        .collect::<Vec<_>>()
        .join(",");
    if header != JOB_RESULTS_HEADER {
        return Err(unexpected(format!(
            "has the columns {header:?}, not {JOB_RESULTS_HEADER:?}"
        )));
    }
    let column = |name: &str| JOB_RESULTS_HEADER.split(',').position(|c| c == name);
    let at = |name| column(name).unwrap_or(usize::MAX);
    let (thing, id, target, outcome, code, message) = (
        at("thing_name"),
        at("certificate_id"),
        at("target"),
        at("outcome"),
        at("error_code"),
        at("error_message"),
    );
    let mut rows = 0;
    let mut failed = Vec::new();
    let mut failed_count = 0;
    for record in reader.records() {
        let record = record.map_err(|e| unexpected(format!("cannot be read ({e})")))?;
        rows += 1;
        let cell = |i: usize| record.get(i).unwrap_or_default().to_owned();
        if record.get(outcome) == Some("failed") {
            failed_count += 1;
            if failed.len() < FAILURES_SHOWN {
                failed.push(FailedRow {
                    thing: cell(thing),
                    certificate_id: cell(id),
                    target: cell(target),
                    code: cell(code),
                    message: cell(message),
                });
            }
        }
    }
    Ok((rows, failed, failed_count))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failed_rows_are_picked_out_and_counted() {
        let csv = format!(
            "{JOB_RESULTS_HEADER}\n\
             0,dev-0,aa,a-tokyo,registered,ACTIVE,arn:x,ep,,\n\
             0,dev-0,aa,b-virginia,failed,,,,thing_in_use,\"the thing is someone else's, left as it is\"\n\
             1,dev-1,bb,a-tokyo,skipped,,,,,\n"
        );
        let (rows, failed, count) = read(csv.as_bytes()).unwrap();
        assert_eq!((rows, count), (3, 1));
        assert_eq!(
            failed,
            [FailedRow {
                thing: "dev-0".into(),
                certificate_id: "aa".into(),
                target: "b-virginia".into(),
                code: "thing_in_use".into(),
                message: "the thing is someone else's, left as it is".into(),
            }]
        );
    }

    #[test]
    fn a_file_that_is_not_the_results_is_refused() {
        let failure = read(b"<Error><Code>NoSuchKey</Code></Error>").unwrap_err();
        assert_eq!(failure.code, "unexpected_response");
        assert!(failure.message.contains("columns"), "{}", failure.message);
    }
}
