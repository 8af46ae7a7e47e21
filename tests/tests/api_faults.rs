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
