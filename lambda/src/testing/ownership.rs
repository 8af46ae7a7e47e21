//! `InMemoryOwnership`: the ownership records in memory, with the same
//! compare-and-set rules as the DynamoDB table, for in-process tests.

use std::{
    collections::HashMap,
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use async_trait::async_trait;

use super::lock;
use crate::service::ownership::{
    InventoryItem, InventoryPage, InventoryRead, Ownership, OwnershipKey, OwnershipState,
    OwnershipStore, StoreError, StoreResult, Stored,
};

/// Records by key, shared by every clone.
#[derive(Debug, Clone, Default)]
pub struct InMemoryOwnership {
    records: Arc<Mutex<HashMap<String, Stored>>>,
    unavailable: Arc<Mutex<bool>>,
    /// Each call waits up to this long first (0: none), a different while
    /// each time, so concurrent requests interleave as over a network.
    jitter: Arc<Mutex<Duration>>,
    /// Each call waits this long first, too: DynamoDB's round trip.
    latency: Arc<Mutex<Duration>>,
    calls: Arc<AtomicU64>,
}

impl InMemoryOwnership {
    /// No records.
    pub fn new() -> InMemoryOwnership {
        InMemoryOwnership::default()
    }

    /// Every record as `key owner group state peer lease?`, sorted, for
    /// assertions that nothing changed.
    pub fn snapshot(&self) -> Vec<String> {
        let mut rows: Vec<String> = lock(&self.records)
            .iter()
            .map(|(key, s)| {
                let r = &s.record;
                format!(
                    "{key} owner={} group={} {} peer={} leased={}",
                    r.owner,
                    r.group.as_deref().unwrap_or("-"),
                    r.state.as_str(),
                    r.peer.as_deref().unwrap_or("-"),
                    r.lease.is_some()
                )
            })
            .collect();
        rows.sort();
        rows
    }

    /// Makes every call fail from now on (or work again).
    pub fn set_unavailable(&self, unavailable: bool) {
        *lock(&self.unavailable) = unavailable;
    }

    /// Makes every call wait between 0 and `most` first.
    pub fn set_jitter(&self, most: Duration) {
        *lock(&self.jitter) = most;
    }

    /// Makes every call wait `latency` first (and its jitter on top).
    pub fn set_latency(&self, latency: Duration) {
        *lock(&self.latency) = latency;
    }

    /// Waits the latency and this call's share of the jitter (a fixed
    /// sequence, so runs repeat).
    async fn travel(&self) {
        let latency = *lock(&self.latency);
        if !latency.is_zero() {
            tokio::time::sleep(latency).await;
        }
        let most = *lock(&self.jitter);
        if most.is_zero() {
            return;
        }
        let n = self.calls.fetch_add(1, Ordering::Relaxed);
        // Knuth's multiplicative hash spreads consecutive calls over the range.
        let share = (n.wrapping_mul(2_654_435_761) % 1000) as u32;
        tokio::time::sleep(most * share / 1000).await;
    }

    fn check(&self) -> StoreResult<()> {
        if *lock(&self.unavailable) {
            return Err(StoreError::Unavailable("injected failure".into()));
        }
        Ok(())
    }
}

#[async_trait]
impl OwnershipStore for InMemoryOwnership {
    async fn get(&self, key: &OwnershipKey) -> StoreResult<Option<Stored>> {
        self.travel().await;
        self.check()?;
        Ok(lock(&self.records).get(&key.to_string()).cloned())
    }

    async fn put(
        &self,
        key: &OwnershipKey,
        record: &Ownership,
        expected: Option<u64>,
    ) -> StoreResult<u64> {
        self.travel().await;
        self.check()?;
        let mut records = lock(&self.records);
        let key = key.to_string();
        let current = records.get(&key).map(|s| s.version);
        if current != expected {
            return Err(StoreError::Conflict);
        }
        let version = current.map_or(1, |v| v + 1);
        records.insert(
            key,
            Stored {
                record: record.clone(),
                version,
            },
        );
        Ok(version)
    }

    async fn delete(&self, key: &OwnershipKey, expected: u64) -> StoreResult<()> {
        self.travel().await;
        self.check()?;
        let mut records = lock(&self.records);
        let key = key.to_string();
        if records.get(&key).map(|s| s.version) != Some(expected) {
            return Err(StoreError::Conflict);
        }
        records.remove(&key);
        Ok(())
    }

    async fn inventory(&self, read: &InventoryRead<'_>) -> StoreResult<InventoryPage> {
        self.travel().await;
        self.check()?;
        let prefix = format!("cert#{}#", read.registry);
        let before = read.before_ms.map(|ms| format!("{:013}", ms.max(0)));
        let mut items: Vec<InventoryItem> = lock(&self.records)
            .iter()
            .filter_map(|(key, stored)| {
                let id = key.strip_prefix(&prefix)?;
                let record = &stored.record;
                let facts = record.facts.as_ref()?;
                (record.state == OwnershipState::Registered).then(|| InventoryItem {
                    id: id.to_owned(),
                    record: record.clone(),
                    position: facts.position(id),
                })
            })
            .filter(|item| {
                read.after
                    .is_none_or(|after| item.position.as_str() > after)
            })
            .filter(|item| before.as_ref().is_none_or(|b| &item.position < b))
            .collect();
        items.sort_by(|a, b| a.position.cmp(&b.position));
        let more = items.len() > read.limit;
        items.truncate(read.limit);
        Ok(InventoryPage { items, more })
    }
}
