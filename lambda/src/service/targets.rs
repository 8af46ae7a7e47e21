//! Which targets a caller may use, and opening each target's registry.

use std::sync::Arc;

use marshal_shared::api::{ErrorCode, TargetError, TargetErrorCode};

use super::{
    Service, failure,
    registry::{CertificateRegistry, RegistryErrorKind},
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
    pub(crate) async fn open(
        &self,
        target: &Target,
        caller: &Caller,
    ) -> Result<TargetContext, TargetError> {
        match self.provider.registry(target, &caller.session_name()).await {
            Ok(registry) => Ok(TargetContext {
                target: target.clone(),
                registry,
            }),
            Err(e) if e.kind == RegistryErrorKind::AccessDenied => Err(failure::error(
                TargetErrorCode::AssumeRoleFailed,
                format!(
                    "cannot assume the role of target {}: {}",
                    target.id, e.message
                ),
            )),
            Err(e) => Err(failure::target_error(&e)),
        }
    }
}
