//! The ledger, the inventory, rotation and the expiry report as a user
//! meets them: the built `marshal-lambda` and `marshal-expiry` against a
//! moto server (IoT, DynamoDB, EventBridge, SQS), certificates made by the
//! built `marshal`, and every claim about AWS, the ledger table and the
//! published event read back with boto3 (`tests/moto/ledger_state.py`,
//! `tests/moto/inspect_state.py`), not taken from the API.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

use marshal_tests::api::{ACCESS_KEY_ID, Api, HUB_REGION, SECRET_ACCESS_KEY, expiry_bin};
use marshal_tests::moto::Moto;
use marshal_tests::moto_state;
use marshal_tests::{Cmd, Run};
use serde_json::{Value, json};

const POLICY: &str = "MarshalDevice";
const LEDGER_TABLE: &str = "marshal-ledger";

/// A key and certificate made by `marshal keygen`: (PEM, certificate ID).
fn keygen(dir: &Path, cn: &str, days: u32) -> (String, String) {
    let run = Cmd::marshal()
        .args([
            "keygen",
            "--cn",
            cn,
            "--days",
            &days.to_string(),
            "--json",
            "--out",
        ])
        .arg(dir)
        .run();
    run.assert_success();
    let out = run.json();
    let pem = std::fs::read_to_string(out["certificatePath"].as_str().unwrap()).unwrap();
    (pem, out["certificateId"].as_str().unwrap().to_owned())
}

/// `marshal-expiry --once` with the API's configuration, as the schedule
/// would run it.
fn expiry_once(api: &Api, moto: &Moto) -> Run {
    let run = Cmd::new(expiry_bin())
        .arg("--once")
        .arg("--config")
        .arg(api.config_path())
        .env("AWS_ENDPOINT_URL", moto.endpoint())
        .env("AWS_ACCESS_KEY_ID", ACCESS_KEY_ID)
        .env("AWS_SECRET_ACCESS_KEY", SECRET_ACCESS_KEY)
        .env("AWS_REGION", HUB_REGION)
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .run();
    run.assert_success();
    run
}

fn ledger_events(moto: &Moto, id: &str) -> Vec<Value> {
    let answer = moto_state::ledger_state(
        &moto.endpoint(),
        &json!({"action": "ledger", "region": HUB_REGION, "table": LEDGER_TABLE, "certificateId": id}),
    );
    answer["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["event"].clone())
        .collect()
}

fn summary(events: &[Value]) -> Vec<String> {
    let mut rows: Vec<String> = events
        .iter()
        .map(|e| {
            format!(
                "{} {} {} {}",
                e["target"].as_str().unwrap(),
                e["action"].as_str().unwrap(),
                e["phase"].as_str().unwrap(),
                e["ok"]
            )
        })
        .collect();
    rows.sort();
    rows
}

fn received(moto: &Moto, queue: &str) -> Vec<Value> {
    let answer = moto_state::ledger_state(
        &moto.endpoint(),
        &json!({"action": "receive", "region": HUB_REGION, "queueUrl": queue}),
    );
    answer["messages"].as_array().unwrap().clone()
}

fn listed(report: &Value) -> Vec<(String, String)> {
    let mut rows: Vec<(String, String)> = report["certificates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["certificateId"].as_str().unwrap().to_owned(),
                c["target"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    rows.sort();
    rows
}

#[test]
fn ledger_inventory_rotation_and_expiry_against_moto() {
    let moto = Moto::start();
    let targets = moto_state::tokyo_and_virginia();
    moto_state::seed_with_device_policy(&moto.endpoint(), &targets, POLICY);
    let api = Api::start(
        &moto_state::config_toml("\n[expiry]\nwithinDays = 30\n", &targets, POLICY),
        &moto.endpoint(),
    );
    let dir = tempfile::tempdir().unwrap();
    let (soon_pem, soon) = keygen(dir.path(), "meter-soon", 10);
    let (later_pem, later) = keygen(dir.path(), "meter-later", 20);
    let (far_pem, far) = keygen(dir.path(), "meter-far", 200);

    let reply = api.post_json(
        "/v1/registrations",
        &json!({
            "certificates": [
                {"certificatePem": far_pem}, {"certificatePem": soon_pem}, {"certificatePem": later_pem}
            ],
            "targets": ["a-tokyo", "b-virginia"],
            "policy": POLICY,
        }),
    );
    reply.expect_status(200);

    // The ledger table holds an intent and an outcome per target.
    let events = ledger_events(&moto, &soon);
    assert_eq!(
        summary(&events),
        [
            "a-tokyo register intent null",
            "a-tokyo register outcome true",
            "b-virginia register intent null",
            "b-virginia register outcome true",
        ]
    );
    assert!(
        events
            .iter()
            .all(|e| e["subject"] == "local" && e["thing"] == "meter-soon")
    );

    // The inventory pages soonest expiry first.
    let mut seen = Vec::new();
    let mut path = "/v1/certificates?limit=4".to_owned();
    loop {
        let page = api.get(&path);
        let body = page.expect_status(200);
        for e in body["entries"].as_array().unwrap() {
            seen.push(e["certificateId"].as_str().unwrap().to_owned());
            assert_eq!(e["status"], "ACTIVE");
        }
        match body["nextCursor"].as_str() {
            Some(cursor) => path = format!("/v1/certificates?limit=4&cursor={cursor}"),
            None => break,
        }
    }
    assert_eq!(
        seen,
        [&soon, &soon, &later, &later, &far, &far].map(String::as_str)
    );

    // The scheduled report: one event with the four pairs expiring within
    // 30 days, delivered through an EventBridge rule to a queue.
    let queue = moto_state::ledger_state(
        &moto.endpoint(),
        &json!({"action": "listen", "region": HUB_REGION, "queue": "expiring"}),
    )["queueUrl"]
        .as_str()
        .unwrap()
        .to_owned();
    let report = expiry_once(&api, &moto).json();
    assert_eq!(report["count"], 4, "{report:#}");
    let messages = received(&moto, &queue);
    assert_eq!(messages.len(), 1, "{messages:#?}");
    let event = &messages[0];
    assert_eq!(event["source"], "marshal");
    assert_eq!(event["detail-type"], "Marshal certificates expiring");
    let mut want = vec![
        (soon.clone(), "a-tokyo".to_owned()),
        (soon.clone(), "b-virginia".to_owned()),
        (later.clone(), "a-tokyo".to_owned()),
        (later.clone(), "b-virginia".to_owned()),
    ];
    want.sort();
    assert_eq!(listed(&event["detail"]), want);
    assert_eq!(event["detail"]["certificates"][0]["daysLeft"], 9);

    // Rotate the soonest: its successor is registered beside it in both
    // targets, on the same thing and policy, and both are ACTIVE.
    let (next_pem, next) = keygen(dir.path(), "meter-soon-2", 365);
    let reply = api.post_json(
        &format!("/v1/certificates/{soon}/rotate"),
        &json!({"certificatePem": next_pem}),
    );
    reply.expect_status(200);
    let state = moto_state::inspect(&moto.endpoint(), &targets, &[&soon, &next]);
    for t in ["a-tokyo", "b-virginia"] {
        for id in [&soon, &next] {
            let c = state
                .certificate(t, id)
                .unwrap_or_else(|| panic!("{id} missing in {t}\n{state}"));
            assert_eq!(c.status, "ACTIVE", "{t} {id}");
            assert_eq!(c.policies, [POLICY], "{t} {id}");
            assert_eq!(c.things, ["meter-soon"], "{t} {id}");
        }
    }

    // Retire the old one: gone from AWS, the successor stays as it was.
    let reply = api.post_json(&format!("/v1/certificates/{soon}/retire"), &json!({}));
    reply.expect_status(200);
    let state = moto_state::inspect(&moto.endpoint(), &targets, &[&soon, &next]);
    for t in ["a-tokyo", "b-virginia"] {
        assert_eq!(state.certificate(t, &soon), None, "{t}\n{state}");
        let c = state.certificate(t, &next).unwrap();
        assert_eq!(
            (c.status.as_str(), c.things.clone()),
            ("ACTIVE", vec!["meter-soon".to_owned()])
        );
    }
    let old = summary(&ledger_events(&moto, &soon));
    for row in [
        "a-tokyo rotate outcome true",
        "b-virginia rotate outcome true",
        "a-tokyo retire outcome true",
        "b-virginia retire outcome true",
    ] {
        assert!(old.contains(&row.to_owned()), "{row} missing: {old:#?}");
    }

    // The next report no longer lists the retired certificate.
    let report = expiry_once(&api, &moto).json();
    assert_eq!(report["count"], 2, "{report:#}");
    let messages = received(&moto, &queue);
    assert_eq!(messages.len(), 1);
    let mut want = vec![
        (later.clone(), "a-tokyo".to_owned()),
        (later.clone(), "b-virginia".to_owned()),
    ];
    want.sort();
    assert_eq!(listed(&messages[0]["detail"]), want);
}
