//! `marshal preflight`: would AWS IoT accept these certificates? Files are
//! checked one by one and together as a batch (duplicates).

use std::fmt::Write as _;

use marshal_shared::{
    Certificate, InputFormat, OffsetDateTime,
    preflight::{self, Finding, Severity},
};
use serde_json::json;

use crate::{
    cli::PreflightArgs,
    files,
    outcome::{Failure, Report},
};

pub(crate) fn run(args: &PreflightArgs) -> Result<Report, Failure> {
    let password = files::password(args.password_stdin)?;
    let now = OffsetDateTime::now_utc();
    let mut text = String::new();
    let mut results = Vec::new();
    let mut all_certs: Vec<Certificate> = Vec::new();
    let mut unreadable = 0usize;
    let mut errors = Vec::new();
    let mut refused = 0usize;

    for path in &args.files {
        let loaded = super::import_file(path, &password).and_then(|imported| {
            if imported.certificates.is_empty() {
                return Err(Failure::from(marshal_shared::Error::NoCertificate).at(path));
            }
            // PEM findings need the text as AWS IoT would receive it.
            let text = match imported.format {
                InputFormat::Pem => Some(files::read_input(path)?),
                _ => None,
            };
            Ok((text, imported))
        });
        let (pem_bytes, imported) = match loaded {
            Ok(ok) => ok,
            Err(failure) => {
                unreadable += 1;
                errors.push(format!("cannot be checked: {}", failure.message));
                results.push(json!({
                    "path": path,
                    "accepted": false,
                    "error": {"code": failure.code, "message": failure.message},
                    "findings": [],
                }));
                continue;
            }
        };
        let findings = if let Some(bytes) = &pem_bytes {
            preflight::check_pem(&String::from_utf8_lossy(bytes), &imported.certificates, now)
        } else {
            let mut f: Vec<Finding> = preflight::check_several(&imported.certificates)
                .into_iter()
                .collect();
            for cert in &imported.certificates {
                f.extend(preflight::check_certificate(cert, now));
            }
            f
        };
        let accepted = preflight::accepted(&findings);
        if !accepted {
            refused += 1;
        }
        let ids: Vec<String> = imported.certificates.iter().map(Certificate::id).collect();
        let verdict = if accepted { "accepted" } else { "refused" };
        let _ = writeln!(
            text,
            "{}: {verdict} (certificate ID {})",
            path.display(),
            ids.join(", ")
        );
        write_findings(&mut text, &findings);
        results.push(json!({
            "path": path,
            "certificateIds": ids,
            "accepted": accepted,
            "findings": findings,
        }));
        all_certs.extend(imported.certificates);
    }

    let batch = preflight::check_duplicates(&all_certs);
    if !batch.is_empty() {
        let _ = writeln!(text, "batch:");
        write_findings(&mut text, &batch);
    }
    let ok = unreadable == 0 && refused == 0 && batch.is_empty();
    if args.files.len() > 1 {
        let _ = writeln!(
            text,
            "{} file(s): {} accepted, {refused} refused, {unreadable} unreadable",
            args.files.len(),
            args.files.len() - refused - unreadable
        );
    }
    let json = json!({"files": results, "batchFindings": batch, "accepted": ok});
    // Every result is shown; the status says the worst: unreadable input, then refusal.
    let status = if unreadable > 0 {
        2
    } else if ok {
        0
    } else {
        1
    };
    Ok(Report {
        text,
        json,
        status,
        errors,
        notes: Vec::new(),
    })
}

fn write_findings(text: &mut String, findings: &[Finding]) {
    for f in findings {
        let severity = match f.severity {
            Severity::Error => "error  ",
            Severity::Warning => "warning",
        };
        let code = serde_json::to_value(f.code)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        let _ = writeln!(text, "  {severity} {code}: {}", f.message);
    }
}
