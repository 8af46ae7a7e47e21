//! wasm-bindgen-cli (and its `wasm-bindgen-test-runner`) at exactly the
//! version of the `wasm-bindgen` crate in Cargo.lock: they refuse to work
//! with any other.

use std::process::Command;

use anyhow::Result;

use super::{installing, present, skipping};
use crate::{
    cmd::{probe, run},
    lockfile::locked_version,
    project::Project,
};

pub(super) fn ensure_cli(project: &Project) -> Result<()> {
    let Some(version) = locked_version(&project.root, "wasm-bindgen")? else {
        skipping("wasm-bindgen-cli: Cargo.lock has no wasm-bindgen yet");
        return Ok(());
    };
    let what = format!("wasm-bindgen-cli {version}");
    if ["wasm-bindgen", "wasm-bindgen-test-runner"]
        .iter()
        .all(|tool| reports_version(tool, &version))
    {
        present(&what);
        return Ok(());
    }
    installing(&what);
    // Not `--locked`: wasm-bindgen-cli's own lock file wants a crate version
    // the registry lacks (see TOOLCHAIN.md).
    run(Command::new("cargo").args(["install", "wasm-bindgen-cli", "--version", &version]))
}

/// Whether `tool --version` prints `<tool> <version>`.
fn reports_version(tool: &str, version: &str) -> bool {
    probe(Command::new(tool).arg("--version"))
        .is_some_and(|out| out.split_whitespace().nth(1) == Some(version))
}
