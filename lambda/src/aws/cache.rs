//! A small async cache whose entries may expire, filled at most once at a
//! time per key: assumed-role credentials, IoT clients and ATS endpoints.

use std::{
    collections::HashMap,
    fmt,
    future::Future,
    hash::Hash,
    sync::Arc,
    time::{Duration, SystemTime},
};

use tokio::sync::Mutex;

/// One cached value and when it stops being usable (`None`: never).
#[derive(Debug)]
struct Entry<V> {
    value: V,
    expires_at: Option<SystemTime>,
}

/// A slot per key, locked while its value is being made, so concurrent
/// callers for the same key wait for one maker instead of all calling AWS.
type Slot<V> = Arc<Mutex<Option<Entry<V>>>>;

/// Values by key, each kept until `margin` before its expiry.
pub(crate) struct ExpiringCache<K, V> {
    slots: Mutex<HashMap<K, Slot<V>>>,
    margin: Duration,
}

impl<K, V> fmt::Debug for ExpiringCache<K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Values may be credentials: never print them.
        f.debug_struct("ExpiringCache")
            .field("margin", &self.margin)
            .finish_non_exhaustive()
    }
}

impl<K, V> ExpiringCache<K, V>
where
    K: Eq + Hash + Clone,
    V: Clone,
{
    /// A cache that treats a value as stale `margin` before it expires.
    pub(crate) fn new(margin: Duration) -> ExpiringCache<K, V> {
        ExpiringCache {
            slots: Mutex::new(HashMap::new()),
            margin,
        }
    }

    /// The cached value for `key`, or the one `make` returns (with its
    /// expiry), which is then cached. A failure is returned and not cached.
    /// While one caller runs `make` for a key, other callers for that key wait
    /// and then take its value; callers for other keys are not held up.
    pub(crate) async fn get_or_try_insert_with<F, Fut, E>(&self, key: K, make: F) -> Result<V, E>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<(V, Option<SystemTime>), E>>,
    {
        let slot = self.slot(key).await;
        let mut entry = slot.lock().await;
        if let Some(fresh) = entry
            .as_ref()
            .filter(|e| self.is_fresh(e, SystemTime::now()))
        {
            return Ok(fresh.value.clone());
        }
        let (value, expires_at) = make().await?;
        *entry = Some(Entry {
            value: value.clone(),
            expires_at,
        });
        Ok(value)
    }

    /// The slot of `key`, made when missing. Making one also drops the slots
    /// whose value has gone stale and that nobody is filling, so keys that
    /// are no longer used (old session names, rotated credentials) do not
    /// pile up for the life of the process.
    async fn slot(&self, key: K) -> Slot<V> {
        let mut slots = self.slots.lock().await;
        if let Some(slot) = slots.get(&key) {
            return Arc::clone(slot);
        }
        let now = SystemTime::now();
        slots.retain(|_, slot| match slot.try_lock() {
            Ok(entry) => entry.as_ref().is_some_and(|e| self.is_fresh(e, now)),
            // Being filled right now.
            Err(_) => true,
        });
        Arc::clone(slots.entry(key).or_default())
    }

    fn is_fresh(&self, entry: &Entry<V>, now: SystemTime) -> bool {
        match entry.expires_at {
            None => true,
            Some(at) => now + self.margin < at,
        }
    }

    /// How many keys have a slot (for tests).
    #[cfg(test)]
    async fn len(&self) -> usize {
        self.slots.lock().await.len()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    const MARGIN: Duration = Duration::from_secs(300);

    fn in_secs(secs: u64) -> Option<SystemTime> {
        Some(SystemTime::now() + Duration::from_secs(secs))
    }

    #[tokio::test]
    async fn a_value_is_made_once_and_then_reused() {
        let cache = ExpiringCache::<&str, u32>::new(MARGIN);
        let calls = AtomicUsize::new(0);
        for _ in 0..3 {
            let value = cache
                .get_or_try_insert_with("k", || async {
                    calls.fetch_add(1, Ordering::SeqCst);
                    Ok::<_, ()>((7, in_secs(3600)))
                })
                .await;
            assert_eq!(value, Ok(7));
        }
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn a_value_within_the_margin_of_its_expiry_is_made_again() {
        let cache = ExpiringCache::<&str, u32>::new(MARGIN);
        let calls = AtomicUsize::new(0);
        for expected in [1, 2] {
            let value = cache
                .get_or_try_insert_with("k", || async {
                    let n = calls.fetch_add(1, Ordering::SeqCst) as u32 + 1;
                    // Expires in 4 minutes: inside the 5-minute margin at once.
                    Ok::<_, ()>((n, in_secs(240)))
                })
                .await;
            assert_eq!(value, Ok(expected));
        }
    }

    #[tokio::test]
    async fn a_value_without_expiry_is_kept_for_good() {
        let cache = ExpiringCache::<&str, &str>::new(MARGIN);
        let first = cache
            .get_or_try_insert_with("k", || async { Ok::<_, ()>(("a", None)) })
            .await;
        let second = cache
            .get_or_try_insert_with("k", || async { Ok::<_, ()>(("b", None)) })
            .await;
        assert_eq!((first, second), (Ok("a"), Ok("a")));
    }

    #[tokio::test]
    async fn failures_are_not_cached() {
        let cache = ExpiringCache::<&str, u32>::new(MARGIN);
        let failed = cache
            .get_or_try_insert_with("k", || async { Err::<(u32, _), _>("refused") })
            .await;
        let retried = cache
            .get_or_try_insert_with("k", || async { Ok::<_, &str>((3, None)) })
            .await;
        assert_eq!((failed, retried), (Err("refused"), Ok(3)));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_callers_for_one_key_share_one_call() {
        let cache = Arc::new(ExpiringCache::<&str, u32>::new(MARGIN));
        let calls = Arc::new(AtomicUsize::new(0));
        let tasks: Vec<_> = (0..16)
            .map(|_| {
                let cache = Arc::clone(&cache);
                let calls = Arc::clone(&calls);
                tokio::spawn(async move {
                    cache
                        .get_or_try_insert_with("k", || async {
                            calls.fetch_add(1, Ordering::SeqCst);
                            tokio::time::sleep(Duration::from_millis(50)).await;
                            Ok::<_, ()>((9, in_secs(3600)))
                        })
                        .await
                })
            })
            .collect();
        for task in tasks {
            assert_eq!(task.await.unwrap(), Ok(9));
        }
        assert_eq!(
            calls.load(Ordering::SeqCst),
            1,
            "one STS call for 16 waiters"
        );
    }

    #[tokio::test]
    async fn stale_keys_are_dropped_when_a_new_key_arrives() {
        let cache = ExpiringCache::<u32, u32>::new(MARGIN);
        cache
            .get_or_try_insert_with(1, || async { Ok::<_, ()>((1, in_secs(60))) })
            .await
            .unwrap();
        cache
            .get_or_try_insert_with(2, || async { Ok::<_, ()>((2, in_secs(3600))) })
            .await
            .unwrap();
        cache
            .get_or_try_insert_with(3, || async { Ok::<_, ()>((3, None)) })
            .await
            .unwrap();
        // Key 1 was stale (inside the margin) when key 3 arrived.
        assert_eq!(cache.len().await, 2);
    }
}
