//! Factory jobs on real parts: the built API and `marshal-worker --poll`
//! against moto's SQS, S3 and DynamoDB, certificates made by Python
//! `cryptography`, and boto3 as the witness of what AWS IoT holds.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::{path::Path, time::Duration};

use marshal_tests::{
    api::Api,
    jobs::{self, JobsSetup, Worker},
    moto::Moto,
    moto_state::{self, Target},
};
use serde_json::{Value, json};

const POLICY: &str = "MarshalDevice";

/// moto seeded with two targets and the jobs' queue, table and bucket; the
/// API configured for them with `jobs_extra` in `[jobs]`.
fn world(jobs_extra: &str) -> (Moto, Vec<Target>, JobsSetup, Api) {
    let moto = Moto::start();
    let targets = moto_state::tokyo_and_virginia();
    moto_state::seed_with_device_policy(&moto.endpoint(), &targets, POLICY);
    let setup = jobs::seed(&moto.endpoint());
    let config = moto_state::config_toml("", &targets, POLICY) + &jobs::config(&setup, jobs_extra);
    let api = Api::start(&config, &moto.endpoint());
    (moto, targets, setup, api)
}

/// Uploads a job file to the URL `POST /v1/jobs` gave and starts the job.
fn upload_and_start(api: &Api, created: &Value, file: &Path) -> Value {
    jobs::upload(created, file);
    let id = created["job"]["id"].as_str().unwrap();
    api.post_json(&format!("/v1/jobs/{id}/start"), &json!({}))
        .expect_status(202)
}

/// The results CSV the job's presigned URL serves, as rows of columns.
fn results(api: &Api, id: &str) -> Vec<Vec<String>> {
    let answer = api
        .get(&format!("/v1/jobs/{id}/results"))
        .expect_status(200);
    let got = jobs::presigned("GET", answer["url"].as_str().unwrap(), &[], Vec::new());
    assert_eq!(got.status, 200, "{}", got.body_text());
    let mut reader = csv::Reader::from_reader(got.body.as_slice());
    let header: Vec<String> = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_owned)
        .collect();
    assert_eq!(
        header.join(","),
        "index,thing_name,certificate_id,target,outcome,status,certificate_arn,endpoint,error_code,error_message"
    );
    let rows: Vec<Vec<String>> = reader
        .records()
        .map(|r| r.unwrap().iter().map(str::to_owned).collect())
        .collect();
    assert_eq!(
        answer["rows"],
        rows.len() as u64,
        "rows announced and served differ"
    );
    rows
}

/// The certificates of an NDJSON job file as a small job's body sends them.
fn inline_certificates(file: &Path) -> Vec<Value> {
    std::fs::read_to_string(file)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// Creates a small job of an NDJSON job file's certificates, sent in the
/// body, into a-tokyo; its id.
fn create_inline(api: &Api, file: &Path) -> String {
    let certificates = inline_certificates(file);
    let created = api
        .post_json(
            "/v1/jobs",
            &json!({"certificates": certificates, "targets": ["a-tokyo"], "policy": POLICY}),
        )
        .expect_status(201);
    created["job"]["id"].as_str().unwrap().to_owned()
}

fn queue_depth(moto: &Moto, url: &str) -> u64 {
    let answer = moto_state::ledger_state(
        &moto.endpoint(),
        &json!({"action": "depth", "region": marshal_tests::api::HUB_REGION, "queueUrl": url}),
    );
    answer["messages"].as_u64().unwrap()
}

#[test]
fn a_small_job_runs_through_the_queue_and_its_results_download() {
    let (moto, targets, setup, api) = world("chunkSize = 10\ncallsPerSecond = 50");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("small.ndjson");
    let (ids, things) = jobs::certificates_file(&file, 23, "small", "ndjson", &[]);
    let certificates = inline_certificates(&file);
    let created = api
        .post_json(
            "/v1/jobs",
            &json!({"certificates": certificates, "targets": ["a-tokyo", "b-virginia"], "policy": POLICY}),
        )
        .expect_status(201);
    let id = created["job"]["id"].as_str().unwrap().to_owned();
    assert_eq!(created["job"]["state"], "running", "{created:#}");
    assert_eq!(created["job"]["chunks"], 3);
    assert_eq!(created["job"]["counts"]["pending"], 46);
    assert!(created.get("upload").is_none());

    let worker = Worker::start(api.config_path(), &moto.endpoint(), 30);
    let job = jobs::wait_for(
        &api,
        Some(&worker),
        &id,
        Duration::from_secs(120),
        jobs::settled,
    );
    assert_eq!(job["state"], "finished", "{job:#}");
    assert_eq!(
        job["counts"],
        json!({"pending": 0, "succeeded": 46, "failed": 0, "skipped": 0})
    );
    assert_eq!(job["chunksDone"], 3);
    for t in job["perTarget"].as_array().unwrap() {
        assert_eq!(t["counts"]["succeeded"], 23, "{t}");
        assert_eq!(t["budgetPerSecond"], 50.0);
    }
    assert!(job["endedAt"].is_string() && job["ratePerSecond"].as_f64().unwrap() > 0.0);
    jobs::assert_registered_once(&moto.endpoint(), &targets, &ids, &things, POLICY);

    let rows = results(&api, &id);
    assert_eq!(rows.len(), 46);
    for row in &rows {
        assert_eq!(row[4], "registered", "{row:?}");
        assert_eq!(row[5], "ACTIVE");
        assert!(row[6].starts_with("arn:aws:iot:"), "{row:?}");
        assert!(row[7].contains("-ats.iot."), "{row:?}");
        let index: usize = row[0].parse().unwrap();
        assert_eq!((&row[1], &row[2]), (&things[index], &ids[index]));
    }
    assert_eq!(queue_depth(&moto, &setup.queue_url), 0);
    assert_eq!(queue_depth(&moto, &setup.dlq_url), 0);

    // Done is done: a cancel now is refused and changes nothing.
    api.post_json(&format!("/v1/jobs/{id}/cancel"), &json!({}))
        .expect_error(409, "job_conflict");
    // Only the ledger's own words: every registration went through it.
    let history = api
        .get(&format!("/v1/certificates/{}/history", ids[0]))
        .expect_status(200);
    let events = history["events"].as_array().unwrap();
    assert!(
        events.iter().any(|e| e["requestId"]
            .as_str()
            .unwrap()
            .starts_with(&format!("job-{id}-"))),
        "{history:#}"
    );
}

#[test]
fn uploaded_files_in_ndjson_and_csv_are_registered() {
    let (moto, targets, _setup, api) = world("chunkSize = 25\ncallsPerSecond = 50");
    let worker = Worker::start(api.config_path(), &moto.endpoint(), 30);
    let dir = tempfile::tempdir().unwrap();
    for (format, count) in [("ndjson", 30), ("csv", 27)] {
        let file = dir.path().join(format!("job.{format}"));
        let (ids, things) = jobs::certificates_file(&file, count, format, format, &[]);
        let created = api
            .post_json(
                "/v1/jobs",
                &json!({"upload": format, "targets": ["a-tokyo", "b-virginia"], "policy": POLICY}),
            )
            .expect_status(201);
        assert_eq!(created["job"]["state"], "awaiting_upload", "{created:#}");
        assert_eq!(created["upload"]["method"], "PUT");
        let started = upload_and_start(&api, &created, &file);
        assert_eq!(started["state"], "splitting", "{started:#}");
        let id = created["job"]["id"].as_str().unwrap();
        // Started again while it splits: the split is queued again (as
        // after a lost send) and still done once, as boto3 checks below.
        let again = api
            .post_json(&format!("/v1/jobs/{id}/start"), &json!({}))
            .expect_status(202);
        assert_eq!(again["id"], id, "{again:#}");
        // Once: every requeue reads the job's chunks and queues again the
        // ones not done, so an owner cannot repeat it at will.
        let third = api.post_json(&format!("/v1/jobs/{id}/start"), &json!({}));
        third.expect_error(409, "job_conflict");
        let job = jobs::wait_for(
            &api,
            Some(&worker),
            id,
            Duration::from_secs(120),
            jobs::settled,
        );
        assert_eq!(job["state"], "finished", "{format}: {job:#}");
        assert_eq!(job["certificates"], count as u64);
        assert_eq!(job["counts"]["succeeded"], 2 * count as u64, "{job:#}");
        jobs::assert_registered_once(&moto.endpoint(), &targets, &ids, &things, POLICY);
        assert_eq!(results(&api, id).len(), 2 * count);
    }
}

#[test]
fn a_file_with_a_key_or_a_bad_certificate_registers_nothing() {
    let (moto, targets, _setup, api) = world("callsPerSecond = 50");
    let worker = Worker::start(api.config_path(), &moto.endpoint(), 30);
    let dir = tempfile::tempdir().unwrap();
    let start = |name: &str, flags: &[&str]| -> (Value, Vec<String>) {
        let file = dir.path().join(format!("{name}.ndjson"));
        let (ids, _) = jobs::certificates_file(&file, 6, name, "ndjson", flags);
        let created = api
            .post_json(
                "/v1/jobs",
                &json!({"upload": "ndjson", "targets": ["a-tokyo"], "policy": POLICY}),
            )
            .expect_status(201);
        upload_and_start(&api, &created, &file);
        let id = created["job"]["id"].as_str().unwrap().to_owned();
        (
            jobs::wait_for(
                &api,
                Some(&worker),
                &id,
                Duration::from_secs(60),
                jobs::settled,
            ),
            ids,
        )
    };

    let (leaked, leaked_ids) = start("leak", &["--leak-key-at", "3"]);
    assert_eq!(leaked["state"], "failed", "{leaked:#}");
    assert_eq!(leaked["error"]["code"], "key_material_refused");
    let message = leaked["error"]["message"].as_str().unwrap();
    assert!(message.contains("nothing was registered"), "{message}");
    assert!(
        !message.contains("MII"),
        "the message echoes key bytes: {message}"
    );
    assert!(!worker.log().contains("MIG"), "the worker logged key bytes");

    let (expired, expired_ids) = start("expired", &["--expired-at", "2"]);
    assert_eq!(expired["state"], "failed", "{expired:#}");
    assert_eq!(expired["error"]["code"], "preflight_failed");
    let findings = expired["error"]["findings"].as_array().unwrap();
    assert!(
        findings
            .iter()
            .any(|f| f["index"] == 2 && f["message"].as_str().unwrap().starts_with("line 3: ")),
        "{expired:#}"
    );

    let everything: Vec<&str> = leaked_ids
        .iter()
        .chain(&expired_ids)
        .map(String::as_str)
        .collect();
    let state = moto_state::inspect(&moto.endpoint(), &targets, &everything);
    for id in everything {
        assert!(
            state.certificates("a-tokyo", id).is_empty(),
            "{id} was registered"
        );
    }

    // Started without uploading anything.
    let created = api
        .post_json(
            "/v1/jobs",
            &json!({"upload": "csv", "targets": ["a-tokyo"], "policy": POLICY}),
        )
        .expect_status(201);
    let id = created["job"]["id"].as_str().unwrap();
    api.post_json(&format!("/v1/jobs/{id}/start"), &json!({}))
        .expect_status(202);
    let job = jobs::wait_for(
        &api,
        Some(&worker),
        id,
        Duration::from_secs(60),
        jobs::settled,
    );
    assert_eq!(job["error"]["code"], "upload_missing", "{job:#}");

    // Requests the API refuses before anything is stored.
    api.post_json(
        "/v1/jobs",
        &json!({"upload": "csv", "certificates": [], "targets": ["a-tokyo"], "policy": POLICY}),
    )
    .expect_error(400, "invalid_request");
    api.post_json(
        "/v1/jobs",
        &json!({"upload": "csv", "targets": ["nowhere"], "policy": POLICY}),
    )
    .expect_error(403, "forbidden_target");
    api.get("/v1/jobs/0123456789abcdef0123456789abcdef")
        .expect_error(404, "job_not_found");
    api.get("/v1/jobs/nope")
        .expect_error(400, "invalid_request");
}

#[test]
fn cancel_stops_work_within_a_chunk() {
    // 2 registrations a second: a chunk of 5 takes about 2.5 s.
    let (moto, targets, _setup, api) = world("chunkSize = 5\ncallsPerSecond = 2");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("slow.ndjson");
    let (ids, _) = jobs::certificates_file(&file, 60, "slow", "ndjson", &[]);
    let id = create_inline(&api, &file);
    // One chunk at a time: what runs when the cancel comes is one chunk.
    let worker = Worker::start_with(api.config_path(), &moto.endpoint(), 60, 1);
    let before = jobs::wait_for(&api, Some(&worker), &id, Duration::from_secs(60), |j| {
        j["counts"]["succeeded"].as_u64().unwrap() >= 4
    });
    let at_cancel = api
        .post_json(&format!("/v1/jobs/{id}/cancel"), &json!({}))
        .expect_status(200);
    assert_eq!(at_cancel["state"], "cancelled");
    let job = jobs::wait_for(
        &api,
        Some(&worker),
        &id,
        Duration::from_secs(60),
        jobs::settled,
    );
    let done_then = at_cancel["counts"]["succeeded"].as_u64().unwrap();
    let done = job["counts"]["succeeded"].as_u64().unwrap();
    assert!(
        done <= done_then + 5,
        "{} registrations after the cancel (before: {}, at cancel: {done_then}): {job:#}",
        done - done_then,
        before["counts"]["succeeded"]
    );
    assert_eq!(
        job["counts"]["skipped"].as_u64().unwrap() + done,
        60,
        "{job:#}"
    );
    assert_eq!(job["counts"]["failed"], 0);
    // AWS holds exactly what the job says it registered.
    let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
    let state = moto_state::inspect(&moto.endpoint(), &targets, &refs);
    let registered = ids
        .iter()
        .filter(|id| !state.certificates("a-tokyo", id).is_empty())
        .count();
    assert_eq!(registered as u64, done);
    let rows = results(&api, &id);
    assert_eq!(
        rows.iter().filter(|r| r[4] == "skipped").count() as u64,
        60 - done
    );
    // Cancelling again changes nothing.
    api.post_json(&format!("/v1/jobs/{id}/cancel"), &json!({}))
        .expect_status(200);
}

#[test]
fn a_job_outlives_a_worker_killed_halfway() {
    let (moto, targets, _setup, api) = world("chunkSize = 10\ncallsPerSecond = 20");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("survivor.ndjson");
    let (ids, things) = jobs::certificates_file(&file, 120, "survivor", "ndjson", &[]);
    let created = api
        .post_json(
            "/v1/jobs",
            &json!({"upload": "ndjson", "targets": ["a-tokyo", "b-virginia"], "policy": POLICY}),
        )
        .expect_status(201);
    upload_and_start(&api, &created, &file);
    let id = created["job"]["id"].as_str().unwrap().to_owned();
    // A short visibility timeout: what the killed worker held comes back soon.
    let mut first = Worker::start(api.config_path(), &moto.endpoint(), 20);
    jobs::wait_for(&api, Some(&first), &id, Duration::from_secs(120), |j| {
        j["counts"]["succeeded"].as_u64().unwrap() >= 100
    });
    first.kill();
    let killed_at = api.get(&format!("/v1/jobs/{id}")).expect_status(200);
    assert_eq!(killed_at["state"], "running", "{killed_at:#}");
    let second = Worker::start(api.config_path(), &moto.endpoint(), 20);
    let job = jobs::wait_for(
        &api,
        Some(&second),
        &id,
        Duration::from_secs(180),
        jobs::settled,
    );
    assert_eq!(job["state"], "finished", "{job:#}");
    assert_eq!(
        job["counts"],
        json!({"pending": 0, "succeeded": 240, "failed": 0, "skipped": 0})
    );
    jobs::assert_registered_once(&moto.endpoint(), &targets, &ids, &things, POLICY);
    let rows = results(&api, &id);
    assert_eq!(rows.len(), 240, "one row per certificate and target");
}

/// The limit of jobs under way per caller holds in DynamoDB (a conditional
/// `ADD` to a string set): past it, 429 names the job in the way; a
/// cancelled job frees its place.
#[test]
fn a_caller_past_their_jobs_under_way_is_refused_until_one_ends() {
    let (_moto, _targets, _setup, api) = world("maxActivePerCaller = 1");
    let body = json!({"upload": "ndjson", "targets": ["a-tokyo"], "policy": POLICY});
    let first = api.post_json("/v1/jobs", &body).expect_status(201);
    let id = first["job"]["id"].as_str().unwrap();

    let refused = api.post_json("/v1/jobs", &body);
    let answer = refused.expect_status(429);
    assert_eq!(answer["error"]["code"], "too_many_jobs", "{answer:#}");
    let message = answer["error"]["message"].as_str().unwrap();
    assert!(message.contains(id), "{message}");

    api.post_json(&format!("/v1/jobs/{id}/cancel"), &json!({}))
        .expect_status(200);
    api.post_json("/v1/jobs", &body).expect_status(201);
    api.post_json("/v1/jobs", &body).expect_status(429);
}

/// A job submitted behind a large one takes turns with it on the queue
/// instead of waiting for all of it: each job keeps `chunksQueuedPerJob`
/// chunks queued, and queues the next as one is done.
#[test]
fn a_small_job_behind_a_large_one_does_not_wait_for_all_of_it() {
    // 5 registrations a second: the large job's 12 chunks of 5 take about 13 s.
    let (moto, targets, _setup, api) =
        world("chunkSize = 5\ncallsPerSecond = 5\nchunksQueuedPerJob = 2");
    let dir = tempfile::tempdir().unwrap();
    let inline = |name: &str, count: usize| -> (String, Vec<String>, Vec<String>) {
        let file = dir.path().join(format!("{name}.ndjson"));
        let (ids, things) = jobs::certificates_file(&file, count, name, "ndjson", &[]);
        (create_inline(&api, &file), ids, things)
    };
    let (large, large_ids, large_things) = inline("large", 60);
    let (small, small_ids, small_things) = inline("small", 5);

    let worker = Worker::start(api.config_path(), &moto.endpoint(), 30);
    let small_job = jobs::wait_for(
        &api,
        Some(&worker),
        &small,
        Duration::from_secs(60),
        jobs::settled,
    );
    let large_then = api.get(&format!("/v1/jobs/{large}")).expect_status(200);
    assert_eq!(small_job["state"], "finished", "{small_job:#}");
    let large_done = large_then["counts"]["succeeded"].as_u64().unwrap();
    assert!(
        large_done <= 30,
        "the small job waited until {large_done} of the large job's 60 were registered"
    );
    let large_job = jobs::wait_for(
        &api,
        Some(&worker),
        &large,
        Duration::from_secs(90),
        jobs::settled,
    );
    assert_eq!(
        large_job["counts"],
        json!({"pending": 0, "succeeded": 60, "failed": 0, "skipped": 0})
    );
    jobs::assert_registered_once(
        &moto.endpoint(),
        &targets[..1],
        &[large_ids, small_ids].concat(),
        &[large_things, small_things].concat(),
        POLICY,
    );
}
