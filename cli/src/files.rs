//! Reading inputs and writing outputs: size limits, passwords from stdin, and
//! all-or-nothing writes with private keys at mode 0600.

mod output;

pub(crate) use output::{Output, refuse_existing, write_all};

use std::{fs, io::BufRead, path::Path};

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
