//! [`AwsRegistryProvider`]: gives each target an [`AwsIotRegistry`] with the
//! target's region and, when it has a role, that role's credentials.

use std::{sync::Arc, time::Duration};

use async_trait::async_trait;
use aws_config::{BehaviorVersion, Region, SdkConfig, retry::RetryConfig, timeout::TimeoutConfig};
use aws_sdk_iot::config::Credentials;

use super::{
    cache::ExpiringCache,
    iot::{AwsIotRegistry, EndpointCache},
    sts::{RoleKey, assume_role},
};
use crate::{
    config::Target,
    service::registry::{
        CertificateRegistry, RegistryError, RegistryProvider, RegistryResult, RoleSession,
    },
};

/// Assumed credentials are renewed this long before they expire, so a
/// request never starts with credentials about to run out.
const RENEW_BEFORE_EXPIRY: Duration = Duration::from_secs(5 * 60);

/// Attempts per AWS call, the first included (throttling and 5xx are retried).
pub(super) const MAX_ATTEMPTS: u32 = 3;

/// `base`'s connect and read timeouts, with the whole call (retries
/// included) bounded by `call_timeout`: for every client the API makes.
pub(super) fn call_timeouts(base: &SdkConfig, call_timeout: Duration) -> TimeoutConfig {
    base.timeout_config()
        .map(TimeoutConfig::to_builder)
        .unwrap_or_default()
        .operation_timeout(call_timeout)
        .build()
}

/// IoT clients by account, region and the credentials they sign with.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct ClientKey {
    account_id: String,
    region: String,
    /// The access key ID of assumed credentials; `None` for the base
    /// configuration's own credentials.
    access_key_id: Option<String>,
}

/// The [`RegistryProvider`] backed by AWS: `sts:AssumeRole` per target role,
/// one aws-sdk-iot client per account, region and credentials.
///
/// Every client is made from the base [`SdkConfig`], so its endpoint URL
/// (`AWS_ENDPOINT_URL`, e.g. a moto server) and HTTP client are kept.
/// Cheap to share behind an `Arc`; the caches live as long as it does.
pub struct AwsRegistryProvider {
    base: SdkConfig,
    retry: RetryConfig,
    timeout: TimeoutConfig,
    sts: aws_sdk_sts::Client,
    roles: ExpiringCache<RoleKey, Credentials>,
    clients: ExpiringCache<ClientKey, aws_sdk_iot::Client>,
    endpoints: Arc<EndpointCache>,
}

impl std::fmt::Debug for AwsRegistryProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AwsRegistryProvider")
            .field("region", &self.base.region())
            .field("endpoint_url", &self.base.endpoint_url())
            .field("timeout", &self.timeout.operation_timeout())
            .finish_non_exhaustive()
    }
}

impl AwsRegistryProvider {
    /// A provider over `base` (region, credentials, endpoint URL, HTTP
    /// client), where each AWS call may take at most `call_timeout`,
    /// retries included.
    pub fn new(base: SdkConfig, call_timeout: Duration) -> AwsRegistryProvider {
        let retry = RetryConfig::standard().with_max_attempts(MAX_ATTEMPTS);
        let timeout = call_timeouts(&base, call_timeout);
        let sts = aws_sdk_sts::Client::from_conf(
            aws_sdk_sts::config::Builder::from(&base)
                .retry_config(retry.clone())
                .timeout_config(timeout.clone())
                .build(),
        );
        AwsRegistryProvider {
            base,
            retry,
            timeout,
            sts,
            roles: ExpiringCache::new(RENEW_BEFORE_EXPIRY),
            clients: ExpiringCache::new(RENEW_BEFORE_EXPIRY),
            endpoints: Arc::new(ExpiringCache::new(RENEW_BEFORE_EXPIRY)),
        }
    }

    /// A provider over the environment's AWS configuration
    /// (`AWS_REGION`, credentials chain, `AWS_ENDPOINT_URL`, ...).
    pub async fn from_env(call_timeout: Duration) -> AwsRegistryProvider {
        let base = aws_config::defaults(BehaviorVersion::latest()).load().await;
        AwsRegistryProvider::new(base, call_timeout)
    }

    /// The credentials to sign with in `target`: the role's (cached until
    /// shortly before they expire), or `None` for the base configuration's.
    async fn credentials(
        &self,
        target: &Target,
        session: &RoleSession,
    ) -> RegistryResult<Option<Credentials>> {
        let Some(role_arn) = &target.role_arn else {
            return Ok(None);
        };
        let key = RoleKey {
            role_arn: role_arn.clone(),
            external_id: target.external_id.clone(),
            session_name: session.name.clone(),
            source_identity: session.source_identity.clone(),
        };
        let credentials = self
            .roles
            .get_or_try_insert_with(key.clone(), || async {
                let credentials = assume_role(&self.sts, &key, &target.region).await?;
                let expires_at = credentials.expiry();
                Ok::<_, RegistryError>((credentials, expires_at))
            })
            .await?;
        Ok(Some(credentials))
    }

    fn iot_client(&self, region: &str, credentials: Option<Credentials>) -> aws_sdk_iot::Client {
        let mut config = aws_sdk_iot::config::Builder::from(&self.base)
            .region(Region::new(region.to_owned()))
            .retry_config(self.retry.clone())
            .timeout_config(self.timeout.clone());
        if let Some(credentials) = credentials {
            config = config.credentials_provider(credentials);
        }
        aws_sdk_iot::Client::from_conf(config.build())
    }
}

#[async_trait]
impl RegistryProvider for AwsRegistryProvider {
    /// Without a source identity.
    async fn registry(
        &self,
        target: &Target,
        session_name: &str,
    ) -> RegistryResult<Arc<dyn CertificateRegistry>> {
        self.registry_for(target, &RoleSession::new(session_name, None))
            .await
    }

    async fn registry_for(
        &self,
        target: &Target,
        session: &RoleSession,
    ) -> RegistryResult<Arc<dyn CertificateRegistry>> {
        let credentials = self.credentials(target, session).await?;
        let key = ClientKey {
            account_id: target.account_id.clone(),
            region: target.region.clone(),
            access_key_id: credentials.as_ref().map(|c| c.access_key_id().to_owned()),
        };
        // A client lives as long as the credentials it signs with.
        let expires_at = credentials.as_ref().and_then(Credentials::expiry);
        let client = self
            .clients
            .get_or_try_insert_with(key, || async {
                let client = self.iot_client(&target.region, credentials);
                Ok::<_, RegistryError>((client, expires_at))
            })
            .await?;
        Ok(Arc::new(AwsIotRegistry::new(
            client,
            target.account_id.clone(),
            target.region.clone(),
            Arc::clone(&self.endpoints),
        )))
    }
}
