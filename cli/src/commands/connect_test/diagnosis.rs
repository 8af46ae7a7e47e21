//! Why a connection test failed: the stage, a stable snake_case code, what
//! happened in words, and the usual causes — from the errors of DNS, TCP,
//! rustls and the MQTT client.

use std::error::Error as StdError;
use std::io;
use std::time::Duration;

use rumqttc::{ConnectReturnCode, ConnectionError, StateError};
use rustls::{AlertDescription, CertificateError, ProtocolVersion};

use super::endpoint::Endpoint;
use super::tls::{alert_name, refuses_client_certificate};

/// The steps of a connection test, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stage {
    Dns,
    Tcp,
    Tls,
    MqttConnect,
    Subscribe,
    Messages,
}

impl Stage {
    /// The stable name in `--json`.
    pub(crate) fn code(self) -> &'static str {
        match self {
            Stage::Dns => "dns",
            Stage::Tcp => "tcp",
            Stage::Tls => "tls",
            Stage::MqttConnect => "mqtt_connect",
            Stage::Subscribe => "subscribe",
            Stage::Messages => "messages",
        }
    }

    /// The name people read.
    pub(crate) fn label(self) -> &'static str {
        match self {
            Stage::Dns => "DNS",
            Stage::Tcp => "TCP",
            Stage::Tls => "TLS",
            Stage::MqttConnect => "MQTT CONNECT",
            Stage::Subscribe => "SUBSCRIBE",
            Stage::Messages => "PUBLISH+RECEIVE",
        }
    }
}

/// A failed stage, explained.
#[derive(Debug, Clone)]
pub(crate) struct Diagnosis {
    pub(crate) stage: Stage,
    /// Stable snake_case code; scripts match on it (append-only).
    pub(crate) code: &'static str,
    pub(crate) message: String,
    /// The usual reasons, most likely first.
    pub(crate) causes: Vec<String>,
}

impl Diagnosis {
    fn new(stage: Stage, code: &'static str, message: String) -> Diagnosis {
        Diagnosis {
            stage,
            code,
            message,
            causes: Vec::new(),
        }
    }

    fn causes<I: IntoIterator<Item = String>>(mut self, causes: I) -> Diagnosis {
        self.causes.extend(causes);
        self
    }
}

/// What the explanations need to know about the test.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Context<'a> {
    pub(crate) endpoint: &'a Endpoint,
    pub(crate) client_id: &'a str,
    pub(crate) topic: &'a str,
    pub(crate) timeout: Duration,
    /// Where the server certificate's trust anchors came from, for messages.
    pub(crate) trust: &'a str,
}

impl Context<'_> {
    fn seconds(&self) -> u64 {
        self.timeout.as_secs()
    }

    fn sni_cause(&self) -> String {
        match self.endpoint.sni() {
            None => format!(
                "SNI missing: {} is an IP address, so no SNI was sent; AWS IoT needs the endpoint \
                 name in SNI to find certificates registered without a CA — give the host name",
                self.endpoint.host
            ),
            Some(sni) => format!(
                "SNI missing: AWS IoT needs the endpoint name in TLS SNI to find certificates \
                 registered without a CA (this test sent SNI \"{sni}\"; a device must too)"
            ),
        }
    }
}

// --- DNS and TCP -----------------------------------------------------------

pub(crate) fn dns_failed(ctx: &Context<'_>, error: &io::Error) -> Diagnosis {
    Diagnosis::new(
        Stage::Dns,
        "dns_failed",
        format!("cannot resolve {}: {error}", ctx.endpoint.host),
    )
    .causes([
        "the host name is misspelled: the AWS IoT endpoint is shown by `aws iot describe-endpoint \
         --endpoint-type iot:Data-ATS` (xxxxxxxxxxxxxx-ats.iot.REGION.amazonaws.com)"
            .to_owned(),
        "no network or DNS server is reachable from here".to_owned(),
    ])
}

pub(crate) fn dns_timeout(ctx: &Context<'_>) -> Diagnosis {
    Diagnosis::new(
        Stage::Dns,
        "dns_timeout",
        format!(
            "no answer resolving {} within {} s",
            ctx.endpoint.host,
            ctx.seconds()
        ),
    )
    .causes(["no DNS server is reachable from here".to_owned()])
}

pub(crate) fn tcp_failed(ctx: &Context<'_>, addresses: &str, error: &io::Error) -> Diagnosis {
    let port = ctx.endpoint.port;
    let (code, message, causes) = match error.kind() {
        io::ErrorKind::ConnectionRefused => (
            "tcp_refused",
            format!("nothing accepts connections on {addresses} (connection refused)"),
            vec![
                format!(
                    "wrong port {port}: AWS IoT takes MQTT over TLS on 8883, or on 443 with \
                     ALPN x-amzn-mqtt-ca"
                ),
                "the broker is not running".to_owned(),
            ],
        ),
        io::ErrorKind::NetworkUnreachable | io::ErrorKind::HostUnreachable => (
            "tcp_unreachable",
            format!("cannot reach {addresses}: {error}"),
            vec!["no route to the server from this network".to_owned()],
        ),
        _ => (
            "tcp_failed",
            format!("cannot connect to {addresses}: {error}"),
            Vec::new(),
        ),
    };
    Diagnosis::new(Stage::Tcp, code, message).causes(causes)
}

pub(crate) fn tcp_timeout(ctx: &Context<'_>, addresses: &str) -> Diagnosis {
    Diagnosis::new(
        Stage::Tcp,
        "tcp_timeout",
        format!(
            "no answer from {addresses} within {} s (TCP connect)",
            ctx.seconds()
        ),
    )
    .causes([
        format!(
            "a firewall drops outgoing connections to port {}: AWS IoT also takes MQTT on port \
             443 (with ALPN x-amzn-mqtt-ca, which this test sends on 443)",
            ctx.endpoint.port
        ),
        "the host is down or the address is wrong".to_owned(),
    ])
}

// --- TLS -------------------------------------------------------------------

/// The TLS handshake (our probe connection) failed with `error`.
pub(crate) fn tls_failed(ctx: &Context<'_>, error: &io::Error) -> Diagnosis {
    if let Some(tls) = rustls_error(error) {
        return tls_error(ctx, tls, None);
    }
    match error.kind() {
        io::ErrorKind::UnexpectedEof
        | io::ErrorKind::ConnectionReset
        | io::ErrorKind::ConnectionAborted
        | io::ErrorKind::BrokenPipe => Diagnosis::new(
            Stage::Tls,
            "tls_closed",
            format!("the server closed the connection during the TLS handshake ({error})"),
        )
        .causes([
            "this port does not speak TLS, or the server wants an ALPN protocol: AWS IoT on \
             port 443 needs ALPN x-amzn-mqtt-ca (sent only on 443)"
                .to_owned(),
            ctx.sni_cause(),
        ]),
        _ => Diagnosis::new(
            Stage::Tls,
            "tls_failed",
            format!("TLS handshake failed: {error}"),
        ),
    }
}

pub(crate) fn tls_timeout(ctx: &Context<'_>) -> Diagnosis {
    Diagnosis::new(
        Stage::Tls,
        "tls_timeout",
        format!(
            "the TLS handshake did not finish within {} s",
            ctx.seconds()
        ),
    )
    .causes([
        "the server accepts TCP but does not speak TLS on this port (plain MQTT is 1883)"
            .to_owned(),
    ])
}

/// A rustls error. `deferred` is the TLS version when the error came after
/// the handshake had completed, on the MQTT connection's first read.
fn tls_error(ctx: &Context<'_>, error: &rustls::Error, deferred: Option<&str>) -> Diagnosis {
    match error {
        rustls::Error::AlertReceived(alert) if refuses_client_certificate(*alert) => {
            let when = match deferred {
                Some("TLS 1.3") => {
                    " after the handshake (with TLS 1.3 the server judges the \
                                    client certificate after the client's last handshake \
                                    message, so its refusal arrives with the first read)"
                }
                Some(_) => " after the handshake",
                None => " during the handshake",
            };
            Diagnosis::new(
                Stage::Tls,
                "tls_certificate_refused",
                format!(
                    "the server refused our client certificate: TLS alert {}{when}",
                    alert_name(*alert)
                ),
            )
            .causes([
                "the server does not trust this certificate: a broker with a CA list (mosquitto \
                 `cafile`) must hold the certificate itself (self-signed) or its CA"
                    .to_owned(),
                "the certificate has expired or is not yet valid (`marshal inspect CERT`)"
                    .to_owned(),
                "the certificate is not for TLS clients (its extended key usage lacks clientAuth)"
                    .to_owned(),
            ])
        }
        rustls::Error::AlertReceived(alert) => {
            let name = alert_name(*alert);
            let causes = match *alert {
                AlertDescription::UnrecognisedName => vec![format!(
                    "the server does not serve the name {}: check the endpoint host",
                    ctx.endpoint.host
                )],
                AlertDescription::NoApplicationProtocol => vec![
                    "the server does not accept the ALPN protocol offered (x-amzn-mqtt-ca on \
                     port 443)"
                        .to_owned(),
                ],
                _ => vec![
                    "no TLS version, cipher suite or signature algorithm in common with the server"
                        .to_owned(),
                ],
            };
            Diagnosis::new(
                Stage::Tls,
                "tls_alert",
                format!("the server ended the TLS handshake with alert {name}"),
            )
            .causes(causes)
        }
        rustls::Error::InvalidCertificate(cert_error) => server_certificate(ctx, cert_error),
        rustls::Error::InvalidMessage(_)
        | rustls::Error::InappropriateMessage { .. }
        | rustls::Error::InappropriateHandshakeMessage { .. } => Diagnosis::new(
            Stage::Tls,
            "tls_protocol_error",
            format!("the server does not speak TLS as expected: {error}"),
        )
        .causes([format!(
            "port {} is not MQTT over TLS (AWS IoT: 8883, or 443 with ALPN; 1883 is plain MQTT)",
            ctx.endpoint.port
        )]),
        other => Diagnosis::new(Stage::Tls, "tls_failed", format!("TLS failed: {other}")),
    }
}

fn server_certificate(ctx: &Context<'_>, error: &CertificateError) -> Diagnosis {
    let host = &ctx.endpoint.host;
    match error {
        CertificateError::UnknownIssuer | CertificateError::BadSignature => Diagnosis::new(
            Stage::Tls,
            "tls_server_untrusted",
            format!(
                "the server's certificate {} (trusted: {})",
                if matches!(error, CertificateError::BadSignature) {
                    "has a bad signature"
                } else {
                    "is not signed by a CA we trust"
                },
                ctx.trust
            ),
        )
        .causes([
            "--ca does not hold the CA of this server; without --ca, Amazon Root CA 1 is \
             trusted, which signs AWS IoT's ATS endpoints"
                .to_owned(),
            "a legacy AWS IoT endpoint (without -ats) uses another CA: use the \
             iot:Data-ATS endpoint"
                .to_owned(),
            "something between here and the server intercepts TLS (a proxy)".to_owned(),
        ]),
        CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => {
            let presented = match error {
                CertificateError::NotValidForNameContext { presented, .. } => {
                    let names: Vec<&str> = presented.iter().map(|n| bare_name(n)).collect();
                    format!(" (it names {})", names.join(", "))
                }
                _ => String::new(),
            };
            Diagnosis::new(
                Stage::Tls,
                "tls_server_name_mismatch",
                format!("the server's certificate is not valid for {host}{presented}"),
            )
            .causes([
                "the endpoint host is not this server's name: give the name its certificate \
                 has, not an IP address or an alias"
                    .to_owned(),
            ])
        }
        CertificateError::Expired
        | CertificateError::ExpiredContext { .. }
        | CertificateError::NotValidYet
        | CertificateError::NotValidYetContext { .. } => Diagnosis::new(
            Stage::Tls,
            "tls_server_certificate_expired",
            format!("the server's certificate is outside its validity period: {error}"),
        )
        .causes(["this computer's clock is wrong".to_owned()]),
        other => Diagnosis::new(
            Stage::Tls,
            "tls_server_certificate_invalid",
            format!("the server's certificate was refused: {other}"),
        ),
    }
}

/// `localhost` from rustls's `DnsName("localhost")`.
fn bare_name(presented: &str) -> &str {
    presented
        .split_once("(\"")
        .and_then(|(_, rest)| rest.strip_suffix("\")"))
        .unwrap_or(presented)
}

// --- MQTT ------------------------------------------------------------------

/// The MQTT client failed during `stage`. `tls_version` is what the probe
/// negotiated (a refusal of our certificate can still arrive now).
pub(crate) fn mqtt_failed(
    ctx: &Context<'_>,
    stage: Stage,
    error: &ConnectionError,
    tls_version: Option<ProtocolVersion>,
) -> Diagnosis {
    if let Some(tls) = rustls_error(error) {
        let version = tls_version.map(super::tls::version_name);
        return tls_error(ctx, tls, Some(version.as_deref().unwrap_or("TLS 1.3")));
    }
    match error {
        ConnectionError::ConnectionRefused(code) => connack_refused(ctx, *code),
        ConnectionError::NetworkTimeout | ConnectionError::FlushTimeout => timeout(ctx, stage, 0),
        ConnectionError::NotConnAck(packet) => Diagnosis::new(
            stage,
            "unexpected_packet",
            format!("the server answered CONNECT with {packet:?} instead of CONNACK"),
        ),
        _ if is_closed(error) => closed(ctx, stage, error),
        ConnectionError::Io(io) if io.kind() == io::ErrorKind::ConnectionRefused => {
            tcp_failed(ctx, &ctx.endpoint.to_string(), io)
        }
        other => Diagnosis::new(stage, "mqtt_failed", format!("MQTT failed: {other}")),
    }
}

fn is_closed(error: &ConnectionError) -> bool {
    if matches!(
        error,
        ConnectionError::MqttState(StateError::ConnectionAborted)
    ) {
        return true;
    }
    chain(error).any(|e| {
        e.downcast_ref::<io::Error>().is_some_and(|io| {
            matches!(
                io.kind(),
                io::ErrorKind::UnexpectedEof
                    | io::ErrorKind::ConnectionReset
                    | io::ErrorKind::ConnectionAborted
                    | io::ErrorKind::BrokenPipe
            )
        })
    })
}

/// How the server ended the connection, in words.
fn how_closed(error: &ConnectionError) -> &'static str {
    let kind = chain(error).find_map(|e| e.downcast_ref::<io::Error>().map(io::Error::kind));
    match kind {
        Some(io::ErrorKind::UnexpectedEof) => "TCP closed without a TLS close_notify",
        Some(io::ErrorKind::ConnectionReset | io::ErrorKind::ConnectionAborted) => {
            "connection reset"
        }
        Some(io::ErrorKind::BrokenPipe) => "closed while we were still sending",
        _ => "closed cleanly",
    }
}

/// `region ap-northeast-1` for an AWS IoT data endpoint, else the host.
fn account_and_region(host: &str) -> String {
    let labels: Vec<&str> = host.split('.').collect();
    match labels.as_slice() {
        [_, "iot", region, "amazonaws", "com", ..] => format!("region {region}"),
        _ => host.to_owned(),
    }
}

fn closed(ctx: &Context<'_>, stage: Stage, error: &ConnectionError) -> Diagnosis {
    let client_id = ctx.client_id;
    let topic = ctx.topic;
    let how = how_closed(error);
    match stage {
        Stage::Subscribe => Diagnosis::new(
            stage,
            "connection_closed_after_subscribe",
            format!("the server closed the connection right after SUBSCRIBE to {topic} ({how})"),
        )
        .causes([format!(
            "the policy does not allow iot:Subscribe on topicfilter/{topic}: give a --topic it \
             allows (`marshal policy` allows devices/<thing name>/…)"
        )]),
        Stage::Messages => Diagnosis::new(
            stage,
            "connection_closed_after_publish",
            format!("the server closed the connection after PUBLISH to {topic} ({how})"),
        )
        .causes([
            format!(
                "the policy does not allow iot:Publish on topic/{topic} (AWS IoT disconnects a \
                 client that publishes where it may not)"
            ),
            format!(
                "another client connected with the client id \"{client_id}\" and took the \
                 connection over"
            ),
        ]),
        _ => Diagnosis::new(
            Stage::MqttConnect,
            "connection_closed_after_connect",
            format!(
                "the server closed the connection right after MQTT CONNECT, without a CONNACK \
                 ({how}); the AWS IoT Device SDK reports this as \
                 AWS_ERROR_MQTT_UNEXPECTED_HANGUP"
            ),
        )
        .causes([
            format!(
                "the certificate is not registered in the account and region of this endpoint \
                 ({}), or it is registered but INACTIVE or REVOKED: register it there (without \
                 a CA) and activate it",
                account_and_region(&ctx.endpoint.host)
            ),
            format!(
                "no policy is attached to the certificate, or its policy does not allow \
                 iot:Connect for client id \"{client_id}\": policies using \
                 ${{iot:Connection.Thing.ThingName}} need the client id to be the thing name \
                 and the certificate attached to that thing"
            ),
            ctx.sni_cause(),
        ]),
    }
}

fn connack_refused(ctx: &Context<'_>, code: ConnectReturnCode) -> Diagnosis {
    let (name, causes) = match code {
        ConnectReturnCode::RefusedProtocolVersion => (
            "unacceptable protocol version (1)",
            vec!["the server does not speak MQTT 3.1.1".to_owned()],
        ),
        ConnectReturnCode::BadClientId => (
            "identifier rejected (2)",
            vec![format!(
                "the server does not accept the client id \"{}\": give another with --client-id",
                ctx.client_id
            )],
        ),
        ConnectReturnCode::ServiceUnavailable => (
            "server unavailable (3)",
            vec!["the server is overloaded or shutting down: try again later".to_owned()],
        ),
        ConnectReturnCode::BadUserNamePassword => (
            "bad user name or password (4)",
            vec!["the server wants a user name and password, not (only) a certificate".to_owned()],
        ),
        ConnectReturnCode::NotAuthorized => (
            "not authorized (5)",
            vec![format!(
                "the server does not let this certificate or client id \"{}\" connect",
                ctx.client_id
            )],
        ),
        ConnectReturnCode::Success => ("accepted (0)", Vec::new()),
    };
    Diagnosis::new(
        Stage::MqttConnect,
        "connack_refused",
        format!("the server refused the MQTT connection: CONNACK {name}"),
    )
    .causes(causes)
}

pub(crate) fn subscribe_refused(ctx: &Context<'_>) -> Diagnosis {
    let topic = ctx.topic;
    Diagnosis::new(
        Stage::Subscribe,
        "subscribe_refused",
        format!("the server refused the subscription to {topic} (SUBACK failure 0x80)"),
    )
    .causes([format!(
        "the policy does not allow iot:Subscribe on topicfilter/{topic}: give a --topic it \
         allows (`marshal policy` allows devices/<thing name>/…)"
    )])
}

/// No answer in time. For messages, `counter` says which one did not come back.
pub(crate) fn timeout(ctx: &Context<'_>, stage: Stage, counter: u32) -> Diagnosis {
    let seconds = ctx.seconds();
    let topic = ctx.topic;
    match stage {
        Stage::Subscribe => Diagnosis::new(
            stage,
            "subscribe_timeout",
            format!("no SUBACK for {topic} within {seconds} s"),
        ),
        Stage::Messages => Diagnosis::new(
            stage,
            "message_timeout",
            format!("message {counter} did not come back on {topic} within {seconds} s"),
        )
        .causes([
            format!(
                "the policy allows iot:Publish but not iot:Receive on topic/{topic}: AWS IoT then \
                 drops the message without telling the client"
            ),
            format!("a broker ACL lets this client publish to {topic} but not read it"),
        ]),
        _ => Diagnosis::new(
            Stage::MqttConnect,
            "connect_timeout",
            format!("no CONNACK within {seconds} s after MQTT CONNECT"),
        )
        .causes(["the server is overloaded or is not an MQTT server".to_owned()]),
    }
}

// --- error chains ----------------------------------------------------------

/// `error` and its sources.
fn chain<'a>(
    error: &'a (dyn StdError + 'static),
) -> impl Iterator<Item = &'a (dyn StdError + 'static)> {
    std::iter::successors(Some(error), |e| (*e).source())
}

/// The rustls error anywhere in `error`'s chain. An `io::Error` wrapping one
/// hides it from `source()` (which skips to the wrapped error's own source),
/// so look inside each `io::Error` too.
fn rustls_error<'a>(error: &'a (dyn StdError + 'static)) -> Option<&'a rustls::Error> {
    chain(error).find_map(|e| {
        e.downcast_ref::<rustls::Error>().or_else(|| {
            e.downcast_ref::<io::Error>()
                .and_then(io::Error::get_ref)
                .and_then(|inner| inner.downcast_ref::<rustls::Error>())
        })
    })
}

#[cfg(test)]
mod tests {
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
    fn presented_names_lose_their_debug_form() {
        assert_eq!(bare_name("DnsName(\"localhost\")"), "localhost");
        assert_eq!(bare_name("10.0.0.1"), "10.0.0.1");
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
}
