//! Factory jobs against moto: the queue, table and bucket seeded as the
//! template makes them, the `[jobs]` configuration naming them, and the
//! built `marshal-worker --poll` as a child process (killed on drop, or
//! on purpose to show that a job survives its worker).

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::api::{self, Api, HUB_REGION, Log, drain, with_aws_env, worker_bin};
use crate::http;
use crate::moto_state::{self, Target};
use crate::{Cmd, python, workspace_dir};

/// The jobs table, queue (with `-dlq`) and bucket's name.
pub const JOBS_NAME: &str = "marshal-jobs";

/// What was seeded.
#[derive(Debug, Clone)]
pub struct JobsSetup {
    /// The jobs queue.
    pub queue_url: String,
    /// Its dead-letter queue.
    pub dlq_url: String,
}

/// Seeds the jobs table, queue and bucket in the hub account.
pub fn seed(aws_endpoint: &str) -> JobsSetup {
    seed_for_page(aws_endpoint, &[])
}

/// [`seed`], the bucket's CORS rule allowing the page at `page_origins`
/// (as the template's does for its distribution).
pub fn seed_for_page(aws_endpoint: &str, page_origins: &[&str]) -> JobsSetup {
    let summary = crate::moto_state::seed(
        aws_endpoint,
        &json!({
            "targets": [],
            "ownershipTable": {"name": api::OWNERSHIP_TABLE, "region": HUB_REGION},
            "jobs": {"table": JOBS_NAME, "queue": JOBS_NAME, "bucket": JOBS_NAME, "region": HUB_REGION,
                     "pageOrigins": page_origins},
        }),
    );
    let text = |name: &str| {
        summary["jobs"][name]
            .as_str()
            .unwrap_or_else(|| panic!("seed.py gave no jobs.{name}: {summary}"))
            .to_owned()
    };
    JobsSetup {
        queue_url: text("queueUrl"),
        dlq_url: text("dlqUrl"),
    }
}

/// The `[jobs]` table naming what [`seed`] made, with `extra` lines (e.g.
/// `chunkSize = 10`). Append it after every other table of the file.
pub fn config(setup: &JobsSetup, extra: &str) -> String {
    format!(
        "\n[jobs]\nqueueUrl = \"{}\"\ntable = \"{JOBS_NAME}\"\nbucket = \"{JOBS_NAME}\"\n{extra}\n",
        setup.queue_url
    )
}

/// A running `marshal-worker --poll`; killed when dropped.
#[derive(Debug)]
pub struct Worker {
    child: Child,
    log: Arc<Log>,
}

impl Worker {
    /// Starts a worker on the API's configuration file, against moto,
    /// handling two chunks at once.
    pub fn start(config: &Path, aws_endpoint: &str, visibility_seconds: u64) -> Worker {
        Worker::start_with(config, aws_endpoint, visibility_seconds, 2)
    }

    /// [`Worker::start`] handling `concurrency` chunks at once.
    pub fn start_with(
        config: &Path,
        aws_endpoint: &str,
        visibility_seconds: u64,
        concurrency: usize,
    ) -> Worker {
        let bin = worker_bin();
        let mut cmd = Command::new(&bin);
        cmd.args(["--poll", "--config"])
            .arg(config)
            .args(["--visibility", &visibility_seconds.to_string()])
            .args(["--concurrency", &concurrency.to_string()]);
        let mut child = with_aws_env(&mut cmd, aws_endpoint)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", bin.display()));
        let log = Arc::new(Log::default());
        drain(child.stdout.take(), &log);
        drain(child.stderr.take(), &log);
        Worker { child, log }
    }

    /// Kills it at once (SIGKILL): what it was doing is left half done.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// What it printed.
    pub fn log(&self) -> String {
        self.log.text()
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Polls `GET /v1/jobs/{id}` until `done(job)` or `timeout`; returns the
/// last job seen. Panics with the job, the API's and the worker's logs on timeout.
pub fn wait_for(
    api: &Api,
    worker: Option<&Worker>,
    id: &str,
    timeout: Duration,
    done: impl Fn(&Value) -> bool,
) -> Value {
    let started = Instant::now();
    loop {
        let job = api.get(&format!("/v1/jobs/{id}")).expect_status(200);
        if done(&job) {
            return job;
        }
        if started.elapsed() > timeout {
            panic!(
                "job {id} not done after {timeout:?}: {job:#}\n--- worker log ---\n{}\n--- api log ---\n{}",
                worker.map(Worker::log).unwrap_or_default(),
                api.log()
            );
        }
        std::thread::sleep(Duration::from_millis(250));
    }
}

/// Whether a job has ended (finished, cancelled with every chunk settled, or failed).
pub fn settled(job: &Value) -> bool {
    match job["state"].as_str() {
        Some("finished" | "failed") => true,
        Some("cancelled") => job["chunksDone"] == job["chunks"],
        _ => false,
    }
}

/// Writes a job file of `count` certificates made by Python `cryptography`
/// (`tests/moto/job_certificates.py`, with its `flags`); returns their ids
/// and things, in order.
pub fn certificates_file(
    path: &Path,
    count: usize,
    prefix: &str,
    format: &str,
    flags: &[&str],
) -> (Vec<String>, Vec<String>) {
    let run = Cmd::new(python())
        .arg(workspace_dir().join("tests/moto/job_certificates.py"))
        .args([
            "--count",
            &count.to_string(),
            "--prefix",
            prefix,
            "--format",
            format,
            "--out",
        ])
        .arg(path)
        .args(flags.iter().copied())
        .run();
    run.assert_success();
    let summary = run.json();
    let list = |name: &str| -> Vec<String> {
        summary[name]
            .as_array()
            .unwrap_or_else(|| panic!("job_certificates.py gave no {name}: {summary}"))
            .iter()
            .map(|v| v.as_str().unwrap_or_default().to_owned())
            .collect()
    };
    (list("ids"), list("things"))
}

/// Sends `method` to a presigned URL of moto on the loopback, with the
/// headers the URL was signed with.
pub fn presigned(
    method: &str,
    url: &str,
    headers: &[(String, String)],
    body: Vec<u8>,
) -> http::Response {
    let rest = url
        .strip_prefix("http://127.0.0.1:")
        .unwrap_or_else(|| panic!("not a loopback URL: {url}"));
    let slash = rest.find('/').unwrap_or(rest.len());
    let (port, path) = rest.split_at(slash);
    let mut request = http::Request::new(method, path);
    for (name, value) in headers {
        if name.eq_ignore_ascii_case("content-type") {
            request = request.body(value, body.clone());
        } else if !name.eq_ignore_ascii_case("host") {
            request = request.header(name, value.clone());
        }
    }
    if request.content_type.is_none() && !body.is_empty() {
        request = request.body("application/octet-stream", body);
    }
    let port = port.parse().unwrap_or_else(|_| panic!("no port in {url}"));
    http::send(port, &request).unwrap_or_else(|e| panic!("{method} {url}: {e}"))
}

/// PUTs `file` to the upload URL of `created` (`POST /v1/jobs`'s answer).
pub fn upload(created: &Value, file: &Path) {
    let upload = &created["upload"];
    let headers: Vec<(String, String)> = upload["headers"]
        .as_array()
        .unwrap_or_else(|| panic!("no upload headers: {created}"))
        .iter()
        .map(|h| {
            (
                h[0].as_str().unwrap_or_default().to_owned(),
                h[1].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    let bytes = std::fs::read(file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    let url = upload["url"].as_str().unwrap_or_default();
    let put = presigned("PUT", url, &headers, bytes);
    assert_eq!(put.status, 200, "upload refused: {}", put.body_text());
}

/// Above this many certificates, [`assert_registered_once`] checks the
/// thing of a sample only: boto3 asks moto about each certificate's
/// attachments otherwise, and moto answers each in time linear in all.
const LARGE: usize = 500;

/// Every certificate once in every target, ACTIVE, with `policy` and its
/// thing (of [`LARGE`] jobs, a sample's things), as boto3 sees it.
pub fn assert_registered_once(
    aws_endpoint: &str,
    targets: &[Target],
    ids: &[String],
    things: &[String],
    policy: &str,
) {
    if ids.len() > LARGE {
        let pairs: Vec<(&str, &str)> = ids
            .iter()
            .map(String::as_str)
            .zip(things.iter().map(String::as_str))
            .collect();
        let verdict = moto_state::job_state(aws_endpoint, targets, policy, &pairs, 200);
        for t in targets {
            let report = &verdict[&t.id];
            assert_eq!(report["registered"], ids.len(), "{}: {report}", t.id);
            for problem in [
                "missing",
                "duplicated",
                "notActive",
                "withoutPolicy",
                "thingsWrong",
            ] {
                assert_eq!(
                    report[problem],
                    serde_json::json!([]),
                    "{} {problem}: {report}",
                    t.id
                );
            }
        }
        return;
    }
    let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
    let state = moto_state::inspect(aws_endpoint, targets, &refs);
    for t in targets {
        for (id, thing) in ids.iter().zip(things) {
            let found = state.certificates(&t.id, id);
            assert_eq!(found.len(), 1, "{id} in {}: {found:?}", t.id);
            let c = &found[0];
            assert_eq!(c.status, "ACTIVE", "{id} in {}", t.id);
            assert_eq!(c.policies, vec![policy.to_owned()], "{id} in {}", t.id);
            assert_eq!(c.things, vec![thing.clone()], "{id} in {}", t.id);
        }
    }
}

/// A factory directory as `register --batch` reads it: `count` certificates
/// made as by [`certificates_file`], one `<thing>.cert.pem` each; returns
/// their ids and things.
pub fn factory_dir(dir: &Path, count: usize, prefix: &str) -> (Vec<String>, Vec<String>) {
    std::fs::create_dir_all(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    let file = dir.with_extension("ndjson");
    let made = certificates_file(&file, count, prefix, "ndjson", &[]);
    let text = std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    for line in text.lines() {
        let entry: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{line}: {e}"));
        let thing = entry["thingName"].as_str().unwrap_or_default();
        let path = dir.join(format!("{thing}.cert.pem"));
        std::fs::write(&path, entry["certificatePem"].as_str().unwrap_or_default())
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    }
    made
}
