//! What a job's report says and the exit status it gives, per state.

use std::{collections::HashMap, path::PathBuf};

use serde_json::{Value, json};

use super::*;

const ID: &str = "0123456789abcdef0123456789abcdef";
const REATTACH: &str = "marshal job 0123456789abcdef0123456789abcdef";

/// A job of 3 certificates in two targets, with `counts` per target as
/// (succeeded, failed, skipped), and `extra` fields over the defaults.
fn job(state: &str, counts: [(u64, u64, u64); 2], extra: Value) -> Job {
    let targets = ["a-tokyo", "b-virginia"];
    let per_target: Vec<Value> = targets
        .iter()
        .zip(counts)
        .map(|(t, (s, f, k))| {
            json!({"target": t, "budgetPerSecond": 10.0,
                   "counts": {"pending": 3 - s - f - k, "succeeded": s, "failed": f, "skipped": k}})
        })
        .collect();
    let sum = |i: usize| -> u64 { counts.iter().map(|c| [c.0, c.1, c.2][i]).sum::<u64>() };
    let mut job = json!({
        "id": ID, "state": state, "createdBy": "alice",
        "createdAt": "2026-05-01T10:00:00Z", "startedAt": "2026-05-01T10:00:01Z",
        "targets": targets, "policy": "MarshalDevice", "activate": true,
        "certificates": 3, "chunks": 1, "chunksDone": 1,
        "counts": {"pending": 6 - sum(0) - sum(1) - sum(2), "succeeded": sum(0), "failed": sum(1), "skipped": sum(2)},
        "perTarget": per_target, "throttled": 0,
    });
    if let (Some(job), Some(extra)) = (job.as_object_mut(), extra.as_object()) {
        job.extend(extra.clone());
    }
    serde_json::from_value(job).unwrap()
}

fn seen<'a>(
    job: &'a Job,
    saved: Option<&'a Result<Saved, Failure>>,
    sources: &'a Sources,
) -> Seen<'a> {
    Seen {
        job,
        saved,
        sources,
        reattach: REATTACH,
        preamble: "",
    }
}

fn saved(failed: Vec<FailedRow>) -> Saved {
    Saved {
        path: PathBuf::from("results.csv"),
        rows: 6,
        complete: true,
        failed_count: failed.len() as u64,
        failed,
        unchanged: false,
    }
}

#[test]
fn a_finished_job_with_everything_registered_exits_0() {
    let job = job(
        "finished",
        [(3, 0, 0), (3, 0, 0)],
        json!({"endedAt": "2026-05-01T10:00:06Z", "ratePerSecond": 1.2}),
    );
    let saved = Ok(saved(Vec::new()));
    let report = report(&seen(&job, Some(&saved), &Sources::default()));
    assert_eq!(report.status, 0, "{}", report.text);
    assert_eq!(
        report.text,
        format!(
            "job {ID}: finished: all 6 registrations succeeded (3 certificates × 2 targets) in 5 s\n\
             TARGET      SUCCEEDED  FAILED  SKIPPED  PENDING  PACE\n\
             a-tokyo     3          0       0        0        up to 10/s\n\
             b-virginia  3          0       0        0        up to 10/s\n\
             on average 1.2 registrations a second; AWS throttled no call\n\
             results: results.csv (6 rows, one per certificate and target)\n"
        )
    );
    assert_eq!(report.json["job"]["id"], ID);
    assert_eq!(report.json["results"]["rows"], 6);
}

#[test]
fn failed_registrations_are_listed_by_their_file_and_exit_1() {
    let job = job("finished", [(3, 0, 0), (2, 1, 0)], json!({"throttled": 4}));
    let id = "ab".repeat(32);
    let row = FailedRow {
        thing: "dev-2".into(),
        certificate_id: id.clone(),
        target: "b-virginia".into(),
        code: "thing_in_use".into(),
        message: "dev-2 has another certificate".into(),
    };
    let saved = Ok(saved(vec![
        row.clone(),
        FailedRow {
            code: "some_new_code".into(),
            certificate_id: "cd".repeat(32),
            ..row
        },
    ]));
    let sources = Sources {
        by_line: Vec::new(),
        by_id: HashMap::from([(id, "factory/dev-2.pem".to_owned())]),
    };
    let report = report(&seen(&job, Some(&saved), &sources));
    assert_eq!(report.status, 1, "{}", report.text);
    for line in [
        "finished: 5 of 6 registrations succeeded, 1 failed",
        "AWS throttled 4 calls (the workers slowed down; throttling never fails a registration)",
        "2 registrations failed:",
        "  factory/dev-2.pem in b-virginia: thing_in_use: the thing belongs to someone else",
        "  dev-2 (cdcdcdcdcdcd…) in b-virginia: some_new_code: dev-2 has another certificate",
    ] {
        assert!(
            report.text.contains(line),
            "{line:?} missing:\n{}",
            report.text
        );
    }
}

#[test]
fn a_cancelled_job_says_what_was_skipped_and_exits_1() {
    let job = job("cancelled", [(1, 0, 2), (1, 0, 2)], json!({}));
    let report = report(&seen(&job, None, &Sources::default()));
    assert_eq!(report.status, 1);
    assert!(
        report
            .text
            .contains("cancelled: 2 of 6 registrations succeeded, 0 failed, 4 skipped"),
        "{}",
        report.text
    );
    assert!(!report.text.contains("follow it"), "{}", report.text);
    assert!(
        report.text.ends_with(
            "to register what was skipped, run the same `marshal register ... --job` again: \
             what is registered already is left as it is\n"
        ),
        "{}",
        report.text
    );
}

#[test]
fn a_failed_job_shows_its_error_and_findings_by_file() {
    let job = job(
        "failed",
        [(0, 0, 0), (0, 0, 0)],
        json!({"error": {"code": "preflight_failed", "message": "1 certificate refused",
               "findings": [{"index": 1, "code": "expired", "severity": "error",
                             "message": "line 2: the certificate expired"}]}}),
    );
    let sources = Sources {
        by_line: vec!["a.pem".into(), "b.pem".into()],
        by_id: HashMap::new(),
    };
    let report = report(&seen(&job, None, &sources));
    assert_eq!(report.status, 1);
    assert!(
        report.text.starts_with(&format!(
            "job {ID}: failed: nothing was registered\n  preflight_failed: 1 certificate refused\n  \
             b.pem: error expired: line 2: the certificate expired\n  \
             fix those certificates (or leave them out) and run the job again\n"
        )),
        "{}",
        report.text
    );
}

#[test]
fn a_running_job_shown_without_waiting_says_how_to_go_on() {
    let job = job("running", [(2, 0, 0), (1, 0, 0)], json!({"etaSeconds": 75}));
    let report = report(&seen(&job, None, &Sources::default()));
    assert_eq!(report.status, 0, "nothing failed so far");
    assert!(
        report.text.contains(
            "running: 3 of 6 registrations done (3 succeeded, 0 failed; 3 certificates × 2 targets)"
        ),
        "{}",
        report.text
    );
    assert!(
        report.text.ends_with(&format!(
            "follow it: {REATTACH}\ncancel it: {REATTACH} --cancel\n"
        )),
        "{}",
        report.text
    );
}

#[test]
fn results_that_cannot_be_written_are_an_error_but_the_job_is_still_shown() {
    let job = job("finished", [(3, 0, 0), (3, 0, 0)], json!({}));
    let refused: Result<Saved, Failure> =
        Err(Failure::input("file_exists", "results.csv already exists"));
    let kept = report(&seen(&job, Some(&refused), &Sources::default()));
    assert_eq!(kept.status, 2);
    assert!(kept.text.contains("all 6 registrations succeeded"));
    assert_eq!(
        kept.errors,
        ["the results were not saved: results.csv already exists"]
    );
    let lost: Result<Saved, Failure> = Err(Failure::check("storage_unreachable", "no route"));
    let again = report(&seen(&job, Some(&lost), &Sources::default()));
    assert_eq!(again.status, 1);
    assert_eq!(
        again.errors,
        [format!(
            "the results were not saved: no route (`{REATTACH}` fetches them again)"
        )]
    );
}
