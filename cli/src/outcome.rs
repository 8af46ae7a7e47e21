//! How a command ends: what it prints, and the exit status (0 ok, 1 check failed, 2 bad input).

use std::{borrow::Cow, process::ExitCode};

use serde_json::json;

/// A failed command: the exit status and what to tell the user.
#[derive(Debug)]
pub(crate) struct Failure {
    /// 1 when a check failed, 2 when an input could not be read or parsed.
    pub(crate) status: u8,
    /// Stable snake_case code for `--json` output (the API's own code when
    /// the API refused a request).
    pub(crate) code: Cow<'static, str>,
    pub(crate) message: String,
}

impl Failure {
    /// The input could not be read, parsed, or used as asked (exit 2).
    pub(crate) fn input(code: &'static str, message: impl Into<String>) -> Failure {
        Failure {
            status: 2,
            code: Cow::Borrowed(code),
            message: message.into(),
        }
    }

    /// A check failed: the API refused or could not be reached (exit 1).
    pub(crate) fn check(code: &'static str, message: impl Into<String>) -> Failure {
        Failure {
            status: 1,
            code: Cow::Borrowed(code),
            message: message.into(),
        }
    }

    /// Prefixes the message with the file it is about.
    pub(crate) fn at(mut self, path: &std::path::Path) -> Failure {
        self.message = format!("{}: {}", path.display(), self.message);
        self
    }
}

impl From<marshal_shared::Error> for Failure {
    fn from(e: marshal_shared::Error) -> Failure {
        let status = match e {
            marshal_shared::Error::KeyMismatch => 1,
            _ => 2,
        };
        Failure {
            status,
            code: Cow::Borrowed(e.code()),
            message: e.to_string(),
        }
    }
}

/// What a successful command wants printed.
#[derive(Debug)]
pub(crate) struct Report {
    /// Text for people.
    pub(crate) text: String,
    /// The same, for scripts.
    pub(crate) json: serde_json::Value,
    /// Exit status: 0, or 1 when a check failed, 2 when some input was unreadable.
    pub(crate) status: u8,
    /// Problems to explain on stderr, even with `--json`.
    pub(crate) errors: Vec<String>,
    /// Hints that are not the result (how to get the next page), on stderr
    /// in both modes so `--json` stays only the result.
    pub(crate) notes: Vec<String>,
}

impl Report {
    /// A successful report.
    pub(crate) fn ok(text: String, json: serde_json::Value) -> Report {
        Report {
            text,
            json,
            status: 0,
            errors: Vec::new(),
            notes: Vec::new(),
        }
    }
}

pub(crate) fn finish(result: Result<Report, Failure>, json: bool) -> ExitCode {
    match result {
        Ok(report) => {
            if json {
                println!("{}", pretty(&report.json));
            } else if !report.text.is_empty() {
                print!("{}", report.text);
            }
            for note in &report.notes {
                eprintln!("note: {note}");
            }
            for error in &report.errors {
                eprintln!("error: {error}");
            }
            ExitCode::from(report.status)
        }
        Err(failure) => {
            if json {
                println!(
                    "{}",
                    pretty(&json!({"error": {"code": failure.code, "message": failure.message}}))
                );
            }
            eprintln!("error: {}", failure.message);
            ExitCode::from(failure.status)
        }
    }
}

fn pretty(value: &serde_json::Value) -> String {
    serde_json::to_string_pretty(value).unwrap_or_else(|_| value.to_string())
}

impl Failure {
    /// Appends advice on what to do.
    pub(crate) fn with_hint(mut self, hint: &str) -> Failure {
        self.message = format!("{} ({hint})", self.message);
        self
    }
}
