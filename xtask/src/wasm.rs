//! The `wasm32-unknown-unknown` target: which crates build for it and how
//! their tests reach headless Chromium.

use std::{path::PathBuf, process::Command};

use anyhow::{Result, bail};

use crate::cmd::which;

pub(crate) const TARGET: &str = "wasm32-unknown-unknown";

/// A crate that must build for the browser, and the cargo arguments that
/// select its `wasm-bindgen-test` tests, run in headless Chromium.
#[derive(Debug)]
pub(crate) struct WasmCrate {
    pub(crate) package: &'static str,
    pub(crate) browser_tests: &'static [&'static str],
}

/// Checked for wasm32 on their own: a crate built alone can miss a feature
/// (getrandom's `wasm_js`) that another crate in a bigger build hides.
pub(crate) const CRATES: &[WasmCrate] = &[
    WasmCrate {
        package: "marshal-shared",
        browser_tests: &["--test", "wasm"],
    },
    // The page's browser tests sit beside the private components they render.
    WasmCrate {
        package: "marshal-frontend",
        browser_tests: &["--lib"],
    },
];

/// Points `wasm-bindgen-test-runner` (the wasm32 cargo runner) at chromedriver,
/// leaving any value the caller already set.
pub(crate) fn use_chromedriver(cmd: &mut Command) -> Result<()> {
    if std::env::var_os("CHROMEDRIVER").is_none() {
        cmd.env("CHROMEDRIVER", chromedriver()?);
    }
    if std::env::var_os("WASM_BINDGEN_TEST_TIMEOUT").is_none() {
        // The default (20 s) is tight for RSA work in unoptimised wasm on 2 cores.
        cmd.env("WASM_BINDGEN_TEST_TIMEOUT", "120");
    }
    Ok(())
}

fn chromedriver() -> Result<PathBuf> {
    if let Some(path) = which("chromedriver") {
        return Ok(path);
    }
    let debian = PathBuf::from("/usr/bin/chromedriver");
    if debian.is_file() {
        return Ok(debian);
    }
    bail!("chromedriver not found on PATH: run `cargo xtask install`")
}
