//! `marshal connect-test` against a real mosquitto on loopback: mutual TLS
//! where the broker's trust store is the set of "registered" (self-signed)
//! device certificates, as AWS IoT treats certificates registered without a
//! CA. Each failure stage is provoked for real and its diagnosis checked;
//! SNI is observed on the wire by a proxy; mosquitto's own clients confirm
//! the credentials independently.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use marshal_tests::fake_broker::{Behaviour, FakeBroker};
use marshal_tests::mosquitto::{Mosquitto, MosquittoConfig};
use marshal_tests::server_pki::ServerPki;
use marshal_tests::sni_proxy::{Hello, SniProxy};
use marshal_tests::{Cmd, Keygen, Run, keygen, openssl_certificate_id};
use serde_json::Value;

#[path = "connect_test/server_certificates.rs"]
mod server_certificates;

const STAGES: [&str; 6] = ["dns", "tcp", "tls", "mqtt_connect", "subscribe", "messages"];

/// A device made by `marshal keygen` in its own directory (keygen names
/// files after the CN, so two devices of one key type need two directories).
fn device(dir: &Path, name: &str, key_type: &str) -> Keygen {
    let out = dir.join(name);
    std::fs::create_dir_all(&out).unwrap();
    keygen(key_type, 30, &out)
}

/// `marshal connect-test --endpoint ENDPOINT --cert --key [EXTRA...]`.
fn connect_test(endpoint: &str, device: &Keygen, extra: &[&Path]) -> Cmd {
    Cmd::marshal()
        .args(["connect-test", "--endpoint", endpoint])
        .arg("--cert")
        .arg(&device.cert)
        .arg("--key")
        .arg(&device.key)
        .args(extra)
}

fn ca(pki: &ServerPki) -> [&Path; 2] {
    [Path::new("--ca"), pki.ca_cert.as_path()]
}

/// Checks a successful `--json` run: exit 0, every stage passed in order,
/// `count` round trips with counters 0.., and a consistent summary.
#[track_caller]
fn assert_round_trips(run: &Run, count: u64) -> Value {
    run.assert_exit(0).assert_no_private_key();
    let report = run.json();
    if report["ok"] != true || !report["failure"].is_null() {
        run.fail("expected ok: true and no failure");
    }
    let stages: Vec<(&str, bool)> = report["stages"]
        .as_array()
        .unwrap_or_else(|| run.fail("no stages array"))
        .iter()
        .map(|s| (s["stage"].as_str().unwrap_or(""), s["ok"] == true))
        .collect();
    let expected: Vec<(&str, bool)> = STAGES.iter().map(|s| (*s, true)).collect();
    if stages != expected {
        run.fail(format_args!("stages {stages:?}, expected {expected:?}"));
    }
    let trips = report["roundTrips"].as_array().unwrap();
    let counters: Vec<u64> = trips
        .iter()
        .map(|t| t["counter"].as_u64().unwrap())
        .collect();
    if counters != (0..count).collect::<Vec<_>>() {
        run.fail(format_args!("round trip counters {counters:?}"));
    }
    let ms = |v: &Value| {
        v.as_f64()
            .unwrap_or_else(|| run.fail("a duration is not a number"))
    };
    let summary = &report["roundTripMs"];
    let (min, median, max) = (
        ms(&summary["min"]),
        ms(&summary["median"]),
        ms(&summary["max"]),
    );
    if !(0.0 <= min && min <= median && median <= max) {
        run.fail("round trip summary is not min <= median <= max");
    }
    report
}

/// Checks a failed `--json` run: exit 1, the failure's stage and code, the
/// stage marked failed and nothing after it; returns the failure object.
#[track_caller]
fn assert_failure(run: &Run, stage: &str, code: &str) -> Value {
    run.assert_exit(1).assert_no_private_key().assert_words();
    let report = run.json();
    let failure = report["failure"].clone();
    if report["ok"] != false || failure["stage"] != stage || failure["code"] != code {
        run.fail(format_args!(
            "expected a failure at stage {stage:?} with code {code:?}"
        ));
    }
    if failure["message"].as_str().is_none_or(str::is_empty) {
        run.fail("the failure has no message");
    }
    if !failure["causes"]
        .as_array()
        .is_some_and(|c| c.iter().all(Value::is_string))
    {
        run.fail("the failure's causes are not a list of strings");
    }
    let stages = report["stages"].as_array().unwrap();
    let last = stages.last().unwrap_or_else(|| run.fail("no stages"));
    if last["stage"] != stage || last["ok"] != false {
        run.fail(format_args!("the last stage should be {stage:?}, failed"));
    }
    if !run.stderr_text().contains("error: connect-test failed at") {
        run.fail("stderr should say the test failed");
    }
    failure
}

/// Every cause joined, for `contains` checks.
fn causes(failure: &Value) -> String {
    failure["causes"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn a_keygen_p256_device_round_trips_three_messages_with_sni() {
    let dir = tempfile::tempdir().unwrap();
    let pki = ServerPki::make(dir.path(), "server");
    let dev = device(dir.path(), "dev", "ec-p256");
    let broker = Mosquitto::start(dir.path(), &pki, &MosquittoConfig::registered(&[&dev.cert]));
    let proxy = SniProxy::start(broker.addr());
    let endpoint = format!("localhost:{}", proxy.port());

    let run = connect_test(&endpoint, &dev, &ca(&pki)).arg("--json").run();
    let report = assert_round_trips(&run, 3);
    assert_eq!(report["clientId"], dev.cn.as_str(), "{run}");
    assert_eq!(report["topic"], "devices/dev-ec-p256/connect-test", "{run}");
    assert_eq!(
        report["certificateId"],
        openssl_certificate_id(&dev.cert),
        "{run}"
    );
    assert_eq!(report["endpoint"]["sni"], "localhost", "{run}");

    // SNI as seen on the wire, for the probe and the MQTT connection alike.
    let hellos = proxy.hellos();
    let localhost = Hello::Tls {
        server_name: Some("localhost".to_owned()),
    };
    assert!(
        hellos.len() >= 2 && hellos.iter().all(|h| *h == localhost),
        "expected every connection to send SNI localhost, saw {hellos:?}\n{run}"
    );

    // The broker's side of the story: the CN was the client id, three
    // messages in and three out, a clean goodbye.
    let log = broker.log();
    assert!(
        log.contains("Sending CONNACK to dev-ec-p256 (0, 0)"),
        "{log}"
    );
    assert_eq!(
        log.matches("Received PUBLISH from dev-ec-p256").count(),
        3,
        "{log}"
    );
    assert_eq!(
        log.matches("Sending PUBLISH to dev-ec-p256").count(),
        3,
        "{log}"
    );
    assert!(
        log.contains(r#"'devices/dev-ec-p256/connect-test', ... (33 bytes)"#),
        "the blog's payload {{\"counter\": 0, \"message\": \"TEST\"}} is 33 bytes\n{log}"
    );
    assert!(broker.wait_for_log(
        "Received DISCONNECT from dev-ec-p256",
        Duration::from_secs(5)
    ));

    // The same for people.
    let run = connect_test(&endpoint, &dev, &ca(&pki)).run();
    run.assert_exit(0).assert_no_private_key();
    for line in [
        "✓ DNS",
        "✓ TCP",
        "✓ TLS",
        "✓ MQTT CONNECT",
        "✓ SUBSCRIBE",
        "✓ PUBLISH+RECEIVE",
    ] {
        run.assert_stdout_contains(line);
    }
    run.assert_stdout_contains("round trips (PUBLISH until the message came back):")
        .assert_stdout_contains("  {\"counter\": 2, \"message\": \"TEST\"}")
        .assert_stdout_contains(", median ")
        .assert_stdout_contains("OK: connected as \"dev-ec-p256\"");
}

#[test]
fn rsa_2048_and_p384_devices_connect_too() {
    let dir = tempfile::tempdir().unwrap();
    let pki = ServerPki::make(dir.path(), "server");
    let rsa = device(dir.path(), "rsa", "rsa-2048");
    let p384 = device(dir.path(), "p384", "ec-p384");
    let broker = Mosquitto::start(
        dir.path(),
        &pki,
        &MosquittoConfig::registered(&[&rsa.cert, &p384.cert]),
    );
    let endpoint = format!("localhost:{}", broker.port());
    for dev in [&rsa, &p384] {
        let run = connect_test(&endpoint, dev, &ca(&pki))
            .args(["--count", "5", "--json"])
            .run();
        assert_round_trips(&run, 5);
    }
}

/// The broker refuses a certificate it does not hold; the diagnosis must
/// say TLS whether the refusal comes during the handshake (TLS 1.2) or
/// after the client has finished it (TLS 1.3).
fn unregistered_certificate_is_refused_at_tls(max_tls_1_2: bool, version: &str, when: &str) {
    let dir = tempfile::tempdir().unwrap();
    let pki = ServerPki::make(dir.path(), "server");
    let registered = device(dir.path(), "registered", "ec-p256");
    let stranger = device(dir.path(), "stranger", "ec-p256");
    let mut config = MosquittoConfig::registered(&[&registered.cert]);
    config.max_tls_1_2 = max_tls_1_2;
    let broker = Mosquitto::start(dir.path(), &pki, &config);
    let endpoint = format!("localhost:{}", broker.port());

    // The broker speaks the TLS version this case is about.
    let run = connect_test(&endpoint, &registered, &ca(&pki))
        .arg("--json")
        .run();
    let report = assert_round_trips(&run, 3);
    let tls = report["stages"][2]["detail"].as_str().unwrap();
    assert!(tls.starts_with(version), "expected {version}: {tls}\n{run}");

    let run = connect_test(&endpoint, &stranger, &ca(&pki))
        .arg("--json")
        .run();
    let failure = assert_failure(&run, "tls", "tls_certificate_refused");
    let message = failure["message"].as_str().unwrap();
    assert!(
        message.contains("refused our client certificate: TLS alert ") && message.contains(when),
        "{message}\n{run}"
    );
    assert!(causes(&failure).contains("cafile"), "{run}");
    assert!(
        broker.wait_for_log("certificate verify failed", Duration::from_secs(5)),
        "mosquitto should have refused the certificate itself:\n{}",
        broker.log()
    );
}

#[test]
fn an_unregistered_certificate_is_refused_at_tls_1_3() {
    unregistered_certificate_is_refused_at_tls(false, "TLS 1.3", "after the handshake");
}

#[test]
fn an_unregistered_certificate_is_refused_at_tls_1_2() {
    unregistered_certificate_is_refused_at_tls(true, "TLS 1.2", "during the handshake");
}

#[test]
fn a_ca_that_did_not_sign_the_server_is_a_server_certificate_failure() {
    let dir = tempfile::tempdir().unwrap();
    let pki = ServerPki::make(dir.path(), "server");
    let other = ServerPki::make(dir.path(), "other");
    let dev = device(dir.path(), "dev", "ec-p256");
    let broker = Mosquitto::start(dir.path(), &pki, &MosquittoConfig::registered(&[&dev.cert]));
    let endpoint = format!("localhost:{}", broker.port());

    let run = connect_test(&endpoint, &dev, &ca(&other))
        .arg("--json")
        .run();
    let failure = assert_failure(&run, "tls", "tls_server_untrusted");
    assert!(
        failure["message"]
            .as_str()
            .unwrap()
            .contains("other-ca.pem"),
        "{run}"
    );
    assert!(causes(&failure).contains("--ca"), "{run}");

    // Without --ca only Amazon Root CA 1 is trusted.
    let run = connect_test(&endpoint, &dev, &[]).arg("--json").run();
    let failure = assert_failure(&run, "tls", "tls_server_untrusted");
    assert!(
        failure["message"]
            .as_str()
            .unwrap()
            .contains("Amazon Root CA 1"),
        "{run}"
    );
}

#[test]
fn an_ip_address_endpoint_sends_no_sni_and_fails_the_name_check() {
    let dir = tempfile::tempdir().unwrap();
    let pki = ServerPki::make(dir.path(), "server");
    let dev = device(dir.path(), "dev", "ec-p256");
    let broker = Mosquitto::start(dir.path(), &pki, &MosquittoConfig::registered(&[&dev.cert]));
    let proxy = SniProxy::start(broker.addr());

    let endpoint = format!("127.0.0.1:{}", proxy.port());
    let run = connect_test(&endpoint, &dev, &ca(&pki)).arg("--json").run();
    let failure = assert_failure(&run, "tls", "tls_server_name_mismatch");
    assert!(
        failure["message"].as_str().unwrap().contains("localhost"),
        "{run}"
    );
    assert!(run.json()["endpoint"]["sni"].is_null(), "{run}");
    assert_eq!(
        proxy.hellos(),
        vec![Hello::Tls { server_name: None }],
        "{run}"
    );
}

#[test]
fn nothing_listening_is_the_tcp_stage() {
    let dir = tempfile::tempdir().unwrap();
    let dev = device(dir.path(), "dev", "ec-p256");
    let port = {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let run = connect_test(&format!("127.0.0.1:{port}"), &dev, &[])
        .arg("--json")
        .run();
    let failure = assert_failure(&run, "tcp", "tcp_refused");
    assert!(causes(&failure).contains("8883"), "{run}");
}

#[test]
fn an_unknown_host_is_the_dns_stage() {
    let dir = tempfile::tempdir().unwrap();
    let dev = device(dir.path(), "dev", "ec-p256");
    let run = connect_test("nonexistent.invalid", &dev, &[])
        .arg("--json")
        .run();
    run.assert_exit(1);
    let failure = &run.json()["failure"];
    // Without any DNS server the lookup may time out instead of failing.
    if failure["stage"] != "dns"
        || !matches!(failure["code"].as_str(), Some("dns_failed" | "dns_timeout"))
    {
        run.fail("expected the DNS stage to fail");
    }
    assert!(
        failure["message"]
            .as_str()
            .unwrap()
            .contains("nonexistent.invalid"),
        "{run}"
    );
}

#[test]
fn a_hangup_after_connect_lists_the_usual_causes() {
    let dir = tempfile::tempdir().unwrap();
    let pki = ServerPki::make(dir.path(), "server");
    let dev = device(dir.path(), "dev", "ec-p256");
    let broker = FakeBroker::start(&pki, Behaviour::HangUpOnConnect);
    let endpoint = format!("localhost:{}", broker.port());

    let run = connect_test(&endpoint, &dev, &ca(&pki)).arg("--json").run();
    let failure = assert_failure(&run, "mqtt_connect", "connection_closed_after_connect");
    let causes = causes(&failure);
    for needle in [
        "not registered in the account and region of this endpoint",
        "INACTIVE",
        "no policy",
        "dev-ec-p256",
        "SNI",
    ] {
        assert!(
            causes.contains(needle),
            "no cause mentions {needle:?}\n{run}"
        );
    }
    assert_eq!(
        broker.connects(),
        1,
        "the stand-in broker should have seen one CONNECT"
    );

    let run = connect_test(&endpoint, &dev, &ca(&pki)).run();
    run.assert_exit(1)
        .assert_words()
        .assert_stdout_contains("✓ TLS")
        .assert_stdout_contains("✗ MQTT CONNECT")
        .assert_stdout_contains("AWS_ERROR_MQTT_UNEXPECTED_HANGUP")
        .assert_stdout_contains("Usual causes:\n  - the certificate is not registered");
}

#[test]
fn a_refused_connack_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let pki = ServerPki::make(dir.path(), "server");
    let dev = device(dir.path(), "dev", "ec-p256");
    let mut config = MosquittoConfig::registered(&[&dev.cert]);
    config.identity_as_username = false;
    let broker = Mosquitto::start(dir.path(), &pki, &config);

    let run = connect_test(&format!("localhost:{}", broker.port()), &dev, &ca(&pki))
        .arg("--json")
        .run();
    let failure = assert_failure(&run, "mqtt_connect", "connack_refused");
    assert!(
        failure["message"]
            .as_str()
            .unwrap()
            .contains("not authorized (5)"),
        "{run}"
    );
}

#[test]
fn a_refused_subscription_is_the_subscribe_stage() {
    let dir = tempfile::tempdir().unwrap();
    let pki = ServerPki::make(dir.path(), "server");
    let dev = device(dir.path(), "dev", "ec-p256");
    let broker = FakeBroker::start(&pki, Behaviour::RefuseSubscriptions);

    let run = connect_test(&format!("localhost:{}", broker.port()), &dev, &ca(&pki))
        .arg("--json")
        .run();
    let failure = assert_failure(&run, "subscribe", "subscribe_refused");
    assert!(
        causes(&failure).contains("iot:Subscribe on topicfilter/devices/dev-ec-p256/connect-test"),
        "{run}"
    );
    assert_eq!(broker.connects(), 1, "{run}");
}

/// Publishing is allowed, reading is not: the message never comes back,
/// as on AWS IoT when a policy allows iot:Publish but not iot:Receive.
#[test]
fn a_message_that_never_comes_back_is_a_message_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let pki = ServerPki::make(dir.path(), "server");
    let dev = device(dir.path(), "dev", "ec-p256");
    let mut config = MosquittoConfig::registered(&[&dev.cert]);
    config.acl = Some("user dev-ec-p256\ntopic write devices/dev-ec-p256/#\n".to_owned());
    let broker = Mosquitto::start(dir.path(), &pki, &config);

    let run = connect_test(&format!("localhost:{}", broker.port()), &dev, &ca(&pki))
        .args(["--timeout", "2", "--json"])
        .run();
    let failure = assert_failure(&run, "messages", "message_timeout");
    assert!(
        failure["message"]
            .as_str()
            .unwrap()
            .contains("message 0 did not come back"),
        "{run}"
    );
    assert!(causes(&failure).contains("iot:Receive"), "{run}");
    assert!(
        broker.log().contains("Received PUBLISH from dev-ec-p256"),
        "{}",
        broker.log()
    );
}

/// mosquitto's own clients (OpenSSL) accept what `marshal keygen` made, on
/// the same broker, and refuse the unregistered certificate as marshal does.
#[test]
fn mosquitto_clients_accept_the_marshal_credentials() {
    let dir = tempfile::tempdir().unwrap();
    let pki = ServerPki::make(dir.path(), "server");
    let dev = device(dir.path(), "dev", "ec-p256");
    let stranger = device(dir.path(), "stranger", "ec-p256");
    let broker = Mosquitto::start(dir.path(), &pki, &MosquittoConfig::registered(&[&dev.cert]));
    let port = broker.port().to_string();
    let topic = "devices/dev-ec-p256/connect-test";
    let tls_args = |who: &Keygen| -> Vec<PathBuf> {
        ["-h", "localhost", "-p", &port, "--cafile"]
            .into_iter()
            .map(PathBuf::from)
            .chain([pki.ca_cert.clone(), "--cert".into(), who.cert.clone()])
            .chain(["--key".into(), who.key.clone()])
            .collect()
    };

    let subscriber = Command::new("mosquitto_sub")
        .args(tls_args(&dev))
        .args([
            "-i",
            "independent-sub",
            "-t",
            topic,
            "-q",
            "1",
            "-C",
            "1",
            "-W",
            "10",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run mosquitto_sub (Debian package mosquitto-clients)");
    assert!(
        broker.wait_for_log(
            "Received SUBSCRIBE from independent-sub",
            Duration::from_secs(10)
        ),
        "mosquitto_sub did not subscribe:\n{}",
        broker.log()
    );
    let payload = r#"{"counter": 0, "message": "TEST"}"#;
    Cmd::new("mosquitto_pub")
        .args(tls_args(&dev))
        .args([
            "-i",
            "independent-pub",
            "-t",
            topic,
            "-q",
            "1",
            "-m",
            payload,
        ])
        .run()
        .assert_success();
    let output = subscriber.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "mosquitto_sub failed: {}\n{}",
        String::from_utf8_lossy(&output.stderr),
        broker.log()
    );
    assert_eq!(String::from_utf8_lossy(&output.stdout).trim_end(), payload);

    let run = Cmd::new("mosquitto_pub")
        .args(tls_args(&stranger))
        .args(["-i", "stranger", "-t", topic, "-m", payload])
        .run();
    if run.status.success() {
        run.fail("mosquitto_pub with an unregistered certificate should fail");
    }
}

#[test]
fn unusable_inputs_are_exit_2_before_any_connection() {
    let dir = tempfile::tempdir().unwrap();
    let dev = device(dir.path(), "dev", "ec-p256");
    let other = device(dir.path(), "other", "ec-p256");
    let missing = dir.path().join("missing.pem");
    let command = |endpoint: &str, cert: &Path, key: &Path| {
        Cmd::marshal()
            .args(["connect-test", "--json", "--endpoint", endpoint, "--cert"])
            .arg(cert)
            .arg("--key")
            .arg(key)
    };
    // Port 1: had a connection been tried, it would fail with exit 1, not 2.
    let cases = [
        (
            command("localhost:1", &missing, &dev.key),
            "unreadable_input",
        ),
        (
            command("localhost:1", &dev.cert, &other.key),
            "key_mismatch",
        ),
        (
            command("mqtts://localhost", &dev.cert, &dev.key),
            "invalid_endpoint",
        ),
        (
            command("localhost:1", &dev.cert, &dev.key).args(["--topic", "devices/#"]),
            "invalid_topic",
        ),
        (
            command("localhost:1", &dev.cert, &dev.key)
                .arg("--ca")
                .arg(&dev.key),
            "no_certificate",
        ),
    ];
    for (cmd, code) in cases {
        let run = cmd.run();
        run.assert_exit(2).assert_no_private_key();
        if run.json()["error"]["code"] != code {
            run.fail(format_args!("expected error code {code}"));
        }
    }
}
