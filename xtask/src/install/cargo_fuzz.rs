//! cargo-fuzz, for `cargo xtask fuzz` and the fuzz step of `cargo xtask
//! test`. Built from crates.io (about 30 s); it runs on the stable toolchain
//! with `RUSTC_BOOTSTRAP=1` (see TOOLCHAIN.md).

use std::process::Command;

use anyhow::Result;

use super::{installing, present};
use crate::cmd::{probe, run};

pub(crate) fn ensure() -> Result<()> {
    if let Some(version) = probe(Command::new("cargo").args(["fuzz", "--version"])) {
        present(version.trim());
        return Ok(());
    }
    installing("cargo-fuzz");
    run(Command::new("cargo").args(["install", "cargo-fuzz", "--locked"]))
}
