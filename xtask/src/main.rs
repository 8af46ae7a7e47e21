//! `cargo xtask`: Marshal's workflows as code, so CI and developers run the same steps.

mod bench;
mod cmd;
mod deploy;
mod dev;
mod fuzz;
mod install;
mod lockfile;
mod page;
mod project;
mod services;
mod steps;
mod test;
mod wasm;

use std::process::ExitCode;

use anyhow::{Result, bail};

use crate::project::Project;

const USAGE: &str = "\
Usage: cargo xtask <command>

Commands:
  install   Install what building and testing need, skipping what is present:
            Debian packages (clang, chromium, chromium-driver, openssl,
            mosquitto, ...), the wasm32 and aarch64-unknown-linux-gnu
            targets, clippy and rustfmt, wasm-bindgen-cli at the version in
            Cargo.lock, cargo-fuzz, and three Python virtualenvs:
            tests/requirements.txt, deploy/requirements.txt (SAM CLI,
            cfn-lint, AWS CLI, cargo-lambda, zig) and
            deploy/requirements-checkov.txt.
  test      install, then everything CI checks: fmt, clippy (native and
            wasm32), build, native tests, cfn-lint, sam validate --lint and
            checkov on the deploy templates (offline), every fuzz target for
            a few seconds from its committed corpus, browser tests in
            headless Chromium, and cargo lambda build --release --arm64.
  deploy-check
            install, then only the deploy checks of `test`: cfn-lint,
            sam validate --lint, checkov, cargo lambda build.
  deploy-page --stack NAME [--region REGION]
            After `sam deploy` (DEPLOY.md): build the page as `page` does,
            add the stack's API to its connect-src, write its config.json,
            upload it to the stack's bucket with the AWS CLI and your
            credentials, and invalidate its CloudFront distribution.
  fuzz [--seconds N]
            Install cargo-fuzz if missing, then run every fuzz target of
            fuzz/ (AddressSanitizer, RUSTC_BOOTSTRAP=1 on stable) for N
            seconds each (default 60), from seeds made from
            shared/tests/examples, the regression inputs in
            fuzz/corpus/<target> and what earlier runs found
            ($CARGO_TARGET_DIR/fuzz/corpus), and print
            the executions per target and in total. A crash fails it and
            names the input, kept in fuzz/artifacts/<target>/.
  bench     install, then the criterion benches and the browser bench.
  page      install, then build the onboarding page (wasm32 release,
            wasm-bindgen, wasm-opt) into $CARGO_TARGET_DIR/page and
            print its raw and gzipped sizes.
  dev       install, build, then run locally until Ctrl-C: moto server (fake
            AWS, two accounts × two regions, seeded) on 127.0.0.1:5055 and
            the API (dev/marshal.dev.toml) with the page at
            http://127.0.0.1:8080/.
            Options: --port N (the API), --moto-port N.
            --auth: also a real OpenID provider (npm oidc-provider,
            dev/oidc/provider.mjs) on 127.0.0.1:5056 (--oidc-port N); the
            API checks its tokens (dev/marshal.dev-auth.toml) and the page
            signs in there as alice (factory-a) or bob (factory-b).
  help      This text.

Environment:
  CARGO_TARGET_DIR  where child cargo commands build
                    (default: $HOME/.cache/marshal/target)
  MARSHAL_VENV      the tests' Python virtualenv
                    (default: $HOME/.cache/marshal/venv)
  MARSHAL_DEPLOY_VENV, MARSHAL_CHECKOV_VENV
                    the deploy tooling's and checkov's virtualenvs
                    (default: $HOME/.cache/marshal/venv-deploy, venv-checkov)
";

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("xtask: error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    match args.as_slice() {
        [] | ["help" | "-h" | "--help"] => {
            print!("{USAGE}");
            Ok(())
        }
        ["install"] => install::install(&Project::locate()?),
        ["test"] => test::test(&Project::locate()?),
        ["page"] => {
            let project = Project::locate()?;
            install::install(&project)?;
            page::build(&project).map(drop)
        }
        ["bench"] => bench::bench(&Project::locate()?),
        ["fuzz", options @ ..] => fuzz::fuzz(&Project::locate()?, &fuzz::Options::parse(options)?),
        ["deploy-check"] => deploy::check(&Project::locate()?),
        ["deploy-page", options @ ..] => {
            deploy::deploy_page(&Project::locate()?, &deploy::PageOptions::parse(options)?)
        }
        ["dev", options @ ..] => dev::dev(&Project::locate()?, &dev::Options::parse(options)?),
        _ => {
            eprint!("{USAGE}");
            bail!("unknown arguments: {}", args.join(" "))
        }
    }
}
