//! One function per command; each returns a [`Report`] or a [`Failure`].

mod connect_test;
mod convert;
mod history;
mod inspect;
mod inventory;
mod job;
mod keygen;
mod online;
mod policy;
mod preflight;
mod reconcile;
mod register;
mod rotation;

use std::path::Path;

use marshal_shared::{Fingerprints, Imported, api::CertificateStatus, import};
use serde_json::json;

use crate::{
    cli::{Command, InputArgs},
    files,
    outcome::{Failure, Report},
};

pub(crate) fn run(command: Command) -> Result<Report, Failure> {
    match command {
        Command::Keygen(args) => keygen::run(&args),
        Command::Fingerprint(args) => fingerprint(&args),
        Command::Inspect(args) => inspect::run(&args),
        Command::Preflight(args) => preflight::run(&args),
        Command::Convert(args) => convert::run(&args),
        Command::Policy(args) => policy::run(&args),
        Command::Targets(args) => online::targets(&args),
        Command::Register(args) => register::run(&args),
        Command::Job(args) => job::run(&args),
        Command::Status(args) => online::status(&args),
        Command::Activate(args) => online::change(&args, CertificateStatus::Active),
        Command::Deactivate(args) => online::change(&args, CertificateStatus::Inactive),
        Command::Delete(args) => online::delete(&args),
        Command::Transfer(args) => online::transfer(&args),
        Command::Inventory(args) => inventory::run(&args),
        Command::History(args) => history::run(&args),
        Command::Rotate(args) => rotation::run_rotate(&args),
        Command::Retire(args) => rotation::run_retire(&args),
        Command::Reconcile(args) => reconcile::run(&args),
        Command::ConnectTest(args) => connect_test::run(&args),
    }
}

/// Reads and decodes one input file with the password rule of `--password-stdin`.
pub(crate) fn load(path: &Path, password_stdin: bool) -> Result<Imported, Failure> {
    let password = files::password(password_stdin)?;
    import_file(path, &password)
}

/// Reads and decodes one input file; errors name the file and, for a missing
/// password, say how to give one.
pub(crate) fn import_file(path: &Path, password: &str) -> Result<Imported, Failure> {
    let bytes = files::read_input(path)?;
    import(&bytes, password).map_err(|e| {
        let needs_password =
            password.is_empty() && matches!(e, marshal_shared::Error::WrongPassword(_));
        let failure = Failure::from(e).at(path);
        if needs_password {
            failure.with_hint("it is password-protected: give the password with --password-stdin")
        } else {
            failure
        }
    })
}

fn fingerprint(args: &InputArgs) -> Result<Report, Failure> {
    let imported = load(&args.file, args.password_stdin)?;
    let cert = imported
        .leaf()
        .map_err(|e| Failure::from(e).at(&args.file))?;
    let fingerprints = Fingerprints::of(cert.der());
    Ok(Report::ok(
        format!("{}\n", fingerprints.sha256),
        json!({
            "certificateId": fingerprints.sha256,
            "sha256": fingerprints.sha256,
            "sha1": fingerprints.sha1,
            "sha256Colon": fingerprints.sha256_colon,
        }),
    ))
}
