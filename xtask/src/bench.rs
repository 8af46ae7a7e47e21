//! `cargo xtask bench`: native criterion benches, the same work timed in
//! headless Chromium, the page's gzipped size, then the API against moto (release build) with the
//! boto3 floor beside it. Each prints its figures; none asserts on time.

use anyhow::Result;

use crate::{cmd::run, install::install, page, project::Project, steps::Steps, wasm};

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
    })?;
    // The page's download size: built as shipped, sizes printed raw and gzipped.
    steps.run("page size (wasm + JS + CSS + HTML, gzipped)", || {
        page::build(project).map(drop)
    })?;
    steps.run("bench API onboarding (release, against moto)", || {
        run(&mut project.cargo(&[
            "build",
            "--release",
            "-p",
            "marshal-lambda",
            "-p",
            "marshal-cli",
        ]))?;
        run(&mut project.cargo(&[
            "test",
            "--release",
            "-p",
            "marshal-tests",
            "--test",
            "api_bench",
            "--",
            "--ignored",
            "--nocapture",
        ]))
    })
}
