//! Benchmark, not a test of speed (`#[ignore]`d; `cargo xtask bench` runs
//! it in release mode and it prints figures, asserting nothing about time).
//!
//! The API's own fan-out, apart from any emulator: the in-memory registry
//! and ownership store with 25 ms added to every call (a real region's round
//! trip), one certificate into 1, 4 and 16 targets and a batch of 100 into
//! one. Against moto the 16-target case measures moto, which answers one
//! call at a time; here AWS answers in parallel, as it does.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::{Duration, Instant};

use support::*;

const ROUND_TRIP: Duration = Duration::from_millis(25);
const REPEATS: usize = 7;
const ACCOUNTS: [&str; 4] = [
    "111111111111",
    "222222222222",
    "333333333333",
    "444444444444",
];
const REGIONS: [&str; 4] = ["ap-northeast-1", "us-east-1", "us-west-2", "eu-west-1"];

fn targets() -> Vec<(String, &'static str, &'static str)> {
    ACCOUNTS
        .iter()
        .flat_map(|a| {
            REGIONS
                .iter()
                .map(move |r| (format!("t-{}-{r}", &a[..1]), *a, *r))
        })
        .collect()
}

fn world_of_sixteen() -> World {
    let mut config = String::from(
        "auth = \"none\"\n\n[limits]\nmaxTargetsPerRequest = 16\nmaxCertificatesPerRequest = 100\nconcurrency = 16\n",
    );
    for (id, account, region) in targets() {
        config.push_str(&format!(
            "\n[[targets]]\nid = \"{id}\"\nname = \"{id}\"\naccountId = \"{account}\"\nregion = \"{region}\"\n\
             roleArn = \"arn:aws:iam::{account}:role/MarshalTarget\"\n"
        ));
    }
    config.push_str("\n[[policies]]\nname = \"MarshalDevice\"\n");
    let w = world_with(&config);
    for (_, account, region) in targets() {
        w.provider.create_policy(account, region, "MarshalDevice");
    }
    w.provider.delay("*", ROUND_TRIP);
    // The real provider caches the endpoint per account and region; this
    // registry asks each time, so asking costs nothing here.
    w.provider.delay("data_ats_endpoint", Duration::ZERO);
    w.ownership.set_latency(ROUND_TRIP);
    w
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "benchmark: run with `cargo xtask bench`"]
async fn fan_out_with_25_ms_per_call() {
    let w = world_of_sixteen();
    let all = targets();
    let ids: Vec<&str> = all.iter().map(|(id, _, _)| id.as_str()).collect();
    let mut serial = 0;
    let mut register = async |n_certs: usize, targets: &[&str]| -> f64 {
        let certs: Vec<_> = (0..n_certs)
            .map(|_| {
                serial += 1;
                creds(&format!("fan-{serial:05}"))
            })
            .collect();
        let refs: Vec<_> = certs.iter().collect();
        let started = Instant::now();
        let r = w.register(&refs, targets, "MarshalDevice").await;
        let ms = started.elapsed().as_secs_f64() * 1000.0;
        expect(&r, 200, None);
        ms
    };
    // Warm: roles, endpoints and policies are known after the first request.
    register(1, &ids).await;
    let mut figures: Vec<(usize, f64)> = Vec::new();
    for n in [1usize, 4, 16] {
        let mut samples = Vec::new();
        for _ in 0..REPEATS {
            samples.push(register(1, &ids[..n]).await);
        }
        figures.push((n, median(samples)));
    }
    let batch = register(100, &ids[..1]).await;
    let one = figures[0].1;
    println!(
        "\nMarshal's fan-out alone (in-memory AWS and ownership store, {} ms per call, \
         answered in parallel; warm; median of {REPEATS}):",
        ROUND_TRIP.as_millis()
    );
    for (n, ms) in &figures {
        println!(
            "  one certificate into {n:>2} target(s): {ms:7.1} ms  ({:.2}× one target)",
            ms / one
        );
    }
    println!("  batch of 100 certificates into 1 target: {batch:7.1} ms");
}

/// The inventory's own cost: 10,000 registered certificates in two
/// registries of the in-memory store, each store call taking 10 ms (a
/// DynamoDB query's round trip), the first page of 100 and a thing filter
/// that matches nothing.
#[tokio::test]
#[ignore = "benchmark: run with `cargo xtask bench`"]
async fn inventory_of_ten_thousand() {
    use marshal_lambda::service::ownership::{
        Facts, Owner, Ownership, OwnershipKey, OwnershipState, OwnershipStore,
    };
    use marshal_lambda::service::registry::CertificateStatus;
    let w = world();
    let owner = Owner {
        subject: "local".into(),
        group: None,
    };
    let (a, b) = (tokyo(), {
        let mut t = tokyo();
        t.id = "b-virginia".into();
        t.account_id = "222222222222".into();
        t.region = "us-east-1".into();
        t
    });
    for i in 0..10_000u64 {
        let target = if i % 2 == 0 { &a } else { &b };
        let mut record = Ownership::claimed(&owner, 0);
        record.state = OwnershipState::Registered;
        record.peer = Some(format!("bench-{i}"));
        record.facts = Some(Facts {
            target: target.id.clone(),
            not_after_ms: 1_800_000_000_000 + (i * 7_919 % 10_000) as i64 * 86_400_000,
            status: Some(CertificateStatus::Active),
            registered_by: "bench".into(),
            registered_at_ms: 0,
            successor: None,
            predecessor: None,
        });
        let id = format!("{i:064x}");
        w.ownership
            .put(&OwnershipKey::certificate(target, &id), &record, None)
            .await
            .unwrap();
    }
    w.ownership.set_latency(Duration::from_millis(10));
    for (label, path) in [
        ("first page of 100", "/v1/certificates?limit=100"),
        (
            "a registrant no entry has (looks at 5,000)",
            "/v1/certificates?registeredBy=nobody",
        ),
    ] {
        let mut samples = Vec::new();
        for _ in 0..REPEATS {
            let t0 = Instant::now();
            let reply = w.get(path).await;
            samples.push(t0.elapsed().as_secs_f64() * 1000.0);
            expect(&reply, 200, None);
        }
        samples.sort_by(f64::total_cmp);
        println!(
            "inventory of 10,000 (in memory, 10 ms per store call), {label}: {:.1} ms median of {REPEATS}",
            samples[REPEATS / 2]
        );
    }
}
