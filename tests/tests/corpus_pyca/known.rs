//! tests/corpus/refusals.toml: the refusals, lenient readings and
//! disagreements allowed, each with its reason; and writing it anew.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::compare::{Finding, What};

/// One entry: a reason, what it allows, and the files (glob patterns:
/// `*` within a path segment, `**` across segments) it allows it for.
#[derive(Debug, Clone)]
struct Entry {
    /// `refusal`, `lenient` or `disagreement`.
    section: String,
    reason: String,
    /// For refusals: the error code, and the command if only one refuses.
    code: Option<String>,
    command: Option<String>,
    /// For lenient readings and disagreements: the field.
    field: Option<String>,
    files: Vec<String>,
}

impl Entry {
    fn allows(&self, finding: &Finding) -> Option<usize> {
        let fits = match &finding.what {
            What::Refusal { command, code } => {
                self.section == "refusal"
                    && self.code.as_ref() == Some(code)
                    && self.command.as_ref().is_none_or(|c| c == command)
            }
            What::Lenient { field } => {
                self.section == "lenient" && self.field.as_ref() == Some(field)
            }
            What::Disagreement { field } => {
                self.section == "disagreement" && self.field.as_ref() == Some(field)
            }
            What::Crash { .. } => false,
        };
        if !fits {
            return None;
        }
        self.files.iter().position(|p| glob(p, &finding.rel))
    }

    fn describe(&self) -> String {
        let mut s = format!("[[{}]] {:?}", self.section, self.reason);
        for (k, v) in [
            ("code", &self.code),
            ("command", &self.command),
            ("field", &self.field),
        ] {
            if let Some(v) = v {
                let _ = write!(s, " {k}={v}");
            }
        }
        s
    }
}

#[derive(Debug)]
pub(crate) struct KnownList {
    path: PathBuf,
    entries: Vec<Entry>,
}

/// The findings judged against the list.
#[derive(Debug, Default)]
pub(crate) struct Verdict {
    pub(crate) listed_refusals: usize,
    pub(crate) listed_lenient: usize,
    pub(crate) listed_disagreements: usize,
    pub(crate) unlisted: Vec<Finding>,
    pub(crate) crashes: Vec<Finding>,
    /// (entry, pattern) that allowed nothing.
    pub(crate) stale: Vec<String>,
    path: PathBuf,
}

impl Verdict {
    pub(crate) fn is_clean(&self) -> bool {
        self.unlisted.is_empty() && self.crashes.is_empty() && self.stale.is_empty()
    }

    /// Everything needed to act on a failure.
    pub(crate) fn explain(&self) -> String {
        let mut out = String::new();
        for f in &self.crashes {
            let _ = writeln!(out, "CRASH OR HANG {} {:?}\n{}\n", f.rel, f.what, f.detail);
        }
        for f in &self.unlisted {
            let _ = writeln!(
                out,
                "NOT IN THE LIST {} {:?}\n{}\n",
                f.rel, f.what, f.detail
            );
        }
        for s in &self.stale {
            let _ = writeln!(out, "STALE LIST ENTRY {s}");
        }
        let _ = writeln!(
            out,
            "\nA crash or hang is a bug in marshal. Anything else: either marshal is wrong (fix it), \
             or the difference is understood: then {} must say so, with a reason. A stale entry \
             allows something that no longer happens (a decoder changed): drop it. To see the \
             whole list as observed now, run\n  MARSHAL_CORPUS_UPDATE=1 cargo test -p marshal-tests \
             --test corpus_pyca -- --nocapture\nwhich keeps the reasons of entries that still apply \
             and marks new ones reason = \"TODO ...\" for you to write.",
            self.path.display()
        );
        out
    }
}

impl KnownList {
    pub(crate) fn load(path: &Path) -> KnownList {
        let text = std::fs::read_to_string(path)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
        let table: toml::Table = toml::from_str(&text)
            .unwrap_or_else(|e| panic!("{} is not valid TOML: {e}", path.display()));
        let mut entries = Vec::new();
        for section in ["refusal", "lenient", "disagreement"] {
            let Some(items) = table.get(section) else {
                continue;
            };
            for item in items
                .as_array()
                .unwrap_or_else(|| panic!("[[{section}]] must be an array of tables"))
            {
                let get = |k: &str| item.get(k).and_then(|v| v.as_str()).map(str::to_owned);
                let entry = Entry {
                    section: section.to_owned(),
                    reason: get("reason")
                        .unwrap_or_else(|| panic!("a [[{section}]] without a reason: {item}")),
                    code: get("code"),
                    command: get("command"),
                    field: get("field"),
                    files: item
                        .get("files")
                        .and_then(|f| f.as_array())
                        .map(|f| {
                            f.iter()
                                .filter_map(|p| p.as_str().map(str::to_owned))
                                .collect()
                        })
                        .unwrap_or_default(),
                };
                let needed = if section == "refusal" {
                    entry.code.is_some()
                } else {
                    entry.field.is_some()
                };
                assert!(
                    needed,
                    "{} in {}: refusals need a code, others a field",
                    entry.describe(),
                    path.display()
                );
                assert!(
                    !entry.reason.starts_with("TODO"),
                    "{} in {}: write the reason",
                    entry.describe(),
                    path.display()
                );
                entries.push(entry);
            }
        }
        KnownList {
            path: path.to_owned(),
            entries,
        }
    }

    /// `not_scanned`: directories this run did not look into (`dir/`);
    /// patterns inside them are not stale for matching nothing.
    pub(crate) fn judge(&self, findings: &[Finding], not_scanned: &[String]) -> Verdict {
        let mut used: Vec<Vec<bool>> = self
            .entries
            .iter()
            .map(|e| vec![false; e.files.len()])
            .collect();
        let mut verdict = Verdict {
            path: self.path.clone(),
            ..Verdict::default()
        };
        for finding in findings {
            if matches!(finding.what, What::Crash { .. }) {
                verdict.crashes.push(finding.clone());
                continue;
            }
            let hit = self
                .entries
                .iter()
                .enumerate()
                .find_map(|(i, e)| e.allows(finding).map(|p| (i, p)));
            match hit {
                Some((i, p)) => {
                    used[i][p] = true;
                    match finding.what {
                        What::Refusal { .. } => verdict.listed_refusals += 1,
                        What::Lenient { .. } => verdict.listed_lenient += 1,
                        _ => verdict.listed_disagreements += 1,
                    }
                }
                None => verdict.unlisted.push(finding.clone()),
            }
        }
        for (entry, used) in self.entries.iter().zip(&used) {
            for (pattern, used) in entry.files.iter().zip(used) {
                if !used && !outside(pattern, not_scanned) {
                    verdict
                        .stale
                        .push(format!("{}: {pattern:?} matched nothing", entry.describe()));
                }
            }
        }
        verdict
    }

    /// The list as observed: entries that still allow something keep their
    /// reason and the patterns that still match; the rest becomes new
    /// entries with `reason = "TODO ..."`, grouped by what they allow.
    pub(crate) fn candidate(&self, findings: &[Finding], not_scanned: &[String]) -> String {
        let mut kept: Vec<(Entry, Vec<bool>)> = self
            .entries
            .iter()
            .map(|e| (e.clone(), vec![false; e.files.len()]))
            .collect();
        let mut new: BTreeMap<What, Vec<&Finding>> = BTreeMap::new();
        for finding in findings {
            if matches!(finding.what, What::Crash { .. }) {
                continue;
            }
            match kept
                .iter_mut()
                .find_map(|(e, used)| e.allows(finding).map(|p| (used, p)))
            {
                Some((used, p)) => used[p] = true,
                None => new.entry(finding.what.clone()).or_default().push(finding),
            }
        }
        let mut out = String::from(HEADER);
        for section in ["refusal", "lenient", "disagreement"] {
            for (entry, used) in kept.iter().filter(|(e, _)| e.section == section) {
                let files: Vec<String> = entry
                    .files
                    .iter()
                    .zip(used)
                    .filter(|(f, u)| **u || outside(f, not_scanned))
                    .map(|(f, _)| f.clone())
                    .collect();
                if !files.is_empty() {
                    write_entry(&mut out, entry, &files);
                }
            }
            for (what, group) in new.iter().filter(|(w, _)| section_of(w) == section) {
                let first = group[0].detail.replace('\n', "; ");
                let entry = Entry {
                    section: section.to_owned(),
                    reason: format!("TODO (e.g. {}: {first})", group[0].rel),
                    code: match what {
                        What::Refusal { code, .. } => Some(code.clone()),
                        _ => None,
                    },
                    command: match what {
                        What::Refusal { command, .. } if command != "inspect" => {
                            Some(command.clone())
                        }
                        _ => None,
                    },
                    field: match what {
                        What::Lenient { field } | What::Disagreement { field } => {
                            Some(field.clone())
                        }
                        _ => None,
                    },
                    files: Vec::new(),
                };
                let files: Vec<String> = group.iter().map(|f| f.rel.clone()).collect();
                write_entry(&mut out, &entry, &files);
            }
        }
        out
    }
}

/// Whether a pattern names files in a directory this run did not scan
/// (PKITS' PKCS#12 files without MARSHAL_CORPUS_FULL=1).
fn outside(pattern: &str, not_scanned: &[String]) -> bool {
    not_scanned
        .iter()
        .any(|dir| pattern.starts_with(dir.as_str()))
}

fn section_of(what: &What) -> &'static str {
    match what {
        What::Refusal { .. } => "refusal",
        What::Lenient { .. } => "lenient",
        What::Disagreement { .. } => "disagreement",
        What::Crash { .. } => "crash",
    }
}

const HEADER: &str = "\
# What the PyCA corpus test (tests/tests/corpus_pyca) allows, each with its reason.
#
# [[refusal]]      marshal refuses the file: `code` is its error code; `command`
#                  when only that command refuses (default: inspect, and with it
#                  the others).
# [[lenient]]      cryptography refuses the file (field = \"file\") or a field of it,
#                  marshal reads it: a strict parser refusing is fine, a lenient
#                  one accepting garbage may be a bug, so each says why it is not.
# [[disagreement]] both read it and differ on `field`: known bugs to fix.
#
# `files` are paths inside the cryptography_vectors package; `*` matches within
# a path segment, `**` across. Every pattern must still match something, or the
# test fails: regenerate with
#   MARSHAL_CORPUS_UPDATE=1 cargo test -p marshal-tests --test corpus_pyca -- --nocapture
# which keeps the reasons that still apply and writes reason = \"TODO ...\" on new
# entries; replace each TODO with the real reason before committing. Patterns
# in a directory a run does not scan (x509/PKITS_data/pkcs12/ unless
# MARSHAL_CORPUS_FULL=1) are not stale.
";

fn write_entry(out: &mut String, entry: &Entry, files: &[String]) {
    let quote = |s: &str| toml::Value::String(s.to_owned()).to_string();
    let _ = writeln!(out, "\n[[{}]]", entry.section);
    let _ = writeln!(out, "reason = {}", quote(&entry.reason));
    for (k, v) in [
        ("code", &entry.code),
        ("command", &entry.command),
        ("field", &entry.field),
    ] {
        if let Some(v) = v {
            let _ = writeln!(out, "{k} = {}", quote(v));
        }
    }
    let _ = writeln!(out, "files = [");
    for f in files {
        let _ = writeln!(out, "  {},", quote(f));
    }
    let _ = writeln!(out, "]");
}

/// `*` matches within a path segment, `**` any number of segments.
fn glob(pattern: &str, path: &str) -> bool {
    fn segments(p: &[&str], s: &[&str]) -> bool {
        match (p.first(), s.first()) {
            (None, None) => true,
            (Some(&"**"), _) => segments(&p[1..], s) || (!s.is_empty() && segments(p, &s[1..])),
            (Some(p0), Some(s0)) => {
                segment(p0.as_bytes(), s0.as_bytes()) && segments(&p[1..], &s[1..])
            }
            _ => false,
        }
    }
    fn segment(p: &[u8], s: &[u8]) -> bool {
        match (p.first(), s.first()) {
            (None, None) => true,
            (Some(b'*'), _) => segment(&p[1..], s) || (!s.is_empty() && segment(p, &s[1..])),
            (Some(a), Some(b)) => a == b && segment(&p[1..], &s[1..]),
            _ => false,
        }
    }
    let p: Vec<&str> = pattern.split('/').collect();
    let s: Vec<&str> = path.split('/').collect();
    segments(&p, &s)
}

#[cfg(test)]
mod tests {
    use super::glob;

    #[test]
    fn globs() {
        assert!(glob("asymmetric/DSA/**", "asymmetric/DSA/FIPS_186-2/a.pem"));
        assert!(glob("x509/custom/rsa_pss*", "x509/custom/rsa_pss_cert.pem"));
        assert!(!glob("x509/custom/rsa_pss*", "x509/custom/ca/rsa_pss.pem"));
        assert!(glob("x509/custom/ca/ca.pem", "x509/custom/ca/ca.pem"));
    }
}
