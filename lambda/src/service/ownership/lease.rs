//! Taking a record for one request (its lease) and handing it back: as the
//! request left it, as it was before, or removed.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use super::{Lease, Ownership, OwnershipKey, OwnershipStore, StoreError, StoreResult};

/// A lease outlives the request's deadline by this much, so a request that
/// is still releasing when its deadline passes is not overtaken.
const LEASE_SLACK: Duration = Duration::from_secs(5);

/// The lease terms of one request: when it is now, until when its leases
/// hold, and the token that says a lease is this request's.
#[derive(Debug, Clone)]
pub(crate) struct LeaseClock {
    pub(crate) now_ms: i64,
    pub(crate) until_ms: i64,
    pub(crate) token: String,
}

impl LeaseClock {
    /// Terms for a request that must be done by `deadline`: its leases run
    /// out shortly after it, so a request cut off by the Lambda timeout frees
    /// what it held by itself.
    pub(crate) fn until(deadline: Instant) -> LeaseClock {
        let now_ms = unix_ms(SystemTime::now());
        let left = deadline.saturating_duration_since(Instant::now()) + LEASE_SLACK;
        let mut bytes = [0u8; 16];
        // A failing OS RNG leaves zeros: the token still only has to differ
        // from other requests' while both hold, and the version check guards writes.
        let _ = getrandom::fill(&mut bytes);
        LeaseClock {
            now_ms,
            until_ms: now_ms.saturating_add(i64::try_from(left.as_millis()).unwrap_or(i64::MAX)),
            token: hex::encode(bytes),
        }
    }
}

/// Milliseconds since the Unix epoch (0 for a clock before it).
pub(crate) fn unix_ms(at: SystemTime) -> i64 {
    at.duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// Why a record could not be taken.
#[derive(Debug)]
pub(crate) enum TakeError<E> {
    /// The caller's rules refused the record as it stands.
    Refused(E),
    /// Another request holds it, or took it between our read and write.
    Busy,
    /// The store failed.
    Store(String),
}

/// A record this request holds: nobody else may change what it names until
/// it is handed back (or the lease runs out).
#[derive(Debug)]
pub(crate) struct Held {
    pub(crate) key: OwnershipKey,
    /// The record before this request took it; `None`: this request made it.
    pub(crate) before: Option<Ownership>,
    /// The record as held.
    pub(crate) record: Ownership,
    version: u64,
}

impl Held {
    /// Reads the record under `key`, lets `decide` refuse it or say what to
    /// hold (the record itself, or a new one where there is none), and writes
    /// that with this request's lease, provided nobody changed it meanwhile.
    /// `decide` runs before the lease is looked at, so a refusal is said as
    /// such even while another request holds the record.
    pub(crate) async fn take<E>(
        store: &dyn OwnershipStore,
        key: OwnershipKey,
        clock: &LeaseClock,
        decide: impl FnOnce(Option<&Ownership>) -> Result<Ownership, E>,
    ) -> Result<Held, TakeError<E>> {
        let current = again(|| store.get(&key)).await.map_err(store_error)?;
        let mut record = decide(current.as_ref().map(|s| &s.record)).map_err(TakeError::Refused)?;
        if let Some(lease) = current.as_ref().and_then(|s| s.record.lease.as_ref())
            && lease.until_ms > clock.now_ms
            && lease.holder != clock.token
        {
            return Err(TakeError::Busy);
        }
        record.lease = Some(Lease {
            holder: clock.token.clone(),
            until_ms: clock.until_ms,
        });
        record.updated_ms = clock.now_ms;
        let expected = current.as_ref().map(|s| s.version);
        let version = match again(|| store.put(&key, &record, expected)).await {
            Ok(version) => version,
            // A retried write whose first reply was lost finds its own lease.
            Err(StoreError::Conflict) => {
                match again(|| store.get(&key)).await.map_err(store_error)? {
                    Some(now) if now.record.lease == record.lease => now.version,
                    _ => return Err(TakeError::Busy),
                }
            }
            Err(other) => return Err(store_error(other)),
        };
        Ok(Held {
            key,
            before: current.map(|s| s.record),
            record,
            version,
        })
    }

    /// Makes the record under `key`, held by this request, where there is
    /// none: one conditional write instead of a read and a write, which is
    /// what a new registration meets. `None` when one exists (take it with
    /// [`Held::take`] then).
    pub(crate) async fn take_new(
        store: &dyn OwnershipStore,
        key: OwnershipKey,
        mut record: Ownership,
        clock: &LeaseClock,
    ) -> StoreResult<Option<Held>> {
        record.lease = Some(Lease {
            holder: clock.token.clone(),
            until_ms: clock.until_ms,
        });
        record.updated_ms = clock.now_ms;
        let version = match again(|| store.put(&key, &record, None)).await {
            Ok(version) => version,
            // One exists, or a retried write whose first reply was lost made it.
            Err(StoreError::Conflict) => match again(|| store.get(&key)).await? {
                Some(now) if now.record == record => now.version,
                _ => return Ok(None),
            },
            Err(e) => return Err(e),
        };
        Ok(Some(Held {
            key,
            before: None,
            record,
            version,
        }))
    }

    /// Hands the record back as `record`, lease cleared.
    pub(crate) async fn finish(
        &self,
        store: &dyn OwnershipStore,
        mut record: Ownership,
    ) -> StoreResult<()> {
        record.lease = None;
        record.updated_ms = unix_ms(SystemTime::now());
        match again(|| store.put(&self.key, &record, Some(self.version))).await {
            Ok(_) => Ok(()),
            // A retried write whose first reply was lost finds it done.
            Err(StoreError::Conflict) => match again(|| store.get(&self.key)).await? {
                Some(now) if now.version == self.version + 1 && now.record == record => Ok(()),
                _ => Err(StoreError::Conflict),
            },
            Err(e) => Err(e),
        }
    }

    /// Hands back the record as it was before this request (removing the
    /// one this request made).
    pub(crate) async fn undo(&self, store: &dyn OwnershipStore) -> StoreResult<()> {
        match self.before.clone() {
            None => self.remove(store).await,
            Some(before) => self.finish(store, before).await,
        }
    }

    /// Hands the record back unchanged (this request changed nothing it names).
    pub(crate) async fn give_back(&self, store: &dyn OwnershipStore) -> StoreResult<()> {
        self.finish(store, self.record.clone()).await
    }

    /// Removes the record: what it named is gone.
    pub(crate) async fn remove(&self, store: &dyn OwnershipStore) -> StoreResult<()> {
        match again(|| store.delete(&self.key, self.version)).await {
            // A retried delete whose first reply was lost finds it gone.
            Err(StoreError::Conflict) if again(|| store.get(&self.key)).await?.is_none() => Ok(()),
            other => other,
        }
    }
}

/// Waits between further attempts of a store call that could not reach the
/// store, after the SDK's own retries: a lease whose hand-back failed blocks
/// its pair until it runs out, so a passing hiccup is worth waiting out.
const AGAIN_AFTER: [Duration; 4] = [
    Duration::from_millis(50),
    Duration::from_millis(150),
    Duration::from_millis(400),
    Duration::from_millis(800),
];

/// `call` again while it fails with `Unavailable`, at most `AGAIN_AFTER`
/// more times. A write that went through although its reply was lost
/// answers `Conflict` on the next attempt, which the callers resolve by
/// reading the record.
async fn again<T, F, Fut>(call: F) -> StoreResult<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = StoreResult<T>>,
{
    again_while(|e| matches!(e, StoreError::Unavailable(_)), call).await
}

/// `call` again while it fails with an error `retry` accepts, at most
/// `AGAIN_AFTER` more times, pausing as it says.
pub(crate) async fn again_while<T, E, F, Fut>(
    retry: impl Fn(&E) -> bool,
    mut call: F,
) -> Result<T, E>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, E>>,
{
    let mut result = call().await;
    for pause in AGAIN_AFTER {
        if !result.as_ref().is_err_and(&retry) {
            break;
        }
        tokio::time::sleep(pause).await;
        result = call().await;
    }
    result
}

fn store_error<E>(e: StoreError) -> TakeError<E> {
    match e {
        // A read never conflicts; treat it as the store misbehaving.
        StoreError::Conflict => TakeError::Store("unexpected conflict on read".into()),
        StoreError::Unavailable(message) => TakeError::Store(message),
    }
}
