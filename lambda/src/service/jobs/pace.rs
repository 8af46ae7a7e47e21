//! The pace of one registry (account × region), shared by every worker
//! through the jobs table: a token bucket of registrations, refilled at a
//! rate that throttling replies lower and quiet time raises back to the
//! configured budget. Pure: the store reads and writes it at a version.

use serde::{Deserialize, Serialize};

/// Lowest rate, as a share of the budget, that throttling can push the pace to.
const FLOOR: f64 = 0.1;
/// What one throttling reply does to the rate.
const BACKOFF: f64 = 0.7;
/// How fast the rate climbs back, in shares of the budget per second.
const RECOVERY_PER_SECOND: f64 = 0.05;

/// A registry's bucket as stored.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Pace {
    /// Tokens in the bucket (may be negative after a throttling reply: a pause).
    pub tokens: f64,
    /// Refill rate now, registrations per second.
    pub rate: f64,
    /// When `tokens` and `rate` were true, Unix ms.
    pub at_ms: i64,
}

/// What taking tokens gives.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Take {
    /// This many tokens (at least one) were taken: store the new state.
    Granted(Pace, u32),
    /// None left: try again after this many milliseconds.
    Wait(u64),
}

impl Pace {
    /// A full bucket at `budget`.
    pub fn fresh(budget: f64, now_ms: i64) -> Pace {
        Pace {
            tokens: burst(budget),
            rate: budget,
            at_ms: now_ms,
        }
    }

    /// The state at `now_ms`: refilled, the rate recovered towards `budget`.
    fn at(self, budget: f64, now_ms: i64) -> Pace {
        let seconds = (now_ms - self.at_ms).max(0) as f64 / 1000.0;
        let rate =
            (self.rate + budget * RECOVERY_PER_SECOND * seconds).clamp(budget * FLOOR, budget);
        // The refill at the old rate is a fair lower bound over the interval.
        let tokens = (self.tokens + seconds * self.rate.min(rate)).min(burst(rate));
        Pace {
            tokens,
            rate,
            at_ms: now_ms.max(self.at_ms),
        }
    }

    /// Takes one token at `now_ms`, or says how long to wait for one.
    pub fn take(self, budget: f64, now_ms: i64) -> Take {
        self.take_up_to(budget, now_ms, 1)
    }

    /// Takes up to `want` whole tokens at `now_ms` (as many as there are),
    /// or says how long to wait for one.
    pub fn take_up_to(self, budget: f64, now_ms: i64, want: u32) -> Take {
        let now = self.at(budget, now_ms);
        if now.tokens >= 1.0 {
            let got = now.tokens.floor().min(f64::from(want.max(1)));
            Take::Granted(
                Pace {
                    tokens: now.tokens - got,
                    ..now
                },
                got as u32,
            )
        } else {
            let wait = (1.0 - now.tokens) / now.rate * 1000.0;
            Take::Wait(wait.ceil().max(1.0) as u64)
        }
    }

    /// After a throttling reply: a slower rate and an empty bucket.
    pub fn throttled(self, budget: f64, now_ms: i64) -> Pace {
        let now = self.at(budget, now_ms);
        Pace {
            rate: (now.rate * BACKOFF).max(budget * FLOOR),
            tokens: now.tokens.min(0.0),
            ..now
        }
    }
}

/// The bucket holds one second of work (at least one token).
fn burst(rate: f64) -> f64 {
    rate.max(1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Takes tokens as fast as allowed for `ms` and counts them.
    fn grants(mut pace: Pace, budget: f64, start: i64, ms: i64) -> u64 {
        let mut now = start;
        let mut granted = 0;
        while now < start + ms {
            match pace.take(budget, now) {
                Take::Granted(next, got) => {
                    pace = next;
                    granted += u64::from(got);
                }
                Take::Wait(wait) => now += i64::try_from(wait).unwrap_or(1),
            }
        }
        granted
    }

    #[test]
    fn holds_the_budget_over_time() {
        let budget = 10.0;
        let granted = grants(Pace::fresh(budget, 0), budget, 0, 60_000);
        // One second of burst, then the rate.
        assert!((600..=611).contains(&granted), "{granted}");
    }

    #[test]
    fn throttling_slows_and_quiet_restores() {
        let budget = 20.0;
        let mut pace = Pace::fresh(budget, 0);
        for _ in 0..3 {
            pace = pace.throttled(budget, 0);
        }
        assert!((pace.rate - 20.0 * 0.7 * 0.7 * 0.7).abs() < 1e-9);
        assert!(matches!(pace.take(budget, 0), Take::Wait(_)));
        // Far below the floor never.
        for _ in 0..50 {
            pace = pace.throttled(budget, 0);
        }
        assert!((pace.rate - 2.0).abs() < 1e-9);
        // 18 s of quiet: back at the budget.
        let later = pace.at(budget, 18_000);
        assert!((later.rate - budget).abs() < 1e-9, "{later:?}");
    }

    #[test]
    fn several_tokens_at_once_never_more_than_there_are() {
        let budget = 10.0;
        let Take::Granted(pace, got) = Pace::fresh(budget, 0).take_up_to(budget, 0, 4) else {
            panic!("a fresh bucket grants");
        };
        assert_eq!(got, 4);
        let Take::Granted(pace, got) = pace.take_up_to(budget, 0, 100) else {
            panic!("six are left");
        };
        assert_eq!(got, 6);
        assert!(matches!(pace.take_up_to(budget, 50, 3), Take::Wait(50)));
        // Over a minute, batches hold the same budget as single tokens.
        let mut pace = pace;
        let (mut now, mut granted) = (0i64, 0u64);
        while now < 60_000 {
            match pace.take_up_to(budget, now, 3) {
                Take::Granted(next, got) => {
                    pace = next;
                    granted += u64::from(got);
                }
                Take::Wait(ms) => now += i64::try_from(ms).unwrap_or(1),
            }
        }
        assert!((598..=602).contains(&granted), "{granted}");
    }

    #[test]
    fn a_clock_that_goes_back_neither_adds_nor_panics() {
        let pace = Pace {
            tokens: 0.5,
            rate: 5.0,
            at_ms: 10_000,
        };
        match pace.take(5.0, 9_000) {
            Take::Wait(ms) => assert_eq!(ms, 100),
            Take::Granted(p, _) => panic!("granted {p:?}"),
        }
    }
}
