//! Which targets a caller may use, and opening each target's registry.

use std::sync::Arc;

use marshal_shared::api::{ErrorCode, TargetError, TargetErrorCode};

use super::{
    Service, failure,
    registry::{CertificateRegistry, RegistryErrorKind, RoleSession},
};
use crate::{config::Target, error::ApiError, identity::Caller};

/// A target with its registry opened (role assumed).
#[derive(Clone)]
pub struct TargetContext {
    /// The configured target.
    pub target: Target,
    /// Its registry.
    pub registry: Arc<dyn CertificateRegistry>,
}

impl std::fmt::Debug for TargetContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TargetContext")
            .field("target", &self.target.id)
            .finish_non_exhaustive()
    }
}

impl Service {
    /// The targets `caller` may see, in configuration order.
    pub fn visible_targets(&self, caller: &Caller) -> Vec<&Target> {
        self.config
            .targets
            .iter()
            .filter(|t| caller.may_use(t))
            .collect()
    }

    /// Resolves requested target ids: unknown or forbidden → 403 (the same
    /// answer, so callers cannot find out which ids exist), duplicates
    /// ignored, over the limit → 422, none → 400.
    pub fn resolve_targets(
        &self,
        caller: &Caller,
        ids: &[String],
    ) -> Result<Vec<Target>, ApiError> {
        if ids.is_empty() {
            return Err(ApiError::new(
                ErrorCode::InvalidRequest,
                "targets: name at least one target",
            ));
        }
        let mut resolved: Vec<Target> = Vec::new();
        for id in ids {
            let Some(target) = self
                .config
                .targets
                .iter()
                .find(|t| &t.id == id && caller.may_use(t))
            else {
                return Err(ApiError::new(
                    ErrorCode::ForbiddenTarget,
                    format!(
                        "you may not use target \"{id}\" (GET /v1/config lists the targets you may use)"
                    ),
                ));
            };
            if !resolved.iter().any(|t| t.id == target.id) {
                resolved.push(target.clone());
            }
        }
        let max = self.config.limits.max_targets_per_request;
        if resolved.len() > max {
            return Err(ApiError::new(
                ErrorCode::TooManyTargets,
                format!(
                    "{} targets in one request; the limit is {max}",
                    resolved.len()
                ),
            ));
        }
        Ok(resolved)
    }

    /// Opens the target's registry (assuming its role).
    ///
    /// AWS's refusal names the target role's ARN and the hub's own session,
    /// which callers must not see (ARCHITECTURE: role ARNs are never
    /// returned): it goes to the log with the caller, and the caller gets
    /// our sentence with the target id.
    pub(crate) async fn open(
        &self,
        target: &Target,
        caller: &Caller,
    ) -> Result<TargetContext, TargetError> {
        let session = RoleSession::new(caller.session_name(), Some(caller.source_identity()));
        match self.provider.registry_for(target, &session).await {
            Ok(registry) => Ok(TargetContext {
                target: target.clone(),
                registry,
            }),
            Err(e) => {
                tracing::warn!(
                    target_id = %target.id,
                    caller = caller.display(),
                    subject = %caller.subject,
                    kind = ?e.kind,
                    error = %e.message,
                    "the target's role could not be assumed"
                );
                let (code, why) = match e.kind {
                    RegistryErrorKind::AccessDenied => (TargetErrorCode::AssumeRoleFailed, None),
                    _ => (failure::target_error(&e).code, Some(reason(e.kind))),
                };
                let mut message = format!(
                    "target {}: the target's role could not be assumed",
                    target.id
                );
                if let Some(why) = why {
                    message.push_str(&format!(" ({why})"));
                }
                message.push_str("; the API's log has the cause under this request's id");
                Err(failure::error(code, message))
            }
        }
    }
}

/// Our words for a failure kind, where AWS's would name resources.
fn reason(kind: RegistryErrorKind) -> &'static str {
    match kind {
        RegistryErrorKind::Throttled => "AWS kept throttling",
        RegistryErrorKind::Timeout => "AWS did not answer in time",
        RegistryErrorKind::Invalid | RegistryErrorKind::NotFound => {
            "AWS refused the request as invalid"
        }
        RegistryErrorKind::AccessDenied => "access denied",
        RegistryErrorKind::Conflict | RegistryErrorKind::AlreadyExists => "AWS refused it",
        RegistryErrorKind::Unavailable => "AWS failed or could not be reached",
    }
}
