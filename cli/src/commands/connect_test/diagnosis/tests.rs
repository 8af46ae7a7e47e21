//! The diagnoses, fed the errors they meet: stage, code, and words only.
use std::sync::Arc;

use marshal_shared::debug_text::debug_shapes;
use rumqttc::Packet;
use rustls::{AlertDescription, CertificateError, OtherError};

use super::*;

fn ctx(endpoint: &Endpoint) -> Context<'_> {
    Context {
        endpoint,
        client_id: "dev-1",
        topic: "devices/dev-1/connect-test",
        timeout: Duration::from_secs(10),
        trust: "Amazon Root CA 1",
    }
}

fn tls_io(error: rustls::Error) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, error)
}

#[test]
fn an_alert_in_the_handshake_is_a_refused_certificate() {
    let endpoint = Endpoint::parse("localhost").unwrap();
    let d = tls_failed(
        &ctx(&endpoint),
        &tls_io(rustls::Error::AlertReceived(AlertDescription::UnknownCA)),
    );
    assert_eq!((d.stage, d.code), (Stage::Tls, "tls_certificate_refused"));
    assert!(
        d.message.contains("alert unknown_ca during the handshake"),
        "{d:?}"
    );
}

#[test]
fn an_alert_after_connect_is_still_the_tls_stage() {
    // What rumqttc returns when a TLS 1.3 server refuses the certificate:
    // the alert surfaces as an I/O error on reading the CONNACK.
    let endpoint = Endpoint::parse("localhost").unwrap();
    let error =
        ConnectionError::MqttState(StateError::Deserialization(rumqttc::Error::Io(tls_io(
            rustls::Error::AlertReceived(AlertDescription::CertificateRequired),
        ))));
    let d = mqtt_failed(
        &ctx(&endpoint),
        Stage::MqttConnect,
        &error,
        Some(ProtocolVersion::TLSv1_3),
    );
    assert_eq!((d.stage, d.code), (Stage::Tls, "tls_certificate_refused"));
    assert!(
        d.message.contains("after the handshake (with TLS 1.3"),
        "{d:?}"
    );
}

#[test]
fn a_hangup_after_connect_lists_the_aws_causes() {
    let endpoint = Endpoint::parse("example-ats.iot.eu-west-1.amazonaws.com").unwrap();
    for error in [
        ConnectionError::MqttState(StateError::ConnectionAborted),
        ConnectionError::MqttState(StateError::Deserialization(rumqttc::Error::Io(
            io::Error::from(io::ErrorKind::ConnectionReset),
        ))),
    ] {
        let d = mqtt_failed(&ctx(&endpoint), Stage::MqttConnect, &error, None);
        assert_eq!(
            (d.stage, d.code),
            (Stage::MqttConnect, "connection_closed_after_connect")
        );
        let causes = d.causes.join("\n");
        for needle in ["region eu-west-1", "INACTIVE", "policy", "dev-1", "SNI"] {
            assert!(causes.contains(needle), "{needle}: {causes}");
        }
    }
}

#[test]
fn aws_endpoints_name_their_region() {
    assert_eq!(
        account_and_region("abc123-ats.iot.ap-northeast-1.amazonaws.com"),
        "region ap-northeast-1"
    );
    assert_eq!(
        account_and_region("abc123-ats.iot.cn-north-1.amazonaws.com.cn"),
        "region cn-north-1"
    );
    assert_eq!(account_and_region("localhost"), "localhost");
}

#[test]
fn server_certificate_problems_name_the_cause() {
    let endpoint = Endpoint::parse("127.0.0.1").unwrap();
    let c = ctx(&endpoint);
    let d = tls_failed(
        &c,
        &tls_io(rustls::Error::InvalidCertificate(
            CertificateError::UnknownIssuer,
        )),
    );
    assert_eq!(d.code, "tls_server_untrusted");
    assert!(d.message.contains("Amazon Root CA 1"), "{d:?}");
    let d = tls_failed(
        &c,
        &tls_io(rustls::Error::InvalidCertificate(
            CertificateError::NotValidForName,
        )),
    );
    assert_eq!(d.code, "tls_server_name_mismatch");
}

#[test]
fn connack_codes_are_named() {
    let endpoint = Endpoint::parse("localhost").unwrap();
    let d = mqtt_failed(
        &ctx(&endpoint),
        Stage::MqttConnect,
        &ConnectionError::ConnectionRefused(ConnectReturnCode::NotAuthorized),
        None,
    );
    assert_eq!(d.code, "connack_refused");
    assert!(d.message.contains("not authorized (5)"), "{d:?}");
}

#[test]
fn tcp_refusal() {
    let endpoint = Endpoint::parse("localhost:1").unwrap();
    let d = tcp_failed(
        &ctx(&endpoint),
        "127.0.0.1:1",
        &io::Error::from(io::ErrorKind::ConnectionRefused),
    );
    assert_eq!((d.stage, d.code), (Stage::Tcp, "tcp_refused"));
}

/// The message and causes of `d`, checked for words.
#[track_caller]
fn assert_words(d: &Diagnosis, what: &str) {
    let all = std::iter::once(&d.message)
        .chain(&d.causes)
        .cloned()
        .collect::<Vec<_>>()
        .join("\n");
    let shapes = debug_shapes(&all);
    assert!(
        shapes.is_empty(),
        "{what}: Debug text {shapes:?} in:\n{all}"
    );
}

/// Every diagnosis path, fed the errors it meets, says what happened in
/// words: no library's `Debug` text reaches the user.
#[test]
fn every_diagnosis_is_words() {
    let endpoint = Endpoint::parse("example-ats.iot.eu-west-1.amazonaws.com").unwrap();
    let c = ctx(&endpoint);
    let io = |kind| io::Error::from(kind);
    let wrapped = |e: rustls::Error| io::Error::new(io::ErrorKind::InvalidData, e);
    let ca_as_leaf = || {
        rustls::Error::InvalidCertificate(CertificateError::Other(OtherError(Arc::new(
            webpki::Error::CaUsedAsEndEntity,
        ))))
    };
    let mut all = vec![
        dns_failed(&c, &io::Error::other("no addresses")),
        dns_timeout(&c),
        tcp_timeout(&c, "192.0.2.1:8883"),
        tls_timeout(&c),
    ];
    for kind in [
        io::ErrorKind::ConnectionRefused,
        io::ErrorKind::NetworkUnreachable,
        io::ErrorKind::HostUnreachable,
        io::ErrorKind::PermissionDenied,
    ] {
        all.push(tcp_failed(&c, "192.0.2.1:8883", &io(kind)));
    }
    for error in [
        io(io::ErrorKind::UnexpectedEof),
        io(io::ErrorKind::ConnectionReset),
        io::Error::other("plain words"),
        // An error whose Display is Debug: held back.
        io::Error::new(
            io::ErrorKind::InvalidData,
            io::Error::other("Custom { kind: X }"),
        ),
        wrapped(ca_as_leaf()),
        wrapped(rustls::Error::AlertReceived(
            AlertDescription::BadCertificate,
        )),
        wrapped(rustls::Error::AlertReceived(
            AlertDescription::HandshakeFailure,
        )),
        wrapped(rustls::Error::InvalidCertificate(
            CertificateError::UnknownIssuer,
        )),
    ] {
        all.push(tls_failed(&c, &error));
    }
    let mqtt_errors = vec![
        ConnectionError::MqttState(StateError::Deserialization(rumqttc::Error::Io(wrapped(
            ca_as_leaf(),
        )))),
        ConnectionError::MqttState(StateError::Io(wrapped(rustls::Error::AlertReceived(
            AlertDescription::UnknownCA,
        )))),
        ConnectionError::MqttState(StateError::Io(io::Error::new(
            io::ErrorKind::InvalidData,
            io::Error::other("inner"),
        ))),
        ConnectionError::MqttState(StateError::Deserialization(rumqttc::Error::MalformedPacket)),
        ConnectionError::MqttState(StateError::AwaitPingResp),
        ConnectionError::MqttState(StateError::InvalidState),
        ConnectionError::MqttState(StateError::ConnectionAborted),
        ConnectionError::NetworkTimeout,
        ConnectionError::FlushTimeout,
        ConnectionError::NotConnAck(Packet::PingResp),
        ConnectionError::Io(io(io::ErrorKind::ConnectionRefused)),
        ConnectionError::Io(io(io::ErrorKind::PermissionDenied)),
        ConnectionError::RequestsDone,
        ConnectionError::ConnectionRefused(ConnectReturnCode::RefusedProtocolVersion),
        ConnectionError::ConnectionRefused(ConnectReturnCode::BadClientId),
        ConnectionError::ConnectionRefused(ConnectReturnCode::ServiceUnavailable),
        ConnectionError::ConnectionRefused(ConnectReturnCode::BadUserNamePassword),
        ConnectionError::ConnectionRefused(ConnectReturnCode::NotAuthorized),
    ];
    for stage in [Stage::MqttConnect, Stage::Subscribe, Stage::Messages] {
        for error in &mqtt_errors {
            all.push(mqtt_failed(
                &c,
                stage,
                error,
                Some(ProtocolVersion::TLSv1_2),
            ));
        }
        all.push(timeout(&c, stage, 1));
    }
    all.push(subscribe_refused(&c));
    for d in &all {
        assert_words(d, d.code);
        assert!(!d.message.is_empty(), "{d:?}");
    }
    // The example, end to end through the MQTT client's error.
    let d = mqtt_failed(&c, Stage::MqttConnect, &mqtt_errors[0], None);
    assert_eq!(
        (d.stage, d.code),
        (Stage::Tls, "tls_server_certificate_is_ca")
    );
}
