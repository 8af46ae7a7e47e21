//! Ownership against real parts: the built API on moto, with a certificate,
//! a policy and a thing another team set up straight in AWS IoT (seeded with
//! boto3, outside Marshal). boto3 is the witness that Marshal left them as
//! they were, and that two registrations racing for one certificate end in
//! the state their answers claim.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

use marshal_tests::{
    Cmd,
    api::Api,
    moto::Moto,
    moto_state::{self, CertificateState, Target},
};
use serde_json::{Value, json};

const POLICY: &str = "MarshalDevice";
/// Another team's policy: seeded, not in Marshal's allowed list.
const FLEET_POLICY: &str = "FleetPolicy";
const FLEET_THING: &str = "line-7";

fn tokyo() -> Target {
    Target::new(
        "a-tokyo",
        "111111111111",
        "ap-northeast-1",
        "MarshalTarget",
        "marshal-test",
    )
}

fn virginia() -> Target {
    Target::new(
        "b-virginia",
        "222222222222",
        "us-east-1",
        "MarshalTarget",
        "marshal-test",
    )
}

/// `marshal keygen` in `dir`: (PEM, certificate ID).
fn device(dir: &Path, cn: &str) -> (String, String) {
    Cmd::marshal()
        .args(["keygen", "--cn", cn, "--out"])
        .arg(dir)
        .run()
        .assert_success();
    let cert = dir.join(format!("{cn}.cert.pem"));
    let fingerprint = Cmd::marshal().arg("fingerprint").arg(&cert).run();
    fingerprint.assert_success();
    (
        std::fs::read_to_string(&cert).unwrap(),
        fingerprint.stdout_text().trim().to_owned(),
    )
}

fn error_code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or_default()
}

fn result_code(body: &Value) -> &str {
    body["results"][0]["error"]["code"].as_str().unwrap_or("ok")
}

#[test]
fn what_another_team_set_up_survives_every_attempt() {
    let moto = Moto::start();
    let dir = tempfile::tempdir().unwrap();
    let (fleet_pem, fleet_id) = device(dir.path(), "fleet-1");
    let (mine_pem, mine_id) = device(dir.path(), "mine-1");
    let policy = |t: &Target| {
        let run = Cmd::marshal()
            .args(["policy", "--region", &t.region, "--account", &t.account_id])
            .run();
        run.assert_success();
        run.json()
    };
    let mut a = tokyo().spec();
    a["policies"] = json!([
        {"name": POLICY, "document": policy(&tokyo())},
        {"name": FLEET_POLICY, "document": policy(&tokyo())},
    ]);
    a["foreign"] =
        json!([{"certificatePem": fleet_pem, "policy": FLEET_POLICY, "thing": FLEET_THING}]);
    let mut b = virginia().spec();
    b["policies"] = json!([{"name": POLICY, "document": policy(&virginia())}]);
    moto_state::seed(&moto.endpoint(), &json!({"targets": [a, b]}));

    let mut config = String::from("auth = \"none\"\n\n[limits]\nawsCallTimeoutMs = 3000\n");
    for t in [tokyo(), virginia()] {
        config.push_str(&t.config_entry(&t.id));
    }
    config.push_str(&format!("\n[[policies]]\nname = \"{POLICY}\"\n"));
    let api = Api::start(&config, &moto.endpoint());
    let targets = [tokyo(), virginia()];
    let witness = || moto_state::inspect(&moto.endpoint(), &targets, &[&fleet_id, &mine_id]);
    let fleet = CertificateState {
        id: fleet_id.clone(),
        arn: tokyo().certificate_arn(&fleet_id),
        status: "ACTIVE".into(),
        policies: vec![FLEET_POLICY.into()],
        things: vec![FLEET_THING.into()],
    };
    assert_eq!(
        witness().certificate("a-tokyo", &fleet_id),
        Some(fleet.clone())
    );

    // The local caller administers every target, and still may not touch
    // what Marshal did not register.
    for (what, exchange) in [
        (
            "revoke",
            api.post_json(
                &format!("/v1/certificates/{fleet_id}/status"),
                &json!({"status": "REVOKED", "targets": ["a-tokyo"]}),
            ),
        ),
        (
            "deactivate",
            api.post_json(
                &format!("/v1/certificates/{fleet_id}/status"),
                &json!({"status": "INACTIVE", "targets": ["a-tokyo"]}),
            ),
        ),
        (
            "delete",
            api.delete(&format!("/v1/certificates/{fleet_id}?targets=a-tokyo")),
        ),
        (
            "move-delete",
            api.post_json(
                &format!("/v1/certificates/{fleet_id}/transfer"),
                &json!({"from": "a-tokyo", "to": ["b-virginia"], "policy": POLICY, "mode": "move_delete"}),
            ),
        ),
    ] {
        let body = exchange.expect_status(403);
        if error_code(&body) != "certificate_not_managed" {
            exchange.fail(format_args!("{what}: expected certificate_not_managed"));
        }
    }
    // Re-registering its PEM, or a new certificate onto its thing.
    for (what, body, code) in [
        (
            "its PEM, activate false",
            json!({"certificates": [{"certificatePem": fleet_pem, "thingName": "mine-9"}], "targets": ["a-tokyo"], "policy": POLICY, "activate": false}),
            "certificate_not_managed",
        ),
        (
            "a new certificate on its thing",
            json!({"certificates": [{"certificatePem": mine_pem, "thingName": FLEET_THING}], "targets": ["a-tokyo"], "policy": POLICY}),
            "thing_in_use",
        ),
    ] {
        let exchange = api.post_json("/v1/registrations", &body);
        let reply = exchange.expect_status(207);
        if result_code(&reply) != code {
            exchange.fail(format_args!("{what}: expected {code}"));
        }
    }
    let aws = witness();
    assert_eq!(aws.certificate("a-tokyo", &fleet_id), Some(fleet), "{aws}");
    assert_eq!(aws.certificate("a-tokyo", &mine_id), None, "{aws}");
    assert_eq!(aws.certificate("b-virginia", &fleet_id), None, "{aws}");
    assert_eq!(aws.thing_count("a-tokyo", "mine-9"), 0, "{aws}");

    // Two registrations of one certificate at once: each answer is either
    // done (ACTIVE) or busy, and AWS ends as the done ones say.
    let body = json!({"certificates": [{"certificatePem": mine_pem}], "targets": ["a-tokyo", "b-virginia"], "policy": POLICY});
    let (first, second) = std::thread::scope(|s| {
        let one = s.spawn(|| api.post_json("/v1/registrations", &body));
        let two = s.spawn(|| api.post_json("/v1/registrations", &body));
        (one.join().unwrap(), two.join().unwrap())
    });
    let mut done = 0;
    for exchange in [&first, &second] {
        let reply = exchange.json();
        for result in reply["results"].as_array().unwrap() {
            match result["error"]["code"].as_str() {
                None if result["registration"]["status"] == "ACTIVE" => done += 1,
                Some("certificate_busy") => {}
                _ => exchange.fail(format_args!(
                    "expected ACTIVE or certificate_busy: {result}"
                )),
            }
        }
    }
    assert!(
        done >= 2,
        "each target done at least once:\n{first}\n{second}"
    );
    let aws = witness();
    for t in &targets {
        assert_eq!(
            aws.certificate(&t.id, &mine_id),
            Some(CertificateState {
                id: mine_id.clone(),
                arn: t.certificate_arn(&mine_id),
                status: "ACTIVE".into(),
                policies: vec![POLICY.into()],
                things: vec!["mine-1".into()],
            }),
            "{aws}\n{first}\n{second}"
        );
    }

    // Its owner (the local caller) deletes it: gone, and only it.
    let exchange = api.delete(&format!(
        "/v1/certificates/{mine_id}?targets=a-tokyo,b-virginia"
    ));
    exchange.expect_status(200);
    let aws = witness();
    assert_eq!(aws.certificate("a-tokyo", &mine_id), None, "{aws}");
    assert_eq!(aws.certificate("b-virginia", &mine_id), None, "{aws}");
    assert_eq!(
        aws.certificate("a-tokyo", &fleet_id).map(|c| c.status),
        Some("ACTIVE".into()),
        "{aws}"
    );
}
