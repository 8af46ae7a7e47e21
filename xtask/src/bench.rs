//! `cargo xtask bench`: native criterion benches, the same work timed in
//! headless Chromium, the page's gzipped size and its timings end to end,
//! then the API against moto (release build) with the boto3 floor beside
//! it, and 60 s of load from 50 clients. Each prints its figures; none
//! asserts on time.

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
    // The page as a user drives it: click → certificate ID (P-256, RSA-2048
    // with WebCrypto), and 1,000 P-256 credentials made and zipped with the
    // page's longest stall meanwhile. Printed by the end-to-end test.
    steps.run("page timings (end to end in headless chromium)", || {
        run(&mut project.cargo(&[
            "build",
            "-p",
            "marshal-lambda",
            "-p",
            "marshal-cli",
            "--bins",
        ]))?;
        run(&mut project.cargo(&[
            "test",
            "-p",
            "marshal-tests",
            "--test",
            "page_e2e",
            "--",
            "--nocapture",
        ]))
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
    })?;
    // The inventory of 10,000 and rotation across 4 targets (against moto,
    // 25 ms per AWS call for rotation), beside the same rotation by hand.
    steps.run(
        "bench inventory and rotation (release, against moto)",
        || {
            run(&mut project.cargo(&[
                "test",
                "--release",
                "-p",
                "marshal-tests",
                "--test",
                "ledger_bench",
                "--",
                "--ignored",
                "--nocapture",
                "--test-threads",
                "1",
            ]))
        },
    )?;
    // A factory job of 10,000 certificates × 2 targets against a modelled
    // AWS IoT budget of 10 calls per second per account and API, its
    // worker killed halfway; then a batch through `register --batch`
    // against the same budget, for comparison.
    steps.run(
        "bench factory job 10,000 × 2 (against moto behind a throttle model)",
        || {
            run(project
                .cargo(&[
                    "test",
                    "--release",
                    "-p",
                    "marshal-tests",
                    "--test",
                    "api_jobs_pace",
                    "--",
                    "--include-ignored",
                    "--nocapture",
                    "--test-threads",
                    "1",
                ])
                .env("MARSHAL_JOB_PACE_CERTIFICATES", "10000")
                .env("MARSHAL_JOB_PACE_ASSERT", "1")
                .env("MARSHAL_JOB_BATCH_CERTIFICATES", "1000"))
        },
    )?;
    // A job's file read, checked and stored as chunks, in memory: the
    // worker's time and memory per certificate before any registration.
    steps.run(
        "bench split of 100,000 certificates (release, in memory)",
        || {
            run(&mut project.cargo(&[
                "test",
                "--release",
                "-p",
                "marshal-lambda",
                "--test",
                "jobs",
                "--",
                "--ignored",
                "--nocapture",
            ]))
        },
    )?;
    // The fan-out alone, with AWS answering in parallel (in memory).
    steps.run(
        "bench API fan-out (release, in-memory AWS, 25 ms per call)",
        || {
            run(&mut project.cargo(&[
                "test",
                "--release",
                "-p",
                "marshal-lambda",
                "--test",
                "fanout",
                "--",
                "--ignored",
                "--nocapture",
            ]))
        },
    )?;
    // The load test as the suite runs it, for 60 s on the release build:
    // requests per second, p50/p99 and the API's peak memory.
    steps.run("load: 50 clients for 60 s (release, against moto)", || {
        run(project
            .cargo(&[
                "test",
                "--release",
                "-p",
                "marshal-tests",
                "--test",
                "api_load",
                "--",
                "--nocapture",
            ])
            .env("MARSHAL_LOAD_SECONDS", "60"))
    })
}
