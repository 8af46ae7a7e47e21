//! One (certificate, target) pair: take its certificate's and thing's
//! records, register, attach, activate, hand the records back, and undo
//! exactly what this request did when a step fails.

use std::time::{Duration, Instant};

use marshal_shared::api::{CertificateStatus, Registration, TargetError, TargetErrorCode};

use super::{PreparedCertificate, ReadyTarget};
use crate::{
    identity::Caller,
    service::{
        failure,
        ownership::{
            Held, LeaseClock, Owner, Ownership, OwnershipKey, OwnershipState, OwnershipStore,
            TakeError,
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
        TakeError::Store(message) => failure::error(
            TargetErrorCode::OwnershipUnavailable,
            format!("the ownership records could not be read or written: {message}"),
        ),
    })
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
    // The certificate first, then its thing: always in this order, so two
    // requests for one certificate never each hold half of what both need.
    let busy = "another request is changing this certificate or its thing in this target; try again in a few seconds";
    let cert_held = taken(
        Held::take(
            acting.store,
            OwnershipKey::certificate(target, &cert.id),
            acting.clock,
            |r| acting.claim(target, r, || failure::error(
                TargetErrorCode::CertificateNotManaged,
                "this certificate was registered here through Marshal by another user or group; it is left as it is",
            )),
        )
        .await,
        busy,
    )
    .map_err(|e| log_failure(caller, cert, target, started, e))?;
    let thing_held = taken(
        Held::take(
            acting.store,
            OwnershipKey::thing(target, &cert.thing),
            acting.clock,
            |r| acting.claim(target, r, || failure::error(
                TargetErrorCode::ThingInUse,
                format!("thing \"{}\" belongs to another user or group; choose another thing name", cert.thing),
            )),
        )
        .await,
        busy,
    );
    let thing_held = match thing_held {
        Ok(held) => held,
        Err(e) => {
            release(cert_held.undo(acting.store).await);
            return Err(log_failure(caller, cert, target, started, e));
        }
    };

    let mut undo = Undo::default();
    let result = apply(
        ready,
        cert,
        policy,
        activate,
        &cert_held,
        &thing_held,
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
            let (c, t) = futures::join!(
                cert_held.finish(acting.store, cert_record),
                thing_held.finish(acting.store, thing_record),
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
            Err(log_failure(caller, cert, target, started, error))
        }
    }
}

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

async fn apply(
    ready: &ReadyTarget,
    cert: &PreparedCertificate,
    policy: &str,
    activate: bool,
    cert_held: &Held,
    thing_held: &Held,
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

    // Independent questions in one round trip: register, does the thing
    // exist, and (for a thing Marshal knows) which certificates it has.
    let (registered, thing_existed, principals) = futures::join!(
        registry.register_without_ca(&cert.pem, CertificateStatus::Inactive),
        registry.thing_exists(&cert.thing),
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
                    *undo = Undo::default();
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
            if matches!(
                e.kind,
                RegistryErrorKind::Unavailable | RegistryErrorKind::Timeout
            ) {
                undo.id = Some(cert.id.clone());
                undo.maybe_registered_since = claimed_at;
            }
            return Err(aws(e));
        }
    };
    undo.id = Some(record.id.clone());
    undo.arn = Some(record.arn.clone());
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
    let thing_existed = thing_existed.map_err(aws)?;
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
    if principals.map_err(aws)?.iter().any(|p| p != &record.arn) {
        return Err(failure::error(
            TargetErrorCode::ThingInUse,
            format!(
                "thing \"{}\" already has another certificate attached; a thing has one certificate \
                 through Marshal (rotate or delete the other first)",
                cert.thing
            ),
        ));
    }

    // The policy and the thing are attached side by side; each branch says
    // what it changed, even when it fails, so the rollback undoes exactly that.
    let attach_policy = async {
        let mut attached = None;
        let result = async {
            let policies = if undo.registered {
                Vec::new()
            } else {
                registry.attached_policies(&record.arn).await?
            };
            if !policies.iter().any(|p| p == policy) {
                // Noted before the call: a call that failed may still have
                // happened (the reply was lost), and undoing one that did
                // not is a harmless NotFound.
                attached = Some(policy.to_owned());
                registry.attach_policy(policy, &record.arn).await?;
            }
            Ok(())
        }
        .await;
        (attached, result)
    };
    let attach_thing = async {
        let (mut created, mut attached) = (None, None);
        let result = async {
            if !thing_existed {
                created = Some(cert.thing.clone());
                registry.create_thing(&cert.thing).await?;
            }
            let things = if undo.registered {
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
        (created, attached, result)
    };
    let ((policy_attached, policy_result), (thing_created, thing_attached, thing_result)) =
        futures::join!(attach_policy, attach_thing);
    undo.attached_policy = policy_attached;
    undo.created_thing = thing_created;
    undo.attached_thing = thing_attached;
    policy_result.map_err(aws)?;
    thing_result.map_err(aws)?;

    // Only a certificate that was already there keeps its status; one this
    // request registered (again, after it went missing) gets the wanted one.
    let status = if keeps_status && !undo.registered {
        record.status
    } else {
        wanted
    };
    if record.status != status {
        // Noted first: an ACTIVE certificate whose reply was lost must still
        // go back to its old status, or the rollback could not delete it and
        // would leave it ACTIVE without its policy.
        undo.previous_status = Some((record.status, status));
        registry
            .update_status(&cert.id, status)
            .await
            .map_err(aws)?;
    }

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
    if let (Some(id), Some(since)) = (undo.id.as_deref(), undo.maybe_registered_since) {
        // No answer to the registration: if it went through, it is ours to remove.
        let ours = match registry.describe_certificate(id).await {
            Ok(Some(record)) => fresh_and_bare(registry.as_ref(), &record, since).await,
            Ok(None) => Ok(false),
            Err(e) => Err(e),
        };
        return match ours {
            Ok(true) => match registry.delete_certificate(id).await {
                Err(e) if e.kind != RegistryErrorKind::NotFound => {
                    Err(format!("delete certificate: {}", e.message))
                }
                _ => Ok(()),
            },
            Ok(false) => Ok(()),
            Err(e) => Err(format!("look at the certificate: {}", e.message)),
        };
    }
    let (Some(id), Some(arn)) = (undo.id.as_deref(), undo.arn.as_deref()) else {
        return Ok(());
    };
    let mut problems = Vec::new();
    let mut note = |what: &str, r: Result<(), RegistryError>| match r {
        // Already gone (a retried call may have done it): that is the goal.
        Err(e) if e.kind == RegistryErrorKind::NotFound => {}
        Err(e) => problems.push(format!("{what}: {}", e.message)),
        Ok(()) => {}
    };
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
    if let Some(thing) = &undo.created_thing {
        note("delete thing", registry.delete_thing(thing).await);
    }
    if let Some(policy) = &undo.attached_policy {
        note("detach policy", registry.detach_policy(policy, arn).await);
    }
    if undo.registered {
        note("delete certificate", registry.delete_certificate(id).await);
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
