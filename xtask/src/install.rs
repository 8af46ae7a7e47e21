//! `cargo xtask install`: make a bare Debian machine ready to build and test,
//! idempotently, printing one line per thing checked or done.

mod apt;
mod cargo_fuzz;
mod node;
mod python;
mod rust_toolchain;
mod wasm_bindgen;

use anyhow::Result;

use crate::project::Project;

pub(crate) use cargo_fuzz::ensure as ensure_cargo_fuzz;

pub(crate) fn install(project: &Project) -> Result<()> {
    // Debian first: the virtualenv may need python3-venv.
    apt::ensure_packages()?;
    rust_toolchain::ensure_target_and_components()?;
    wasm_bindgen::ensure_cli(project)?;
    cargo_fuzz::ensure()?;
    python::ensure_venvs(project)?;
    node::ensure_packages(project)?;
    Ok(())
}

/// The line printed for something already in place.
fn present(what: &str) {
    println!("ok       {what}");
}

/// The line printed before changing the machine.
fn installing(what: &str) {
    println!("install  {what}");
}

/// The line printed for something that cannot be checked yet.
fn skipping(what: &str) {
    println!("skip     {what}");
}
