//! [`AwsIotRegistry`]: the [`CertificateRegistry`] of one account and region,
//! one aws-sdk-iot call per method.

use std::sync::Arc;

use async_trait::async_trait;
use aws_sdk_iot::{
    Client,
    types::{CertificateStatus as SdkStatus, ThingPrincipalType},
};

use super::{cache::ExpiringCache, errors::classify};
use crate::service::registry::{
    CertificateRecord, CertificateRegistry, CertificateStatus, RegistryError, RegistryErrorKind,
    RegistryResult,
};

/// ATS endpoints by (account, region), shared by every registry of a provider.
pub(crate) type EndpointCache = ExpiringCache<(String, String), String>;

/// The AWS IoT registry of one account and region, through aws-sdk-iot.
///
/// Made by [`AwsRegistryProvider`](super::AwsRegistryProvider), which gives it
/// a client with the target's region and credentials.
#[derive(Debug, Clone)]
pub struct AwsIotRegistry {
    client: Client,
    account_id: String,
    region: String,
    endpoints: Arc<EndpointCache>,
}

impl AwsIotRegistry {
    /// A registry over `client`, which must already be set up for
    /// `account_id` and `region` (they key the endpoint cache).
    pub(crate) fn new(
        client: Client,
        account_id: String,
        region: String,
        endpoints: Arc<EndpointCache>,
    ) -> AwsIotRegistry {
        AwsIotRegistry {
            client,
            account_id,
            region,
            endpoints,
        }
    }
}

/// The status to send; only the three AWS states Marshal sets can be sent.
fn sdk_status(status: CertificateStatus) -> RegistryResult<SdkStatus> {
    match status {
        CertificateStatus::Active => Ok(SdkStatus::Active),
        CertificateStatus::Inactive => Ok(SdkStatus::Inactive),
        CertificateStatus::Revoked => Ok(SdkStatus::Revoked),
        CertificateStatus::Other => Err(RegistryError::new(
            RegistryErrorKind::Invalid,
            "only ACTIVE, INACTIVE or REVOKED can be set",
        )),
    }
}

/// The status AWS reports; anything but the three Marshal knows is `Other`.
fn api_status(status: Option<&SdkStatus>) -> CertificateStatus {
    match status {
        Some(SdkStatus::Active) => CertificateStatus::Active,
        Some(SdkStatus::Inactive) => CertificateStatus::Inactive,
        Some(SdkStatus::Revoked) => CertificateStatus::Revoked,
        _ => CertificateStatus::Other,
    }
}

/// A successful answer without a field AWS always sends.
fn missing(operation: &str, field: &str) -> RegistryError {
    RegistryError::new(
        RegistryErrorKind::Unavailable,
        format!("{operation}: AWS's answer has no {field}"),
    )
}

/// `Ok(false)` for NotFound, so "does it exist" questions are not errors.
fn exists(result: RegistryResult<()>) -> RegistryResult<bool> {
    match result {
        Ok(()) => Ok(true),
        Err(e) if e.kind == RegistryErrorKind::NotFound => Ok(false),
        Err(e) => Err(e),
    }
}

#[async_trait]
impl CertificateRegistry for AwsIotRegistry {
    async fn register_without_ca(
        &self,
        pem: &str,
        status: CertificateStatus,
    ) -> RegistryResult<CertificateRecord> {
        const OP: &str = "RegisterCertificateWithoutCA";
        // Always send a status: AWS defaults to INACTIVE, moto stores none.
        let output = self
            .client
            .register_certificate_without_ca()
            .certificate_pem(pem)
            .status(sdk_status(status)?)
            .send()
            .await
            .map_err(|e| classify(OP, e))?;
        Ok(CertificateRecord {
            id: output
                .certificate_id()
                .ok_or_else(|| missing(OP, "certificateId"))?
                .to_owned(),
            arn: output
                .certificate_arn()
                .ok_or_else(|| missing(OP, "certificateArn"))?
                .to_owned(),
            status,
            pem: pem.to_owned(),
            created_ms: None,
        })
    }

    async fn list_certificates(&self) -> RegistryResult<Vec<(String, CertificateStatus)>> {
        let certificates: Vec<aws_sdk_iot::types::Certificate> = self
            .client
            .list_certificates()
            .page_size(250)
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .map_err(|e| classify("ListCertificates", e))?;
        Ok(certificates
            .iter()
            .filter_map(|c| Some((c.certificate_id()?.to_owned(), api_status(c.status()))))
            .collect())
    }

    async fn describe_certificate(&self, id: &str) -> RegistryResult<Option<CertificateRecord>> {
        const OP: &str = "DescribeCertificate";
        let output = match self
            .client
            .describe_certificate()
            .certificate_id(id)
            .send()
            .await
            .map_err(|e| classify(OP, e))
        {
            Ok(output) => output,
            Err(e) if e.kind == RegistryErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e),
        };
        let description = output
            .certificate_description()
            .ok_or_else(|| missing(OP, "certificateDescription"))?;
        Ok(Some(CertificateRecord {
            id: description
                .certificate_id()
                .ok_or_else(|| missing(OP, "certificateId"))?
                .to_owned(),
            arn: description
                .certificate_arn()
                .ok_or_else(|| missing(OP, "certificateArn"))?
                .to_owned(),
            status: api_status(description.status()),
            pem: description.certificate_pem().unwrap_or_default().to_owned(),
            created_ms: description.creation_date().and_then(|d| d.to_millis().ok()),
        }))
    }

    async fn update_status(&self, id: &str, status: CertificateStatus) -> RegistryResult<()> {
        self.client
            .update_certificate()
            .certificate_id(id)
            .new_status(sdk_status(status)?)
            .send()
            .await
            .map_err(|e| classify("UpdateCertificate", e))?;
        Ok(())
    }

    async fn delete_certificate(&self, id: &str) -> RegistryResult<()> {
        // Never forceDelete: it leaves policy links behind (and corrupts moto).
        self.client
            .delete_certificate()
            .certificate_id(id)
            .send()
            .await
            .map_err(|e| classify("DeleteCertificate", e))?;
        Ok(())
    }

    async fn policy_exists(&self, name: &str) -> RegistryResult<bool> {
        exists(
            self.client
                .get_policy()
                .policy_name(name)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| classify("GetPolicy", e)),
        )
    }

    async fn create_policy(&self, name: &str, document: &str) -> RegistryResult<()> {
        self.client
            .create_policy()
            .policy_name(name)
            .policy_document(document)
            .send()
            .await
            .map_err(|e| classify("CreatePolicy", e))?;
        Ok(())
    }

    async fn attach_policy(&self, policy: &str, certificate_arn: &str) -> RegistryResult<()> {
        self.client
            .attach_policy()
            .policy_name(policy)
            .target(certificate_arn)
            .send()
            .await
            .map_err(|e| classify("AttachPolicy", e))?;
        Ok(())
    }

    async fn detach_policy(&self, policy: &str, certificate_arn: &str) -> RegistryResult<()> {
        // ResourceNotFoundException is not in DetachPolicy's model; classify
        // reads the code, so it still arrives as NotFound.
        self.client
            .detach_policy()
            .policy_name(policy)
            .target(certificate_arn)
            .send()
            .await
            .map_err(|e| classify("DetachPolicy", e))?;
        Ok(())
    }

    async fn attached_policies(&self, certificate_arn: &str) -> RegistryResult<Vec<String>> {
        let policies = self
            .client
            .list_attached_policies()
            .target(certificate_arn)
            .recursive(false)
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .map_err(|e| classify("ListAttachedPolicies", e))?;
        Ok(policies.into_iter().filter_map(|p| p.policy_name).collect())
    }

    async fn thing_exists(&self, name: &str) -> RegistryResult<bool> {
        exists(
            self.client
                .describe_thing()
                .thing_name(name)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| classify("DescribeThing", e)),
        )
    }

    async fn create_thing(&self, name: &str) -> RegistryResult<()> {
        self.client
            .create_thing()
            .thing_name(name)
            .send()
            .await
            .map_err(|e| classify("CreateThing", e))?;
        Ok(())
    }

    async fn delete_thing(&self, name: &str) -> RegistryResult<()> {
        self.client
            .delete_thing()
            .thing_name(name)
            .send()
            .await
            .map_err(|e| classify("DeleteThing", e))?;
        Ok(())
    }

    async fn attach_thing(&self, thing: &str, certificate_arn: &str) -> RegistryResult<()> {
        self.client
            .attach_thing_principal()
            .thing_name(thing)
            .principal(certificate_arn)
            // The certificate may then be this thing's only: it cannot be
            // attached to another device's thing as well.
            .thing_principal_type(ThingPrincipalType::ExclusiveThing)
            .send()
            .await
            .map_err(|e| classify("AttachThingPrincipal", e))?;
        Ok(())
    }

    async fn detach_thing(&self, thing: &str, certificate_arn: &str) -> RegistryResult<()> {
        self.client
            .detach_thing_principal()
            .thing_name(thing)
            .principal(certificate_arn)
            .send()
            .await
            .map_err(|e| classify("DetachThingPrincipal", e))?;
        Ok(())
    }

    async fn attached_things(&self, certificate_arn: &str) -> RegistryResult<Vec<String>> {
        self.client
            .list_principal_things()
            .principal(certificate_arn)
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .map_err(|e| classify("ListPrincipalThings", e))
    }

    async fn thing_principals(&self, thing: &str) -> RegistryResult<Vec<String>> {
        self.client
            .list_thing_principals()
            .thing_name(thing)
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .map_err(|e| classify("ListThingPrincipals", e))
    }

    async fn data_ats_endpoint(&self) -> RegistryResult<String> {
        const OP: &str = "DescribeEndpoint";
        // AWS's endpoint of an account and region never changes, so one call
        // per process is enough (moto invents a new one per call; caching
        // also keeps ours stable there).
        let key = (self.account_id.clone(), self.region.clone());
        self.endpoints
            .get_or_try_insert_with(key, || async {
                let output = self
                    .client
                    .describe_endpoint()
                    .endpoint_type("iot:Data-ATS")
                    .send()
                    .await
                    .map_err(|e| classify(OP, e))?;
                let address = output
                    .endpoint_address()
                    .ok_or_else(|| missing(OP, "endpointAddress"))?;
                Ok((address.to_owned(), None))
            })
            .await
    }
}
