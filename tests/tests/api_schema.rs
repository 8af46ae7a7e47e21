//! The API against its own OpenAPI document: Schemathesis (PyPI, pinned in
//! `tests/requirements.txt`) reads `GET /v1/openapi.json` from the built
//! `marshal-lambda` (auth `none`) in front of a seeded moto server, sends
//! a bounded, seeded number of generated requests to every operation, valid
//! and invalid, and runs all of its checks: no 5xx, every status and body
//! as the document says, what the document allows is accepted and what it
//! forbids is refused. Afterwards boto3 must find no certificate and no
//! thing in any target, and no ownership record: the run changed nothing.
//!
//! Run it alone with
//! `cargo build -p marshal-lambda -p marshal-cli --bins && cargo test -p marshal-tests --test api_schema`
//! (`MARSHAL_PYTHON` naming the tests' virtualenv, as `cargo xtask test` sets).
//! Its reports (JUnit XML and Schemathesis' NDJSON events) go to
//! `$CARGO_TARGET_DIR/schemathesis/`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::time::{Duration, Instant};

use marshal_tests::api::{ACCESS_KEY_ID, Api, HUB_REGION, OWNERSHIP_TABLE, SECRET_ACCESS_KEY};
use marshal_tests::moto::Moto;
use marshal_tests::moto_state::{self, Target};
use marshal_tests::{Cmd, python};

const POLICY: &str = "MarshalDevice";
/// Test cases per operation and phase: enough to reach every documented
/// constraint, few enough for seconds on two cores. `MARSHAL_SCHEMA_EXAMPLES`
/// overrides it for a deeper run by hand.
const MAX_EXAMPLES: u32 = 30;
/// Fixed, so a CI run repeats the last one.
const SEED: u32 = 20_261_205;
/// A stuck run is a finding, not a stuck CI.
const RUN_LIMIT: Duration = Duration::from_secs(300);

fn targets() -> Vec<Target> {
    [
        ("a-tokyo", "111111111111", "ap-northeast-1"),
        ("b-virginia", "222222222222", "us-east-1"),
    ]
    .iter()
    .map(|(id, account, region)| Target::new(id, account, region, "MarshalTarget", "marshal-test"))
    .collect()
}

fn config_toml(targets: &[Target]) -> String {
    let mut toml = "auth = \"none\"\n\n[limits]\nmaxBodyBytes = 65536\n\
                    maxTargetsPerRequest = 4\nmaxCertificatesPerRequest = 10\n"
        .to_owned();
    for t in targets {
        toml.push_str(&t.config_entry(&format!("Target {}", t.id)));
    }
    toml.push_str(&format!("\n[[policies]]\nname = \"{POLICY}\"\n"));
    toml
}

/// `$CARGO_TARGET_DIR/schemathesis`: the test executable lives in
/// `<target>/<profile>/deps/`.
fn report_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("the test executable has a path");
    let target = exe
        .ancestors()
        .nth(3)
        .unwrap_or_else(|| panic!("unexpected test executable location {}", exe.display()));
    target.join("schemathesis")
}

/// The `schemathesis` command of the tests' virtualenv, beside `MARSHAL_PYTHON`.
fn schemathesis() -> PathBuf {
    let python = python();
    python
        .parent()
        .map(|dir| dir.join("schemathesis"))
        .filter(|bin| bin.is_file())
        .unwrap_or_else(|| {
            panic!(
                "no `schemathesis` beside MARSHAL_PYTHON={}: it comes from tests/requirements.txt \
                 (`cargo xtask install` puts it in the tests' virtualenv)",
                python.display()
            )
        })
}

/// Every item of the ownership table, through boto3 (the hub account).
fn ownership_items(endpoint: &str) -> serde_json::Value {
    let run = Cmd::python(
        "import boto3, json, sys\n\
         db = boto3.client('dynamodb', region_name=sys.argv[2], endpoint_url=sys.argv[1])\n\
         items = [i for p in db.get_paginator('scan').paginate(TableName=sys.argv[3]) for i in p['Items']]\n\
         print(json.dumps(items))\n",
    )
    .args([endpoint, HUB_REGION, OWNERSHIP_TABLE])
    .env("AWS_ACCESS_KEY_ID", ACCESS_KEY_ID)
    .env("AWS_SECRET_ACCESS_KEY", SECRET_ACCESS_KEY)
    .run();
    run.assert_success();
    run.json()
}

#[test]
fn the_api_answers_as_its_openapi_document_says() {
    let started = Instant::now();
    let moto = Moto::start();
    let targets = targets();
    moto_state::seed_with_device_policy(&moto.endpoint(), &targets, POLICY);
    // Jobs configured (their queue, table and bucket), no worker: what is
    // queued stays queued, and nothing reaches AWS IoT.
    let jobs = marshal_tests::jobs::seed(&moto.endpoint());
    let config = config_toml(&targets) + &marshal_tests::jobs::config(&jobs, "");
    let api = Api::start(&config, &moto.endpoint());

    let reports = report_dir();
    std::fs::create_dir_all(&reports)
        .unwrap_or_else(|e| panic!("cannot make {}: {e}", reports.display()));
    // A crash cache from an earlier run would replay its cases: start from the seed alone.
    let _ = std::fs::remove_dir_all(reports.join(".schemathesis"));
    let junit = reports.join("junit.xml");
    let events = reports.join("events.ndjson");
    let examples = std::env::var("MARSHAL_SCHEMA_EXAMPLES")
        .ok()
        .and_then(|n| n.parse::<u32>().ok())
        .unwrap_or(MAX_EXAMPLES);
    let cmd = Cmd::new(schemathesis())
        .arg("run")
        .arg(format!("{}/v1/openapi.json", api.url()))
        .args(["--url", &api.url()])
        .args(["--checks", "all"])
        .args(["--max-examples", &examples.to_string()])
        .args(["--seed", &SEED.to_string()])
        // No example database: every run starts from the seed alone.
        .args(["--generation-database", "none"])
        // One worker: hypothesis on Python 3.11 can trip over its own AST
        // parsing from two threads ("AST constructor recursion depth mismatch").
        .args(["--workers", "1"])
        .args(["--request-timeout", "30"])
        .args(["--report", "junit,ndjson"])
        .arg("--report-junit-path")
        .arg(&junit)
        .arg("--report-ndjson-path")
        .arg(&events)
        .arg("--no-color")
        // Its crash cache (`.schemathesis/`) goes there too, not into the checkout.
        .current_dir(&reports)
        // Straight to loopback, whatever proxy the environment names.
        .env("NO_PROXY", "127.0.0.1");
    let fuzz_started = Instant::now();
    let run = cmd
        .run_within(RUN_LIMIT)
        .unwrap_or_else(|| panic!("schemathesis ran longer than {RUN_LIMIT:?}\n{}", api.log()));
    let took = fuzz_started.elapsed();
    eprintln!(
        "schemathesis: {:?} (exit {:?}); reports: {} and {}",
        took,
        run.code(),
        junit.display(),
        events.display()
    );
    if run.code() != Some(0) {
        run.fail(format_args!(
            "schemathesis found answers that break the OpenAPI document (reports: {})\n\
             --- marshal-lambda output (last lines) ---\n{}",
            reports.display(),
            tail(&api.log(), 8 * 1024)
        ));
    }
    // The summary line, for the CI log.
    for line in run
        .stdout_text()
        .lines()
        .filter(|l| l.contains("generated") || l.contains("Operations"))
    {
        eprintln!("schemathesis: {line}");
    }

    let aws = moto_state::inspect(&moto.endpoint(), &targets, &[]);
    for t in &targets {
        let target = &aws.raw[&t.id];
        assert_eq!(
            target["certificateCount"], 0,
            "schemathesis left a certificate in {}\n{aws}",
            t.id
        );
        assert_eq!(
            target["things"],
            serde_json::json!([]),
            "schemathesis left a thing in {}\n{aws}",
            t.id
        );
        assert_eq!(
            target["policies"],
            serde_json::json!([POLICY]),
            "the policies of {} changed\n{aws}",
            t.id
        );
    }
    let records = ownership_items(&moto.endpoint());
    assert_eq!(
        records,
        serde_json::json!([]),
        "schemathesis left ownership records"
    );
    eprintln!("api_schema: {:?} in all", started.elapsed());
    drop(api);
}

fn tail(text: &str, bytes: usize) -> &str {
    &text[text.floor_char_boundary(text.len().saturating_sub(bytes))..]
}
