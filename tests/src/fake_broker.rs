//! A scripted MQTT-over-TLS server on loopback for broker behaviour
//! mosquitto 2.0 cannot be configured into:
//!
//! - [`Behaviour::HangUpOnConnect`]: completes the TLS handshake and hangs
//!   up as soon as the client sends CONNECT, without a CONNACK — what AWS
//!   IoT does when the certificate is not registered or not active in that
//!   account and region, or its policy does not allow the connection (the
//!   AWS IoT Device SDK's `AWS_ERROR_MQTT_UNEXPECTED_HANGUP`);
//! - [`Behaviour::RefuseSubscriptions`]: accepts CONNECT and answers every
//!   SUBSCRIBE with the SUBACK failure code 0x80 (mosquitto's ACLs only
//!   withhold messages, they never refuse a subscription).
//!
//! It does not ask for a client certificate: what it imitates happens after
//! TLS, and a certificate check would add nothing to that.

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread;
use std::time::Duration;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::{ServerConfig, ServerConnection, StreamOwned};

use crate::server_pki::ServerPki;

/// What the server does with MQTT.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Behaviour {
    /// Closes the connection on CONNECT, without CONNACK or close_notify.
    HangUpOnConnect,
    /// CONNACK accepted, then SUBACK 0x80 (failure) for every SUBSCRIBE.
    RefuseSubscriptions,
}

/// The running server; stops accepting when dropped.
#[derive(Debug)]
pub struct FakeBroker {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    connects: Arc<AtomicUsize>,
}

impl FakeBroker {
    /// Serves TLS with the server certificate of `pki` on a free `127.0.0.1` port.
    pub fn start(pki: &ServerPki, behaviour: Behaviour) -> FakeBroker {
        let chain = CertificateDer::pem_file_iter(&pki.cert)
            .and_then(Iterator::collect::<Result<Vec<_>, _>>)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", pki.cert.display()));
        let key = PrivateKeyDer::from_pem_file(&pki.key)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", pki.key.display()));
        let config =
            ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
                .with_safe_default_protocol_versions()
                .expect("ring supports the default versions")
                .with_no_client_auth()
                .with_single_cert(chain, key)
                .expect("the openssl-made server certificate and key go together");
        let config = Arc::new(config);

        let listener = TcpListener::bind("127.0.0.1:0").expect("bind fake broker");
        let addr = listener.local_addr().expect("fake broker address");
        listener
            .set_nonblocking(true)
            .expect("nonblocking listener");
        let stop = Arc::new(AtomicBool::new(false));
        let connects = Arc::new(AtomicUsize::new(0));
        {
            let (stop, connects) = (stop.clone(), connects.clone());
            thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    match listener.accept() {
                        Ok((tcp, _)) => {
                            let (config, connects) = (config.clone(), connects.clone());
                            thread::spawn(move || {
                                let _ = serve(tcp, config, behaviour, &connects);
                            });
                        }
                        Err(_) => thread::sleep(Duration::from_millis(5)),
                    }
                }
            });
        }
        FakeBroker {
            addr,
            stop,
            connects,
        }
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// How many MQTT CONNECTs it has received.
    pub fn connects(&self) -> usize {
        self.connects.load(Ordering::SeqCst)
    }
}

impl Drop for FakeBroker {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

fn serve(
    tcp: std::net::TcpStream,
    config: Arc<ServerConfig>,
    behaviour: Behaviour,
    connects: &AtomicUsize,
) -> io::Result<()> {
    tcp.set_nonblocking(false)?;
    tcp.set_nodelay(true)?;
    tcp.set_read_timeout(Some(Duration::from_secs(10)))?;
    let connection = ServerConnection::new(config).map_err(io::Error::other)?;
    let mut tls = StreamOwned::new(connection, tcp);
    // Reading drives the handshake, then yields the first MQTT packet. A
    // client that only shakes hands and leaves (a probe) reads as `None`.
    let Some((kind, _)) = read_packet(&mut tls)? else {
        return Ok(());
    };
    if kind != 1 {
        return Ok(()); // not CONNECT
    }
    connects.fetch_add(1, Ordering::SeqCst);
    match behaviour {
        Behaviour::HangUpOnConnect => {
            // No CONNACK, no close_notify: the TCP connection just ends.
            let _ = tls.sock.shutdown(Shutdown::Both);
        }
        Behaviour::RefuseSubscriptions => {
            tls.write_all(&[0x20, 0x02, 0x00, 0x00])?; // CONNACK, accepted
            while let Some((kind, body)) = read_packet(&mut tls)? {
                if kind == 8 && body.len() >= 2 {
                    // SUBACK with the SUBSCRIBE's packet id and failure 0x80.
                    tls.write_all(&[0x90, 0x03, body[0], body[1], 0x80])?;
                }
            }
        }
    }
    Ok(())
}

/// One MQTT packet: (packet type, variable header and payload); `None` at
/// the end of the stream.
fn read_packet(stream: &mut impl Read) -> io::Result<Option<(u8, Vec<u8>)>> {
    let mut first = [0u8; 1];
    if stream.read(&mut first)? == 0 {
        return Ok(None);
    }
    let (mut length, mut shift) = (0usize, 0);
    loop {
        let mut byte = [0u8; 1];
        stream.read_exact(&mut byte)?;
        length |= usize::from(byte[0] & 0x7f) << shift;
        shift += 7;
        if byte[0] & 0x80 == 0 || shift > 21 {
            break;
        }
    }
    let mut body = vec![0u8; length];
    stream.read_exact(&mut body)?;
    Ok(Some((first[0] >> 4, body)))
}
