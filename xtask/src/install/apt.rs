//! Debian packages: checked with dpkg-query, installed with apt-get.

use std::process::Command;

use anyhow::{Result, bail};

use super::{installing, present};
use crate::cmd::{probe, run, which};

/// What the builds and tests need from Debian.
const PACKAGES: &[&str] = &[
    // ring's C code for wasm32-unknown-unknown.
    "clang",
    // Headless browser and WebDriver for wasm-bindgen-test and page tests.
    "chromium",
    "chromium-driver",
    // Cross-checking our crypto with a different implementation.
    "openssl",
    // A local MQTT broker for the device mTLS tests.
    "mosquitto",
    "mosquitto-clients",
    "unzip",
    // zbarimg: the frontend's QR tests decode our codes with a different reader.
    "zbar-tools",
    // wasm-opt (npm binaryen) and Playwright for the page (see node.rs);
    // npm is added below only when missing: NodeSource's nodejs carries its
    // own npm and conflicts with Debian's.
    "nodejs",
    // A Japanese font, so screenshots of the page in Japanese are readable
    // (headless Chromium draws boxes without one; users' browsers have one).
    "fonts-ipafont-gothic",
    // Amazon Root CA 1.
    "ca-certificates",
];

pub(super) fn ensure_packages() -> Result<()> {
    let mut wanted: Vec<&str> = PACKAGES.to_vec();
    // pyenv's and most other Pythons bring venv; Debian's splits it out.
    let has_venv = probe(Command::new("python3").args(["-m", "venv", "--help"])).is_some();
    if !has_venv {
        wanted.push("python3-venv");
    }
    if which("npm").is_none() {
        wanted.push("npm");
    }
    let missing: Vec<&str> = wanted.iter().copied().filter(|p| !installed(p)).collect();
    if missing.is_empty() {
        present(&format!("debian packages: {}", wanted.join(" ")));
        return Ok(());
    }
    installing(&format!("debian packages: {}", missing.join(" ")));
    run(apt_get(&missing)?.arg("update"))?;
    run(apt_get(&missing)?
        .args(["install", "-y", "--no-install-recommends"])
        .args(&missing))
}

fn installed(package: &str) -> bool {
    probe(Command::new("dpkg-query").args(["-W", "-f=${Status}", package]))
        .is_some_and(|status| status.trim() == "install ok installed")
}

/// `apt-get`, as root directly or through sudo, non-interactive.
fn apt_get(missing: &[&str]) -> Result<Command> {
    if which("apt-get").is_none() {
        bail!(
            "missing {}, and no apt-get: `cargo xtask install` supports Debian-based machines only",
            missing.join(" ")
        );
    }
    let root = probe(Command::new("id").arg("-u")).is_some_and(|uid| uid.trim() == "0");
    if root {
        let mut cmd = Command::new("apt-get");
        cmd.env("DEBIAN_FRONTEND", "noninteractive");
        return Ok(cmd);
    }
    if which("sudo").is_none() {
        bail!(
            "missing Debian packages {0}: install them as root \
             (apt-get install {0}) or install sudo",
            missing.join(" ")
        );
    }
    // `env` carries DEBIAN_FRONTEND through sudo's environment reset.
    let mut cmd = Command::new("sudo");
    cmd.args(["env", "DEBIAN_FRONTEND=noninteractive", "apt-get"]);
    Ok(cmd)
}
