//! The Node packages the page's build and browser tests use (wasm-opt from
//! npm `binaryen`, `playwright-core`, `axe-core`) and the local OpenID
//! provider of `cargo xtask dev --auth` and the token tests
//! (`oidc-provider`), installed from
//! `tests/e2e/package.json` into a project-local directory outside the work
//! tree. Node and npm themselves come from Debian (see `apt.rs`).

use std::process::Command;

use anyhow::{Context, Result};

use super::{installing, present};
use crate::{cmd::run, project::Project};

/// A copy of the package.json last installed, so an unchanged file costs nothing.
const STAMP: &str = "marshal-package.json";

pub(super) fn ensure_packages(project: &Project) -> Result<()> {
    let manifest = project.node_manifest();
    let wanted = std::fs::read_to_string(&manifest)
        .with_context(|| format!("reading {}", manifest.display()))?;
    let dir = &project.node_dir;
    let stamp = dir.join(STAMP);
    let what = format!("node packages in {}", dir.display());
    let installed = std::fs::read_to_string(&stamp).ok();
    if installed.as_deref() == Some(wanted.as_str()) && project.wasm_opt().is_file() {
        present(&what);
        return Ok(());
    }
    installing(&what);
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    std::fs::write(dir.join("package.json"), &wanted)
        .with_context(|| format!("writing {}/package.json", dir.display()))?;
    run(Command::new("npm")
        .args([
            "install",
            "--no-audit",
            "--no-fund",
            "--no-package-lock",
            "--ignore-scripts",
        ])
        .current_dir(dir))?;
    std::fs::write(&stamp, &wanted).with_context(|| format!("writing {}", stamp.display()))
}
