//! `InMemoryRegistry`: a registry that keeps AWS IoT's rules in memory, for
//! in-process router tests and for injecting failures at chosen steps; and
//! `InMemoryOwnership`, `InMemoryLedger` and `InMemoryJobs`, the ownership
//! records, the ledger and the job ports in memory.

mod jobs;
mod ledger;
mod ownership;

pub use jobs::InMemoryJobs;
pub use ledger::InMemoryLedger;
pub use ownership::InMemoryOwnership;

use std::{
    collections::{BTreeMap, BTreeSet, HashMap},
    sync::{Arc, Mutex},
};

use async_trait::async_trait;
use marshal_shared::{Certificate, api::CertificateStatus};

use crate::{
    config::Target,
    service::registry::{
        CertificateRecord, CertificateRegistry, RegistryError, RegistryErrorKind, RegistryProvider,
        RegistryResult,
    },
};

/// One account-and-region registry.
#[derive(Debug, Default)]
struct Account {
    certificates: BTreeMap<String, CertificateRecord>,
    policies: BTreeMap<String, String>,
    policy_targets: BTreeSet<(String, String)>,
    things: BTreeSet<String>,
    thing_principals: BTreeSet<(String, String)>,
}

/// Registries of every (account, region), shared by every clone.
#[derive(Debug, Clone, Default)]
pub struct InMemoryProvider {
    accounts: Arc<Mutex<HashMap<(String, String), Account>>>,
    /// Operation names (e.g. `attach_thing`) that fail in a target id.
    failures: Arc<Mutex<BTreeSet<(String, &'static str)>>>,
    /// Role assumptions that are refused, by target id.
    refused_roles: Arc<Mutex<BTreeSet<String>>>,
    /// Every call made, as `target:operation`.
    calls: Arc<Mutex<Vec<String>>>,
    /// Operations that take this long before they act, by name.
    delays: Arc<Mutex<HashMap<&'static str, std::time::Duration>>>,
    /// Operations that act, then answer with an error of this kind (a
    /// reply lost and the SDK's retries refused), by target id.
    lost_replies: Arc<Mutex<HashMap<(String, &'static str), RegistryErrorKind>>>,
}

impl InMemoryProvider {
    /// An empty world.
    pub fn new() -> InMemoryProvider {
        InMemoryProvider::default()
    }

    /// Makes `operation` fail with `Unavailable` in `target` from now on.
    pub fn fail(&self, target: &str, operation: &'static str) {
        lock(&self.failures).insert((target.to_owned(), operation));
    }

    /// Makes `operation` in `target` take effect and then answer `kind`,
    /// from now on: what the SDK reports when its first attempt's reply was
    /// lost after AWS acted and its retries were refused (throttled, say).
    pub fn lose_reply(&self, target: &str, operation: &'static str, kind: RegistryErrorKind) {
        lock(&self.lost_replies).insert((target.to_owned(), operation), kind);
    }

    /// Makes `operation` in `target` work again.
    pub fn heal(&self, target: &str, operation: &'static str) {
        let key = (target.to_owned(), operation);
        lock(&self.lost_replies).remove(&key);
        lock(&self.failures).remove(&key);
    }

    /// Makes `operation` (a registry method's name, e.g. `register_without_ca`;
    /// `*`: every one not named otherwise) wait `delay` before it acts, in
    /// every target: to make requests overlap, run out of time, or stand in
    /// for AWS's round trip.
    pub fn delay(&self, operation: &'static str, delay: std::time::Duration) {
        lock(&self.delays).insert(operation, delay);
    }

    /// Makes AssumeRole into `target` fail.
    pub fn refuse_role(&self, target: &str) {
        lock(&self.refused_roles).insert(target.to_owned());
    }

    /// Creates a policy in an account and region.
    pub fn create_policy(&self, account: &str, region: &str, name: &str) {
        let mut accounts = lock(&self.accounts);
        let acct = accounts.entry((account.into(), region.into())).or_default();
        acct.policies.insert(name.into(), "{}".into());
    }

    /// Deletes a policy, as someone outside Marshal might (with whatever it
    /// is attached to).
    pub fn delete_policy(&self, account: &str, region: &str, name: &str) {
        let mut accounts = lock(&self.accounts);
        if let Some(acct) = accounts.get_mut(&(account.into(), region.into())) {
            acct.policies.remove(name);
            acct.policy_targets.retain(|(policy, _)| policy != name);
        }
    }

    /// A snapshot of one registry: certificates with status, policy and thing attachments.
    pub fn snapshot(&self, account: &str, region: &str) -> String {
        let accounts = lock(&self.accounts);
        let Some(acct) = accounts.get(&(account.to_owned(), region.to_owned())) else {
            return "(empty)".into();
        };
        let mut out = String::new();
        for (id, record) in &acct.certificates {
            out.push_str(&format!("cert {}… {:?}\n", &id[..8], record.status));
            for (policy, target) in &acct.policy_targets {
                if target == &record.arn {
                    out.push_str(&format!("  policy {policy}\n"));
                }
            }
            for (thing, principal) in &acct.thing_principals {
                if principal == &record.arn {
                    out.push_str(&format!("  thing {thing}\n"));
                }
            }
        }
        for thing in &acct.things {
            out.push_str(&format!("thing {thing}\n"));
        }
        for policy in acct.policies.keys() {
            out.push_str(&format!("policy {policy}\n"));
        }
        out
    }

    /// Every call so far, as `target:operation`.
    pub fn calls(&self) -> Vec<String> {
        lock(&self.calls).clone()
    }
}

pub(crate) fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A panic in another test thread poisons the lock; the data is still fine for tests.
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[async_trait]
impl RegistryProvider for InMemoryProvider {
    async fn registry(
        &self,
        target: &Target,
        _session_name: &str,
    ) -> RegistryResult<Arc<dyn CertificateRegistry>> {
        if lock(&self.refused_roles).contains(&target.id) {
            return Err(RegistryError::new(
                RegistryErrorKind::AccessDenied,
                "not authorized to perform sts:AssumeRole",
            ));
        }
        Ok(Arc::new(InMemoryRegistry {
            provider: self.clone(),
            target: target.clone(),
        }))
    }
}

/// The registry of one target inside an [`InMemoryProvider`].
#[derive(Debug)]
pub struct InMemoryRegistry {
    provider: InMemoryProvider,
    target: Target,
}

impl InMemoryRegistry {
    async fn pause(&self, op: &'static str) {
        let delay = {
            let delays = lock(&self.provider.delays);
            delays.get(op).or_else(|| delays.get("*")).copied()
        };
        if let Some(delay) = delay {
            tokio::time::sleep(delay).await;
        }
    }

    fn with<T>(
        &self,
        op: &'static str,
        f: impl FnOnce(&mut Account) -> RegistryResult<T>,
    ) -> RegistryResult<T> {
        lock(&self.provider.calls).push(format!("{}:{op}", self.target.id));
        if lock(&self.provider.failures).contains(&(self.target.id.clone(), op)) {
            return Err(RegistryError::new(
                RegistryErrorKind::Unavailable,
                format!("injected failure of {op}"),
            ));
        }
        let mut accounts = lock(&self.provider.accounts);
        let acct = accounts
            .entry((self.target.account_id.clone(), self.target.region.clone()))
            .or_default();
        let result = f(acct);
        let lost = lock(&self.provider.lost_replies)
            .get(&(self.target.id.clone(), op))
            .copied();
        match lost {
            Some(kind) => Err(RegistryError::new(
                kind,
                format!("injected lost reply of {op}"),
            )),
            None => result,
        }
    }

    fn arn(&self, id: &str) -> String {
        format!(
            "arn:aws:iot:{}:{}:cert/{id}",
            self.target.region, self.target.account_id
        )
    }
}

fn not_found(what: &str) -> RegistryError {
    RegistryError::new(RegistryErrorKind::NotFound, format!("{what} not found"))
}

#[async_trait]
impl CertificateRegistry for InMemoryRegistry {
    async fn register_without_ca(
        &self,
        pem: &str,
        status: CertificateStatus,
    ) -> RegistryResult<CertificateRecord> {
        let cert = Certificate::from_pem(pem)
            .map_err(|e| RegistryError::new(RegistryErrorKind::Invalid, e))?;
        let id = cert.id();
        let arn = self.arn(&id);
        self.pause("register_without_ca").await;
        self.with("register_without_ca", |a| {
            if a.certificates.contains_key(&id) {
                return Err(RegistryError::new(
                    RegistryErrorKind::AlreadyExists,
                    "certificate already exists",
                ));
            }
            let record = CertificateRecord {
                id: id.clone(),
                arn,
                status,
                pem: pem.to_owned(),
                created_ms: std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .ok()
                    .and_then(|d| i64::try_from(d.as_millis()).ok()),
            };
            a.certificates.insert(id, record.clone());
            Ok(record)
        })
    }

    async fn list_certificates(&self) -> RegistryResult<Vec<(String, CertificateStatus)>> {
        self.pause("list_certificates").await;
        self.with("list_certificates", |a| {
            Ok(a.certificates
                .values()
                .map(|c| (c.id.clone(), c.status))
                .collect())
        })
    }

    async fn describe_certificate(&self, id: &str) -> RegistryResult<Option<CertificateRecord>> {
        self.pause("describe_certificate").await;
        self.with("describe_certificate", |a| {
            Ok(a.certificates.get(id).cloned())
        })
    }

    async fn update_status(&self, id: &str, status: CertificateStatus) -> RegistryResult<()> {
        self.pause("update_status").await;
        self.with("update_status", |a| {
            let record = a
                .certificates
                .get_mut(id)
                .ok_or_else(|| not_found("certificate"))?;
            if record.status == CertificateStatus::Revoked {
                return Err(RegistryError::new(
                    RegistryErrorKind::Conflict,
                    "certificate is revoked",
                ));
            }
            record.status = status;
            Ok(())
        })
    }

    async fn delete_certificate(&self, id: &str) -> RegistryResult<()> {
        let arn = self.arn(id);
        self.pause("delete_certificate").await;
        self.with("delete_certificate", |a| {
            let record = a
                .certificates
                .get(id)
                .ok_or_else(|| not_found("certificate"))?;
            if record.status == CertificateStatus::Active {
                return Err(RegistryError::new(
                    RegistryErrorKind::Conflict,
                    "certificate must be deactivated first",
                ));
            }
            if a.policy_targets.iter().any(|(_, t)| t == &arn)
                || a.thing_principals.iter().any(|(_, p)| p == &arn)
            {
                return Err(RegistryError::new(
                    RegistryErrorKind::Conflict,
                    "certificate has attachments",
                ));
            }
            a.certificates.remove(id);
            Ok(())
        })
    }

    async fn policy_exists(&self, name: &str) -> RegistryResult<bool> {
        self.pause("policy_exists").await;
        self.with("policy_exists", |a| Ok(a.policies.contains_key(name)))
    }

    async fn create_policy(&self, name: &str, document: &str) -> RegistryResult<()> {
        self.pause("create_policy").await;
        self.with("create_policy", |a| {
            if a.policies.contains_key(name) {
                return Err(RegistryError::new(
                    RegistryErrorKind::AlreadyExists,
                    "policy exists",
                ));
            }
            a.policies.insert(name.into(), document.into());
            Ok(())
        })
    }

    async fn attach_policy(&self, policy: &str, certificate_arn: &str) -> RegistryResult<()> {
        self.pause("attach_policy").await;
        self.with("attach_policy", |a| {
            if !a.policies.contains_key(policy) {
                return Err(not_found("policy"));
            }
            a.policy_targets
                .insert((policy.into(), certificate_arn.into()));
            Ok(())
        })
    }

    async fn detach_policy(&self, policy: &str, certificate_arn: &str) -> RegistryResult<()> {
        self.pause("detach_policy").await;
        self.with("detach_policy", |a| {
            a.policy_targets
                .remove(&(policy.into(), certificate_arn.into()));
            Ok(())
        })
    }

    async fn attached_policies(&self, certificate_arn: &str) -> RegistryResult<Vec<String>> {
        self.pause("attached_policies").await;
        self.with("attached_policies", |a| {
            Ok(a.policy_targets
                .iter()
                .filter(|(_, t)| t == certificate_arn)
                .map(|(p, _)| p.clone())
                .collect())
        })
    }

    async fn thing_exists(&self, name: &str) -> RegistryResult<bool> {
        self.pause("thing_exists").await;
        self.with("thing_exists", |a| Ok(a.things.contains(name)))
    }

    async fn create_thing(&self, name: &str) -> RegistryResult<()> {
        self.pause("create_thing").await;
        self.with("create_thing", |a| {
            a.things.insert(name.into());
            Ok(())
        })
    }

    async fn delete_thing(&self, name: &str) -> RegistryResult<()> {
        self.pause("delete_thing").await;
        self.with("delete_thing", |a| {
            if a.thing_principals.iter().any(|(t, _)| t == name) {
                return Err(RegistryError::new(
                    RegistryErrorKind::Conflict,
                    "thing has principals",
                ));
            }
            a.things.remove(name);
            Ok(())
        })
    }

    async fn attach_thing(&self, thing: &str, certificate_arn: &str) -> RegistryResult<()> {
        self.pause("attach_thing").await;
        self.with("attach_thing", |a| {
            if !a.things.contains(thing) {
                return Err(not_found("thing"));
            }
            // EXCLUSIVE_THING: the certificate may have this thing only.
            if a.thing_principals
                .iter()
                .any(|(t, p)| p == certificate_arn && t != thing)
            {
                return Err(RegistryError::new(
                    RegistryErrorKind::Invalid,
                    "the principal is attached to another thing",
                ));
            }
            a.thing_principals
                .insert((thing.into(), certificate_arn.into()));
            Ok(())
        })
    }

    async fn detach_thing(&self, thing: &str, certificate_arn: &str) -> RegistryResult<()> {
        self.pause("detach_thing").await;
        self.with("detach_thing", |a| {
            a.thing_principals
                .remove(&(thing.into(), certificate_arn.into()));
            Ok(())
        })
    }

    async fn attached_things(&self, certificate_arn: &str) -> RegistryResult<Vec<String>> {
        self.pause("attached_things").await;
        self.with("attached_things", |a| {
            Ok(a.thing_principals
                .iter()
                .filter(|(_, p)| p == certificate_arn)
                .map(|(t, _)| t.clone())
                .collect())
        })
    }

    async fn thing_principals(&self, thing: &str) -> RegistryResult<Vec<String>> {
        self.pause("thing_principals").await;
        self.with("thing_principals", |a| {
            if !a.things.contains(thing) {
                return Err(not_found("thing"));
            }
            Ok(a.thing_principals
                .iter()
                .filter(|(t, _)| t == thing)
                .map(|(_, p)| p.clone())
                .collect())
        })
    }

    async fn data_ats_endpoint(&self) -> RegistryResult<String> {
        let host = format!(
            "{}-ats.iot.{}.amazonaws.com",
            &self.target.account_id, self.target.region
        );
        self.pause("data_ats_endpoint").await;
        self.with("data_ats_endpoint", |_| Ok(host))
    }
}
