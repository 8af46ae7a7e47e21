//! A loopback TCP proxy that reads the TLS ClientHello of every connection,
//! records the SNI name in it (the `server_name` extension), and forwards all
//! bytes both ways to an upstream server untouched.
//!
//! It lets a test observe what a client really sends on the wire — AWS IoT
//! needs SNI to find certificates registered without a CA — without
//! trusting the client's own account of it.

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

/// What the proxy saw of one connection's ClientHello.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Hello {
    /// A ClientHello with this SNI name, or `None` without a `server_name` extension.
    Tls { server_name: Option<String> },
    /// The first bytes were not a well-formed ClientHello.
    NotTls(String),
}

/// The running proxy; stops accepting when dropped.
#[derive(Debug)]
pub struct SniProxy {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    seen: Arc<Mutex<Vec<Hello>>>,
}

impl SniProxy {
    /// Listens on a free `127.0.0.1` port and forwards to `upstream`.
    pub fn start(upstream: SocketAddr) -> SniProxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind SNI proxy");
        let addr = listener.local_addr().expect("SNI proxy address");
        listener
            .set_nonblocking(true)
            .expect("nonblocking listener");
        let stop = Arc::new(AtomicBool::new(false));
        let seen = Arc::new(Mutex::new(Vec::new()));
        {
            let (stop, seen) = (stop.clone(), seen.clone());
            thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    match listener.accept() {
                        Ok((client, _)) => {
                            let seen = seen.clone();
                            thread::spawn(move || {
                                let _ = serve(client, upstream, &seen);
                            });
                        }
                        Err(_) => thread::sleep(Duration::from_millis(5)),
                    }
                }
            });
        }
        SniProxy { addr, stop, seen }
    }

    /// The port clients should connect to.
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// One entry per connection so far, in the order their ClientHellos arrived.
    pub fn hellos(&self) -> Vec<Hello> {
        self.seen.lock().map(|s| s.clone()).unwrap_or_default()
    }
}

impl Drop for SniProxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

fn serve(mut client: TcpStream, upstream: SocketAddr, seen: &Mutex<Vec<Hello>>) -> io::Result<()> {
    client.set_nonblocking(false)?;
    client.set_read_timeout(Some(Duration::from_secs(10)))?;
    // Read until the ClientHello is complete (or clearly not one).
    let mut buffer = Vec::new();
    let hello = loop {
        let mut chunk = [0u8; 4096];
        let n = client.read(&mut chunk)?;
        if n == 0 {
            return Ok(());
        }
        buffer.extend_from_slice(&chunk[..n]);
        match parse_client_hello(&buffer) {
            Ok(server_name) => break Hello::Tls { server_name },
            Err(ParseError::Incomplete) if buffer.len() < 64 * 1024 => continue,
            Err(ParseError::Incomplete) => break Hello::NotTls("ClientHello too long".into()),
            Err(ParseError::Malformed(why)) => break Hello::NotTls(why),
        }
    };
    seen.lock()
        .map_err(|_| io::Error::other("poisoned"))?
        .push(hello);
    client.set_read_timeout(None)?;

    let mut server = TcpStream::connect(upstream)?;
    server.write_all(&buffer)?;
    let _ = client.set_nodelay(true);
    let _ = server.set_nodelay(true);
    let (mut client_reader, mut server_writer) = (client.try_clone()?, server.try_clone()?);
    let upward = thread::spawn(move || {
        let _ = io::copy(&mut client_reader, &mut server_writer);
        let _ = server_writer.shutdown(Shutdown::Write);
    });
    let _ = io::copy(&mut server, &mut client);
    let _ = client.shutdown(Shutdown::Write);
    let _ = upward.join();
    Ok(())
}

/// Why a ClientHello could not be read (yet).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParseError {
    /// More bytes are needed.
    Incomplete,
    /// Not a TLS ClientHello.
    Malformed(String),
}

/// The SNI host name in the ClientHello at the start of `bytes` (TLS records
/// as they arrive on the wire; the ClientHello may span several records).
/// `Ok(None)` when the ClientHello has no `server_name` extension.
pub fn parse_client_hello(bytes: &[u8]) -> Result<Option<String>, ParseError> {
    let malformed = |why: &str| Err(ParseError::Malformed(why.to_owned()));
    // Gather the handshake bytes from consecutive handshake records.
    let mut handshake = Vec::new();
    let mut rest = bytes;
    loop {
        if rest.len() < 5 {
            return Err(ParseError::Incomplete);
        }
        if rest[0] != 0x16 {
            return malformed("not a TLS handshake record");
        }
        let length = usize::from(u16::from_be_bytes([rest[3], rest[4]]));
        if rest.len() < 5 + length {
            return Err(ParseError::Incomplete);
        }
        handshake.extend_from_slice(&rest[5..5 + length]);
        rest = &rest[5 + length..];
        if handshake.len() >= 4 {
            if handshake[0] != 0x01 {
                return malformed("the first handshake message is not a ClientHello");
            }
            let body = usize::from(handshake[1]) << 16
                | usize::from(handshake[2]) << 8
                | usize::from(handshake[3]);
            if handshake.len() >= 4 + body {
                handshake.truncate(4 + body);
                break;
            }
        }
    }
    let mut r = Reader(&handshake[4..]);
    let fields = (|| {
        r.skip(2 + 32)?; // legacy_version, random
        let n = r.u8()?;
        r.skip(usize::from(n))?; // legacy_session_id
        let n = r.u16()?;
        r.skip(usize::from(n))?; // cipher_suites
        let n = r.u8()?;
        r.skip(usize::from(n))?; // legacy_compression_methods
        if r.0.is_empty() {
            return Some(None); // no extensions at all
        }
        let n = r.u16()?;
        let mut extensions = Reader(r.take(usize::from(n))?);
        while !extensions.0.is_empty() {
            let kind = extensions.u16()?;
            let n = extensions.u16()?;
            let mut data = Reader(extensions.take(usize::from(n))?);
            if kind == 0 {
                // server_name: a list of (name_type, name); type 0 is host_name.
                let n = data.u16()?;
                let mut list = Reader(data.take(usize::from(n))?);
                while !list.0.is_empty() {
                    let name_type = list.u8()?;
                    let n = list.u16()?;
                    let name = list.take(usize::from(n))?;
                    if name_type == 0 {
                        return Some(Some(String::from_utf8_lossy(name).into_owned()));
                    }
                }
            }
        }
        Some(None)
    })();
    fields.ok_or(ParseError::Malformed("truncated ClientHello".to_owned()))
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if self.0.len() < n {
            return None;
        }
        let (head, tail) = self.0.split_at(n);
        self.0 = tail;
        Some(head)
    }

    fn skip(&mut self, n: usize) -> Option<()> {
        self.take(n).map(|_| ())
    }

    fn u8(&mut self) -> Option<u8> {
        self.take(1).map(|b| b[0])
    }

    fn u16(&mut self) -> Option<u16> {
        self.take(2).map(|b| u16::from_be_bytes([b[0], b[1]]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::{Command, Stdio};

    /// The first bytes `openssl s_client` (an independent TLS client) sends.
    fn openssl_client_hello(extra: &[&str]) -> Vec<u8> {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let mut child = Command::new("openssl")
            .args(["s_client", "-connect", &format!("127.0.0.1:{port}")])
            .args(extra)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("run openssl s_client");
        let (mut socket, _) = listener.accept().unwrap();
        socket
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let mut bytes = Vec::new();
        while parse_client_hello(&bytes) == Err(ParseError::Incomplete) {
            let mut chunk = [0u8; 4096];
            let n = socket.read(&mut chunk).unwrap();
            assert!(n > 0, "openssl closed before a full ClientHello");
            bytes.extend_from_slice(&chunk[..n]);
        }
        drop(socket);
        let _ = child.kill();
        let _ = child.wait();
        bytes
    }

    #[test]
    fn reads_the_sni_openssl_sends() {
        let hello = openssl_client_hello(&["-servername", "abc-ats.iot.eu-west-1.amazonaws.com"]);
        assert_eq!(
            parse_client_hello(&hello),
            Ok(Some("abc-ats.iot.eu-west-1.amazonaws.com".to_owned()))
        );
        // Any prefix is incomplete, never a wrong answer.
        for cut in [0, 3, 5, 40, hello.len() - 1] {
            assert_eq!(
                parse_client_hello(&hello[..cut]),
                Err(ParseError::Incomplete)
            );
        }
    }

    #[test]
    fn no_sni_is_none() {
        let hello = openssl_client_hello(&["-noservername"]);
        assert_eq!(parse_client_hello(&hello), Ok(None));
    }

    #[test]
    fn a_client_hello_split_across_records_is_joined() {
        let hello = openssl_client_hello(&["-servername", "localhost"]);
        let body = &hello[5..];
        let (a, b) = body.split_at(body.len() / 2);
        let mut split = Vec::new();
        for part in [a, b] {
            split.extend_from_slice(&[0x16, 0x03, 0x01]);
            split.extend_from_slice(&u16::try_from(part.len()).unwrap().to_be_bytes());
            split.extend_from_slice(part);
        }
        assert_eq!(parse_client_hello(&split), Ok(Some("localhost".to_owned())));
    }

    #[test]
    fn plain_mqtt_is_not_tls() {
        let connect = [
            0x10, 0x0c, 0x00, 0x04, b'M', b'Q', b'T', b'T', 0x04, 0x02, 0x00, 0x3c,
        ];
        assert!(matches!(
            parse_client_hello(&connect),
            Err(ParseError::Malformed(_))
        ));
    }
}
