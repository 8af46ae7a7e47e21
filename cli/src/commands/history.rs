//! `marshal history`: a certificate's ledger events, oldest first, one line
//! each: when, where, what, how it ended, who, and the detail.

use marshal_shared::api::{EventPhase, LedgerEvent};

use super::{
    inventory::short_id,
    online::{certificate_id, code_text},
};
use crate::{
    api::ApiClient,
    cli::HistoryArgs,
    outcome::{Failure, Report},
    table::Table,
};

/// `marshal history`.
pub(crate) fn run(args: &HistoryArgs) -> Result<Report, Failure> {
    let id = certificate_id(&args.certificate.certificate)?;
    let client = ApiClient::new(&args.api)?;
    let response = client.history(&id)?;
    let text = format!("certificate {id}\n{}", render(&response.events));
    let json = serde_json::to_value(&response).unwrap_or_default();
    Ok(Report::ok(text, json))
}

/// The events as a table, oldest first as the API sends them.
pub(crate) fn render(events: &[LedgerEvent]) -> String {
    if events.is_empty() {
        return "no events: Marshal has not changed it in any target you may see and manage\n"
            .to_owned();
    }
    let mut table = Table::new([
        "TIME (UTC)",
        "TARGET",
        "ACTION",
        "PHASE",
        "RESULT",
        "BY",
        "DETAIL",
    ]);
    for (i, e) in events.iter().enumerate() {
        let result = match (e.phase, e.ok) {
            (EventPhase::Outcome, Some(true)) => "ok".to_owned(),
            (EventPhase::Outcome, Some(false)) => match e.code {
                Some(code) => format!("failed: {}", code_text(code)),
                None => "failed".to_owned(),
            },
            (EventPhase::Outcome, None) => "-".to_owned(),
            (EventPhase::Intent, _) if has_outcome(events, i) => String::new(),
            // The request stopped between its intent and its outcome (cut
            // off, or the API crashed): worth a look with `marshal status`.
            (EventPhase::Intent, _) => "no outcome recorded".to_owned(),
        };
        table.row([
            e.at.replacen('T', " ", 1).trim_end_matches('Z').to_owned(),
            e.target.clone(),
            e.action.as_str().to_owned(),
            match e.phase {
                EventPhase::Intent => "intent",
                EventPhase::Outcome => "outcome",
            }
            .to_owned(),
            result,
            e.username.clone().unwrap_or_else(|| e.subject.clone()),
            detail(e),
        ]);
    }
    let mut text = table.render();
    text.push_str(&format!(
        "{} event{}\n",
        events.len(),
        if events.len() == 1 { "" } else { "s" }
    ));
    text
}

/// Whether the intent at `i` has an outcome later: same request, target and action.
fn has_outcome(events: &[LedgerEvent], i: usize) -> bool {
    let intent = &events[i];
    events[i + 1..].iter().any(|e| {
        e.phase == EventPhase::Outcome
            && e.request_id == intent.request_id
            && e.target == intent.target
            && e.action == intent.action
    })
}

/// The event's own words, then what it names: status, thing, policy, the
/// other certificate of a rotation.
fn detail(e: &LedgerEvent) -> String {
    let mut parts: Vec<String> = e.detail.iter().cloned().collect();
    if let Some(status) = e.status {
        parts.push(format!("status {}", status.as_str()));
    }
    if let Some(thing) = &e.thing {
        parts.push(format!("thing {thing}"));
    }
    if let Some(policy) = &e.policy {
        parts.push(format!("policy {policy}"));
    }
    if let Some(related) = &e.related {
        parts.push(format!("with {}", short_id(related, false)));
    }
    parts.join("; ")
}

#[cfg(test)]
mod tests {
    use marshal_shared::api::{CertificateStatus, LedgerAction, TargetErrorCode};

    use super::*;

    fn event(phase: EventPhase, request: &str) -> LedgerEvent {
        LedgerEvent {
            certificate_id: "a".repeat(64),
            target: "a-tokyo".into(),
            action: LedgerAction::Register,
            phase,
            ok: None,
            code: None,
            detail: None,
            subject: "0f4c-sub".into(),
            username: None,
            request_id: request.into(),
            at: "2026-12-01T09:30:00.125Z".into(),
            thing: None,
            policy: None,
            not_after: None,
            status: None,
            related: None,
        }
    }

    #[test]
    fn events_read_as_a_table_oldest_first() {
        let intent = event(EventPhase::Intent, "r-1");
        let done = LedgerEvent {
            ok: Some(true),
            detail: Some("registered".into()),
            status: Some(CertificateStatus::Active),
            thing: Some("sensor-01".into()),
            policy: Some("MarshalDevice".into()),
            username: Some("alice".into()),
            ..event(EventPhase::Outcome, "r-1")
        };
        let rotate = LedgerEvent {
            action: LedgerAction::Rotate,
            ok: Some(false),
            code: Some(TargetErrorCode::ThingInUse),
            related: Some("b".repeat(64)),
            at: "2026-12-02T10:00:00.000Z".into(),
            ..event(EventPhase::Outcome, "r-2")
        };
        let cut_off = LedgerEvent {
            action: LedgerAction::Retire,
            at: "2026-12-03T11:00:00.000Z".into(),
            ..event(EventPhase::Intent, "r-3")
        };
        assert_eq!(
            render(&[intent, done, rotate, cut_off]),
            "\
TIME (UTC)               TARGET   ACTION    PHASE    RESULT                BY        DETAIL
2026-12-01 09:30:00.125  a-tokyo  register  intent                         0f4c-sub
2026-12-01 09:30:00.125  a-tokyo  register  outcome  ok                    alice     registered; status ACTIVE; thing sensor-01; policy MarshalDevice
2026-12-02 10:00:00.000  a-tokyo  rotate    outcome  failed: thing_in_use  0f4c-sub  with bbbbbbbbbbbb…
2026-12-03 11:00:00.000  a-tokyo  retire    intent   no outcome recorded   0f4c-sub
4 events
"
        );
    }

    #[test]
    fn no_events_say_why_there_may_be_none() {
        assert!(render(&[]).starts_with("no events"));
    }
}
