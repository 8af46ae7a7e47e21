//! `marshal rotate` and `marshal retire`: make before break. Rotate
//! registers a successor where the old certificate is (its thing, its
//! policy) and leaves the old one ACTIVE; retire removes the old one where
//! the successor has taken over.

use std::{fmt::Write as _, path::Path};

use marshal_shared::{
    Certificate, OffsetDateTime,
    api::{RetireCertificateRequest, RotateCertificateRequest},
    find_key_material, import,
    preflight::{self, Severity},
};

use super::online::{certificate_id, outcome_report, results_table, target_ids};
use crate::{
    api::ApiClient,
    cli::{OptionalTargets, RetireArgs, RotateArgs, TargetSelection},
    files,
    outcome::{Failure, Report},
};

/// `marshal rotate`.
pub(crate) fn run_rotate(args: &RotateArgs) -> Result<Report, Failure> {
    let old = certificate_id(&args.certificate)?;
    let (new, warnings) = new_certificate(&args.cert, OffsetDateTime::now_utc())?;
    if new.id() == old {
        return Err(Failure::input(
            "same_certificate",
            format!(
                "{} is the certificate being replaced; give its successor (`marshal keygen` makes one)",
                args.cert.display()
            ),
        ));
    }
    let client = ApiClient::new(&args.api)?;
    let targets = chosen_targets(&args.targets, &client)?;
    let request = RotateCertificateRequest {
        // Re-encoded from the DER: nothing else from the file can be sent.
        certificate_pem: new.to_pem(),
        targets,
    };
    let response = client.rotate(&old, &request)?;
    let failed = response
        .results
        .iter()
        .filter(|r| r.error.is_some())
        .count();
    let mut text = format!(
        "certificate {}\nsuccessor   {}\n{}",
        response.certificate_id,
        response.new_certificate_id,
        results_table(&response.results)
    );
    if failed > 0 {
        let _ = writeln!(
            text,
            "{failed} of {} target(s) failed and were left as they were; the old certificate \
             is untouched everywhere",
            response.results.len()
        );
    } else {
        let _ = writeln!(
            text,
            "the old certificate stays ACTIVE: once the devices use the new one, run \
             `marshal retire {}`",
            response.certificate_id
        );
    }
    let json = serde_json::to_value(&response).unwrap_or_default();
    let mut report = Report::ok(text, json);
    report.status = u8::from(failed > 0);
    report.notes = warnings;
    Ok(report)
}

/// `marshal retire`.
pub(crate) fn run_retire(args: &RetireArgs) -> Result<Report, Failure> {
    let id = certificate_id(&args.certificate.certificate)?;
    let client = ApiClient::new(&args.api)?;
    let targets = chosen_targets(&args.targets, &client)?;
    let response = client.retire(&id, &RetireCertificateRequest { targets })?;
    let json = serde_json::to_value(&response).unwrap_or_default();
    if response.results.is_empty() {
        return Ok(Report::ok(
            format!(
                "certificate {id}\nnothing left to retire: it is not registered for you \
                 anywhere it was rotated\n"
            ),
            json,
        ));
    }
    Ok(outcome_report(&id, &response.results, json))
}

/// The targets named, `all` resolved; `None` (the API chooses) when none are named.
fn chosen_targets(
    chosen: &OptionalTargets,
    client: &ApiClient,
) -> Result<Option<Vec<String>>, Failure> {
    if chosen.targets.is_empty() {
        return Ok(None);
    }
    let selection = TargetSelection {
        targets: chosen.targets.clone(),
    };
    target_ids(&selection, || client.config()).map(Some)
}

/// The one certificate of `path`, ready to send, and preflight's warnings.
///
/// A file that carries a private key in any form is refused before
/// anything else: the request would carry only the certificate anyway,
/// but a key where a certificate belongs is a mistake worth stopping at
/// (the wrong file, or a key about to be handled carelessly).
pub(crate) fn new_certificate(
    path: &Path,
    now: OffsetDateTime,
) -> Result<(Certificate, Vec<String>), Failure> {
    let bytes = files::read_input(path)?;
    let holds_key = |what: &str| {
        Failure::input(
            "key_material_in_file",
            format!(
                "{}: holds {what}; --cert takes the new certificate alone, so nothing was \
                 sent. Take the certificate out with `marshal convert {} --out-cert \
                 NEW.cert.pem` and keep the key on the device side",
                path.display(),
                path.display()
            ),
        )
    };
    if let Some(found) = find_key_material(&String::from_utf8_lossy(&bytes)) {
        return Err(holds_key(found.describe()));
    }
    let imported = import(&bytes, "").map_err(|e| match e {
        marshal_shared::Error::WrongPassword(_) => holds_key("a password-protected PKCS#12 file"),
        other => Failure::from(other).at(path),
    })?;
    if imported.private_key.is_some() {
        return Err(holds_key("a private key"));
    }
    let mut certificates = imported.certificates;
    let certificate = match certificates.len() {
        1 => certificates.remove(0),
        0 => return Err(Failure::from(marshal_shared::Error::NoCertificate).at(path)),
        n => {
            return Err(Failure::input(
                "several_certificates",
                format!(
                    "{}: holds {n} certificates; give the new one alone",
                    path.display()
                ),
            ));
        }
    };
    let findings = preflight::check_pem(
        &certificate.to_pem(),
        std::slice::from_ref(&certificate),
        now,
    );
    let errors: Vec<String> = findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .map(|f| f.message.clone())
        .collect();
    if !errors.is_empty() {
        return Err(Failure::check(
            "preflight_failed",
            format!(
                "{}: AWS IoT would refuse it ({}); nothing was sent",
                path.display(),
                errors.join("; ")
            ),
        ));
    }
    let warnings = findings
        .into_iter()
        .filter(|f| f.severity != Severity::Error)
        .map(|f| format!("{}: {}", path.display(), f.message))
        .collect();
    Ok((certificate, warnings))
}

#[cfg(test)]
mod tests;
