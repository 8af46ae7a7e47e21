//! Copying or moving a registered certificate between targets, make before
//! break: the destinations are registered, attached and ACTIVE before the
//! source is touched, and the source is left alone if any destination fails.
//! The caller must be allowed to change the certificate at the source (its
//! record is held throughout); the destinations' records keep the source's
//! owner and group.

use std::time::Instant;

use futures::{StreamExt, stream};
use marshal_shared::{
    OffsetDateTime,
    api::{
        CertificateInput, CertificateStatus, ErrorCode, LedgerAction, RegistrationResult,
        TransferCertificateRequest, TransferCertificateResponse, TransferMode,
    },
};

use super::{
    Service, TargetContext, failure,
    manage::{Action, Prepared, log, outcome_of},
    ownership::{Held, LeaseClock},
    registration::{Acting, register_pair, release},
};
use crate::{config::Target, error::ApiError, identity::Caller};

impl Service {
    /// `POST /v1/certificates/{id}/transfer`.
    pub async fn transfer(
        &self,
        caller: &Caller,
        id: &str,
        request: &TransferCertificateRequest,
        now: OffsetDateTime,
        deadline: Instant,
    ) -> Result<TransferCertificateResponse, ApiError> {
        let policy = self.allowed_policy(&request.policy)?.clone();
        let source = self
            .resolve_targets(caller, std::slice::from_ref(&request.from))?
            .remove(0);
        let destinations = self.resolve_targets(caller, &request.to)?;
        if destinations.iter().any(|d| d.id == source.id) {
            return Err(ApiError::new(
                ErrorCode::InvalidRequest,
                "to: the source cannot be a destination",
            ));
        }

        let clock = LeaseClock::until(deadline);
        let prepared = [self.prepare(&source, caller, id, &clock).await];
        self.refuse_unmanaged(std::slice::from_ref(&source), &prepared)
            .await?;
        let [prepared] = prepared;
        let (source_ctx, held) = match prepared {
            Ok(Prepared::Held(ctx, held)) => (ctx, held),
            Ok(Prepared::Absent) => {
                return Err(ApiError::new(
                    ErrorCode::CertificateNotFound,
                    format!("certificate {id} is not registered in target {}", source.id),
                ));
            }
            Err(e) => {
                return Err(ApiError::new(
                    ErrorCode::InvalidRequest,
                    format!("from: target {}: {}", source.id, e.message),
                ));
            }
        };
        let source = Source {
            target: &source,
            ctx: &source_ctx,
            held: &held,
        };
        let copied = self
            .copy_to(
                caller,
                id,
                request,
                now,
                deadline,
                &clock,
                &source,
                &destinations,
                &policy,
            )
            .await;
        let destinations_results = match copied {
            Ok(results) => results,
            Err(e) => {
                release(held.give_back(self.ownership.as_ref()).await);
                return Err(e);
            }
        };

        let all_ok = destinations_results.iter().all(|r| r.error.is_none());
        let action = match (request.mode, all_ok) {
            (TransferMode::Copy, _) | (_, false) => None,
            (TransferMode::MoveDeactivate, true) => {
                Some(Action::SetStatus(CertificateStatus::Inactive))
            }
            (TransferMode::MoveDelete, true) => Some(Action::Delete),
        };
        let source_outcome = match action {
            None => {
                release(held.give_back(self.ownership.as_ref()).await);
                None
            }
            Some(action) => {
                let outcome = self.act(caller, &source_ctx, id, &held, action).await;
                log("transfer_source", caller, id, source.target, &outcome);
                Some(outcome_of(source.target, outcome))
            }
        };
        Ok(TransferCertificateResponse {
            certificate_id: id.to_owned(),
            destinations: destinations_results,
            source: source_outcome,
        })
    }

    /// Registers the source's certificate in every destination for the
    /// source's owner.
    #[allow(clippy::too_many_arguments)]
    async fn copy_to(
        &self,
        caller: &Caller,
        id: &str,
        request: &TransferCertificateRequest,
        now: OffsetDateTime,
        deadline: Instant,
        clock: &LeaseClock,
        source: &Source<'_>,
        destinations: &[Target],
        policy: &crate::config::PolicyConfig,
    ) -> Result<Vec<RegistrationResult>, ApiError> {
        let record = source
            .ctx
            .registry
            .describe_certificate(id)
            .await
            .map_err(|e| {
                ApiError::new(
                    ErrorCode::InvalidRequest,
                    format!("from: {}", failure::target_error(&e).message),
                )
            })?
            .ok_or_else(|| {
                ApiError::new(
                    ErrorCode::CertificateNotFound,
                    format!(
                        "certificate {id} is not registered in target {}",
                        source.target.id
                    ),
                )
            })?;
        let input = CertificateInput {
            certificate_pem: record.pem,
            thing_name: request.thing_name.clone(),
        };
        let [cert] =
            <[_; 1]>::try_from(self.prepare_certificates(std::slice::from_ref(&input), now)?)
                .map_err(|_| ApiError::new(ErrorCode::InternalError, "one certificate expected"))?;
        if cert.id != id {
            return Err(ApiError::new(
                ErrorCode::InternalError,
                format!(
                    "target {} returned a certificate whose SHA-256 is {}, not {id}",
                    source.target.id, cert.id
                ),
            ));
        }

        let cert = &cert;
        let owner = source.held.record.owner();
        let acting = Acting {
            caller,
            owner: &owner,
            clock,
            store: self.ownership.as_ref(),
            deadline,
            pair_budget: self.pair_budget(),
            ledger: self.ledger.as_ref(),
            action: LedgerAction::Transfer,
            replaces: None,
        };
        let acting = &acting;
        let jobs: Vec<_> = destinations
            .iter()
            .map(|d| async move {
                let outcome = match self.ready_target(d, caller, policy).await {
                    Ok(ready) => register_pair(&ready, cert, &policy.name, true, acting).await,
                    Err(e) => Err(e),
                };
                RegistrationResult {
                    index: 0,
                    certificate_id: cert.id.clone(),
                    target: d.id.clone(),
                    registration: outcome.as_ref().ok().cloned(),
                    error: outcome.err(),
                }
            })
            .collect();
        Ok(stream::iter(jobs)
            .buffered(self.config.limits.concurrency)
            .collect()
            .await)
    }
}

/// The source of a transfer, its record held.
struct Source<'a> {
    target: &'a Target,
    ctx: &'a TargetContext,
    held: &'a Held,
}
