//! The built `marshal-lambda` binary serving a configuration on a free
//! loopback port against a moto server; killed when dropped.
//!
//! Requests go through the std-only client in [`crate::http`]. Every
//! [`Exchange`] can explain itself when a test fails: the request, the
//! status, the body and the end of what the API logged.

use std::io::{BufRead, BufReader, Read};
use std::net::{Ipv4Addr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};
use std::{fmt, fs};

use serde_json::Value;

use crate::http::{self, Request, Response};

/// How long the API may take to answer `/v1/health` after it starts.
const START_TIMEOUT: Duration = Duration::from_secs(30);
/// How much of the API's output is kept for failure messages.
const LOG_LIMIT: usize = 256 * 1024;

/// Dummy credentials of the "hub": moto maps an access key ID it does not
/// know to its default account and never checks the secret.
pub const ACCESS_KEY_ID: &str = "AKIAIOSFODNN7EXAMPLE";
pub const SECRET_ACCESS_KEY: &str = "dummy";
/// The API's own region (STS calls are signed for it).
pub const HUB_REGION: &str = "ap-northeast-1";
/// The API's ownership table, made in the hub account before the API starts.
pub const OWNERSHIP_TABLE: &str = "marshal-ownership";

/// The `marshal-lambda` binary of this build, next to `marshal`.
pub fn lambda_bin() -> PathBuf {
    built_bin("marshal-lambda")
}

/// The `marshal-expiry` binary (the scheduled expiry report) of this build.
pub fn expiry_bin() -> PathBuf {
    built_bin("marshal-expiry")
}

/// The `marshal-worker` binary (the factory-job worker) of this build.
pub fn worker_bin() -> PathBuf {
    built_bin("marshal-worker")
}

fn built_bin(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("the test executable has a path");
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .unwrap_or_else(|| panic!("unexpected test executable location {}", exe.display()));
    let bin = profile_dir.join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    assert!(
        bin.is_file(),
        "the {name} binary is not at {}: run `cargo build -p marshal-lambda` first \
         (`cargo xtask test` does this)",
        bin.display()
    );
    bin
}

/// A running API; killed when dropped.
#[derive(Debug)]
pub struct Api {
    child: Child,
    port: u16,
    config: PathBuf,
    log: Arc<Log>,
}

/// What the API printed (stdout and stderr, whole lines), and whether a
/// failure message has shown it already.
#[derive(Debug, Default)]
pub(crate) struct Log {
    bytes: Mutex<Vec<u8>>,
    shown: AtomicBool,
}

impl Api {
    /// Writes `config_toml` to a temporary file and starts the API on it,
    /// with the AWS SDK pointed at `aws_endpoint` (moto) under the hub's
    /// dummy credentials. Returns once `/v1/health` answers 200.
    pub fn start(config_toml: &str, aws_endpoint: &str) -> Api {
        Api::start_serving(config_toml, aws_endpoint, None)
    }

    /// [`Api::start`], also serving `static_dir` (the built page) at `/`
    /// through the binary's `--static-dir`.
    pub fn start_serving(config_toml: &str, aws_endpoint: &str, static_dir: Option<&Path>) -> Api {
        Api::start_serving_on(free_port(), config_toml, aws_endpoint, static_dir)
    }

    /// [`Api::start_serving`] on a given loopback `port` (from
    /// [`free_port`]), for a page whose `config.json` must name the API's
    /// URL before the API starts.
    pub fn start_serving_on(
        port: u16,
        config_toml: &str,
        aws_endpoint: &str,
        static_dir: Option<&Path>,
    ) -> Api {
        let bin = lambda_bin();
        // The API refuses to start without its ownership table.
        crate::moto_state::seed(
            aws_endpoint,
            &serde_json::json!({
                "targets": [],
                "ownershipTable": {"name": OWNERSHIP_TABLE, "region": HUB_REGION},
            }),
        );
        let config = std::env::temp_dir().join(format!(
            "marshal-api-test-{}-{port}.toml",
            std::process::id()
        ));
        fs::write(&config, config_toml)
            .unwrap_or_else(|e| panic!("cannot write {}: {e}", config.display()));
        let mut cmd = Command::new(&bin);
        cmd.arg("--listen")
            .arg(format!("127.0.0.1:{port}"))
            .arg("--config")
            .arg(&config);
        if let Some(dir) = static_dir {
            cmd.arg("--static-dir").arg(dir);
        }
        let mut child = with_aws_env(&mut cmd, aws_endpoint)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", bin.display()));
        let log = Arc::new(Log::default());
        drain(child.stdout.take(), &log);
        drain(child.stderr.take(), &log);
        let mut api = Api {
            child,
            port,
            config,
            log,
        };
        api.wait_until_healthy(config_toml);
        api
    }

    /// The API process's ID (to read its memory use from `/proc`).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The configuration file the API runs with.
    pub fn config_path(&self) -> &Path {
        &self.config
    }

    /// The port the API listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// What the API has printed so far (its JSON log lines; the last 256 KiB).
    pub fn log(&self) -> String {
        self.log.text()
    }

    /// Sends one request; panics only when no HTTP answer comes back.
    pub fn send(&self, request: Request) -> Exchange {
        let started = Instant::now();
        let response = http::send(self.port, &request).unwrap_or_else(|e| {
            panic!(
                "no answer from the API: {e}\n--- request ---\n{request}\n{}",
                self.log.tail()
            )
        });
        Exchange {
            request,
            response,
            took: started.elapsed(),
            log: Arc::clone(&self.log),
        }
    }

    pub fn get(&self, path: &str) -> Exchange {
        self.send(Request::new("GET", path))
    }

    pub fn delete(&self, path: &str) -> Exchange {
        self.send(Request::new("DELETE", path))
    }

    /// `POST path` with `body` as `application/json`.
    pub fn post_json(&self, path: &str, body: &Value) -> Exchange {
        self.send(Request::new("POST", path).body("application/json", body.to_string()))
    }

    fn wait_until_healthy(&mut self, config_toml: &str) {
        let started = Instant::now();
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                thread::sleep(Duration::from_millis(200));
                panic!(
                    "marshal-lambda exited ({status}) before answering on port {}\n\
                     --- configuration ---\n{config_toml}\n{}",
                    self.port,
                    self.log.tail()
                );
            }
            if let Ok(response) = http::send(self.port, &Request::new("GET", "/v1/health"))
                && response.status == 200
            {
                return;
            }
            assert!(
                started.elapsed() < START_TIMEOUT,
                "marshal-lambda did not answer /v1/health on port {} within {START_TIMEOUT:?}\n{}",
                self.port,
                self.log.tail()
            );
            thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Api {
    fn drop(&mut self) {
        // A failure reported through an `Exchange` showed the log already.
        if thread::panicking() && !self.log.shown.load(Ordering::SeqCst) {
            eprintln!("{}", self.log.tail());
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = fs::remove_file(&self.config);
    }
}

/// One request and its answer, with access to the API's log for failures.
#[derive(Debug)]
pub struct Exchange {
    pub request: Request,
    pub response: Response,
    /// How long the API took to answer.
    pub took: Duration,
    log: Arc<Log>,
}

impl Exchange {
    pub fn status(&self) -> u16 {
        self.response.status
    }

    /// The body as JSON.
    #[track_caller]
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.response.body)
            .unwrap_or_else(|e| self.fail(format_args!("the body is not JSON: {e}")))
    }

    /// Panics with `why`, the exchange and the end of the API's log.
    #[track_caller]
    pub fn fail(&self, why: impl fmt::Display) -> ! {
        panic!("{why}\n\n{self}\n{}", self.log.tail())
    }

    /// Checks the status; returns the JSON body.
    #[track_caller]
    pub fn expect_status(&self, status: u16) -> Value {
        if self.status() != status {
            self.fail(format_args!("expected status {status}"));
        }
        self.json()
    }

    /// Checks an error answer: the status, `error.code`, a message and a
    /// request id. Returns the `error` object.
    #[track_caller]
    pub fn expect_error(&self, status: u16, code: &str) -> Value {
        let body = self.expect_status(status);
        let error = &body["error"];
        if error["code"] != code {
            self.fail(format_args!("expected error code {code:?}"));
        }
        if error["message"].as_str().is_none_or(str::is_empty) {
            self.fail("the error has no message");
        }
        if error["requestId"].as_str().is_none_or(str::is_empty) {
            self.fail("the error has no requestId");
        }
        error.clone()
    }
}

impl fmt::Display for Exchange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "--- request ---\n{}", self.request)?;
        write!(
            f,
            "--- response ({} ms) ---\n{}",
            self.took.as_millis(),
            self.response
        )
    }
}

/// `cmd` talking to `aws_endpoint` (moto) as the hub, with nothing of this
/// machine's AWS or Marshal settings leaking in: for the API and the worker.
pub fn with_aws_env<'a>(cmd: &'a mut Command, aws_endpoint: &str) -> &'a mut Command {
    for name in [
        "MARSHAL_CONFIG",
        "MARSHAL_CONFIG_JSON",
        "AWS_LAMBDA_RUNTIME_API",
        "AWS_PROFILE",
        "AWS_SESSION_TOKEN",
        "AWS_ENDPOINT_URL_IOT",
        "AWS_ENDPOINT_URL_STS",
        "AWS_ENDPOINT_URL_IOT_DATA_PLANE",
        "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS",
        // The binary's own default filter: info, with the SDK's chatter off.
        "RUST_LOG",
    ] {
        cmd.env_remove(name);
    }
    cmd.env("AWS_ENDPOINT_URL", aws_endpoint)
        .env("AWS_ACCESS_KEY_ID", ACCESS_KEY_ID)
        .env("AWS_SECRET_ACCESS_KEY", SECRET_ACCESS_KEY)
        .env("AWS_REGION", HUB_REGION)
        .env("AWS_EC2_METADATA_DISABLED", "true")
}

/// A port nobody listens on right now.
pub fn free_port() -> u16 {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind 127.0.0.1:0");
    listener
        .local_addr()
        .expect("a bound socket has an address")
        .port()
}

/// Copies a child's output into `log` line by line (so stdout and stderr
/// do not interleave mid-line), keeping the last [`LOG_LIMIT`] bytes.
pub(crate) fn drain<R: Read + Send + 'static>(pipe: Option<R>, log: &Arc<Log>) {
    let Some(pipe) = pipe else { return };
    let log = Arc::clone(log);
    thread::spawn(move || {
        let mut pipe = BufReader::new(pipe);
        let mut line = Vec::new();
        while pipe.read_until(b'\n', &mut line).is_ok_and(|n| n > 0) {
            let mut bytes = log.bytes.lock().unwrap_or_else(|e| e.into_inner());
            bytes.extend_from_slice(&line);
            if bytes.len() > LOG_LIMIT {
                let excess = bytes.len() - LOG_LIMIT;
                bytes.drain(..excess);
            }
            line.clear();
        }
    });
}

impl Log {
    pub(crate) fn text(&self) -> String {
        let bytes = self.bytes.lock().unwrap_or_else(|e| e.into_inner());
        String::from_utf8_lossy(&bytes).into_owned()
    }

    /// The last 12 KiB, framed, for a failure message.
    fn tail(&self) -> String {
        self.shown.store(true, Ordering::SeqCst);
        let log = self.text();
        let tail = &log[log.floor_char_boundary(log.len().saturating_sub(12 * 1024))..];
        format!(
            "--- marshal-lambda output (last 12 KiB) ---\n{tail}\n--- end of marshal-lambda output ---"
        )
    }
}
