//! The HTTP API as a black box: the built `marshal-lambda` binary against a
//! real moto server with two accounts × two regions, certificates made by
//! the built `marshal` CLI, and every claim checked with boto3
//! (`tests/moto/inspect_state.py`) rather than taken from the API.
//!
//! One moto and one API serve the whole file (started by the first test
//! that needs them, stopped when the last one running lets go). moto is
//! never reset: the API caches assumed-role credentials, which a reset would
//! silently turn into the default account's. Tests stay apart by using their
//! own certificates and thing names instead.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, Weak};
use std::time::Instant;

use marshal_tests::api::{Api, Exchange};
use marshal_tests::moto::Moto;
use marshal_tests::moto_state::{self, AwsState, Target};
use marshal_tests::{Cmd, example, fixture_id, is_certificate_id, openssl_certificate_id};
use serde_json::{Value, json};

const ROLE_NAME: &str = "MarshalTarget";
const EXTERNAL_ID: &str = "marshal-test";
/// Seeded in the four targets.
const POLICY: &str = "MarshalDevice";
/// Seeded only in the two ap-northeast-1 targets.
const TOKYO_POLICY: &str = "OnlyInTokyo";
/// Allowed by the configuration, seeded nowhere, no template.
const MISSING_POLICY: &str = "MissingEverywhere";
const MAX_BODY_BYTES: usize = 64 * 1024;
const MAX_TARGETS: usize = 4;
const MAX_CERTIFICATES: usize = 50;

/// (id, account, region). The first four are seeded; the fifth only lets a
/// request name more targets than the limit.
const TARGETS: [(&str, &str, &str); 5] = [
    ("a-tokyo", "111111111111", "ap-northeast-1"),
    ("a-virginia", "111111111111", "us-east-1"),
    ("b-tokyo", "222222222222", "ap-northeast-1"),
    ("b-virginia", "222222222222", "us-east-1"),
    ("c-oregon", "333333333333", "us-west-2"),
];

fn targets() -> Vec<Target> {
    TARGETS
        .iter()
        .map(|(id, account, region)| Target::new(id, account, region, ROLE_NAME, EXTERNAL_ID))
        .collect()
}

fn seeded_targets() -> Vec<Target> {
    targets().into_iter().take(4).collect()
}

fn target(id: &str) -> Target {
    targets()
        .into_iter()
        .find(|t| t.id == id)
        .unwrap_or_else(|| panic!("no target {id}"))
}

fn config_toml() -> String {
    let mut toml = format!(
        "auth = \"none\"\n\n[limits]\nmaxBodyBytes = {MAX_BODY_BYTES}\n\
         maxTargetsPerRequest = {MAX_TARGETS}\nmaxCertificatesPerRequest = {MAX_CERTIFICATES}\n\
         concurrency = 8\nawsCallTimeoutMs = 3000\n"
    );
    for t in targets() {
        toml.push_str(&t.config_entry(&format!("Target {}", t.id)));
    }
    for policy in [POLICY, TOKYO_POLICY, MISSING_POLICY] {
        toml.push_str(&format!("\n[[policies]]\nname = \"{policy}\"\n"));
    }
    toml
}

/// The least-privilege document the `marshal` CLI makes for a target.
fn policy_document(target: &Target) -> Value {
    let run = Cmd::marshal()
        .args(["policy", "--prefix", "devices", "--region"])
        .arg(&target.region)
        .arg("--account")
        .arg(&target.account_id)
        .run();
    run.assert_success();
    run.json()
}

/// moto and the API, shared by the tests running at the same time.
struct Stack {
    // Declared first, dropped first: the API goes before moto.
    api: Api,
    moto: Moto,
}

impl Stack {
    fn start() -> Stack {
        let started = Instant::now();
        let moto = Moto::start();
        let spec = json!({
            "targets": seeded_targets().iter().map(|t| {
                let document = policy_document(t);
                let mut policies = vec![json!({"name": POLICY, "document": document})];
                if t.region == "ap-northeast-1" {
                    policies.push(json!({"name": TOKYO_POLICY, "document": document}));
                }
                let mut spec = t.spec();
                spec["policies"] = json!(policies);
                spec
            }).collect::<Vec<_>>(),
        });
        moto_state::seed(&moto.endpoint(), &spec);
        let api = Api::start(&config_toml(), &moto.endpoint());
        eprintln!(
            "started moto ({}) and the API ({}) in {:?}",
            moto.endpoint(),
            api.url(),
            started.elapsed()
        );
        Stack { api, moto }
    }

    /// boto3's view of `targets`, detailing `ids`.
    fn aws(&self, targets: &[Target], ids: &[&str]) -> AwsState {
        moto_state::inspect(&self.moto.endpoint(), targets, ids)
    }
}

/// The running stack, started if no test holds it.
fn stack() -> Arc<Stack> {
    static SHARED: Mutex<Weak<Stack>> = Mutex::new(Weak::new());
    let mut shared = SHARED.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(stack) = shared.upgrade() {
        return stack;
    }
    let stack = Arc::new(Stack::start());
    *shared = Arc::downgrade(&stack);
    stack
}

/// A device certificate made by `marshal keygen`, with its ID from `marshal fingerprint`.
struct Device {
    cn: String,
    cert: PathBuf,
    key: PathBuf,
    pem: String,
    id: String,
}

fn device(dir: &Path, cn: &str) -> Device {
    let run = Cmd::marshal()
        .args(["keygen", "--cn", cn, "--out"])
        .arg(dir)
        .run();
    run.assert_success().assert_no_private_key();
    let cert = dir.join(format!("{cn}.cert.pem"));
    let key = dir.join(format!("{cn}.private.key"));
    let fingerprint = Cmd::marshal().arg("fingerprint").arg(&cert).run();
    fingerprint.assert_success();
    let id = fingerprint.stdout_text().trim().to_owned();
    assert!(is_certificate_id(&id), "fingerprint {id:?}\n{fingerprint}");
    Device {
        cn: cn.to_owned(),
        pem: std::fs::read_to_string(&cert).unwrap(),
        cert,
        key,
        id,
    }
}

fn registration(devices: &[&Device], target_ids: &[&str], policy: &str) -> Value {
    json!({
        "certificates": devices.iter().map(|d| json!({"certificatePem": d.pem})).collect::<Vec<_>>(),
        "targets": target_ids,
        "policy": policy,
    })
}

const FOUR: [&str; 4] = ["a-tokyo", "a-virginia", "b-tokyo", "b-virginia"];

/// The result for (`id`, `target`) in a registration-shaped response.
#[track_caller]
fn result_for<'a>(exchange: &Exchange, body: &'a Value, id: &str, target: &str) -> &'a Value {
    body["results"]
        .as_array()
        .and_then(|results| {
            results
                .iter()
                .find(|r| r["certificateId"] == id && r["target"] == target)
        })
        .unwrap_or_else(|| exchange.fail(format_args!("no result for {id} in {target}")))
}

/// Checks a successful registration result against the target and device.
#[track_caller]
fn check_registered(
    exchange: &Exchange,
    result: &Value,
    device: &Device,
    t: &Target,
    policy: &str,
) {
    let r = &result["registration"];
    let endpoint = r["endpoint"].as_str().unwrap_or_default();
    let endpoint_ok = endpoint
        .strip_suffix(&format!("-ats.iot.{}.amazonaws.com", t.region))
        .is_some_and(|host| {
            !host.is_empty()
                && host
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        });
    let problems: Vec<&str> = [
        (result["error"].is_null(), "an error"),
        (r["status"] == "ACTIVE", "status not ACTIVE"),
        (
            r["certificateArn"] == t.certificate_arn(&device.id),
            "certificateArn not in the target's account and region",
        ),
        (r["policy"] == policy, "another policy"),
        (r["thing"] == device.cn.as_str(), "thing is not the CN"),
        (
            endpoint_ok,
            "endpoint is not <prefix>-ats.iot.<region>.amazonaws.com",
        ),
    ]
    .into_iter()
    .filter(|(ok, _)| !ok)
    .map(|(_, what)| what)
    .collect();
    if !problems.is_empty() {
        exchange.fail(format_args!(
            "result for {} in {}: {}\n{result:#}",
            device.id,
            t.id,
            problems.join(", ")
        ));
    }
}

/// Checks with boto3 that `device` is ACTIVE in `t` with exactly `policy`
/// and its thing attached, that the thing exists once, and that moto acted
/// as the target's account.
/// `after` is the exchange that should have left this state, for the message.
#[track_caller]
fn check_active_in(aws: &AwsState, t: &Target, device: &Device, policy: &str, after: &Exchange) {
    assert_eq!(
        aws.account(&t.id),
        t.account_id,
        "account of {}\n{aws}",
        t.id
    );
    let expected = moto_state::CertificateState {
        id: device.id.clone(),
        arn: t.certificate_arn(&device.id),
        status: "ACTIVE".into(),
        policies: vec![policy.into()],
        things: vec![device.cn.clone()],
    };
    assert_eq!(
        aws.certificate(&t.id, &device.id),
        Some(expected),
        "{} in {} according to boto3\n{aws}\nafter:\n{after}",
        device.id,
        t.id
    );
    assert_eq!(
        aws.thing_count(&t.id, &device.cn),
        1,
        "thing {} in {}\n{aws}\nafter:\n{after}",
        device.cn,
        t.id
    );
}

#[test]
fn health_and_config_show_targets_without_role_details() {
    let stack = stack();
    let health = stack.api.get("/v1/health");
    let body = health.expect_status(200);
    if body["status"] != "ok" {
        health.fail("health status is not ok");
    }

    let config = stack.api.get("/v1/config");
    let body = config.expect_status(200);
    let ids: Vec<&str> = body["targets"]
        .as_array()
        .map(|ts| ts.iter().filter_map(|t| t["id"].as_str()).collect())
        .unwrap_or_default();
    let expected: Vec<&str> = TARGETS.iter().map(|t| t.0).collect();
    if ids != expected {
        config.fail(format_args!("targets {ids:?}, expected {expected:?}"));
    }
    let text = config.response.body_text();
    for secret in ["roleArn", "arn:aws:iam", EXTERNAL_ID] {
        if text.contains(secret) {
            config.fail(format_args!("/v1/config reveals {secret:?}"));
        }
    }
    if body["limits"]["maxCertificatesPerRequest"] != MAX_CERTIFICATES {
        config.fail("limits do not match the configuration");
    }
}

#[test]
fn registers_one_certificate_into_all_four_targets() {
    let stack = stack();
    let dir = tempfile::tempdir().unwrap();
    let device = device(dir.path(), "all-four");
    assert_eq!(
        device.id,
        openssl_certificate_id(&device.cert),
        "marshal fingerprint and openssl disagree"
    );

    let exchange = stack.api.post_json(
        "/v1/registrations",
        &registration(&[&device], &FOUR, POLICY),
    );
    let body = exchange.expect_status(200);
    if body["summary"] != json!({"succeeded": 4, "failed": 0}) {
        exchange.fail("summary is not 4 succeeded, 0 failed");
    }
    for t in seeded_targets() {
        let result = result_for(&exchange, &body, &device.id, &t.id);
        check_registered(&exchange, result, &device, &t, POLICY);
        if result["registration"]["newlyRegistered"] != true {
            exchange.fail(format_args!("{} was not newly registered", t.id));
        }
    }

    // moto computes the ID itself (SHA-256 of the DER, as AWS does).
    let aws = stack.aws(&seeded_targets(), &[&device.id]);
    for t in seeded_targets() {
        check_active_in(&aws, &t, &device, POLICY, &exchange);
    }
}

#[test]
fn registering_again_changes_nothing() {
    let stack = stack();
    let dir = tempfile::tempdir().unwrap();
    let device = device(dir.path(), "twice");
    let request = registration(&[&device], &FOUR, POLICY);

    stack
        .api
        .post_json("/v1/registrations", &request)
        .expect_status(200);
    let before = stack.aws(&seeded_targets(), &[&device.id]);

    let again = stack.api.post_json("/v1/registrations", &request);
    let body = again.expect_status(200);
    for t in seeded_targets() {
        let result = result_for(&again, &body, &device.id, &t.id);
        check_registered(&again, result, &device, &t, POLICY);
        if result["registration"]["newlyRegistered"] != false {
            again.fail(format_args!(
                "{} claims a new registration the second time",
                t.id
            ));
        }
    }

    let after = stack.aws(&seeded_targets(), &[&device.id]);
    for t in seeded_targets() {
        check_active_in(&after, &t, &device, POLICY, &again);
        assert_eq!(
            before.certificate(&t.id, &device.id),
            after.certificate(&t.id, &device.id),
            "{} changed by the repeat\nbefore: {before}\nafter: {after}",
            t.id
        );
    }
}

#[test]
fn delete_everywhere_then_register_again() {
    let stack = stack();
    let dir = tempfile::tempdir().unwrap();
    let device = device(dir.path(), "delete-again");
    let request = registration(&[&device], &FOUR, POLICY);
    stack
        .api
        .post_json("/v1/registrations", &request)
        .expect_status(200);

    let delete = stack.api.delete(&format!(
        "/v1/certificates/{}?targets={}",
        device.id,
        FOUR.join(",")
    ));
    let body = delete.expect_status(200);
    let outcomes = body["results"].as_array().cloned().unwrap_or_default();
    if outcomes.len() != 4 || outcomes.iter().any(|o| o["ok"] != true) {
        delete.fail("expected four ok outcomes");
    }
    let aws = stack.aws(&seeded_targets(), &[&device.id]);
    for t in seeded_targets() {
        assert_eq!(
            aws.account(&t.id),
            t.account_id,
            "account of {}\n{aws}",
            t.id
        );
        assert_eq!(
            aws.certificate(&t.id, &device.id),
            None,
            "{} still in {} after DELETE\n{delete}\n{aws}",
            device.id,
            t.id
        );
    }
    let lookup = stack.api.get(&format!("/v1/certificates/{}", device.id));
    let body = lookup.expect_status(200);
    if body["targets"]
        .as_array()
        .is_none_or(|ts| ts.iter().any(|t| t["present"] != false))
    {
        lookup.fail("the API still finds the deleted certificate somewhere");
    }

    // The blog's step 3: the same certificate file, registered again.
    let again = stack.api.post_json("/v1/registrations", &request);
    let body = again.expect_status(200);
    for t in seeded_targets() {
        let result = result_for(&again, &body, &device.id, &t.id);
        check_registered(&again, result, &device, &t, POLICY);
        if result["registration"]["newlyRegistered"] != true {
            again.fail(format_args!("{} was not registered anew", t.id));
        }
    }
    let aws = stack.aws(&seeded_targets(), &[&device.id]);
    for t in seeded_targets() {
        check_active_in(&aws, &t, &device, POLICY, &again);
    }
}

#[test]
fn move_delete_takes_a_certificate_from_account_a_to_b() {
    let stack = stack();
    let dir = tempfile::tempdir().unwrap();
    let device = device(dir.path(), "mover");
    let (from, to) = (target("a-tokyo"), target("b-tokyo"));
    stack
        .api
        .post_json(
            "/v1/registrations",
            &registration(&[&device], &[&from.id], POLICY),
        )
        .expect_status(200);

    let transfer = stack.api.post_json(
        &format!("/v1/certificates/{}/transfer", device.id),
        &json!({"from": from.id, "to": [to.id], "policy": POLICY, "mode": "move_delete"}),
    );
    let body = transfer.expect_status(200);
    let destination = result_for(
        &transfer,
        &json!({"results": body["destinations"]}),
        &device.id,
        &to.id,
    )
    .clone();
    check_registered(&transfer, &destination, &device, &to, POLICY);
    if body["source"]["ok"] != true {
        transfer.fail("the source was not cleaned up");
    }

    let aws = stack.aws(&[from.clone(), to.clone()], &[&device.id]);
    check_active_in(&aws, &to, &device, POLICY, &transfer);
    assert_eq!(
        aws.certificate(&from.id, &device.id),
        None,
        "still in {} after move_delete\n{transfer}\n{aws}",
        from.id
    );
}

#[test]
fn registers_a_batch_of_fifty_into_one_target() {
    let stack = stack();
    let dir = tempfile::tempdir().unwrap();
    let devices: Vec<Device> = (0..MAX_CERTIFICATES)
        .map(|i| device(dir.path(), &format!("batch-{i:02}")))
        .collect();
    let refs: Vec<&Device> = devices.iter().collect();
    let t = target("b-virginia");

    let exchange = stack
        .api
        .post_json("/v1/registrations", &registration(&refs, &[&t.id], POLICY));
    let body = exchange.expect_status(200);
    if body["summary"] != json!({"succeeded": MAX_CERTIFICATES, "failed": 0}) {
        exchange.fail(format_args!("summary is not {MAX_CERTIFICATES} succeeded"));
    }
    eprintln!(
        "{MAX_CERTIFICATES} certificates registered in {} ms",
        exchange.took.as_millis()
    );
    for device in &devices {
        check_registered(
            &exchange,
            result_for(&exchange, &body, &device.id, &t.id),
            device,
            &t,
            POLICY,
        );
    }

    let ids: Vec<&str> = devices.iter().map(|d| d.id.as_str()).collect();
    let aws = stack.aws(std::slice::from_ref(&t), &ids);
    for device in &devices {
        check_active_in(&aws, &t, device, POLICY, &exchange);
    }
}

#[test]
fn a_missing_policy_fails_only_where_it_is_missing() {
    let stack = stack();
    let dir = tempfile::tempdir().unwrap();

    // OnlyInTokyo exists in the ap-northeast-1 targets only.
    let partial = device(dir.path(), "partial");
    let exchange = stack.api.post_json(
        "/v1/registrations",
        &registration(&[&partial], &FOUR, TOKYO_POLICY),
    );
    let body = exchange.expect_status(207);
    if body["summary"] != json!({"succeeded": 2, "failed": 2}) {
        exchange.fail("summary is not 2 succeeded, 2 failed");
    }
    // Nothing registered where it failed, and no leftovers: no thing either.
    let aws = stack.aws(&seeded_targets(), &[&partial.id]);
    for t in seeded_targets() {
        let result = result_for(&exchange, &body, &partial.id, &t.id);
        if t.region == "ap-northeast-1" {
            check_registered(&exchange, result, &partial, &t, TOKYO_POLICY);
            check_active_in(&aws, &t, &partial, TOKYO_POLICY, &exchange);
        } else {
            if result["error"]["code"] != "policy_missing" || !result["registration"].is_null() {
                exchange.fail(format_args!("expected policy_missing in {}", t.id));
            }
            assert!(!aws.has_policy(&t.id, TOKYO_POLICY), "{aws}");
            assert_eq!(aws.certificate(&t.id, &partial.id), None, "{}\n{aws}", t.id);
            assert_eq!(aws.thing_count(&t.id, &partial.cn), 0, "{}\n{aws}", t.id);
        }
    }

    // A policy that exists nowhere: every target fails, nothing is left.
    let nowhere = device(dir.path(), "nowhere");
    let exchange = stack.api.post_json(
        "/v1/registrations",
        &registration(&[&nowhere], &FOUR, MISSING_POLICY),
    );
    let body = exchange.expect_status(207);
    if body["summary"] != json!({"succeeded": 0, "failed": 4}) {
        exchange.fail("summary is not 0 succeeded, 4 failed");
    }
    let aws = stack.aws(&seeded_targets(), &[&nowhere.id]);
    for t in seeded_targets() {
        let result = result_for(&exchange, &body, &nowhere.id, &t.id);
        if result["error"]["code"] != "policy_missing" {
            exchange.fail(format_args!("expected policy_missing in {}", t.id));
        }
        assert_eq!(aws.certificate(&t.id, &nowhere.id), None, "{}\n{aws}", t.id);
        assert_eq!(aws.thing_count(&t.id, &nowhere.cn), 0, "{}\n{aws}", t.id);
    }
}

#[test]
fn bad_requests_are_refused_before_aws() {
    let stack = stack();
    let dir = tempfile::tempdir().unwrap();
    let device = device(dir.path(), "refused");
    let key = std::fs::read_to_string(&device.key).unwrap();
    let expired = std::fs::read_to_string(example("expired.cert.pem")).unwrap();
    let rsa1024 = std::fs::read_to_string(example("rsa1024.cert.pem")).unwrap();
    let with_pem = |pem: &str| json!({"certificates": [{"certificatePem": pem}], "targets": FOUR, "policy": POLICY});
    let mut oversized = with_pem(&device.pem);
    oversized["padding"] = json!(" ".repeat(MAX_BODY_BYTES));
    let mut five_targets = with_pem(&device.pem);
    five_targets["targets"] = json!(TARGETS.iter().map(|t| t.0).collect::<Vec<_>>());
    let mut too_many_certificates = with_pem(&device.pem);
    too_many_certificates["certificates"] = json!(vec![
        json!({"certificatePem": device.pem});
        MAX_CERTIFICATES + 1
    ]);

    let cases: Vec<(&str, Value, u16, &str)> = vec![
        (
            "private key after the certificate",
            with_pem(&format!("{}{key}", device.pem)),
            422,
            "key_material_refused",
        ),
        (
            "private key in a field of its own",
            {
                let mut body = with_pem(&device.pem);
                body["certificates"][0]["privateKey"] = json!(key);
                body
            },
            422,
            "key_material_refused",
        ),
        (
            "garbage certificate",
            with_pem(
                "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n",
            ),
            422,
            "certificate_invalid",
        ),
        (
            "expired certificate",
            with_pem(&expired),
            422,
            "preflight_failed",
        ),
        (
            "RSA 1024 certificate",
            with_pem(&rsa1024),
            422,
            "preflight_failed",
        ),
        ("body over the limit", oversized, 413, "body_too_large"),
        ("five targets", five_targets, 422, "too_many_targets"),
        (
            "51 certificates",
            too_many_certificates,
            422,
            "too_many_certificates",
        ),
    ];
    for (name, body, status, code) in cases {
        let exchange = stack.api.post_json("/v1/registrations", &body);
        if exchange.status() != status {
            exchange.fail(format_args!("{name}: expected {status} {code}"));
        }
        let error = exchange.expect_error(status, code);
        if code == "preflight_failed"
            && error["findings"]
                .as_array()
                .is_none_or(|f| f.is_empty() || f.iter().any(|f| f["index"] != 0))
        {
            exchange.fail(format_args!(
                "{name}: expected findings about certificate 0"
            ));
        }
    }

    // Key material never reaches the logs, not even in a refusal.
    let log = stack.api.log();
    let key_body: String = key.lines().filter(|l| !l.starts_with("-----")).collect();
    assert!(
        !log.contains("PRIVATE KEY") && !log.contains(&key_body[..40]),
        "the API logged key material:\n{log}"
    );

    let expired_id = fixture_id("expired.cert.pem");
    let rsa1024_id = fixture_id("rsa1024.cert.pem");
    let ids = [device.id.as_str(), &expired_id, &rsa1024_id];
    let aws = stack.aws(&targets(), &ids);
    for t in targets() {
        for id in ids {
            assert_eq!(
                aws.certificate(&t.id, id),
                None,
                "{id} registered in {} by a refused request\n{aws}",
                t.id
            );
        }
        assert_eq!(
            aws.thing_count(&t.id, &device.cn),
            0,
            "thing {} created in {} by a refused request\n{aws}",
            device.cn,
            t.id
        );
    }
}
