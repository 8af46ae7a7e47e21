//! Running a connection test: DNS, a probe connection for TCP and the TLS
//! handshake, then an MQTT session that connects, subscribes, publishes and
//! waits for its own messages. Each stage is timed and bounded by the timeout.
//!
//! Why a probe: the MQTT client (rumqttc) makes its TCP connection, TLS
//! handshake and MQTT CONNECT in one call and reports one timeout for all of
//! them, so it cannot say whether a firewall dropped the SYN, a handshake
//! stalled or the broker never answered CONNECT, nor how long each took.
//! The probe does TCP and TLS itself with the same TLS configuration, times
//! them and diagnoses their failures; only then does the MQTT client connect
//! (a second TCP+TLS connection, counted in the MQTT CONNECT time). A TLS 1.3
//! server's refusal of the client certificate arrives only after the
//! client's handshake is over — on the probe, nothing reads it — so that
//! refusal is recognised in the MQTT client's error (a rustls alert in the
//! error chain) and reported as the TLS stage it is.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rumqttc::{
    AsyncClient, ConnectionError, Event, EventLoop, MqttOptions, NetworkOptions, Outgoing, Packet,
    QoS, SubscribeReasonCode, TlsConfiguration, Transport,
};
use rustls::{ClientConfig, ProtocolVersion};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio::time::timeout;
use tokio_rustls::TlsConnector;

use super::diagnosis::{self, Context, Diagnosis, Stage};
use super::endpoint::Endpoint;
use super::tls::{suite_name, version_name};
use crate::outcome::Failure;

/// What to test.
#[derive(Debug)]
pub(crate) struct Plan {
    pub(crate) endpoint: Endpoint,
    pub(crate) client_id: String,
    pub(crate) topic: String,
    pub(crate) count: u32,
    pub(crate) timeout: Duration,
    pub(crate) tls: Arc<ClientConfig>,
    /// Where the trust anchors came from (`Amazon Root CA 1 (built in)` or the --ca path).
    pub(crate) trust: String,
}

impl Plan {
    fn context(&self) -> Context<'_> {
        Context {
            endpoint: &self.endpoint,
            client_id: &self.client_id,
            topic: &self.topic,
            timeout: self.timeout,
            trust: &self.trust,
        }
    }
}

/// One stage as it went.
#[derive(Debug, Clone)]
pub(crate) struct StageResult {
    pub(crate) stage: Stage,
    pub(crate) ok: bool,
    pub(crate) duration: Duration,
    pub(crate) detail: String,
}

/// One message that came back.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RoundTrip {
    pub(crate) counter: u32,
    pub(crate) duration: Duration,
}

/// Everything that happened.
#[derive(Debug, Clone, Default)]
pub(crate) struct Outcome {
    pub(crate) stages: Vec<StageResult>,
    pub(crate) round_trips: Vec<RoundTrip>,
    pub(crate) failure: Option<Diagnosis>,
}

/// The payload of message `counter`, as the blog's device program sends it
/// (Python's `json.dumps({"counter": i, "message": "TEST"})`).
pub(crate) fn payload(counter: u32) -> String {
    format!(r#"{{"counter": {counter}, "message": "TEST"}}"#)
}

/// Runs the test on a single-threaded runtime.
pub(crate) fn run(plan: &Plan) -> Result<Outcome, Failure> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure {
            status: 1,
            code: "internal_error".into(),
            message: format!("cannot start the network runtime: {e}"),
        })?;
    let mut session = Session {
        plan,
        outcome: Outcome::default(),
        tls_version: None,
    };
    runtime.block_on(async {
        if let Err(diagnosis) = session.stages().await {
            session.outcome.failure = Some(diagnosis);
        }
    });
    // A DNS lookup that timed out still occupies a blocking thread; plain
    // drop would wait for it, long after our own timeout said we were done.
    runtime.shutdown_timeout(Duration::from_millis(100));
    Ok(session.outcome)
}

struct Session<'a> {
    plan: &'a Plan,
    outcome: Outcome,
    /// What the probe's handshake negotiated.
    tls_version: Option<ProtocolVersion>,
}

/// Why waiting on the MQTT event loop stopped.
enum Wait {
    TimedOut,
    Failed(ConnectionError),
}

impl Session<'_> {
    async fn stages(&mut self) -> Result<(), Diagnosis> {
        let addresses = self.dns().await?;
        let tcp = self.tcp(&addresses).await?;
        self.tls(tcp).await?;
        let (client, mut events) = self.mqtt_connect().await?;
        let mut result = self.subscribe(&client, &mut events).await;
        if result.is_ok() {
            result = self.messages(&client, &mut events).await;
        }
        disconnect(&client, &mut events).await;
        result
    }

    fn pass(&mut self, stage: Stage, started: Instant, detail: String) {
        self.outcome.stages.push(StageResult {
            stage,
            ok: true,
            duration: started.elapsed(),
            detail,
        });
    }

    fn fail(&mut self, started: Instant, diagnosis: Diagnosis) -> Diagnosis {
        self.outcome.stages.push(StageResult {
            stage: diagnosis.stage,
            ok: false,
            duration: started.elapsed(),
            detail: diagnosis.message.clone(),
        });
        diagnosis
    }

    async fn dns(&mut self) -> Result<Vec<SocketAddr>, Diagnosis> {
        let started = Instant::now();
        let endpoint = &self.plan.endpoint;
        let lookup = tokio::net::lookup_host((endpoint.host.as_str(), endpoint.port));
        let diagnosis = match timeout(self.plan.timeout, lookup).await {
            Ok(Ok(found)) => {
                let addresses: Vec<SocketAddr> = found.collect();
                if !addresses.is_empty() {
                    let detail = if endpoint.host.parse::<std::net::IpAddr>().is_ok() {
                        "an IP address, nothing to look up".to_owned()
                    } else {
                        format!("{} → {}", endpoint.host, list_ips(&addresses))
                    };
                    self.pass(Stage::Dns, started, detail);
                    return Ok(addresses);
                }
                let error = std::io::Error::other("no addresses");
                diagnosis::dns_failed(&self.plan.context(), &error)
            }
            Ok(Err(error)) => diagnosis::dns_failed(&self.plan.context(), &error),
            Err(_) => diagnosis::dns_timeout(&self.plan.context()),
        };
        Err(self.fail(started, diagnosis))
    }

    /// Tries each address in turn, as the MQTT client will.
    async fn tcp(&mut self, addresses: &[SocketAddr]) -> Result<TcpStream, Diagnosis> {
        let started = Instant::now();
        let deadline = tokio::time::Instant::now() + self.plan.timeout;
        let mut last_error = None;
        for address in addresses {
            match tokio::time::timeout_at(deadline, TcpStream::connect(address)).await {
                Ok(Ok(stream)) => {
                    // As on the MQTT connection: small packets go out at once.
                    let _ = stream.set_nodelay(true);
                    self.pass(Stage::Tcp, started, format!("connected to {address}"));
                    return Ok(stream);
                }
                Ok(Err(error)) => last_error = Some(error),
                Err(_) => break,
            }
        }
        let tried = addresses
            .iter()
            .map(SocketAddr::to_string)
            .collect::<Vec<_>>()
            .join(", ");
        let diagnosis = match last_error {
            Some(error) if tokio::time::Instant::now() < deadline => {
                diagnosis::tcp_failed(&self.plan.context(), &tried, &error)
            }
            _ => diagnosis::tcp_timeout(&self.plan.context(), &tried),
        };
        Err(self.fail(started, diagnosis))
    }

    async fn tls(&mut self, tcp: TcpStream) -> Result<(), Diagnosis> {
        let started = Instant::now();
        let connector = TlsConnector::from(Arc::clone(&self.plan.tls));
        let handshake = connector.connect(self.plan.endpoint.server_name.clone(), tcp);
        let diagnosis = match timeout(self.plan.timeout, handshake).await {
            Ok(Ok(mut stream)) => {
                let (_, connection) = stream.get_ref();
                self.tls_version = connection.protocol_version();
                let mut detail = Vec::new();
                if let Some(version) = self.tls_version {
                    detail.push(version_name(version));
                }
                if let Some(suite) = connection.negotiated_cipher_suite() {
                    detail.push(suite_name(suite.suite()));
                }
                detail.push(match self.plan.endpoint.sni() {
                    Some(sni) => format!("SNI {sni}"),
                    None => "no SNI (IP address)".to_owned(),
                });
                if let Some(alpn) = self.plan.endpoint.alpn() {
                    let agreed = connection.alpn_protocol() == Some(alpn.as_bytes());
                    detail.push(format!(
                        "ALPN {alpn}{}",
                        if agreed { "" } else { " (not agreed)" }
                    ));
                }
                detail.push("server certificate trusted".to_owned());
                self.pass(Stage::Tls, started, detail.join(", "));
                // End the probe politely; its fate no longer matters.
                let _ = timeout(Duration::from_secs(1), stream.shutdown()).await;
                return Ok(());
            }
            Ok(Err(error)) => diagnosis::tls_failed(&self.plan.context(), &error),
            Err(_) => diagnosis::tls_timeout(&self.plan.context()),
        };
        Err(self.fail(started, diagnosis))
    }

    async fn mqtt_connect(&mut self) -> Result<(AsyncClient, EventLoop), Diagnosis> {
        let plan = self.plan;
        let mut options = MqttOptions::new(
            plan.client_id.clone(),
            plan.endpoint.host.clone(),
            plan.endpoint.port,
        );
        options
            .set_transport(Transport::tls_with_config(TlsConfiguration::Rustls(
                Arc::clone(&plan.tls),
            )))
            .set_keep_alive(Duration::from_secs(30))
            .set_clean_session(true);
        let (client, mut events) = AsyncClient::new(options, 16);
        let mut network = NetworkOptions::new();
        // Without it, Nagle's algorithm holds CONNECT back until the server
        // acknowledges the last handshake record: ~40 ms of delayed ACK that
        // is not the server's doing.
        network.set_tcp_nodelay(true);
        // Our own timeout bounds the stage; rumqttc's must not fire first.
        network.set_connection_timeout(plan.timeout.as_secs() + 1);
        events.set_network_options(network);

        let started = Instant::now();
        let waited = self
            .wait(&mut events, |event| {
                matches!(event, Event::Incoming(Packet::ConnAck(_))).then_some(())
            })
            .await;
        match waited {
            Ok(()) => {
                self.pass(
                    Stage::MqttConnect,
                    started,
                    format!(
                        "CONNACK accepted for client id \"{}\" (time includes its own TCP+TLS)",
                        plan.client_id
                    ),
                );
                Ok((client, events))
            }
            Err(wait) => Err(self.fail_mqtt(Stage::MqttConnect, started, wait, 0)),
        }
    }

    async fn subscribe(
        &mut self,
        client: &AsyncClient,
        events: &mut EventLoop,
    ) -> Result<(), Diagnosis> {
        let started = Instant::now();
        let plan = self.plan;
        let topic = &plan.topic;
        client
            .try_subscribe(topic.clone(), QoS::AtLeastOnce)
            .map_err(|e| self.fail(started, internal(Stage::Subscribe, &e)))?;
        let waited = self
            .wait(events, |event| match event {
                Event::Incoming(Packet::SubAck(ack)) => Some(ack.return_codes.first().copied()),
                _ => None,
            })
            .await;
        match waited {
            Ok(Some(SubscribeReasonCode::Success(qos))) => {
                let detail = format!("{topic}, QoS {} granted", qos as u8);
                self.pass(Stage::Subscribe, started, detail);
                Ok(())
            }
            Ok(_) => Err(self.fail(started, diagnosis::subscribe_refused(&self.plan.context()))),
            Err(wait) => Err(self.fail_mqtt(Stage::Subscribe, started, wait, 0)),
        }
    }

    /// Publishes one message at a time and waits for it to come back, so each
    /// round trip is measured alone.
    async fn messages(
        &mut self,
        client: &AsyncClient,
        events: &mut EventLoop,
    ) -> Result<(), Diagnosis> {
        let started = Instant::now();
        let topic = self.plan.topic.clone();
        for counter in 0..self.plan.count {
            let sent = Instant::now();
            client
                .try_publish(topic.clone(), QoS::AtLeastOnce, false, payload(counter))
                .map_err(|e| self.fail(started, internal(Stage::Messages, &e)))?;
            let expected = payload(counter);
            let waited = self
                .wait(events, |event| match event {
                    Event::Incoming(Packet::Publish(p))
                        if p.topic == topic && p.payload == expected.as_bytes() =>
                    {
                        Some(())
                    }
                    _ => None,
                })
                .await;
            match waited {
                Ok(()) => self.outcome.round_trips.push(RoundTrip {
                    counter,
                    duration: sent.elapsed(),
                }),
                Err(wait) => return Err(self.fail_mqtt(Stage::Messages, started, wait, counter)),
            }
        }
        let count = self.plan.count;
        self.pass(
            Stage::Messages,
            started,
            format!("{count}/{count} messages came back on {topic}"),
        );
        Ok(())
    }

    /// Polls the event loop until `want` picks an event, an error, or the timeout.
    async fn wait<T>(
        &self,
        events: &mut EventLoop,
        mut want: impl FnMut(&Event) -> Option<T>,
    ) -> Result<T, Wait> {
        let deadline = tokio::time::Instant::now() + self.plan.timeout;
        loop {
            match tokio::time::timeout_at(deadline, events.poll()).await {
                Err(_) => return Err(Wait::TimedOut),
                Ok(Err(error)) => return Err(Wait::Failed(error)),
                Ok(Ok(event)) => {
                    if let Some(found) = want(&event) {
                        return Ok(found);
                    }
                }
            }
        }
    }

    fn fail_mqtt(&mut self, stage: Stage, started: Instant, wait: Wait, counter: u32) -> Diagnosis {
        let ctx = self.plan.context();
        let diagnosis = match wait {
            Wait::TimedOut => diagnosis::timeout(&ctx, stage, counter),
            Wait::Failed(error) => diagnosis::mqtt_failed(&ctx, stage, &error, self.tls_version),
        };
        if diagnosis.stage == Stage::Tls {
            // The handshake looked complete to us; the server's verdict on our
            // certificate came after it. Mark the TLS stage, not a later one.
            if let Some(tls) = self
                .outcome
                .stages
                .iter_mut()
                .find(|s| s.stage == Stage::Tls)
            {
                tls.ok = false;
                tls.detail = format!(
                    "{}; then: {}",
                    tls.detail.replace(", server certificate trusted", ""),
                    diagnosis.message
                );
            }
            return diagnosis;
        }
        self.fail(started, diagnosis)
    }
}

/// Says goodbye with DISCONNECT, without waiting long: the test is over.
async fn disconnect(client: &AsyncClient, events: &mut EventLoop) {
    if client.try_disconnect().is_err() {
        return;
    }
    let _ = timeout(Duration::from_secs(1), async {
        while let Ok(event) = events.poll().await {
            if matches!(event, Event::Outgoing(Outgoing::Disconnect)) {
                break;
            }
        }
    })
    .await;
}

fn internal(stage: Stage, error: &rumqttc::ClientError) -> Diagnosis {
    Diagnosis {
        stage,
        code: "internal_error",
        message: format!("the MQTT client did not take the request: {error}"),
        causes: Vec::new(),
    }
}

/// `127.0.0.1, ::1` (addresses without ports, duplicates dropped).
fn list_ips(addresses: &[SocketAddr]) -> String {
    let mut ips: Vec<String> = Vec::new();
    for address in addresses {
        let ip = address.ip().to_string();
        if !ips.contains(&ip) {
            ips.push(ip);
        }
    }
    ips.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payload_is_the_blogs() {
        assert_eq!(payload(0), r#"{"counter": 0, "message": "TEST"}"#);
        assert_eq!(payload(2), r#"{"counter": 2, "message": "TEST"}"#);
    }

    #[test]
    fn addresses_are_listed_once() {
        let a: SocketAddr = "127.0.0.1:8883".parse().unwrap();
        let b: SocketAddr = "[::1]:8883".parse().unwrap();
        assert_eq!(list_ips(&[a, a, b]), "127.0.0.1, ::1");
    }
}
