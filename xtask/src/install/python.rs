//! The Python virtualenv for the tests' helpers (moto server and friends),
//! holding exactly what `tests/requirements.txt` lists.

use std::process::Command;

use anyhow::{Context, Result};

use super::{installing, present};
use crate::{
    cmd::{probe, run},
    project::Project,
};

/// A copy of the requirements last installed, kept inside the virtualenv, so
/// an unchanged file costs nothing and a changed one rebuilds.
const STAMP: &str = "marshal-requirements.txt";

pub(super) fn ensure_venv(project: &Project) -> Result<()> {
    let requirements = project.requirements();
    let wanted = std::fs::read_to_string(&requirements)
        .with_context(|| format!("reading {}", requirements.display()))?;
    let stamp = project.venv.join(STAMP);
    let what = format!("python virtualenv {}", project.venv.display());

    let python_works = probe(Command::new(project.python()).arg("--version")).is_some();
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
        .arg(&project.venv))?;
    run(Command::new(project.python())
        .args([
            "-m",
            "pip",
            "install",
            "--disable-pip-version-check",
            "--requirement",
        ])
        .arg(&requirements))?;
    std::fs::write(&stamp, &wanted).with_context(|| format!("writing {}", stamp.display()))
}
