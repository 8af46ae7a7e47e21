//! The marshal side: `fingerprint`, `inspect` and `convert` on every file, a few at a time.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use marshal_tests::{Cmd, Run, password_line};
use serde_json::{Value, json};

use crate::CorpusFile;

/// Longer than any file here needs (milliseconds, a debug build) by far:
/// reaching it is a hang, not a slow machine.
const TIMEOUT: Duration = Duration::from_secs(20);

/// Processes at once: the machine has two cores and other builds on them.
const WORKERS: usize = 3;

/// How one command ended.
#[derive(Debug, Clone)]
pub(crate) enum Outcome {
    /// Exit 0, with its JSON.
    Ok(Value),
    /// A clean refusal: exit 1 or 2 with `{"error": {"code", "message"}}`.
    Refused { code: String, message: String },
    /// Killed by a signal, a panic, or output that is not the JSON promised.
    Crashed(String),
    /// Still running at [`TIMEOUT`].
    Hung(String),
}

impl Outcome {
    fn of(cmd: &Cmd, run: Option<Run>) -> Outcome {
        let Some(run) = run else {
            return Outcome::Hung(format!(
                "no answer within {} s: {}",
                TIMEOUT.as_secs(),
                cmd.command_line()
            ));
        };
        let stderr = run.stderr_text();
        if run.code().is_none() || stderr.contains("panicked at") {
            return Outcome::Crashed(run.to_string());
        }
        let Ok(json) = serde_json::from_slice::<Value>(&run.stdout) else {
            return Outcome::Crashed(format!("stdout is not JSON\n{run}"));
        };
        match run.code() {
            Some(0) => Outcome::Ok(json),
            Some(1 | 2) if json["error"]["code"].is_string() => Outcome::Refused {
                code: json["error"]["code"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
                message: json["error"]["message"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
            },
            // inspect exits 1 when a key matches no certificate in the file,
            // with its full report: still an answer.
            Some(1) if json["certificates"].is_array() => Outcome::Ok(json),
            _ => Outcome::Crashed(format!("unexpected exit status or output\n{run}")),
        }
    }
}

/// What marshal made of one file.
#[derive(Debug, Clone)]
pub(crate) struct MarshalSide {
    pub(crate) rel: String,
    /// `None` for files that cannot hold a certificate (keys).
    pub(crate) fingerprint: Option<Outcome>,
    pub(crate) inspect: Outcome,
    pub(crate) convert: Outcome,
    /// The files `convert` was asked to write, and the password of the PKCS#12.
    pub(crate) out_cert: Option<PathBuf>,
    pub(crate) out_key: Option<PathBuf>,
    pub(crate) out_p12: Option<PathBuf>,
    pub(crate) p12_password: String,
}

impl MarshalSide {
    /// The request for `pyca_facts.py outputs`, when convert wrote something.
    pub(crate) fn outputs_request(&self) -> Option<Value> {
        if !matches!(self.convert, Outcome::Ok(_)) {
            return None;
        }
        Some(json!({
            "path": self.rel,
            "cert": self.out_cert,
            "key": self.out_key,
            "p12": self.out_p12,
            "p12_password": self.p12_password,
        }))
    }
}

/// Runs every file on [`WORKERS`] threads; results in the files' order.
pub(crate) fn run_all(files: &[CorpusFile], work: &Path) -> Vec<MarshalSide> {
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<MarshalSide>>> = Mutex::new(vec![None; files.len()]);
    std::thread::scope(|scope| {
        for _ in 0..WORKERS {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(file) = files.get(i) else { break };
                    let dir = work.join(i.to_string());
                    std::fs::create_dir_all(&dir).unwrap();
                    let side = run_one(file, &dir);
                    results.lock().unwrap()[i] = Some(side);
                }
            });
        }
    });
    results
        .into_inner()
        .unwrap()
        .into_iter()
        .map(|s| s.expect("every file ran"))
        .collect()
}

/// `marshal --json COMMAND FILE [--password-stdin]`: the password goes on
/// stdin only, and only when the file has one.
fn with_password(cmd: Cmd, password: &str) -> Cmd {
    if password.is_empty() {
        cmd
    } else {
        cmd.arg("--password-stdin").stdin(password_line(password))
    }
}

fn run(cmd: &Cmd) -> Outcome {
    Outcome::of(cmd, cmd.run_within(TIMEOUT))
}

fn run_one(file: &CorpusFile, dir: &Path) -> MarshalSide {
    let command = |name: &str| {
        with_password(
            Cmd::marshal().args(["--json", name]).arg(&file.path),
            &file.password,
        )
    };
    let fingerprint = (file.kind != "key").then(|| run(&command("fingerprint")));
    let inspect = run(&command("inspect"));

    // Ask convert for every output inspect says the file can give; when
    // inspect refused, for what the file should give, expecting a refusal.
    let (has_certs, has_key) = match &inspect {
        Outcome::Ok(json) => (
            json["certificates"]
                .as_array()
                .is_some_and(|c| !c.is_empty()),
            !json["privateKey"].is_null(),
        ),
        _ => (file.kind != "key", file.kind == "key"),
    };
    let out_cert = has_certs.then(|| dir.join("cert.pem"));
    let out_key = has_key.then(|| dir.join("key.pem"));
    // A PKCS#12 in, a PKCS#12 out: marshal's own export, read back by cryptography.
    let out_p12 = (file.kind == "pkcs12" && has_certs && has_key).then(|| dir.join("out.p12"));
    let mut convert = Cmd::marshal().args(["--json", "convert"]).arg(&file.path);
    for (flag, path) in [
        ("--out-cert", &out_cert),
        ("--out-key", &out_key),
        ("--out-p12", &out_p12),
    ] {
        if let Some(path) = path {
            convert = convert.arg(flag).arg(path);
        }
    }
    // One password serves the input and the exported PKCS#12.
    convert = if out_p12.is_some() && file.password.is_empty() {
        convert.arg("--empty-password")
    } else {
        with_password(convert, &file.password)
    };
    let convert = if out_cert.is_none() && out_key.is_none() {
        Outcome::Refused {
            code: "nothing_to_convert".into(),
            message: "inspect found neither certificates nor a key".into(),
        }
    } else {
        run(&convert)
    };

    MarshalSide {
        rel: file.rel.clone(),
        fingerprint,
        inspect,
        convert,
        out_cert,
        out_key,
        out_p12,
        p12_password: file.password.clone(),
    }
}

#[cfg(test)]
mod tests {
    use std::os::unix::process::ExitStatusExt;
    use std::process::ExitStatus;

    use super::*;

    fn ended(wait_status: i32, stdout: &str, stderr: &str) -> Option<Run> {
        Some(Run {
            command: "marshal --json inspect x".into(),
            stdin: None,
            status: ExitStatus::from_raw(wait_status),
            stdout: stdout.into(),
            stderr: stderr.into(),
        })
    }

    fn outcome(run: Option<Run>) -> Outcome {
        Outcome::of(&Cmd::new("marshal"), run)
    }

    #[test]
    fn signals_panics_garbage_and_hangs_are_never_refusals() {
        // A raw wait status: 9 is "killed by SIGKILL", 2 << 8 is "exited with 2".
        assert!(matches!(outcome(ended(9, "", "")), Outcome::Crashed(_)));
        let panicked = ended(
            101 << 8,
            "",
            "thread 'main' panicked at shared/src/ber.rs:1:1",
        );
        assert!(matches!(outcome(panicked), Outcome::Crashed(_)));
        assert!(matches!(
            outcome(ended(2 << 8, "oops", "")),
            Outcome::Crashed(_)
        ));
        assert!(matches!(
            outcome(ended(3 << 8, "{}", "")),
            Outcome::Crashed(_)
        ));
        assert!(matches!(outcome(None), Outcome::Hung(_)));
    }

    #[test]
    fn refusals_and_answers() {
        let refused = ended(
            2 << 8,
            r#"{"error": {"code": "malformed_key", "message": "m"}}"#,
            "",
        );
        assert!(
            matches!(outcome(refused), Outcome::Refused { code, .. } if code == "malformed_key")
        );
        assert!(matches!(
            outcome(ended(0, r#"{"certificates": []}"#, "")),
            Outcome::Ok(_)
        ));
        // inspect: a key that matches no certificate is exit 1 with the full report.
        let mismatch = ended(1 << 8, r#"{"certificates": [], "privateKey": {}}"#, "");
        assert!(matches!(outcome(mismatch), Outcome::Ok(_)));
    }
}
