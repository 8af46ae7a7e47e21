//! Managing a registered certificate across targets: look it up, change its
//! status, delete it. Only what Marshal registered for the caller (or their
//! group), or what an admin of the target manages, is changed: every record
//! is taken first, and one that is not the caller's refuses the whole request
//! before anything changes.

use std::time::Instant;

use futures::future::join_all;
use marshal_shared::api::{
    CertificateStatus, DeleteCertificateResponse, ErrorCode, GetCertificateResponse, LedgerAction,
    TargetCertificate, TargetError, TargetErrorCode, TargetOutcome, UpdateStatusResponse,
};

use super::{
    Service, TargetContext, failure,
    ledger::Entry,
    ownership::{Held, LeaseClock, Ownership, OwnershipKey, Standing, TakeError},
    registration::release,
    registry::{RegistryError, RegistryErrorKind},
};
use crate::{config::Target, error::ApiError, identity::Caller};

/// A target made ready for a change: its record held, or no record and no
/// certificate there.
pub(crate) enum Prepared {
    /// The record is held by this request.
    Held(Box<TargetContext>, Box<Held>),
    /// Neither Marshal nor AWS has the certificate there.
    Absent,
}

impl Service {
    /// `GET /v1/certificates/{id}`: every visible target, in parallel. Policy
    /// and thing names only where the caller manages the certificate or
    /// administers the target.
    pub async fn lookup(&self, caller: &Caller, id: &str) -> GetCertificateResponse {
        let targets: Vec<Target> = self.visible_targets(caller).into_iter().cloned().collect();
        let results = join_all(targets.iter().map(|t| async move {
            match self.lookup_in(t, caller, id).await {
                Ok(found) => found,
                Err(error) => TargetCertificate {
                    target: t.id.clone(),
                    present: false,
                    status: None,
                    managed: false,
                    policies: Vec::new(),
                    things: Vec::new(),
                    certificate_pem: None,
                    error: Some(error),
                },
            }
        }))
        .await;
        GetCertificateResponse {
            certificate_id: id.to_owned(),
            targets: results,
        }
    }

    async fn lookup_in(
        &self,
        target: &Target,
        caller: &Caller,
        id: &str,
    ) -> Result<TargetCertificate, TargetError> {
        let ctx = self.open(target, caller).await?;
        let aws = |e: RegistryError| failure::target_error(&e);
        let key = OwnershipKey::certificate(target, id);
        let (record, ownership) = futures::join!(
            ctx.registry.describe_certificate(id),
            self.ownership.get(&key)
        );
        let mut found = TargetCertificate {
            target: target.id.clone(),
            present: false,
            status: None,
            managed: false,
            policies: Vec::new(),
            things: Vec::new(),
            certificate_pem: None,
            error: None,
        };
        let Some(record) = record.map_err(aws)? else {
            return Ok(found);
        };
        let ownership = ownership
            .map_err(|e| failure::error(TargetErrorCode::OwnershipUnavailable, e.to_string()))?;
        found.present = true;
        found.status = Some(record.status);
        found.managed =
            Standing::of(caller, target, ownership.as_ref().map(|s| &s.record)).may_manage();
        if found.managed || caller.is_admin(target) {
            let (policies, things) = futures::join!(
                ctx.registry.attached_policies(&record.arn),
                ctx.registry.attached_things(&record.arn)
            );
            found.policies = policies.map_err(aws)?;
            found.things = things.map_err(aws)?;
            // What rotating it in the page needs: its subject and key type.
            found.certificate_pem = Some(record.pem);
        }
        Ok(found)
    }

    /// `POST /v1/certificates/{id}/status`. REVOKED (for good) is for the
    /// targets' admins only.
    pub async fn update_status(
        &self,
        caller: &Caller,
        id: &str,
        status: CertificateStatus,
        target_ids: &[String],
        deadline: Instant,
    ) -> Result<UpdateStatusResponse, ApiError> {
        if status == CertificateStatus::Other {
            return Err(ApiError::new(
                ErrorCode::InvalidRequest,
                "status must be ACTIVE, INACTIVE or REVOKED",
            ));
        }
        let targets = self.resolve_targets(caller, target_ids)?;
        if status == CertificateStatus::Revoked {
            self.require_admin(caller, &targets, "REVOKED cannot be undone, so it is")?;
        }
        let results = self
            .in_each_target(caller, id, &targets, Action::SetStatus(status), deadline)
            .await?;
        Ok(UpdateStatusResponse {
            certificate_id: id.to_owned(),
            results,
        })
    }

    /// `DELETE /v1/certificates/{id}`: absent is not an error.
    pub async fn delete(
        &self,
        caller: &Caller,
        id: &str,
        target_ids: &[String],
        deadline: Instant,
    ) -> Result<DeleteCertificateResponse, ApiError> {
        let targets = self.resolve_targets(caller, target_ids)?;
        let results = self
            .in_each_target(caller, id, &targets, Action::Delete, deadline)
            .await?;
        Ok(DeleteCertificateResponse {
            certificate_id: id.to_owned(),
            results,
        })
    }

    /// 403 unless `caller` administers every one of `targets`.
    pub(crate) fn require_admin(
        &self,
        caller: &Caller,
        targets: &[Target],
        what: &str,
    ) -> Result<(), ApiError> {
        match targets.iter().find(|t| !caller.is_admin(t)) {
            None => Ok(()),
            Some(t) => Err(ApiError::new(
                ErrorCode::AdminOnly,
                format!(
                    "{what} only for the admin groups of each target, and you do not administer \"{}\"",
                    t.id
                ),
            )),
        }
    }

    /// Takes the certificate's record in every target, then runs `action`
    /// in each. A target where the certificate is not the caller's to change
    /// refuses the whole request, and nothing is changed anywhere.
    async fn in_each_target(
        &self,
        caller: &Caller,
        id: &str,
        targets: &[Target],
        action: Action,
        deadline: Instant,
    ) -> Result<Vec<TargetOutcome>, ApiError> {
        let clock = LeaseClock::until(deadline);
        let prepared = join_all(targets.iter().map(|t| self.prepare(t, caller, id, &clock))).await;
        self.refuse_unmanaged(targets, &prepared).await?;
        Ok(join_all(
            targets
                .iter()
                .zip(prepared)
                .map(|(t, prepared)| async move {
                    let outcome = match prepared {
                        Ok(Prepared::Held(ctx, held)) => {
                            self.act(caller, &ctx, id, &held, action).await
                        }
                        Ok(Prepared::Absent) => match action {
                            Action::SetStatus(_) => Err(failure::error(
                                TargetErrorCode::NotRegistered,
                                "the certificate is not registered in this target",
                            )),
                            Action::Delete | Action::Retire => {
                                Ok((None, "was not registered".into()))
                            }
                        },
                        Err(e) => Err(e),
                    };
                    log(action.name(), caller, id, t, &outcome);
                    outcome_of(t, outcome)
                }),
        )
        .await)
    }

    /// When any target refused for ownership, hands back every record taken
    /// and refuses the request.
    pub(crate) async fn refuse_unmanaged(
        &self,
        targets: &[Target],
        prepared: &[Result<Prepared, TargetError>],
    ) -> Result<(), ApiError> {
        let Some((target, error)) = targets.iter().zip(prepared).find_map(|(t, p)| match p {
            Err(e) if e.code == TargetErrorCode::CertificateNotManaged => Some((t, e)),
            _ => None,
        }) else {
            return Ok(());
        };
        // The records cannot be moved out of a borrowed slice; their leases
        // are given back by writing the unchanged record.
        for p in prepared {
            if let Ok(Prepared::Held(_, held)) = p {
                release(held.give_back(self.ownership.as_ref()).await);
            }
        }
        Err(ApiError::new(
            ErrorCode::CertificateNotManaged,
            format!(
                "target \"{}\": {}; nothing was changed in any target",
                target.id, error.message
            ),
        ))
    }

    /// Opens `target` and takes the certificate's record there, if the
    /// caller may change it.
    pub(crate) async fn prepare(
        &self,
        target: &Target,
        caller: &Caller,
        id: &str,
        clock: &LeaseClock,
    ) -> Result<Prepared, TargetError> {
        let ctx = self.open(target, caller).await?;
        let taken = Held::take(
            self.ownership.as_ref(),
            OwnershipKey::certificate(target, id),
            clock,
            |r: Option<&Ownership>| match Standing::of(caller, target, r) {
                Standing::Owner | Standing::Admin => Ok(r
                    .cloned()
                    .unwrap_or_else(|| unreachable!("a standing above Unmanaged has a record"))),
                Standing::Foreign => Err(Some(failure::error(
                    TargetErrorCode::CertificateNotManaged,
                    "the certificate belongs to another user or group here",
                ))),
                Standing::Unmanaged => Err(None),
            },
        )
        .await;
        match taken {
            Ok(held) => Ok(Prepared::Held(Box::new(ctx), Box::new(held))),
            Err(TakeError::Refused(Some(error))) => Err(error),
            // No record: fine only where the certificate is not there at all.
            Err(TakeError::Refused(None)) => match ctx.registry.describe_certificate(id).await {
                Ok(None) => Ok(Prepared::Absent),
                Ok(Some(_)) => Err(failure::error(
                    TargetErrorCode::CertificateNotManaged,
                    "the certificate was registered outside Marshal (a target admin can adopt it)",
                )),
                Err(e) => Err(failure::target_error(&e)),
            },
            Err(TakeError::Busy) => Err(failure::error(
                TargetErrorCode::CertificateBusy,
                "another request is changing this certificate in this target; try again in a few seconds",
            )),
            Err(TakeError::Store(message)) => Err(failure::error(
                TargetErrorCode::OwnershipUnavailable,
                format!("the ownership records could not be read: {message}"),
            )),
        }
    }

    /// Runs `action` on a held certificate, recorded in the ledger, and
    /// hands its record back.
    pub(crate) async fn act(
        &self,
        caller: &Caller,
        ctx: &TargetContext,
        id: &str,
        held: &Held,
        action: Action,
    ) -> ActionResult {
        let store = self.ownership.as_ref();
        let ledger = self.ledger.as_ref();
        let record = &held.record;
        let entry = Entry::new(caller, &record.owner(), &ctx.target, id, action.ledger())
            .thing(record.peer.as_deref())
            .policy(record.policy.as_deref())
            .not_after_ms(record.facts.as_ref().map(|f| f.not_after_ms))
            .related(match action {
                Action::Retire => record.facts.as_ref().and_then(|f| f.successor.as_deref()),
                _ => None,
            });
        if let Err(e) = entry.intend(ledger).await {
            release(held.give_back(store).await);
            return Err(e);
        }
        let outcome = match action {
            Action::SetStatus(status) => set_status(ctx, id, status).await,
            Action::Delete | Action::Retire => self.delete_in(ctx, id, record).await,
        };
        let handed_back = async {
            match (action, &outcome) {
                (Action::Delete | Action::Retire, Ok(_)) => held.remove(store).await,
                (Action::SetStatus(_), Ok((Some(now), _))) => {
                    let mut record = record.clone();
                    if let Some(facts) = record.facts.as_mut() {
                        facts.status = Some(*now);
                    }
                    held.finish(store, record).await
                }
                _ => held.give_back(store).await,
            }
        };
        let (handed_back, ()) = futures::join!(
            handed_back,
            entry.conclude(
                ledger,
                outcome
                    .as_ref()
                    .map(|(status, detail)| (*status, detail.as_str()))
            )
        );
        release(handed_back);
        outcome
    }

    /// Deletes the certificate from one target, its record held: only when
    /// every attachment is Marshal's (an allowed policy, a thing of the same
    /// owner), detaching first, deactivating last, and putting everything
    /// back if a step fails.
    pub(crate) async fn delete_in(
        &self,
        ctx: &TargetContext,
        id: &str,
        owner: &Ownership,
    ) -> ActionResult {
        let aws = |e: RegistryError| failure::target_error(&e);
        let registry = &ctx.registry;
        let Some(record) = registry.describe_certificate(id).await.map_err(aws)? else {
            return Ok((None, "was not registered".into()));
        };
        let (policies, things) = futures::join!(
            registry.attached_policies(&record.arn),
            registry.attached_things(&record.arn)
        );
        let (policies, things) = (policies.map_err(aws)?, things.map_err(aws)?);
        let keys: Vec<OwnershipKey> = things
            .iter()
            .map(|t| OwnershipKey::thing(&ctx.target, t))
            .collect();
        let thing_records = join_all(keys.iter().map(|k| self.ownership.get(k))).await;
        let mut foreign: Vec<String> = policies
            .iter()
            .filter(|p| {
                !self
                    .config
                    .policies
                    .iter()
                    .any(|allowed| &allowed.name == *p)
            })
            .map(|p| format!("policy \"{p}\""))
            .collect();
        for (thing, stored) in things.iter().zip(thing_records) {
            let stored = stored.map_err(|e| {
                failure::error(TargetErrorCode::OwnershipUnavailable, e.to_string())
            })?;
            if !stored.is_some_and(|s| s.record.same_owner(owner)) {
                foreign.push(format!("thing \"{thing}\""));
            }
        }
        if !foreign.is_empty() {
            return Err(failure::error(
                TargetErrorCode::ForeignAttachment,
                format!(
                    "{} attached by someone other than Marshal for this certificate's owner; \
                     nothing was changed (detach them in AWS first, or ask a target admin)",
                    foreign.join(", ")
                ),
            ));
        }

        // Detach everything side by side, remembering what went, so a
        // failure can put it back.
        let arn = record.arn.as_str();
        let detach_policies = join_all(
            policies
                .iter()
                .map(|p| async move { (p, registry.detach_policy(p, arn).await) }),
        );
        let detach_things = join_all(
            things
                .iter()
                .map(|t| async move { (t, registry.detach_thing(t, arn).await) }),
        );
        let (policy_results, thing_results) = futures::join!(detach_policies, detach_things);
        let detached = Detached {
            policies: detached(&policy_results),
            things: detached(&thing_results),
        };
        if let Some(e) = first_error(&policy_results).or(first_error(&thing_results)) {
            detached.put_back(ctx, arn).await;
            return Err(aws(e));
        }
        let deactivated = record.status == CertificateStatus::Active;
        if deactivated
            && let Err(e) = registry
                .update_status(id, CertificateStatus::Inactive)
                .await
        {
            detached.put_back(ctx, arn).await;
            return Err(aws(e));
        }
        match registry.delete_certificate(id).await {
            // A retried DeleteCertificate whose first attempt went through.
            Ok(())
            | Err(RegistryError {
                kind: RegistryErrorKind::NotFound,
                ..
            }) => Ok((None, "deleted".into())),
            Err(e) => {
                if deactivated {
                    let _ = registry.update_status(id, CertificateStatus::Active).await;
                }
                detached.put_back(ctx, arn).await;
                Err(aws(e))
            }
        }
    }
}

/// What a delete detached, to put back when a later step fails.
struct Detached {
    policies: Vec<String>,
    things: Vec<String>,
}

impl Detached {
    async fn put_back(&self, ctx: &TargetContext, arn: &str) {
        let registry = &ctx.registry;
        let policies = join_all(self.policies.iter().map(|p| registry.attach_policy(p, arn)));
        let things = join_all(self.things.iter().map(|t| registry.attach_thing(t, arn)));
        let (p, t) = futures::join!(policies, things);
        for e in p.into_iter().chain(t).filter_map(Result::err) {
            tracing::warn!(target = %ctx.target.id, error = %e.message, "delete: could not put an attachment back");
        }
    }
}

fn detached(results: &[(&String, Result<(), RegistryError>)]) -> Vec<String> {
    results
        .iter()
        .filter(|(_, r)| r.is_ok())
        .map(|(name, _)| (*name).clone())
        .collect()
}

fn first_error(results: &[(&String, Result<(), RegistryError>)]) -> Option<RegistryError> {
    results.iter().find_map(|(_, r)| r.clone().err())
}

/// What to do in each target.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Action {
    SetStatus(CertificateStatus),
    Delete,
    /// Delete, as the end of a rotation.
    Retire,
}

impl Action {
    fn name(self) -> &'static str {
        self.ledger().as_str()
    }

    fn ledger(self) -> LedgerAction {
        match self {
            Action::SetStatus(_) => LedgerAction::SetStatus,
            Action::Delete => LedgerAction::Delete,
            Action::Retire => LedgerAction::Retire,
        }
    }
}

/// What an action did: status afterwards (if present) and words.
pub(crate) type ActionResult = Result<(Option<CertificateStatus>, String), TargetError>;

pub(crate) async fn set_status(
    ctx: &TargetContext,
    id: &str,
    status: CertificateStatus,
) -> ActionResult {
    let aws = |e: RegistryError| failure::target_error(&e);
    let Some(record) = ctx.registry.describe_certificate(id).await.map_err(aws)? else {
        return Err(failure::error(
            TargetErrorCode::NotRegistered,
            "the certificate is not registered in this target",
        ));
    };
    if record.status == status {
        return Ok((Some(status), format!("already {}", status.as_str())));
    }
    if record.status == CertificateStatus::Revoked {
        return Err(failure::error(
            TargetErrorCode::CertificateRevoked,
            "the certificate is REVOKED in this target; AWS allows no change from REVOKED",
        ));
    }
    ctx.registry.update_status(id, status).await.map_err(aws)?;
    Ok((
        Some(status),
        format!("{} → {}", record.status.as_str(), status.as_str()),
    ))
}

pub(crate) fn outcome_of(target: &Target, outcome: ActionResult) -> TargetOutcome {
    match outcome {
        Ok((status, detail)) => TargetOutcome {
            target: target.id.clone(),
            ok: true,
            status,
            detail,
            error: None,
        },
        Err(error) => TargetOutcome {
            target: target.id.clone(),
            ok: false,
            status: None,
            detail: error.message.clone(),
            error: Some(error),
        },
    }
}

pub(crate) fn log(
    action: &str,
    caller: &Caller,
    id: &str,
    target: &Target,
    outcome: &ActionResult,
) {
    match outcome {
        Ok((_, detail)) => {
            tracing::info!(action, caller = caller.display(), sub = %caller.subject, certificate_id = id, target = %target.id, outcome = "ok", detail = %detail)
        }
        Err(e) => {
            tracing::warn!(action, caller = caller.display(), sub = %caller.subject, certificate_id = id, target = %target.id, outcome = "failed", code = ?e.code, message = %e.message)
        }
    }
}
