//! A moto server (a local AWS emulator) on a free loopback port, for tests that talk to "AWS".
//!
//! [`Moto::start`] runs `tests/moto/launcher.py` with `MARSHAL_PYTHON` and
//! waits until it answers HTTP; dropping the guard kills it. Only std is
//! used: readiness and reset are one-line HTTP/1.1 requests over a
//! `TcpStream`. Everything moto prints is kept (the last 64 KiB), so a
//! failure can show what the server said.
//!
//! moto maps a request to an account only by its access key ID and to a
//! region by the SigV4 signing region, so one server holds every account and
//! region a test needs (see `tests/moto/launcher.py`).

use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

/// How long moto may take to answer its first request (importing moto is slow).
const START_TIMEOUT: Duration = Duration::from_secs(30);
/// How much of moto's output is kept for failure messages.
const LOG_LIMIT: usize = 64 * 1024;

/// A running moto server; killed when dropped. When dropped by a failing
/// test, it prints the end of moto's output first.
#[derive(Debug)]
pub struct Moto {
    child: Child,
    port: u16,
    log: Arc<Mutex<Vec<u8>>>,
}

impl Moto {
    /// Starts moto on a free `127.0.0.1` port and waits until it answers.
    ///
    /// Panics, with moto's output, when `MARSHAL_PYTHON` is unset or moto
    /// does not answer within 30 seconds.
    pub fn start() -> Moto {
        Moto::start_with(&[])
    }

    /// [`Moto::start`], its output a line for every request (for tests
    /// that count the calls moto answered), not only for 4xx and 5xx.
    pub fn start_logging_every_request() -> Moto {
        Moto::start_with(&["--log-every-request"])
    }

    fn start_with(options: &[&str]) -> Moto {
        let python = python_with_moto();
        let launcher = launcher();
        let port = free_port();
        let mut child = Command::new(&python)
            .arg(&launcher)
            .arg(port.to_string())
            .args(options)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot run {} {} {port}: {e}",
                    python.display(),
                    launcher.display()
                )
            });
        let log = Arc::new(Mutex::new(Vec::new()));
        drain(child.stdout.take(), &log);
        drain(child.stderr.take(), &log);
        let mut moto = Moto { child, port, log };
        moto.wait_until_ready(&python, &launcher);
        moto
    }

    /// `http://127.0.0.1:PORT`, the endpoint URL to give the AWS SDK.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The port moto listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Forgets every resource in every account and region
    /// (`POST /moto-api/reset`). Assumed-role credentials are forgotten too:
    /// assume the role again afterwards, or later calls quietly act as the
    /// default account 123456789012.
    pub fn reset(&self) {
        let answer = http(self.port, "POST", "/moto-api/reset")
            .unwrap_or_else(|e| panic!("POST /moto-api/reset failed: {e}\n{}", self.log()));
        assert!(
            answer.starts_with("HTTP/1.1 200") || answer.starts_with("HTTP/1.0 200"),
            "POST /moto-api/reset did not answer 200:\n{answer}\n--- moto output ---\n{}",
            self.log()
        );
    }

    /// What moto has printed so far (the last 64 KiB): one line per request
    /// answered 4xx or 5xx (every request after
    /// [`Moto::start_logging_every_request`]), like `127.0.0.1 - - [date]
    /// "POST / HTTP/1.1" 400 -`, plus Python tracebacks when moto itself
    /// fails.
    /// Colour codes (werkzeug colours 4xx and 5xx lines) are removed.
    pub fn log(&self) -> String {
        let log = self.log.lock().unwrap_or_else(|e| e.into_inner());
        without_ansi_colours(&String::from_utf8_lossy(&log))
    }

    fn wait_until_ready(&mut self, python: &Path, launcher: &Path) {
        let started = Instant::now();
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                // The drain threads may still be copying the last lines.
                thread::sleep(Duration::from_millis(200));
                panic!(
                    "moto exited ({status}) before answering: {} {} {}\n\
                     (does MARSHAL_PYTHON have `moto[server]`? run `cargo xtask install`)\n\
                     --- moto output ---\n{}",
                    python.display(),
                    launcher.display(),
                    self.port,
                    self.log()
                );
            }
            // Any HTTP answer will do: the server is up.
            if http(self.port, "GET", "/moto-api/").is_ok_and(|a| a.starts_with("HTTP/")) {
                return;
            }
            if started.elapsed() > START_TIMEOUT {
                panic!(
                    "moto did not answer on port {} within {START_TIMEOUT:?}: {} {}\n\
                     --- moto output ---\n{}",
                    self.port,
                    python.display(),
                    launcher.display(),
                    self.log()
                );
            }
            thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        if thread::panicking() {
            // The test failed: what moto saw (requests, tracebacks) explains most failures.
            let log = self.log();
            let tail = &log[log.floor_char_boundary(log.len().saturating_sub(16 * 1024))..];
            eprintln!("--- moto output (last 16 KiB) ---\n{tail}\n--- end of moto output ---");
        }
        // SIGKILL: moto keeps nothing worth a clean shutdown, and SIGTERM takes 1-2 s.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `MARSHAL_PYTHON`, which `cargo xtask test` points at the virtualenv of
/// `tests/requirements.txt` (made by `cargo xtask install`).
fn python_with_moto() -> PathBuf {
    let Some(path) = std::env::var_os("MARSHAL_PYTHON") else {
        panic!(
            "MARSHAL_PYTHON is not set: moto tests need a Python with `moto[server]` \
             (tests/requirements.txt). `cargo xtask test` sets it; by hand: \
             `cargo xtask install`, then \
             MARSHAL_PYTHON=$HOME/.cache/marshal/venv/bin/python cargo test ..."
        );
    };
    let path = PathBuf::from(path);
    assert!(
        path.is_file(),
        "MARSHAL_PYTHON={} does not exist: run `cargo xtask install` to make the virtualenv",
        path.display()
    );
    path
}

/// `tests/moto/launcher.py`, which turns on AWS-style certificate IDs.
fn launcher() -> PathBuf {
    let path = crate::workspace_dir().join("tests/moto/launcher.py");
    assert!(path.is_file(), "{} is missing", path.display());
    path
}

/// A port nobody listens on right now. Another process could take it before
/// moto binds it; that shows up as moto exiting with "Address already in use".
pub(crate) fn free_port() -> u16 {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind 127.0.0.1:0");
    listener
        .local_addr()
        .expect("a bound socket has an address")
        .port()
}

/// Copies a child's output into `log`, keeping the last [`LOG_LIMIT`] bytes.
/// Reading it continuously also keeps moto from blocking on a full pipe.
pub(crate) fn drain<R: Read + Send + 'static>(pipe: Option<R>, log: &Arc<Mutex<Vec<u8>>>) {
    let Some(mut pipe) = pipe else { return };
    let log = Arc::clone(log);
    thread::spawn(move || {
        let mut buf = [0u8; 8192];
        while let Ok(n) = pipe.read(&mut buf) {
            if n == 0 {
                break;
            }
            let mut log = log.lock().unwrap_or_else(|e| e.into_inner());
            log.extend_from_slice(&buf[..n]);
            if log.len() > LOG_LIMIT {
                let excess = log.len() - LOG_LIMIT;
                log.drain(..excess);
            }
        }
    });
}

/// One HTTP/1.1 request with an empty body; returns the whole answer.
fn http(port: u16, method: &str, path: &str) -> std::io::Result<String> {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(1))?;
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    stream.set_write_timeout(Some(Duration::from_secs(5)))?;
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Length: 0\r\n\
         Connection: close\r\n\r\n"
    )?;
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer)?;
    Ok(String::from_utf8_lossy(&answer).into_owned())
}

/// `text` without ANSI SGR sequences (`ESC [ ... m`).
fn without_ansi_colours(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("\x1b[") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        match after.find(|c: char| !(c.is_ascii_digit() || c == ';')) {
            Some(end) if after[end..].starts_with('m') => rest = &after[end + 1..],
            _ => {
                out.push_str("\x1b[");
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::without_ansi_colours;

    #[test]
    fn colour_codes_are_removed_from_moto_output() {
        let line = "127.0.0.1 - - [x] \"\x1b[35m\x1b[1mPOST /a HTTP/1.1\x1b[0m\" 500 -";
        assert_eq!(
            without_ansi_colours(line),
            "127.0.0.1 - - [x] \"POST /a HTTP/1.1\" 500 -"
        );
        assert_eq!(without_ansi_colours("plain \x1b[ text"), "plain \x1b[ text");
    }
}
