//! `marshal register --job` and `marshal job` on real parts: the built CLI,
//! API and `marshal-worker --poll` against moto's SQS, S3 and DynamoDB,
//! certificates made by Python `cryptography`, and boto3 as the witness of
//! what AWS IoT holds and of what was uploaded.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::{
    fs,
    path::{Path, PathBuf},
    time::Duration,
};

use marshal_tests::{
    Cmd, Run,
    api::{ACCESS_KEY_ID, Api, HUB_REGION, SECRET_ACCESS_KEY},
    jobs::{self, JOBS_NAME, Worker},
    moto::Moto,
    moto_state::{self, Target},
};

const POLICY: &str = "MarshalDevice";
const TWO: &str = "a-tokyo,b-virginia";

/// moto seeded with two targets and the jobs' queue, table and bucket; the
/// API configured for them with `jobs_extra` in `[jobs]`.
fn world(jobs_extra: &str) -> (Moto, Vec<Target>, Api) {
    let moto = Moto::start();
    let targets = moto_state::tokyo_and_virginia();
    moto_state::seed_with_device_policy(&moto.endpoint(), &targets, POLICY);
    let setup = jobs::seed(&moto.endpoint());
    let config = moto_state::config_toml("", &targets, POLICY) + &jobs::config(&setup, jobs_extra);
    let api = Api::start(&config, &moto.endpoint());
    (moto, targets, api)
}

/// `marshal <command> --api URL <args>`, run in `dir` (where default
/// results files land).
fn marshal(api: &Api, dir: &Path, args: &[&str]) -> Cmd {
    let (command, rest) = args.split_first().expect("a command");
    Cmd::marshal()
        .current_dir(dir)
        .arg(command)
        .args(["--api", &api.url()])
        .args(rest)
}

fn factory(dir: &Path, count: usize, prefix: &str) -> (Vec<String>, Vec<String>) {
    jobs::factory_dir(dir, count, prefix)
}

/// The job id `register --job` printed first, on its own line.
#[track_caller]
fn job_id(run: &Run) -> String {
    let stderr = run.stderr_text();
    let first = stderr.lines().next().unwrap_or_default();
    match first.strip_prefix("job ") {
        Some(id) if id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit()) => id.to_owned(),
        _ => run.fail("the first stderr line is not `job <ID>`"),
    }
}

/// The rows of a results CSV (after its header, which is checked).
fn csv_rows(path: &Path) -> Vec<Vec<String>> {
    let text =
        fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let header: Vec<&str> = reader.headers().unwrap().iter().collect();
    assert_eq!(
        header.join(","),
        marshal_shared::api::JOB_RESULTS_HEADER,
        "{}",
        path.display()
    );
    reader
        .records()
        .map(|r| r.unwrap().iter().map(str::to_owned).collect())
        .collect()
}

/// The job's uploaded file as moto's S3 holds it, read with boto3.
fn uploaded_file(moto: &Moto, id: &str) -> String {
    let run = Cmd::python(
        "import sys, boto3\n\
         s3 = boto3.client('s3', region_name=sys.argv[2], endpoint_url=sys.argv[1])\n\
         body = s3.get_object(Bucket=sys.argv[3], Key=sys.argv[4])['Body'].read()\n\
         sys.stdout.buffer.write(body)\n",
    )
    .args([
        &moto.endpoint(),
        HUB_REGION,
        JOBS_NAME,
        &format!("uploads/{id}"),
    ])
    .env("AWS_ACCESS_KEY_ID", ACCESS_KEY_ID)
    .env("AWS_SECRET_ACCESS_KEY", SECRET_ACCESS_KEY)
    .run();
    run.assert_success();
    run.stdout_text()
}

#[test]
fn a_batch_registers_as_a_job_and_only_its_certificates_are_uploaded() {
    let (moto, targets, api) = world("chunkSize = 10\ncallsPerSecond = 50");
    let worker = Worker::start(api.config_path(), &moto.endpoint(), 30);
    let dir = tempfile::tempdir().unwrap();
    let batch = dir.path().join("factory");
    let (mut ids, mut things) = factory(&batch, 30, "job-dev");

    // A device made with its key: the key sits in the batch twice, inside
    // a certificate file and as a file of its own.
    let keys = dir.path().join("keys");
    let keygen = Cmd::marshal()
        .args(["keygen", "--cn", "keyed-dev", "--json", "--out"])
        .arg(&keys)
        .run();
    keygen.assert_success();
    let key = fs::read_to_string(keys.join("keyed-dev.private.key")).unwrap();
    let cert = fs::read_to_string(keys.join("keyed-dev.cert.pem")).unwrap();
    fs::write(batch.join("keyed-dev.pem"), format!("{cert}{key}")).unwrap();
    fs::write(batch.join("keyed-dev.private.key"), &key).unwrap();
    ids.push(keygen.json()["certificateId"].as_str().unwrap().to_owned());
    things.push("keyed-dev".to_owned());
    // A .pem holding only a key is not a certificate: as for `register
    // --batch`, the batch stops before anything is sent.
    fs::write(batch.join("lonely.pem"), &key).unwrap();
    let refused = marshal(
        &api,
        dir.path(),
        &["register", "--target", TWO, "--job", "--batch"],
    )
    .arg(&batch)
    .run();
    refused.assert_exit(1).assert_no_private_key();
    assert!(
        refused.stdout_text().contains("nothing was sent"),
        "{refused}"
    );
    assert!(
        !refused.stderr_text().contains("job "),
        "a job was made: {refused}"
    );
    fs::remove_file(batch.join("lonely.pem")).unwrap();

    let results = dir.path().join("job-results.csv");
    let run = marshal(
        &api,
        dir.path(),
        &["register", "--target", TWO, "--job", "--batch"],
    )
    .arg(&batch)
    .arg("--results")
    .arg(&results)
    .run();
    // What a first-time user reads (shown with --nocapture).
    println!("{run}");
    run.assert_success().assert_no_private_key().assert_words();
    let id = job_id(&run);
    let stderr = run.stderr_text();
    for expected in [
        "31 certificates × 2 targets (a-tokyo, b-virginia), policy MarshalDevice",
        &format!(
            "follow it again any time: marshal job {id} --api {}",
            api.url()
        ),
        "Ctrl-C stops following here; the job keeps running on the server",
        "registering: 62/62",
    ] {
        assert!(stderr.contains(expected), "{expected:?} missing\n{run}");
    }
    let stdout = run.stdout_text();
    for expected in [
        format!("job {id}: finished: all 62 registrations succeeded (31 certificates × 2 targets)"),
        format!("results: {} (62 rows", results.display()),
    ] {
        assert!(stdout.contains(&expected), "{expected:?} missing\n{run}");
    }

    // The file the worker read: one line per certificate, never a key.
    let uploaded = uploaded_file(&moto, &id);
    assert_eq!(uploaded.lines().count(), 31, "{uploaded}");
    assert!(!uploaded.contains("PRIVATE KEY"), "a key was uploaded");
    for log in [api.log(), worker.log()] {
        assert!(
            !log.contains("PRIVATE KEY") && !log.contains("key_material"),
            "{log}"
        );
    }

    jobs::assert_registered_once(&moto.endpoint(), &targets, &ids, &things, POLICY);
    let rows = csv_rows(&results);
    assert_eq!(rows.len(), 62, "one row per certificate × target");
    for (id, thing) in ids.iter().zip(&things) {
        for target in ["a-tokyo", "b-virginia"] {
            let row = rows
                .iter()
                .find(|r| &r[2] == id && r[3] == target)
                .unwrap_or_else(|| panic!("no row for {id} in {target}: {rows:?}"));
            assert_eq!(
                (&row[1], row[4].as_str(), row[5].as_str()),
                (thing, "registered", "ACTIVE")
            );
        }
    }

    // Seen again, for scripts: JSON, and the results under their default name.
    let json = marshal(&api, dir.path(), &["job", &id, "--json"]).run();
    json.assert_success();
    let body = json.json();
    assert_eq!(body["job"]["id"], id.as_str(), "{json}");
    assert_eq!(body["job"]["state"], "finished", "{json}");
    assert_eq!(body["job"]["counts"]["succeeded"], 62, "{json}");
    assert_eq!(body["job"]["perTarget"].as_array().unwrap().len(), 2);
    assert_eq!(body["results"]["rows"], 62, "{json}");
    assert_eq!(body["results"]["complete"], true, "{json}");
    let default = dir.path().join(format!("marshal-job-{id}-results.csv"));
    assert_eq!(fs::read(&default).unwrap(), fs::read(&results).unwrap());

    // Again: the same file is left as it is; another file is not replaced
    // without --force.
    let again = marshal(&api, dir.path(), &["job", &id]).run();
    again.assert_success();
    assert!(
        again.stdout_text().contains("already there, unchanged"),
        "{again}"
    );
    let other = dir.path().join("other.csv");
    fs::write(&other, "mine\n").unwrap();
    let kept = marshal(&api, dir.path(), &["job", &id, "--results"])
        .arg(&other)
        .run();
    kept.assert_exit(2);
    assert!(
        kept.stderr_text().contains(&format!(
            "error: the results were not saved: {} already exists with other contents \
             (--force replaces it",
            other.display()
        )),
        "{kept}"
    );
    assert!(kept.stdout_text().contains("finished: all 62"), "{kept}");
    assert_eq!(fs::read_to_string(&other).unwrap(), "mine\n");
    marshal(&api, dir.path(), &["job", &id, "--force", "--results"])
        .arg(&other)
        .run()
        .assert_success();
    assert_eq!(csv_rows(&other).len(), 62);

    // A finished job has nothing to cancel: said, not an error.
    let late = marshal(&api, dir.path(), &["job", &id, "--cancel"]).run();
    late.assert_success();
    assert!(
        late.stderr_text()
            .contains("nothing to cancel: the job is finished already"),
        "{late}"
    );
}

#[test]
fn cancelling_a_slow_job_skips_what_has_not_started() {
    // 2 registrations a second, chunks of 5: the job takes about 20 s.
    let (moto, targets, api) = world("chunkSize = 5\ncallsPerSecond = 2");
    let dir = tempfile::tempdir().unwrap();
    let batch = dir.path().join("slow");
    let (ids, _) = factory(&batch, 40, "slow-dev");

    let started = marshal(
        &api,
        dir.path(),
        &[
            "register",
            "--target",
            "a-tokyo",
            "--job",
            "--no-wait",
            "--json",
            "--batch",
        ],
    )
    .arg(&batch)
    .run();
    started.assert_success();
    let id = job_id(&started);
    assert_eq!(started.json()["job"]["id"], id.as_str(), "{started}");
    assert!(
        !dir.path()
            .join(format!("marshal-job-{id}-results.csv"))
            .exists(),
        "--no-wait wrote results of a job that has not ended"
    );

    let worker = Worker::start_with(api.config_path(), &moto.endpoint(), 60, 1);
    jobs::wait_for(&api, Some(&worker), &id, Duration::from_secs(60), |j| {
        j["counts"]["succeeded"].as_u64().unwrap() >= 3
    });
    // Ctrl-C while following stops the following, not the job.
    let interrupted = Cmd::new("timeout")
        .args(["-s", "INT", "3"])
        .arg(marshal_tests::marshal_bin())
        .args(["job", &id, "--api", &api.url()])
        .run();
    assert_eq!(
        interrupted.code(),
        Some(124),
        "not interrupted: {interrupted}"
    );
    assert!(
        interrupted
            .stderr_text()
            .contains("Ctrl-C stops following; the job keeps running"),
        "{interrupted}"
    );
    let after = api.get(&format!("/v1/jobs/{id}")).expect_status(200);
    assert_eq!(after["state"], "running", "{after:#}");
    let running = marshal(&api, dir.path(), &["job", &id, "--no-wait"]).run();
    running.assert_success();
    assert!(
        running.stdout_text().contains(&format!(
            "cancel it: marshal job {id} --api {} --cancel",
            api.url()
        )),
        "{running}"
    );

    let cancel = marshal(&api, dir.path(), &["job", &id, "--cancel"]).run();
    println!("{cancel}");
    cancel.assert_exit(1).assert_words();
    let results = dir.path().join(format!("marshal-job-{id}-results.csv"));
    let rows = csv_rows(&results);
    let skipped = rows.iter().filter(|r| r[4] == "skipped").count();
    let registered = rows.iter().filter(|r| r[4] == "registered").count();
    assert!(skipped > 0, "nothing was skipped: {rows:?}");
    assert_eq!(skipped + registered, 40, "{rows:?}");
    assert!(
        cancel.stdout_text().contains(&format!(
            "job {id}: cancelled: {registered} of 40 registrations succeeded, 0 failed, {skipped} skipped"
        )),
        "{cancel}"
    );

    let json = marshal(&api, dir.path(), &["job", &id, "--json"]).run();
    json.assert_exit(1);
    let body = json.json();
    assert_eq!(body["job"]["state"], "cancelled", "{json}");
    assert_eq!(body["job"]["counts"]["skipped"], skipped as u64, "{json}");
    // AWS holds exactly what the results say was registered.
    let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
    let state = moto_state::inspect(&moto.endpoint(), &targets, &refs);
    let in_aws = ids
        .iter()
        .filter(|id| !state.certificates("a-tokyo", id).is_empty())
        .count();
    assert_eq!(in_aws, registered, "{state}");
}

#[test]
fn failed_jobs_and_wrong_or_unknown_ids_are_explained() {
    let (moto, targets, api) = world("maxCertificates = 2");
    let worker = Worker::start(api.config_path(), &moto.endpoint(), 30);
    let dir = tempfile::tempdir().unwrap();

    // Three certificates where a job may hold two: the server refuses the
    // whole file once it has read it, and nothing is registered.
    let batch = dir.path().join("three");
    let (ids, _) = factory(&batch, 3, "over");
    let over = marshal(
        &api,
        dir.path(),
        &["register", "--target", TWO, "--job", "--batch"],
    )
    .arg(&batch)
    .run();
    println!("{over}");
    over.assert_exit(1).assert_words();
    let id = job_id(&over);
    assert!(
        over.stdout_text().starts_with(&format!(
            "job {id}: failed: nothing was registered\n  \
             too_many_certificates: 3 certificates; a job may hold 2\n  \
             split the batch into several jobs\n"
        )),
        "{over}\n--- worker ---\n{}",
        worker.log()
    );
    let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
    let state = moto_state::inspect(&moto.endpoint(), &targets, &refs);
    for id in &ids {
        assert!(state.certificates("a-tokyo", id).is_empty(), "{state}");
    }
    let shown = marshal(&api, dir.path(), &["job", &id, "--json"]).run();
    shown.assert_exit(1);
    assert_eq!(
        shown.json()["job"]["error"]["code"],
        "too_many_certificates",
        "{shown}"
    );
    fs::remove_dir_all(&batch).unwrap();
    fs::remove_file(batch.with_extension("ndjson")).unwrap();

    let malformed = marshal(&api, dir.path(), &["job", "../config", "--json"]).run();
    malformed.assert_exit(2).assert_words();
    assert_eq!(
        malformed.json()["error"]["code"],
        "invalid_job_id",
        "{malformed}"
    );
    assert!(
        malformed
            .stderr_text()
            .contains("a job id is 32 hex digits"),
        "{malformed}"
    );

    let unknown = marshal(
        &api,
        dir.path(),
        &["job", "0123456789abcdef0123456789abcdef"],
    )
    .run();
    unknown.assert_exit(1).assert_words();
    let stderr = unknown.stderr_text();
    for expected in [
        "[job_not_found, HTTP 404",
        "seen only by whoever created it",
    ] {
        assert!(stderr.contains(expected), "{expected:?} missing\n{unknown}");
    }
    let cancel = marshal(
        &api,
        dir.path(),
        &["job", "0123456789abcdef0123456789abcdef", "--cancel"],
    )
    .run();
    cancel.assert_exit(1);
    assert!(cancel.stderr_text().contains("job_not_found"), "{cancel}");
    let none: Vec<PathBuf> = fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert!(none.is_empty(), "files were written: {none:?}");
}
