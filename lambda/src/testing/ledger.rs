//! `InMemoryLedger`: ledger events in memory, append-only like the table.

use std::{
    collections::BTreeMap,
    sync::{Arc, Mutex},
};

use async_trait::async_trait;

use super::lock;
use crate::service::ledger::{LedgerError, LedgerStore, Recorded};

/// Events by (certificate, sort key), shared by every clone.
#[derive(Debug, Clone, Default)]
pub struct InMemoryLedger {
    events: Arc<Mutex<BTreeMap<(String, String), Recorded>>>,
    unavailable: Arc<Mutex<bool>>,
}

impl InMemoryLedger {
    /// No events.
    pub fn new() -> InMemoryLedger {
        InMemoryLedger::default()
    }

    /// Every event, by certificate then time.
    pub fn all(&self) -> Vec<Recorded> {
        lock(&self.events).values().cloned().collect()
    }

    /// Makes every call fail from now on (or work again).
    pub fn set_unavailable(&self, unavailable: bool) {
        *lock(&self.unavailable) = unavailable;
    }

    fn check(&self) -> Result<(), LedgerError> {
        if *lock(&self.unavailable) {
            return Err(LedgerError("injected failure".into()));
        }
        Ok(())
    }
}

#[async_trait]
impl LedgerStore for InMemoryLedger {
    async fn append(&self, event: &Recorded) -> Result<(), LedgerError> {
        self.check()?;
        let key = (event.event.certificate_id.clone(), event.sort_key());
        let mut events = lock(&self.events);
        match events.get(&key) {
            Some(existing) if existing == event => Ok(()),
            Some(_) => Err(LedgerError(
                "an event with this key exists and differs".into(),
            )),
            None => {
                events.insert(key, event.clone());
                Ok(())
            }
        }
    }

    async fn history(&self, id: &str) -> Result<Vec<Recorded>, LedgerError> {
        self.check()?;
        Ok(lock(&self.events)
            .iter()
            .filter(|((cert, _), _)| cert == id)
            .map(|(_, e)| e.clone())
            .collect())
    }
}
