//! One process's side of the registries' shared paces: the pairs of every
//! chunk this process works on queue here, per registry, and only the pair
//! at the head reads and writes the registry's bucket in the jobs table. It
//! takes a few tokens at once when others wait behind it and keeps the
//! spares for them, briefly.
//!
//! Before, every waiting pair read the bucket itself and slept until the
//! next token was due, so they all woke together and raced for it with a
//! read and a conditional write each, of which one could win: the table's
//! traffic grew with the pairs in flight, not with the pace, and the table
//! (DynamoDB's capacity, moto's one core in tests) became the limit of the
//! pace it was there to keep.

use std::{
    collections::HashMap,
    sync::{
        Arc, Mutex,
        atomic::{AtomicU32, Ordering},
    },
    time::{Duration, Instant},
};

use super::{
    JobPorts, now_ms,
    pace::{Pace, Take},
};
use crate::service::ownership::StoreError;

/// The longest a pair waits here before it looks at its job's cancel again.
pub(super) const CANCEL_CHECK: Duration = Duration::from_secs(1);

/// The share of a registry's budget the pace keeps to. At the full budget
/// AWS's bucket is as empty as ours, so two registrations that a network
/// delay brings closer together than their tokens were meet a throttling
/// reply, and each costs about a second of the budget while the pace slows
/// and climbs back. A pace a twentieth under it lets AWS's bucket fill
/// again and absorb that jitter.
const SHARE: f64 = 0.95;

/// How long spare tokens are kept: a bucket holds a second of the budget,
/// and spares kept longer would add to the registry's burst.
const SPARE_LIFE: Duration = Duration::from_secs(1);

/// What a pair got.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Token {
    /// Go ahead: one registration.
    Taken,
    /// Not yet; ask again (after looking at the cancel).
    Later,
    /// The next token comes after `latest`: stop (the chunk goes back to the queue).
    TooLate,
}

/// The queues of one process, per registry (`<account>#<region>`).
#[derive(Debug, Default)]
pub(crate) struct Pacer {
    registries: Mutex<HashMap<String, Arc<Registry>>>,
}

#[derive(Debug, Default)]
struct Registry {
    /// Spare tokens and when they were taken. Its lock is the queue: the
    /// pair holding it is the only one here that reads the bucket.
    spare: tokio::sync::Mutex<(u32, Option<Instant>)>,
    /// Pairs of this process waiting for a token here.
    waiting: AtomicU32,
}

/// Counts a pair as waiting while it lives.
struct Waiting<'a>(&'a AtomicU32);

impl<'a> Waiting<'a> {
    fn new(count: &'a AtomicU32) -> Waiting<'a> {
        count.fetch_add(1, Ordering::Relaxed);
        Waiting(count)
    }
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

impl Pacer {
    fn registry(&self, key: &str) -> Arc<Registry> {
        let mut registries = self.registries.lock().unwrap_or_else(|e| e.into_inner());
        Arc::clone(registries.entry(key.to_owned()).or_default())
    }

    /// A token of `key`'s pace (`budget` a second, kept to [`SHARE`] of it)
    /// for one registration, if one comes before `latest`. Waits at most
    /// about [`CANCEL_CHECK`].
    pub(super) async fn take(
        &self,
        ports: &JobPorts,
        key: &str,
        budget: f64,
        latest: Instant,
    ) -> Result<Token, StoreError> {
        let budget = budget * SHARE;
        let registry = self.registry(key);
        let _waiting = Waiting::new(&registry.waiting);
        let Ok(mut spare) = tokio::time::timeout(CANCEL_CHECK, registry.spare.lock()).await else {
            return Ok(Token::Later);
        };
        if spare.0 > 0 && spare.1.is_some_and(|at| at.elapsed() < SPARE_LIFE) {
            spare.0 -= 1;
            return Ok(Token::Taken);
        }
        // A quarter second of the budget at most, so one process cannot
        // hold what another one's pairs are waiting for.
        let cap = (budget / 4.0).ceil().max(1.0) as u32;
        let want = registry.waiting.load(Ordering::Relaxed).clamp(1, cap);
        let mut slept = false;
        loop {
            let now = now_ms();
            let (pace, version) = read(ports, key, budget, now).await?;
            match pace.take_up_to(budget, now, want) {
                Take::Granted(next, got) => match ports.store.set_pace(key, &next, version).await {
                    Ok(()) => {
                        *spare = (got - 1, Some(Instant::now()));
                        return Ok(Token::Taken);
                    }
                    // Another process took some meanwhile: read again, a moment later.
                    Err(StoreError::Conflict) => jitter(20).await,
                    Err(e) => return Err(e),
                },
                Take::Wait(ms) => {
                    let first = Duration::from_millis(ms);
                    if slept || Instant::now() + first > latest {
                        return Ok(if slept { Token::Later } else { Token::TooLate });
                    }
                    // With others waiting behind, until there are tokens
                    // for them too (a quarter second more at most), so that
                    // one read takes them all.
                    let more = Duration::from_secs_f64(f64::from(want - 1) / pace.rate.max(0.1));
                    // Asleep at the head of the queue: the pairs behind
                    // wait on the lock, not on the table.
                    let wait = (first + more).min(CANCEL_CHECK);
                    tokio::time::sleep(wait).await;
                    if wait == CANCEL_CHECK {
                        return Ok(Token::Later);
                    }
                    slept = true;
                }
            }
        }
    }

    /// A throttling reply from `key`'s registry: this process gives up its
    /// spare tokens there, and every process's pace there slows.
    pub(super) async fn throttled(&self, ports: &JobPorts, key: &str, budget: f64) {
        let budget = budget * SHARE;
        *self.registry(key).spare.lock().await = (0, None);
        for _ in 0..5 {
            let now = now_ms();
            let Ok((pace, version)) = read(ports, key, budget, now).await else {
                return;
            };
            match ports
                .store
                .set_pace(key, &pace.throttled(budget, now), version)
                .await
            {
                Ok(()) => {
                    tracing::info!(registry = %key, "throttled by AWS: slowing down");
                    return;
                }
                Err(StoreError::Conflict) => jitter(20).await,
                Err(_) => return,
            }
        }
    }
}

/// `key`'s bucket and the version to write it back at (`None`: not stored
/// yet, a full one at `budget`).
async fn read(
    ports: &JobPorts,
    key: &str,
    budget: f64,
    now: i64,
) -> Result<(Pace, Option<u64>), StoreError> {
    Ok(match ports.store.pace(key).await? {
        Some((pace, version)) => (pace, Some(version)),
        None => (Pace::fresh(budget, now), None),
    })
}

/// Sleeps up to `ms` milliseconds, at random.
async fn jitter(ms: u64) {
    let mut byte = [0u8; 1];
    let _ = getrandom::fill(&mut byte);
    tokio::time::sleep(Duration::from_millis(u64::from(byte[0]) * ms / 255 + 1)).await;
}

#[cfg(test)]
mod tests {
    use futures::future::join_all;

    use super::*;
    use crate::testing::InMemoryJobs;

    const KEY: &str = "111111111111#ap-northeast-1";

    async fn token(pacer: &Pacer, ports: &JobPorts, latest: Instant) -> Instant {
        loop {
            match pacer.take(ports, KEY, 40.0, latest).await {
                Ok(Token::Taken) => return Instant::now(),
                Ok(Token::Later) => {}
                other => panic!("{other:?}"),
            }
        }
    }

    /// Sixty pairs of one process at once against a budget of 40 a second
    /// (kept to 38), its bucket emptied first: each gets its token, no
    /// sooner than the bucket allows, and the bucket is read a couple of
    /// times per fetch of several tokens, not by every waiting pair every
    /// time a token comes due.
    #[tokio::test]
    async fn pairs_queue_for_the_bucket_instead_of_racing_for_it() {
        let jobs = InMemoryJobs::new();
        let ports = jobs.ports();
        let pacer = Pacer::default();
        let latest = Instant::now() + Duration::from_secs(30);
        for _ in 0..38 {
            token(&pacer, &ports, latest).await;
        }
        let (reads, started) = (jobs.pace_reads(), Instant::now());
        let taken = join_all((0..60).map(|_| token(&pacer, &ports, latest))).await;
        let last = taken.iter().max().map(|t| t.duration_since(started));
        // 60 tokens at 38 a second, less what refilled while the loop ran.
        assert!(
            last.is_some_and(|l| l >= Duration::from_millis(1400)),
            "{last:?}"
        );
        let reads = jobs.pace_reads() - reads;
        assert!(reads <= 20, "{reads} reads of the bucket for 60 tokens");
    }
}
