//! The built page driven in Debian's Chromium, as the page tests
//! (`tests/page_e2e.rs`, `tests/page_signin.rs`) share it: the built page
//! and the Node tools the environment names, a fresh directory for what the
//! browser leaves, a `tests/e2e/*.cjs` script run by node, and failure
//! messages that show the script's `result.json` and the API's log.
//!
//! The scripts share their browser side in `tests/e2e/browser.cjs`.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::api::Api;
use crate::{Cmd, workspace_dir};

/// What a page test needs before it starts any server, and where the
/// browser leaves what it made.
#[derive(Debug)]
pub struct PageTest {
    /// The built page (`MARSHAL_PAGE_DIR`), holding an `index.html`.
    pub built: PathBuf,
    /// `MARSHAL_NODE_MODULES`, with playwright-core and axe-core.
    pub node_modules: PathBuf,
    /// Screenshots, downloads and `result.json`, kept after the test.
    pub artifacts: PathBuf,
}

impl PageTest {
    /// Checks that the built page and the Node tools are there (panicking
    /// with what makes them) and empties `artifacts`, e.g.
    /// `<CARGO_TARGET_TMPDIR>/page-e2e`.
    #[track_caller]
    pub fn prepare(artifacts: PathBuf) -> PageTest {
        let built = env_dir("MARSHAL_PAGE_DIR", "the built page (`cargo xtask page`)");
        assert!(
            built.join("index.html").is_file(),
            "{} holds no index.html: run `cargo xtask page`",
            built.display()
        );
        let node_modules = env_dir(
            "MARSHAL_NODE_MODULES",
            "node_modules with playwright-core and axe-core (`cargo xtask install`)",
        );
        let _ = std::fs::remove_dir_all(&artifacts);
        std::fs::create_dir_all(&artifacts)
            .unwrap_or_else(|e| panic!("cannot create {}: {e}", artifacts.display()));
        PageTest {
            built,
            node_modules,
            artifacts,
        }
    }

    /// `node tests/e2e/<name>` against the page at `page_url`, with
    /// `MARSHAL_PAGE_URL`, `MARSHAL_ARTIFACTS` and `MARSHAL_NODE_MODULES`
    /// set; add the script's own variables with [`BrowserScript::env`].
    pub fn script(&self, name: &str, page_url: &str) -> BrowserScript {
        let cmd = Cmd::new("node")
            .arg(workspace_dir().join("tests/e2e").join(name))
            .env("MARSHAL_PAGE_URL", page_url)
            .env("MARSHAL_ARTIFACTS", &self.artifacts)
            .env("MARSHAL_NODE_MODULES", &self.node_modules);
        BrowserScript {
            cmd,
            result_json: self.artifacts.join("result.json"),
        }
    }

    /// Prints where the artifacts are and each screenshot in `result`, for
    /// `what` (e.g. "page e2e").
    pub fn print_screenshots(&self, what: &str, result: &Value) {
        eprintln!("{what} artifacts in {}:", self.artifacts.display());
        for shot in result["screenshots"].as_array().into_iter().flatten() {
            eprintln!("  {}", shot.as_str().unwrap_or_default());
        }
    }
}

/// Copies the built page from `from` into `to` as a deployment has it:
/// the `<meta>` policy's connect-src gains the sign-in provider at `idp_url`
/// (as `cargo xtask deploy-page` does, unit-tested there), and a
/// `config.json` names the API and the provider's public client `client_id`.
pub fn deployed_copy(from: &Path, to: &Path, api_url: &str, idp_url: &str, client_id: &str) {
    let entries =
        std::fs::read_dir(from).unwrap_or_else(|e| panic!("cannot read {}: {e}", from.display()));
    for path in entries.filter_map(|e| e.ok().map(|e| e.path())) {
        if let (true, Some(name)) = (path.is_file(), path.file_name()) {
            std::fs::copy(&path, to.join(name))
                .unwrap_or_else(|e| panic!("cannot copy {}: {e}", path.display()));
        }
    }
    let index = to.join("index.html");
    let html = std::fs::read_to_string(&index)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", index.display()));
    assert_eq!(
        html.matches("connect-src 'self'").count(),
        1,
        "the built index.html's CSP changed shape:\n{html}"
    );
    let html = html.replace(
        "connect-src 'self'",
        &format!("connect-src 'self' {idp_url}"),
    );
    let config = serde_json::json!({
        "apiUrl": api_url,
        "auth": { "issuer": idp_url, "clientId": client_id, "signInUrl": idp_url },
    });
    for (file, text) in [("index.html", html), ("config.json", config.to_string())] {
        std::fs::write(to.join(file), text)
            .unwrap_or_else(|e| panic!("cannot write {file} in {}: {e}", to.display()));
    }
}

/// A browser script to run once; see [`PageTest::script`].
#[derive(Debug)]
pub struct BrowserScript {
    cmd: Cmd,
    result_json: PathBuf,
}

impl BrowserScript {
    pub fn env(mut self, key: impl AsRef<OsStr>, value: impl AsRef<OsStr>) -> Self {
        self.cmd = self.cmd.env(key, value);
        self
    }

    /// Runs the script; returns its `result.json`. When the script fails,
    /// panics with its command, status, output and `result.json`.
    #[track_caller]
    pub fn run(&self) -> Value {
        let run = self.cmd.run();
        let result = read_result(&self.result_json);
        if !run.status.success() {
            run.fail(format_args!(
                "the browser script failed; its result.json:\n{}",
                pretty(&result)
            ));
        }
        result
    }
}

/// `result.json`, or null when the script wrote none or half of one.
fn read_result(path: &Path) -> Value {
    std::fs::read_to_string(path)
        .ok()
        .and_then(|text| serde_json::from_str(&text).ok())
        .unwrap_or(Value::Null)
}

/// For a failing page assertion: the script's `result`, each of `sections`
/// (title, text), then the API's last 30 log lines, newest first.
pub fn explain(result: &Value, sections: &[(&str, String)], api: &Api) -> String {
    let mut text = format!("--- result.json ---\n{}", pretty(result));
    for (title, body) in sections {
        text.push_str(&format!("\n--- {title} ---\n{body}"));
    }
    let log = api.log();
    let tail: Vec<&str> = log.lines().rev().take(30).collect();
    text.push_str(&format!("\n--- API log (tail) ---\n{}", tail.join("\n")));
    text
}

/// axe-core violations (as the scripts report them) that are serious or
/// critical.
pub fn serious_violations(violations: &Value) -> Vec<&Value> {
    violations
        .as_array()
        .into_iter()
        .flatten()
        .filter(|v| matches!(v["impact"].as_str(), Some("serious" | "critical")))
        .collect()
}

fn pretty(value: &Value) -> String {
    serde_json::to_string_pretty(value).unwrap_or_default()
}

/// The directory environment variable `name` names; panics saying what it
/// must hold.
fn env_dir(name: &str, what: &str) -> PathBuf {
    let dir = std::env::var_os(name)
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            panic!("{name} is not set: it must name {what}. `cargo xtask test` sets it.")
        });
    assert!(
        dir.is_dir(),
        "{name}={} does not exist ({what})",
        dir.display()
    );
    dir
}
