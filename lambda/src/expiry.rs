//! The expiry report: Marshal's certificates whose `notAfter` falls within
//! `expiry.withinDays`, across every registry of the configuration, soonest
//! first, published as one EventBridge event per run. Self-signed
//! certificates registered without a CA have no CA to renew them: this is
//! the warning that comes before the cliff. The scheduled function
//! (`marshal-expiry`) and a local run (`marshal-expiry --once`) call
//! [`run`] alike.

use async_trait::async_trait;
use serde::Serialize;

use crate::{
    config::Config,
    service::{
        ledger::timestamp_ms,
        ownership::{OwnershipStore, Registry, whole_inventory},
    },
};

/// The `source` of the events.
pub const SOURCE: &str = "marshal";
/// Their `detail-type`.
pub const DETAIL_TYPE: &str = "Marshal certificates expiring";

/// A certificate in the report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Expiring {
    /// Certificate ID.
    pub certificate_id: String,
    /// The target it was registered through.
    pub target: String,
    /// Account ID.
    pub account_id: String,
    /// Region.
    pub region: String,
    /// `notAfter`, RFC 3339 UTC.
    pub not_after: String,
    /// Whole days left (negative: expired).
    pub days_left: i64,
    /// Status as Marshal last set or saw it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<&'static str>,
    /// Its thing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub thing: Option<String>,
    /// The owner's JWT `sub`, and group: who to tell.
    pub owner: String,
    /// The owning group.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owner_group: Option<String>,
    /// The certificate a rotation already registered to replace it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub successor: Option<String>,
}

/// One run's findings: the event's `detail`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    /// The window, in days.
    pub within_days: u32,
    /// Certificates expiring before this (RFC 3339 UTC) are listed.
    pub before: String,
    /// How many there are.
    pub count: usize,
    /// The first of them, soonest first (at most `expiry.maxListed`, which
    /// keeps the event under EventBridge's 256 KB).
    pub certificates: Vec<Expiring>,
    /// Whether `certificates` holds fewer than `count`.
    pub truncated: bool,
}

/// Where a report goes.
#[async_trait]
pub trait Publisher: Send + Sync {
    /// Publishes `report` as one event.
    async fn publish(&self, report: &Report) -> Result<(), String>;
}

const DAY_MS: i64 = 86_400_000;

/// Reads the inventory of every registry the configuration names and
/// publishes what expires within the window (nothing when none does).
pub async fn run(
    config: &Config,
    store: &dyn OwnershipStore,
    publisher: &dyn Publisher,
    now_ms: i64,
) -> Result<Report, String> {
    let window = config.expiry.within_days;
    let before_ms = now_ms + i64::from(window) * DAY_MS;
    let mut registries: Vec<Registry> = Vec::new();
    for target in &config.targets {
        let registry = Registry::of(target);
        if !registries.contains(&registry) {
            registries.push(registry);
        }
    }
    let mut found = Vec::new();
    for registry in &registries {
        let items = whole_inventory(store, registry, Some(before_ms), 500)
            .await
            .map_err(|e| format!("the inventory of {registry} could not be read: {e}"))?;
        for item in items {
            let Some(facts) = item.record.facts.as_ref() else {
                continue;
            };
            found.push(Expiring {
                certificate_id: item.id.clone(),
                target: facts.target.clone(),
                account_id: registry.account.clone(),
                region: registry.region.clone(),
                not_after: timestamp_ms(facts.not_after_ms),
                days_left: (facts.not_after_ms - now_ms).div_euclid(DAY_MS),
                status: facts.status.map(|s| s.as_str()),
                thing: item.record.peer.clone(),
                owner: item.record.owner.clone(),
                owner_group: item.record.group.clone(),
                successor: facts.successor.clone(),
            });
        }
    }
    found.sort_by(|a, b| (&a.not_after, &a.certificate_id).cmp(&(&b.not_after, &b.certificate_id)));
    let count = found.len();
    found.truncate(config.expiry.max_listed);
    let report = Report {
        within_days: window,
        before: timestamp_ms(before_ms),
        count,
        truncated: found.len() < count,
        certificates: found,
    };
    if count > 0 {
        publisher.publish(&report).await?;
    }
    tracing::info!(
        within_days = window,
        count,
        listed = report.certificates.len(),
        "expiry report"
    );
    Ok(report)
}
