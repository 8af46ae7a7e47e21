//! `cargo xtask test`: everything CI checks, fastest feedback first.

use anyhow::Result;

use crate::{cmd::run, deploy, fuzz, install::install, page, project::Project, steps::Steps, wasm};

pub(crate) fn test(project: &Project) -> Result<()> {
    let mut steps = Steps::default();
    let result = run_steps(project, &mut steps);
    steps.print_summary();
    result
}

fn run_steps(project: &Project, steps: &mut Steps) -> Result<()> {
    steps.run("install", || install(project))?;
    project.print_environment();

    steps.run("fmt", || {
        run(&mut project.cargo(&["fmt", "--all", "--", "--check"]))
    })?;
    steps.run("clippy", || {
        run(&mut project.cargo(&[
            "clippy",
            "--workspace",
            "--all-targets",
            "--locked",
            "--",
            "-D",
            "warnings",
        ]))
    })?;
    for krate in wasm::CRATES {
        let name = format!("clippy {} ({})", krate.package, wasm::TARGET);
        steps.run(&name, || {
            run(&mut project.cargo(&[
                "clippy",
                "-p",
                krate.package,
                "--target",
                wasm::TARGET,
                "--lib",
                "--tests",
                "--locked",
                "--",
                "-D",
                "warnings",
            ]))
        })?;
    }
    // Once, before the tests: tests/tests/page_e2e.rs serves this build
    // (MARSHAL_PAGE_DIR) and prints its sizes.
    steps.run("build the page", || page::build(project).map(drop))?;
    // Binaries first: the black-box tests in tests/ run the built `marshal`.
    // Building the tests in the same invocation unifies dev-dependency
    // features, so `cargo test` below reuses every artifact instead of
    // compiling ring & co. a second time with other features.
    steps.run("build binaries and tests", || {
        run(&mut project.cargo(&["build", "--workspace", "--bins", "--tests", "--locked"]))
    })?;
    steps.run("test", || {
        run(&mut project.cargo(&["test", "--workspace", "--locked"]))
    })?;
    // Each target a few seconds from the committed corpus (regressions
    // included); long runs are `cargo xtask fuzz`, reported, not in CI.
    steps.run("fuzz targets (committed corpus + a few seconds)", || {
        fuzz::test_step(project)
    })?;
    // Seconds each, no AWS account: the deploy templates.
    deploy::template_steps(project, steps)?;
    for krate in wasm::CRATES {
        let name = format!("test {} in headless chromium", krate.package);
        steps.run(&name, || {
            let mut args = vec!["test", "-p", krate.package, "--target", wasm::TARGET];
            args.extend(krate.browser_tests);
            args.push("--locked");
            let mut cmd = project.cargo(&args);
            wasm::use_chromedriver(&mut cmd)?;
            run(&mut cmd)
        })?;
    }
    // Last, being the slowest: a cross build of the whole API for arm64
    // (about 11 minutes cold on two cores, seconds when nothing changed).
    deploy::lambda_step(project, steps)
}
