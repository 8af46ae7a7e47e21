//! Black-box test harness: runs the `marshal` binary and the tools that cross-check it (openssl, Python `cryptography`), and makes every failure print what is needed to understand it.
//!
//! Nothing here links Marshal's crates: the tests see only what a user sees
//! (a binary, its exit code, its output and the files it writes), and every
//! fact about those files is checked by a *different* implementation.

#![allow(clippy::unwrap_used, clippy::expect_used)]

pub mod api;
pub mod fake_broker;
pub mod fault_proxy;
pub mod http;
pub mod jobs;
pub mod mosquitto;
pub mod moto;
pub mod moto_state;
pub mod oidc;
pub mod page;
pub mod server_pki;
pub mod sni_proxy;

use std::collections::BTreeMap;
use std::ffi::{OsStr, OsString};
use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// The password of every password-protected fixture.
pub const FIXTURE_PASSWORD: &str = "marshal-test";

/// The workspace root: the nearest directory holding `Cargo.lock` above
/// the package cargo is testing. Read at run time (cargo sets
/// `CARGO_MANIFEST_DIR` for test processes): a compile-time path would
/// point into whichever checkout first built this crate into a shared
/// `CARGO_TARGET_DIR`, as cargo does not rebuild when only the checkout's
/// path changes.
pub fn workspace_dir() -> PathBuf {
    let start = std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")));
    start
        .ancestors()
        .find(|dir| dir.join("Cargo.lock").is_file())
        .unwrap_or_else(|| panic!("no Cargo.lock above {}", start.display()))
        .to_path_buf()
}

/// `<workspace>/shared/tests/examples`: fixtures made by openssl, see its README.md.
pub fn examples_dir() -> PathBuf {
    workspace_dir().join("shared/tests/examples")
}

/// One fixture file; panics with how to remake it when it is missing.
pub fn example(name: &str) -> PathBuf {
    let path = examples_dir().join(name);
    assert!(
        path.is_file(),
        "fixture {} is missing: regenerate with `bash shared/tests/examples/make-fixtures.sh`",
        path.display()
    );
    path
}

/// The `marshal` binary of this build: the test executable lives in
/// `<target>/<profile>/deps/`, the binary one level up.
pub fn marshal_bin() -> PathBuf {
    let exe = std::env::current_exe().expect("the test executable has a path");
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .unwrap_or_else(|| panic!("unexpected test executable location {}", exe.display()));
    let bin = profile_dir.join(format!("marshal{}", std::env::consts::EXE_SUFFIX));
    assert!(
        bin.is_file(),
        "the marshal binary is not at {}: run `cargo build -p marshal-cli` first \
         (`cargo xtask test` does this)",
        bin.display()
    );
    bin
}

/// The Python interpreter with the `cryptography` package, from `MARSHAL_PYTHON`.
///
/// Never skips: a cross-check that silently does not run is worse than a
/// failing one.
pub fn python() -> PathBuf {
    let Some(path) = std::env::var_os("MARSHAL_PYTHON") else {
        panic!(
            "MARSHAL_PYTHON is not set: it must name a Python interpreter that has the \
             `cryptography` package (tests/requirements.txt). `cargo xtask test` sets it to its \
             venv; by hand: MARSHAL_PYTHON=/path/to/venv/bin/python cargo test -p marshal-tests"
        );
    };
    let path = PathBuf::from(path);
    assert!(
        path.is_file(),
        "MARSHAL_PYTHON={} does not exist: point it at a Python with `cryptography` \
         (`cargo xtask test` makes one)",
        path.display()
    );
    path
}

/// A command to run, built up and then [`run`](Cmd::run) once.
#[derive(Debug, Clone)]
pub struct Cmd {
    program: PathBuf,
    args: Vec<OsString>,
    stdin: Option<Vec<u8>>,
    envs: Vec<(OsString, OsString)>,
    dir: Option<PathBuf>,
}

impl Cmd {
    pub fn new(program: impl Into<PathBuf>) -> Self {
        Self {
            program: program.into(),
            args: Vec::new(),
            stdin: None,
            envs: Vec::new(),
            dir: None,
        }
    }

    /// The `marshal` binary under test.
    pub fn marshal() -> Self {
        Self::new(marshal_bin())
    }

    /// The `openssl` CLI from `PATH`.
    pub fn openssl() -> Self {
        Self::new("openssl")
    }

    /// `python -c SCRIPT`, with [`python`]; add the script's arguments with [`arg`](Cmd::arg).
    pub fn python(script: &str) -> Self {
        Self::new(python()).arg("-c").arg(script)
    }

    pub fn arg(mut self, arg: impl AsRef<OsStr>) -> Self {
        self.args.push(arg.as_ref().to_owned());
        self
    }

    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.args
            .extend(args.into_iter().map(|a| a.as_ref().to_owned()));
        self
    }

    /// Bytes for standard input. Without it, standard input is empty (never
    /// the terminal), so a command that wrongly waits for a password ends.
    pub fn stdin(mut self, bytes: impl Into<Vec<u8>>) -> Self {
        self.stdin = Some(bytes.into());
        self
    }

    pub fn env(mut self, key: impl AsRef<OsStr>, value: impl AsRef<OsStr>) -> Self {
        self.envs
            .push((key.as_ref().to_owned(), value.as_ref().to_owned()));
        self
    }

    /// Runs the command in `dir` (for tools that write beside themselves).
    pub fn current_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.dir = Some(dir.into());
        self
    }

    /// The command line, shell-quoted and after the variables it sets, for
    /// failure messages: enough to run it again by hand.
    pub fn command_line(&self) -> String {
        let envs = self.envs.iter().map(|(k, v)| {
            format!(
                "{}={}",
                k.to_string_lossy(),
                shell_quote(&v.to_string_lossy())
            )
        });
        let argv = std::iter::once(self.program.as_os_str())
            .chain(self.args.iter().map(OsString::as_os_str))
            .map(|a| shell_quote(&a.to_string_lossy()));
        envs.chain(argv).collect::<Vec<_>>().join(" ")
    }

    /// Runs like [`run`](Cmd::run), but kills the command once `limit` has
    /// passed: `None` then, so a hang is a finding rather than a stuck test.
    pub fn run_within(&self, limit: Duration) -> Option<Run> {
        let mut child = self.spawn();
        let input = self.stdin.clone().unwrap_or_default();
        let mut pipe = child.stdin.take().expect("stdin is piped");
        // Readers on threads of their own: a child that fills a pipe while
        // we only poll for its exit would otherwise never exit.
        let writer = std::thread::spawn(move || {
            let _ = pipe.write_all(&input);
        });
        let stdout = drain(child.stdout.take().expect("stdout is piped"));
        let stderr = drain(child.stderr.take().expect("stderr is piped"));
        let deadline = Instant::now() + limit;
        let status = loop {
            match child.try_wait() {
                Ok(Some(status)) => break Some(status),
                Ok(None) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(2));
                }
                Ok(None) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    break None;
                }
                Err(e) => panic!("could not wait for `{}`: {e}", self.command_line()),
            }
        };
        writer.join().expect("stdin writer thread");
        let (stdout, stderr) = (
            stdout.join().expect("stdout reader"),
            stderr.join().expect("stderr reader"),
        );
        Some(Run {
            command: self.command_line(),
            stdin: self.stdin.clone(),
            status: status?,
            stdout,
            stderr,
        })
    }

    fn spawn(&self) -> std::process::Child {
        let mut command = Command::new(&self.program);
        if let Some(dir) = &self.dir {
            command.current_dir(dir);
        }
        command
            .args(&self.args)
            .envs(self.envs.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("could not start `{}`: {e}", self.command_line()))
    }

    /// Runs to completion. Only failing to *start* panics here; judge the
    /// result with the [`Run`] methods.
    pub fn run(&self) -> Run {
        let mut child = self.spawn();
        let input = self.stdin.clone().unwrap_or_default();
        let mut pipe = child.stdin.take().expect("stdin is piped");
        // A separate thread, so a child that writes a lot before reading
        // cannot deadlock against us. A child that exits without reading
        // gives a broken pipe, which is not our failure to report.
        let writer = std::thread::spawn(move || {
            let _ = pipe.write_all(&input);
        });
        let output = child
            .wait_with_output()
            .unwrap_or_else(|e| panic!("could not wait for `{}`: {e}", self.command_line()));
        writer.join().expect("stdin writer thread");
        Run {
            command: self.command_line(),
            stdin: self.stdin.clone(),
            status: output.status,
            stdout: output.stdout,
            stderr: output.stderr,
        }
    }
}

/// Every string in `value` with where it is (`stdout.failure.message`).
fn json_strings(value: &serde_json::Value, at: &str, out: &mut Vec<(String, String)>) {
    use serde_json::Value;
    match value {
        Value::String(s) => out.push((at.to_owned(), s.clone())),
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                json_strings(item, &format!("{at}[{i}]"), out);
            }
        }
        Value::Object(map) => {
            for (key, item) in map {
                json_strings(item, &format!("{at}.{key}"), out);
            }
        }
        _ => {}
    }
}

/// What a finished command did. Every `assert_*` panics with all of it.
#[derive(Debug, Clone)]
pub struct Run {
    pub command: String,
    pub stdin: Option<Vec<u8>>,
    pub status: ExitStatus,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
}

impl Run {
    /// The exit code; `None` when killed by a signal.
    pub fn code(&self) -> Option<i32> {
        self.status.code()
    }

    pub fn stdout_text(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }

    pub fn stderr_text(&self) -> String {
        String::from_utf8_lossy(&self.stderr).into_owned()
    }

    /// Panics with `why` followed by everything about this run.
    #[track_caller]
    pub fn fail(&self, why: impl fmt::Display) -> ! {
        panic!("{why}\n\n{self}")
    }

    #[track_caller]
    pub fn assert_success(&self) -> &Self {
        if !self.status.success() {
            self.fail("expected the command to succeed");
        }
        self
    }

    #[track_caller]
    pub fn assert_exit(&self, code: i32) -> &Self {
        if self.code() != Some(code) {
            self.fail(format_args!("expected exit code {code}"));
        }
        self
    }

    #[track_caller]
    pub fn assert_stdout_eq(&self, expected: &str) -> &Self {
        if self.stdout != expected.as_bytes() {
            self.fail(format_args!("expected stdout to be exactly {expected:?}"));
        }
        self
    }

    #[track_caller]
    pub fn assert_stdout_contains(&self, needle: &str) -> &Self {
        if !self.stdout_text().contains(needle) {
            self.fail(format_args!("expected stdout to contain {needle:?}"));
        }
        self
    }

    /// Key material must never reach a terminal or a log, in success or error.
    #[track_caller]
    pub fn assert_no_private_key(&self) -> &Self {
        for (name, bytes) in [("stdout", &self.stdout), ("stderr", &self.stderr)] {
            if String::from_utf8_lossy(bytes).contains("PRIVATE KEY") {
                self.fail(format_args!(
                    "{name} contains `PRIVATE KEY`: key material printed"
                ));
            }
        }
        self
    }

    /// What people read is words: no library's `Debug` text
    /// ([`marshal_shared::debug_text`]) in stderr, nor in stdout — read as
    /// text, or, when it is JSON, in every string it holds (JSON's own
    /// escaping of quotes is not `Debug`).
    #[track_caller]
    pub fn assert_words(&self) -> &Self {
        let stdout = self.stdout_text();
        let mut texts = vec![("stderr".to_owned(), self.stderr_text())];
        match serde_json::from_str::<serde_json::Value>(&stdout) {
            Ok(value) => json_strings(&value, "stdout", &mut texts),
            Err(_) => texts.push(("stdout".to_owned(), stdout)),
        }
        for (place, text) in &texts {
            let shapes = marshal_shared::debug_text::debug_shapes(text);
            if !shapes.is_empty() {
                self.fail(format_args!(
                    "{place} shows Debug text where words belong: {shapes:?}"
                ));
            }
        }
        self
    }

    /// Stdout parsed as JSON.
    #[track_caller]
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.stdout)
            .unwrap_or_else(|e| self.fail(format_args!("stdout is not JSON: {e}")))
    }

    /// The rest of the first stdout line that starts with `prefix`, trimmed.
    #[track_caller]
    pub fn stdout_field(&self, prefix: &str) -> String {
        self.stdout_text()
            .lines()
            .find_map(|l| l.strip_prefix(prefix))
            .map(|v| v.trim().to_owned())
            .unwrap_or_else(|| self.fail(format_args!("no stdout line starts with {prefix:?}")))
    }
}

impl fmt::Display for Run {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "command: {}", self.command)?;
        if let Some(stdin) = &self.stdin {
            writeln!(f, "stdin:   {:?}", String::from_utf8_lossy(stdin))?;
        }
        writeln!(f, "status:  {}", self.status)?;
        writeln!(f, "--- stdout ---\n{}", self.stdout_text().trim_end())?;
        write!(f, "--- stderr ---\n{}", self.stderr_text().trim_end())
    }
}

/// Reads a child's pipe to the end on a thread of its own.
fn drain(mut pipe: impl std::io::Read + Send + 'static) -> std::thread::JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = pipe.read_to_end(&mut bytes);
        bytes
    })
}

fn shell_quote(arg: &str) -> String {
    let plain = !arg.is_empty()
        && arg
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:,+@%".contains(c));
    if plain {
        arg.to_owned()
    } else {
        format!("'{}'", arg.replace('\'', r"'\''"))
    }
}

/// Password on standard input, as `--password-stdin` reads it.
pub fn password_line(password: &str) -> Vec<u8> {
    format!("{password}\n").into_bytes()
}

/// `marshal keygen --key KEY_TYPE --cn dev-KEY_TYPE --days DAYS --out OUT_DIR`.
pub fn keygen_cmd(key_type: &str, days: u32, out_dir: &Path) -> Cmd {
    Cmd::marshal()
        .args(["keygen", "--key", key_type, "--cn"])
        .arg(format!("dev-{key_type}"))
        .arg("--days")
        .arg(days.to_string())
        .arg("--out")
        .arg(out_dir)
}

/// What a successful `marshal keygen` made, checked against what it printed.
#[derive(Debug)]
pub struct Keygen {
    pub run: Run,
    pub cn: String,
    pub cert: PathBuf,
    pub key: PathBuf,
    /// The certificate ID `keygen` printed (not yet checked against anything).
    pub id: String,
}

/// Runs [`keygen_cmd`] and checks its human output: `certificate: PATH`,
/// `private key: PATH` and `certificate ID: <64 hex>`, with both files there.
pub fn keygen(key_type: &str, days: u32, out_dir: &Path) -> Keygen {
    let run = keygen_cmd(key_type, days, out_dir).run();
    run.assert_success().assert_no_private_key();
    let cn = format!("dev-{key_type}");
    let cert = out_dir.join(format!("{cn}.cert.pem"));
    let key = out_dir.join(format!("{cn}.private.key"));
    for (prefix, path) in [("certificate:", &cert), ("private key:", &key)] {
        let printed = run.stdout_field(prefix);
        if Path::new(&printed) != path.as_path() {
            run.fail(format_args!(
                "`{prefix}` names {printed:?}, expected {}",
                path.display()
            ));
        }
        if !path.is_file() {
            run.fail(format_args!("{} was not written", path.display()));
        }
    }
    let id = run.stdout_field("certificate ID:");
    if !is_certificate_id(&id) {
        run.fail(format_args!(
            "certificate ID {id:?} is not 64 lowercase hex digits"
        ));
    }
    Keygen {
        run,
        cn,
        cert,
        key,
        id,
    }
}

/// An openssl fingerprint (`sha256 Fingerprint=AB:CD:…`, or just `AB:CD:…`)
/// as an AWS IoT certificate ID: colons removed, lower case.
pub fn certificate_id(openssl_fingerprint: &str) -> String {
    let hex = openssl_fingerprint
        .rsplit_once('=')
        .map_or(openssl_fingerprint, |(_, v)| v);
    hex.trim().replace(':', "").to_ascii_lowercase()
}

/// 64 lowercase hex digits.
pub fn is_certificate_id(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// `openssl-fingerprints.txt`: fixture file name → certificate ID, as openssl computed it.
pub fn fixture_ids() -> BTreeMap<String, String> {
    let path = example("openssl-fingerprints.txt");
    let text = std::fs::read_to_string(&path).unwrap();
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|line| {
            let (file, fingerprint) = line
                .split_once(' ')
                .unwrap_or_else(|| panic!("bad line in {}: {line:?}", path.display()));
            (file.to_owned(), certificate_id(fingerprint))
        })
        .collect()
}

/// The certificate ID openssl computed for fixture `name` (a `*.cert.pem`).
pub fn fixture_id(name: &str) -> String {
    fixture_ids()
        .remove(name)
        .unwrap_or_else(|| panic!("{name} is not in openssl-fingerprints.txt"))
}

/// openssl's SHA-256 fingerprint of a PEM certificate, as a certificate ID.
pub fn openssl_certificate_id(cert_pem: &Path) -> String {
    let run = Cmd::openssl()
        .args(["x509", "-noout", "-fingerprint", "-sha256", "-in"])
        .arg(cert_pem)
        .run();
    run.assert_success();
    certificate_id(&run.stdout_text())
}

/// openssl's PEM `PUBLIC KEY` for a PEM certificate.
pub fn openssl_cert_public_key(cert_pem: &Path) -> String {
    let run = Cmd::openssl()
        .args(["x509", "-noout", "-pubkey", "-in"])
        .arg(cert_pem)
        .run();
    run.assert_success();
    run.stdout_text()
}

/// openssl's PEM `PUBLIC KEY` for a private key file (any format openssl
/// reads; `password` for an encrypted one).
pub fn openssl_key_public_key(key: &Path, password: Option<&str>) -> String {
    let mut cmd = Cmd::openssl().args(["pkey", "-pubout", "-in"]).arg(key);
    if let Some(password) = password {
        cmd = cmd.arg("-passin").arg(format!("pass:{password}"));
    }
    let run = cmd.run();
    run.assert_success();
    run.stdout_text()
}

/// The label of the first PEM block (`PRIVATE KEY` for a PKCS#8 key's BEGIN line).
pub fn pem_label(text: &str) -> Option<&str> {
    text.lines()
        .find_map(|l| l.trim_end().strip_prefix("-----BEGIN "))
        .and_then(|l| l.strip_suffix("-----"))
}

/// Seconds since the Unix epoch for openssl's `-dateopt iso_8601` form,
/// `2026-11-29 01:32:16Z`.
pub fn parse_openssl_iso_date(s: &str) -> Option<i64> {
    let s = s.trim().strip_suffix('Z')?;
    let (date, time) = s.split_once(' ')?;
    let mut d = date.split('-').map(str::parse::<i64>);
    let (y, m, day) = (d.next()?.ok()?, d.next()?.ok()?, d.next()?.ok()?);
    let mut t = time.split(':').map(str::parse::<i64>);
    let (h, min, sec) = (t.next()?.ok()?, t.next()?.ok()?, t.next()?.ok()?);
    Some(days_from_civil(y, m, day) * 86_400 + h * 3600 + min * 60 + sec)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// (notBefore, notAfter) of a PEM certificate, in Unix seconds, as openssl reads them.
pub fn openssl_validity(cert_pem: &Path) -> (i64, i64) {
    let run = Cmd::openssl()
        .args(["x509", "-noout", "-dates", "-dateopt", "iso_8601", "-in"])
        .arg(cert_pem)
        .run();
    run.assert_success();
    let field = |name: &str| {
        let value = run.stdout_field(name);
        parse_openssl_iso_date(&value)
            .unwrap_or_else(|| run.fail(format_args!("cannot parse {name} {value:?}")))
    };
    (field("notBefore="), field("notAfter="))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn certificate_id_strips_openssl_decoration() {
        assert_eq!(
            certificate_id("sha256 Fingerprint=0D:1F:AB\n"),
            "0d1fab".to_owned()
        );
        assert_eq!(certificate_id("0D:1F"), "0d1f");
    }

    #[test]
    fn iso_dates() {
        assert_eq!(parse_openssl_iso_date("1970-01-01 00:00:00Z"), Some(0));
        assert_eq!(
            parse_openssl_iso_date("2020-01-01 00:00:00Z"),
            Some(1_577_836_800)
        );
        assert_eq!(
            parse_openssl_iso_date("2099-01-01 00:00:00Z"),
            Some(4_070_908_800)
        );
        assert_eq!(parse_openssl_iso_date("Jan  1 00:00:00 2020 GMT"), None);
    }

    #[test]
    fn pem_labels() {
        assert_eq!(
            pem_label(concat!("x\n-----", "BEGIN PRIVATE KEY", "-----\r\nAAA\n")),
            Some("PRIVATE KEY")
        );
        assert_eq!(pem_label("nothing"), None);
    }

    #[test]
    fn quoting() {
        assert_eq!(shell_quote("--out"), "--out");
        assert_eq!(shell_quote("a b"), "'a b'");
        assert_eq!(shell_quote(""), "''");
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
        let cmd = Cmd::new("marshal")
            .env("MARSHAL_TOKEN", "x y")
            .arg("targets");
        assert_eq!(cmd.command_line(), "MARSHAL_TOKEN='x y' marshal targets");
    }

    #[test]
    fn run_within_kills_a_hang_and_keeps_a_quick_answer() {
        let hang = Cmd::new("sleep").arg("10");
        let started = Instant::now();
        assert!(hang.run_within(Duration::from_millis(200)).is_none());
        assert!(started.elapsed() < Duration::from_secs(5));
        let quick = Cmd::new("cat")
            .stdin("hi")
            .run_within(Duration::from_secs(10));
        assert_eq!(quick.expect("cat answers").stdout, b"hi");
    }

    #[test]
    fn fixture_ids_are_ids() {
        let ids = fixture_ids();
        assert!(ids.contains_key("p256.cert.pem"), "{ids:?}");
        assert!(ids.values().all(|id| is_certificate_id(id)), "{ids:?}");
    }
}
