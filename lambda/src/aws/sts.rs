//! Cross-account access: `sts:AssumeRole` into a target's role, with its
//! ExternalId, giving credentials for that target's IoT client.

use std::time::SystemTime;

use aws_config::Region;
use aws_sdk_iot::config::Credentials;

use super::errors::classify;
use crate::service::registry::{RegistryError, RegistryErrorKind, RegistryResult};

/// Which credentials an assumption gives: the same role, ExternalId,
/// session name and source identity give interchangeable credentials, so
/// they share a cache entry.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct RoleKey {
    pub(crate) role_arn: String,
    pub(crate) external_id: Option<String>,
    pub(crate) session_name: String,
    pub(crate) source_identity: Option<String>,
}

/// Credentials from `sts:AssumeRole`, carrying their expiry.
///
/// Error messages name the role ARN, and AWS's own words name the hub's
/// session: they are for the log. The service tells callers only that the
/// target's role could not be assumed (`service::targets`).
///
/// `region` is used only when the STS client has none of its own (a base
/// configuration without a region); normally the function's own region's
/// STS endpoint is used whatever the target's region.
pub(crate) async fn assume_role(
    sts: &aws_sdk_sts::Client,
    key: &RoleKey,
    region: &str,
) -> RegistryResult<Credentials> {
    let mut call = sts
        .assume_role()
        .role_arn(&key.role_arn)
        .role_session_name(&key.session_name)
        .set_external_id(key.external_id.clone())
        .set_source_identity(key.source_identity.clone())
        .customize();
    if sts.config().region().is_none() {
        call = call.config_override(
            aws_sdk_sts::config::Builder::default().region(Region::new(region.to_owned())),
        );
    }
    let output = call.send().await.map_err(|e| {
        let error = classify("AssumeRole", e);
        RegistryError::new(
            error.kind,
            format!("AssumeRole {}: {}", key.role_arn, error.message),
        )
    })?;
    let Some(assumed) = output.credentials() else {
        return Err(RegistryError::new(
            RegistryErrorKind::Unavailable,
            format!("AssumeRole {} returned no credentials", key.role_arn),
        ));
    };
    let expires_at = SystemTime::try_from(*assumed.expiration()).ok();
    Ok(Credentials::new(
        assumed.access_key_id(),
        assumed.secret_access_key(),
        Some(assumed.session_token().to_owned()),
        expires_at,
        "marshal-assume-role",
    ))
}
