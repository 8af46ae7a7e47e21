//! What the native tests share: scratch folders and running the
//! independent tools (unzip, openssl, zbarimg, python3) that check our output.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

/// A folder under the system temp dir, removed when dropped.
pub(crate) struct TempDir(pub(crate) PathBuf);

impl TempDir {
    pub(crate) fn new(label: &str) -> Self {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!(
            "marshal-frontend-{label}-{}-{n}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }

    pub(crate) fn write(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let path = self.0.join(name);
        std::fs::write(&path, bytes).unwrap();
        path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs `program args`, panicking with everything it printed unless it
/// succeeds; returns its standard output.
pub(crate) fn run(program: &str, args: &[&str]) -> String {
    let output = Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| {
            panic!("could not start `{program}` ({e}); `cargo xtask install` installs it")
        });
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "`{program} {}` failed ({})\n--- stdout\n{stdout}\n--- stderr\n{}",
        args.join(" "),
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

/// A fixture of `shared/tests/examples` as if the user had picked it. The
/// directory is found at run time: cargo sets `CARGO_MANIFEST_DIR` for
/// test processes.
pub(crate) fn example(name: &str) -> crate::importing::PickedFile {
    let manifest = std::env::var("CARGO_MANIFEST_DIR")
        .unwrap_or_else(|_| env!("CARGO_MANIFEST_DIR").to_owned());
    let path = format!("{manifest}/../shared/tests/examples/{name}");
    crate::importing::PickedFile {
        name: name.to_owned(),
        bytes: zeroize::Zeroizing::new(std::fs::read(&path).unwrap()),
    }
}

/// openssl's SHA-256 fingerprint of the certificate at `path`, as AWS IoT
/// writes certificate IDs (lowercase hex, no colons).
pub(crate) fn openssl_certificate_id(path: &str) -> String {
    run(
        "openssl",
        &["x509", "-in", path, "-noout", "-fingerprint", "-sha256"],
    )
    .trim()
    .rsplit('=')
    .next()
    .unwrap_or_default()
    .replace(':', "")
    .to_ascii_lowercase()
}
