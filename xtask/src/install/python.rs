//! Python virtualenvs, each holding exactly what its requirements file lists:
//! the tests' helpers (moto server and friends), the deploy tooling and
//! checkov. Kept apart because their pins clash (boto3 above all).

use std::process::Command;

use anyhow::{Context, Result};

use super::{installing, present};
use crate::{
    cmd::{probe, run},
    project::{Project, Venv},
};

/// A copy of the requirements last installed, kept inside the virtualenv, so
/// an unchanged file costs nothing and a changed one rebuilds.
const STAMP: &str = "marshal-requirements.txt";

pub(super) fn ensure_venvs(project: &Project) -> Result<()> {
    project.venvs().into_iter().try_for_each(ensure_venv)
}

fn ensure_venv(venv: &Venv) -> Result<()> {
    let wanted = std::fs::read_to_string(&venv.requirements)
        .with_context(|| format!("reading {}", venv.requirements.display()))?;
    let stamp = venv.dir.join(STAMP);
    let what = format!(
        "python virtualenv {} ({})",
        venv.dir.display(),
        venv.requirements.display()
    );

    let python_works = probe(Command::new(venv.python()).arg("--version")).is_some();
    let installed = std::fs::read_to_string(&stamp).ok();
    if python_works && installed.as_deref() == Some(wanted.as_str()) {
        present(&what);
        return Ok(());
    }

    installing(&what);
    // Rebuilt from empty rather than upgraded in place, so a package dropped
    // from the file is dropped from the virtualenv too.
    run(Command::new("python3")
        .args(["-m", "venv", "--clear"])
        .arg(&venv.dir))?;
    run(Command::new(venv.python())
        .args([
            "-m",
            "pip",
            "install",
            "--disable-pip-version-check",
            "--requirement",
        ])
        .arg(&venv.requirements))?;
    std::fs::write(&stamp, &wanted).with_context(|| format!("writing {}", stamp.display()))
}
