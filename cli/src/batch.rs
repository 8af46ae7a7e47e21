//! Factory batches: certificates from a directory, a PEM bundle, a CSV of
//! `thing_name,certificate_path`, or plain files, each checked before
//! anything is sent.
//!
//! Only certificates are ever taken from the inputs: a private key beside a
//! certificate in a file is never read into a request, because requests
//! carry `Certificate::to_pem()` re-encoded from the DER.

use std::{
    collections::HashMap,
    fmt::Write as _,
    fs,
    path::{Path, PathBuf},
};

use marshal_shared::{
    Certificate, OffsetDateTime,
    api::CertificateInput,
    preflight::{self, Severity},
};
use regex_lite::Regex;
use serde_json::{Value, json};

use crate::{files, outcome::Failure};

/// File names a batch directory contributes, by extension (case-insensitive).
/// Keys (`.key`) are never read.
const CERTIFICATE_EXTENSIONS: [&str; 6] = ["pem", "crt", "cer", "der", "p12", "pfx"];

/// One certificate of a batch, with where it came from and what is wrong with it.
#[derive(Debug)]
pub(crate) struct Item {
    /// Where it came from, for people: a path, `bundle.pem #3`, `list.csv line 4`.
    pub(crate) source: String,
    /// The thing name given with it (CSV, `--thing`); else its CN is used.
    pub(crate) thing: Option<String>,
    /// The certificate, when it could be read.
    pub(crate) certificate: Option<Certificate>,
    /// Errors and warnings, in the order found.
    pub(crate) problems: Vec<Problem>,
}

/// Something wrong with one batch item.
#[derive(Debug, Clone)]
pub(crate) struct Problem {
    /// Stable code: a preflight finding code or a reading error code.
    pub(crate) code: String,
    /// An error keeps the item out of the request; a warning does not.
    pub(crate) error: bool,
    /// Plain words.
    pub(crate) message: String,
}

impl Item {
    fn unreadable(source: String, thing: Option<String>, failure: &Failure) -> Item {
        Item {
            source,
            thing,
            certificate: None,
            problems: vec![Problem {
                code: failure.code.to_string(),
                error: true,
                message: failure.message.clone(),
            }],
        }
    }

    /// True when it can be sent: readable and no error found.
    pub(crate) fn sendable(&self) -> bool {
        self.certificate.is_some() && !self.problems.iter().any(|p| p.error)
    }

    /// Its certificate ID, when readable.
    pub(crate) fn id(&self) -> Option<String> {
        self.certificate.as_ref().map(Certificate::id)
    }

    /// The thing it will be attached to: the given name, else the CN.
    pub(crate) fn thing_name(&self) -> Option<String> {
        self.thing
            .clone()
            .or_else(|| self.certificate.as_ref().and_then(Certificate::common_name))
    }

    /// What a request or a job's file carries for it: `Certificate::to_pem()`
    /// and the thing name, nothing else, so no key read beside it can leave.
    pub(crate) fn input(&self) -> Option<CertificateInput> {
        self.certificate.as_ref().map(|c| CertificateInput {
            certificate_pem: c.to_pem(),
            thing_name: self.thing_name(),
        })
    }

    fn error(&mut self, code: &str, message: String) {
        self.problems.push(Problem {
            code: code.to_owned(),
            error: true,
            message,
        });
    }

    /// The item for `--json`.
    pub(crate) fn to_json(&self) -> Value {
        json!({
            "source": self.source,
            "certificateId": self.id(),
            "thing": self.thing_name(),
            "sendable": self.sendable(),
            "problems": self.problems.iter().map(|p| json!({
                "code": p.code,
                "severity": if p.error { "error" } else { "warning" },
                "message": p.message,
            })).collect::<Vec<_>>(),
        })
    }
}

/// Every certificate in these files (a file may hold several).
pub(crate) fn from_files(paths: &[PathBuf], thing: Option<&str>) -> Vec<Item> {
    let mut items = Vec::new();
    for path in paths {
        items.extend(certificates_in(path, thing));
    }
    items
}

/// Every certificate of a batch: a directory, a CSV (`.csv`), or a bundle.
pub(crate) fn load(path: &Path) -> Result<Vec<Item>, Failure> {
    let meta = fs::metadata(path).map_err(|e| {
        Failure::input(
            "unreadable_input",
            format!("cannot read {}: {e}", path.display()),
        )
    })?;
    let items = if meta.is_dir() {
        from_directory(path)?
    } else if has_extension(path, &["csv"]) {
        from_csv(path)?
    } else {
        certificates_in(path, None)
    };
    if items.is_empty() {
        return Err(Failure::input(
            "empty_batch",
            format!(
                "{} holds no certificates (a batch is a directory of {} files, a PEM bundle, \
                 or a CSV of thing_name,certificate_path)",
                path.display(),
                CERTIFICATE_EXTENSIONS.map(|e| format!("*.{e}")).join(", ")
            ),
        ));
    }
    Ok(items)
}

fn has_extension(path: &Path, extensions: &[&str]) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| extensions.iter().any(|x| e.eq_ignore_ascii_case(x)))
}

fn from_directory(dir: &Path) -> Result<Vec<Item>, Failure> {
    let entries = fs::read_dir(dir).map_err(|e| {
        Failure::input(
            "unreadable_input",
            format!("cannot list {}: {e}", dir.display()),
        )
    })?;
    let mut paths: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_file() && has_extension(p, &CERTIFICATE_EXTENSIONS))
        .collect();
    paths.sort();
    Ok(from_files(&paths, None))
}

/// The certificates of one file; one unreadable item when it cannot be read.
fn certificates_in(path: &Path, thing: Option<&str>) -> Vec<Item> {
    let thing = thing.map(str::to_owned);
    let imported = files::read_input(path).and_then(|bytes| {
        marshal_shared::import(&bytes, "").map_err(|e| {
            let needs_password = matches!(e, marshal_shared::Error::WrongPassword(_));
            let failure = Failure::from(e).at(path);
            if needs_password {
                failure.with_hint(
                    "a password-protected PKCS#12: take the certificate out first with \
                     `marshal convert FILE --out-cert CERT.pem --password-stdin`",
                )
            } else {
                failure
            }
        })
    });
    let certificates = match imported {
        Ok(imported) if imported.certificates.is_empty() => {
            let failure = Failure::from(marshal_shared::Error::NoCertificate).at(path);
            return vec![Item::unreadable(
                path.display().to_string(),
                thing,
                &failure,
            )];
        }
        Ok(imported) => imported.certificates,
        Err(failure) => {
            return vec![Item::unreadable(
                path.display().to_string(),
                thing,
                &failure,
            )];
        }
    };
    let several = certificates.len() > 1;
    certificates
        .into_iter()
        .enumerate()
        .map(|(i, certificate)| Item {
            source: if several {
                format!("{} #{}", path.display(), i + 1)
            } else {
                path.display().to_string()
            },
            thing: thing.clone(),
            certificate: Some(certificate),
            problems: Vec::new(),
        })
        .collect()
}

fn from_csv(path: &Path) -> Result<Vec<Item>, Failure> {
    let bytes = files::read_input(path)?;
    let base = path.parent().unwrap_or(Path::new("."));
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .trim(csv::Trim::All)
        .comment(Some(b'#'))
        .from_reader(&bytes[..]);
    let mut items = Vec::new();
    for (row, record) in reader.records().enumerate() {
        let record = record.map_err(|e| {
            Failure::input(
                "invalid_csv",
                format!(
                    "{}: not a CSV of thing_name,certificate_path: {e}",
                    path.display()
                ),
            )
        })?;
        let line = record
            .position()
            .map_or(row as u64 + 1, csv::Position::line);
        let fields: Vec<&str> = record.iter().collect();
        if row == 0
            && fields
                .first()
                .is_some_and(|f| f.eq_ignore_ascii_case("thing_name"))
        {
            continue;
        }
        if fields.iter().all(|f| f.is_empty()) {
            continue;
        }
        let source = format!("{} line {line}", path.display());
        let [thing, cert_path] = fields[..] else {
            return Err(Failure::input(
                "invalid_csv",
                format!(
                    "{source}: expected 2 columns (thing_name,certificate_path), found {}",
                    fields.len()
                ),
            ));
        };
        let thing = (!thing.is_empty()).then(|| thing.to_owned());
        let resolved = base.join(cert_path);
        let mut found = certificates_in(&resolved, thing.as_deref());
        if found.len() > 1 {
            let failure = Failure::input(
                "several_certificates",
                format!(
                    "{} holds {} certificates; a CSV line names one device",
                    resolved.display(),
                    found.len()
                ),
            );
            found = vec![Item::unreadable(String::new(), thing.clone(), &failure)];
        }
        for mut item in found {
            item.source = source.clone();
            items.push(item);
        }
    }
    Ok(items)
}

/// Preflights every item at `now` (AWS IoT's rules, the PEM as it will be
/// sent, thing names against the API's pattern) and marks duplicates.
pub(crate) fn preflight(items: &mut [Item], now: OffsetDateTime, thing_pattern: Option<&Regex>) {
    let mut first_seen: HashMap<String, String> = HashMap::new();
    for item in items.iter_mut() {
        let Some(cert) = &item.certificate else {
            continue;
        };
        let findings = preflight::check_pem(&cert.to_pem(), std::slice::from_ref(cert), now);
        item.problems.extend(findings.into_iter().map(|f| {
            Problem {
                code: serde_json::to_value(f.code)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default(),
                error: f.severity == Severity::Error,
                message: f.message,
            }
        }));
        let id = cert.id();
        if let Some(first) = first_seen.get(&id) {
            let message = format!("the same certificate as {first}");
            item.error("duplicate_in_batch", message);
        } else {
            first_seen.insert(id, item.source.clone());
        }
        match (item.thing_name(), thing_pattern) {
            (None, _) => item.error(
                "no_thing_name",
                "the certificate has no common name to use as the thing name; give one \
                 (--thing, or the CSV's thing_name column)"
                    .to_owned(),
            ),
            (Some(name), Some(pattern)) if !pattern.is_match(&name) => {
                let message = format!(
                    "thing name {name:?} does not match the API's pattern {}",
                    pattern.as_str()
                );
                item.error("thing_name_not_allowed", message);
            }
            _ => {}
        }
    }
}

/// The problems of every item that has some, for people.
pub(crate) fn describe_problems(items: &[Item]) -> String {
    let mut text = String::new();
    for item in items.iter().filter(|i| !i.problems.is_empty()) {
        let _ = writeln!(text, "{}:", item.source);
        for p in &item.problems {
            let severity = if p.error { "error" } else { "warning" };
            let _ = writeln!(text, "  {severity} {}: {}", p.code, p.message);
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problem_codes(item: &Item) -> Vec<&str> {
        item.problems.iter().map(|p| p.code.as_str()).collect()
    }

    #[test]
    fn unreadable_items_are_not_sendable_and_say_why() {
        let failure = Failure::input("unreadable_input", "cannot read x.pem");
        let item = Item::unreadable("x.pem".into(), None, &failure);
        assert!(!item.sendable());
        assert_eq!(problem_codes(&item), ["unreadable_input"]);
        assert_eq!(item.to_json()["sendable"], false);
    }

    #[test]
    fn extensions_match_without_case() {
        assert!(has_extension(Path::new("a/B.PEM"), &CERTIFICATE_EXTENSIONS));
        assert!(has_extension(
            Path::new("dev.pem.crt"),
            &CERTIFICATE_EXTENSIONS
        ));
        assert!(!has_extension(
            Path::new("dev.private.key"),
            &CERTIFICATE_EXTENSIONS
        ));
    }
}
