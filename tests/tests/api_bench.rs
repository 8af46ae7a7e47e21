//! Benchmark, not a test of speed (`#[ignore]`d; `cargo xtask bench` runs it
//! in release mode and it prints figures, asserting nothing about time).
//!
//! One certificate into 1, 4 and 16 targets through the API, a batch of 100
//! into one target, the floor: the same AWS calls made directly with boto3
//! against the same moto, target after target, and what an operator does
//! without Marshal: the same four-target onboarding with the AWS CLI, one
//! process per call, compared with one call to our API in the same run. moto answers one call
//! at a time (Python), so fan-out cannot show against it directly; a second
//! run puts a proxy adding 25 ms per AWS call (a real region's round trip)
//! between the API and moto, where concurrency across targets does show.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::{
    net::SocketAddr,
    time::{Duration, Instant},
};

use marshal_tests::{
    Cmd,
    api::Api,
    fault_proxy::{FaultProxy, sequential_depth},
    moto::Moto,
    moto_state::{self, Target},
    python,
};
use serde_json::{Value, json};

const POLICY: &str = "MarshalDevice";
const REGIONS: [&str; 4] = ["ap-northeast-1", "us-east-1", "us-west-2", "eu-west-1"];
const ACCOUNTS: [&str; 4] = [
    "111111111111",
    "222222222222",
    "333333333333",
    "444444444444",
];
const REPEATS: usize = 7;

fn targets() -> Vec<Target> {
    ACCOUNTS
        .iter()
        .flat_map(|a| {
            REGIONS.iter().map(move |r| {
                Target::new(
                    &format!("t-{}-{r}", &a[..1]),
                    a,
                    r,
                    "MarshalTarget",
                    "marshal-bench",
                )
            })
        })
        .collect()
}

fn config(targets: &[Target]) -> String {
    let mut toml = String::from(
        "auth = \"none\"\n\n[limits]\nmaxTargetsPerRequest = 16\nmaxCertificatesPerRequest = 100\nconcurrency = 16\n",
    );
    for t in targets {
        toml.push_str(&t.config_entry(&t.id));
    }
    toml.push_str(&format!("\n[[policies]]\nname = \"{POLICY}\"\n"));
    toml
}

/// `n` fresh certificates made by `marshal keygen`.
fn certificates(dir: &std::path::Path, prefix: &str, n: usize) -> Vec<String> {
    (0..n)
        .map(|i| {
            let cn = format!("{prefix}-{i:03}");
            Cmd::marshal()
                .args(["keygen", "--cn", &cn, "--out"])
                .arg(dir)
                .run()
                .assert_success();
            std::fs::read_to_string(dir.join(format!("{cn}.cert.pem"))).unwrap()
        })
        .collect()
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// (targets, median ms) for one certificate into 1, 4, 16 targets, and the batch of 100.
fn measure(
    api: &Api,
    targets: &[Target],
    dir: &std::path::Path,
    label: &str,
    proxy: Option<&FaultProxy>,
) -> (Vec<(usize, f64)>, f64) {
    let register = |pems: &[String], ids: &[&Target]| -> f64 {
        let body = json!({
            "certificates": pems.iter().map(|p| json!({"certificatePem": p})).collect::<Vec<_>>(),
            "targets": ids.iter().map(|t| t.id.clone()).collect::<Vec<_>>(),
            "policy": POLICY,
        });
        let started = Instant::now();
        let exchange = api.post_json("/v1/registrations", &body);
        let ms = started.elapsed().as_secs_f64() * 1000.0;
        exchange.expect_status(200);
        ms
    };

    // Warm up: credentials, clients and endpoints for every target are cached
    // after first use, as in a long-lived Lambda.
    let warm = certificates(dir, &format!("{label}-warm"), 1);
    register(&warm, &targets.iter().collect::<Vec<_>>());

    // What one warm registration into one target asks of AWS (and the
    // ownership table), in order, and how many of those calls wait for
    // another: the round trips that set the latency.
    if let Some(proxy) = proxy {
        proxy.take_calls();
        register(
            &certificates(dir, &format!("{label}-calls"), 1),
            &[&targets[0]],
        );
        let calls = proxy.take_calls();
        println!(
            "\nOne warm registration into one target: {} calls, {} in sequence:",
            calls.len(),
            sequential_depth(&calls)
        );
        let mut sorted = calls.clone();
        sorted.sort_by_key(|c| c.started);
        for c in &sorted {
            println!(
                "  {:>7.1} → {:>7.1} ms  {}",
                c.started.as_secs_f64() * 1000.0 - sorted[0].started.as_secs_f64() * 1000.0,
                c.finished.as_secs_f64() * 1000.0 - sorted[0].started.as_secs_f64() * 1000.0,
                c.operation
            );
        }
    }

    let mut api_ms = Vec::new();
    for n in [1usize, 4, 16] {
        let chosen: Vec<&Target> = targets.iter().take(n).collect();
        let samples: Vec<f64> = (0..REPEATS)
            .map(|r| register(&certificates(dir, &format!("{label}{n}-{r}"), 1), &chosen))
            .collect();
        api_ms.push((n, median(samples)));
    }
    let batch = certificates(dir, &format!("{label}-batch"), 100);
    let batch_ms = register(&batch, &[&targets[0]]);

    (api_ms, batch_ms)
}

#[test]
#[ignore = "benchmark: run with `cargo xtask bench`"]
fn onboarding_figures() {
    let moto = Moto::start();
    let targets = targets();
    moto_state::seed_with_device_policy(&moto.endpoint(), &targets, POLICY);
    let dir = tempfile::tempdir().unwrap();
    let direct = measure(
        &Api::start(&config(&targets), &moto.endpoint()),
        &targets,
        dir.path(),
        "direct",
        None,
    );
    let upstream: SocketAddr = format!("127.0.0.1:{}", moto.port()).parse().unwrap();
    let proxy = FaultProxy::start_with_delay(upstream, 0, 0, Duration::from_millis(25));
    let delayed = measure(
        &Api::start(&config(&targets), &proxy.endpoint()),
        &targets,
        dir.path(),
        "delayed",
        Some(&proxy),
    );

    // The floor: boto3 straight to moto, 4 targets one after another, repeated.
    let mut floor = Vec::new();
    for r in 0..REPEATS {
        let out = direct_calls(
            &moto,
            &targets[..4],
            dir.path(),
            &format!("sdk-{r}"),
            "boto3",
        );
        // The first run pays AssumeRole and client set-up; keep warm runs.
        if r > 0 {
            floor.extend(
                out["perTargetMs"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .filter_map(Value::as_f64),
            );
        }
    }
    let floor_per_target = median(floor);

    // Without Marshal: the AWS CLI, one process per call, 4 targets.
    let cli: Vec<f64> = (0..3)
        .map(|r| {
            let out = direct_calls(
                &moto,
                &targets[..4],
                dir.path(),
                &format!("cli-{r}"),
                "awscli",
            );
            out["totalMs"].as_f64().unwrap()
        })
        .collect();
    let cli_four = median(cli);

    report("direct to moto", &direct);
    report("with 25 ms per AWS call (proxy)", &delayed);
    println!(
        "boto3 floor (same calls, direct to moto, sequential): {floor_per_target:.1} ms per target"
    );
    println!(
        "  API one target / floor one target: {:.2}×",
        direct.0[0].1 / floor_per_target
    );
    println!(
        "  API 4 targets / floor 4 targets sequential: {:.2}×",
        direct.0[1].1 / (4.0 * floor_per_target)
    );
    println!(
        "AWS CLI, same onboarding into 4 targets (assume-role, register, attach, thing, \
         activate, endpoint; one process per call, median of 3): {cli_four:.0} ms"
    );
    println!(
        "  one API call into 4 targets: {:.1} ms = {:.3}× the AWS CLI ({:.0}× faster)",
        direct.0[1].1,
        direct.0[1].1 / cli_four,
        cli_four / direct.0[1].1
    );
}

/// One fresh certificate per target, onboarded by `bench_sdk.py --via VIA`
/// straight against moto; the script's figures.
fn direct_calls(
    moto: &Moto,
    targets: &[Target],
    dir: &std::path::Path,
    prefix: &str,
    via: &str,
) -> Value {
    let input = json!({
        "targets": targets.iter().map(Target::spec).collect::<Vec<_>>(),
        "policy": POLICY,
        "certificates": certificates(dir, prefix, targets.len()),
    });
    let run = Cmd::new(python())
        .arg(marshal_tests::workspace_dir().join("tests/moto/bench_sdk.py"))
        .args(["--endpoint", &moto.endpoint(), "--via", via])
        .stdin(input.to_string())
        .run();
    run.assert_success();
    run.json()
}

fn report(label: &str, (api_ms, batch_ms): &(Vec<(usize, f64)>, f64)) {
    let one = api_ms[0].1;
    println!("\nMarshal API, {label} (release build, warm caches, median of {REPEATS}):");
    for (n, ms) in api_ms {
        println!(
            "  one certificate into {n:>2} target(s): {ms:7.1} ms  ({:.2}× one target)",
            ms / one
        );
    }
    println!(
        "  batch of 100 certificates into 1 target: {batch_ms:7.1} ms ({:.1} ms per certificate)",
        batch_ms / 100.0
    );
}
