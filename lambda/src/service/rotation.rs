//! Rotation, make before break: a successor certificate is registered in
//! every target where the old one is, with the old one's policy and thing,
//! while the old one stays ACTIVE; retiring later deactivates and deletes
//! the old one where its successor is registered and ACTIVE. Both need the
//! caller to manage the old certificate, hold its record throughout, are
//! idempotent and undone per target on failure, and are recorded in the
//! ledger.

use std::time::Instant;

use futures::future::join_all;
use marshal_shared::{
    OffsetDateTime,
    api::{
        CertificateInput, CertificateStatus, ErrorCode, LedgerAction, RegistrationResult,
        RetireCertificateRequest, RetireCertificateResponse, RotateCertificateRequest,
        RotateCertificateResponse, TargetError, TargetErrorCode,
    },
};

use super::{
    Service, TargetContext, failure,
    ledger::Entry,
    manage::{Action, ActionResult, Prepared, log, outcome_of},
    ownership::{Held, LeaseClock, OwnershipKey, Stored},
    registration::{Acting, PreparedCertificate, register_pair, release},
    registry::RegistryError,
};
use crate::{config::Target, error::ApiError, identity::Caller};

/// Passes the thing-name check of a prepared certificate; a rotation uses
/// each target's thing of the old certificate instead.
const EACH_TARGETS_THING: &str = "rotation";

impl Service {
    /// The targets a rotate or retire request names, or where the caller's
    /// own record of `id` says `wanted` (every target they may use; none
    /// may be found).
    async fn targets_of(
        &self,
        caller: &Caller,
        id: &str,
        named: Option<&Vec<String>>,
        wanted: impl Fn(&Stored) -> bool,
    ) -> Result<Vec<Target>, ApiError> {
        if let Some(ids) = named {
            return self.resolve_targets(caller, ids);
        }
        let visible: Vec<Target> = self.visible_targets(caller).into_iter().cloned().collect();
        let keys: Vec<OwnershipKey> = visible
            .iter()
            .map(|t| OwnershipKey::certificate(t, id))
            .collect();
        let records = join_all(keys.iter().map(|k| self.ownership.get(k))).await;
        let mut targets = Vec::new();
        for (target, record) in visible.into_iter().zip(records) {
            let record = record.map_err(|e| {
                ApiError::new(
                    ErrorCode::InternalError,
                    format!("the ownership records could not be read: {e}"),
                )
            })?;
            if record.as_ref().is_some_and(|r| {
                (r.record.owned_by(caller) || caller.is_admin(&target)) && wanted(r)
            }) {
                targets.push(target);
            }
        }
        Ok(targets)
    }

    /// `POST /v1/certificates/{id}/rotate`.
    pub async fn rotate(
        &self,
        caller: &Caller,
        id: &str,
        request: &RotateCertificateRequest,
        now: OffsetDateTime,
        deadline: Instant,
    ) -> Result<RotateCertificateResponse, ApiError> {
        let targets = self
            .targets_of(caller, id, request.targets.as_ref(), |_| true)
            .await?;
        if targets.is_empty() {
            return Err(ApiError::new(
                ErrorCode::CertificateNotFound,
                format!(
                    "Marshal has not registered certificate {id} for you in any target you may use"
                ),
            ));
        }
        let input = CertificateInput {
            certificate_pem: request.certificate_pem.clone(),
            thing_name: Some(EACH_TARGETS_THING.to_owned()),
        };
        let mut prepared = self.prepare_certificates(std::slice::from_ref(&input), now)?;
        let new = prepared.remove(0);
        if new.id == id {
            return Err(ApiError::new(
                ErrorCode::InvalidRequest,
                "certificatePem: this is the certificate being replaced; send its successor",
            ));
        }
        let clock = LeaseClock::until(deadline);
        let held = join_all(targets.iter().map(|t| self.prepare(t, caller, id, &clock))).await;
        self.refuse_unmanaged(&targets, &held).await?;
        let results = join_all(targets.iter().zip(held).map(|(target, held)| {
            let (new, clock) = (&new, &clock);
            async move {
                let outcome = match held {
                    Ok(Prepared::Held(ctx, held)) => {
                        self.rotate_in(caller, &ctx, id, &held, new, clock, deadline)
                            .await
                    }
                    Ok(Prepared::Absent) => Err(failure::error(
                        TargetErrorCode::NotRegistered,
                        "the certificate to replace is not registered in this target",
                    )),
                    Err(e) => Err(e),
                };
                RegistrationResult {
                    index: 0,
                    certificate_id: new.id.clone(),
                    target: target.id.clone(),
                    registration: outcome.as_ref().ok().cloned(),
                    error: outcome.err(),
                }
            }
        }))
        .await;
        Ok(RotateCertificateResponse {
            certificate_id: id.to_owned(),
            new_certificate_id: new.id,
            results,
        })
    }

    /// Registers `new` as the successor of the held certificate `old` in one
    /// target, and notes it in the old one's record.
    #[allow(clippy::too_many_arguments)]
    async fn rotate_in(
        &self,
        caller: &Caller,
        ctx: &TargetContext,
        old: &str,
        held: &Held,
        new: &PreparedCertificate,
        clock: &LeaseClock,
        deadline: Instant,
    ) -> Result<marshal_shared::api::Registration, TargetError> {
        let store = self.ownership.as_ref();
        let record = &held.record;
        let owner = record.owner();
        let entry = Entry::new(caller, &owner, &ctx.target, old, LedgerAction::Rotate)
            .thing(record.peer.as_deref())
            .policy(record.policy.as_deref())
            .not_after_ms(record.facts.as_ref().map(|f| f.not_after_ms))
            .related(Some(&new.id));
        let ledger = self.ledger.as_ref();
        if let Some(other) = record
            .facts
            .as_ref()
            .and_then(|f| f.successor.as_ref())
            .filter(|s| *s != &new.id)
        {
            release(held.give_back(store).await);
            return Err(failure::error(
                TargetErrorCode::AlreadyRotated,
                format!("already rotated to certificate {other}; retire it or rotate that one"),
            ));
        }
        // The intent is written while the old certificate's attachments are
        // read: reads change nothing, and nothing changes before both.
        let (carried, intended) = futures::join!(
            self.attachments_to_carry(ctx, old, record),
            entry.intend(ledger)
        );
        if let Err(e) = intended {
            release(held.give_back(store).await);
            return Err(e);
        }
        let registered = async {
            let (policy, thing) = carried?;
            let policy = self
                .allowed_policy(&policy)
                .map_err(|e| failure::error(TargetErrorCode::ForeignAttachment, e.message))?
                .clone();
            let ready = self.ready_target(&ctx.target, caller, &policy).await?;
            let successor = PreparedCertificate {
                thing,
                ..new.clone()
            };
            let acting = Acting {
                caller,
                owner: &owner,
                clock,
                store,
                deadline,
                pair_budget: self.pair_budget(),
                ledger,
                action: LedgerAction::Rotate,
                replaces: Some(old),
            };
            register_pair(&ready, &successor, &policy.name, true, &acting).await
        }
        .await;
        // The old record is handed back while the outcome is written.
        let handed_back = async {
            match &registered {
                Ok(_) => {
                    let mut done = record.clone();
                    if let Some(facts) = done.facts.as_mut() {
                        facts.successor = Some(new.id.clone());
                    }
                    held.finish(store, done).await
                }
                Err(_) => held.give_back(store).await,
            }
        };
        let outcome = registered.as_ref().map(|r| {
            (
                Some(CertificateStatus::Active),
                if r.newly_registered {
                    "successor registered"
                } else {
                    "successor already registered"
                },
            )
        });
        let (handed_back, ()) = futures::join!(handed_back, entry.conclude(ledger, outcome));
        release(handed_back);
        registered
    }

    /// The one allowed policy and the one thing of the old certificate,
    /// both Marshal's for its owner: what its successor gets.
    async fn attachments_to_carry(
        &self,
        ctx: &TargetContext,
        old: &str,
        record: &super::ownership::Ownership,
    ) -> Result<(String, String), TargetError> {
        let aws = |e: RegistryError| failure::target_error(&e);
        let registry = &ctx.registry;
        let Some(found) = registry.describe_certificate(old).await.map_err(aws)? else {
            return Err(failure::error(
                TargetErrorCode::NotRegistered,
                "the certificate to replace is no longer in AWS here (deleted outside Marshal?)",
            ));
        };
        let (policies, things) = futures::join!(
            registry.attached_policies(&found.arn),
            registry.attached_things(&found.arn)
        );
        let (policies, things) = (policies.map_err(aws)?, things.map_err(aws)?);
        let ([policy], [thing]) = (policies.as_slice(), things.as_slice()) else {
            return Err(failure::error(
                TargetErrorCode::ForeignAttachment,
                format!(
                    "a rotation carries over one policy and one thing, as Marshal attaches them; \
                     this certificate has {} policies and {} things here",
                    policies.len(),
                    things.len()
                ),
            ));
        };
        let thing_record = self
            .ownership
            .get(&OwnershipKey::thing(&ctx.target, thing))
            .await
            .map_err(|e| failure::error(TargetErrorCode::OwnershipUnavailable, e.to_string()))?;
        if !thing_record.is_some_and(|s| s.record.same_owner(record)) {
            return Err(failure::error(
                TargetErrorCode::ForeignAttachment,
                format!(
                    "thing \"{thing}\" was not attached by Marshal for this certificate's owner"
                ),
            ));
        }
        Ok((policy.clone(), thing.clone()))
    }

    /// `POST /v1/certificates/{id}/retire`. Without targets, where nothing
    /// is left to retire the answer is an empty list: the request is
    /// idempotent.
    pub async fn retire(
        &self,
        caller: &Caller,
        id: &str,
        request: &RetireCertificateRequest,
        deadline: Instant,
    ) -> Result<RetireCertificateResponse, ApiError> {
        let targets = self
            .targets_of(caller, id, request.targets.as_ref(), |s| {
                s.record
                    .facts
                    .as_ref()
                    .is_some_and(|f| f.successor.is_some())
            })
            .await?;
        let clock = LeaseClock::until(deadline);
        let held = join_all(targets.iter().map(|t| self.prepare(t, caller, id, &clock))).await;
        self.refuse_unmanaged(&targets, &held).await?;
        let results = join_all(targets.iter().zip(held).map(|(target, held)| async move {
            let outcome = match held {
                Ok(Prepared::Held(ctx, held)) => self.retire_in(caller, &ctx, id, &held).await,
                Ok(Prepared::Absent) => Ok((None, "already retired".to_owned())),
                Err(e) => Err(e),
            };
            log("retire", caller, id, target, &outcome);
            outcome_of(target, outcome)
        }))
        .await;
        Ok(RetireCertificateResponse {
            certificate_id: id.to_owned(),
            results,
        })
    }

    /// Deletes the held certificate from one target once its successor is
    /// there, ACTIVE, and its owner's.
    async fn retire_in(
        &self,
        caller: &Caller,
        ctx: &TargetContext,
        id: &str,
        held: &Held,
    ) -> ActionResult {
        let store = self.ownership.as_ref();
        let successor = held.record.facts.as_ref().and_then(|f| f.successor.clone());
        let ready = match &successor {
            None => Err(failure::error(
                TargetErrorCode::NotRotated,
                "no successor was registered for this certificate here; rotate it first",
            )),
            Some(successor) => self.successor_ready(ctx, successor, held).await,
        };
        if let Err(e) = ready {
            release(held.give_back(store).await);
            return Err(e);
        }
        self.act(caller, ctx, id, held, Action::Retire).await
    }

    /// Whether `successor` is registered, ACTIVE and Marshal's for the held
    /// certificate's owner in this target.
    async fn successor_ready(
        &self,
        ctx: &TargetContext,
        successor: &str,
        held: &Held,
    ) -> Result<(), TargetError> {
        let key = OwnershipKey::certificate(&ctx.target, successor);
        let (found, record) = futures::join!(
            ctx.registry.describe_certificate(successor),
            self.ownership.get(&key)
        );
        let found = found.map_err(|e| failure::target_error(&e))?;
        let record = record
            .map_err(|e| failure::error(TargetErrorCode::OwnershipUnavailable, e.to_string()))?;
        match (found, record) {
            (Some(found), Some(record))
                if found.status == CertificateStatus::Active
                    && record.record.same_owner(&held.record) =>
            {
                Ok(())
            }
            (Some(found), Some(_)) if found.status != CertificateStatus::Active => {
                Err(failure::error(
                    TargetErrorCode::NotRotated,
                    format!(
                        "the successor {successor} is {} here; activate it before retiring this one",
                        found.status.as_str()
                    ),
                ))
            }
            _ => Err(failure::error(
                TargetErrorCode::NotRotated,
                format!(
                    "the successor {successor} is not registered here through Marshal; rotate again"
                ),
            )),
        }
    }
}
