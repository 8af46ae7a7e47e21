//! One (certificate, target) pair: take its certificate's and thing's
//! records, register, attach, activate, hand the records back, and undo
//! exactly what this request did when a step fails.

use std::time::{Duration, Instant};

use marshal_shared::api::{
    CertificateStatus, LedgerAction, Registration, TargetError, TargetErrorCode,
};

use super::{PreparedCertificate, ReadyTarget};
use crate::{
    identity::Caller,
    service::{
        failure,
        ledger::{Entry, LedgerStore},
        ownership::{
            Facts, Held, LeaseClock, Owner, Ownership, OwnershipKey, OwnershipState,
            OwnershipStore, StoreError, TakeError,
        },
        registry::{CertificateRecord, RegistryError, RegistryErrorKind},
    },
};

/// Who registers, for whom, and under which lease terms and deadline.
pub(crate) struct Acting<'a> {
    pub(crate) caller: &'a Caller,
    /// Who new records belong to: the caller, or for a transfer the source's owner.
    pub(crate) owner: &'a Owner,
    pub(crate) clock: &'a LeaseClock,
    pub(crate) store: &'a dyn OwnershipStore,
    pub(crate) deadline: Instant,
    pub(crate) pair_budget: Duration,
    /// Where every change is recorded, and as what.
    pub(crate) ledger: &'a dyn LedgerStore,
    pub(crate) action: LedgerAction,
    /// For a rotation: the certificate being replaced, which may stay
    /// attached to the thing.
    pub(crate) replaces: Option<&'a str>,
}

impl Acting<'_> {
    /// Whether too little time is left to start another pair.
    pub(crate) fn out_of_time(&self) -> bool {
        self.deadline.saturating_duration_since(Instant::now()) < self.pair_budget
    }

    /// What to hold for a certificate or thing record: a new one, or the
    /// caller's own (or, for a target admin, anyone's).
    fn claim(
        &self,
        target: &crate::config::Target,
        record: Option<&Ownership>,
        refusal: impl FnOnce() -> TargetError,
    ) -> Result<Ownership, TargetError> {
        match record {
            None => Ok(Ownership::claimed(self.owner, self.clock.now_ms)),
            Some(r) if r.owned_by(self.caller) || self.caller.is_admin(target) => Ok(r.clone()),
            Some(_) => Err(refusal()),
        }
    }
}

/// A record taken for a pair, or why not.
fn taken(result: Result<Held, TakeError<TargetError>>, busy: &str) -> Result<Held, TargetError> {
    result.map_err(|e| match e {
        TakeError::Refused(error) => error,
        TakeError::Busy => failure::error(TargetErrorCode::CertificateBusy, busy),
        TakeError::Store(message) => store_failure(&message),
    })
}

/// The ownership store failed while records were being taken.
fn store_failure(message: &dyn std::fmt::Display) -> TargetError {
    failure::error(
        TargetErrorCode::OwnershipUnavailable,
        format!("the ownership records could not be read or written: {message}"),
    )
}

/// What this request changed in one target, to undo on failure.
#[derive(Debug, Default)]
struct Undo {
    /// The certificate's ID and ARN as AWS knows them, once known.
    id: Option<String>,
    arn: Option<String>,
    registered: bool,
    attached_policy: Option<String>,
    created_thing: Option<String>,
    attached_thing: Option<String>,
    /// The status before this request, and the one it set.
    previous_status: Option<(CertificateStatus, CertificateStatus)>,
    /// RegisterCertificateWithoutCA failed in a way that may have taken
    /// effect (no answer): a certificate AWS registered after this moment
    /// (Unix ms) is this request's.
    maybe_registered_since: Option<i64>,
}

/// How far AWS's clock may be from ours when telling whether a certificate
/// was registered after this request claimed it.
const CLOCK_SKEW_MS: i64 = 5_000;

/// Registers one certificate in one ready target, holding its certificate
/// and thing records meanwhile.
pub(crate) async fn register_pair(
    ready: &ReadyTarget,
    cert: &PreparedCertificate,
    policy: &str,
    activate: bool,
    acting: &Acting<'_>,
) -> Result<Registration, TargetError> {
    if acting.out_of_time() {
        return Err(failure::error(
            TargetErrorCode::NotAttempted,
            "not started: too little of this request's time was left; send it again",
        ));
    }
    let started = Instant::now();
    let target = &ready.context.target;
    let caller = acting.caller;
    // The records are taken while AWS says whether the thing exists: a
    // read that changes nothing need not wait for them.
    let entry = Entry::new(caller, acting.owner, target, &cert.id, acting.action)
        .thing(Some(&cert.thing))
        .policy(Some(policy))
        .not_after_ms(Some(cert.not_after_ms))
        .related(acting.replaces);
    let (held, thing_existed, intended) = futures::join!(
        take_records(acting, target, cert),
        ready.context.registry.thing_exists(&cert.thing),
        entry.intend(acting.ledger),
    );
    let (cert_held, thing_held) = match (held, intended) {
        (Ok(held), Ok(())) => held,
        (Ok((cert_held, thing_held)), Err(e)) => {
            let (c, t) =
                futures::join!(cert_held.undo(acting.store), thing_held.undo(acting.store));
            release(c);
            release(t);
            return Err(log_failure(caller, cert, target, started, e));
        }
        (Err(e), intended) => {
            if intended.is_ok() {
                entry.conclude(acting.ledger, Err(&e)).await;
            }
            return Err(log_failure(caller, cert, target, started, e));
        }
    };

    let mut undo = Undo::default();
    let result = apply(
        ready,
        cert,
        policy,
        activate,
        (&cert_held, &thing_held),
        thing_existed,
        acting.replaces,
        &mut undo,
    )
    .await;
    match result {
        Ok(registration) => {
            let mut cert_record = cert_held.record.clone();
            cert_record.state = OwnershipState::Registered;
            cert_record.peer = Some(cert.thing.clone());
            cert_record.policy = Some(policy.to_owned());
            let mut thing_record = thing_held.record.clone();
            thing_record.state = OwnershipState::Registered;
            thing_record.peer = Some(cert.id.clone());
            let known = cert_record.facts.take();
            cert_record.facts = Some(Facts {
                target: target.id.clone(),
                not_after_ms: cert.not_after_ms,
                status: Some(registration.status),
                registered_by: known
                    .as_ref()
                    .map_or_else(|| caller.display().to_owned(), |f| f.registered_by.clone()),
                registered_at_ms: known
                    .as_ref()
                    .map_or(acting.clock.now_ms, |f| f.registered_at_ms),
                predecessor: acting
                    .replaces
                    .map(str::to_owned)
                    .or_else(|| known.as_ref().and_then(|f| f.predecessor.clone())),
                successor: known.and_then(|f| f.successor),
            });
            let detail = if registration.newly_registered {
                "registered"
            } else {
                "already registered"
            };
            let (c, t, ()) = futures::join!(
                cert_held.finish(acting.store, cert_record),
                thing_held.finish(acting.store, thing_record),
                entry.conclude(acting.ledger, Ok((Some(registration.status), detail))),
            );
            // AWS is as the answer says; a record left claimed is completed by
            // the owner's next request, and its lease runs out by itself.
            release(c);
            release(t);
            tracing::info!(
                action = "register", caller = caller.display(), sub = %caller.subject,
                certificate_id = %cert.id, target = %target.id, thing = %cert.thing,
                outcome = "ok", newly_registered = registration.newly_registered,
                duration_ms = started.elapsed().as_millis() as u64,
            );
            Ok(registration)
        }
        Err(mut error) => {
            let (c, t) = match roll_back(ready, &undo).await {
                // AWS is as before this request: so are the records.
                Ok(()) => {
                    futures::join!(cert_held.undo(acting.store), thing_held.undo(acting.store))
                }
                // Something this request made may still be in AWS: the
                // records stay claimed for the owner, whose next request
                // completes or replaces it (without them, a certificate left
                // behind would look registered outside Marshal).
                Err(problem) => {
                    error.message = format!(
                        "{} (rollback incomplete: {problem}; send the request again to complete it)",
                        error.message
                    );
                    futures::join!(
                        keep_claimed(&cert_held, acting.store),
                        keep_claimed(&thing_held, acting.store)
                    )
                }
            };
            release(c);
            release(t);
            entry.conclude(acting.ledger, Err(&error)).await;
            Err(log_failure(caller, cert, target, started, error))
        }
    }
}

/// Takes the certificate's and the thing's records for this request.
///
/// New ones (a first registration) are made side by side, one conditional
/// write each. Otherwise the certificate's is taken first, then its thing's:
/// a request holds a thing's record only while it holds its certificate's,
/// so of two requests for one certificate, one gets both. A thing's record
/// made beside a certificate's that exists is handed back before anything
/// else; the holder of the certificate's waits for that, briefly.
async fn take_records(
    acting: &Acting<'_>,
    target: &crate::config::Target,
    cert: &PreparedCertificate,
) -> Result<(Held, Held), TargetError> {
    let store = acting.store;
    let busy = "another request is changing this certificate or its thing in this target; try again in a few seconds";
    let cert_key = OwnershipKey::certificate(target, &cert.id);
    let thing_key = OwnershipKey::thing(target, &cert.thing);
    let fresh = Ownership::claimed(acting.owner, acting.clock.now_ms);
    let (cert_new, thing_new) = futures::join!(
        Held::take_new(store, cert_key.clone(), fresh.clone(), acting.clock),
        Held::take_new(store, thing_key.clone(), fresh, acting.clock),
    );
    let (cert_new, thing_new) = match (cert_new, thing_new) {
        (Ok(c), Ok(t)) => (c, t),
        (c, t) => {
            for made in [
                c.as_ref().ok().and_then(Option::as_ref),
                t.as_ref().ok().and_then(Option::as_ref),
            ]
            .into_iter()
            .flatten()
            {
                release(made.remove(store).await);
            }
            let e = c.err().or(t.err()).unwrap_or(StoreError::Conflict);
            return Err(store_failure(&e));
        }
    };
    let (cert_held, thing_new) = match cert_new {
        Some(held) => (held, thing_new),
        None => {
            if let Some(made) = &thing_new {
                release(made.remove(store).await);
            }
            let held = taken(
                Held::take(store, cert_key, acting.clock, |r| {
                    acting.claim(target, r, || failure::error(
                        TargetErrorCode::CertificateNotManaged,
                        "this certificate was registered here through Marshal by another user or group; it is left as it is",
                    ))
                })
                .await,
                busy,
            )?;
            (held, None)
        }
    };
    if let Some(thing_held) = thing_new {
        return Ok((cert_held, thing_held));
    }
    let mut pauses = THING_PATIENCE.iter();
    let thing_held = loop {
        let attempt = Held::take(store, thing_key.clone(), acting.clock, |r| {
            acting.claim(target, r, || {
                failure::error(
                    TargetErrorCode::ThingInUse,
                    format!(
                        "thing \"{}\" belongs to another user or group; choose another thing name",
                        cert.thing
                    ),
                )
            })
        })
        .await;
        match (attempt, pauses.next()) {
            (Err(TakeError::Busy), Some(pause)) => tokio::time::sleep(*pause).await,
            (attempt, _) => break taken(attempt, busy),
        }
    };
    match thing_held {
        Ok(thing_held) => Ok((cert_held, thing_held)),
        Err(e) => {
            release(cert_held.undo(store).await);
            Err(e)
        }
    }
}

/// How long the holder of a certificate's record waits for its thing's,
/// which a request that lost the certificate's may still be handing back.
const THING_PATIENCE: [Duration; 3] = [
    Duration::from_millis(50),
    Duration::from_millis(100),
    Duration::from_millis(200),
];

/// Hands a record back after an incomplete rollback: one this request
/// claimed stays claimed, lease cleared; an earlier one stays as it was.
async fn keep_claimed(
    held: &Held,
    store: &dyn OwnershipStore,
) -> Result<(), crate::service::ownership::StoreError> {
    match held.before {
        None => held.give_back(store).await,
        Some(_) => held.undo(store).await,
    }
}

/// Logs a store failure while handing a record back; the lease runs out by itself.
pub(crate) fn release(result: Result<(), crate::service::ownership::StoreError>) {
    if let Err(e) = result {
        tracing::warn!(error = %e, "could not hand an ownership record back; its lease runs out by itself");
    }
}

fn log_failure(
    caller: &Caller,
    cert: &PreparedCertificate,
    target: &crate::config::Target,
    started: Instant,
    error: TargetError,
) -> TargetError {
    tracing::warn!(
        action = "register", caller = caller.display(), sub = %caller.subject,
        certificate_id = %cert.id, target = %target.id, thing = %cert.thing,
        outcome = "failed", code = ?error.code, message = %error.message,
        duration_ms = started.elapsed().as_millis() as u64,
    );
    error
}

#[allow(clippy::too_many_lines, clippy::too_many_arguments)]
async fn apply(
    ready: &ReadyTarget,
    cert: &PreparedCertificate,
    policy: &str,
    activate: bool,
    (cert_held, thing_held): (&Held, &Held),
    thing_existed: Result<bool, RegistryError>,
    acting_replaces: Option<&str>,
    undo: &mut Undo,
) -> Result<Registration, TargetError> {
    let registry = &ready.context.registry;
    let aws = |e: RegistryError| failure::target_error(&e);
    let wanted = if activate {
        CertificateStatus::Active
    } else {
        CertificateStatus::Inactive
    };
    // A certificate its owner registered before keeps its status: a
    // registration never changes what was already in service (an earlier
    // request that was cut off, still `claimed`, is completed instead).
    let keeps_status = cert_held
        .before
        .as_ref()
        .is_some_and(|r| r.state == OwnershipState::Registered);
    let thing_known = thing_held.before.is_some();
    // The early answer holds for a thing whose record this request made
    // (no other Marshal request could make the thing meanwhile); for one
    // Marshal knew, its owner's last request may have changed it since:
    // asked again, now that its record is held.
    let thing_existed = if thing_known {
        registry.thing_exists(&cert.thing).await
    } else {
        thing_existed
    }
    .map_err(aws)?;
    if thing_existed && !thing_known {
        return Err(failure::error(
            TargetErrorCode::ThingInUse,
            format!(
                "thing \"{}\" already exists in this target and Marshal did not create it; \
                 choose another thing name (a target admin can adopt it)",
                cert.thing
            ),
        ));
    }

    // One round trip: register, create the thing when it is missing (it
    // is this request's: its record is held), and for a thing Marshal knows,
    // which certificates it has.
    let create_thing = async {
        if thing_existed {
            return (None, Ok(()));
        }
        // Noted before the call: a call whose reply was lost may still
        // have made it, and deleting one that is not there is harmless.
        (
            Some(cert.thing.clone()),
            registry.create_thing(&cert.thing).await,
        )
    };
    let (registered, (thing_created, thing_result), principals) = futures::join!(
        registry.register_without_ca(&cert.pem, CertificateStatus::Inactive),
        create_thing,
        async {
            if thing_known {
                match registry.thing_principals(&cert.thing).await {
                    Err(e) if e.kind == RegistryErrorKind::NotFound => Ok(Vec::new()),
                    other => other,
                }
            } else {
                Ok(Vec::new())
            }
        },
    );
    undo.created_thing = thing_created;
    // A claim this request made is younger than anything registered
    // before it: what AWS registered after it is this request's (a retried
    // call whose first reply was lost answers AlreadyExists).
    let claimed_at = cert_held
        .before
        .is_none()
        .then_some(cert_held.record.updated_ms - CLOCK_SKEW_MS);
    let record: CertificateRecord = match registered {
        Ok(record) => {
            undo.registered = true;
            record
        }
        Err(e) if e.kind == RegistryErrorKind::AlreadyExists => {
            // Until the answer below says otherwise, it may be this
            // request's (a lost first reply): a failure from here on lets
            // the rollback look again, rather than leave it behind.
            if claimed_at.is_some() {
                undo.id = Some(cert.id.clone());
                undo.maybe_registered_since = claimed_at;
            }
            let record = registry
                .describe_certificate(&cert.id)
                .await
                .map_err(aws)?
                .ok_or_else(|| {
                    failure::error(
                        TargetErrorCode::AwsConflict,
                        "AWS says the certificate exists but cannot describe it",
                    )
                })?;
            if let Some(since) = claimed_at {
                if !fresh_and_bare(registry.as_ref(), &record, since)
                    .await
                    .map_err(aws)?
                {
                    // Not this request's: only the thing it made is undone.
                    *undo = Undo {
                        created_thing: undo.created_thing.take(),
                        ..Undo::default()
                    };
                    return Err(failure::error(
                        TargetErrorCode::CertificateNotManaged,
                        "this certificate is already registered in this target and Marshal did not register it; \
                         it is left as it is (a target admin can adopt it)",
                    ));
                }
                undo.maybe_registered_since = None;
                undo.registered = true;
            }
            record
        }
        Err(e) => {
            // No answer, or an answer to a retry: the SDK retries a call
            // whose reply was lost, so even a throttled last attempt may
            // follow a first one that AWS carried out. Only a refusal of
            // the request itself (invalid, denied) says nothing happened.
            if matches!(
                e.kind,
                RegistryErrorKind::Unavailable
                    | RegistryErrorKind::Timeout
                    | RegistryErrorKind::Throttled
            ) {
                undo.id = Some(cert.id.clone());
                undo.maybe_registered_since = claimed_at;
            }
            return Err(aws(e));
        }
    };
    undo.id = Some(record.id.clone());
    undo.arn = Some(record.arn.clone());
    thing_result.map_err(aws)?;
    if record.id != cert.id {
        return Err(failure::error(
            TargetErrorCode::CertificateIdMismatch,
            format!(
                "AWS computed certificate ID {} but the SHA-256 of the DER is {}",
                record.id, cert.id
            ),
        ));
    }
    if record.status == CertificateStatus::Revoked && activate && !keeps_status {
        return Err(failure::error(
            TargetErrorCode::CertificateRevoked,
            "the certificate is REVOKED in this target; AWS cannot make it ACTIVE again",
        ));
    }
    let replaced = |p: &str| {
        acting_replaces.is_some_and(|old| p.rsplit_once("cert/").is_some_and(|(_, id)| id == old))
    };
    if principals
        .map_err(aws)?
        .iter()
        .any(|p| p != &record.arn && !replaced(p))
    {
        return Err(failure::error(
            TargetErrorCode::ThingInUse,
            format!(
                "thing \"{}\" already has another certificate attached; a thing has one certificate \
                 through Marshal (rotate or delete the other first)",
                cert.thing
            ),
        ));
    }

    // Only a certificate that was already there keeps its status; one this
    // request registered (again, after it went missing) gets the wanted one.
    let status = if keeps_status && !undo.registered {
        record.status
    } else {
        wanted
    };
    // The last round trip: the policy, the thing and the status side by
    // side. A certificate made ACTIVE before its policy is attached can do
    // nothing meanwhile (no policy allows nothing), and a failure of any
    // branch rolls all three back. Each branch says what it changed, even
    // when it fails, so the rollback undoes exactly that.
    let newly = undo.registered;
    let attach_policy = async {
        let mut attached = None;
        let result = async {
            let policies = if newly {
                Vec::new()
            } else {
                registry.attached_policies(&record.arn).await?
            };
            if !policies.iter().any(|p| p == policy) {
                attached = Some(policy.to_owned());
                registry.attach_policy(policy, &record.arn).await?;
            }
            Ok(())
        }
        .await;
        (attached, result)
    };
    let attach_thing = async {
        let mut attached = None;
        let result = async {
            let things = if newly {
                Vec::new()
            } else {
                registry.attached_things(&record.arn).await?
            };
            if !things.iter().any(|t| t == &cert.thing) {
                attached = Some(cert.thing.clone());
                registry.attach_thing(&cert.thing, &record.arn).await?;
            }
            Ok(())
        }
        .await;
        (attached, result)
    };
    let set_status = async {
        if record.status == status {
            return (None, Ok(()));
        }
        // Noted first: an ACTIVE certificate whose reply was lost must still
        // go back to its old status, or the rollback could not delete it.
        (
            Some((record.status, status)),
            registry.update_status(&cert.id, status).await,
        )
    };
    let (
        (policy_attached, policy_result),
        (thing_attached, attach_result),
        (status_set, status_result),
    ) = futures::join!(attach_policy, attach_thing, set_status);
    undo.attached_policy = policy_attached;
    undo.attached_thing = thing_attached;
    undo.previous_status = status_set;
    policy_result.map_err(|e: RegistryError| {
        if e.kind != RegistryErrorKind::NotFound {
            return aws(e);
        }
        // Deleted since it was last seen: the next request looks again
        // (and creates it from its template).
        ready.policy.forget();
        failure::error(
            TargetErrorCode::PolicyMissing,
            format!(
                "policy \"{policy}\" is no longer in this target (deleted outside Marshal?); \
                 send the request again to create it from its template"
            ),
        )
    })?;
    attach_result.map_err(aws)?;
    status_result.map_err(aws)?;

    Ok(Registration {
        certificate_arn: record.arn,
        status,
        policy: policy.to_owned(),
        thing: cert.thing.clone(),
        endpoint: ready.endpoint.clone(),
        newly_registered: undo.registered,
    })
}

/// Undoes, in reverse order, what [`apply`] did. Best effort: every step is
/// tried; the first problem is reported. The status goes back only if it is
/// still the one this request set.
async fn roll_back(ready: &ReadyTarget, undo: &Undo) -> Result<(), String> {
    let registry = &ready.context.registry;
    let mut problems = Vec::new();
    let mut note = |what: &str, r: Result<(), RegistryError>| match r {
        // Already gone (a retried call may have done it): that is the goal.
        Err(e) if e.kind == RegistryErrorKind::NotFound => {}
        Err(e) => problems.push(format!("{what}: {}", e.message)),
        Ok(()) => {}
    };
    if let (Some(id), Some(since)) = (undo.id.as_deref(), undo.maybe_registered_since) {
        // No answer to the registration: if it went through, it is ours to remove.
        match registry.describe_certificate(id).await {
            Ok(Some(record)) => match fresh_and_bare(registry.as_ref(), &record, since).await {
                Ok(true) => note("delete certificate", registry.delete_certificate(id).await),
                Ok(false) => {}
                Err(e) => note("look at the certificate", Err(e)),
            },
            Ok(None) => {}
            Err(e) => note("look at the certificate", Err(e)),
        }
    } else if let (Some(id), Some(arn)) = (undo.id.as_deref(), undo.arn.as_deref()) {
        if let Some((previous, set)) = undo.previous_status {
            match registry.describe_certificate(id).await {
                Ok(Some(now)) if now.status == set => {
                    note("restore status", registry.update_status(id, previous).await)
                }
                Ok(_) => {}
                Err(e) => note("restore status", Err(e)),
            }
        }
        if let Some(thing) = &undo.attached_thing {
            note("detach thing", registry.detach_thing(thing, arn).await);
        }
        if let Some(policy) = &undo.attached_policy {
            note("detach policy", registry.detach_policy(policy, arn).await);
        }
        if undo.registered {
            note("delete certificate", registry.delete_certificate(id).await);
        }
    }
    // Made beside the registration: undone whatever became of the certificate.
    if let Some(thing) = &undo.created_thing {
        note("delete thing", registry.delete_thing(thing).await);
    }
    match problems.into_iter().next() {
        None => Ok(()),
        Some(first) => Err(first),
    }
}

/// Whether `record` can only be what this request registered although AWS's
/// answer did not say so (a lost reply): registered after the claim, still
/// INACTIVE, nothing attached. Anything else is someone else's.
async fn fresh_and_bare(
    registry: &dyn crate::service::registry::CertificateRegistry,
    record: &CertificateRecord,
    since: i64,
) -> Result<bool, RegistryError> {
    if record.status != CertificateStatus::Inactive
        || record.created_ms.is_none_or(|created| created < since)
    {
        return Ok(false);
    }
    let (policies, things) = futures::join!(
        registry.attached_policies(&record.arn),
        registry.attached_things(&record.arn)
    );
    Ok(policies?.is_empty() && things?.is_empty())
}
