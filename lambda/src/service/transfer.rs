//! Copying or moving a registered certificate between targets, make before
//! break: the destinations are registered, attached and ACTIVE before the
//! source is touched, and the source is left alone if any destination fails.

use futures::{StreamExt, stream};
use marshal_shared::{
    OffsetDateTime,
    api::{
        CertificateInput, CertificateStatus, ErrorCode, RegistrationResult,
        TransferCertificateRequest, TransferCertificateResponse, TransferMode,
    },
};

use super::{
    Service, failure,
    manage::{delete_in, outcome_of, set_status},
    registration::register_pair,
};
use crate::{error::ApiError, identity::Caller};

impl Service {
    /// `POST /v1/certificates/{id}/transfer`.
    pub async fn transfer(
        &self,
        caller: &Caller,
        id: &str,
        request: &TransferCertificateRequest,
        now: OffsetDateTime,
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

        let source_ctx = self.open(&source, caller).await.map_err(|e| {
            ApiError::new(
                ErrorCode::InvalidRequest,
                format!("from: cannot open target {}: {}", source.id, e.message),
            )
        })?;
        let record = source_ctx
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
                    format!("certificate {id} is not registered in target {}", source.id),
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
                    source.id, cert.id
                ),
            ));
        }

        let cert = &cert;
        let policy = &policy;
        let jobs: Vec<_> = destinations
            .iter()
            .map(|d| async move {
                let outcome = match self.ready_target(d, caller, policy).await {
                    Ok(ready) => register_pair(&ready, cert, &policy.name, true, caller).await,
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
        let destinations_results: Vec<RegistrationResult> = stream::iter(jobs)
            .buffered(self.config.limits.concurrency)
            .collect()
            .await;

        let all_ok = destinations_results.iter().all(|r| r.error.is_none());
        let source_outcome = match (request.mode, all_ok) {
            (TransferMode::Copy, _) | (_, false) => None,
            (TransferMode::MoveDeactivate, true) => Some(outcome_of(
                &source,
                set_status(&source_ctx, id, CertificateStatus::Inactive).await,
            )),
            (TransferMode::MoveDelete, true) => {
                Some(outcome_of(&source, delete_in(&source_ctx, id).await))
            }
        };
        Ok(TransferCertificateResponse {
            certificate_id: id.to_owned(),
            destinations: destinations_results,
            source: source_outcome,
        })
    }
}
