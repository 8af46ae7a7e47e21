//! Registering certificates without a CA: per (certificate, target),
//! register INACTIVE → attach policy → create/attach thing → activate, and
//! undo what this request did when a step fails. Running the same request
//! again finds everything in place and changes nothing.

use std::time::Instant;

use futures::{StreamExt, stream};
use marshal_shared::{
    Certificate, OffsetDateTime,
    api::{
        CertificateInput, CertificateStatus, CreateRegistrationRequest, CreateRegistrationResponse,
        ErrorCode, IndexedFinding, Registration, RegistrationResult, RegistrationSummary,
        TargetError, TargetErrorCode,
    },
    preflight, validate,
};

use super::{
    Service, TargetContext, failure,
    registry::{CertificateRecord, RegistryErrorKind},
};
use crate::{config::PolicyConfig, error::ApiError, identity::Caller};

/// A certificate from the request, checked and ready to register.
#[derive(Debug, Clone)]
pub(crate) struct PreparedCertificate {
    pub(crate) index: usize,
    /// Canonical PEM of the certificate alone (what AWS receives).
    pub(crate) pem: String,
    pub(crate) id: String,
    pub(crate) thing: String,
}

/// A target whose registry is open, policy present and endpoint known.
#[derive(Clone)]
pub(crate) struct ReadyTarget {
    pub(crate) context: TargetContext,
    pub(crate) endpoint: String,
}

impl Service {
    /// Checks the certificates of a request: count, decoding, preflight
    /// (with duplicates across the batch) and thing names.
    pub(crate) fn prepare_certificates(
        &self,
        inputs: &[CertificateInput],
        now: OffsetDateTime,
    ) -> Result<Vec<PreparedCertificate>, ApiError> {
        if inputs.is_empty() {
            return Err(ApiError::new(
                ErrorCode::InvalidRequest,
                "certificates: send at least one certificate",
            ));
        }
        let max = self.config.limits.max_certificates_per_request;
        if inputs.len() > max {
            return Err(ApiError::new(
                ErrorCode::TooManyCertificates,
                format!(
                    "{} certificates in one request; the limit is {max}",
                    inputs.len()
                ),
            ));
        }
        let mut prepared = Vec::with_capacity(inputs.len());
        let mut findings = Vec::new();
        for (index, input) in inputs.iter().enumerate() {
            let certs = Certificate::all_from_pem(&input.certificate_pem).map_err(|e| {
                ApiError::new(
                    ErrorCode::CertificateInvalid,
                    format!("certificates[{index}].certificatePem: {e}"),
                )
            })?;
            let [certificate] = <[Certificate; 1]>::try_from(certs).map_err(|certs| {
                ApiError::new(
                    ErrorCode::CertificateInvalid,
                    format!(
                        "certificates[{index}].certificatePem holds {} certificates; send one per entry",
                        certs.len()
                    ),
                )
            })?;
            findings.extend(
                preflight::check_pem(
                    &input.certificate_pem,
                    std::slice::from_ref(&certificate),
                    now,
                )
                .iter()
                .filter(|f| f.severity == preflight::Severity::Error)
                .map(|f| IndexedFinding::new(index, f)),
            );
            let thing = self.thing_name(index, input, &certificate)?;
            prepared.push(PreparedCertificate {
                index,
                pem: certificate.to_pem(),
                id: certificate.id(),
                thing,
            });
        }
        let mut seen = std::collections::HashSet::new();
        for p in &prepared {
            if !seen.insert(p.id.as_str()) {
                findings.push(IndexedFinding {
                    index: p.index,
                    code: "duplicate_in_batch".into(),
                    severity: "error".into(),
                    message: format!("certificate {} appears earlier in this batch", p.id),
                });
            }
        }
        if !findings.is_empty() {
            let mut error = ApiError::new(
                ErrorCode::PreflightFailed,
                format!(
                    "{} problem(s) found before contacting AWS; nothing was registered",
                    findings.len()
                ),
            );
            error.findings = findings;
            return Err(error);
        }
        Ok(prepared)
    }

    fn thing_name(
        &self,
        index: usize,
        input: &CertificateInput,
        cert: &Certificate,
    ) -> Result<String, ApiError> {
        let (name, field) = match &input.thing_name {
            Some(name) => (name.clone(), "thingName"),
            None => (
                cert.common_name().ok_or_else(|| {
                    ApiError::new(
                        ErrorCode::InvalidThingName,
                        format!("certificates[{index}]: the certificate has no CN; give thingName"),
                    )
                })?,
                "thingName (from the certificate's CN)",
            ),
        };
        if let Err(e) = validate::thing_name(&name) {
            return Err(ApiError::new(
                ErrorCode::InvalidThingName,
                format!("certificates[{index}].{field}: {e}"),
            ));
        }
        if !self.thing_pattern.is_match(&name) {
            return Err(ApiError::new(
                ErrorCode::InvalidThingName,
                format!(
                    "certificates[{index}].{field}: \"{name}\" does not match the allowed pattern {}",
                    self.config.thing_name_pattern
                ),
            ));
        }
        Ok(name)
    }

    /// The allowed policy of that name, or 403.
    pub(crate) fn allowed_policy(&self, name: &str) -> Result<&PolicyConfig, ApiError> {
        self.config
            .policies
            .iter()
            .find(|p| p.name == name)
            .ok_or_else(|| {
                ApiError::new(
                    ErrorCode::PolicyNotAllowed,
                    format!("policy \"{name}\" is not in the allowed list"),
                )
            })
    }

    /// `POST /v1/registrations`.
    pub async fn register(
        &self,
        caller: &Caller,
        request: &CreateRegistrationRequest,
        now: OffsetDateTime,
    ) -> Result<CreateRegistrationResponse, ApiError> {
        let policy = self.allowed_policy(&request.policy)?.clone();
        let targets = self.resolve_targets(caller, &request.targets)?;
        let certificates = self.prepare_certificates(&request.certificates, now)?;

        // Futures are collected first and then streamed: a stream of
        // borrowing closures trips the compiler's Send check for handlers.
        let opening: Vec<_> = targets
            .iter()
            .map(|t| self.ready_target(t, caller, &policy))
            .collect();
        let ready: Vec<Result<ReadyTarget, TargetError>> = stream::iter(opening)
            .buffered(self.config.limits.concurrency)
            .collect()
            .await;
        let policy = &policy;
        let mut jobs = Vec::with_capacity(certificates.len() * targets.len());
        for cert in &certificates {
            for (target, ready) in targets.iter().zip(&ready) {
                jobs.push(async move {
                    let outcome = match ready {
                        Ok(ready) => {
                            register_pair(ready, cert, &policy.name, request.activate, caller).await
                        }
                        Err(e) => Err(e.clone()),
                    };
                    RegistrationResult {
                        index: cert.index,
                        certificate_id: cert.id.clone(),
                        target: target.id.clone(),
                        registration: outcome.as_ref().ok().cloned(),
                        error: outcome.err(),
                    }
                });
            }
        }
        let results: Vec<RegistrationResult> = stream::iter(jobs)
            .buffered(self.config.limits.concurrency)
            .collect()
            .await;
        let failed = results.iter().filter(|r| r.error.is_some()).count();
        Ok(CreateRegistrationResponse {
            summary: RegistrationSummary {
                succeeded: results.len() - failed,
                failed,
            },
            results,
        })
    }

    /// Opens a target, makes sure the policy is there (creating it from its
    /// template when allowed) and learns the endpoint.
    pub(crate) async fn ready_target(
        &self,
        target: &crate::config::Target,
        caller: &Caller,
        policy: &PolicyConfig,
    ) -> Result<ReadyTarget, TargetError> {
        let context = self.open(target, caller).await?;
        let registry = &context.registry;
        if !registry
            .policy_exists(&policy.name)
            .await
            .map_err(|e| failure::target_error(&e))?
        {
            let Some(template) = &policy.template else {
                return Err(failure::error(
                    TargetErrorCode::PolicyMissing,
                    format!(
                        "policy \"{}\" does not exist in target {} and has no template to create it",
                        policy.name, target.id
                    ),
                ));
            };
            let document = template
                .document_for(target)
                .map_err(|e| failure::error(TargetErrorCode::PolicyMissing, e.to_string()))?;
            match registry.create_policy(&policy.name, &document).await {
                Ok(()) => {
                    tracing::info!(target = %target.id, policy = %policy.name, "created policy from template")
                }
                // Created concurrently by another request: fine.
                Err(e) if e.kind == RegistryErrorKind::AlreadyExists => {}
                Err(e) => return Err(failure::target_error(&e)),
            }
        }
        let endpoint = registry
            .data_ats_endpoint()
            .await
            .map_err(|e| failure::target_error(&e))?;
        Ok(ReadyTarget { context, endpoint })
    }
}

/// What this request changed in one target, to undo on failure.
#[derive(Debug, Default)]
struct Undo {
    /// The certificate's ARN once known.
    arn: Option<String>,
    registered: bool,
    attached_policy: Option<String>,
    created_thing: Option<String>,
    attached_thing: Option<String>,
    previous_status: Option<CertificateStatus>,
}

/// Registers one certificate in one ready target.
pub(crate) async fn register_pair(
    ready: &ReadyTarget,
    cert: &PreparedCertificate,
    policy: &str,
    activate: bool,
    caller: &Caller,
) -> Result<Registration, TargetError> {
    let started = Instant::now();
    let mut undo = Undo::default();
    let result = apply(ready, cert, policy, activate, &mut undo).await;
    let target = &ready.context.target.id;
    match result {
        Ok(registration) => {
            tracing::info!(
                action = "register", caller = caller.display(), certificate_id = %cert.id, target = %target,
                outcome = "ok", newly_registered = registration.newly_registered,
                duration_ms = started.elapsed().as_millis() as u64,
            );
            Ok(registration)
        }
        Err(mut error) => {
            let rollback = roll_back(ready, cert, &undo).await;
            if let Err(problem) = rollback {
                error.message = format!("{} (rollback incomplete: {problem})", error.message);
            }
            tracing::warn!(
                action = "register", caller = caller.display(), certificate_id = %cert.id, target = %target,
                outcome = "failed", code = ?error.code, message = %error.message,
                duration_ms = started.elapsed().as_millis() as u64,
            );
            Err(error)
        }
    }
}

async fn apply(
    ready: &ReadyTarget,
    cert: &PreparedCertificate,
    policy: &str,
    activate: bool,
    undo: &mut Undo,
) -> Result<Registration, TargetError> {
    let registry = &ready.context.registry;
    let aws = |e: super::registry::RegistryError| failure::target_error(&e);
    let wanted = if activate {
        CertificateStatus::Active
    } else {
        CertificateStatus::Inactive
    };

    // Registering and asking whether the thing exists do not depend on each
    // other: one round trip instead of two.
    let (registered, thing_existed) = futures::join!(
        registry.register_without_ca(&cert.pem, CertificateStatus::Inactive),
        registry.thing_exists(&cert.thing),
    );
    let record: CertificateRecord = match registered {
        Ok(record) => {
            undo.registered = true;
            record
        }
        Err(e) if e.kind == RegistryErrorKind::AlreadyExists => registry
            .describe_certificate(&cert.id)
            .await
            .map_err(aws)?
            .ok_or_else(|| {
                failure::error(
                    TargetErrorCode::AwsConflict,
                    "AWS says the certificate exists but cannot describe it",
                )
            })?,
        Err(e) => return Err(aws(e)),
    };
    undo.arn = Some(record.arn.clone());
    if record.id != cert.id {
        return Err(failure::error(
            TargetErrorCode::CertificateIdMismatch,
            format!(
                "AWS computed certificate ID {} but the SHA-256 of the DER is {}",
                record.id, cert.id
            ),
        ));
    }
    if record.status == CertificateStatus::Revoked && activate {
        return Err(failure::error(
            TargetErrorCode::CertificateRevoked,
            "the certificate is REVOKED in this target; AWS cannot make it ACTIVE again",
        ));
    }
    let thing_existed = thing_existed.map_err(aws)?;

    // The policy and the thing are attached side by side; each branch says
    // what it changed, even when it fails, so the rollback undoes exactly that.
    let attach_policy = async {
        let mut attached = None;
        let result = async {
            let policies = if undo.registered {
                Vec::new()
            } else {
                registry.attached_policies(&record.arn).await?
            };
            if !policies.iter().any(|p| p == policy) {
                // Noted before the call: a call that failed may still have
                // happened (the reply was lost), and undoing one that did
                // not is a harmless NotFound.
                attached = Some(policy.to_owned());
                registry.attach_policy(policy, &record.arn).await?;
            }
            Ok(())
        }
        .await;
        (attached, result)
    };
    let attach_thing = async {
        let (mut created, mut attached) = (None, None);
        let result = async {
            if !thing_existed {
                created = Some(cert.thing.clone());
                registry.create_thing(&cert.thing).await?;
            }
            let things = if undo.registered {
                Vec::new()
            } else {
                registry.attached_things(&record.arn).await?
            };
            if !things.iter().any(|t| t == &cert.thing) {
                attached = Some(cert.thing.clone());
                registry.attach_thing(&cert.thing, &record.arn).await?;
            }
            Ok(())
        }
        .await;
        (created, attached, result)
    };
    let ((policy_attached, policy_result), (thing_created, thing_attached, thing_result)) =
        futures::join!(attach_policy, attach_thing);
    undo.attached_policy = policy_attached;
    undo.created_thing = thing_created;
    undo.attached_thing = thing_attached;
    policy_result.map_err(aws)?;
    thing_result.map_err(aws)?;

    if record.status != wanted {
        // Noted first: an ACTIVE certificate whose reply was lost must still
        // go back to its old status, or the rollback could not delete it and
        // would leave it ACTIVE without its policy.
        undo.previous_status = Some(record.status);
        registry
            .update_status(&cert.id, wanted)
            .await
            .map_err(aws)?;
    }

    Ok(Registration {
        certificate_arn: record.arn,
        status: wanted,
        policy: policy.to_owned(),
        thing: cert.thing.clone(),
        endpoint: ready.endpoint.clone(),
        newly_registered: undo.registered,
    })
}

/// Undoes, in reverse order, what [`apply`] did. Best effort: every step is
/// tried; the first problem is reported.
async fn roll_back(
    ready: &ReadyTarget,
    cert: &PreparedCertificate,
    undo: &Undo,
) -> Result<(), String> {
    let registry = &ready.context.registry;
    let arn = undo.arn.clone().unwrap_or_default();
    let mut problems = Vec::new();
    let mut note = |what: &str, r: Result<(), super::registry::RegistryError>| match r {
        // Already gone (a retried call may have done it): that is the goal.
        Err(e) if e.kind == RegistryErrorKind::NotFound => {}
        Err(e) => problems.push(format!("{what}: {}", e.message)),
        Ok(()) => {}
    };
    if let Some(previous) = undo.previous_status {
        note(
            "restore status",
            registry.update_status(&cert.id, previous).await,
        );
    }
    if let Some(thing) = &undo.attached_thing {
        note("detach thing", registry.detach_thing(thing, &arn).await);
    }
    if let Some(thing) = &undo.created_thing {
        note("delete thing", registry.delete_thing(thing).await);
    }
    if let Some(policy) = &undo.attached_policy {
        note("detach policy", registry.detach_policy(policy, &arn).await);
    }
    if undo.registered {
        note(
            "delete certificate",
            registry.delete_certificate(&cert.id).await,
        );
    }
    match problems.into_iter().next() {
        None => Ok(()),
        Some(first) => Err(first),
    }
}
