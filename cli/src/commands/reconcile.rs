//! `marshal reconcile`: where Marshal's inventory and AWS disagree, per
//! target, in words; the exit status says whether anything differs.

use std::fmt::Write as _;

use marshal_shared::api::{Drift, DriftKind, ReconcileRequest, ReconcileResponse};

use super::{
    inventory::short_id,
    online::{explain, target_ids},
};
use crate::{
    api::ApiClient,
    cli::ReconcileArgs,
    outcome::{Failure, Report},
};

/// Exit status when drift was found (with `--apply` too: AWS was changed
/// outside Marshal either way): distinct from 1 (something failed) so a
/// scheduled job can tell "AWS was changed outside Marshal" from "the check
/// did not run".
pub(crate) const DRIFT_FOUND: u8 = 3;

/// `marshal reconcile`.
pub(crate) fn run(args: &ReconcileArgs) -> Result<Report, Failure> {
    let client = ApiClient::new(&args.api)?;
    let targets = target_ids(&args.targets, || client.config())?;
    let response = client.reconcile(&ReconcileRequest {
        targets,
        apply: args.apply,
    })?;
    let (text, status) = render(&response, args.apply);
    let json = serde_json::to_value(&response).unwrap_or_default();
    let mut report = Report::ok(text, json);
    report.status = status;
    Ok(report)
}

/// The findings per target, and the exit status they call for.
pub(crate) fn render(response: &ReconcileResponse, apply: bool) -> (String, u8) {
    let mut text = String::new();
    let (mut found, mut mended, mut failed) = (0, 0, 0);
    for t in &response.targets {
        if let Some(error) = &t.error {
            failed += 1;
            let _ = writeln!(
                text,
                "{}: could not be compared: {}",
                t.target,
                explain(error)
            );
            continue;
        }
        if t.drift.is_empty() {
            let _ = writeln!(
                text,
                "{}: {} certificate(s) compared, inventory and AWS agree",
                t.target, t.checked
            );
            continue;
        }
        let _ = writeln!(
            text,
            "{}: {} certificate(s) compared, {} difference(s)",
            t.target,
            t.checked,
            t.drift.len()
        );
        for d in &t.drift {
            found += 1;
            mended += usize::from(d.applied);
            let _ = writeln!(
                text,
                "  {}  {}: {}{}",
                short_id(&d.certificate_id, true),
                kind_text(d.kind),
                d.detail,
                if apply { applied_text(d) } else { "" }
            );
        }
    }
    let summary = match (found, apply) {
        (0, _) => "no drift".to_owned(),
        (n, false) => format!(
            "{n} difference(s) found; nothing was changed (--apply brings the inventory in line \
             where it can; AWS is never changed)"
        ),
        (n, true) => format!("{n} difference(s) found, {mended} brought in line"),
    };
    let _ = writeln!(
        text,
        "{summary}{}",
        if failed > 0 {
            format!("; {failed} target(s) could not be compared")
        } else {
            String::new()
        }
    );
    let status = if failed > 0 {
        1
    } else if found > 0 {
        DRIFT_FOUND
    } else {
        0
    };
    (text, status)
}

/// What `--apply` did with one finding. The API mends only the inventory's
/// record of a certificate deleted or re-statused outside Marshal, or adds
/// one registered before the inventory existed; anything else (attachments,
/// certificates Marshal never registered) needs a person.
fn applied_text(d: &Drift) -> &'static str {
    match (d.applied, d.kind) {
        (true, _) => " [inventory updated]",
        (
            false,
            DriftKind::DeletedOutside | DriftKind::StatusChanged | DriftKind::NotInInventory,
        ) => " [not updated this time (busy or unreachable): run again]",
        (false, _) => " [left for a person: --apply does not mend this]",
    }
}

/// A drift kind in words.
fn kind_text(kind: DriftKind) -> &'static str {
    match kind {
        DriftKind::DeletedOutside => "deleted outside Marshal",
        DriftKind::StatusChanged => "status changed outside Marshal",
        DriftKind::AttachmentsChanged => "policies or things changed outside Marshal",
        DriftKind::RegisteredOutside => "registered outside Marshal",
        DriftKind::NotInInventory => "registered through Marshal before its inventory existed",
        DriftKind::Other => "differs (a kind of drift this marshal does not know)",
    }
}

#[cfg(test)]
mod tests {
    use marshal_shared::api::{TargetDrift, TargetError, TargetErrorCode};

    use super::*;

    fn drift(kind: DriftKind, applied: bool) -> Drift {
        Drift {
            certificate_id: "c".repeat(64),
            kind,
            detail: "Marshal last saw ACTIVE; AWS says INACTIVE".into(),
            applied,
        }
    }

    fn target(id: &str, checked: usize, drift: Vec<Drift>) -> TargetDrift {
        TargetDrift {
            target: id.into(),
            checked,
            drift,
            error: None,
        }
    }

    #[test]
    fn agreement_is_exit_0() {
        let response = ReconcileResponse {
            targets: vec![target("a-tokyo", 4, vec![])],
        };
        let (text, status) = render(&response, false);
        assert_eq!(
            text,
            "a-tokyo: 4 certificate(s) compared, inventory and AWS agree\nno drift\n"
        );
        assert_eq!(status, 0);
    }

    #[test]
    fn drift_is_reported_in_words_with_exit_3() {
        let response = ReconcileResponse {
            targets: vec![
                target("a-tokyo", 4, vec![drift(DriftKind::StatusChanged, false)]),
                target("b-virginia", 2, vec![]),
            ],
        };
        let (text, status) = render(&response, false);
        let id = "c".repeat(64);
        assert_eq!(
            text,
            format!(
                "a-tokyo: 4 certificate(s) compared, 1 difference(s)\n  \
                 {id}  status changed outside Marshal: Marshal last saw ACTIVE; AWS says INACTIVE\n\
                 b-virginia: 2 certificate(s) compared, inventory and AWS agree\n\
                 1 difference(s) found; nothing was changed (--apply brings the inventory in \
                 line where it can; AWS is never changed)\n"
            )
        );
        assert_eq!(status, DRIFT_FOUND);
    }

    #[test]
    fn applied_drift_still_signals_drift_and_says_what_was_left() {
        let response = ReconcileResponse {
            targets: vec![target(
                "a-tokyo",
                3,
                vec![
                    drift(DriftKind::DeletedOutside, true),
                    drift(DriftKind::StatusChanged, false),
                    drift(DriftKind::RegisteredOutside, false),
                ],
            )],
        };
        let (text, status) = render(&response, true);
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[1].ends_with(" [inventory updated]"), "{text}");
        assert!(lines[2].ends_with("run again]"), "{text}");
        assert!(lines[3].contains("registered outside Marshal"), "{text}");
        assert!(
            lines[3].ends_with("[left for a person: --apply does not mend this]"),
            "{text}"
        );
        assert_eq!(
            lines[4], "3 difference(s) found, 1 brought in line",
            "{text}"
        );
        assert_eq!(status, DRIFT_FOUND);
    }

    #[test]
    fn a_target_that_cannot_be_compared_fails_the_run() {
        let response = ReconcileResponse {
            targets: vec![
                TargetDrift {
                    error: Some(TargetError {
                        code: TargetErrorCode::AssumeRoleFailed,
                        message: "AccessDenied".into(),
                    }),
                    ..target("a-tokyo", 0, vec![])
                },
                target("b-virginia", 1, vec![drift(DriftKind::Other, false)]),
            ],
        };
        let (text, status) = render(&response, false);
        assert!(
            text.starts_with("a-tokyo: could not be compared: the API could not assume"),
            "{text}"
        );
        assert!(
            text.contains("a kind of drift this marshal does not know"),
            "{text}"
        );
        assert!(
            text.ends_with("; 1 target(s) could not be compared\n"),
            "{text}"
        );
        assert_eq!(status, 1);
    }
}
