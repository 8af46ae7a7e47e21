//! Adopting: a target admin brings a certificate registered outside Marshal
//! (with the things attached to it), or a thing made outside it, under
//! Marshal's ownership records, so its owner (the admin, and the group they
//! name) can manage it through Marshal. Nothing in AWS changes.

use std::time::Instant;

use futures::future::join_all;
use marshal_shared::{
    api::{
        AdoptCertificateResponse, AdoptRequest, AdoptThingResponse, ErrorCode, LedgerAction,
        TargetErrorCode,
    },
    validate,
};

use super::{
    Service, failure,
    ledger::Entry,
    manage::{ActionResult, log, outcome_of},
    ownership::{
        Facts, Held, LeaseClock, Owner, Ownership, OwnershipKey, OwnershipState, TakeError,
    },
    registration::{release, unix_ms},
    registry::RegistryError,
};
use crate::{config::Target, error::ApiError, identity::Caller};

impl Service {
    /// `POST /v1/certificates/{id}/adopt`: admins of every named target only.
    pub async fn adopt(
        &self,
        caller: &Caller,
        id: &str,
        request: &AdoptRequest,
        deadline: Instant,
    ) -> Result<AdoptCertificateResponse, ApiError> {
        let (targets, owner) = self.adopting(caller, request)?;
        let clock = LeaseClock::until(deadline);
        let results = join_all(targets.iter().map(|t| async {
            let outcome = self.adopt_in(t, caller, id, &owner, &clock).await;
            log("adopt", caller, id, t, &outcome);
            outcome_of(t, outcome)
        }))
        .await;
        Ok(AdoptCertificateResponse {
            certificate_id: id.to_owned(),
            results,
        })
    }

    /// `POST /v1/things/{name}/adopt`: admins of every named target only.
    /// Only a thing that exists and that Marshal does not record yet.
    pub async fn adopt_thing(
        &self,
        caller: &Caller,
        name: &str,
        request: &AdoptRequest,
        deadline: Instant,
    ) -> Result<AdoptThingResponse, ApiError> {
        validate::thing_name(name)
            .map_err(|e| ApiError::new(ErrorCode::InvalidThingName, format!("thing name: {e}")))?;
        let (targets, owner) = self.adopting(caller, request)?;
        let clock = LeaseClock::until(deadline);
        let store = self.ownership.as_ref();
        let results = join_all(targets.iter().map(|t| async {
            let outcome = async {
                let ctx = self.open(t, caller).await?;
                if !ctx.registry.thing_exists(name).await.map_err(|e| failure::target_error(&e))? {
                    return Err(failure::error(
                        TargetErrorCode::NotRegistered,
                        format!("there is no thing \"{name}\" in this target"),
                    ));
                }
                match Held::take(store, OwnershipKey::thing(t, name), &clock, |r| match r {
                    None => Ok(Ownership::claimed(&owner, clock.now_ms)),
                    Some(_) => Err(()),
                })
                .await
                {
                    Ok(held) => {
                        let mut done = held.record.clone();
                        done.state = OwnershipState::Registered;
                        held.finish(store, done).await.map_err(|e| {
                            failure::error(TargetErrorCode::OwnershipUnavailable, e.to_string())
                        })?;
                        Ok((None, "adopted".to_owned()))
                    }
                    Err(TakeError::Refused(())) => Ok((None, "already managed by Marshal".into())),
                    Err(TakeError::Busy) => Err(failure::error(
                        TargetErrorCode::CertificateBusy,
                        "another request is changing this thing in this target; try again in a few seconds",
                    )),
                    Err(TakeError::Store(message)) => {
                        Err(failure::error(TargetErrorCode::OwnershipUnavailable, message))
                    }
                }
            }
            .await;
            log("adopt_thing", caller, name, t, &outcome);
            outcome_of(t, outcome)
        }))
        .await;
        Ok(AdoptThingResponse {
            thing_name: name.to_owned(),
            results,
        })
    }

    /// The targets of an adoption, all administered by `caller`, and who
    /// will own what is adopted: the admin, with the group they name.
    fn adopting(
        &self,
        caller: &Caller,
        request: &AdoptRequest,
    ) -> Result<(Vec<Target>, Owner), ApiError> {
        let targets = self.resolve_targets(caller, &request.targets)?;
        self.require_admin(caller, &targets, "adopting is")?;
        if let Some(group) = &request.owner_group
            && !crate::config::is_group_name(group)
        {
            return Err(ApiError::new(
                ErrorCode::InvalidRequest,
                format!("ownerGroup: \"{group}\" is not a group name"),
            ));
        }
        let owner = Owner {
            subject: caller.subject.clone(),
            group: request.owner_group.clone(),
        };
        Ok((targets, owner))
    }

    async fn adopt_in(
        &self,
        target: &Target,
        caller: &Caller,
        id: &str,
        owner: &Owner,
        clock: &LeaseClock,
    ) -> ActionResult {
        let store = self.ownership.as_ref();
        let ctx = self.open(target, caller).await?;
        let aws = |e: RegistryError| failure::target_error(&e);
        let held = Held::take(
            store,
            OwnershipKey::certificate(target, id),
            clock,
            |r: Option<&Ownership>| match r {
                None => Ok(Ownership::claimed(owner, clock.now_ms)),
                Some(_) => Err(()),
            },
        )
        .await;
        let held = match held {
            Ok(held) => held,
            Err(TakeError::Refused(())) => return Ok((None, "already managed by Marshal".into())),
            Err(TakeError::Busy) => {
                return Err(failure::error(
                    TargetErrorCode::CertificateBusy,
                    "another request is changing this certificate in this target; try again in a few seconds",
                ));
            }
            Err(TakeError::Store(message)) => {
                return Err(failure::error(
                    TargetErrorCode::OwnershipUnavailable,
                    message,
                ));
            }
        };
        let found = async {
            let record = ctx
                .registry
                .describe_certificate(id)
                .await
                .map_err(aws)?
                .ok_or_else(|| {
                    failure::error(
                        TargetErrorCode::NotRegistered,
                        "the certificate is not registered in this target",
                    )
                })?;
            let (policies, things) = futures::join!(
                ctx.registry.attached_policies(&record.arn),
                ctx.registry.attached_things(&record.arn)
            );
            Ok::<_, marshal_shared::api::TargetError>((
                record,
                policies.map_err(aws)?,
                things.map_err(aws)?,
            ))
        }
        .await;
        let (record, policies, things) = match found {
            Ok(found) => found,
            Err(e) => {
                release(held.undo(store).await);
                return Err(e);
            }
        };
        let not_after_ms = marshal_shared::Certificate::from_pem(&record.pem)
            .map(|c| unix_ms(c.validity().1))
            .unwrap_or(0);
        let entry = Entry::new(caller, owner, target, id, LedgerAction::Adopt)
            .thing(things.first().map(String::as_str))
            .not_after_ms(Some(not_after_ms));
        if let Err(e) = entry.intend(self.ledger.as_ref()).await {
            release(held.undo(store).await);
            return Err(e);
        }
        // Its things come along unless Marshal already records them (for
        // anyone): adopting never takes a thing from another owner.
        let mut adopted_things = Vec::new();
        for thing in &things {
            let taken = Held::take(
                store,
                OwnershipKey::thing(target, thing),
                clock,
                |r: Option<&Ownership>| match r {
                    None => Ok(Ownership::claimed(owner, clock.now_ms)),
                    Some(_) => Err(()),
                },
            )
            .await;
            if let Ok(thing_held) = taken {
                let mut done = thing_held.record.clone();
                done.state = OwnershipState::Registered;
                done.peer = Some(id.to_owned());
                release(thing_held.finish(store, done).await);
                adopted_things.push(thing.clone());
            }
        }
        let mut done = held.record.clone();
        done.state = OwnershipState::Registered;
        done.peer = things.first().cloned();
        done.policy = policies
            .iter()
            .find(|p| self.config.policies.iter().any(|a| &a.name == *p))
            .cloned();
        done.facts = Some(Facts {
            target: target.id.clone(),
            not_after_ms,
            status: Some(record.status),
            registered_by: caller.display().to_owned(),
            registered_at_ms: clock.now_ms,
            successor: None,
            predecessor: None,
        });
        if let Err(e) = held.finish(store, done).await {
            let error = failure::error(TargetErrorCode::OwnershipUnavailable, e.to_string());
            entry.conclude(self.ledger.as_ref(), Err(&error)).await;
            return Err(error);
        }
        entry
            .conclude(self.ledger.as_ref(), Ok((Some(record.status), "adopted")))
            .await;
        let things = if adopted_things.is_empty() {
            String::new()
        } else {
            format!(" with thing(s) {}", adopted_things.join(", "))
        };
        Ok((Some(record.status), format!("adopted{things}")))
    }
}
