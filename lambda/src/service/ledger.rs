//! The ledger: an append-only log of every change Marshal makes, one event
//! per (certificate, target, action, phase). An intent is written before the
//! AWS calls and an outcome after, so a request cut off half-way still
//! leaves a trace. Nothing edits or deletes an event: each is written with a
//! condition that no event has its key.

use async_trait::async_trait;
use marshal_shared::{
    OffsetDateTime,
    api::{CertificateStatus, EventPhase, LedgerAction, LedgerEvent, TargetError, TargetErrorCode},
};

use super::{
    failure,
    ownership::{Owner, again_while},
};
use crate::{config::Target, identity::Caller};

/// An event with who owned what it is about, which decides who may read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recorded {
    /// The event as the API shows it.
    pub event: LedgerEvent,
    /// The owner's JWT `sub`.
    pub owner: String,
    /// The owning group.
    pub owner_group: Option<String>,
    /// Random, one per change: its intent and outcome keys stay apart from
    /// another change's even when both name the same request (a replayed or
    /// fixed request id) in the same millisecond.
    pub nonce: String,
}

impl Recorded {
    /// The event's key within its certificate: time first, so a query
    /// returns the history in order; the request, target, action, the
    /// change's nonce and the phase make it unique.
    pub fn sort_key(&self) -> String {
        let e = &self.event;
        format!(
            "{}#{}#{}#{}#{}#{}",
            e.at,
            e.request_id,
            e.target,
            e.action.as_str(),
            self.nonce,
            match e.phase {
                EventPhase::Intent => "intent",
                EventPhase::Outcome => "outcome",
            }
        )
    }
}

/// The ledger could not be written or read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("ledger: {0}")]
pub struct LedgerError(pub String);

/// The ledger's storage.
#[async_trait]
pub trait LedgerStore: Send + Sync {
    /// Appends `event`, never replacing one (a retried write of the same
    /// event is not an error).
    async fn append(&self, event: &Recorded) -> Result<(), LedgerError>;
    /// Every event of certificate `id`, oldest first.
    async fn history(&self, id: &str) -> Result<Vec<Recorded>, LedgerError>;
}

/// RFC 3339 UTC (`at` is UTC) with milliseconds: fixed width, so it sorts
/// as it reads.
pub(crate) fn timestamp(at: OffsetDateTime) -> String {
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        at.year(),
        u8::from(at.month()),
        at.day(),
        at.hour(),
        at.minute(),
        at.second(),
        at.millisecond()
    )
}

/// 16 random hex digits (a failing OS RNG leaves zeros: the time and
/// request still tell most events apart).
fn nonce() -> String {
    let mut bytes = [0u8; 8];
    let _ = getrandom::fill(&mut bytes);
    hex::encode(bytes)
}

/// [`timestamp`] of Unix milliseconds.
pub(crate) fn timestamp_ms(ms: i64) -> String {
    let at = OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH);
    timestamp(at)
}

/// What one change is about, to write its intent and its outcome.
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    recorded: Recorded,
}

impl Entry {
    /// A change of certificate `id` in `target` by `caller`, for `owner`.
    pub(crate) fn new(
        caller: &Caller,
        owner: &Owner,
        target: &Target,
        id: &str,
        action: LedgerAction,
    ) -> Entry {
        Entry {
            recorded: Recorded {
                event: LedgerEvent {
                    certificate_id: id.to_owned(),
                    target: target.id.clone(),
                    action,
                    phase: EventPhase::Intent,
                    ok: None,
                    code: None,
                    detail: None,
                    subject: caller.subject.clone(),
                    username: caller.username.clone(),
                    request_id: caller.request_id.clone(),
                    at: String::new(),
                    thing: None,
                    policy: None,
                    not_after: None,
                    status: None,
                    related: None,
                },
                owner: owner.subject.clone(),
                owner_group: owner.group.clone(),
                nonce: nonce(),
            },
        }
    }

    /// With the thing concerned.
    pub(crate) fn thing(mut self, thing: Option<&str>) -> Entry {
        self.recorded.event.thing = thing.map(str::to_owned);
        self
    }

    /// With the policy concerned.
    pub(crate) fn policy(mut self, policy: Option<&str>) -> Entry {
        self.recorded.event.policy = policy.map(str::to_owned);
        self
    }

    /// With the certificate's `notAfter` (Unix ms).
    pub(crate) fn not_after_ms(mut self, ms: Option<i64>) -> Entry {
        self.recorded.event.not_after = ms.map(timestamp_ms);
        self
    }

    /// With the other certificate of a rotation.
    pub(crate) fn related(mut self, id: Option<&str>) -> Entry {
        self.recorded.event.related = id.map(str::to_owned);
        self
    }

    fn at_now(&self, phase: EventPhase) -> Recorded {
        let mut recorded = self.recorded.clone();
        recorded.event.phase = phase;
        recorded.event.at = timestamp(OffsetDateTime::now_utc());
        recorded
    }
}

/// How a change ended, for its outcome event.
pub(crate) type Outcome<'a> = Result<(Option<CertificateStatus>, &'a str), &'a TargetError>;

/// Appends `event`, again while the ledger cannot be reached, as the
/// ownership records are retried (a lost outcome would leave an intent
/// without its end; appending the same event twice is harmless: the put is
/// conditional).
async fn append(ledger: &dyn LedgerStore, event: &Recorded) -> Result<(), LedgerError> {
    again_while(|_: &LedgerError| true, || ledger.append(event)).await
}

impl Entry {
    /// Writes the intent; a failure means the change must not be made.
    pub(crate) async fn intend(&self, ledger: &dyn LedgerStore) -> Result<(), TargetError> {
        append(ledger, &self.at_now(EventPhase::Intent))
            .await
            .map_err(|e| {
                tracing::error!(certificate_id = %self.recorded.event.certificate_id, error = %e, "ledger intent not written");
                failure::error(
                    TargetErrorCode::LedgerUnavailable,
                    format!("the change was not made because the ledger could not record it: {e}"),
                )
            })
    }

    /// Writes the outcome. What was done in AWS stays done when this fails:
    /// the intent already says it was attempted, so it is logged.
    pub(crate) async fn conclude(&self, ledger: &dyn LedgerStore, outcome: Outcome<'_>) {
        let mut recorded = self.at_now(EventPhase::Outcome);
        match outcome {
            Ok((status, detail)) => {
                recorded.event.ok = Some(true);
                recorded.event.status = status;
                recorded.event.detail = Some(detail.to_owned());
            }
            Err(error) => {
                recorded.event.ok = Some(false);
                recorded.event.code = Some(error.code);
                recorded.event.detail = Some(error.message.clone());
            }
        }
        if let Err(e) = append(ledger, &recorded).await {
            tracing::error!(certificate_id = %recorded.event.certificate_id, target = %recorded.event.target, error = %e, "ledger outcome not written");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_fixed_width_utc() {
        assert_eq!(timestamp_ms(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(timestamp_ms(1_796_774_400_123), "2026-12-09T00:00:00.123Z");
    }
}
