//! `cargo xtask fuzz`: the cargo-fuzz targets of `fuzz/` under
//! AddressSanitizer on the stable toolchain (`RUSTC_BOOTSTRAP=1`), with the
//! executions each made; and the short run `cargo xtask test` does.

mod libfuzzer;
pub(crate) mod seed;

use std::{
    fs,
    io::{BufRead, BufReader},
    path::{Path, PathBuf},
    process::{Command, Stdio},
};

use anyhow::{Context, Result, bail};

use crate::{cmd::run, install, project::Project};

/// Every target in `fuzz/Cargo.toml`, in the order they run.
pub(crate) const TARGETS: &[&str] = &[
    "import",
    "certificate_der",
    "certificate_pem",
    "private_key",
    "pkcs12",
    "pem",
    "key_material",
    "api_body",
];

/// Seconds each target fuzzes in `cargo xtask test`, after replaying its
/// seeds and regression inputs: eight targets stay under a minute with room for the
/// replay.
const TEST_SECONDS: u64 = 4;

/// One input taking longer than this is a failure (libFuzzer's default is
/// 20 minutes). The slowest honest input is a PKCS#12 file spending the
/// whole KDF budget (10 M iterations), a few seconds under ASan.
const TIMEOUT_SECONDS: u64 = 30;

/// `cargo xtask fuzz [--seconds N]`.
#[derive(Debug)]
pub(crate) struct Options {
    /// How long each target fuzzes.
    seconds: u64,
}

impl Options {
    pub(crate) fn parse(args: &[&str]) -> Result<Options> {
        match args {
            [] => Ok(Options { seconds: 60 }),
            ["--seconds", n] => n
                .parse()
                .ok()
                .filter(|&n| n > 0)
                .map(|seconds| Options { seconds })
                .with_context(|| format!("--seconds {n}: not a whole number of seconds above 0")),
            _ => bail!(
                "fuzz: unknown arguments {} (expected --seconds N)",
                args.join(" ")
            ),
        }
    }
}

/// Fuzzes every target for `seconds`, from its seeds and regression
/// inputs plus what earlier runs found (kept outside the work tree), and prints the
/// executions per target and in all.
pub(crate) fn fuzz(project: &Project, options: &Options) -> Result<()> {
    install::ensure_cargo_fuzz()?;
    let corpus = project.target_dir.join("fuzz/corpus");
    run_all(project, options.seconds, &corpus)
}

/// `cargo xtask test`'s step: every target briefly, from its seeds and
/// regression inputs only (what it finds is dropped, so each run starts the same).
pub(crate) fn test_step(project: &Project) -> Result<()> {
    let scratch = project.target_dir.join("fuzz/test-corpus");
    if scratch.exists() {
        fs::remove_dir_all(&scratch)
            .with_context(|| format!("could not empty {}", scratch.display()))?;
    }
    run_all(project, TEST_SECONDS, &scratch)
}

fn run_all(project: &Project, seconds: u64, found_corpus: &Path) -> Result<()> {
    // One build for all targets: linking them in parallel beats eight builds.
    run(&mut cargo_fuzz(project, &["build"]))?;
    let seeds = project.target_dir.join("fuzz/seeds");
    seed::seed(project, &seeds)?;
    let mut totals = Vec::new();
    for &target in TARGETS {
        let found = found_corpus.join(target);
        fs::create_dir_all(&found)
            .with_context(|| format!("could not create {}", found.display()))?;
        let committed = project.root.join("fuzz/corpus").join(target);
        let mut corpora = vec![found, seeds.join(target)];
        // Only targets that once crashed have regression inputs.
        if committed.is_dir() {
            corpora.push(committed);
        }
        totals.push((target, run_target(project, target, seconds, &corpora)?));
    }
    print_table(&totals);
    Ok(())
}

/// `cargo fuzz <args> … --target-dir`, with the nightly flags cargo-fuzz
/// needs allowed on the stable toolchain.
fn cargo_fuzz(project: &Project, args: &[&str]) -> Command {
    let mut cmd = project.cargo(&["fuzz"]);
    cmd.args(args)
        .arg("--target-dir")
        .arg(fuzz_target_dir(project))
        .env("RUSTC_BOOTSTRAP", "1");
    cmd
}

/// Apart from the main build: the ASan flags would otherwise rebuild
/// everything both ways.
fn fuzz_target_dir(project: &Project) -> PathBuf {
    project.target_dir.join("fuzz")
}

/// Runs one target; its summary, or an error naming the crash's artifact.
fn run_target(
    project: &Project,
    target: &str,
    seconds: u64,
    corpora: &[PathBuf],
) -> Result<libfuzzer::Summary> {
    let mut cmd = cargo_fuzz(project, &["run", target]);
    // libFuzzer writes what it finds into the first directory.
    cmd.args(corpora)
        .arg("--")
        .arg(format!("-max_total_time={seconds}"))
        .arg(format!("-timeout={TIMEOUT_SECONDS}"))
        .stderr(Stdio::piped());
    println!("\n--- fuzz {target} for {seconds}s");
    let mut child = cmd
        .spawn()
        .context("could not start `cargo fuzz`: is cargo-fuzz installed (cargo xtask install)?")?;
    let mut report = libfuzzer::Report::default();
    if let Some(stderr) = child.stderr.take() {
        for line in BufReader::new(stderr).lines() {
            let line = line.context("could not read libFuzzer's output")?;
            if report.read(&line) {
                eprintln!("{line}");
            }
        }
    }
    let status = child.wait().context("could not wait for `cargo fuzz`")?;
    match (status.success(), report.summary) {
        (true, Some(summary)) => Ok(summary),
        (true, None) => bail!("fuzz target {target}: libFuzzer printed no `#N DONE` line"),
        (false, _) => match report.artifact {
            Some(artifact) => bail!(
                "fuzz target {target} failed ({status}); the input is {artifact}\n\
                 reproduce: RUSTC_BOOTSTRAP=1 cargo fuzz run {target} {artifact}"
            ),
            None => bail!("fuzz target {target} failed ({status}) without writing an input"),
        },
    }
}

fn print_table(totals: &[(&str, libfuzzer::Summary)]) {
    let width = totals
        .iter()
        .map(|(t, _)| t.len())
        .max()
        .unwrap_or(0)
        .max(5);
    println!("\n==> fuzz executions");
    println!("{:width$}  {:>13}  {:>9}", "target", "executions", "exec/s");
    for (target, summary) in totals {
        println!(
            "{target:width$}  {:>13}  {:>9}",
            summary.executions, summary.per_second
        );
    }
    let executions: u64 = totals.iter().map(|(_, s)| s.executions).sum();
    println!("{:width$}  {executions:>13}", "total");
}
