//! Issue 13 part 5: the PyCA test corpus (`cryptography_vectors`) as a differential test.
//!
//! Every certificate, PKCS#12 file and private key in it goes through
//! `marshal fingerprint`, `marshal inspect --json` and `marshal convert`,
//! and what marshal says is compared with what Python `cryptography` reads
//! from the same file (tests/corpus/pyca_facts.py, one process for all
//! files). Crashes and hangs always fail. Refusals, files cryptography
//! refuses but marshal reads, and known disagreements are allowed only from
//! tests/corpus/refusals.toml, with a reason each; an entry there that
//! matches nothing any more fails too, so the list cannot rot.
//!
//! `MARSHAL_CORPUS_UPDATE=1` writes the list as observed (reasons kept,
//! `TODO` for new entries) and prints it; `MARSHAL_CORPUS_FULL=1` adds
//! PKITS' 405 PKCS#12 files.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod compare;
mod known;
mod marshal;
mod names;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

use marshal_tests::{Cmd, workspace_dir};
use serde_json::Value;

use crate::compare::Finding;
use crate::known::KnownList;
use crate::marshal::MarshalSide;

/// The script that reads the corpus with `cryptography`.
fn script() -> PathBuf {
    workspace_dir().join("tests/corpus/pyca_facts.py")
}

fn known_list_path() -> PathBuf {
    workspace_dir().join("tests/corpus/refusals.toml")
}

/// One file of the corpus as the script described it.
#[derive(Debug, Clone)]
pub(crate) struct CorpusFile {
    /// Path inside the `cryptography_vectors` package.
    pub(crate) rel: String,
    pub(crate) path: PathBuf,
    /// `certificate`, `key` or `pkcs12`.
    pub(crate) kind: String,
    pub(crate) password: String,
    /// `{"ok": true, "certificates": [...], "private_key": {...}}` or `{"ok": false, "error"}`.
    pub(crate) python: Value,
}

impl CorpusFile {
    pub(crate) fn python_ok(&self) -> bool {
        self.python["ok"] == true
    }
}

/// The corpus's root directory, from the package itself.
fn corpus_root() -> PathBuf {
    let run = Cmd::python(
        "import os, cryptography_vectors; print(os.path.dirname(cryptography_vectors.__file__))",
    )
    .run();
    if !run.status.success() {
        run.fail(
            "the tests' Python has no `cryptography_vectors`: it is in tests/requirements.txt; \
             `cargo xtask install` rebuilds the virtualenv (by hand: pip install -r tests/requirements.txt)",
        );
    }
    PathBuf::from(run.stdout_text().trim())
}

/// What the script found: files to test, skipped files counted by reason,
/// and the directories it did not look into.
struct Corpus {
    files: Vec<CorpusFile>,
    skipped: BTreeMap<String, usize>,
    not_scanned: Vec<String>,
}

/// Runs the script once over the whole corpus.
fn describe(root: &Path) -> Corpus {
    let run = Cmd::new(marshal_tests::python())
        .arg(script())
        .arg("describe")
        .run();
    run.assert_success();
    let mut files = Vec::new();
    let mut skipped = BTreeMap::new();
    let mut not_scanned = Vec::new();
    for line in run.stdout_text().lines() {
        let entry: Value = serde_json::from_str(line)
            .unwrap_or_else(|e| run.fail(format_args!("bad JSON line {line:?}: {e}")));
        let rel = entry["path"].as_str().unwrap().to_owned();
        if let Some(reason) = entry["skip"].as_str() {
            let count = entry["files"].as_u64().unwrap_or(1) as usize;
            *skipped.entry(reason.to_owned()).or_default() += count;
            if entry["kind"] == "excluded-directory" {
                not_scanned.push(rel);
            }
            continue;
        }
        files.push(CorpusFile {
            path: root.join(&rel),
            rel,
            kind: entry["kind"].as_str().unwrap().to_owned(),
            password: entry["password"].as_str().unwrap_or_default().to_owned(),
            python: entry["python"].clone(),
        });
    }
    Corpus {
        files,
        skipped,
        not_scanned,
    }
}

/// What `cryptography` reads from the files marshal wrote: one request per
/// file that had outputs, one process for all of them.
fn read_outputs(sides: &[MarshalSide]) -> BTreeMap<String, Value> {
    let requests: String = sides
        .iter()
        .filter_map(MarshalSide::outputs_request)
        .map(|r| format!("{r}\n"))
        .collect();
    let run = Cmd::new(marshal_tests::python())
        .arg(script())
        .arg("outputs")
        .stdin(requests)
        .run();
    run.assert_success();
    run.stdout_text()
        .lines()
        .map(|line| {
            let v: Value = serde_json::from_str(line).unwrap();
            (v["path"].as_str().unwrap().to_owned(), v)
        })
        .collect()
}

#[test]
fn pyca_corpus_agrees_with_cryptography() {
    let started = Instant::now();
    let root = corpus_root();
    let Corpus {
        files,
        skipped,
        not_scanned,
    } = describe(&root);
    assert!(
        files.len() > 300,
        "only {} files found under {}: is cryptography_vectors complete?",
        files.len(),
        root.display()
    );
    let python_seconds = started.elapsed().as_secs_f64();

    let work = tempfile::tempdir().unwrap();
    let sides = marshal::run_all(&files, work.path());
    let marshal_seconds = started.elapsed().as_secs_f64() - python_seconds;
    let outputs = read_outputs(&sides);

    let mut findings: Vec<Finding> = Vec::new();
    for (file, side) in files.iter().zip(&sides) {
        findings.extend(compare::file(file, side, outputs.get(&file.rel)));
    }

    let known = KnownList::load(&known_list_path());
    let verdict = known.judge(&findings, &not_scanned);
    let read_back = ["cert_ids", "key", "p12"].map(|k| {
        outputs
            .values()
            .filter(|v| v[k].is_object() || v[k].is_array())
            .count()
    });
    let mut summary = summary(
        &files,
        &findings,
        &verdict,
        &skipped,
        started,
        python_seconds,
        marshal_seconds,
    );
    let _ = writeln!(
        summary,
        "  convert's outputs read back by cryptography: {} certificate files, {} PKCS#8 keys, {} PKCS#12 files",
        read_back[0], read_back[1], read_back[2]
    );
    println!("{summary}");

    if std::env::var_os("MARSHAL_CORPUS_UPDATE").is_some_and(|v| v == "1") {
        let candidate = known.candidate(&findings, &not_scanned);
        let path =
            PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("corpus-refusals.candidate.toml");
        std::fs::write(&path, &candidate).unwrap();
        // Every finding in full, to write the reasons from.
        let details: String = findings
            .iter()
            .map(|f| format!("{} {:?}\n{}\n\n", f.rel, f.what, f.detail))
            .collect();
        let details_path = path.with_file_name("corpus-findings.txt");
        std::fs::write(&details_path, details).unwrap();
        println!("every finding in full: {}", details_path.display());
        println!(
            "MARSHAL_CORPUS_UPDATE=1: the observed list is in {}\n\
             (copy it over tests/corpus/refusals.toml and replace every reason = \"TODO ...\")\n\n{candidate}",
            path.display()
        );
        assert!(verdict.crashes.is_empty(), "{summary}");
        return;
    }
    assert!(verdict.is_clean(), "{summary}\n\n{}", verdict.explain());
}

fn summary(
    files: &[CorpusFile],
    findings: &[Finding],
    verdict: &known::Verdict,
    skipped: &BTreeMap<String, usize>,
    started: Instant,
    python_seconds: f64,
    marshal_seconds: f64,
) -> String {
    let mut by_kind: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    for file in files {
        let clean = !findings.iter().any(|f| f.rel == file.rel);
        let entry = by_kind.entry(file.kind.as_str()).or_default();
        entry.0 += 1;
        entry.1 += usize::from(clean);
    }
    let mut out = String::from("PyCA corpus (cryptography_vectors) vs marshal\n");
    for (kind, (total, clean)) in &by_kind {
        let _ = writeln!(
            out,
            "  {kind:<12} {total:>4} files, {clean:>4} agree on everything"
        );
    }
    let _ = writeln!(
        out,
        "  findings allowed by refusals.toml: {} refusals, {} lenient readings, {} known \
         disagreements; {} unlisted, {} stale list entries, {} crashes or hangs",
        verdict.listed_refusals,
        verdict.listed_lenient,
        verdict.listed_disagreements,
        verdict.unlisted.len(),
        verdict.stale.len(),
        verdict.crashes.len(),
    );
    let _ = writeln!(out, "  skipped:");
    for (reason, count) in skipped {
        let _ = writeln!(out, "    {count:>4}  {reason}");
    }
    let _ = writeln!(
        out,
        "  time: {:.1} s in all (cryptography {python_seconds:.1} s, marshal {marshal_seconds:.1} s)",
        started.elapsed().as_secs_f64()
    );
    out
}
