//! Registering certificates without a CA: per (certificate, target), take
//! the certificate's and the thing's ownership records, register INACTIVE →
//! attach policy ∥ create/attach thing → activate, hand the records back, and
//! undo what this request did when a step fails. Running the same request
//! again finds everything in place and changes nothing.
//!
//! Nothing that is not the caller's is touched: a certificate registered
//! outside Marshal or by someone else, or a thing that exists without being
//! the caller's or that has another certificate, is refused before any
//! change to it.

use std::{
    collections::HashSet,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use futures::{StreamExt, stream};
use marshal_shared::{
    Certificate, OffsetDateTime,
    api::{
        CertificateInput, CreateRegistrationRequest, CreateRegistrationResponse, ErrorCode,
        IndexedFinding, LedgerAction, RegistrationResult, RegistrationSummary, TargetError,
        TargetErrorCode,
    },
    preflight, validate,
};

use super::{
    Service, TargetContext, failure,
    ownership::{LeaseClock, Owner},
    registry::RegistryErrorKind,
};
use crate::{config::PolicyConfig, error::ApiError, identity::Caller};

mod pair;

pub(crate) use pair::{Acting, register_pair, release};

/// A certificate from the request, checked and ready to register.
#[derive(Debug, Clone)]
pub(crate) struct PreparedCertificate {
    pub(crate) index: usize,
    /// Canonical PEM of the certificate alone (what AWS receives).
    pub(crate) pem: String,
    pub(crate) id: String,
    pub(crate) thing: String,
    /// `notAfter`, Unix milliseconds.
    pub(crate) not_after_ms: i64,
}

/// A target whose registry is open, policy present and endpoint known.
#[derive(Clone)]
pub(crate) struct ReadyTarget {
    pub(crate) context: TargetContext,
    pub(crate) endpoint: String,
    /// Where the policy's presence is remembered, to forget it when AWS
    /// says it is gone.
    pub(crate) policy: PolicyMemo,
}

/// The policies known to exist, by registry (account, region) and name: a
/// warm function asks AWS once, not on every registration. An entry is
/// forgotten when attaching the policy finds it gone, so the next request
/// looks again (and creates it from its template).
#[derive(Debug, Clone, Default)]
pub(crate) struct KnownPolicies(Arc<Mutex<HashSet<(String, String, String)>>>);

/// One policy's entry in [`KnownPolicies`].
#[derive(Debug, Clone)]
pub(crate) struct PolicyMemo {
    known: KnownPolicies,
    key: (String, String, String),
}

impl PolicyMemo {
    fn of(known: &KnownPolicies, target: &crate::config::Target, policy: &str) -> PolicyMemo {
        PolicyMemo {
            known: known.clone(),
            key: (
                target.account_id.clone(),
                target.region.clone(),
                policy.to_owned(),
            ),
        }
    }

    fn is_known(&self) -> bool {
        self.known
            .0
            .lock()
            .is_ok_and(|known| known.contains(&self.key))
    }

    fn remember(&self) {
        if let Ok(mut known) = self.known.0.lock() {
            known.insert(self.key.clone());
        }
    }

    /// AWS said the policy is not there (any more).
    pub(crate) fn forget(&self) {
        if let Ok(mut known) = self.known.0.lock() {
            known.remove(&self.key);
        }
    }
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
        self.prepare_all(inputs, now)
    }

    /// [`Service::prepare_certificates`] without the per-request count: a
    /// job's file, whose size its own limits bound.
    pub(crate) fn prepare_all(
        &self,
        inputs: &[CertificateInput],
        now: OffsetDateTime,
    ) -> Result<Vec<PreparedCertificate>, ApiError> {
        let mut prepared = Vec::with_capacity(inputs.len());
        let mut findings = Vec::new();
        for (index, input) in inputs.iter().enumerate() {
            // Only CERTIFICATE blocks and whitespace: nothing can ride along
            // beside the certificate, key material least of all.
            let certs = Certificate::all_from_strict_pem(&input.certificate_pem).map_err(|e| {
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
                not_after_ms: unix_ms(certificate.validity().1),
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
        deadline: Instant,
    ) -> Result<CreateRegistrationResponse, ApiError> {
        let policy = self.allowed_policy(&request.policy)?.clone();
        let targets = self.resolve_targets(caller, &request.targets)?;
        let certificates = self.prepare_certificates(&request.certificates, now)?;
        let owner = owner_of(caller, request.owner_group.as_deref())?;
        let acting = Acting {
            caller,
            owner: &owner,
            clock: &LeaseClock::until(deadline),
            store: self.ownership.as_ref(),
            deadline,
            pair_budget: self.pair_budget(),
            ledger: self.ledger.as_ref(),
            action: LedgerAction::Register,
            replaces: None,
        };
        let acting = &acting;

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
                            register_pair(ready, cert, &policy.name, request.activate, acting).await
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

    /// How much time one (certificate, target) pair needs left to start:
    /// one AWS call and the call that undoes it.
    pub(crate) fn pair_budget(&self) -> Duration {
        Duration::from_millis(self.config.limits.aws_call_timeout_ms.saturating_mul(2))
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
        let memo = PolicyMemo::of(&self.policies, target, &policy.name);
        if !memo.is_known()
            && !registry
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
        memo.remember();
        let endpoint = registry
            .data_ats_endpoint()
            .await
            .map_err(|e| failure::target_error(&e))?;
        Ok(ReadyTarget {
            context,
            endpoint,
            policy: memo,
        })
    }
}

/// Unix milliseconds of `at`.
pub(crate) fn unix_ms(at: OffsetDateTime) -> i64 {
    i64::try_from(at.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}

/// The owner of what a request registers: the caller, and the group they
/// chose, which must be one of theirs.
pub(crate) fn owner_of(caller: &Caller, group: Option<&str>) -> Result<Owner, ApiError> {
    // The same rule as for adopting and for `allowedGroups`, also where any
    // group is allowed (`auth = "none"`): a record never names a non-group.
    if let Some(group) = group
        && !crate::config::is_group_name(group)
    {
        return Err(ApiError::new(
            ErrorCode::InvalidRequest,
            format!("ownerGroup: \"{group}\" is not a group name"),
        ));
    }
    if let Some(group) = group
        && !caller.groups.contains(group)
        && !caller.unrestricted
    {
        return Err(ApiError::new(
            ErrorCode::ForbiddenGroup,
            format!("ownerGroup: you are not a member of \"{group}\""),
        ));
    }
    Ok(Owner {
        subject: caller.subject.clone(),
        group: group.map(str::to_owned),
    })
}
