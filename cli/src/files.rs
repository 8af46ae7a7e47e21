//! Reading inputs and writing outputs: size limits, passwords from stdin, and
//! all-or-nothing writes with private keys at mode 0600.

use std::{
    fs,
    io::{BufRead, Write},
    path::{Path, PathBuf},
};

use zeroize::Zeroizing;

use crate::outcome::Failure;

/// Inputs larger than this are refused: no certificate or PKCS#12 file is this big.
const MAX_INPUT_BYTES: u64 = 10 * 1024 * 1024;

/// Reads an input file, refusing directories and oversized files.
pub(crate) fn read_input(path: &Path) -> Result<Vec<u8>, Failure> {
    let meta = fs::metadata(path).map_err(|e| {
        Failure::input(
            "unreadable_input",
            format!("cannot read {}: {e}", path.display()),
        )
    })?;
    if meta.is_dir() {
        return Err(Failure::input(
            "unreadable_input",
            format!("{} is a directory", path.display()),
        ));
    }
    if meta.len() > MAX_INPUT_BYTES {
        return Err(Failure::input(
            "input_too_large",
            format!(
                "{} is {} bytes; inputs are limited to {MAX_INPUT_BYTES}",
                path.display(),
                meta.len()
            ),
        ));
    }
    fs::read(path).map_err(|e| {
        Failure::input(
            "unreadable_input",
            format!("cannot read {}: {e}", path.display()),
        )
    })
}

/// The password from the first line of stdin when asked, else the empty password.
pub(crate) fn password(from_stdin: bool) -> Result<Zeroizing<String>, Failure> {
    let mut line = Zeroizing::new(String::new());
    if from_stdin {
        std::io::stdin().lock().read_line(&mut line).map_err(|e| {
            Failure::input(
                "unreadable_input",
                format!("cannot read the password from stdin: {e}"),
            )
        })?;
        let trimmed = line.trim_end_matches(['\r', '\n']).len();
        line.truncate(trimmed);
    }
    Ok(line)
}

/// Refuses, unless `force`, when any of `paths` already exists.
pub(crate) fn refuse_existing<'a>(
    mut paths: impl Iterator<Item = &'a Path>,
    force: bool,
) -> Result<(), Failure> {
    match paths.find(|p| p.exists()) {
        Some(existing) if !force => Err(Failure::input(
            "file_exists",
            format!(
                "{} already exists (use --force to overwrite)",
                existing.display()
            ),
        )),
        _ => Ok(()),
    }
}

/// One file to write.
pub(crate) struct Output {
    pub(crate) path: PathBuf,
    pub(crate) contents: Zeroizing<Vec<u8>>,
    /// Private: created with mode 0600.
    pub(crate) secret: bool,
}

/// Writes every output or none: refuses existing files unless `force`, writes
/// each to a temporary file beside it, then renames them all into place.
pub(crate) fn write_all(outputs: &[Output], force: bool) -> Result<(), Failure> {
    Staged::new(outputs, force)?.place()
}

/// Outputs written to temporary files beside their destinations, not yet in
/// place. Two phases so that tests can change the directory in between, as a
/// concurrent writer could.
struct Staged<'a> {
    outputs: &'a [Output],
    temps: Vec<PathBuf>,
    force: bool,
}

impl<'a> Staged<'a> {
    fn new(outputs: &'a [Output], force: bool) -> Result<Staged<'a>, Failure> {
        refuse_existing(outputs.iter().map(|o| o.path.as_path()), force)?;
        let mut temps = Vec::new();
        for output in outputs {
            match write_temp(output) {
                Ok(temp) => temps.push(temp),
                Err(e) => {
                    for t in &temps {
                        let _ = fs::remove_file(t);
                    }
                    return Err(e);
                }
            }
        }
        Ok(Staged {
            outputs,
            temps,
            force,
        })
    }

    fn place(self) -> Result<(), Failure> {
        let _ = self.force;
        for (temp, output) in self.temps.iter().zip(self.outputs) {
            fs::rename(temp, &output.path).map_err(|e| {
                Failure::input(
                    "unwritable_output",
                    format!("cannot write {}: {e}", output.path.display()),
                )
            })?;
        }
        Ok(())
    }
}

fn write_temp(output: &Output) -> Result<PathBuf, Failure> {
    let fail = |e: std::io::Error| {
        Failure::input(
            "unwritable_output",
            format!("cannot write {}: {e}", output.path.display()),
        )
    };
    let dir = output
        .path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = output.path.file_name().ok_or_else(|| {
        Failure::input(
            "unwritable_output",
            format!("{} is not a file name", output.path.display()),
        )
    })?;
    let temp = dir.join(format!(
        ".{}.tmp-{}",
        name.to_string_lossy(),
        std::process::id()
    ));
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(if output.secret { 0o600 } else { 0o644 });
    }
    let mut file = options.open(&temp).map_err(fail)?;
    if let Err(e) = file
        .write_all(&output.contents)
        .and_then(|()| file.sync_all())
    {
        let _ = fs::remove_file(&temp);
        return Err(fail(e));
    }
    Ok(temp)
}

