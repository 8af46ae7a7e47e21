//! The ports the use cases are written against: one AWS IoT registry per
//! target (account × region), and a way to obtain it for a target.

use std::{fmt, sync::Arc};

use async_trait::async_trait;

use crate::config::Target;

pub use marshal_shared::api::CertificateStatus;

/// What the registry says about one certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateRecord {
    /// Certificate ID as AWS computed it (SHA-256 of the DER, lowercase hex).
    pub id: String,
    /// `arn:aws:iot:<region>:<account>:cert/<id>`.
    pub arn: String,
    /// Current status.
    pub status: CertificateStatus,
    /// The certificate PEM as registered.
    pub pem: String,
    /// When AWS registered it (Unix milliseconds), when AWS says.
    pub created_ms: Option<i64>,
}

/// A failure of one registry call, already classified for the API.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{kind:?}: {message}")]
pub struct RegistryError {
    /// What kind of failure.
    pub kind: RegistryErrorKind,
    /// AWS's own words (never credentials or bodies).
    pub message: String,
}

/// Kinds of registry failure the use cases react to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegistryErrorKind {
    /// The named resource does not exist (ResourceNotFoundException).
    NotFound,
    /// It exists already (ResourceAlreadyExistsException).
    AlreadyExists,
    /// The request conflicts with the resource's state (DeleteConflict,
    /// CertificateState, InvalidRequest about state).
    Conflict,
    /// AWS refused the request as malformed (InvalidRequest, CertificateValidation).
    Invalid,
    /// Not allowed (AccessDenied, Unauthorized) — includes AssumeRole refusals.
    AccessDenied,
    /// Throttled after the SDK's retries.
    Throttled,
    /// Timed out.
    Timeout,
    /// Anything else: 5xx after retries, network failure, unexpected answer.
    Unavailable,
}

impl RegistryError {
    /// Shorthand constructor.
    pub fn new(kind: RegistryErrorKind, message: impl fmt::Display) -> RegistryError {
        RegistryError {
            kind,
            message: message.to_string(),
        }
    }
}

/// Result of registry calls.
pub type RegistryResult<T> = Result<T, RegistryError>;

/// The AWS IoT registry of one account and region. Every method is one AWS
/// call (or a few for pagination); the use cases decide the order.
#[async_trait]
pub trait CertificateRegistry: Send + Sync {
    /// RegisterCertificateWithoutCA with the given status. `AlreadyExists`
    /// when the certificate is registered already.
    async fn register_without_ca(
        &self,
        pem: &str,
        status: CertificateStatus,
    ) -> RegistryResult<CertificateRecord>;
    /// DescribeCertificate; `None` when it is not registered.
    async fn describe_certificate(&self, id: &str) -> RegistryResult<Option<CertificateRecord>>;
    /// UpdateCertificate.
    async fn update_status(&self, id: &str, status: CertificateStatus) -> RegistryResult<()>;
    /// DeleteCertificate (never forceDelete): the caller detaches first.
    async fn delete_certificate(&self, id: &str) -> RegistryResult<()>;
    /// ListCertificates: every certificate's ID and status (all pages).
    async fn list_certificates(&self) -> RegistryResult<Vec<(String, CertificateStatus)>>;

    /// GetPolicy: whether the policy exists.
    async fn policy_exists(&self, name: &str) -> RegistryResult<bool>;
    /// CreatePolicy.
    async fn create_policy(&self, name: &str, document: &str) -> RegistryResult<()>;
    /// AttachPolicy to a certificate ARN (idempotent on AWS).
    async fn attach_policy(&self, policy: &str, certificate_arn: &str) -> RegistryResult<()>;
    /// DetachPolicy.
    async fn detach_policy(&self, policy: &str, certificate_arn: &str) -> RegistryResult<()>;
    /// ListAttachedPolicies of a certificate ARN.
    async fn attached_policies(&self, certificate_arn: &str) -> RegistryResult<Vec<String>>;

    /// DescribeThing: whether the thing exists.
    async fn thing_exists(&self, name: &str) -> RegistryResult<bool>;
    /// CreateThing.
    async fn create_thing(&self, name: &str) -> RegistryResult<()>;
    /// DeleteThing.
    async fn delete_thing(&self, name: &str) -> RegistryResult<()>;
    /// AttachThingPrincipal with `EXCLUSIVE_THING`: the certificate may be
    /// attached to this thing only (AWS refuses it when it has another).
    async fn attach_thing(&self, thing: &str, certificate_arn: &str) -> RegistryResult<()>;
    /// DetachThingPrincipal.
    async fn detach_thing(&self, thing: &str, certificate_arn: &str) -> RegistryResult<()>;
    /// ListPrincipalThings of a certificate ARN.
    async fn attached_things(&self, certificate_arn: &str) -> RegistryResult<Vec<String>>;
    /// ListThingPrincipals: the principals (certificate ARNs) attached to a
    /// thing; `NotFound` when there is no such thing.
    async fn thing_principals(&self, thing: &str) -> RegistryResult<Vec<String>>;

    /// DescribeEndpoint `iot:Data-ATS`.
    async fn data_ats_endpoint(&self) -> RegistryResult<String>;
}

/// Who a target's role is assumed for: what STS records in CloudTrail.
/// Fields may be added; build it with [`RoleSession::new`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct RoleSession {
    /// `RoleSessionName`, `[\w+=,.@-]{2,64}`: part of the assumed-role ARN.
    pub name: String,
    /// `SourceIdentity`, `[\w+=,.@-]{2,64}`: the caller's `sub`. STS keeps
    /// it for every call of the session and across role chaining, and the
    /// session cannot change it. The target role's trust policy must allow
    /// `sts:SetSourceIdentity`. `None`: not set.
    pub source_identity: Option<String>,
}

impl RoleSession {
    /// A session named `name`, with `source_identity` when given (both
    /// already within STS's rules: see `Caller::session_name` and
    /// `Caller::source_identity`).
    pub fn new(name: impl Into<String>, source_identity: Option<String>) -> RoleSession {
        RoleSession {
            name: name.into(),
            source_identity,
        }
    }
}

/// Gives the registry of a target, assuming its role when it has one.
#[async_trait]
pub trait RegistryProvider: Send + Sync {
    /// The registry for `target`; `session_name` names the caller in
    /// CloudTrail (already sanitised to `[\w+=,.@-]{2,64}`).
    async fn registry(
        &self,
        target: &Target,
        session_name: &str,
    ) -> RegistryResult<Arc<dyn CertificateRegistry>>;

    /// The registry for `target`, its role assumed for `session` (the
    /// service calls this one). Providers that assume roles override it to
    /// pass the source identity; the default ignores that and calls
    /// [`registry`](Self::registry) with the session name, which suits
    /// providers that assume nothing (`InMemoryProvider`).
    async fn registry_for(
        &self,
        target: &Target,
        session: &RoleSession,
    ) -> RegistryResult<Arc<dyn CertificateRegistry>> {
        self.registry(target, &session.name).await
    }
}
