//! Factory jobs in process, as an attacker with a valid login would try
//! them: a job is its creator's alone, it registers only what its creator
//! could register by hand, a message delivered twice counts once, a
//! file carrying a key registers nothing, and work a failed queue lost is
//! queued again.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::{Duration, Instant};

use marshal_lambda::service::jobs::WorkOutcome;
use serde_json::{Value, json};
use support::*;

fn inline_job(certs: &[&marshal_shared::Credentials], targets: &[&str]) -> Value {
    json!({
        "certificates": certs.iter().map(|c| json!({"certificatePem": c.certificate.to_pem()})).collect::<Vec<_>>(),
        "targets": targets,
        "policy": "MarshalDevice",
    })
}

/// `POST /v1/jobs` as `who`: `certs` into `targets`, in the body.
async fn create_inline(
    w: &World,
    who: &Who,
    certs: &[&marshal_shared::Credentials],
    targets: &[&str],
) -> Reply {
    w.send_as(who, "POST", "/v1/jobs", Some(&inline_job(certs, targets)))
        .await
}

/// `POST /v1/jobs/{id}/start` as `who`.
async fn start(w: &World, who: &Who, id: &str) -> Reply {
    w.send_as(
        who,
        "POST",
        &format!("/v1/jobs/{id}/start"),
        Some(&json!({})),
    )
    .await
}

/// The job as its creator (alice) reads it.
async fn job_of(w: &World, id: &str) -> Value {
    w.send_as(&alice(), "GET", &format!("/v1/jobs/{id}"), None)
        .await
        .body
}

/// Delivers every queued message to the worker (again when it says so)
/// until the queue is empty.
async fn run_worker(w: &World) {
    for _ in 0..20 {
        let messages = w.jobs.drain();
        if messages.is_empty() {
            return;
        }
        for body in messages {
            let deadline = Instant::now() + Duration::from_secs(60);
            assert_eq!(
                w.service.work(&body, deadline).await,
                WorkOutcome::Done,
                "{body}"
            );
        }
    }
    panic!("the queue never emptied");
}

#[tokio::test]
async fn a_job_is_its_creators_alone() {
    let w = jwt_world();
    let cert = creds("job-own-1");
    let created = create_inline(&w, &alice(), &[&cert], &["a-tokyo"]).await;
    expect(&created, 201, None);
    let id = created.body["job"]["id"].as_str().unwrap().to_owned();
    assert_eq!(created.body["job"]["createdBy"], "alice-sub");

    for (method, path) in [
        ("GET", format!("/v1/jobs/{id}")),
        ("POST", format!("/v1/jobs/{id}/cancel")),
        ("POST", format!("/v1/jobs/{id}/start")),
        ("GET", format!("/v1/jobs/{id}/results")),
    ] {
        let body = (method == "POST").then(|| json!({}));
        let reply = w.send_as(&bob(), method, &path, body.as_ref()).await;
        expect(&reply, 404, Some("job_not_found"));
        // Not even an admin of the targets sees it: jobs are people's work.
        let reply = w.send_as(&admin(), method, &path, body.as_ref()).await;
        expect(&reply, 404, Some("job_not_found"));
    }
    // Bob's tries changed nothing: the job runs and alice sees it.
    run_worker(&w).await;
    let job = job_of(&w, &id).await;
    assert_eq!(job["state"], "finished", "{}", job);
    assert_eq!(job["counts"]["succeeded"], 1);
}

#[tokio::test]
async fn a_job_registers_only_what_its_creator_could() {
    let w = jwt_world();
    // A target bob's groups do not allow: refused before anything is stored.
    let cert = creds("job-right-1");
    let reply = create_inline(&w, &bob(), &[&cert], &["b-virginia"]).await;
    expect(&reply, 403, Some("forbidden_target"));
    // Alice's certificate, already registered by her: bob's job cannot take it over.
    let reply = w
        .register_as(&alice(), &[(&cert, None)], &["a-tokyo"], json!({}))
        .await;
    expect(&reply, 200, None);
    let before = snapshot(&w);
    let created = create_inline(&w, &bob(), &[&cert], &["a-tokyo"]).await;
    expect(&created, 201, None);
    let id = created.body["job"]["id"].as_str().unwrap().to_owned();
    run_worker(&w).await;
    let job = w
        .send_as(&bob(), "GET", &format!("/v1/jobs/{id}"), None)
        .await
        .body;
    assert_eq!(job["state"], "finished", "{}", job);
    assert_eq!(
        job["counts"],
        json!({"pending": 0, "succeeded": 0, "failed": 1, "skipped": 0})
    );
    let results = w.jobs.file(&format!("results/{id}.csv"));
    assert!(results.is_none(), "results are written only when asked for");
    let reply = w
        .send_as(&bob(), "GET", &format!("/v1/jobs/{id}/results"), None)
        .await;
    expect(&reply, 200, None);
    let csv = String::from_utf8(w.jobs.file(&format!("results/{id}.csv")).unwrap()).unwrap();
    assert!(
        csv.contains(",failed,") && csv.contains("certificate_not_managed"),
        "{csv}"
    );
    assert_eq!(
        snapshot(&w),
        before,
        "bob's job changed alice's certificate"
    );
}

#[tokio::test]
async fn a_message_delivered_twice_counts_once() {
    let w = jwt_world();
    let certs: Vec<_> = (0..3).map(|i| creds(&format!("job-twice-{i}"))).collect();
    let refs: Vec<&marshal_shared::Credentials> = certs.iter().collect();
    let created = create_inline(&w, &alice(), &refs, &["a-tokyo", "a-virginia"]).await;
    expect(&created, 201, None);
    let id = created.body["job"]["id"].as_str().unwrap().to_owned();
    let messages = w.jobs.drain();
    assert_eq!(messages.len(), 1, "one chunk");
    let deadline = Instant::now() + Duration::from_secs(60);
    for _ in 0..3 {
        assert_eq!(
            w.service.work(&messages[0], deadline).await,
            WorkOutcome::Done
        );
    }
    let job = job_of(&w, &id).await;
    assert_eq!(
        job["counts"],
        json!({"pending": 0, "succeeded": 6, "failed": 0, "skipped": 0}),
        "{}",
        job
    );
    assert_eq!(job["chunksDone"], 1);
    // Nonsense on the queue is dropped, not retried for ever.
    assert_eq!(
        w.service.work("{\"kind\":\"nope\"}", deadline).await,
        WorkOutcome::Done
    );
}

#[tokio::test]
async fn a_file_with_a_key_registers_nothing_and_a_cancel_skips_the_rest() {
    let w = jwt_world();
    let cert = creds("job-file-1");
    let before = snapshot(&w);
    let line = json!({"thingName": "job-file-1", "certificatePem": cert.certificate.to_pem() + cert.private_key.to_pkcs8_pem().as_str()});
    let id = upload_job(&w, &format!("{line}\n")).await;
    run_worker(&w).await;
    let job = job_of(&w, &id).await;
    assert_eq!(job["state"], "failed", "{}", job);
    assert_eq!(job["error"]["code"], "key_material_refused");
    assert_eq!(
        snapshot(&w),
        before,
        "a refused file changed AWS or the records"
    );

    // Cancelled before its chunk ran: every pair skipped, nothing registered.
    let other = creds("job-file-2");
    let created = create_inline(&w, &alice(), &[&other], &["a-tokyo"]).await;
    let id = created.body["job"]["id"].as_str().unwrap().to_owned();
    expect(
        &w.send_as(
            &alice(),
            "POST",
            &format!("/v1/jobs/{id}/cancel"),
            Some(&json!({})),
        )
        .await,
        200,
        None,
    );
    run_worker(&w).await;
    let job = job_of(&w, &id).await;
    assert_eq!(job["state"], "cancelled");
    assert_eq!(
        job["counts"],
        json!({"pending": 0, "succeeded": 0, "failed": 0, "skipped": 1})
    );
    assert_eq!(snapshot(&w), before);
}

#[tokio::test]
async fn what_a_failed_queue_lost_is_queued_again_and_done_once() {
    let w = jwt_world();
    // A small job whose chunk could not be queued: 500 naming the way out.
    let cert = creds("job-lost-1");
    w.jobs.fail_sends(1);
    let created = create_inline(&w, &alice(), &[&cert], &["a-tokyo", "a-virginia"]).await;
    expect(&created, 500, Some("internal_error"));
    let message = created.body["error"]["message"]
        .as_str()
        .unwrap()
        .to_owned();
    let id = message
        .split_whitespace()
        .nth(1)
        .filter(|id| marshal_shared::validate::is_job_id(id))
        .unwrap_or_else(|| panic!("no job id in {message:?}"))
        .to_owned();
    assert!(
        message.contains(&format!("POST /v1/jobs/{id}/start")),
        "{message}"
    );
    assert!(w.jobs.drain().is_empty());
    let job = job_of(&w, &id).await;
    assert_eq!(job["state"], "running", "{}", job);
    // Only its creator can queue it again.
    let stranger = start(&w, &bob(), &id).await;
    expect(&stranger, 404, Some("job_not_found"));
    let started = start(&w, &alice(), &id).await;
    expect(&started, 202, None);
    // Not twice within the interval: each requeue reads every chunk and
    // queues again those not done; the answer says when it may be again.
    let twice = start(&w, &alice(), &id).await;
    expect(&twice, 409, Some("job_conflict"));
    let message = twice.body["error"]["message"].as_str().unwrap();
    assert!(message.contains("can be queued again from"), "{message}");
    // A chunk delivered twice (a requeue of a send that had not failed
    // after all) is done once.
    let queued = w.jobs.drain();
    assert_eq!(queued.len(), 1);
    let deadline = Instant::now() + Duration::from_secs(60);
    for _ in 0..2 {
        assert_eq!(
            w.service.work(&queued[0], deadline).await,
            WorkOutcome::Done
        );
    }
    let job = job_of(&w, &id).await;
    assert_eq!(job["state"], "finished", "{}", job);
    assert_eq!(
        job["counts"],
        json!({"pending": 0, "succeeded": 2, "failed": 0, "skipped": 0})
    );
    let again = start(&w, &alice(), &id).await;
    expect(&again, 409, Some("job_conflict"));

    // An uploaded job whose split could not queue its chunks: the split's
    // redelivery queues them.
    let certs: Vec<_> = (0..3)
        .map(|i| creds(&format!("job-lost-file-{i}")))
        .collect();
    let file: String = certs.iter().map(line).collect();
    let id = upload_job(&w, &file).await;
    let split = w.jobs.drain();
    assert_eq!(split.len(), 1);
    let deadline = Instant::now() + Duration::from_secs(60);
    w.jobs.fail_sends(1);
    assert_eq!(
        w.service.work(&split[0], deadline).await,
        WorkOutcome::Again
    );
    assert!(w.jobs.drain().is_empty(), "nothing was queued");
    // SQS delivers the split again once its visibility ends.
    assert_eq!(w.service.work(&split[0], deadline).await, WorkOutcome::Done);
    run_worker(&w).await;
    let job = job_of(&w, &id).await;
    assert_eq!(job["state"], "finished", "{}", job);
    assert_eq!(job["counts"]["succeeded"], 3, "{}", job);
}

/// A world whose jobs cut files into chunks of 30 (a size that does not
/// divide the split's segments of 1,000 certificates).
fn chunks_of_30() -> World {
    world_with(&format!(
        "{}\n[jobs]\nchunkSize = 30\ncallsPerSecond = 10000\n",
        jwt_config()
    ))
}

/// An NDJSON line of `cert`.
fn line(cert: &marshal_shared::Credentials) -> String {
    format!("{}\n", json!({"certificatePem": cert.certificate.to_pem()}))
}

/// Creates an upload job into a-tokyo, uploads `file` and starts it; its id.
async fn upload_job(w: &World, file: &str) -> String {
    let created = w
        .send_as(
            &alice(),
            "POST",
            "/v1/jobs",
            Some(&json!({"upload": "ndjson", "targets": ["a-tokyo"], "policy": "MarshalDevice"})),
        )
        .await;
    expect(&created, 201, None);
    assert_eq!(created.body["upload"]["method"], "PUT");
    let id = created.body["job"]["id"].as_str().unwrap().to_owned();
    w.jobs.upload(&id, file.as_bytes());
    expect(&start(w, &alice(), &id).await, 202, None);
    id
}

#[tokio::test]
async fn a_file_is_split_a_segment_at_a_time_and_checked_whole_before_anything_runs() {
    let w = chunks_of_30();
    let certs: Vec<_> = (0..1_100).map(|i| creds(&format!("seg-{i:04}"))).collect();
    let before = snapshot(&w);

    // Line 1,050 repeats line 5: found across segments, nothing registered.
    let mut file: String = certs[..1_049].iter().map(line).collect();
    file.push_str(&line(&certs[4]));
    let id = upload_job(&w, &file).await;
    run_worker(&w).await;
    let job = job_of(&w, &id).await;
    assert_eq!(job["state"], "failed", "{}", job);
    assert_eq!(job["error"]["code"], "preflight_failed", "{}", job);
    let finding = &job["error"]["findings"][0];
    assert_eq!(finding["index"], 1_049, "{}", job);
    assert!(
        finding["message"]
            .as_str()
            .unwrap()
            .starts_with("line 1050: certificate "),
        "{finding}"
    );
    assert!(
        finding["message"].as_str().unwrap().ends_with("(line 5)"),
        "{finding}"
    );
    assert_eq!(
        snapshot(&w),
        before,
        "a refused file changed AWS or the records"
    );

    // A key on the last line, after a thousand good ones: nothing runs.
    let mut file: String = certs[..1_010].iter().map(line).collect();
    let key = &certs[1_010];
    file.push_str(&format!(
        "{}\n",
        json!({"certificatePem": key.certificate.to_pem() + key.private_key.to_pkcs8_pem().as_str()})
    ));
    let id = upload_job(&w, &file).await;
    run_worker(&w).await;
    let job = job_of(&w, &id).await;
    assert_eq!(job["error"]["code"], "key_material_refused", "{}", job);
    assert!(
        job["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("line 1011: "),
        "{}",
        job
    );
    assert_eq!(snapshot(&w), before);

    // All 1,100: 37 chunks (33 of the first segment's 1,000, then 110 in
    // four), every certificate once, in its line's place.
    let file: String = certs.iter().map(line).collect();
    let id = upload_job(&w, &file).await;
    run_worker(&w).await;
    let job = job_of(&w, &id).await;
    assert_eq!(job["state"], "finished", "{}", job);
    assert_eq!(
        (job["certificates"].as_u64(), job["chunks"].as_u64()),
        (Some(1_100), Some(37))
    );
    assert_eq!(
        job["counts"],
        json!({"pending": 0, "succeeded": 1_100, "failed": 0, "skipped": 0})
    );
    let results = w
        .send_as(&alice(), "GET", &format!("/v1/jobs/{id}/results"), None)
        .await;
    expect(&results, 200, None);
    let csv = String::from_utf8(w.jobs.file(&format!("results/{id}.csv")).unwrap()).unwrap();
    let rows: Vec<&str> = csv.lines().skip(1).collect();
    assert_eq!(rows.len(), 1_100);
    for (i, (row, cert)) in rows.iter().zip(&certs).enumerate() {
        assert!(
            row.starts_with(&format!(
                "{i},seg-{i:04},{},a-tokyo,registered",
                cert.certificate.id()
            )),
            "{row}"
        );
    }
}

/// The process's peak resident memory so far, in MiB (Linux).
fn peak_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

/// `cargo xtask bench`: the split of a large file (100,000 certificates,
/// `MARSHAL_SPLIT_CERTIFICATES`) in memory, timed, with the peak memory it
/// added: what the worker needs per certificate before any registration.
#[tokio::test]
#[ignore = "benchmark: cargo xtask bench"]
async fn bench_split_of_a_large_file() {
    let count: usize = std::env::var("MARSHAL_SPLIT_CERTIFICATES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let w = chunks_of_30();
    let made = Instant::now();
    let file: String = (0..count)
        .map(|i| line(&creds(&format!("bench-{i:07}"))))
        .collect();
    println!(
        "split bench: {count} certificates made in {:.1} s, file {:.1} MiB",
        made.elapsed().as_secs_f64(),
        file.len() as f64 / 1_048_576.0
    );
    let id = upload_job(&w, &file).await;
    drop(file);
    let split = w.jobs.drain();
    assert_eq!(split.len(), 1);
    let before = peak_mib();
    let started = Instant::now();
    let deadline = Instant::now() + Duration::from_secs(3_600);
    assert_eq!(w.service.work(&split[0], deadline).await, WorkOutcome::Done);
    let seconds = started.elapsed().as_secs_f64();
    let after = peak_mib();
    let job = job_of(&w, &id).await;
    assert_eq!(job["state"], "running", "{}", job);
    assert_eq!(job["certificates"], count);
    println!(
        "split bench: {count} certificates read, checked and stored in {seconds:.2} s \
         ({:.0} per second, {:.1} µs each); {} chunks queued; peak memory {before:.0} MiB \
         before, {after:.0} MiB after (the file itself is in the in-memory bucket)",
        count as f64 / seconds,
        seconds * 1e6 / count as f64,
        job["chunks"]
    );
}

/// `POST /v1/jobs` as `who` for a file to upload: the job waits for it.
async fn create_upload(w: &World, who: &Who) -> Reply {
    w.send_as(
        who,
        "POST",
        "/v1/jobs",
        Some(&json!({"upload": "ndjson", "targets": ["a-tokyo"], "policy": "MarshalDevice"})),
    )
    .await
}

fn job_id(reply: &Reply) -> String {
    reply.body["job"]["id"].as_str().unwrap().to_owned()
}

/// One user cannot fill the queue and every target's pace ahead of the
/// other teams: a caller has at most `maxActivePerCaller` (3) jobs that
/// have not ended. An ended job (finished, cancelled, failed) frees its
/// place, even when the write that should have freed it was lost.
#[tokio::test]
async fn a_caller_has_at_most_three_jobs_under_way() {
    use marshal_lambda::service::jobs::{JobStore, Transition};
    use marshal_shared::api::JobState;

    let w = jwt_world();
    let waiting = job_id(&expect_created(create_upload(&w, &alice()).await));
    let small = small_job(&w, &alice(), "job-slot", 1).await;
    let third = job_id(&expect_created(create_upload(&w, &alice()).await));

    let refused = create_upload(&w, &alice()).await;
    expect(&refused, 429, Some("too_many_jobs"));
    let message = refused.body["error"]["message"].as_str().unwrap();
    for id in [&waiting, &small, &third] {
        assert!(message.contains(id.as_str()), "{message}");
    }
    assert!(message.contains("awaiting_upload"), "{message}");
    // A refused job is not stored, and another user is not held back.
    expect_created(create_upload(&w, &bob()).await);

    // The small job runs to its end: its place is free.
    run_worker(&w).await;
    assert_eq!(job_of(&w, &small).await["state"], "finished");
    let fourth = job_id(&expect_created(create_upload(&w, &alice()).await));
    expect(
        &create_upload(&w, &alice()).await,
        429,
        Some("too_many_jobs"),
    );

    // Cancelled: free.
    let cancelled = w
        .send_as(
            &alice(),
            "POST",
            &format!("/v1/jobs/{waiting}/cancel"),
            Some(&json!({})),
        )
        .await;
    expect(&cancelled, 200, None);
    expect_created(create_upload(&w, &alice()).await);
    expect(
        &create_upload(&w, &alice()).await,
        429,
        Some("too_many_jobs"),
    );

    // Ended without giving its place back (the write was lost): the place
    // is taken back when it is in the way.
    let moved = w
        .jobs
        .transition(
            &fourth,
            &[JobState::AwaitingUpload],
            JobState::Failed,
            &Transition::default(),
        )
        .await
        .unwrap();
    assert!(moved);
    expect_created(create_upload(&w, &alice()).await);
    expect(
        &create_upload(&w, &alice()).await,
        429,
        Some("too_many_jobs"),
    );
}

fn expect_created(reply: Reply) -> Reply {
    expect(&reply, 201, None);
    reply
}

/// A small job of `count` new certificates (`cn_prefix-<i>`) into a-tokyo,
/// created as `who`: its id.
async fn small_job(w: &World, who: &Who, cn_prefix: &str, count: usize) -> String {
    let certs: Vec<_> = (0..count)
        .map(|i| creds(&format!("{cn_prefix}-{i}")))
        .collect();
    let refs: Vec<_> = certs.iter().collect();
    job_id(&expect_created(
        create_inline(w, who, &refs, &["a-tokyo"]).await,
    ))
}

/// A world whose jobs have one certificate per chunk and at most two
/// chunks queued per job (and small jobs of up to 20 certificates).
fn windowed_world() -> World {
    let config = jwt_config().replace(
        "maxCertificatesPerRequest = 5",
        "maxCertificatesPerRequest = 20",
    );
    world_with(&(config + "\n[jobs]\nchunkSize = 1\nchunksQueuedPerJob = 2\n"))
}

/// The job and chunk of a queued message.
fn chunk_of(body: &str) -> (String, u64) {
    let message: Value = serde_json::from_str(body).unwrap();
    assert_eq!(message["kind"], "chunk", "{body}");
    (
        message["job"].as_str().unwrap().to_owned(),
        message["chunk"].as_u64().unwrap(),
    )
}

/// A job submitted behind a large one does not wait for all of it: a job
/// keeps at most `chunksQueuedPerJob` chunks on the queue and queues the
/// next as one is done, so the queue (first in, first out here) holds the
/// two jobs' chunks in turns. Every chunk is still done exactly once.
#[tokio::test]
async fn a_later_job_takes_turns_with_a_large_one() {
    let w = windowed_world();
    let large_id = small_job(&w, &alice(), "job-turn-a", 12).await;
    let small_id = small_job(&w, &bob(), "job-turn-b", 2).await;

    let mut queue: std::collections::VecDeque<String> = w.jobs.drain().into();
    let mut order = Vec::new();
    while let Some(body) = queue.pop_front() {
        let queued_large = queue.iter().filter(|b| chunk_of(b).0 == large_id).count();
        assert!(
            queued_large <= 2,
            "{queued_large} chunks of the large job queued at once"
        );
        let deadline = Instant::now() + Duration::from_secs(60);
        assert_eq!(w.service.work(&body, deadline).await, WorkOutcome::Done);
        order.push(chunk_of(&body));
        queue.extend(w.jobs.drain());
    }
    let small_last = order.iter().rposition(|(job, _)| job == &small_id).unwrap();
    assert!(
        small_last < 5,
        "the small job's last chunk came {}th of {}: {order:?}",
        small_last + 1,
        order.len()
    );
    let large_chunks: Vec<u64> = order
        .iter()
        .filter(|(job, _)| job == &large_id)
        .map(|(_, chunk)| *chunk)
        .collect();
    assert_eq!(
        large_chunks,
        (0..12).collect::<Vec<_>>(),
        "each chunk once, in order"
    );
    for (id, count) in [(&large_id, 12), (&small_id, 2)] {
        let who = if id == &large_id { alice() } else { bob() };
        let job = w
            .send_as(&who, "GET", &format!("/v1/jobs/{id}"), None)
            .await
            .body;
        assert_eq!(job["state"], "finished", "{job:#}");
        assert_eq!(job["counts"]["succeeded"], count, "{job:#}");
    }
}

/// The next chunk is queued when one is done; if that send fails, the
/// message is delivered again and the chunk, done already, queues it then.
/// A cancelled job's chunks still go through, each marked skipped.
#[tokio::test]
async fn a_lost_send_of_the_next_chunk_is_made_up_and_a_cancel_skips_the_rest() {
    let w = windowed_world();
    let id = small_job(&w, &alice(), "job-next", 5).await;
    let queued = w.jobs.drain();
    assert_eq!(
        queued.iter().map(|b| chunk_of(b).1).collect::<Vec<_>>(),
        [0, 1]
    );
    let deadline = Instant::now() + Duration::from_secs(60);
    w.jobs.fail_sends(1);
    assert_eq!(
        w.service.work(&queued[0], deadline).await,
        WorkOutcome::Again
    );
    assert!(w.jobs.drain().is_empty(), "the send failed");
    // Delivered again: done already, it queues the next chunk.
    assert_eq!(
        w.service.work(&queued[0], deadline).await,
        WorkOutcome::Done
    );
    let next = w.jobs.drain();
    assert_eq!(next.iter().map(|b| chunk_of(b).1).collect::<Vec<_>>(), [2]);

    let cancelled = w
        .send_as(
            &alice(),
            "POST",
            &format!("/v1/jobs/{id}/cancel"),
            Some(&json!({})),
        )
        .await;
    expect(&cancelled, 200, None);
    let mut queue: std::collections::VecDeque<String> = [queued[1].clone(), next[0].clone()].into();
    while let Some(body) = queue.pop_front() {
        assert_eq!(w.service.work(&body, deadline).await, WorkOutcome::Done);
        queue.extend(w.jobs.drain());
    }
    let job = job_of(&w, &id).await;
    assert_eq!(job["state"], "cancelled", "{job:#}");
    assert_eq!(job["counts"]["succeeded"], 1, "{job:#}");
    assert_eq!(job["counts"]["skipped"], 4, "{job:#}");
}

/// SQS may deliver a message twice at once: the second delivery finds the
/// pairs' records held by the first, waits, and then finds them registered.
/// Neither counts a failure.
#[tokio::test]
async fn a_chunk_delivered_twice_at_once_fails_nothing() {
    let w = jwt_world();
    let id = small_job(&w, &alice(), "job-at-once", 3).await;
    let queued = w.jobs.drain();
    assert_eq!(queued.len(), 1);
    w.provider
        .delay("register_without_ca", Duration::from_millis(300));
    let deadline = Instant::now() + Duration::from_secs(60);
    let (first, second) = futures::join!(
        w.service.work(&queued[0], deadline),
        w.service.work(&queued[0], deadline)
    );
    assert_eq!((first, second), (WorkOutcome::Done, WorkOutcome::Done));
    let job = job_of(&w, &id).await;
    assert_eq!(job["state"], "finished", "{job:#}");
    assert_eq!(job["counts"]["succeeded"], 3, "{job:#}");
    assert_eq!(job["counts"]["failed"], 0, "{job:#}");
}
