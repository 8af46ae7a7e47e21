//! `marshal inspect`: everything a certificate, key or PKCS#12 file holds.

use std::fmt::Write as _;

use marshal_shared::{CertificateInfo, InputFormat};
use serde_json::json;

use crate::{
    cli::InputArgs,
    outcome::{Failure, Report},
};

pub(crate) fn run(args: &InputArgs) -> Result<Report, Failure> {
    let imported = super::load(&args.file, args.password_stdin)?;
    let infos = imported
        .certificates
        .iter()
        .map(|c| c.info())
        .collect::<Result<Vec<_>, _>>()?;
    let matches = imported.key_matches().map(|r| r.is_ok());

    let mut text = String::new();
    let _ = writeln!(
        text,
        "file:             {} ({})",
        args.file.display(),
        format_name(imported.format)
    );
    for (i, info) in infos.iter().enumerate() {
        let _ = writeln!(text, "certificate {} of {}", i + 1, infos.len());
        describe(&mut text, info);
    }
    if let Some(key) = &imported.private_key {
        let verdict = match matches {
            Some(true) => ", matches the certificate",
            Some(false) => ", DOES NOT match any certificate in this file",
            None => "",
        };
        let _ = writeln!(text, "private key:      {}{verdict}", key.algorithm());
    }
    for label in &imported.skipped {
        let _ = writeln!(
            text,
            "skipped:          a \"{label}\" PEM block (not used by Marshal)"
        );
    }

    Ok(Report {
        text,
        json: json!({
            "file": args.file,
            "format": imported.format,
            "certificates": infos,
            "privateKey": imported.private_key.as_ref().map(|k| json!({
                "algorithm": k.algorithm(),
                "matchesCertificate": matches,
            })),
            "skippedPemBlocks": imported.skipped,
        }),
        status: if matches == Some(false) { 1 } else { 0 },
        errors: Vec::new(),
        notes: Vec::new(),
    })
}

fn describe(text: &mut String, info: &CertificateInfo) {
    let yes_no = |b: bool| if b { "yes" } else { "no" };
    let list = |v: &[String]| {
        if v.is_empty() {
            "(none)".to_owned()
        } else {
            v.join(", ")
        }
    };
    let _ = writeln!(text, "  certificate ID: {}", info.certificate_id);
    let _ = writeln!(text, "  subject:        {}", info.subject);
    let _ = writeln!(text, "  issuer:         {}", info.issuer);
    let _ = writeln!(text, "  serial:         {}", info.serial);
    let _ = writeln!(text, "  valid from:     {}", info.not_before);
    let _ = writeln!(text, "  valid until:    {}", info.not_after);
    let _ = writeln!(text, "  key:            {}", info.key);
    let _ = writeln!(text, "  signature:      {}", info.signature);
    let _ = writeln!(text, "  self-signed:    {}", yes_no(info.self_signed));
    let _ = writeln!(text, "  CA:             {}", yes_no(info.is_ca));
    let _ = writeln!(text, "  key usage:      {}", list(&info.key_usage));
    let _ = writeln!(text, "  ext. key usage: {}", list(&info.extended_key_usage));
    let _ = writeln!(text, "  SHA-256:        {}", info.fingerprints.sha256_colon);
    let _ = writeln!(text, "  SHA-1:          {}", info.fingerprints.sha1);
}

pub(crate) fn format_name(format: InputFormat) -> &'static str {
    match format {
        InputFormat::Pem => "PEM",
        InputFormat::DerCertificate => "DER certificate",
        InputFormat::DerPrivateKey => "DER private key",
        InputFormat::Pkcs12 => "PKCS#12",
    }
}
