//! A bounded load test on loopback: 50 clients each register a fresh
//! certificate into two targets and delete it again, over and over, for a
//! fixed time (`MARSHAL_LOAD_SECONDS`, 20 by default; `cargo xtask bench`
//! runs 60 on a release build). It prints requests per second, p50/p99
//! latency per route and the API process's peak memory, and fails on any
//! answer other than 200 and on any end state in AWS other than "nothing
//! left": every certificate registered was deleted, no certificate appears
//! twice, no thing keeps a principal, and no ownership record stays leased.
//!
//! moto answers one call at a time in one Python process, so the figures
//! here are moto's throughput more than the API's; what the test holds the
//! API to is zero errors and a clean end under 50 concurrent clients. Under
//! fifty clients a call can wait in moto's queue past the most the request
//! deadline allows it (3.5 s), and the API then answers `aws_timeout`,
//! which tells a client to send the request again (and, if the store's
//! hand-back of the records timed out too, `certificate_busy` until their
//! lease ends). The clients do, backing off, as the CLI's users would;
//! such answers are counted and printed, and more than one in twenty fails
//! the test.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::{
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, Ordering},
    },
    thread,
    time::{Duration, Instant},
};

use marshal_shared::{CertificateRequest, KeyType, OffsetDateTime, generate_ec};
use marshal_tests::{
    api::Api,
    moto::Moto,
    moto_state::{self, Target},
};
use serde_json::{Value, json};

const CLIENTS: usize = 50;
const POLICY: &str = "MarshalDevice";

fn targets() -> Vec<Target> {
    vec![
        Target::new(
            "load-a",
            "111111111111",
            "ap-northeast-1",
            "MarshalTarget",
            "marshal-load",
        ),
        Target::new(
            "load-b",
            "222222222222",
            "us-east-1",
            "MarshalTarget",
            "marshal-load",
        ),
    ]
}

/// What one client saw: latencies by route, and every answer that was not 200.
#[derive(Debug, Default)]
struct Seen {
    register_ms: Vec<f64>,
    delete_ms: Vec<f64>,
    failures: Vec<String>,
    /// Answers whose every error said "send it again" (moto's queue kept a
    /// call past its timeout), which were sent again.
    resent: usize,
}

/// Which latencies a request adds to.
#[derive(Clone, Copy)]
enum Route {
    Register,
    Delete,
}

impl Seen {
    /// Sends a request until it is answered 200, or with anything but
    /// "send it again", or [`TRIES`] times; notes each try's latency and
    /// what failed.
    fn send(&mut self, what: &str, route: Route, send: impl Fn() -> marshal_tests::api::Exchange) {
        for tries in 1..=TRIES {
            let t = Instant::now();
            let exchange = send();
            let ms = t.elapsed().as_secs_f64() * 1000.0;
            match route {
                Route::Register => self.register_ms.push(ms),
                Route::Delete => self.delete_ms.push(ms),
            }
            let (status, answer) = (exchange.status(), exchange.json());
            if status == 200 {
                return;
            }
            if tries < TRIES && only_transient(status, &answer) {
                self.resent += 1;
                thread::sleep(Duration::from_secs(1 << (tries - 1)));
                continue;
            }
            self.failures
                .push(format!("{what} (try {tries}): {}", shorten(&answer)));
            return;
        }
    }
}

/// Tries of one request: the first, and up to five more for answers that
/// only say "send it again", after 1, 2, 4, 8 and 16 s: a record whose
/// hand-back failed when moto's queue was long stays leased until its
/// request's deadline has passed (28 s and 5 s of slack).
const TRIES: u32 = 6;

/// Whether an answer's every error is one a client is told to meet by
/// sending the request again: AWS (here moto's one-at-a-time queue) did
/// not answer in time, was unavailable or throttled, or another request
/// (an earlier try whose records could not be handed back) holds the
/// certificate for a while.
fn only_transient(status: u16, body: &Value) -> bool {
    const TRANSIENT: [&str; 4] = [
        "aws_timeout",
        "aws_unavailable",
        "aws_throttled",
        "certificate_busy",
    ];
    let codes: Vec<&str> = body["results"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|r| r["error"]["code"].as_str())
        .collect();
    status == 207 && !codes.is_empty() && codes.iter().all(|c| TRANSIENT.contains(c))
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

/// The kernel's high-water mark of the process's resident memory, in KiB.
fn peak_rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

#[test]
fn fifty_clients_register_and_delete_without_an_error() {
    let seconds: u64 = std::env::var("MARSHAL_LOAD_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20);
    let moto = Moto::start();
    let targets = targets();
    moto_state::seed_with_device_policy(&moto.endpoint(), &targets, POLICY);
    // moto answers one call at a time: under fifty clients a call can wait
    // in its queue past the 3 s meant for AWS. The test counts errors, not
    // waits, so the API waits as long as its request deadline allows
    // (28 s for 8 sequential calls: 3.5 s each).
    let mut config = String::from(
        "auth = \"none\"\n\n[limits]\nconcurrency = 16\nawsCallTimeoutMs = 3500\nrequestDeadlineMs = 28000\n",
    );
    for t in &targets {
        config.push_str(&t.config_entry(&t.id));
    }
    config.push_str(&format!("\n[[policies]]\nname = \"{POLICY}\"\n"));
    let api = Arc::new(Api::start(&config, &moto.endpoint()));
    let target_ids: Vec<String> = targets.iter().map(|t| t.id.clone()).collect();
    let baseline_kib = peak_rss_kib(api.pid());

    // One registration and delete first, so moto's registries and the
    // API's role and endpoint caches are warm: the load measures the
    // steady state, not fifty clients racing a cold emulator's first call.
    let warm = generate_ec(
        KeyType::EcP256,
        &CertificateRequest::new("load-warm-up"),
        OffsetDateTime::now_utc(),
    )
    .unwrap();
    api.post_json(
        "/v1/registrations",
        &json!({
            "certificates": [{"certificatePem": warm.certificate.to_pem()}],
            "targets": target_ids,
            "policy": POLICY,
        }),
    )
    .expect_status(200);
    api.delete(&format!(
        "/v1/certificates/{}?targets={}",
        warm.certificate.id(),
        target_ids.join(",")
    ))
    .expect_status(200);

    let stop = Arc::new(AtomicBool::new(false));
    let seen: Arc<Mutex<Vec<Seen>>> = Arc::default();
    let started = Instant::now();
    let clients: Vec<_> = (0..CLIENTS)
        .map(|client| {
            let (api, stop, seen, target_ids) =
                (api.clone(), stop.clone(), seen.clone(), target_ids.clone());
            thread::spawn(move || {
                let mut mine = Seen::default();
                let mut round = 0;
                // A round that has started finishes: its certificate is
                // deleted before the client stops.
                while !stop.load(Ordering::Relaxed) {
                    let cn = format!("load-{client:02}-{round:04}");
                    round += 1;
                    let credentials = generate_ec(
                        KeyType::EcP256,
                        &CertificateRequest::new(cn.clone()),
                        OffsetDateTime::now_utc(),
                    )
                    .unwrap();
                    let id = credentials.certificate.id();
                    let body = json!({
                        "certificates": [{"certificatePem": credentials.certificate.to_pem()}],
                        "targets": target_ids,
                        "policy": POLICY,
                    });
                    // As a client does: an answer that only says "send it
                    // again" is sent again; anything else is a failure.
                    let register = || api.post_json("/v1/registrations", &body);
                    mine.send(&format!("register {cn}"), Route::Register, register);
                    let path = format!("/v1/certificates/{id}?targets={}", target_ids.join(","));
                    mine.send(&format!("delete {cn}"), Route::Delete, || api.delete(&path));
                }
                seen.lock().unwrap().push(mine);
            })
        })
        .collect();
    thread::sleep(Duration::from_secs(seconds));
    stop.store(true, Ordering::Relaxed);
    for c in clients {
        c.join().unwrap();
    }
    let elapsed = started.elapsed().as_secs_f64();
    let peak_kib = peak_rss_kib(api.pid());

    let seen = std::mem::take(&mut *seen.lock().unwrap());
    let mut register: Vec<f64> = seen.iter().flat_map(|s| s.register_ms.clone()).collect();
    let mut delete: Vec<f64> = seen.iter().flat_map(|s| s.delete_ms.clone()).collect();
    let failures: Vec<&String> = seen.iter().flat_map(|s| &s.failures).collect();
    let resent: usize = seen.iter().map(|s| s.resent).sum();
    register.sort_by(f64::total_cmp);
    delete.sort_by(f64::total_cmp);
    let requests = register.len() + delete.len();
    println!(
        "\nLoad: {CLIENTS} clients for {elapsed:.1} s, each registering one certificate into \
         {} targets and deleting it, over and over",
        target_ids.len()
    );
    println!(
        "  {requests} requests, {:.1} per second ({} registrations, {} deletions); {} errors; \
         {resent} answered only \"send it again\" (moto's queue kept a call past its timeout) and were sent again",
        requests as f64 / elapsed,
        register.len(),
        delete.len(),
        failures.len()
    );
    for (route, ms) in [
        ("POST /v1/registrations", &register),
        ("DELETE /v1/certificates/{id}", &delete),
    ] {
        println!(
            "  {route:<30} p50 {:7.1} ms   p99 {:7.1} ms   max {:7.1} ms",
            percentile(ms, 50.0),
            percentile(ms, 99.0),
            ms.last().copied().unwrap_or(f64::NAN)
        );
    }
    let mib =
        |kib: Option<u64>| kib.map_or("?".to_owned(), |k| format!("{:.1}", k as f64 / 1024.0));
    println!(
        "  API process peak resident memory: {} MiB (after start-up: {} MiB)",
        mib(peak_kib),
        mib(baseline_kib)
    );
    assert!(
        resent * 20 <= requests,
        "{resent} of {requests} answers said \"send it again\": more than one in twenty"
    );
    assert!(
        failures.is_empty(),
        "{} answers were not 200, the first ones:\n{}",
        failures.len(),
        failures
            .iter()
            .take(10)
            .map(|f| f.as_str())
            .collect::<Vec<_>>()
            .join("\n")
    );
    assert!(
        register.len() >= CLIENTS,
        "every client completed at least one round"
    );

    // AWS as boto3 sees it: nothing of the load left, nothing twice.
    let aws = moto_state::inspect(&moto.endpoint(), &targets, &[]);
    let rest = end_state(&moto, &targets);
    for t in &targets {
        let target = &aws.raw[&t.id];
        assert_eq!(
            target["certificateCount"], 0,
            "{}: every registered certificate was deleted\n{aws}",
            t.id
        );
        assert_eq!(
            rest[&t.id]["thingsWithPrincipals"],
            json!([]),
            "{}: no thing keeps a principal",
            t.id
        );
        assert_eq!(
            rest[&t.id]["policyTargets"],
            json!([]),
            "{}: the policy is attached to nothing",
            t.id
        );
    }
    assert_eq!(
        rest["leasedRecords"],
        json!([]),
        "every ownership record was handed back"
    );
}

fn shorten(body: &Value) -> String {
    marshal_tests::http::shorten(&body.to_string(), 300)
}

/// What `load_end_state.py` sees: per target, things that still have a
/// principal and the policy's targets; and leased ownership records.
fn end_state(moto: &Moto, targets: &[Target]) -> Value {
    let input = json!({
        "targets": targets.iter().map(Target::spec).collect::<Vec<_>>(),
        "policy": POLICY,
        "ownershipTable": marshal_tests::api::OWNERSHIP_TABLE,
        "hubRegion": marshal_tests::api::HUB_REGION,
    });
    let run = marshal_tests::Cmd::new(marshal_tests::python())
        .arg(marshal_tests::workspace_dir().join("tests/moto/load_end_state.py"))
        .args(["--endpoint", &moto.endpoint()])
        .stdin(input.to_string())
        .run();
    run.assert_success();
    run.json()
}
