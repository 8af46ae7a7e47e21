//! Long-running child processes (moto, the API) for `cargo xtask dev`:
//! started in order, watched until a stop is asked for or one of them dies,
//! then all killed and reaped, whatever ends the run (error, panic, signal).

use std::{
    fs::File,
    io::{Read, Seek, SeekFrom, Write},
    net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream},
    path::{Path, PathBuf},
    process::{Child, Command, ExitStatus, Stdio},
    sync::atomic::{AtomicBool, Ordering},
    thread,
    time::{Duration, Instant},
};

use anyhow::{Context, Result, bail};

/// How often children and the stop flag are checked.
const POLL: Duration = Duration::from_millis(100);
/// How much of a dead child's log is shown.
const LOG_TAIL: u64 = 4 * 1024;

/// Where a child's stdout and stderr go.
#[derive(Debug)]
pub(crate) enum Output {
    /// The terminal, shared with xtask.
    Inherit,
    /// A file, truncated at start; its end is shown if the child dies.
    File(PathBuf),
}

/// The running children, in start order. Dropping it stops them all.
#[derive(Debug, Default)]
pub(crate) struct Services {
    running: Vec<Running>,
}

#[derive(Debug)]
struct Running {
    name: String,
    child: Child,
    log: Option<PathBuf>,
}

impl Services {
    /// Spawns `cmd` as the service `name` (stdin closed).
    pub(crate) fn start(&mut self, name: &str, cmd: &mut Command, output: Output) -> Result<()> {
        cmd.stdin(Stdio::null());
        let log = match output {
            Output::Inherit => None,
            Output::File(path) => {
                let file =
                    File::create(&path).with_context(|| format!("creating {}", path.display()))?;
                cmd.stdout(file.try_clone()?).stderr(file);
                Some(path)
            }
        };
        let child = cmd.spawn().with_context(|| {
            format!(
                "could not start {name} (`{}`)",
                cmd.get_program().to_string_lossy()
            )
        })?;
        self.running.push(Running {
            name: name.to_owned(),
            child,
            log,
        });
        Ok(())
    }

    /// Waits until `http://127.0.0.1:port{path}` answers with `status` (any
    /// status when `None`). Fails if a service dies, `stop` is set, or
    /// `timeout` passes.
    pub(crate) fn wait_until_answers(
        &mut self,
        port: u16,
        path: &str,
        status: Option<u16>,
        timeout: Duration,
        stop: &AtomicBool,
    ) -> Result<()> {
        let started = Instant::now();
        loop {
            self.check_alive()?;
            if stop.load(Ordering::SeqCst) {
                bail!("stopped while waiting for http://127.0.0.1:{port}{path}");
            }
            match http_get(port, path) {
                Ok((got, _)) if status.is_none_or(|want| want == got) => return Ok(()),
                Ok((got, body)) if started.elapsed() > timeout => {
                    bail!("http://127.0.0.1:{port}{path} answered {got} within {timeout:?}: {body}")
                }
                Err(e) if started.elapsed() > timeout => {
                    bail!("http://127.0.0.1:{port}{path} did not answer within {timeout:?}: {e}")
                }
                _ => thread::sleep(POLL),
            }
        }
    }

    /// Blocks until `stop` is set (Ok) or a service exits by itself (Err,
    /// with the end of its log).
    pub(crate) fn watch(&mut self, stop: &AtomicBool) -> Result<()> {
        loop {
            if stop.load(Ordering::SeqCst) {
                return Ok(());
            }
            if let Err(died) = self.check_alive() {
                // On Ctrl-C the children get SIGINT too and may exit before
                // xtask's handler has run: that is a stop, not a death.
                thread::sleep(Duration::from_millis(300));
                if stop.load(Ordering::SeqCst) {
                    return Ok(());
                }
                return Err(died);
            }
            thread::sleep(POLL);
        }
    }

    /// Stops every service, last started first: waits up to `grace` for
    /// those already exiting (on Ctrl-C the terminal sends them SIGINT too,
    /// and moto and the API stop cleanly on it), then kills the rest, and
    /// reaps all of them.
    pub(crate) fn stop_all(&mut self, grace: Duration) {
        let deadline = Instant::now() + grace;
        while Instant::now() < deadline
            && self
                .running
                .iter_mut()
                .any(|r| matches!(r.child.try_wait(), Ok(None)))
        {
            thread::sleep(POLL);
        }
        while let Some(mut service) = self.running.pop() {
            let status = match service.child.try_wait() {
                Ok(Some(status)) => status,
                _ => {
                    // SIGKILL: neither moto nor the API keeps anything worth saving.
                    let _ = service.child.kill();
                    match service.child.wait() {
                        Ok(status) => status,
                        Err(e) => {
                            eprintln!("xtask: could not reap {}: {e}", service.name);
                            continue;
                        }
                    }
                }
            };
            println!("stopped  {} ({})", service.name, describe(status));
        }
    }

    /// Err naming the first service that has exited, with its log's end.
    fn check_alive(&mut self) -> Result<()> {
        for service in &mut self.running {
            if let Some(status) = service.child.try_wait()? {
                let log = match &service.log {
                    Some(path) => format!(
                        "\n--- end of {} ---\n{}",
                        path.display(),
                        tail(path, LOG_TAIL)
                    ),
                    None => String::new(),
                };
                bail!(
                    "{} exited unexpectedly ({}){log}",
                    service.name,
                    describe(status)
                );
            }
        }
        Ok(())
    }
}

impl Drop for Services {
    fn drop(&mut self) {
        self.stop_all(Duration::ZERO);
    }
}

fn describe(status: ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(code), _) => format!("exit code {code}"),
        (None, Some(signal)) => format!("signal {signal}"),
        _ => status.to_string(),
    }
}

/// Fails with a hint when something already listens on `port`.
pub(crate) fn ensure_port_free(port: u16, flag: &str) -> Result<()> {
    TcpListener::bind((Ipv4Addr::LOCALHOST, port)).map(drop).with_context(|| {
        format!(
            "127.0.0.1:{port} is taken (another `cargo xtask dev`?): stop that, or pick another port with {flag}"
        )
    })
}

/// `GET path` on 127.0.0.1:`port` over HTTP/1.1; returns the status code
/// and the body (headers dropped). Enough for readiness probes.
pub(crate) fn http_get(port: u16, path: &str) -> std::io::Result<(u16, String)> {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(1))?;
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n"
    )?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer)?;
    let bad = || std::io::Error::other(format!("not an HTTP answer: {answer:?}"));
    let status = answer
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .ok_or_else(bad)?;
    let body = answer
        .split_once("\r\n\r\n")
        .map_or("", |(_, body)| body)
        .to_owned();
    Ok((status, body))
}

/// The last `bytes` of a file, lossily decoded; empty if unreadable.
fn tail(path: &Path, bytes: u64) -> String {
    let Ok(mut file) = File::open(path) else {
        return String::new();
    };
    let len = file.metadata().map(|m| m.len()).unwrap_or(0);
    let _ = file.seek(SeekFrom::Start(len.saturating_sub(bytes)));
    let mut buf = Vec::new();
    let _ = file.read_to_end(&mut buf);
    String::from_utf8_lossy(&buf).trim_end().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn watch_reports_a_service_that_dies() {
        let mut services = Services::default();
        services
            .start("quitter", Command::new("true").arg("x"), Output::Inherit)
            .unwrap_or_else(|e| panic!("{e:#}"));
        let stop = AtomicBool::new(false);
        let Err(error) = services.watch(&stop) else {
            panic!("`true` exits at once, yet watch returned Ok");
        };
        let error = error.to_string();
        assert!(error.contains("quitter exited unexpectedly"), "{error}");
    }

    #[test]
    fn stop_all_kills_and_reaps() {
        let mut services = Services::default();
        services
            .start("sleeper", Command::new("sleep").arg("60"), Output::Inherit)
            .unwrap_or_else(|e| panic!("{e:#}"));
        let started = Instant::now();
        services.stop_all(Duration::from_millis(200));
        assert!(services.running.is_empty());
        assert!(started.elapsed() < Duration::from_secs(5));
    }
}
