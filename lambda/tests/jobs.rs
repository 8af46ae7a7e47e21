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
    let created = w
        .send_as(
            &alice(),
            "POST",
            "/v1/jobs",
            Some(&inline_job(&[&cert], &["a-tokyo"])),
        )
        .await;
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
    let job = w
        .send_as(&alice(), "GET", &format!("/v1/jobs/{id}"), None)
        .await;
    expect(&job, 200, None);
    assert_eq!(job.body["state"], "finished", "{}", job.body);
    assert_eq!(job.body["counts"]["succeeded"], 1);
}

#[tokio::test]
async fn a_job_registers_only_what_its_creator_could() {
    let w = jwt_world();
    // A target bob's groups do not allow: refused before anything is stored.
    let cert = creds("job-right-1");
    let reply = w
        .send_as(
            &bob(),
            "POST",
            "/v1/jobs",
            Some(&inline_job(&[&cert], &["b-virginia"])),
        )
        .await;
    expect(&reply, 403, Some("forbidden_target"));
    // Alice's certificate, already registered by her: bob's job cannot take it over.
    let reply = w
        .register_as(&alice(), &[(&cert, None)], &["a-tokyo"], json!({}))
        .await;
    expect(&reply, 200, None);
    let before = snapshot(&w);
    let created = w
        .send_as(
            &bob(),
            "POST",
            "/v1/jobs",
            Some(&inline_job(&[&cert], &["a-tokyo"])),
        )
        .await;
    expect(&created, 201, None);
    let id = created.body["job"]["id"].as_str().unwrap().to_owned();
    run_worker(&w).await;
    let job = w
        .send_as(&bob(), "GET", &format!("/v1/jobs/{id}"), None)
        .await;
    assert_eq!(job.body["state"], "finished", "{}", job.body);
    assert_eq!(
        job.body["counts"],
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
    let created = w
        .send_as(
            &alice(),
            "POST",
            "/v1/jobs",
            Some(&inline_job(&refs, &["a-tokyo", "a-virginia"])),
        )
        .await;
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
    let job = w
        .send_as(&alice(), "GET", &format!("/v1/jobs/{id}"), None)
        .await;
    assert_eq!(
        job.body["counts"],
        json!({"pending": 0, "succeeded": 6, "failed": 0, "skipped": 0}),
        "{}",
        job.body
    );
    assert_eq!(job.body["chunksDone"], 1);
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
    let created = w
        .send_as(
            &alice(),
            "POST",
            "/v1/jobs",
            Some(&json!({"upload": "ndjson", "targets": ["a-tokyo"], "policy": "MarshalDevice"})),
        )
        .await;
    expect(&created, 201, None);
    let id = created.body["job"]["id"].as_str().unwrap().to_owned();
    assert_eq!(created.body["upload"]["method"], "PUT");
    let line = json!({"thingName": "job-file-1", "certificatePem": cert.certificate.to_pem() + cert.private_key.to_pkcs8_pem().as_str()});
    w.jobs.upload(&id, format!("{line}\n").as_bytes());
    let before = snapshot(&w);
    expect(
        &w.send_as(
            &alice(),
            "POST",
            &format!("/v1/jobs/{id}/start"),
            Some(&json!({})),
        )
        .await,
        202,
        None,
    );
    run_worker(&w).await;
    let job = w
        .send_as(&alice(), "GET", &format!("/v1/jobs/{id}"), None)
        .await;
    assert_eq!(job.body["state"], "failed", "{}", job.body);
    assert_eq!(job.body["error"]["code"], "key_material_refused");
    assert_eq!(
        snapshot(&w),
        before,
        "a refused file changed AWS or the records"
    );

    // Cancelled before its chunk ran: every pair skipped, nothing registered.
    let other = creds("job-file-2");
    let created = w
        .send_as(
            &alice(),
            "POST",
            "/v1/jobs",
            Some(&inline_job(&[&other], &["a-tokyo"])),
        )
        .await;
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
    let job = w
        .send_as(&alice(), "GET", &format!("/v1/jobs/{id}"), None)
        .await;
    assert_eq!(job.body["state"], "cancelled");
    assert_eq!(
        job.body["counts"],
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
    let created = w
        .send_as(
            &alice(),
            "POST",
            "/v1/jobs",
            Some(&inline_job(&[&cert], &["a-tokyo", "a-virginia"])),
        )
        .await;
    expect(&created, 500, Some("internal_error"));
    let message = created.body["error"]["message"].as_str().unwrap().to_owned();
    let id = message
        .split_whitespace()
        .nth(1)
        .filter(|id| marshal_shared::validate::is_job_id(id))
        .unwrap_or_else(|| panic!("no job id in {message:?}"))
        .to_owned();
    assert!(message.contains(&format!("POST /v1/jobs/{id}/start")), "{message}");
    assert!(w.jobs.drain().is_empty());
    let job = w
        .send_as(&alice(), "GET", &format!("/v1/jobs/{id}"), None)
        .await;
    assert_eq!(job.body["state"], "running", "{}", job.body);
    // Only its creator can queue it again.
    let stranger = w
        .send_as(&bob(), "POST", &format!("/v1/jobs/{id}/start"), Some(&json!({})))
        .await;
    expect(&stranger, 404, Some("job_not_found"));
    let start = w
        .send_as(&alice(), "POST", &format!("/v1/jobs/{id}/start"), Some(&json!({})))
        .await;
    expect(&start, 202, None);
    // Twice: the chunk is queued twice and done once.
    expect(
        &w.send_as(&alice(), "POST", &format!("/v1/jobs/{id}/start"), Some(&json!({})))
            .await,
        202,
        None,
    );
    run_worker(&w).await;
    let job = w
        .send_as(&alice(), "GET", &format!("/v1/jobs/{id}"), None)
        .await;
    assert_eq!(job.body["state"], "finished", "{}", job.body);
    assert_eq!(
        job.body["counts"],
        json!({"pending": 0, "succeeded": 2, "failed": 0, "skipped": 0})
    );
    let again = w
        .send_as(&alice(), "POST", &format!("/v1/jobs/{id}/start"), Some(&json!({})))
        .await;
    expect(&again, 409, Some("job_conflict"));

    // An uploaded job whose split could not queue its chunks: the split's
    // redelivery queues them.
    let certs: Vec<_> = (0..3).map(|i| creds(&format!("job-lost-file-{i}"))).collect();
    let created = w
        .send_as(
            &alice(),
            "POST",
            "/v1/jobs",
            Some(&json!({"upload": "ndjson", "targets": ["a-tokyo"], "policy": "MarshalDevice"})),
        )
        .await;
    let id = created.body["job"]["id"].as_str().unwrap().to_owned();
    let file: String = certs
        .iter()
        .map(|c| format!("{}\n", json!({"certificatePem": c.certificate.to_pem()})))
        .collect();
    w.jobs.upload(&id, file.as_bytes());
    expect(
        &w.send_as(&alice(), "POST", &format!("/v1/jobs/{id}/start"), Some(&json!({})))
            .await,
        202,
        None,
    );
    let split = w.jobs.drain();
    assert_eq!(split.len(), 1);
    let deadline = Instant::now() + Duration::from_secs(60);
    w.jobs.fail_sends(1);
    assert_eq!(w.service.work(&split[0], deadline).await, WorkOutcome::Again);
    assert!(w.jobs.drain().is_empty(), "nothing was queued");
    // SQS delivers the split again once its visibility ends.
    assert_eq!(w.service.work(&split[0], deadline).await, WorkOutcome::Done);
    run_worker(&w).await;
    let job = w
        .send_as(&alice(), "GET", &format!("/v1/jobs/{id}"), None)
        .await;
    assert_eq!(job.body["state"], "finished", "{}", job.body);
    assert_eq!(job.body["counts"]["succeeded"], 3, "{}", job.body);
}
