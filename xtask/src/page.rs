//! `cargo xtask page`: builds the onboarding page into one directory the
//! API serves with `--static-dir`: `frontend` for wasm32 (release) →
//! wasm-bindgen (`--target web`) → wasm-opt `-Oz` (npm binaryen) → the
//! static files from `frontend/static/`. No trunk: these three tools are
//! all trunk would run, and trunk costs a 6-minute `cargo install` on every
//! fresh machine.
//!
//! The generation worker (`worker.js`) loads the same module as the page
//! (`main.js`), so there is one wasm file to build, cache and measure.

use std::{
    path::{Path, PathBuf},
    process::Command,
    time::Instant,
};

use anyhow::{Context, Result, bail};

use crate::{cmd::run, project::Project, wasm};

/// The crate's library name, which names the wasm-bindgen outputs.
const CRATE_NAME: &str = "marshal_frontend";
/// The cargo profile (workspace Cargo.toml): release, tuned for size.
const PROFILE: &str = "page";
/// Copied as they are next to the generated JS and wasm.
const STATIC_DIR: &str = "frontend/static";
/// The wasm-opt features: what rustc's wasm32 target emits by default, so
/// wasm-opt neither refuses the input nor adds features browsers lack.
const WASM_FEATURES: &[&str] = &[
    "--enable-bulk-memory",
    "--enable-mutable-globals",
    "--enable-nontrapping-float-to-int",
    "--enable-reference-types",
    "--enable-sign-ext",
    "--enable-multivalue",
];

/// Builds the page into [`Project::page_dir`] and prints its sizes.
pub(crate) fn build(project: &Project) -> Result<PathBuf> {
    let started = Instant::now();
    // `cargo rustc` makes the cdylib only here; the crate stays an rlib for
    // native builds, which then link no shared library nobody loads.
    run(&mut project.cargo(&[
        "rustc",
        "-p",
        "marshal-frontend",
        "--lib",
        "--profile",
        PROFILE,
        "--locked",
        "--target",
        wasm::TARGET,
        "--crate-type",
        "cdylib",
    ]))?;
    let wasm_in = project
        .target_dir
        .join(wasm::TARGET)
        .join(PROFILE)
        .join(format!("{CRATE_NAME}.wasm"));

    // Built in a fresh staging directory and swapped in, so a running
    // server never serves half a build.
    let out = &project.page_dir;
    let staging = out.with_extension("staging");
    remove_dir(&staging)?;
    std::fs::create_dir_all(&staging).with_context(|| format!("creating {}", staging.display()))?;
    run(Command::new("wasm-bindgen")
        .args(["--target", "web", "--no-typescript", "--out-dir"])
        .arg(&staging)
        .arg(&wasm_in))?;

    let bindgen_wasm = staging.join(format!("{CRATE_NAME}_bg.wasm"));
    let wasm_opt = project.wasm_opt();
    if wasm_opt.is_file() {
        run(Command::new(&wasm_opt)
            .arg("-Oz")
            // Safe for Rust's wasm: its data starts at 1 MiB (nothing
            // lives in the low 1 KiB) and the memory is the module's own,
            // zero-filled at start. ~3 KB gzipped.
            .args(["--low-memory-unused", "--zero-filled-memory"])
            .args(WASM_FEATURES)
            .arg(&bindgen_wasm)
            .arg("-o")
            .arg(&bindgen_wasm))?;
    } else {
        println!(
            "skip     wasm-opt ({} missing: `cargo xtask install` brings it)",
            wasm_opt.display()
        );
    }

    let static_dir = project.root.join(STATIC_DIR);
    for entry in std::fs::read_dir(&static_dir)
        .with_context(|| format!("reading {}", static_dir.display()))?
    {
        let path = entry?.path();
        if path.is_file() {
            let name = path.file_name().context("a file has a name")?;
            std::fs::copy(&path, staging.join(name))
                .with_context(|| format!("copying {}", path.display()))?;
        }
    }

    remove_dir(out)?;
    std::fs::rename(&staging, out)
        .with_context(|| format!("moving {} to {}", staging.display(), out.display()))?;
    println!(
        "page     {} ({:.1}s)",
        out.display(),
        started.elapsed().as_secs_f64()
    );
    print_sizes(out)?;
    Ok(out.clone())
}

/// Raw and gzipped (`gzip -9`) size of what a browser downloads: the wasm,
/// the JS, the CSS and the HTML.
pub(crate) fn print_sizes(dir: &Path) -> Result<()> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("reading {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| matches!(e, "wasm" | "js" | "css" | "html"))
        })
        .collect();
    files.sort();
    let (mut raw_total, mut gz_total) = (0, 0);
    for file in &files {
        let raw = std::fs::metadata(file)?.len();
        let gz = gzipped_size(file)?;
        raw_total += raw;
        gz_total += gz;
        println!(
            "size     {:<28} {:>9} B raw {:>9} B gzip",
            file.file_name().and_then(|n| n.to_str()).unwrap_or("?"),
            raw,
            gz
        );
    }
    println!(
        "size     {:<28} {:>9} B raw {:>9} B gzip ({:.0} KB gzipped; ceiling 400 KB)",
        "total",
        raw_total,
        gz_total,
        gz_total as f64 / 1000.0
    );
    Ok(())
}

fn gzipped_size(file: &Path) -> Result<u64> {
    let output = Command::new("gzip")
        .args(["-9", "-c"])
        .arg(file)
        .output()
        .context("could not run gzip")?;
    if !output.status.success() {
        bail!("gzip {} failed", file.display());
    }
    Ok(output.stdout.len() as u64)
}

fn remove_dir(dir: &Path) -> Result<()> {
    match std::fs::remove_dir_all(dir) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e).with_context(|| format!("removing {}", dir.display())),
    }
}
