//! Why a connection test failed: the stage, a stable snake_case code, what
//! happened in words, and the usual causes — from the errors of DNS, TCP,
//! rustls and the MQTT client.

use std::error::Error as StdError;
use std::io;
use std::time::Duration;

use rumqttc::{ConnectReturnCode, ConnectionError, StateError};
use rustls::ProtocolVersion;

use super::endpoint::Endpoint;
use crate::tls_failure::{self, Peer, alert_name, find_rustls_error, refuses_client_certificate};
use marshal_shared::debug_text::looks_like_debug;

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
        format!("cannot resolve {}: {}", ctx.endpoint.host, io_words(error)),
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
            format!("cannot reach {addresses}: {}", io_words(error)),
            vec!["no route to the server from this network".to_owned()],
        ),
        _ => (
            "tcp_failed",
            format!("cannot connect to {addresses}: {}", io_words(error)),
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
    if let Some(tls) = find_rustls_error(error) {
        return tls_error(ctx, tls, None);
    }
    match error.kind() {
        io::ErrorKind::UnexpectedEof
        | io::ErrorKind::ConnectionReset
        | io::ErrorKind::ConnectionAborted
        | io::ErrorKind::BrokenPipe => Diagnosis::new(
            Stage::Tls,
            "tls_closed",
            format!(
                "the server closed the connection during the TLS handshake ({})",
                io_words(error)
            ),
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
            format!("the TLS handshake failed: {}", io_words(error)),
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
    if let rustls::Error::AlertReceived(alert) = error
        && refuses_client_certificate(*alert)
    {
        let when = match deferred {
            Some("TLS 1.3") => {
                " after the handshake (with TLS 1.3 the server judges the client certificate \
                 after the client's last handshake message, so its refusal arrives with the \
                 first read)"
            }
            Some(_) => " after the handshake",
            None => " during the handshake",
        };
        return Diagnosis::new(
            Stage::Tls,
            "tls_certificate_refused",
            format!(
                "the server refused our client certificate: TLS alert {}{when}",
                alert_name(*alert)
            ),
        )
        .causes([
            format!(
                "on AWS IoT: the certificate is not registered in the account and region of \
                 this endpoint ({}), or not ACTIVE there: register it (without a CA) and \
                 activate it",
                account_and_region(&ctx.endpoint.host)
            ),
            "the server does not trust this certificate: a broker with a CA list (mosquitto \
             `cafile`) must hold the certificate itself (self-signed) or its CA"
                .to_owned(),
            "the certificate has expired or is not yet valid (`marshal inspect CERT`)".to_owned(),
            "the certificate is not for TLS clients (its extended key usage lacks clientAuth)"
                .to_owned(),
        ]);
    }
    let peer = Peer {
        host: &ctx.endpoint.host,
        trust: ctx.trust,
        right_server: "check --endpoint: AWS IoT's is the account's iot:Data-ATS endpoint \
                       (`aws iot describe-endpoint --endpoint-type iot:Data-ATS`), which Amazon \
                       Root CA 1 signs; for another broker, give its CA with --ca",
    };
    let explained = tls_failure::explain(error, &peer);
    let mut diagnosis =
        Diagnosis::new(Stage::Tls, explained.code, explained.message).causes(explained.causes);
    match explained.code {
        "tls_server_untrusted" => diagnosis.causes.push(
            "a legacy AWS IoT endpoint (without -ats) uses another CA: use the iot:Data-ATS \
             endpoint"
                .to_owned(),
        ),
        "tls_protocol_error" | "tls_incompatible" => diagnosis.causes.push(format!(
            "port {} is not MQTT over TLS (AWS IoT: 8883, or 443 with ALPN; 1883 is plain MQTT)",
            ctx.endpoint.port
        )),
        _ => {}
    }
    diagnosis
}

/// An I/O error in words: the operating system's text, or a description of
/// its kind when what it wraps prints as `Debug`.
fn io_words(error: &io::Error) -> String {
    let text = error.to_string();
    if !looks_like_debug(&text) {
        return text;
    }
    match error.kind() {
        io::ErrorKind::UnexpectedEof => "the connection ended early".to_owned(),
        io::ErrorKind::ConnectionReset => "the connection was reset".to_owned(),
        io::ErrorKind::ConnectionAborted => "the connection was aborted".to_owned(),
        io::ErrorKind::BrokenPipe => "the connection was closed while sending".to_owned(),
        io::ErrorKind::TimedOut => "the connection timed out".to_owned(),
        io::ErrorKind::InvalidData => "the server sent data that could not be read".to_owned(),
        _ => "the connection failed".to_owned(),
    }
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
    if let Some(tls) = find_rustls_error(error) {
        let version = tls_version.map(super::tls::version_name);
        return tls_error(ctx, tls, Some(version.as_deref().unwrap_or("TLS 1.3")));
    }
    match error {
        ConnectionError::ConnectionRefused(code) => connack_refused(ctx, *code),
        ConnectionError::NetworkTimeout | ConnectionError::FlushTimeout => timeout(ctx, stage, 0),
        ConnectionError::NotConnAck(packet) => Diagnosis::new(
            stage,
            "unexpected_packet",
            format!(
                "the server answered CONNECT with {} instead of CONNACK",
                packet_name(packet)
            ),
        )
        .causes(["the server is not an MQTT 3.1.1 broker".to_owned()]),
        _ if is_closed(error) => closed(ctx, stage, error),
        ConnectionError::Io(io) if io.kind() == io::ErrorKind::ConnectionRefused => {
            tcp_failed(ctx, &ctx.endpoint.to_string(), io)
        }
        other => mqtt_other(stage, other),
    }
}

/// The rest of the MQTT client's errors. Their `Display` is partly `Debug`
/// (`Io error: Custom { kind: .. }`), so each kind gets its sentence.
fn mqtt_other(stage: Stage, error: &ConnectionError) -> Diagnosis {
    let message = match error {
        ConnectionError::Io(io) | ConnectionError::MqttState(StateError::Io(io)) => {
            format!("the MQTT connection failed: {}", io_words(io))
        }
        ConnectionError::MqttState(StateError::Deserialization(_))
        | ConnectionError::MqttState(StateError::WrongPacket)
        | ConnectionError::MqttState(StateError::Unsolicited(_)) => {
            "the server sent something that is not valid MQTT 3.1.1 here".to_owned()
        }
        ConnectionError::MqttState(StateError::AwaitPingResp) => {
            "the server stopped answering keep-alive pings".to_owned()
        }
        ConnectionError::Tls(_) => {
            "the MQTT client could not set up TLS for this endpoint".to_owned()
        }
        ConnectionError::RequestsDone => {
            "the MQTT client stopped before the test was over".to_owned()
        }
        other => {
            let text = other.to_string();
            if looks_like_debug(&text) {
                "the MQTT client failed for a reason it cannot name".to_owned()
            } else {
                format!("the MQTT client failed: {text}")
            }
        }
    };
    Diagnosis::new(stage, "mqtt_failed", message)
}

/// `a PUBLISH packet`: an MQTT packet as the specification names it.
fn packet_name(packet: &rumqttc::Packet) -> &'static str {
    use rumqttc::Packet as P;
    match packet {
        P::Connect(..) => "a CONNECT packet",
        P::ConnAck(_) => "a CONNACK packet",
        P::Publish(_) => "a PUBLISH packet",
        P::PubAck(_) => "a PUBACK packet",
        P::PubRec(_) => "a PUBREC packet",
        P::PubRel(_) => "a PUBREL packet",
        P::PubComp(_) => "a PUBCOMP packet",
        P::Subscribe(_) => "a SUBSCRIBE packet",
        P::SubAck(_) => "a SUBACK packet",
        P::Unsubscribe(_) => "an UNSUBSCRIBE packet",
        P::UnsubAck(_) => "an UNSUBACK packet",
        P::PingReq => "a PINGREQ packet",
        P::PingResp => "a PINGRESP packet",
        P::Disconnect => "a DISCONNECT packet",
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

#[cfg(test)]
mod tests;
