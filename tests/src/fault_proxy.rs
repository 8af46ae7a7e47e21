//! A fault-injecting HTTP/1.1 proxy for loopback tests: it forwards requests
//! to an upstream (moto) and, for a chosen fraction, answers 500, answers
//! AWS-style throttling, drops the connection before forwarding, or forwards
//! and then drops the reply (the change happened, the client never hears).
//! Deterministic: the n-th request's fate comes from a seeded generator.
//! It can also add a fixed delay to every request, to stand in for the
//! network round trip to a real AWS region.

use std::{
    io::{BufRead, BufReader, Read, Write},
    net::{Shutdown, SocketAddr, TcpListener, TcpStream},
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    thread,
    time::Duration,
};

/// What happened to requests, by kind.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct FaultCounts {
    /// Forwarded untouched.
    pub passed: u64,
    /// Answered 500 InternalFailure.
    pub internal_errors: u64,
    /// Answered 400 ThrottlingException.
    pub throttled: u64,
    /// Connection closed before forwarding.
    pub dropped_before: u64,
    /// Forwarded, reply thrown away, connection closed.
    pub dropped_after: u64,
}

/// The proxy; stops accepting on drop.
#[derive(Debug)]
pub struct FaultProxy {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    enabled: Arc<AtomicBool>,
    counts: Arc<Mutex<FaultCounts>>,
}

impl FaultProxy {
    /// Starts a proxy to `upstream` (`127.0.0.1:PORT`) failing `percent`% of requests.
    pub fn start(upstream: SocketAddr, percent: u64, seed: u64) -> FaultProxy {
        FaultProxy::start_with_delay(upstream, percent, seed, Duration::ZERO)
    }

    /// Like [`FaultProxy::start`], and every forwarded request waits `delay` first.
    pub fn start_with_delay(
        upstream: SocketAddr,
        percent: u64,
        seed: u64,
        delay: Duration,
    ) -> FaultProxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind fault proxy");
        let addr = listener.local_addr().expect("fault proxy address");
        listener
            .set_nonblocking(true)
            .expect("nonblocking listener");
        let stop = Arc::new(AtomicBool::new(false));
        let enabled = Arc::new(AtomicBool::new(true));
        let counts = Arc::new(Mutex::new(FaultCounts::default()));
        let sequence = Arc::new(AtomicU64::new(0));
        {
            let (stop, enabled, counts) = (stop.clone(), enabled.clone(), counts.clone());
            thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    match listener.accept() {
                        Ok((client, _)) => {
                            let (enabled, counts, sequence) =
                                (enabled.clone(), counts.clone(), sequence.clone());
                            thread::spawn(move || {
                                let _ = serve(
                                    client, upstream, percent, seed, delay, &enabled, &counts,
                                    &sequence,
                                );
                            });
                        }
                        Err(_) => thread::sleep(Duration::from_millis(5)),
                    }
                }
            });
        }
        FaultProxy {
            addr,
            stop,
            enabled,
            counts,
        }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Turns faults on or off (off: a plain proxy).
    pub fn set_enabled(&self, on: bool) {
        self.enabled.store(on, Ordering::Relaxed);
    }

    /// Counts so far.
    pub fn counts(&self) -> FaultCounts {
        self.counts.lock().map(|c| c.clone()).unwrap_or_default()
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// splitmix64: a tiny, good-enough deterministic generator.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// One request read from a client: head (with `Connection: close` forced) and body.
fn read_request(reader: &mut BufReader<TcpStream>) -> std::io::Result<Option<Vec<u8>>> {
    let mut head = Vec::new();
    let mut content_length = 0usize;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            return Ok(None);
        }
        if line == "\r\n" || line == "\n" {
            break;
        }
        let lower = line.to_ascii_lowercase();
        if let Some(v) = lower.strip_prefix("content-length:") {
            content_length = v.trim().parse().unwrap_or(0);
        }
        if lower.starts_with("connection:") {
            continue;
        }
        head.extend_from_slice(line.as_bytes());
    }
    head.extend_from_slice(b"Connection: close\r\n\r\n");
    let mut body = vec![0; content_length];
    reader.read_exact(&mut body)?;
    head.extend_from_slice(&body);
    Ok(Some(head))
}

#[allow(clippy::too_many_arguments)]
fn serve(
    client: TcpStream,
    upstream: SocketAddr,
    percent: u64,
    seed: u64,
    delay: Duration,
    enabled: &AtomicBool,
    counts: &Mutex<FaultCounts>,
    sequence: &AtomicU64,
) -> std::io::Result<()> {
    client.set_nonblocking(false)?;
    client.set_read_timeout(Some(Duration::from_secs(30)))?;
    let mut writer = client.try_clone()?;
    let mut reader = BufReader::new(client);
    while let Some(request) = read_request(&mut reader)? {
        let n = sequence.fetch_add(1, Ordering::Relaxed);
        let roll = mix(seed ^ n);
        let fault = enabled.load(Ordering::Relaxed) && roll % 100 < percent;
        let kind = (roll >> 32) % 4;
        let bump = |f: fn(&mut FaultCounts)| {
            if let Ok(mut c) = counts.lock() {
                f(&mut c);
            }
        };
        if fault && kind == 0 {
            bump(|c| c.internal_errors += 1);
            let body =
                r#"{"__type":"InternalFailureException","message":"injected internal failure"}"#;
            write!(
                writer,
                "HTTP/1.1 500 Internal Server Error\r\nContent-Type: application/json\r\nx-amzn-ErrorType: InternalFailureException\r\nContent-Length: {}\r\n\r\n{body}",
                body.len()
            )?;
            continue;
        }
        if fault && kind == 1 {
            bump(|c| c.throttled += 1);
            let body = r#"{"__type":"ThrottlingException","message":"Rate exceeded (injected)"}"#;
            write!(
                writer,
                "HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\nx-amzn-ErrorType: ThrottlingException\r\nContent-Length: {}\r\n\r\n{body}",
                body.len()
            )?;
            continue;
        }
        if fault && kind == 2 {
            bump(|c| c.dropped_before += 1);
            let _ = writer.shutdown(Shutdown::Both);
            return Ok(());
        }
        if !delay.is_zero() {
            thread::sleep(delay);
        }
        let mut up = TcpStream::connect(upstream)?;
        up.write_all(&request)?;
        let mut reply = Vec::new();
        up.read_to_end(&mut reply)?;
        if fault {
            bump(|c| c.dropped_after += 1);
            let _ = writer.shutdown(Shutdown::Both);
            return Ok(());
        }
        bump(|c| c.passed += 1);
        writer.write_all(&reply)?;
        // The upstream closed after its reply (we asked it to); so do we.
        let _ = writer.shutdown(Shutdown::Both);
        return Ok(());
    }
    Ok(())
}
