//! Managing a registered certificate across targets: look it up, change its
//! status, delete it (deactivate → detach policies and things → delete).

use futures::future::join_all;
use marshal_shared::api::{
    CertificateStatus, DeleteCertificateResponse, ErrorCode, GetCertificateResponse,
    TargetCertificate, TargetError, TargetErrorCode, TargetOutcome, UpdateStatusResponse,
};

use super::{
    Service, TargetContext, failure,
    registry::{RegistryError, RegistryErrorKind},
};
use crate::{config::Target, error::ApiError, identity::Caller};

impl Service {
    /// `GET /v1/certificates/{id}`: every visible target, in parallel.
    pub async fn lookup(&self, caller: &Caller, id: &str) -> GetCertificateResponse {
        let targets: Vec<Target> = self.visible_targets(caller).into_iter().cloned().collect();
        let results = join_all(targets.iter().map(|t| async move {
            match self.lookup_in(t, caller, id).await {
                Ok(found) => found,
                Err(error) => TargetCertificate {
                    target: t.id.clone(),
                    present: false,
                    status: None,
                    policies: Vec::new(),
                    things: Vec::new(),
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
        let Some(record) = ctx.registry.describe_certificate(id).await.map_err(aws)? else {
            return Ok(TargetCertificate {
                target: target.id.clone(),
                present: false,
                status: None,
                policies: Vec::new(),
                things: Vec::new(),
                error: None,
            });
        };
        let (policies, things) = futures::join!(
            ctx.registry.attached_policies(&record.arn),
            ctx.registry.attached_things(&record.arn)
        );
        Ok(TargetCertificate {
            target: target.id.clone(),
            present: true,
            status: Some(record.status),
            policies: policies.map_err(aws)?,
            things: things.map_err(aws)?,
            error: None,
        })
    }

    /// `POST /v1/certificates/{id}/status`.
    pub async fn update_status(
        &self,
        caller: &Caller,
        id: &str,
        status: CertificateStatus,
        target_ids: &[String],
    ) -> Result<UpdateStatusResponse, ApiError> {
        if status == CertificateStatus::Other {
            return Err(ApiError::new(
                ErrorCode::InvalidRequest,
                "status must be ACTIVE, INACTIVE or REVOKED",
            ));
        }
        let results = self
            .in_each_target(caller, id, target_ids, Action::SetStatus(status))
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
    ) -> Result<DeleteCertificateResponse, ApiError> {
        let results = self
            .in_each_target(caller, id, target_ids, Action::Delete)
            .await?;
        Ok(DeleteCertificateResponse {
            certificate_id: id.to_owned(),
            results,
        })
    }

    /// Runs `action` in every requested target concurrently, one outcome each.
    async fn in_each_target(
        &self,
        caller: &Caller,
        id: &str,
        target_ids: &[String],
        action: Action,
    ) -> Result<Vec<TargetOutcome>, ApiError> {
        let targets = self.resolve_targets(caller, target_ids)?;
        Ok(join_all(targets.iter().map(|t| async move {
            let outcome = match self.open(t, caller).await {
                Ok(ctx) => match action {
                    Action::SetStatus(status) => set_status(&ctx, id, status).await,
                    Action::Delete => delete_in(&ctx, id).await,
                },
                Err(e) => Err(e),
            };
            log(action.name(), caller, id, t, &outcome);
            outcome_of(t, outcome)
        }))
        .await)
    }
}

/// What to do in each target.
#[derive(Debug, Clone, Copy)]
enum Action {
    SetStatus(CertificateStatus),
    Delete,
}

impl Action {
    fn name(self) -> &'static str {
        match self {
            Action::SetStatus(_) => "set_status",
            Action::Delete => "delete",
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

pub(crate) async fn delete_in(ctx: &TargetContext, id: &str) -> ActionResult {
    let aws = |e: RegistryError| failure::target_error(&e);
    let Some(record) = ctx.registry.describe_certificate(id).await.map_err(aws)? else {
        return Ok((None, "was not registered".into()));
    };
    // AWS's order: deactivate, detach policies and things, then delete.
    if record.status == CertificateStatus::Active {
        ctx.registry
            .update_status(id, CertificateStatus::Inactive)
            .await
            .map_err(aws)?;
    }
    for policy in ctx
        .registry
        .attached_policies(&record.arn)
        .await
        .map_err(aws)?
    {
        ctx.registry
            .detach_policy(&policy, &record.arn)
            .await
            .map_err(aws)?;
    }
    for thing in ctx
        .registry
        .attached_things(&record.arn)
        .await
        .map_err(aws)?
    {
        ctx.registry
            .detach_thing(&thing, &record.arn)
            .await
            .map_err(aws)?;
    }
    match ctx.registry.delete_certificate(id).await {
        // A retried DeleteCertificate whose first attempt went through.
        Ok(())
        | Err(RegistryError {
            kind: RegistryErrorKind::NotFound,
            ..
        }) => Ok((None, "deleted".into())),
        Err(e) => Err(aws(e)),
    }
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

fn log(action: &str, caller: &Caller, id: &str, target: &Target, outcome: &ActionResult) {
    match outcome {
        Ok((_, detail)) => {
            tracing::info!(action, caller = caller.display(), certificate_id = id, target = %target.id, outcome = "ok", detail = %detail)
        }
        Err(e) => {
            tracing::warn!(action, caller = caller.display(), certificate_id = id, target = %target.id, outcome = "failed", code = ?e.code, message = %e.message)
        }
    }
}
