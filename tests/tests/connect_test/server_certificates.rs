//! Issue 14: failures are told in words. Servers whose certificates are wrong
//! in the ways a device meets (a CA certificate served as the server's own,
//! expired, not yet valid, for another name, from an unknown CA) and the
//! other failure stages, through the real `marshal connect-test`, in the
//! human report and in `--json`: the cause named, and no library's `Debug`
//! text anywhere (`Run::assert_words`, also applied by `assert_failure`).

use std::net::TcpListener;

use super::*;

/// Before issue 14 this printed `invalid peer certificate:
/// Other(OtherError(CaUsedAsEndEntity))`.
#[test]
fn issue_14_a_ca_certificate_served_as_the_servers_own_is_named_in_words() {
    let dir = tempfile::tempdir().unwrap();
    let pki = ServerPki::make(dir.path(), "server");
    let dev = device(dir.path(), "dev", "ec-p256");
    let broker = FakeBroker::start(&pki.ca_as_server(), Behaviour::HangUpOnConnect);
    let endpoint = format!("localhost:{}", broker.port());

    let run = connect_test(&endpoint, &dev, &ca(&pki)).arg("--json").run();
    let failure = assert_failure(&run, "tls", "tls_server_certificate_is_ca");
    assert_eq!(
        failure["message"], "the server presented a CA certificate as its own certificate",
        "{run}"
    );
    let causes = causes(&failure);
    for needle in ["proxy", "iot:Data-ATS"] {
        assert!(causes.contains(needle), "no cause mentions {needle}\n{run}");
    }

    let run = connect_test(&endpoint, &dev, &ca(&pki)).run();
    run.assert_exit(1)
        .assert_words()
        .assert_stdout_contains("the server presented a CA certificate as its own certificate")
        .assert_stdout_contains("the endpoint is wrong or a proxy is in the way");
    assert_eq!(
        broker.connects(),
        0,
        "no MQTT after a failed handshake\n{run}"
    );
}

#[test]
fn an_expired_server_certificate_says_when_it_expired() {
    let dir = tempfile::tempdir().unwrap();
    let pki = ServerPki::make(dir.path(), "server");
    let expired = pki.with_server_validity(dir.path(), "expired", -30, -3);
    let dev = device(dir.path(), "dev", "ec-p256");
    let broker = FakeBroker::start(&expired, Behaviour::HangUpOnConnect);

    let run = connect_test(&format!("localhost:{}", broker.port()), &dev, &ca(&pki))
        .arg("--json")
        .run();
    let failure = assert_failure(&run, "tls", "tls_server_certificate_expired");
    let message = failure["message"].as_str().unwrap();
    assert!(
        message.starts_with("the server's certificate expired on ")
            && message.contains(" UTC (")
            && message.ends_with(" days ago)"),
        "{run}"
    );
    assert!(causes(&failure).contains("clock"), "{run}");
}

#[test]
fn a_server_certificate_not_yet_valid_says_from_when() {
    let dir = tempfile::tempdir().unwrap();
    let pki = ServerPki::make(dir.path(), "server");
    let early = pki.with_server_validity(dir.path(), "early", 3, 30);
    let dev = device(dir.path(), "dev", "ec-p256");
    let broker = FakeBroker::start(&early, Behaviour::HangUpOnConnect);

    let run = connect_test(&format!("localhost:{}", broker.port()), &dev, &ca(&pki))
        .arg("--json")
        .run();
    let failure = assert_failure(&run, "tls", "tls_server_certificate_expired");
    assert!(
        failure["message"]
            .as_str()
            .unwrap()
            .starts_with("the server's certificate is not valid before "),
        "{run}"
    );
}

/// The human report of each failure stage is words too, and names the cause.
#[test]
fn every_failure_reads_as_words_in_the_human_report() {
    let dir = tempfile::tempdir().unwrap();
    let pki = ServerPki::make(dir.path(), "server");
    let other = ServerPki::make(dir.path(), "other");
    let registered = device(dir.path(), "registered", "ec-p256");
    let stranger = device(dir.path(), "stranger", "ec-p256");
    let mosquitto = Mosquitto::start(
        dir.path(),
        &pki,
        &MosquittoConfig::registered(&[&registered.cert]),
    );
    let hangup = FakeBroker::start(&pki, Behaviour::HangUpOnConnect);
    let closed_port = {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };

    let cases: Vec<(&str, Cmd, &str)> = vec![
        (
            "nothing listening",
            connect_test(&format!("127.0.0.1:{closed_port}"), &registered, &[]),
            "connection refused",
        ),
        (
            "a CA that did not sign the server",
            connect_test(
                &format!("localhost:{}", mosquitto.port()),
                &registered,
                &ca(&other),
            ),
            "is not signed by a CA we trust",
        ),
        (
            "an IP address the certificate does not name",
            connect_test(
                &format!("127.0.0.1:{}", mosquitto.port()),
                &registered,
                &ca(&pki),
            ),
            "is not valid for 127.0.0.1 (it names localhost)",
        ),
        (
            "a device certificate the broker does not hold",
            connect_test(
                &format!("localhost:{}", mosquitto.port()),
                &stranger,
                &ca(&pki),
            ),
            "the server refused our client certificate: TLS alert",
        ),
        (
            "a hang-up after CONNECT",
            connect_test(
                &format!("localhost:{}", hangup.port()),
                &registered,
                &ca(&pki),
            ),
            "AWS_ERROR_MQTT_UNEXPECTED_HANGUP",
        ),
    ];
    for (what, cmd, cause) in cases {
        let run = cmd.run();
        run.assert_exit(1).assert_words();
        if !run.stdout_text().contains(cause) {
            run.fail(format_args!("{what}: the report should say {cause:?}"));
        }
        if !run.stderr_text().contains("error: connect-test failed at") {
            run.fail(format_args!("{what}: stderr should say the test failed"));
        }
    }
}
