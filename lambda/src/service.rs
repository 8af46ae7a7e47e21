//! The use cases, independent of HTTP and of the AWS SDK: they take checked
//! requests and a caller, and drive [`registry::CertificateRegistry`] ports.

mod adopt;
mod failure;
mod inventory;
pub mod jobs;
pub mod ledger;
mod manage;
pub mod ownership;
mod reconcile;
mod registration;
pub mod registry;
mod rotation;
mod targets;
mod transfer;

use std::sync::Arc;

use crate::config::Config;

pub use inventory::{
    CURSOR_PATTERN as INVENTORY_CURSOR_PATTERN, InventoryQuery, MAX_FILTER as MAX_INVENTORY_FILTER,
    MAX_PAGE as MAX_INVENTORY_PAGE,
};
pub use targets::TargetContext;

/// Everything the use cases need; cheap to clone.
#[derive(Clone)]
pub struct Service {
    config: Arc<Config>,
    provider: Arc<dyn registry::RegistryProvider>,
    ownership: Arc<dyn ownership::OwnershipStore>,
    ledger: Arc<dyn ledger::LedgerStore>,
    thing_pattern: regex_lite::Regex,
    policies: registration::KnownPolicies,
    jobs: Option<Arc<jobs::JobPorts>>,
    /// This process's queues for the registries' job paces.
    pacer: Arc<jobs::Pacer>,
}

impl std::fmt::Debug for Service {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Service")
            .field("targets", &self.config.targets.len())
            .finish()
    }
}

impl Service {
    /// A service over a checked configuration, a registry provider, the
    /// ownership records and the ledger.
    pub fn new(
        config: Arc<Config>,
        provider: Arc<dyn registry::RegistryProvider>,
        ownership: Arc<dyn ownership::OwnershipStore>,
        ledger: Arc<dyn ledger::LedgerStore>,
    ) -> Service {
        // Config::check compiled the pattern already; the fallback only matches AWS's own rule.
        let thing_pattern = config.thing_name_regex().unwrap_or_else(|| {
            regex_lite::Regex::new("^[a-zA-Z0-9:_-]{1,128}$").unwrap_or_else(|_| unreachable!())
        });
        Service {
            config,
            provider,
            ownership,
            ledger,
            thing_pattern,
            policies: registration::KnownPolicies::default(),
            jobs: None,
            pacer: Arc::default(),
        }
    }

    /// The service with factory jobs (`[jobs]` configured).
    pub fn with_jobs(mut self, ports: jobs::JobPorts) -> Service {
        self.jobs = Some(Arc::new(ports));
        self
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// When a request starting now must be done (`limits.requestDeadlineMs`).
    pub fn deadline(&self) -> std::time::Instant {
        std::time::Instant::now()
            + std::time::Duration::from_millis(self.config.limits.request_deadline_ms)
    }
}
