//! `cargo xtask bench`: native criterion benches, then the same work timed
//! in headless Chromium.

use anyhow::Result;

use crate::{cmd::run, install::install, project::Project, steps::Steps, wasm};

pub(crate) fn bench(project: &Project) -> Result<()> {
    let mut steps = Steps::default();
    let result = run_steps(project, &mut steps);
    steps.print_summary();
    result
}

fn run_steps(project: &Project, steps: &mut Steps) -> Result<()> {
    steps.run("install", || install(project))?;
    project.print_environment();

    steps.run("bench credentials (native)", || {
        run(&mut project.cargo(&["bench", "-p", "marshal-shared", "--bench", "credentials"]))
    })?;
    // Release: the numbers should match what the shipped page does.
    steps.run("bench credentials (headless chromium)", || {
        let mut cmd = project.cargo(&[
            "test",
            "-p",
            "marshal-shared",
            "--target",
            wasm::TARGET,
            "--release",
            "--test",
            "wasm_bench",
            "--",
            "--nocapture",
        ]);
        wasm::use_chromedriver(&mut cmd)?;
        run(&mut cmd)
    })
}
