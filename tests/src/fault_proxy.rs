//! A fault-injecting HTTP/1.1 proxy for loopback tests: it forwards requests
//! to an upstream (moto) and, for a chosen fraction, answers 500, answers
//! AWS-style throttling, drops the connection before forwarding, or forwards
//! and then drops the reply (the change happened, the client never hears).
//! Deterministic: the n-th request's fate comes from a seeded generator.
//! It can also add a fixed delay to every request, to stand in for the
//! network round trip to a real AWS region, or throttle AWS IoT control-plane
//! calls the way AWS does, with a token bucket per account, region and API
//! (see [`ThrottleModel`]).

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

use throttle::Throttle;

pub use throttle::{ThrottleModel, ThrottleStat};

/// What happened to requests, by kind.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct FaultCounts {
    /// Forwarded untouched.
    pub passed: u64,
    /// Answered 500 InternalFailure.
    pub internal_errors: u64,
    /// Answered 400 ThrottlingException (injected at random or by the
    /// throttle model).
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
    throttle: Option<Arc<Throttle>>,
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
    throttle: Option<Arc<Throttle>>,
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
        FaultProxy::launch(upstream, percent, seed, delay, None)
    }

    /// Starts a proxy to `upstream` that injects no random faults but
    /// throttles AWS IoT control-plane calls by `model`, one token bucket per
    /// (account, region, IoT API); see [`ThrottleModel`] for what counts as
    /// each. Panics unless `model.calls_per_second > 0` and `model.burst >= 1`.
    pub fn start_throttled(upstream: SocketAddr, model: ThrottleModel) -> FaultProxy {
        FaultProxy::launch(upstream, 0, 0, Duration::ZERO, Some(model))
    }

    fn launch(
        upstream: SocketAddr,
        percent: u64,
        seed: u64,
        delay: Duration,
        throttle: Option<ThrottleModel>,
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
            throttle: throttle.map(|model| Arc::new(Throttle::new(model))),
        };
        let proxy = FaultProxy {
            addr,
            stop: stop.clone(),
            enabled: shared.enabled.clone(),
            counts: shared.counts.clone(),
            calls: shared.calls.clone(),
            throttle: shared.throttle.clone(),
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

    /// Turns faults on or off (off: a plain proxy; the throttle model, too,
    /// neither throttles nor counts while off).
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

    /// What the throttle model did so far, per (account, region, operation),
    /// sorted by them; empty for a proxy not started with
    /// [`FaultProxy::start_throttled`].
    pub fn throttle_report(&self) -> Vec<ThrottleStat> {
        self.throttle
            .as_ref()
            .map(|t| t.report())
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
/// gives (to the end without one; none to a HEAD request, whose
/// Content-Length is the object's). Reading up to the close instead would
/// wait for moto, which lingers ~10 ms before closing a `Connection: close`
/// connection: more than a third of the round trip this proxy stands in for.
fn read_reply(reader: &mut BufReader<TcpStream>, to_head: bool) -> std::io::Result<Vec<u8>> {
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
    if to_head {
        return Ok(reply);
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
    if let Some(target) = throttle::header(&head, "x-amz-target") {
        return target.to_owned();
    }
    let first = head.lines().next().unwrap_or_default();
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

/// AWS's throttling reply, which the SDK retries with back-off.
fn write_throttling(writer: &mut impl Write, message: &str) -> std::io::Result<()> {
    let body = format!(r#"{{"__type":"ThrottlingException","message":"{message}"}}"#);
    write!(
        writer,
        "HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\nx-amzn-ErrorType: ThrottlingException\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
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
        if enabled.load(Ordering::Relaxed)
            && let Some(throttle) = &shared.throttle
            && !throttle.admits(&request, started)
        {
            if let Ok(mut c) = counts.lock() {
                c.throttled += 1;
            }
            write_throttling(&mut writer, "Rate exceeded")?;
            continue;
        }
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
            write_throttling(&mut writer, "Rate exceeded (injected)")?;
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
        let reply = read_reply(&mut BufReader::new(up), request.starts_with(b"HEAD "))?;
        if let Some(throttle) = &shared.throttle {
            throttle.learn(&request, &reply);
        }
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

mod throttle {
    //! The throttle model: token buckets per (account, region, IoT API), and
    //! the parsing that finds those three in the bytes passing through. No
    //! I/O: the proxy hands in requests, replies and the time. Inline only
    //! because it was written alongside the proxy; it can move to
    //! `fault_proxy/throttle.rs` as is.

    use std::{
        borrow::Cow,
        collections::{BTreeMap, HashMap},
        sync::{Mutex, PoisonError},
        time::Duration,
    };

    /// A token-bucket rate limit, as AWS IoT Core applies to each
    /// control-plane API per account and per region.
    ///
    /// What the proxy counts as each:
    /// - an IoT control-plane call is one whose SigV4 `Authorization` has a
    ///   credential scope with service `iot`
    ///   (`Credential=AKID/DATE/REGION/iot/aws4_request`); everything else
    ///   (sts, dynamodb, sqs, s3, events, IoT's data plane `iotdata`,
    ///   unsigned requests) passes untouched;
    /// - the region is the credential scope's;
    /// - the account is the one named by the `RoleArn` of the STS `AssumeRole*`
    ///   exchange that issued the call's access key id (learned as those
    ///   exchanges pass through the proxy); a key no exchange issued counts as
    ///   an account of its own, named by the key;
    /// - the API is the method and the path's shape: its first segment kept,
    ///   every later one replaced by `{}`, the query dropped
    ///   (`PUT /certificates/{}`, `PUT /things/{}/{}`); paths whose later
    ///   segments are literals of one API (`/certificate/register-no-ca`) are
    ///   kept whole.
    #[derive(Debug, Clone, Copy, PartialEq)]
    pub struct ThrottleModel {
        /// Sustained rate: tokens added to each bucket per second.
        pub calls_per_second: f64,
        /// Bucket size, in calls: how many may pass at once after a quiet
        /// spell. Buckets start full. At least 1;
        /// [`ThrottleModel::per_second`] makes it one second's worth.
        pub burst: f64,
    }

    impl ThrottleModel {
        /// `calls_per_second`, with a burst of one second's worth of calls.
        pub fn per_second(calls_per_second: f64) -> ThrottleModel {
            ThrottleModel {
                calls_per_second,
                burst: calls_per_second,
            }
        }
    }

    /// What the throttle model did to one (account, region, operation); see
    /// [`ThrottleModel`] for how each is found.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct ThrottleStat {
        /// The account the call's access key was issued for, else the key.
        pub account: String,
        pub region: String,
        /// `METHOD /first/{}/{}`.
        pub operation: String,
        /// Calls forwarded.
        pub passed: u64,
        /// Calls answered ThrottlingException.
        pub throttled: u64,
        /// When the first and the last forwarded call were let through, since
        /// the proxy started: `(passed - 1) / (last_pass - first_pass)` is the
        /// achieved rate.
        pub first_pass: Duration,
        pub last_pass: Duration,
    }

    /// Paths kept whole in an operation's name: their later segments are
    /// literals that tell APIs apart, not names of things.
    const LITERAL_PATHS: &[&str] = &["/certificate/register-no-ca"];

    /// The proxy's throttle: the model, the buckets and the accounts learned.
    #[derive(Debug)]
    pub(super) struct Throttle {
        model: ThrottleModel,
        state: Mutex<State>,
    }

    #[derive(Debug, Default)]
    struct State {
        /// Access key id → account, from the AssumeRole exchanges seen.
        accounts: HashMap<String, String>,
        /// (account, region, operation) → its bucket.
        buckets: BTreeMap<(String, String, String), Bucket>,
    }

    impl Throttle {
        pub(super) fn new(model: ThrottleModel) -> Throttle {
            assert!(
                model.calls_per_second > 0.0 && model.burst >= 1.0,
                "a throttle model needs calls_per_second > 0 and burst >= 1: {model:?}"
            );
            Throttle {
                model,
                state: Mutex::new(State::default()),
            }
        }

        /// Whether `request` may be forwarded at `now` (since the proxy's
        /// start); anything but an IoT control-plane call always may.
        pub(super) fn admits(&self, request: &[u8], now: Duration) -> bool {
            let (head, _) = split_message(request);
            let Some(scope) = credential_scope(&head) else {
                return true;
            };
            if scope.service != "iot" {
                return true;
            }
            let operation = iot_operation(head.lines().next().unwrap_or_default());
            // Nothing panics while holding the lock, and every update leaves
            // the state whole: a poisoned lock's state is still good.
            let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
            let account = state
                .accounts
                .get(scope.access_key)
                .cloned()
                .unwrap_or_else(|| scope.access_key.to_owned());
            let model = self.model;
            state
                .buckets
                .entry((account, scope.region.to_owned(), operation))
                .or_insert_with(|| Bucket::full(model, now))
                .admit(model, now)
        }

        /// Records the access key an STS AssumeRole exchange issued, and for
        /// which account; any other exchange is ignored.
        pub(super) fn learn(&self, request: &[u8], reply: &[u8]) {
            let Some(account) = assumed_account(request) else {
                return;
            };
            let Some(key) = issued_access_key(reply) else {
                return;
            };
            let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
            state.accounts.insert(key, account);
        }

        pub(super) fn report(&self) -> Vec<ThrottleStat> {
            let state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
            state
                .buckets
                .iter()
                .map(|((account, region, operation), b)| ThrottleStat {
                    account: account.clone(),
                    region: region.clone(),
                    operation: operation.clone(),
                    passed: b.passed,
                    throttled: b.throttled,
                    first_pass: b.first_pass,
                    last_pass: b.last_pass,
                })
                .collect()
        }
    }

    /// One token bucket and what it did; time is handed in.
    #[derive(Debug, Clone, PartialEq)]
    struct Bucket {
        tokens: f64,
        refilled: Duration,
        passed: u64,
        throttled: u64,
        first_pass: Duration,
        last_pass: Duration,
    }

    impl Bucket {
        fn full(model: ThrottleModel, now: Duration) -> Bucket {
            Bucket {
                tokens: model.burst,
                refilled: now,
                passed: 0,
                throttled: 0,
                first_pass: now,
                last_pass: now,
            }
        }

        /// Takes a token if there is one.
        fn admit(&mut self, model: ThrottleModel, now: Duration) -> bool {
            // Serving threads read the clock before taking the lock, so their
            // `now`s may arrive slightly out of order: the bucket's time never
            // runs backwards.
            let now = now.max(self.refilled);
            let earned = (now - self.refilled).as_secs_f64() * model.calls_per_second;
            self.tokens = (self.tokens + earned).min(model.burst);
            self.refilled = now;
            if self.tokens < 1.0 {
                self.throttled += 1;
                return false;
            }
            self.tokens -= 1.0;
            if self.passed == 0 {
                self.first_pass = now;
            }
            self.passed += 1;
            self.last_pass = now;
            true
        }
    }

    /// A message's head (start line and headers) and its body.
    fn split_message(message: &[u8]) -> (Cow<'_, str>, &[u8]) {
        match message.windows(4).position(|w| w == b"\r\n\r\n") {
            Some(end) => (
                String::from_utf8_lossy(&message[..end]),
                &message[end + 4..],
            ),
            None => (String::from_utf8_lossy(message), &[]),
        }
    }

    /// The value of header `name` (any case) in a message's head.
    pub(super) fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
        head.lines()
            .skip(1)
            .take_while(|l| !l.is_empty())
            .find_map(|line| {
                let (n, v) = line.split_once(':')?;
                n.trim().eq_ignore_ascii_case(name).then(|| v.trim())
            })
    }

    /// The SigV4 credential scope a request was signed with.
    #[derive(Debug, PartialEq, Eq)]
    struct CredentialScope<'a> {
        access_key: &'a str,
        region: &'a str,
        service: &'a str,
    }

    /// `Authorization: AWS4-HMAC-SHA256 Credential=AKID/DATE/REGION/SERVICE/aws4_request, ...`.
    fn credential_scope(head: &str) -> Option<CredentialScope<'_>> {
        let (_, rest) = header(head, "authorization")?.split_once("Credential=")?;
        let credential = rest.split([',', ' ']).next()?;
        let parts: Vec<&str> = credential.split('/').collect();
        match parts[..] {
            [access_key, _date, region, service, "aws4_request"] => Some(CredentialScope {
                access_key,
                region,
                service,
            }),
            _ => None,
        }
    }

    /// The IoT API a REST-JSON request line calls, by the rule in
    /// [`ThrottleModel`]'s documentation.
    fn iot_operation(request_line: &str) -> String {
        let mut parts = request_line.split(' ');
        let method = parts.next().unwrap_or_default();
        let target = parts.next().unwrap_or_default();
        let path = target.split('?').next().unwrap_or_default();
        if LITERAL_PATHS.contains(&path) {
            return format!("{method} {path}");
        }
        let mut segments = path.split('/').filter(|s| !s.is_empty());
        let mut operation = format!("{method} /{}", segments.next().unwrap_or_default());
        for _ in segments {
            operation.push_str("/{}");
        }
        operation
    }

    /// The account an STS `AssumeRole*` request (awsQuery: a form body) names
    /// in its `RoleArn`, `arn:PARTITION:iam::ACCOUNT:role/NAME`.
    fn assumed_account(request: &[u8]) -> Option<String> {
        let (head, body) = split_message(request);
        let form = header(&head, "content-type")?
            .to_ascii_lowercase()
            .starts_with("application/x-www-form-urlencoded");
        if !form {
            return None;
        }
        let (mut action, mut role_arn) = (None, None);
        for field in body.split(|&b| b == b'&') {
            let (name, value) = match field.iter().position(|&b| b == b'=') {
                Some(eq) => (&field[..eq], &field[eq + 1..]),
                None => (field, &[][..]),
            };
            match percent_decode(name).as_str() {
                "Action" => action = Some(percent_decode(value)),
                "RoleArn" => role_arn = Some(percent_decode(value)),
                _ => {}
            }
        }
        if !action?.starts_with("AssumeRole") {
            return None;
        }
        let account = role_arn?.split(':').nth(4)?.to_owned();
        (!account.is_empty()).then_some(account)
    }

    /// Form decoding: `+` is a space, `%XX` a byte.
    fn percent_decode(text: &[u8]) -> String {
        let mut out = Vec::with_capacity(text.len());
        let mut i = 0;
        while i < text.len() {
            let escaped = text
                .get(i + 1..i + 3)
                .filter(|h| text[i] == b'%' && h.iter().all(u8::is_ascii_hexdigit))
                .and_then(|h| u8::from_str_radix(std::str::from_utf8(h).ok()?, 16).ok());
            match (text[i], escaped) {
                (_, Some(byte)) => {
                    out.push(byte);
                    i += 3;
                }
                (b'+', None) => {
                    out.push(b' ');
                    i += 1;
                }
                (byte, None) => {
                    out.push(byte);
                    i += 1;
                }
            }
        }
        String::from_utf8_lossy(&out).into_owned()
    }

    /// The `<AccessKeyId>` of a successful STS reply, chunked or not (the
    /// proxy buffers a reply whole: by its Content-Length, else to the close).
    fn issued_access_key(reply: &[u8]) -> Option<String> {
        let (head, body) = split_message(reply);
        if head.lines().next()?.split(' ').nth(1)? != "200" {
            return None;
        }
        let chunked = header(&head, "transfer-encoding")
            .is_some_and(|v| v.to_ascii_lowercase().contains("chunked"));
        let body = if chunked {
            Cow::Owned(dechunk(body)?)
        } else {
            Cow::Borrowed(body)
        };
        let text = std::str::from_utf8(&body).ok()?;
        let (_, rest) = text.split_once("<AccessKeyId>")?;
        let (key, _) = rest.split_once("</AccessKeyId>")?;
        Some(key.trim().to_owned()).filter(|k| !k.is_empty())
    }

    /// A chunked body's content (RFC 9112 §7.1); `None` if malformed or cut short.
    fn dechunk(mut body: &[u8]) -> Option<Vec<u8>> {
        let mut out = Vec::new();
        loop {
            let line_end = body.windows(2).position(|w| w == b"\r\n")?;
            let size_line = std::str::from_utf8(&body[..line_end]).ok()?;
            let size = usize::from_str_radix(size_line.split(';').next()?.trim(), 16).ok()?;
            body = &body[line_end + 2..];
            if size == 0 {
                return Some(out);
            }
            out.extend_from_slice(body.get(..size)?);
            body = body.get(size..)?.strip_prefix(b"\r\n")?;
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn the_iot_apis_marshal_calls_have_distinct_operations() {
            let cases = [
                (
                    "POST /certificate/register-no-ca",
                    "POST /certificate/register-no-ca",
                ),
                ("POST /certificate/register", "POST /certificate/{}"),
                (
                    "PUT /certificates/ab12?newStatus=INACTIVE",
                    "PUT /certificates/{}",
                ),
                ("GET /certificates/ab12", "GET /certificates/{}"),
                (
                    "DELETE /certificates/ab12?forceDelete=false",
                    "DELETE /certificates/{}",
                ),
                (
                    "PUT /target-policies/marshal-device",
                    "PUT /target-policies/{}",
                ),
                (
                    "POST /target-policies/marshal-device",
                    "POST /target-policies/{}",
                ),
                ("PUT /things/t%201/principals", "PUT /things/{}/{}"),
                ("DELETE /things/t1/principals", "DELETE /things/{}/{}"),
                ("POST /things/t1", "POST /things/{}"),
                ("GET /things/t1", "GET /things/{}"),
                ("GET /policies/marshal-device", "GET /policies/{}"),
                ("POST /policies/marshal-device", "POST /policies/{}"),
                ("GET /endpoint?endpointType=iot:Data-ATS", "GET /endpoint"),
            ];
            for (request, expected) in cases {
                let line = format!("{} HTTP/1.1", request);
                assert_eq!(iot_operation(&line), expected, "{line}");
            }
            let mut distinct: Vec<&str> = cases.iter().map(|(_, op)| *op).collect();
            distinct.sort_unstable();
            distinct.dedup();
            assert_eq!(distinct.len(), cases.len(), "{distinct:#?}");
        }

        #[test]
        fn the_credential_scope_names_key_region_and_service() {
            let head = "GET /things/t HTTP/1.1\r\nhost: x\r\nauthorization: AWS4-HMAC-SHA256 Credential=ASIAKEY/20250101/eu-west-1/iot/aws4_request, SignedHeaders=host;x-amz-date, Signature=00";
            assert_eq!(
                credential_scope(head),
                Some(CredentialScope {
                    access_key: "ASIAKEY",
                    region: "eu-west-1",
                    service: "iot"
                })
            );
            assert_eq!(credential_scope("GET / HTTP/1.1\r\nHost: x"), None);
            let short = "GET / HTTP/1.1\r\nAuthorization: AWS4-HMAC-SHA256 Credential=ASIAKEY/20250101/iot, Signature=00";
            assert_eq!(credential_scope(short), None);
        }

        #[test]
        fn a_bucket_passes_its_burst_then_its_rate() {
            let model = ThrottleModel::per_second(20.0);
            let at = Duration::from_millis;
            let mut bucket = Bucket::full(model, at(0));
            let admitted =
                |bucket: &mut Bucket, now, n| (0..n).filter(|_| bucket.admit(model, now)).count();
            assert_eq!(admitted(&mut bucket, at(0), 60), 20);
            assert_eq!(admitted(&mut bucket, at(500), 60), 10);
            // A long quiet spell refills no more than the burst.
            assert_eq!(admitted(&mut bucket, at(100_000), 60), 20);
            // A `now` from before the last refill earns nothing.
            assert_eq!(admitted(&mut bucket, at(99_000), 1), 0);
            assert_eq!(
                (
                    bucket.passed,
                    bucket.throttled,
                    bucket.first_pass,
                    bucket.last_pass
                ),
                (50, 131, at(0), at(100_000))
            );
        }

        #[test]
        fn an_assume_role_exchange_names_an_account_and_a_key() {
            let request = b"POST / HTTP/1.1\r\nContent-Type: application/x-www-form-urlencoded; charset=utf-8\r\nContent-Length: 99\r\n\r\nAction=AssumeRole&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Fmarshal&RoleSessionName=s";
            assert_eq!(assumed_account(request), Some("123456789012".to_owned()));
            let other = b"POST / HTTP/1.1\r\nContent-Type: application/x-www-form-urlencoded\r\n\r\nAction=GetCallerIdentity&Version=2011-06-15";
            assert_eq!(assumed_account(other), None);

            let xml = "<AssumeRoleResponse><AssumeRoleResult><Credentials><AccessKeyId>ASIAKEY1</AccessKeyId></Credentials></AssumeRoleResult></AssumeRoleResponse>";
            let plain = format!(
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{xml}",
                xml.len()
            );
            assert_eq!(
                issued_access_key(plain.as_bytes()),
                Some("ASIAKEY1".to_owned())
            );
            // Chunks that cut the tags apart.
            let mut chunked = String::from("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
            for chunk in xml.as_bytes().chunks(5) {
                let chunk = std::str::from_utf8(chunk).unwrap();
                chunked.push_str(&format!("{:x}\r\n{chunk}\r\n", chunk.len()));
            }
            chunked.push_str("0\r\n\r\n");
            assert_eq!(
                issued_access_key(chunked.as_bytes()),
                Some("ASIAKEY1".to_owned())
            );
            let refused = format!("HTTP/1.1 403 Forbidden\r\n\r\n{xml}");
            assert_eq!(issued_access_key(refused.as_bytes()), None);
            let cut = &chunked[..chunked.len() - 10];
            assert_eq!(issued_access_key(cut.as_bytes()), None);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A stand-in for moto: answers every request `200 {}`, except an STS
    /// AssumeRole, which gets an XML reply whose AccessKeyId is the request's
    /// RoleSessionName (so a test knows the key it will be issued), chunked
    /// when the request carries `X-Stub-Chunked`.
    fn stub_upstream() -> SocketAddr {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let _ = stub_reply(stream);
            }
        });
        addr
    }

    fn stub_reply(stream: TcpStream) -> std::io::Result<()> {
        let mut writer = stream.try_clone()?;
        let Some(request) = read_request(&mut BufReader::new(stream))? else {
            return Ok(());
        };
        let text = String::from_utf8_lossy(&request);
        let session = text
            .split_once("RoleSessionName=")
            .and_then(|(_, rest)| rest.split('&').next());
        match session {
            Some(session) if text.contains("Action=AssumeRole") => {
                let body = format!(
                    "<AssumeRoleResponse><AssumeRoleResult><Credentials><AccessKeyId>{session}</AccessKeyId><SecretAccessKey>stub</SecretAccessKey></Credentials></AssumeRoleResult></AssumeRoleResponse>"
                );
                if text.to_ascii_lowercase().contains("\nx-stub-chunked:") {
                    write!(
                        writer,
                        "HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nTransfer-Encoding: chunked\r\n\r\n"
                    )?;
                    for chunk in body.as_bytes().chunks(7) {
                        write!(writer, "{:x}\r\n", chunk.len())?;
                        writer.write_all(chunk)?;
                        writer.write_all(b"\r\n")?;
                    }
                    writer.write_all(b"0\r\n\r\n")?;
                } else {
                    write!(
                        writer,
                        "HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Length: {}\r\n\r\n{body}",
                        body.len()
                    )?;
                }
            }
            _ => writer.write_all(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}",
            )?,
        }
        writer.shutdown(Shutdown::Both)
    }

    /// Sends one raw request through the proxy: the reply's status and text.
    fn send(proxy: &FaultProxy, request: &str) -> (u16, String) {
        let mut stream = TcpStream::connect(proxy.addr).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .unwrap();
        stream.write_all(request.as_bytes()).unwrap();
        let reply = read_reply(&mut BufReader::new(stream), false).unwrap();
        let text = String::from_utf8_lossy(&reply).into_owned();
        let status = text.split(' ').nth(1).and_then(|s| s.parse().ok());
        (status.unwrap_or(0), text)
    }

    fn is_throttled((status, text): &(u16, String)) -> bool {
        *status == 400 && text.contains("ThrottlingException")
    }

    /// A request with a SigV4-looking `Authorization` (the proxy reads only
    /// its credential scope).
    fn signed(
        method: &str,
        path: &str,
        key: &str,
        region: &str,
        service: &str,
        headers: &str,
        body: &str,
    ) -> String {
        format!(
            "{method} {path} HTTP/1.1\r\nHost: localhost\r\nX-Amz-Date: 20250101T000000Z\r\nAuthorization: AWS4-HMAC-SHA256 Credential={key}/20250101/{region}/{service}/aws4_request, SignedHeaders=host;x-amz-date, Signature=00\r\n{headers}Content-Length: {}\r\n\r\n{body}",
            body.len()
        )
    }

    fn iot(method: &str, path: &str, key: &str, region: &str) -> String {
        signed(method, path, key, region, "iot", "", "")
    }

    /// Assumes a role in `account` through the proxy, as the SDK does; the
    /// stub issues `session` as the access key id.
    fn assume_role(proxy: &FaultProxy, account: &str, session: &str, chunked: bool) {
        let body = format!(
            "Action=AssumeRole&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A{account}%3Arole%2Fmarshal-registrar&RoleSessionName={session}"
        );
        let headers = format!(
            "Content-Type: application/x-www-form-urlencoded; charset=utf-8\r\n{}",
            if chunked { "X-Stub-Chunked: 1\r\n" } else { "" }
        );
        let request = signed("POST", "/", "AKIABASE", "us-east-1", "sts", &headers, &body);
        let reply = send(proxy, &request);
        assert_eq!(reply.0, 200, "{request}\n→ {}", reply.1);
    }

    /// A report without its times, for comparing counts.
    fn tally(report: &[ThrottleStat]) -> Vec<(&str, &str, &str, u64, u64)> {
        report
            .iter()
            .map(|s| {
                (
                    s.account.as_str(),
                    s.region.as_str(),
                    s.operation.as_str(),
                    s.passed,
                    s.throttled,
                )
            })
            .collect()
    }

    #[test]
    fn a_burst_beyond_the_bucket_is_throttled() {
        let proxy = FaultProxy::start_throttled(stub_upstream(), ThrottleModel::per_second(20.0));
        let start = Instant::now();
        let replies: Vec<(u16, String)> = (0..60)
            .map(|i| {
                let path = format!("/things/thing-{i}");
                send(&proxy, &iot("GET", &path, "ASIAONE", "eu-west-1"))
            })
            .collect();
        let elapsed = start.elapsed().as_secs_f64();
        let report = proxy.throttle_report();
        let throttled = replies.iter().filter(|r| is_throttled(r)).count() as u64;
        // The bucket starts full and refills at 20/s: however slow the
        // machine, the first 20 pass, and no more than 20 plus what `elapsed`
        // refilled can (about 21 when the 60 calls take a few tens of ms).
        let ceiling = 20 + (20.0 * elapsed).ceil() as u64;
        let context = format!("60 calls in {elapsed:.3} s, ceiling {ceiling}: {report:#?}");
        assert!(
            replies[..20].iter().all(|(status, _)| *status == 200),
            "{context}\n{replies:#?}"
        );
        assert!(
            replies.iter().all(|r| r.0 == 200 || is_throttled(r)),
            "{context}\n{replies:#?}"
        );
        assert!((20..=ceiling).contains(&(60 - throttled)), "{context}");
        assert_eq!(
            tally(&report),
            [(
                "ASIAONE",
                "eu-west-1",
                "GET /things/{}",
                60 - throttled,
                throttled
            )],
            "{context}"
        );
        assert_eq!(
            proxy.counts(),
            FaultCounts {
                passed: 60 - throttled,
                throttled,
                ..FaultCounts::default()
            },
            "{context}"
        );
    }

    #[test]
    fn buckets_are_per_account_region_and_operation() {
        // A refill of one token per 100 s: the counts below are exact unless
        // the test takes that long.
        let proxy = FaultProxy::start_throttled(
            stub_upstream(),
            ThrottleModel {
                calls_per_second: 0.01,
                burst: 3.0,
            },
        );
        // Two keys for account 1111…, one of them issued in a chunked reply.
        assume_role(&proxy, "111111111111", "ASIAALPHA1", false);
        assume_role(&proxy, "111111111111", "ASIAALPHA2", true);
        assume_role(&proxy, "222222222222", "ASIABETA", false);
        let calls = [
            ("GET", "/things/a", "ASIAALPHA1", "eu-west-1"),
            // The same account's other key shares the bucket: all throttled.
            ("GET", "/things/b", "ASIAALPHA2", "eu-west-1"),
            ("PUT", "/things/a/principals", "ASIAALPHA1", "eu-west-1"),
            ("GET", "/things/a", "ASIABETA", "eu-west-1"),
            ("GET", "/things/a", "ASIAALPHA1", "us-east-1"),
            // No AssumeRole issued it: an account of its own.
            ("GET", "/things/a", "AKIAUNKNOWN", "eu-west-1"),
        ];
        for (method, path, key, region) in calls {
            for _ in 0..5 {
                send(&proxy, &iot(method, path, key, region));
            }
        }
        let report = proxy.throttle_report();
        assert_eq!(
            tally(&report),
            [
                ("111111111111", "eu-west-1", "GET /things/{}", 3, 7),
                ("111111111111", "eu-west-1", "PUT /things/{}/{}", 3, 2),
                ("111111111111", "us-east-1", "GET /things/{}", 3, 2),
                ("222222222222", "eu-west-1", "GET /things/{}", 3, 2),
                ("AKIAUNKNOWN", "eu-west-1", "GET /things/{}", 3, 2),
            ],
            "{report:#?}"
        );
        // The three AssumeRole calls passed too.
        assert_eq!(
            proxy.counts(),
            FaultCounts {
                passed: 18,
                throttled: 15,
                ..FaultCounts::default()
            }
        );
    }

    #[test]
    fn only_iot_control_plane_calls_are_throttled() {
        let proxy = FaultProxy::start_throttled(
            stub_upstream(),
            ThrottleModel {
                calls_per_second: 0.01,
                burst: 1.0,
            },
        );
        let form = "Content-Type: application/x-www-form-urlencoded\r\n";
        let json = |target: &str| {
            format!("Content-Type: application/x-amz-json-1.0\r\nX-Amz-Target: {target}\r\n")
        };
        let key = "ASIAKEY";
        let requests = [
            signed(
                "POST",
                "/",
                key,
                "us-east-1",
                "sts",
                form,
                "Action=GetCallerIdentity&Version=2011-06-15",
            ),
            signed(
                "POST",
                "/",
                key,
                "eu-west-1",
                "dynamodb",
                &json("DynamoDB_20120810.PutItem"),
                "{}",
            ),
            signed(
                "POST",
                "/",
                key,
                "eu-west-1",
                "sqs",
                &json("AmazonSQS.SendMessage"),
                "{}",
            ),
            signed("PUT", "/bucket/key", key, "eu-west-1", "s3", "", "x"),
            signed(
                "POST",
                "/",
                key,
                "eu-west-1",
                "events",
                &json("AWSEvents.PutEvents"),
                "{}",
            ),
            // IoT's data plane signs as `iotdata`.
            signed("POST", "/topics/t", key, "eu-west-1", "iotdata", "", "{}"),
            // Unsigned: no credential scope at all.
            "GET /endpoint HTTP/1.1\r\nHost: localhost\r\nContent-Length: 0\r\n\r\n".to_owned(),
        ];
        for round in 0..5 {
            for request in &requests {
                let (status, text) = send(&proxy, request);
                assert_eq!(status, 200, "round {round}: {request}\n→ {text}");
            }
        }
        assert_eq!(proxy.throttle_report(), []);
        // The model is on: the second IoT call is throttled.
        let first = send(&proxy, &iot("GET", "/endpoint", key, "eu-west-1"));
        let second = send(&proxy, &iot("GET", "/endpoint", key, "eu-west-1"));
        assert!(
            first.0 == 200 && is_throttled(&second),
            "{first:?}\n{second:?}"
        );
        assert_eq!(
            proxy.counts(),
            FaultCounts {
                passed: 36,
                throttled: 1,
                ..FaultCounts::default()
            }
        );
    }

    #[test]
    fn calls_paced_at_the_rate_pass() {
        let proxy = FaultProxy::start_throttled(stub_upstream(), ThrottleModel::per_second(10.0));
        let start = Instant::now();
        for i in 0..15u32 {
            // An absolute schedule: by time t at most 1 + 10·t calls are sent
            // (a late one is followed by the next at once), and the bucket
            // holds 10 + 10·t tokens; only a stall of most of a second before
            // the first call reaches the bucket could throttle one.
            let due = start + Duration::from_millis(100) * i;
            if let Some(wait) = due.checked_duration_since(Instant::now()) {
                thread::sleep(wait);
            }
            send(
                &proxy,
                &iot(
                    "PUT",
                    "/certificates/ab12?newStatus=ACTIVE",
                    "ASIAKEY",
                    "eu-west-1",
                ),
            );
        }
        let report = proxy.throttle_report();
        let [stat] = report.as_slice() else {
            panic!("one bucket expected: {report:#?}")
        };
        assert_eq!(stat.operation, "PUT /certificates/{}", "{report:#?}");
        assert_eq!(stat.passed + stat.throttled, 15, "{report:#?}");
        assert!(stat.throttled <= 1, "{report:#?}");
        // The 14th call is not sent before 1.3 s, and the proxy started earlier.
        assert!(
            stat.first_pass < stat.last_pass && stat.last_pass >= Duration::from_millis(1300),
            "{report:#?}"
        );
    }
}
