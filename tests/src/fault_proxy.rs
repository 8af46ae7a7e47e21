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
    time::{Duration, Instant},
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

/// One forwarded call: what it was and when it ran, relative to the proxy's start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Call {
    /// `X-Amz-Target` (JSON protocols) or `METHOD /path` (REST protocols).
    pub operation: String,
    pub started: Duration,
    pub finished: Duration,
}

/// The proxy; stops accepting on drop.
#[derive(Debug)]
pub struct FaultProxy {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    enabled: Arc<AtomicBool>,
    counts: Arc<Mutex<FaultCounts>>,
    calls: Arc<Mutex<Vec<Call>>>,
}

/// What one serving thread shares with the proxy.
#[derive(Debug, Clone)]
struct Shared {
    upstream: SocketAddr,
    percent: u64,
    seed: u64,
    delay: Duration,
    enabled: Arc<AtomicBool>,
    counts: Arc<Mutex<FaultCounts>>,
    calls: Arc<Mutex<Vec<Call>>>,
    sequence: Arc<AtomicU64>,
    epoch: Instant,
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
        let stop = Arc::new(AtomicBool::new(false));
        let shared = Shared {
            upstream,
            percent,
            seed,
            delay,
            enabled: Arc::new(AtomicBool::new(true)),
            counts: Arc::new(Mutex::new(FaultCounts::default())),
            calls: Arc::new(Mutex::new(Vec::new())),
            sequence: Arc::new(AtomicU64::new(0)),
            epoch: Instant::now(),
        };
        let proxy = FaultProxy {
            addr,
            stop: stop.clone(),
            enabled: shared.enabled.clone(),
            counts: shared.counts.clone(),
            calls: shared.calls.clone(),
        };
        // A blocking accept: a polling one would add up to its poll interval
        // to every call (each call is a new connection). Drop wakes it with
        // a connection of its own.
        thread::spawn(move || {
            for client in listener.incoming() {
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                let Ok(client) = client else { continue };
                let shared = shared.clone();
                thread::spawn(move || {
                    let _ = serve(client, &shared);
                });
            }
        });
        proxy
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

    /// The calls forwarded so far, in the order they finished; taking them
    /// empties the log.
    pub fn take_calls(&self) -> Vec<Call> {
        self.calls
            .lock()
            .map(|mut c| std::mem::take(&mut *c))
            .unwrap_or_default()
    }
}

/// How many calls ran one after another: the longest chain of calls where
/// each started after the one before it finished.
pub fn sequential_depth(calls: &[Call]) -> usize {
    let mut sorted: Vec<&Call> = calls.iter().collect();
    sorted.sort_by_key(|c| c.started);
    // depth[i]: the longest chain ending with call i.
    let mut depth = vec![1usize; sorted.len()];
    for i in 0..sorted.len() {
        for j in 0..i {
            if sorted[j].finished <= sorted[i].started {
                depth[i] = depth[i].max(depth[j] + 1);
            }
        }
    }
    depth.into_iter().max().unwrap_or(0)
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        let _ = TcpStream::connect(self.addr);
    }
}

/// splitmix64: a tiny, good-enough deterministic generator.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// One reply from the upstream: its head and the body its Content-Length
/// gives (to the end without one). Reading up to the close instead would
/// wait for moto, which lingers ~10 ms before closing a `Connection: close`
/// connection: more than a third of the round trip this proxy stands in for.
fn read_reply(reader: &mut BufReader<TcpStream>) -> std::io::Result<Vec<u8>> {
    let mut reply = Vec::new();
    let mut content_length = None;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            return Ok(reply);
        }
        reply.extend_from_slice(line.as_bytes());
        if line == "\r\n" || line == "\n" {
            break;
        }
        if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
            content_length = v.trim().parse::<usize>().ok();
        }
    }
    match content_length {
        Some(n) => {
            let start = reply.len();
            reply.resize(start + n, 0);
            reader.read_exact(&mut reply[start..])?;
        }
        None => {
            reader.read_to_end(&mut reply)?;
        }
    }
    Ok(reply)
}

/// The operation a request names: its `X-Amz-Target`, else its method and path.
fn operation(request: &[u8]) -> String {
    let head = String::from_utf8_lossy(request);
    let mut lines = head.lines();
    let first = lines.next().unwrap_or_default();
    for line in lines.take_while(|l| !l.is_empty()) {
        if let Some((name, value)) = line.split_once(':')
            && name.eq_ignore_ascii_case("x-amz-target")
        {
            return value.trim().to_owned();
        }
    }
    let mut parts = first.split(' ');
    let method = parts.next().unwrap_or_default();
    let path = parts.next().unwrap_or_default();
    format!("{method} {}", path.split('?').next().unwrap_or_default())
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

fn serve(client: TcpStream, shared: &Shared) -> std::io::Result<()> {
    let Shared {
        upstream,
        percent,
        seed,
        delay,
        ..
    } = *shared;
    let (enabled, counts, sequence) = (&shared.enabled, &shared.counts, &shared.sequence);
    client.set_nodelay(true)?;
    client.set_read_timeout(Some(Duration::from_secs(30)))?;
    let mut writer = client.try_clone()?;
    let mut reader = BufReader::new(client);
    while let Some(request) = read_request(&mut reader)? {
        let started = shared.epoch.elapsed();
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
        up.set_nodelay(true)?;
        up.write_all(&request)?;
        let reply = read_reply(&mut BufReader::new(up))?;
        if fault {
            bump(|c| c.dropped_after += 1);
            let _ = writer.shutdown(Shutdown::Both);
            return Ok(());
        }
        bump(|c| c.passed += 1);
        if let Ok(mut calls) = shared.calls.lock() {
            calls.push(Call {
                operation: operation(&request),
                started,
                finished: shared.epoch.elapsed(),
            });
        }
        writer.write_all(&reply)?;
        // The upstream closed after its reply (we asked it to); so do we.
        let _ = writer.shutdown(Shutdown::Both);
        return Ok(());
    }
    Ok(())
}
