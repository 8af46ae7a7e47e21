//! The Rust toolchain's extras: the wasm32 target (the page), the aarch64
//! Linux target (the Lambda, built by cargo-lambda), clippy and rustfmt.

use std::process::Command;

use anyhow::Result;

use super::{installing, present, skipping};
use crate::{
    cmd::{probe, run, which},
    deploy, wasm,
};

const TARGETS: &[&str] = &[wasm::TARGET, deploy::LAMBDA_TARGET];
const COMPONENTS: &[&str] = &["clippy", "rustfmt"];

pub(super) fn ensure_target_and_components() -> Result<()> {
    if which("rustup").is_none() {
        skipping(&format!(
            "rustup not found: make sure {} and {} are installed",
            TARGETS.join(", "),
            COMPONENTS.join(", ")
        ));
        return Ok(());
    }

    let targets = installed(&["target", "list", "--installed"]);
    for &target in TARGETS {
        if targets.iter().any(|t| t == target) {
            present(&format!("rust target {target}"));
        } else {
            installing(&format!("rust target {target}"));
            run(Command::new("rustup").args(["target", "add", target]))?;
        }
    }

    // Listed with their host triple, e.g. `clippy-x86_64-unknown-linux-gnu`.
    let components = installed(&["component", "list", "--installed"]);
    let missing: Vec<&str> = COMPONENTS
        .iter()
        .copied()
        .filter(|c| {
            !components
                .iter()
                .any(|line| line == c || line.starts_with(&format!("{c}-")))
        })
        .collect();
    if missing.is_empty() {
        present(&format!("rust components {}", COMPONENTS.join(" ")));
    } else {
        installing(&format!("rust components {}", missing.join(" ")));
        run(Command::new("rustup")
            .args(["component", "add"])
            .args(&missing))?;
    }
    Ok(())
}

fn installed(rustup_args: &[&str]) -> Vec<String> {
    probe(Command::new("rustup").args(rustup_args))
        .unwrap_or_default()
        .lines()
        .map(|line| line.trim().to_owned())
        .collect()
}
