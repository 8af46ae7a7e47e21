//! Drift: what Marshal's records say against what AWS holds, per target,
//! for the target's admins. Reported only, unless asked to apply: then the
//! inventory (never AWS) is brought in line, each change recorded in the
//! ledger.

use std::collections::{BTreeMap, HashSet};

use futures::{StreamExt, stream};
use marshal_shared::api::{
    CertificateStatus, Drift, DriftKind, LedgerAction, ReconcileRequest, ReconcileResponse,
    TargetDrift, TargetError, TargetErrorCode,
};

use super::{
    Service, TargetContext, failure,
    ledger::Entry,
    ownership::{
        Facts, Held, InventoryItem, LeaseClock, Ownership, OwnershipKey, OwnershipState, Registry,
        StoreError, whole_inventory,
    },
    registration::{release, unix_ms},
    registry::RegistryError,
};
use crate::{config::Target, error::ApiError, identity::Caller};

/// How many certificates of one registry the inventory index is read in.
const READ_BATCH: usize = 500;

impl Service {
    /// `POST /v1/reconcile`.
    pub async fn reconcile(
        &self,
        caller: &Caller,
        request: &ReconcileRequest,
        deadline: std::time::Instant,
    ) -> Result<ReconcileResponse, ApiError> {
        let targets = self.resolve_targets(caller, &request.targets)?;
        self.require_admin(
            caller,
            &targets,
            "Reconciling lists every certificate of an account, so it is",
        )?;
        let clock = LeaseClock::until(deadline);
        let mut results = Vec::with_capacity(targets.len());
        for target in &targets {
            let drift = self
                .reconcile_in(caller, target, request.apply, &clock)
                .await;
            results.push(match drift {
                Ok((checked, drift)) => TargetDrift {
                    target: target.id.clone(),
                    checked,
                    drift,
                    error: None,
                },
                Err(error) => TargetDrift {
                    target: target.id.clone(),
                    checked: 0,
                    drift: Vec::new(),
                    error: Some(error),
                },
            });
        }
        Ok(ReconcileResponse { targets: results })
    }

    async fn reconcile_in(
        &self,
        caller: &Caller,
        target: &Target,
        apply: bool,
        clock: &LeaseClock,
    ) -> Result<(usize, Vec<Drift>), TargetError> {
        let ctx = self.open(target, caller).await?;
        let aws = |e: RegistryError| failure::target_error(&e);
        let registry = Registry::of(target);
        let (ours, theirs) = futures::join!(
            whole_inventory(self.ownership.as_ref(), &registry, None, READ_BATCH),
            ctx.registry.list_certificates()
        );
        let ours =
            ours.map_err(|e| failure::error(TargetErrorCode::OwnershipUnavailable, e.to_string()))?;
        let theirs: BTreeMap<String, CertificateStatus> =
            theirs.map_err(aws)?.into_iter().collect();
        let known: HashSet<&str> = ours.iter().map(|i| i.id.as_str()).collect();

        let concurrency = self.config.limits.concurrency;
        // Futures are collected first and then streamed: a stream of
        // borrowing closures trips the compiler's Send check for handlers.
        let comparing: Vec<_> = ours
            .iter()
            .map(|item| self.compare(&ctx, item, theirs.get(&item.id).copied()))
            .collect();
        let compared: Vec<Option<Drift>> = stream::iter(comparing)
            .buffered(concurrency)
            .collect::<Vec<_>>()
            .await
            .into_iter()
            .collect::<Result<_, _>>()?;
        let mut drift: Vec<Drift> = compared.into_iter().flatten().collect();

        // In AWS and not in the inventory: Marshal's only if it holds a
        // record (claimed, or from before the inventory existed).
        let unknown: Vec<&String> = theirs
            .keys()
            .filter(|id| !known.contains(id.as_str()))
            .collect();
        let checked = known.len() + unknown.len();
        let reading: Vec<_> = unknown
            .iter()
            .map(|id| {
                let key = OwnershipKey::certificate(target, id);
                async move { (*id, self.ownership.get(&key).await) }
            })
            .collect();
        let records: Vec<_> = stream::iter(reading).buffered(concurrency).collect().await;
        for (id, record) in records {
            let record = record.map_err(|e| {
                failure::error(TargetErrorCode::OwnershipUnavailable, e.to_string())
            })?;
            if let Some(stored) = &record
                && stored.record.state == OwnershipState::Registered
                && stored.record.facts.is_none()
            {
                drift.push(Drift {
                    certificate_id: id.clone(),
                    kind: DriftKind::NotInInventory,
                    detail:
                        "registered through Marshal before the inventory existed; apply adds it"
                            .to_owned(),
                    applied: false,
                });
            }
            if record.is_none() {
                drift.push(Drift {
                    certificate_id: id.clone(),
                    kind: DriftKind::RegisteredOutside,
                    detail: format!(
                        "{} in AWS, registered outside Marshal (a target admin can adopt it)",
                        theirs[id].as_str()
                    ),
                    applied: false,
                });
            }
        }
        if apply {
            for finding in &mut drift {
                finding.applied = self.apply(caller, &ctx, finding, &theirs, clock).await;
            }
        }
        drift.sort_by(|a, b| a.certificate_id.cmp(&b.certificate_id));
        Ok((checked, drift))
    }

    /// The drift of one certificate Marshal registered, `status` being what
    /// AWS says (absent: not there).
    async fn compare(
        &self,
        ctx: &TargetContext,
        item: &InventoryItem,
        status: Option<CertificateStatus>,
    ) -> Result<Option<Drift>, TargetError> {
        let finding = |kind, detail: String| {
            Ok(Some(Drift {
                certificate_id: item.id.clone(),
                kind,
                detail,
                applied: false,
            }))
        };
        let Some(status) = status else {
            return finding(
                DriftKind::DeletedOutside,
                "Marshal registered it; it is no longer in AWS".to_owned(),
            );
        };
        let recorded = item.record.facts.as_ref().and_then(|f| f.status);
        if recorded != Some(status) {
            return finding(
                DriftKind::StatusChanged,
                format!(
                    "Marshal last saw {}; AWS says {}",
                    recorded.map_or("no status", CertificateStatus::as_str),
                    status.as_str()
                ),
            );
        }
        let aws = |e: RegistryError| failure::target_error(&e);
        let arn = match ctx
            .registry
            .describe_certificate(&item.id)
            .await
            .map_err(aws)?
        {
            Some(record) => record.arn,
            None => return Ok(None),
        };
        let (policies, things) = futures::join!(
            ctx.registry.attached_policies(&arn),
            ctx.registry.attached_things(&arn)
        );
        let (mut policies, mut things) = (policies.map_err(aws)?, things.map_err(aws)?);
        policies.sort();
        things.sort();
        let wanted_policies: Vec<String> = item.record.policy.iter().cloned().collect();
        let wanted_things: Vec<String> = item.record.peer.iter().cloned().collect();
        if policies != wanted_policies || things != wanted_things {
            return finding(
                DriftKind::AttachmentsChanged,
                format!(
                    "Marshal attached policy [{}] and thing [{}]; AWS has policies [{}] and things [{}]",
                    wanted_policies.join(", "),
                    wanted_things.join(", "),
                    policies.join(", "),
                    things.join(", ")
                ),
            );
        }
        Ok(None)
    }

    /// Brings the inventory in line with one finding, recorded in the
    /// ledger: a certificate gone from AWS leaves the inventory (and frees
    /// its record), a changed status is noted. Others change nothing.
    async fn apply(
        &self,
        caller: &Caller,
        ctx: &TargetContext,
        finding: &Drift,
        theirs: &BTreeMap<String, CertificateStatus>,
        clock: &LeaseClock,
    ) -> bool {
        if !matches!(
            finding.kind,
            DriftKind::DeletedOutside | DriftKind::StatusChanged | DriftKind::NotInInventory
        ) {
            return false;
        }
        let store = self.ownership.as_ref();
        let key = OwnershipKey::certificate(&ctx.target, &finding.certificate_id);
        let Ok(held) = Held::take(store, key, clock, |r| r.cloned().ok_or(())).await else {
            // Busy, gone meanwhile, or unreachable: the next run sees it again.
            return false;
        };
        let owner = held.record.owner();
        let entry = Entry::new(
            caller,
            &owner,
            &ctx.target,
            &finding.certificate_id,
            LedgerAction::Reconcile,
        )
        .thing(held.record.peer.as_deref())
        .policy(held.record.policy.as_deref())
        .not_after_ms(held.record.facts.as_ref().map(|f| f.not_after_ms));
        if entry.intend(self.ledger.as_ref()).await.is_err() {
            release(held.give_back(store).await);
            return false;
        }
        let status = theirs.get(&finding.certificate_id).copied();
        let written = match status {
            None => held.remove(store).await,
            Some(now) if finding.kind == DriftKind::NotInInventory => {
                match self
                    .backfilled(ctx, &finding.certificate_id, &held.record, now)
                    .await
                {
                    Some(record) => held.finish(store, record).await,
                    None => held.give_back(store).await.and(Err(StoreError::Conflict)),
                }
            }
            Some(now) => {
                let mut record = held.record.clone();
                if let Some(facts) = record.facts.as_mut() {
                    facts.status = Some(now);
                }
                held.finish(store, record).await
            }
        };
        let outcome = match &written {
            Ok(()) => Ok((status, finding.detail.as_str())),
            Err(_) => Err(()),
        };
        match outcome {
            Ok(done) => entry.conclude(self.ledger.as_ref(), Ok(done)).await,
            Err(()) => {
                let error = failure::error(
                    TargetErrorCode::OwnershipUnavailable,
                    "the record could not be updated",
                );
                entry.conclude(self.ledger.as_ref(), Err(&error)).await;
            }
        }
        written.is_ok()
    }

    /// A record of a certificate registered before the inventory, with the
    /// facts AWS gives (its `notAfter` from the PEM); `None` when AWS cannot
    /// describe it now.
    async fn backfilled(
        &self,
        ctx: &TargetContext,
        id: &str,
        record: &Ownership,
        status: CertificateStatus,
    ) -> Option<Ownership> {
        let described = ctx.registry.describe_certificate(id).await.ok()??;
        let not_after = marshal_shared::Certificate::from_pem(&described.pem)
            .ok()?
            .validity()
            .1;
        let mut record = record.clone();
        record.facts = Some(Facts {
            target: ctx.target.id.clone(),
            not_after_ms: unix_ms(not_after),
            status: Some(status),
            registered_by: record.owner.clone(),
            registered_at_ms: described.created_ms.unwrap_or(record.updated_ms),
            successor: None,
            predecessor: None,
        });
        Some(record)
    }
}
