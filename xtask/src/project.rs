//! Where the workspace, build cache and Python virtualenvs live, and the
//! environment every child cargo command gets.

use std::{path::PathBuf, process::Command};

use anyhow::{Context, Result};

/// Locations shared by all workflows.
#[derive(Debug)]
pub(crate) struct Project {
    /// The workspace root (holds `Cargo.lock`).
    pub(crate) root: PathBuf,
    /// `CARGO_TARGET_DIR` for child cargo commands: outside the work tree
    /// so repeated CI runs on one machine reuse builds.
    pub(crate) target_dir: PathBuf,
    /// The tests' helpers (moto, cryptography): `tests/requirements.txt`.
    pub(crate) venv: Venv,
    /// The deploy tooling (SAM CLI, cfn-lint, AWS CLI, cargo-lambda, zig).
    pub(crate) deploy_venv: Venv,
    /// checkov, whose pins clash with SAM CLI's.
    pub(crate) checkov_venv: Venv,
    /// `node_modules` for `tests/e2e/package.json` lives here.
    pub(crate) node_dir: PathBuf,
    /// The built page (`cargo xtask page`), served by the API's `--static-dir`.
    pub(crate) page_dir: PathBuf,
}

/// A Python virtualenv holding exactly what one requirements file lists.
#[derive(Debug)]
pub(crate) struct Venv {
    /// Where it lives.
    pub(crate) dir: PathBuf,
    /// The requirements file it holds.
    pub(crate) requirements: PathBuf,
}

impl Venv {
    /// Its interpreter.
    pub(crate) fn python(&self) -> PathBuf {
        self.dir.join("bin/python")
    }

    /// Its `bin/` directory: the tools its packages install.
    pub(crate) fn bin(&self) -> PathBuf {
        self.dir.join("bin")
    }
}

impl Project {
    pub(crate) fn locate() -> Result<Self> {
        // xtask/ sits directly in the workspace root. `cargo run` sets
        // CARGO_MANIFEST_DIR at run time; the compile-time value would name
        // whichever checkout built xtask into a shared target dir first
        // (cargo does not rebuild when only the checkout moves).
        let manifest = std::env::var_os("CARGO_MANIFEST_DIR")
            .map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")), PathBuf::from);
        let root = manifest
            .parent()
            .context("xtask's manifest directory has no parent")?
            .to_path_buf();
        let cache = home()?.join(".cache/marshal");
        let target_dir = env_path("CARGO_TARGET_DIR")?.unwrap_or_else(|| cache.join("target"));
        let venv = |variable: &str, default: &str, requirements: &str| -> Result<Venv> {
            Ok(Venv {
                dir: env_path(variable)?.unwrap_or_else(|| cache.join(default)),
                requirements: root.join(requirements),
            })
        };
        let node_dir = env_path("MARSHAL_NODE_DIR")?.unwrap_or_else(|| cache.join("node"));
        let page_dir = target_dir.join("page");
        Ok(Self {
            venv: venv("MARSHAL_VENV", "venv", "tests/requirements.txt")?,
            deploy_venv: venv(
                "MARSHAL_DEPLOY_VENV",
                "venv-deploy",
                "deploy/requirements.txt",
            )?,
            checkov_venv: venv(
                "MARSHAL_CHECKOV_VENV",
                "venv-checkov",
                "deploy/requirements-checkov.txt",
            )?,
            root,
            target_dir,
            node_dir,
            page_dir,
        })
    }

    /// The tests' interpreter, handed to tests as `MARSHAL_PYTHON`.
    pub(crate) fn python(&self) -> PathBuf {
        self.venv.python()
    }

    /// Every virtualenv `install` makes.
    pub(crate) fn venvs(&self) -> [&Venv; 3] {
        [&self.venv, &self.deploy_venv, &self.checkov_venv]
    }

    /// The Node packages' manifest.
    pub(crate) fn node_manifest(&self) -> PathBuf {
        self.root.join("tests/e2e/package.json")
    }

    /// `node_modules` of [`Project::node_dir`], handed to tests as `MARSHAL_NODE_MODULES`.
    pub(crate) fn node_modules(&self) -> PathBuf {
        self.node_dir.join("node_modules")
    }

    /// binaryen's `wasm-opt` from npm (Debian's is too old for wasm-bindgen's output).
    pub(crate) fn wasm_opt(&self) -> PathBuf {
        self.node_modules().join(".bin/wasm-opt")
    }

    /// `cargo <args>` in the workspace root with the project's environment.
    pub(crate) fn cargo(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new("cargo");
        // What `cargo run` set for xtask itself must not reach the child's
        // build scripts: ring's tracks CARGO_MANIFEST_DIR, so a build from
        // xtask and one from a plain shell would each recompile ring and
        // everything above it (minutes on two cores).
        for (name, _) in std::env::vars_os() {
            if name.to_str().is_some_and(set_by_cargo_run) {
                cmd.env_remove(name);
            }
        }
        cmd.args(args)
            .current_dir(&self.root)
            .env("CARGO_TARGET_DIR", &self.target_dir)
            .env("MARSHAL_PYTHON", self.python())
            .env("MARSHAL_DEPLOY_PYTHON", self.deploy_venv.python())
            .env("MARSHAL_NODE_MODULES", self.node_modules())
            .env("MARSHAL_PAGE_DIR", &self.page_dir);
        cmd
    }

    /// Prints the environment child commands get, for reading CI logs.
    pub(crate) fn print_environment(&self) {
        println!("CARGO_TARGET_DIR={}", self.target_dir.display());
        println!("MARSHAL_PYTHON={}", self.python().display());
        println!(
            "MARSHAL_DEPLOY_PYTHON={}",
            self.deploy_venv.python().display()
        );
        println!("MARSHAL_NODE_MODULES={}", self.node_modules().display());
        println!("MARSHAL_PAGE_DIR={}", self.page_dir.display());
    }
}

/// Variables `cargo run` gives the program it runs (here: xtask).
fn set_by_cargo_run(name: &str) -> bool {
    name.starts_with("CARGO_PKG_")
        || matches!(
            name,
            "CARGO_MANIFEST_DIR"
                | "CARGO_MANIFEST_PATH"
                | "CARGO_CRATE_NAME"
                | "CARGO_BIN_NAME"
                | "CARGO_PRIMARY_PACKAGE"
        )
}

fn home() -> Result<PathBuf> {
    env_path("HOME")?.context("HOME is not set")
}

/// A non-empty path from the environment, made absolute so it means the same
/// in every child's working directory.
fn env_path(name: &str) -> Result<Option<PathBuf>> {
    match std::env::var_os(name) {
        Some(value) if !value.is_empty() => {
            let path = std::path::absolute(&value)
                .with_context(|| format!("{name}={} is not a usable path", value.display()))?;
            Ok(Some(path))
        }
        _ => Ok(None),
    }
}
