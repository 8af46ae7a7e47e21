//! A real MQTT broker for device connection tests: Debian's `mosquitto` on a
//! free `127.0.0.1` port with TLS and `require_certificate`, whose trust
//! store (`cafile`) is the set of "registered" device certificates —
//! self-signed certificates as their own trust anchors, as AWS IoT treats
//! certificates registered without a CA. Killed on drop; its log is kept and
//! printed when the test that owns it fails.

use std::fmt::Write as _;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use crate::moto::{drain, free_port};
use crate::server_pki::ServerPki;

/// How long mosquitto may take to say it is running.
const START_TIMEOUT: Duration = Duration::from_secs(10);

/// How the broker is set up.
#[derive(Debug, Clone)]
pub struct MosquittoConfig {
    /// Device certificates the broker accepts (concatenated into its `cafile`).
    pub registered: Vec<PathBuf>,
    /// Offer at most TLS 1.2 (through an OpenSSL configuration file:
    /// mosquitto's own `tls_version` only sets the minimum).
    pub max_tls_1_2: bool,
    /// `use_identity_as_username`: the certificate's CN is the MQTT user
    /// name. Without it (and with no password file) mosquitto answers every
    /// CONNECT with CONNACK 5, "not authorized".
    pub identity_as_username: bool,
    /// Contents of an `acl_file`, if any (`user NAME` / `topic read|write T` lines).
    pub acl: Option<String>,
}

impl MosquittoConfig {
    /// A broker that accepts exactly these device certificates.
    pub fn registered(certificates: &[&Path]) -> MosquittoConfig {
        MosquittoConfig {
            registered: certificates.iter().map(|p| p.to_path_buf()).collect(),
            max_tls_1_2: false,
            identity_as_username: true,
            acl: None,
        }
    }
}

/// A running mosquitto.
#[derive(Debug)]
pub struct Mosquitto {
    child: Child,
    port: u16,
    config_file: PathBuf,
    log: Arc<Mutex<Vec<u8>>>,
}

impl Mosquitto {
    /// Writes the configuration into `dir` and starts mosquitto with the
    /// server certificate of `pki`; returns once it is listening. Panics
    /// with mosquitto's output when it does not start.
    pub fn start(dir: &Path, pki: &ServerPki, config: &MosquittoConfig) -> Mosquitto {
        assert!(
            !config.registered.is_empty(),
            "a broker needs at least one registered certificate"
        );
        let mut last_log = String::new();
        // A free port can be taken by someone else before mosquitto binds it: retry.
        for _ in 0..5 {
            match Mosquitto::try_start(dir, pki, config, free_port()) {
                Ok(broker) => return broker,
                Err(log) if log.contains("Address already in use") => last_log = log,
                Err(log) => panic!("mosquitto did not start:\n{log}"),
            }
        }
        panic!("mosquitto found no free port:\n{last_log}");
    }

    fn try_start(
        dir: &Path,
        pki: &ServerPki,
        config: &MosquittoConfig,
        port: u16,
    ) -> Result<Mosquitto, String> {
        let registered = dir.join(format!("mosquitto-{port}-registered.pem"));
        let mut pems = String::new();
        for cert in &config.registered {
            pems.push_str(&std::fs::read_to_string(cert).unwrap_or_else(|e| {
                panic!("cannot read registered certificate {}: {e}", cert.display())
            }));
        }
        std::fs::write(&registered, pems).unwrap();

        let mut text = String::new();
        // `user root`: started as root, mosquitto would otherwise switch to
        // its own user, who cannot read the test's files; as anyone else,
        // the setting does nothing.
        text.push_str("user root\npersistence false\nlog_dest stderr\nlog_type all\n");
        // Without it, Nagle's algorithm delays CONNACK by ~40 ms (delayed ACK).
        text.push_str("set_tcp_nodelay true\nper_listener_settings false\n");
        if let Some(acl) = &config.acl {
            let acl_file = dir.join(format!("mosquitto-{port}.acl"));
            std::fs::write(&acl_file, acl).unwrap();
            let _ = writeln!(text, "acl_file {}", acl_file.display());
        }
        let _ = writeln!(text, "listener {port} 127.0.0.1");
        let _ = writeln!(text, "cafile {}", registered.display());
        let _ = writeln!(text, "certfile {}", pki.cert.display());
        let _ = writeln!(text, "keyfile {}", pki.key.display());
        text.push_str("require_certificate true\n");
        let _ = writeln!(
            text,
            "use_identity_as_username {}",
            config.identity_as_username
        );
        let config_file = dir.join(format!("mosquitto-{port}.conf"));
        std::fs::write(&config_file, &text).unwrap();

        let mut command = Command::new(mosquitto_bin());
        command
            .arg("-c")
            .arg(&config_file)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if config.max_tls_1_2 {
            let openssl_conf = dir.join(format!("mosquitto-{port}-openssl.cnf"));
            std::fs::write(
                &openssl_conf,
                "openssl_conf = default_conf\n\
                 [default_conf]\nssl_conf = ssl_section\n\
                 [ssl_section]\nsystem_default = system_default_section\n\
                 [system_default_section]\nMaxProtocol = TLSv1.2\n",
            )
            .unwrap();
            command.env("OPENSSL_CONF", &openssl_conf);
        }
        let mut child = command
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", mosquitto_bin().display()));
        let log = Arc::new(Mutex::new(Vec::new()));
        drain(child.stdout.take(), &log);
        drain(child.stderr.take(), &log);
        let mut broker = Mosquitto {
            child,
            port,
            config_file,
            log,
        };
        let started = Instant::now();
        loop {
            if broker.log().contains(" running") {
                return Ok(broker);
            }
            if let Ok(Some(status)) = broker.child.try_wait() {
                thread::sleep(Duration::from_millis(100));
                return Err(format!(
                    "mosquitto exited ({status})\n--- config {} ---\n{text}\n--- log ---\n{}",
                    broker.config_file.display(),
                    broker.log()
                ));
            }
            if started.elapsed() > START_TIMEOUT {
                return Err(format!(
                    "mosquitto did not report running within {START_TIMEOUT:?}\n--- log ---\n{}",
                    broker.log()
                ));
            }
            thread::sleep(Duration::from_millis(20));
        }
    }

    /// The port it listens on (127.0.0.1 only).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `127.0.0.1:PORT`.
    pub fn addr(&self) -> SocketAddr {
        SocketAddr::from((Ipv4Addr::LOCALHOST, self.port))
    }

    /// Everything mosquitto has logged (`log_type all`): connections, TLS
    /// errors, every packet.
    pub fn log(&self) -> String {
        let log = self.log.lock().unwrap_or_else(|e| e.into_inner());
        String::from_utf8_lossy(&log).into_owned()
    }

    /// Waits until the log contains `needle`; false after `timeout`.
    pub fn wait_for_log(&self, needle: &str, timeout: Duration) -> bool {
        let started = Instant::now();
        while started.elapsed() < timeout {
            if self.log().contains(needle) {
                return true;
            }
            thread::sleep(Duration::from_millis(20));
        }
        false
    }
}

impl Drop for Mosquitto {
    fn drop(&mut self) {
        if thread::panicking() {
            eprintln!(
                "--- mosquitto log ({}) ---\n{}\n--- end of mosquitto log ---",
                self.config_file.display(),
                self.log()
            );
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Debian puts the broker in /usr/sbin, which is not always on PATH.
fn mosquitto_bin() -> PathBuf {
    let sbin = Path::new("/usr/sbin/mosquitto");
    if sbin.is_file() {
        sbin.to_path_buf()
    } else {
        PathBuf::from("mosquitto")
    }
}
