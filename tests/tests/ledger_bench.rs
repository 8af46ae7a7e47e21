//! Benchmark, not a test of speed (`#[ignore]`d; `cargo xtask bench` runs it
//! in release mode and it prints figures, asserting nothing about time).
//!
//! - The inventory with 10,000 certificates in the ownership table (two
//!   registries): the first page of 100, one target's, one thing's, and a
//!   filter that matches nothing (the most a page looks at), through the API
//!   against moto.
//! - Rotation of one certificate across 4 targets with 25 ms added to every
//!   AWS call: time, AWS calls and how many of them wait for another,
//!   against the same rotation done by hand with the AWS CLI.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use marshal_tests::api::{Api, HUB_REGION, OWNERSHIP_TABLE};
use marshal_tests::fault_proxy::{FaultProxy, sequential_depth};
use marshal_tests::moto::Moto;
use marshal_tests::moto_state::{self, Target};
use marshal_tests::{Cmd, python};
use serde_json::json;

const POLICY: &str = "MarshalDevice";
const REPEATS: usize = 7;

fn targets() -> Vec<Target> {
    [
        ("a-tokyo", "111111111111", "ap-northeast-1"),
        ("a-virginia", "111111111111", "us-east-1"),
        ("b-tokyo", "222222222222", "ap-northeast-1"),
        ("b-virginia", "222222222222", "us-east-1"),
    ]
    .iter()
    .map(|(id, account, region)| Target::new(id, account, region, "MarshalTarget", "marshal-bench"))
    .collect()
}

fn config(targets: &[Target]) -> String {
    let mut toml = "auth = \"none\"\n".to_owned();
    for t in targets {
        toml.push_str(&t.config_entry(&t.id));
    }
    toml.push_str(&format!("\n[[policies]]\nname = \"{POLICY}\"\n"));
    toml
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn keygen(dir: &std::path::Path, cn: &str) -> (String, String) {
    let run = Cmd::marshal()
        .args(["keygen", "--cn", cn, "--json", "--out"])
        .arg(dir)
        .run();
    run.assert_success();
    let out = run.json();
    (
        std::fs::read_to_string(out["certificatePath"].as_str().unwrap()).unwrap(),
        out["certificateId"].as_str().unwrap().to_owned(),
    )
}

#[test]
#[ignore = "benchmark: run with `cargo xtask bench`"]
fn inventory_figures() {
    const ENTRIES: usize = 10_000;
    let moto = Moto::start();
    let targets = targets();
    moto_state::seed_with_device_policy(&moto.endpoint(), &targets, POLICY);
    let api = Api::start(&config(&targets), &moto.endpoint());
    let started = Instant::now();
    moto_state::ledger_state(
        &moto.endpoint(),
        &json!({
            "action": "fill", "region": HUB_REGION, "table": OWNERSHIP_TABLE, "count": ENTRIES,
            "registries": [["111111111111", "ap-northeast-1", "a-tokyo"], ["222222222222", "us-east-1", "b-virginia"]],
        }),
    );
    println!(
        "\n{ENTRIES} inventory entries written in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let time = |path: &str| -> (f64, usize) {
        let mut samples = Vec::new();
        let mut entries = 0;
        for _ in 0..REPEATS {
            let t0 = Instant::now();
            let body = api.get(path).expect_status(200);
            samples.push(t0.elapsed().as_secs_f64() * 1000.0);
            entries = body["entries"].as_array().unwrap().len();
        }
        (median(samples), entries)
    };
    let floor = moto_state::ledger_state(
        &moto.endpoint(),
        &json!({"action": "query", "region": HUB_REGION, "table": OWNERSHIP_TABLE,
                "registry": "111111111111#ap-northeast-1", "repeats": REPEATS}),
    );
    println!(
        "  floor: one index query of 100 straight to moto with boto3: {:.1} ms median \
         (moto reads and sorts the whole table per query; DynamoDB does not)",
        floor["medianMs"].as_f64().unwrap()
    );
    for (label, path) in [
        (
            "first page of 100, every target",
            "/v1/certificates?limit=100",
        ),
        (
            "first page of 100, one target",
            "/v1/certificates?target=a-tokyo&limit=100",
        ),
        (
            "expiring within 30 days",
            "/v1/certificates?expiresBefore=2027-01-03T00:00:00Z",
        ),
        (
            "one thing (from its record)",
            "/v1/certificates?thing=bench-4242",
        ),
        (
            "a registrant no entry has (looks at 5,000)",
            "/v1/certificates?registeredBy=nobody",
        ),
    ] {
        let (ms, n) = time(path);
        println!("  {label}: {ms:.1} ms median of {REPEATS} ({n} entries)");
    }
}

#[test]
#[ignore = "benchmark: run with `cargo xtask bench`"]
fn rotation_figures() {
    let moto = Moto::start();
    let targets = targets();
    moto_state::seed_with_device_policy(&moto.endpoint(), &targets, POLICY);
    let upstream: SocketAddr = format!("127.0.0.1:{}", moto.port()).parse().unwrap();
    let proxy = FaultProxy::start_with_delay(upstream, 0, 1, Duration::from_millis(25));
    let api = Api::start(&config(&targets), &proxy.endpoint());
    let dir = tempfile::tempdir().unwrap();
    let ids: Vec<String> = targets.iter().map(|t| t.id.clone()).collect();

    let mut rotate_ms = Vec::new();
    let mut retire_ms = Vec::new();
    let mut calls = (0, 0, 0, 0);
    for r in 0..=REPEATS {
        let (old_pem, old) = keygen(dir.path(), &format!("rot-{r}"));
        let (new_pem, _) = keygen(dir.path(), &format!("rot-{r}-next"));
        api.post_json(
            "/v1/registrations",
            &json!({"certificates": [{"certificatePem": old_pem}], "targets": ids, "policy": POLICY}),
        )
        .expect_status(200);
        proxy.take_calls();
        let t0 = Instant::now();
        api.post_json(
            &format!("/v1/certificates/{old}/rotate"),
            &json!({"certificatePem": new_pem, "targets": ids}),
        )
        .expect_status(200);
        let rotated = t0.elapsed().as_secs_f64() * 1000.0;
        let rotate_calls = proxy.take_calls();
        let t0 = Instant::now();
        api.post_json(
            &format!("/v1/certificates/{old}/retire"),
            &json!({"targets": ids}),
        )
        .expect_status(200);
        let retired = t0.elapsed().as_secs_f64() * 1000.0;
        let retire_calls = proxy.take_calls();
        // The first round warms credentials, clients and policy look-ups.
        if r > 0 {
            rotate_ms.push(rotated);
            retire_ms.push(retired);
            calls = (
                rotate_calls.len(),
                sequential_depth(&rotate_calls),
                retire_calls.len(),
                sequential_depth(&retire_calls),
            );
        }
    }

    // The same rotation by hand with the AWS CLI (one process per call),
    // straight against moto.
    let (old_pem, old) = keygen(dir.path(), "rot-cli");
    let (new_pem, _) = keygen(dir.path(), "rot-cli-next");
    api.post_json(
        "/v1/registrations",
        &json!({"certificates": [{"certificatePem": old_pem}], "targets": ids, "policy": POLICY}),
    )
    .expect_status(200);
    let run = Cmd::new(python())
        .arg(marshal_tests::workspace_dir().join("tests/moto/bench_sdk.py"))
        .args(["--endpoint", &moto.endpoint(), "--via", "awscli-rotate"])
        .stdin(
            json!({"targets": targets.iter().map(Target::spec).collect::<Vec<_>>(), "old": old, "certificate": new_pem})
                .to_string(),
        )
        .run();
    run.assert_success();
    let cli = run.json();

    println!(
        "\nRotation of one certificate across 4 targets, 25 ms per AWS call, median of {REPEATS}:"
    );
    println!(
        "  rotate: {:.0} ms, {} AWS and DynamoDB calls, {} in sequence",
        median(rotate_ms),
        calls.0,
        calls.1
    );
    println!(
        "  retire: {:.0} ms, {} calls, {} in sequence",
        median(retire_ms),
        calls.2,
        calls.3
    );
    println!(
        "  by hand with the AWS CLI (rotate only, straight to moto, no added latency): {:.0} ms, {} processes",
        cli["totalMs"].as_f64().unwrap(),
        cli["calls"]
    );
}
