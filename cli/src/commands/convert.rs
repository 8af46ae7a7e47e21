//! `marshal convert`: DER → PEM, PKCS#12 → PEM, any key form → PKCS#8, and
//! certificate + key → a modern PKCS#12.

use std::path::Path;

use marshal_shared::{Certificate, pkcs12};
use serde_json::json;
use zeroize::Zeroizing;

use crate::{
    cli::ConvertArgs,
    files::{self, Output},
    outcome::{Failure, Report},
};

pub(crate) fn run(args: &ConvertArgs) -> Result<Report, Failure> {
    if args.out_cert.is_none() && args.out_key.is_none() && args.out_p12.is_none() {
        return Err(Failure::input(
            "invalid_request",
            "nothing to write: give --out-cert, --out-key and/or --out-p12",
        ));
    }
    let password = files::password(args.password_stdin)?;
    if args.out_p12.is_some() && !args.empty_password && password.is_empty() {
        return Err(p12_password_required(args.password_stdin));
    }
    let mut imported = super::import_file(&args.file, &password)?;
    if let Some(key_path) = &args.key {
        let key_input = super::import_file(key_path, &password)?;
        let key = key_input
            .private_key
            .ok_or_else(|| with_path(marshal_shared::Error::NoPrivateKey, key_path))?;
        if imported.private_key.is_some() {
            return Err(Failure::input(
                "several_private_keys",
                format!(
                    "{} already holds a private key; drop --key",
                    args.file.display()
                ),
            ));
        }
        imported.private_key = Some(key);
    }
    if let Some(Err(e)) = imported.key_matches() {
        return Err(e.into());
    }

    let mut outputs = Vec::new();
    let mut certificate_id = None;
    if let Some(path) = &args.out_cert {
        let leaf = imported.leaf().map_err(|e| with_path(e, &args.file))?;
        certificate_id = Some(leaf.id());
        outputs.push(Output {
            path: path.clone(),
            contents: Zeroizing::new(certificate_bytes(leaf, &imported.certificates, path)),
            secret: false,
        });
    }
    if let Some(path) = &args.out_key {
        let key = imported.key().map_err(|e| with_path(e, &args.file))?;
        outputs.push(Output {
            path: path.clone(),
            contents: Zeroizing::new(key.to_pkcs8_pem().as_bytes().to_vec()),
            secret: true,
        });
    }
    if let Some(path) = &args.out_p12 {
        let leaf = imported.leaf().map_err(|e| with_path(e, &args.file))?;
        let key = imported.key().map_err(|e| {
            Failure::from(e)
                .with_hint("a PKCS#12 file needs the private key: pass it with --key KEYFILE")
        })?;
        certificate_id = Some(leaf.id());
        let name = leaf
            .common_name()
            .unwrap_or_else(|| "marshal device".to_owned());
        outputs.push(Output {
            path: path.clone(),
            contents: Zeroizing::new(pkcs12::export(leaf, key, &password, &name)?),
            secret: true,
        });
    }
    files::write_all(&outputs, args.force)?;

    let written: Vec<&Path> = outputs.iter().map(|o| o.path.as_path()).collect();
    let mut text = String::new();
    for o in &outputs {
        text.push_str(&format!(
            "wrote {}{}\n",
            o.path.display(),
            if o.secret { " (mode 0600)" } else { "" }
        ));
    }
    if args.empty_password {
        text.push_str("the PKCS#12 has the empty password: its key is effectively unencrypted\n");
    }
    if let Some(id) = &certificate_id {
        text.push_str(&format!("certificate ID: {id}\n"));
    }
    Ok(Report::ok(
        text,
        json!({"certificateId": certificate_id, "written": written}),
    ))
}

/// The leaf first, then any other certificates; DER (leaf only) for `.der`/`.cer` names.
fn certificate_bytes(leaf: &Certificate, all: &[Certificate], path: &Path) -> Vec<u8> {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or_default()
        .to_ascii_lowercase();
    if ext == "der" || ext == "cer" {
        return leaf.der().to_vec();
    }
    let mut pem = leaf.to_pem();
    for other in all.iter().filter(|c| *c != leaf) {
        pem.push_str(&other.to_pem());
    }
    pem.into_bytes()
}

/// A PKCS#12 with the empty password is a key anyone can read while looking
/// protected (finding L7), so it is written only when asked for by name.
fn p12_password_required(read_stdin: bool) -> Failure {
    let why = if read_stdin {
        "--password-stdin read an empty password, and --out-p12 needs one"
    } else {
        "--out-p12 needs a password: give it on the first line of standard input with \
         --password-stdin"
    };
    Failure::input(
        "p12_password_required",
        format!(
            "{why} (or pass --empty-password for a file whose key is then effectively \
             unencrypted)"
        ),
    )
}

fn with_path(e: marshal_shared::Error, path: &Path) -> Failure {
    Failure::from(e).at(path)
}
