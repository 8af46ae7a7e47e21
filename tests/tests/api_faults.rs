//! The API through a fault-injecting proxy in front of moto: AWS calls fail
//! with 500s, throttling, connections dropped before the call and — the
//! nasty one — dropped after the call took effect. Every response must be a
//! precise per-target answer, a certificate must never be ACTIVE without its
//! policy and thing (activation is the last step), nothing is duplicated,
//! and re-sending the same request converges to everything done.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::SocketAddr;

use marshal_tests::{
    Cmd,
    api::Api,
    fault_proxy::FaultProxy,
    moto::Moto,
    moto_state::{self, Target},
};
use serde_json::{Value, json};

const POLICY: &str = "MarshalDevice";
const DEVICES: usize = 8;
const ROUNDS: usize = 10;
/// The API's request deadline here, and so the longest a lease can last.
const REQUEST_DEADLINE_MS: u64 = 25_000;
/// Per-target error codes an AWS failure may legitimately produce.
const TRANSIENT: &[&str] = &[
    "aws_unavailable",
    "aws_throttled",
    "aws_timeout",
    "aws_conflict",
    "assume_role_failed",
    // The ownership table sits behind the same proxy: its calls fail too,
    // and a record whose release failed stays leased for the rest of the
    // request's deadline.
    "ownership_unavailable",
    "certificate_busy",
];

fn targets() -> Vec<Target> {
    vec![
        Target::new(
            "a-tokyo",
            "111111111111",
            "ap-northeast-1",
            "MarshalTarget",
            "marshal-test",
        ),
        Target::new(
            "b-virginia",
            "222222222222",
            "us-east-1",
            "MarshalTarget",
            "marshal-test",
        ),
    ]
}

fn config(targets: &[Target]) -> String {
    let mut toml =
        String::from("auth = \"none\"\n\n[limits]\nconcurrency = 8\nawsCallTimeoutMs = 3000\n");
    toml.push_str(&format!("requestDeadlineMs = {REQUEST_DEADLINE_MS}\n"));
    for t in targets {
        toml.push_str(&t.config_entry(&t.id));
    }
    toml.push_str(&format!("\n[[policies]]\nname = \"{POLICY}\"\n"));
    toml
}

#[test]
fn faults_never_leave_an_active_half_done_certificate_and_retries_converge() {
    let moto = Moto::start();
    let targets = targets();
    moto_state::seed_with_device_policy(&moto.endpoint(), &targets, POLICY);

    let upstream: SocketAddr = format!("127.0.0.1:{}", moto.port()).parse().unwrap();
    let proxy = FaultProxy::start(upstream, 20, 0x5eed);
    let api = Api::start(&config(&targets), &proxy.endpoint());

    let dir = tempfile::tempdir().unwrap();
    let mut pems = Vec::new();
    let mut ids = Vec::new();
    for i in 0..DEVICES {
        let cn = format!("faulty-{i:02}");
        Cmd::marshal()
            .args(["keygen", "--cn", &cn, "--out"])
            .arg(dir.path())
            .run()
            .assert_success();
        let pem = std::fs::read_to_string(dir.path().join(format!("{cn}.cert.pem"))).unwrap();
        let fp = Cmd::marshal()
            .arg("fingerprint")
            .arg(dir.path().join(format!("{cn}.cert.pem")))
            .run();
        fp.assert_success();
        ids.push(fp.stdout_text().trim().to_owned());
        pems.push(pem);
    }
    let body = json!({
        "certificates": pems.iter().map(|p| json!({"certificatePem": p})).collect::<Vec<_>>(),
        "targets": targets.iter().map(|t| t.id.clone()).collect::<Vec<_>>(),
        "policy": POLICY,
    });
    let id_refs: Vec<&str> = ids.iter().map(String::as_str).collect();

    let mut converged_at = None;
    for round in 1..=ROUNDS {
        let exchange = api.post_json("/v1/registrations", &body);
        let status = exchange.status();
        if status != 200 && status != 207 {
            exchange.fail(format_args!("round {round}: expected 200 or 207"));
        }
        let reply = exchange.json();
        let mut codes = std::collections::BTreeMap::<String, usize>::new();
        for result in reply["results"].as_array().unwrap() {
            if let Some(code) = result["error"]["code"].as_str() {
                *codes.entry(code.to_owned()).or_default() += 1;
            }
            match (&result["registration"], &result["error"]) {
                (Value::Object(reg), Value::Null) => {
                    assert_eq!(reg["status"], "ACTIVE", "{result}")
                }
                (Value::Null, Value::Object(err)) => {
                    let code = err["code"].as_str().unwrap_or_default();
                    assert!(
                        TRANSIENT.contains(&code),
                        "round {round}: unexpected error code in {result}"
                    );
                    assert!(
                        !err["message"].as_str().unwrap_or_default().is_empty(),
                        "{result}"
                    );
                }
                _ => {
                    panic!("round {round}: a result must hold a registration or an error: {result}")
                }
            }
        }

        // boto3 straight to moto (not through the proxy) is the judge.
        let aws = moto_state::inspect(&moto.endpoint(), &targets, &id_refs);
        let mut done = 0;
        for t in &targets {
            for (i, id) in ids.iter().enumerate() {
                let copies = aws.certificates(&t.id, id);
                assert!(
                    copies.len() <= 1,
                    "round {round}: {id} registered {} times in {}\n{aws}",
                    copies.len(),
                    t.id
                );
                let thing = format!("faulty-{i:02}");
                assert!(
                    aws.thing_count(&t.id, &thing) <= 1,
                    "round {round}: thing {thing} duplicated in {}\n{aws}",
                    t.id
                );
                if let Some(cert) = copies.first()
                    && cert.status == "ACTIVE"
                {
                    assert_eq!(
                        cert.policies,
                        [POLICY],
                        "round {round}: ACTIVE without its policy in {}\n{aws}",
                        t.id
                    );
                    assert_eq!(
                        cert.things,
                        std::slice::from_ref(&thing),
                        "round {round}: ACTIVE without its thing in {}\n{aws}",
                        t.id
                    );
                    done += 1;
                }
            }
        }
        eprintln!(
            "round {round}: HTTP {status}, {done}/{} pairs done, errors {codes:?}, proxy {:?}",
            DEVICES * targets.len(),
            proxy.counts()
        );
        if status == 200 {
            assert_eq!(
                done,
                DEVICES * targets.len(),
                "200 but boto3 disagrees\n{aws}"
            );
            converged_at = Some(round);
            break;
        }
        // A record whose hand-back failed stays leased until its request's
        // deadline: "try again in a few seconds", as the message says.
        if codes.contains_key("certificate_busy") {
            std::thread::sleep(std::time::Duration::from_millis(REQUEST_DEADLINE_MS));
        }
    }
    let round = converged_at.unwrap_or_else(|| {
        panic!(
            "no convergence after {ROUNDS} rounds; API log:\n{}",
            api.log()
        )
    });
    let counts = proxy.counts();
    assert!(
        counts.internal_errors + counts.throttled + counts.dropped_before + counts.dropped_after
            > 0,
        "the proxy injected no fault: {counts:?}"
    );
    eprintln!("converged after {round} round(s); faults injected: {counts:?}");
}

/// Sends `path` with `body` until the API answers 200, at most `ROUNDS`
/// times, checking `invariant` on boto3's view after every attempt; returns
/// every target the API reported done, with the request that did it.
fn until_done(api: &Api, path: &str, body: &Value, mut invariant: impl FnMut(usize)) -> Vec<Value> {
    let mut replies = Vec::new();
    for round in 1..=ROUNDS {
        let exchange = api.post_json(path, body);
        let status = exchange.status();
        if status != 200 && status != 207 {
            exchange.fail(format_args!("{path} round {round}: expected 200 or 207"));
        }
        let reply = exchange.json();
        invariant(round);
        let busy = reply["results"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["error"]["code"] == "certificate_busy");
        replies.push(reply);
        if status == 200 {
            return replies;
        }
        if busy {
            std::thread::sleep(std::time::Duration::from_millis(REQUEST_DEADLINE_MS));
        }
    }
    panic!(
        "{path}: no 200 after {ROUNDS} rounds; API log:\n{}",
        api.log()
    );
}

/// Rotation and retirement with AWS and DynamoDB calls failing: at every
/// step the old certificate stays ACTIVE with its policy and thing until
/// it is retired, a successor is never ACTIVE without both, retirement
/// happens only where the successor is ACTIVE, and every intent in the
/// ledger has its outcome.
#[test]
fn faults_never_half_rotate_and_the_ledger_keeps_every_outcome() {
    const PAIRS: usize = 3;
    let moto = Moto::start();
    let targets = targets();
    moto_state::seed_with_device_policy(&moto.endpoint(), &targets, POLICY);
    let upstream: SocketAddr = format!("127.0.0.1:{}", moto.port()).parse().unwrap();
    let proxy = FaultProxy::start(upstream, 20, 0xbeef);
    proxy.set_enabled(false);
    let api = Api::start(&config(&targets), &proxy.endpoint());
    let dir = tempfile::tempdir().unwrap();
    let keygen = |cn: &str| {
        let run = Cmd::marshal()
            .args(["keygen", "--cn", cn, "--json", "--out"])
            .arg(dir.path())
            .run();
        run.assert_success();
        let out = run.json();
        (
            std::fs::read_to_string(out["certificatePath"].as_str().unwrap()).unwrap(),
            out["certificateId"].as_str().unwrap().to_owned(),
        )
    };
    let olds: Vec<(String, String)> = (0..PAIRS)
        .map(|i| keygen(&format!("rotating-{i}")))
        .collect();
    let news: Vec<(String, String)> = (0..PAIRS)
        .map(|i| keygen(&format!("rotating-{i}-next")))
        .collect();
    let target_ids: Vec<String> = targets.iter().map(|t| t.id.clone()).collect();
    api.post_json(
        "/v1/registrations",
        &json!({
            "certificates": olds.iter().map(|(p, _)| json!({"certificatePem": p})).collect::<Vec<_>>(),
            "targets": target_ids,
            "policy": POLICY,
        }),
    )
    .expect_status(200);
    proxy.set_enabled(true);

    for (i, ((_, old), (new_pem, new))) in olds.iter().zip(&news).enumerate() {
        let thing = format!("rotating-{i}");
        let whole = |c: &moto_state::CertificateState| {
            c.status == "ACTIVE" && c.policies == [POLICY] && c.things == [thing.clone()]
        };
        until_done(
            &api,
            &format!("/v1/certificates/{old}/rotate"),
            &json!({"certificatePem": new_pem}),
            |round| {
                let aws = moto_state::inspect(&moto.endpoint(), &targets, &[old, new]);
                for t in &target_ids {
                    let o = aws.certificate(t, old).unwrap_or_else(|| {
                        panic!("rotate round {round}: the old certificate is gone from {t}\n{aws}")
                    });
                    assert!(
                        whole(&o),
                        "rotate round {round}: the old certificate changed in {t}\n{aws}"
                    );
                    if let Some(n) = aws.certificate(t, new)
                        && n.status == "ACTIVE"
                    {
                        assert!(
                            whole(&n),
                            "rotate round {round}: successor ACTIVE without policy or thing in {t}\n{aws}"
                        );
                    }
                }
            },
        );
        until_done(
            &api,
            &format!("/v1/certificates/{old}/retire"),
            &json!({"targets": target_ids}),
            |round| {
                let aws = moto_state::inspect(&moto.endpoint(), &targets, &[old, new]);
                for t in &target_ids {
                    let n = aws.certificate(t, new).unwrap_or_else(|| {
                        panic!("retire round {round}: the successor is gone from {t}\n{aws}")
                    });
                    assert!(
                        whole(&n),
                        "retire round {round}: the successor changed in {t}\n{aws}"
                    );
                }
            },
        );
        let aws = moto_state::inspect(&moto.endpoint(), &targets, &[old, new]);
        for t in &target_ids {
            assert_eq!(aws.certificate(t, old), None, "{t}\n{aws}");
        }

        // Every intent of the old certificate has its outcome.
        let answer = moto_state::ledger_state(
            &moto.endpoint(),
            &json!({"action": "ledger", "region": marshal_tests::api::HUB_REGION, "table": "marshal-ledger", "certificateId": old}),
        );
        let events: Vec<&Value> = answer["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| &i["event"])
            .collect();
        let key = |e: &Value| format!("{} {} {}", e["requestId"], e["target"], e["action"]);
        for intent in events.iter().filter(|e| e["phase"] == "intent") {
            assert!(
                events
                    .iter()
                    .any(|e| e["phase"] == "outcome" && key(e) == key(intent)),
                "intent without outcome: {intent}\nall: {events:#?}"
            );
        }
        for t in &target_ids {
            for action in ["rotate", "retire"] {
                assert!(
                    events.iter().any(|e| e["target"] == *t
                        && e["action"] == action
                        && e["phase"] == "outcome"
                        && e["ok"] == true),
                    "no successful {action} outcome in {t}: {events:#?}"
                );
            }
        }
    }
    let counts = proxy.counts();
    assert!(
        counts.internal_errors + counts.throttled + counts.dropped_before + counts.dropped_after
            > 0,
        "the proxy injected no fault: {counts:?}"
    );
    eprintln!("faults injected: {counts:?}");
}
