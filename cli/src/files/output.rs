//! Writing outputs all or nothing: private temporaries beside the
//! destinations, placed without overwriting unless forced, rolled back on any
//! failure.

use std::{
    fs,
    io::{ErrorKind, Write},
    path::{Path, PathBuf},
};

use zeroize::Zeroizing;

use crate::outcome::Failure;

/// Refuses, unless `force`, when any of `paths` already exists.
pub(crate) fn refuse_existing<'a>(
    mut paths: impl Iterator<Item = &'a Path>,
    force: bool,
) -> Result<(), Failure> {
    match paths.find(|p| p.exists()) {
        Some(existing) if !force => Err(exists(existing)),
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
/// each to a private temporary file beside it, then puts them all in place.
///
/// Without `force` a file is placed with `link` (which fails on an existing
/// name, so a file that appears after the check is never replaced) and the
/// temporary name is then removed; with `force` it is renamed over whatever is
/// there, after keeping a link to the old file. When any step fails, every
/// temporary file is removed and the outputs already placed are taken away
/// again (replaced files restored), so the directory is as it was.
pub(crate) fn write_all(outputs: &[Output], force: bool) -> Result<(), Failure> {
    Staged::new(outputs, force)?.place()
}

/// Outputs written to temporary files beside their destinations, not yet in
/// place. Two phases so that tests can change the directory in between, as a
/// concurrent writer could. Dropping it removes the temporary files, which
/// may hold key material.
struct Staged<'a> {
    outputs: &'a [Output],
    temps: Vec<PathBuf>,
    force: bool,
}

impl Drop for Staged<'_> {
    fn drop(&mut self) {
        for t in &self.temps {
            let _ = fs::remove_file(t);
        }
    }
}

impl<'a> Staged<'a> {
    fn new(outputs: &'a [Output], force: bool) -> Result<Staged<'a>, Failure> {
        refuse_existing(outputs.iter().map(|o| o.path.as_path()), force)?;
        let mut staged = Staged {
            outputs,
            temps: Vec::with_capacity(outputs.len()),
            force,
        };
        for output in outputs {
            // On failure `staged` is dropped, removing the temporaries so far.
            staged.temps.push(write_temp(output)?);
        }
        Ok(staged)
    }

    fn place(self) -> Result<(), Failure> {
        let mut placed = Vec::with_capacity(self.outputs.len());
        let result = self
            .temps
            .iter()
            .zip(self.outputs)
            .try_for_each(|(temp, output)| {
                placed.push(place(temp, output, self.force)?);
                Ok(())
            })
            .and_then(|()| sync_dirs(self.outputs));
        match result {
            Ok(()) => placed.iter().for_each(Placed::keep),
            Err(_) => placed.iter().rev().for_each(Placed::undo),
        }
        result
    }
}

/// An output now at its destination, and how to take it away again.
struct Placed {
    path: PathBuf,
    /// A link to the file it replaced, under `--force`.
    replaced: Option<PathBuf>,
}

impl Placed {
    fn undo(&self) {
        match &self.replaced {
            Some(old) => {
                let _ = fs::rename(old, &self.path);
            }
            None => {
                let _ = fs::remove_file(&self.path);
            }
        }
    }

    fn keep(&self) {
        if let Some(old) = &self.replaced {
            let _ = fs::remove_file(old);
        }
    }
}

/// Puts one staged output in place; on failure nothing of it is in place.
fn place(temp: &Path, output: &Output, force: bool) -> Result<Placed, Failure> {
    let fail = |e: std::io::Error| unwritable(&output.path, e);
    if force {
        // A link to what is there now, to restore on rollback. Best effort:
        // nothing there (the usual case), a directory, or a file system
        // without hard links leave nothing to restore.
        let old = sibling(&output.path, "old")?;
        let replaced = fs::hard_link(&output.path, &old).is_ok().then_some(old);
        if let Err(e) = fs::rename(temp, &output.path) {
            if let Some(old) = &replaced {
                let _ = fs::remove_file(old);
            }
            return Err(fail(e));
        }
        return Ok(Placed {
            path: output.path.clone(),
            replaced,
        });
    }
    match fs::hard_link(temp, &output.path) {
        Ok(()) => {}
        Err(e) if e.kind() == ErrorKind::AlreadyExists => {
            return Err(exists(&output.path));
        }
        // vfat and some network file systems have no hard links (EPERM,
        // EOPNOTSUPP): create the destination exclusively and write it there.
        // Still never overwrites; only a reader could see it half-written.
        Err(e)
            if matches!(
                e.kind(),
                ErrorKind::Unsupported | ErrorKind::PermissionDenied
            ) =>
        {
            write_new(&output.path, output).map_err(|e| match e.kind() {
                ErrorKind::AlreadyExists => exists(&output.path),
                _ => fail(e),
            })?;
        }
        Err(e) => return Err(fail(e)),
    }
    let placed = Placed {
        path: output.path.clone(),
        replaced: None,
    };
    if let Err(e) = fs::remove_file(temp) {
        placed.undo();
        return Err(fail(e));
    }
    Ok(placed)
}

/// Flushes the directory entries of the placed outputs to disk (their
/// contents were flushed when written).
fn sync_dirs(outputs: &[Output]) -> Result<(), Failure> {
    #[cfg(unix)]
    {
        let mut dirs: Vec<&Path> = outputs.iter().map(|o| parent(&o.path)).collect();
        dirs.sort();
        dirs.dedup();
        for dir in dirs {
            match fs::File::open(dir).and_then(|d| d.sync_all()) {
                // Some file systems cannot sync a directory (EINVAL).
                Ok(()) => {}
                Err(e) if e.kind() == ErrorKind::InvalidInput => {}
                Err(e) => return Err(unwritable(dir, e)),
            }
        }
    }
    #[cfg(not(unix))]
    let _ = outputs;
    Ok(())
}

fn write_temp(output: &Output) -> Result<PathBuf, Failure> {
    let temp = sibling(&output.path, "tmp")?;
    write_new(&temp, output).map_err(|e| unwritable(&output.path, e))?;
    Ok(temp)
}

/// Creates `path`, which must not exist (O_EXCL: no symlink is followed), with
/// the output's mode from the start, and writes and flushes its contents. On
/// failure nothing is left at `path`.
fn write_new(path: &Path, output: &Output) -> std::io::Result<()> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(if output.secret { 0o600 } else { 0o644 });
    }
    let mut file = options.open(path)?;
    file.write_all(&output.contents)
        .and_then(|()| file.sync_all())
        .inspect_err(|_| {
            let _ = fs::remove_file(path);
        })
}

/// A hidden name beside `path` with a random suffix: `.NAME.KIND-HEX`. Random
/// so that others cannot predict it and occupy it first.
fn sibling(path: &Path, kind: &str) -> Result<PathBuf, Failure> {
    let name = path.file_name().ok_or_else(|| {
        Failure::input(
            "unwritable_output",
            format!("{} is not a file name", path.display()),
        )
    })?;
    let mut random = [0u8; 8];
    getrandom::fill(&mut random).map_err(|e| {
        Failure::input(
            "unwritable_output",
            format!(
                "cannot write {}: no randomness for a temporary name: {e}",
                path.display()
            ),
        )
    })?;
    let suffix: String = random.iter().map(|b| format!("{b:02x}")).collect();
    Ok(parent(path).join(format!(".{}.{kind}-{suffix}", name.to_string_lossy())))
}

fn parent(path: &Path) -> &Path {
    path.parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
}

fn unwritable(path: &Path, e: std::io::Error) -> Failure {
    Failure::input(
        "unwritable_output",
        format!("cannot write {}: {e}", path.display()),
    )
}

fn exists(path: &Path) -> Failure {
    Failure::input(
        "file_exists",
        format!(
            "{} already exists (use --force to overwrite)",
            path.display()
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fresh directory under the system temp dir, removed afterwards.
    struct TestDir(PathBuf);

    impl TestDir {
        fn new(name: &str) -> TestDir {
            let mut bytes = [0u8; 8];
            getrandom::fill(&mut bytes).expect("randomness for a test directory");
            let suffix: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
            let dir = std::env::temp_dir().join(format!("marshal-files-{name}-{suffix}"));
            fs::create_dir(&dir).expect("create the test directory");
            TestDir(dir)
        }

        fn output(&self, name: &str, contents: &str, secret: bool) -> Output {
            Output {
                path: self.0.join(name),
                contents: Zeroizing::new(contents.as_bytes().to_vec()),
                secret,
            }
        }

        /// Every name in the directory, sorted, for assertions and messages.
        fn names(&self) -> Vec<String> {
            let mut names: Vec<String> = fs::read_dir(&self.0)
                .expect("list the test directory")
                .map(|e| {
                    e.expect("a directory entry")
                        .file_name()
                        .to_string_lossy()
                        .into_owned()
                })
                .collect();
            names.sort();
            names
        }

        fn read(&self, name: &str) -> String {
            fs::read_to_string(self.0.join(name))
                .unwrap_or_else(|e| panic!("read {name}: {e}; directory holds {:?}", self.names()))
        }
    }

    impl Drop for TestDir {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.0);
        }
    }

    fn cert_and_key(dir: &TestDir) -> Vec<Output> {
        vec![
            dir.output("dev.cert.pem", "new certificate", false),
            dir.output("dev.private.key", "new key", true),
        ]
    }

    #[test]
    fn writes_every_output_with_the_key_private() {
        let dir = TestDir::new("writes");
        write_all(&cert_and_key(&dir), false).expect("write into an empty directory");
        assert_eq!(dir.names(), ["dev.cert.pem", "dev.private.key"]);
        assert_eq!(dir.read("dev.cert.pem"), "new certificate");
        assert_eq!(dir.read("dev.private.key"), "new key");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = |name: &str| {
                fs::metadata(dir.0.join(name))
                    .expect("stat an output")
                    .permissions()
                    .mode()
                    & 0o777
            };
            assert_eq!(mode("dev.private.key"), 0o600, "the key must be private");
            assert_eq!(mode("dev.cert.pem") & !0o644, 0, "certificate mode");
        }
    }

    #[test]
    fn refuses_existing_files_unless_forced() {
        let dir = TestDir::new("force");
        fs::write(dir.0.join("dev.private.key"), "old key").expect("an existing key");
        let refused = write_all(&cert_and_key(&dir), false).expect_err("must refuse");
        assert_eq!(refused.code, "file_exists", "{refused:?}");
        assert_eq!(dir.names(), ["dev.private.key"]);
        assert_eq!(dir.read("dev.private.key"), "old key");

        write_all(&cert_and_key(&dir), true).expect("--force replaces");
        assert_eq!(dir.names(), ["dev.cert.pem", "dev.private.key"]);
        assert_eq!(dir.read("dev.private.key"), "new key");
    }

    /// L6: a destination that appears after the existence check (another
    /// process, or a second `marshal` run) is not overwritten without
    /// `--force`, and nothing of this run is left behind.
    #[test]
    fn l6_destination_created_after_the_check_is_not_overwritten() {
        let dir = TestDir::new("race");
        let outputs = cert_and_key(&dir);
        let staged = Staged::new(&outputs, false).expect("stage");
        fs::write(dir.0.join("dev.private.key"), "their key").expect("the racing writer");
        let refused = staged
            .place()
            .expect_err("must refuse the file that appeared");
        assert_eq!(refused.code, "file_exists", "{refused:?}");
        assert!(
            refused
                .message
                .contains("already exists (use --force to overwrite)"),
            "{refused:?}"
        );
        assert_eq!(
            dir.names(),
            ["dev.private.key"],
            "only the racing file may remain"
        );
        assert_eq!(dir.read("dev.private.key"), "their key");
    }

    /// L6: when the second output cannot be placed (here a directory appears
    /// at its path after the check), the first is taken away again and no
    /// temporary file, which may hold key material, remains.
    #[test]
    fn l6_failed_second_placement_rolls_back_the_first() {
        let dir = TestDir::new("rollback");
        let outputs = cert_and_key(&dir);
        let staged = Staged::new(&outputs, false).expect("stage");
        fs::create_dir(dir.0.join("dev.private.key")).expect("the obstacle");
        staged.place().expect_err("a directory is in the way");
        assert_eq!(
            dir.names(),
            ["dev.private.key"],
            "rolled back, no temporaries"
        );
    }

    /// L6, with `--force`: a file this run replaced is restored when a later
    /// output cannot be placed.
    #[test]
    fn l6_failed_forced_placement_restores_what_was_replaced() {
        let dir = TestDir::new("rollback-force");
        fs::write(dir.0.join("dev.cert.pem"), "old certificate").expect("an existing cert");
        let outputs = cert_and_key(&dir);
        let staged = Staged::new(&outputs, true).expect("stage");
        fs::create_dir(dir.0.join("dev.private.key")).expect("the obstacle");
        staged.place().expect_err("a directory is in the way");
        assert_eq!(
            dir.names(),
            ["dev.cert.pem", "dev.private.key"],
            "no temporaries"
        );
        assert_eq!(dir.read("dev.cert.pem"), "old certificate");
    }

    /// L6: temporary names are not predictable from the process ID, so two
    /// writes of the same file in one process do not collide.
    #[test]
    fn l6_temporary_names_are_random() {
        let dir = TestDir::new("names");
        let outputs = cert_and_key(&dir);
        let first = Staged::new(&outputs, false).expect("stage once");
        let second = Staged::new(&outputs, false).expect("stage again");
        assert_ne!(first.temps, second.temps);
        drop((first, second));
        assert!(
            dir.names().is_empty(),
            "dropping unplaced outputs cleans up: {:?}",
            dir.names()
        );
    }
}
