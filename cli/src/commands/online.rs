//! The API's routes from a terminal: `targets`, `status`, `activate`,
//! `deactivate`, `delete` and `transfer` (`register`, `inventory`,
//! `history`, `rotate`/`retire` and `reconcile` have their own modules),
//! and the pieces they share.
//! Every command prints a per-target table (or `--json`) and exits 1 when any
//! target failed.

use std::{fmt::Write as _, path::Path};

use marshal_shared::{
    api::{
        CertificateStatus, GetConfigResponse, RegistrationResult, TargetError, TargetErrorCode,
        TargetOutcome, TransferCertificateRequest, TransferMode, UpdateStatusRequest,
    },
    validate,
};
use serde_json::json;

use crate::{
    api::ApiClient,
    batch,
    cli::{
        ChangeArgs, DeleteArgs, StatusArgs, TargetSelection, TargetsArgs, TransferArgs,
        TransferModeArg,
    },
    outcome::{Failure, Report},
    table::Table,
};

/// `marshal targets`.
pub(crate) fn targets(args: &TargetsArgs) -> Result<Report, Failure> {
    let client = ApiClient::new(&args.api)?;
    let config = client.config()?;
    let mut table = Table::new(["TARGET", "ACCOUNT", "REGION", "NAME"]);
    for t in &config.targets {
        table.row([
            t.id.clone(),
            t.account_id.clone(),
            t.region.clone(),
            t.name.clone(),
        ]);
    }
    let mut text = table.render();
    let policies: Vec<String> = config
        .policies
        .iter()
        .map(|p| {
            if p.created_when_missing {
                format!("{} (created where missing)", p.name)
            } else {
                p.name.clone()
            }
        })
        .collect();
    let _ = writeln!(text, "\npolicies: {}", policies.join(", "));
    let _ = writeln!(
        text,
        "thing names must match: {}",
        config.thing_name_pattern
    );
    let _ = writeln!(
        text,
        "limits: {} certificates and {} targets per request, {} bytes per body",
        config.limits.max_certificates_per_request,
        config.limits.max_targets_per_request,
        config.limits.max_body_bytes
    );
    let json = serde_json::to_value(&config).unwrap_or_default();
    Ok(Report::ok(text, json))
}

/// The certificate ID named by `ID|FILE`: 64 hex characters, or a file
/// holding exactly one certificate.
pub(crate) fn certificate_id(arg: &str) -> Result<String, Failure> {
    if let Ok(id) = validate::certificate_id(arg) {
        return Ok(id);
    }
    let path = Path::new(arg);
    if !path.exists() {
        return Err(Failure::input(
            "invalid_certificate",
            format!("{arg:?} is neither a certificate ID (64 hex characters) nor a file"),
        ));
    }
    let items = batch::from_files(&[path.to_path_buf()], None);
    match &items[..] {
        [item] => match item.id() {
            Some(id) => Ok(id),
            None => Err(Failure::input(
                "unreadable_input",
                item.problems
                    .first()
                    .map_or_else(|| format!("cannot read {arg}"), |p| p.message.clone()),
            )),
        },
        _ => Err(Failure::input(
            "several_certificates",
            format!(
                "{arg} holds {} certificates; name one by its ID",
                items.len()
            ),
        )),
    }
}

/// The chosen target ids; `all` asks the API for every target the caller may use.
pub(crate) fn target_ids(
    selection: &TargetSelection,
    config: impl FnOnce() -> Result<GetConfigResponse, Failure>,
) -> Result<Vec<String>, Failure> {
    if selection.targets.iter().any(|t| t == "all") {
        return Ok(config()?.targets.into_iter().map(|t| t.id).collect());
    }
    let mut ids: Vec<String> = Vec::new();
    for t in &selection.targets {
        let t = t.trim();
        if t.is_empty() {
            return Err(Failure::input("invalid_target", "an empty target id"));
        }
        if !ids.iter().any(|x| x == t) {
            ids.push(t.to_owned());
        }
    }
    Ok(ids)
}

/// The policy to attach: the one asked for, else the only one allowed.
pub(crate) fn policy_name(
    asked: Option<&str>,
    config: &GetConfigResponse,
) -> Result<String, Failure> {
    if let Some(p) = asked {
        return Ok(p.to_owned());
    }
    match &config.policies[..] {
        [only] => Ok(only.name.clone()),
        policies => Err(Failure::input(
            "missing_policy",
            format!(
                "choose a policy with --policy: {}",
                policies
                    .iter()
                    .map(|p| p.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )),
    }
}

/// A per-target failure in plain words: what the code means, then AWS's message.
pub(crate) fn explain(error: &TargetError) -> String {
    let meaning = match error.code {
        TargetErrorCode::AssumeRoleFailed => {
            "the API could not assume this target's role (trust policy or ExternalId)"
        }
        TargetErrorCode::AwsAccessDenied => "the target's role does not allow this action",
        TargetErrorCode::AwsThrottled => "AWS kept throttling; try again later",
        TargetErrorCode::AwsTimeout => "AWS did not answer in time; try again",
        TargetErrorCode::AwsUnavailable => "AWS failed or could not be reached; try again",
        TargetErrorCode::AwsInvalidRequest => "AWS refused the request as invalid",
        TargetErrorCode::AwsConflict => "the resource's state forbids this change",
        TargetErrorCode::PolicyMissing => {
            "the policy does not exist in this target and the API has no template to create it"
        }
        TargetErrorCode::CertificateIdMismatch => {
            "AWS's certificate ID differs from the SHA-256 of the certificate"
        }
        TargetErrorCode::NotRegistered => "the certificate is not registered in this target",
        TargetErrorCode::CertificateRevoked => {
            "the certificate is REVOKED there; AWS allows no way back"
        }
        TargetErrorCode::CertificateNotManaged => {
            "the certificate is not yours there (registered outside Marshal, or by another user or group); left as it is"
        }
        TargetErrorCode::ThingInUse => {
            "the thing belongs to someone else or already has a certificate; choose another with --thing"
        }
        TargetErrorCode::CertificateBusy => {
            "another request is changing this certificate there; try again in a few seconds"
        }
        TargetErrorCode::ForeignAttachment => {
            "a policy or thing Marshal did not attach is attached; nothing was changed"
        }
        TargetErrorCode::NotAttempted => "not started: the request ran out of time; run it again",
        TargetErrorCode::OwnershipUnavailable => {
            "the API's ownership records could not be reached; nothing was changed"
        }
        TargetErrorCode::LedgerUnavailable => {
            "the API's ledger could not record the change, so it was not made; try again"
        }
        TargetErrorCode::NotRotated => {
            "no successor is registered and ACTIVE there; run `marshal rotate` first"
        }
        TargetErrorCode::AlreadyRotated => {
            "the certificate was already rotated to another certificate there"
        }
        _ => "failed",
    };
    format!("{meaning} ({})", error.message)
}

fn status_text(status: Option<CertificateStatus>) -> String {
    status.map_or_else(|| "-".to_owned(), |s| s.as_str().to_owned())
}

/// `marshal status`.
pub(crate) fn status(args: &StatusArgs) -> Result<Report, Failure> {
    let id = certificate_id(&args.certificate.certificate)?;
    let client = ApiClient::new(&args.api)?;
    let response = client.certificate(&id)?;
    let mut table = Table::new(["TARGET", "REGISTERED", "STATUS", "POLICIES", "THINGS"]);
    let mut failed = 0;
    for t in &response.targets {
        if let Some(error) = &t.error {
            failed += 1;
            table.row([t.target.clone(), "?".to_owned(), explain(error)]);
            continue;
        }
        table.row([
            t.target.clone(),
            if t.present { "yes" } else { "no" }.to_owned(),
            status_text(t.status),
            t.policies.join(","),
            t.things.join(","),
        ]);
    }
    let registered = response.targets.iter().filter(|t| t.present).count();
    let text = format!(
        "certificate {id}\n{}\nregistered in {registered} of {} target(s){}\n",
        table.render(),
        response.targets.len(),
        if failed > 0 {
            format!("; {failed} could not be asked")
        } else {
            String::new()
        }
    );
    let json = serde_json::to_value(&response).unwrap_or_default();
    Ok(Report {
        status: u8::from(failed > 0),
        ..Report::ok(text, json)
    })
}

/// `marshal activate` and `marshal deactivate`.
pub(crate) fn change(args: &ChangeArgs, status: CertificateStatus) -> Result<Report, Failure> {
    let id = certificate_id(&args.certificate.certificate)?;
    let client = ApiClient::new(&args.api)?;
    let targets = target_ids(&args.targets, || client.config())?;
    let response = client.update_status(&id, &UpdateStatusRequest { status, targets })?;
    let json = serde_json::to_value(&response).unwrap_or_default();
    Ok(outcome_report(&id, &response.results, json))
}

/// `marshal delete`: one certificate, or every certificate of a batch.
pub(crate) fn delete(args: &DeleteArgs) -> Result<Report, Failure> {
    let client = ApiClient::new(&args.api)?;
    let ids = match (&args.certificate, &args.batch) {
        (Some(arg), _) => vec![certificate_id(arg)?],
        (None, Some(path)) => batch_ids(path)?,
        (None, None) => {
            return Err(Failure::input(
                "missing_certificate",
                "name a certificate (ID or file) or a --batch",
            ));
        }
    };
    let targets = target_ids(&args.targets, || client.config())?;
    if ids.len() == 1 {
        let response = client.delete(&ids[0], &targets)?;
        let json = serde_json::to_value(&response).unwrap_or_default();
        return Ok(outcome_report(&ids[0], &response.results, json));
    }
    let progress = crate::progress::Progress::new(ids.len() as u64, "deleting");
    let mut failed = Vec::new();
    let mut results = Vec::new();
    for id in &ids {
        let response = client.delete(id, &targets)?;
        for r in response.results.iter().filter(|r| !r.ok) {
            failed.push(format!(
                "{id} in {}: {}",
                r.target,
                r.error.as_ref().map_or_else(|| r.detail.clone(), explain)
            ));
        }
        results.push(response);
        progress.inc(1);
    }
    progress.finish();
    let mut text = format!(
        "deleted {} certificate(s) from {} target(s) ({} failed)\n",
        ids.len(),
        targets.len(),
        failed.len()
    );
    for f in &failed {
        let _ = writeln!(text, "  failed: {f}");
    }
    let json = json!({"results": results, "failed": failed.len()});
    Ok(Report {
        status: u8::from(!failed.is_empty()),
        ..Report::ok(text, json)
    })
}

/// The IDs of every readable certificate of a batch; an unreadable item stops
/// the command before anything is deleted.
fn batch_ids(path: &Path) -> Result<Vec<String>, Failure> {
    let items = batch::load(path)?;
    let mut ids = Vec::new();
    for item in &items {
        match item.id() {
            Some(id) if !ids.contains(&id) => ids.push(id),
            Some(_) => {}
            None => {
                return Err(Failure::input(
                    "unreadable_input",
                    format!(
                        "{}: {}; nothing was deleted",
                        item.source,
                        item.problems
                            .first()
                            .map_or("cannot be read", |p| p.message.as_str())
                    ),
                ));
            }
        }
    }
    Ok(ids)
}

/// A table of per-target outcomes; exit 1 when any failed.
pub(crate) fn outcome_report(
    id: &str,
    results: &[TargetOutcome],
    json: serde_json::Value,
) -> Report {
    let mut table = Table::new(["TARGET", "RESULT", "STATUS", "DETAIL"]);
    for r in results {
        table.row([
            r.target.clone(),
            if r.ok { "ok" } else { "FAILED" }.to_owned(),
            status_text(r.status),
            r.error.as_ref().map_or_else(|| r.detail.clone(), explain),
        ]);
    }
    let failed = results.iter().filter(|r| !r.ok).count();
    let text = format!(
        "certificate {id}\n{}{}",
        table.render(),
        if failed > 0 {
            format!("{failed} of {} target(s) failed\n", results.len())
        } else {
            String::new()
        }
    );
    Report {
        status: u8::from(failed > 0),
        ..Report::ok(text, json)
    }
}

/// `marshal transfer`.
pub(crate) fn transfer(args: &TransferArgs) -> Result<Report, Failure> {
    let id = certificate_id(&args.certificate.certificate)?;
    let client = ApiClient::new(&args.api)?;
    let policy = match &args.policy {
        Some(p) => p.clone(),
        None => policy_name(None, &client.config()?)?,
    };
    let mode = match args.mode {
        TransferModeArg::Copy => TransferMode::Copy,
        TransferModeArg::MoveDeactivate => TransferMode::MoveDeactivate,
        TransferModeArg::MoveDelete => TransferMode::MoveDelete,
    };
    let request = TransferCertificateRequest {
        from: args.from.clone(),
        to: args.to.clone(),
        policy,
        thing_name: args.thing.clone(),
        mode,
    };
    let response = client.transfer(&id, &request)?;
    let mut text = format!(
        "certificate {id}\n{}",
        results_table(&response.destinations)
    );
    let mut failed = response
        .destinations
        .iter()
        .filter(|r| r.error.is_some())
        .count();
    match &response.source {
        Some(source) => {
            let _ = writeln!(
                text,
                "source {}: {}",
                source.target,
                source
                    .error
                    .as_ref()
                    .map_or_else(|| source.detail.clone(), explain)
            );
            failed += usize::from(!source.ok);
        }
        None if failed > 0 => {
            let _ = writeln!(
                text,
                "source {}: left as it was, because a destination failed",
                args.from
            );
        }
        None => {}
    }
    let json = serde_json::to_value(&response).unwrap_or_default();
    Ok(Report {
        status: u8::from(failed > 0),
        ..Report::ok(text, json)
    })
}

/// Per (certificate, target) registration results as a table.
pub(crate) fn results_table(results: &[RegistrationResult]) -> String {
    let mut table = Table::new(["TARGET", "STATUS", "THING", "ENDPOINT / ERROR"]);
    for r in results {
        match (&r.registration, &r.error) {
            (Some(reg), _) => table.row([
                r.target.clone(),
                reg.status.as_str().to_owned(),
                reg.thing.clone(),
                reg.endpoint.clone(),
            ]),
            (None, Some(error)) => table.row([
                r.target.clone(),
                "FAILED".to_owned(),
                String::new(),
                format!("{}: {}", code_text(error.code), explain(error)),
            ]),
            (None, None) => table.row([r.target.clone(), "?".to_owned()]),
        }
    }
    table.render()
}

/// A target error code as its wire name.
pub(crate) fn code_text(code: TargetErrorCode) -> String {
    serde_json::to_value(code)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}
