//! Retry with exponential backoff.
//!
//! A [`RetryPolicy`] says how many attempts a call gets and how long to wait between them. Its
//! [`Backoff`] is an iterator of waits: `None` means "give up". Only transient errors are
//! retried (see [`crate::error::ErrorKind::is_transient`]); a 429's Retry-After hint, when it is
//! longer than the backoff, wins.
//!
//! # Default
//! 3 attempts, base delay 0.5 s, multiplier 2, waits capped at 30 s, no jitter, so the lab's
//! numbers read 0.5 s then 1.0 s. Production should add jitter (full jitter does the least work
//! when many clients retry at once).

use crate::rng::{streams, Rng};
use crate::time::{Micros, Secs, SEC};
use crate::ConfigError;
use serde::{Deserialize, Serialize};
use std::fmt;

/// How a wait is randomised, so that many clients do not retry in lockstep.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Jitter {
    /// The exact exponential wait.
    #[default]
    None,
    /// Uniform in `[0, wait]`.
    Full,
    /// Half the wait, plus uniform in `[0, wait / 2]`.
    Equal,
    /// Uniform in `[base, previous * 3]`, capped.
    Decorrelated,
}

impl Jitter {
    /// Every kind, in the order the page lists them.
    pub const ALL: [Jitter; 4] = [
        Jitter::None,
        Jitter::Full,
        Jitter::Equal,
        Jitter::Decorrelated,
    ];

    /// The name used in links and traces.
    pub const fn name(self) -> &'static str {
        match self {
            Jitter::None => "none",
            Jitter::Full => "full",
            Jitter::Equal => "equal",
            Jitter::Decorrelated => "decorrelated",
        }
    }

    /// Parses a name from [`Jitter::name`].
    pub fn parse(s: &str) -> Option<Jitter> {
        Jitter::ALL.into_iter().find(|j| j.name() == s)
    }
}

impl fmt::Display for Jitter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// How often and how patiently a call is retried.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct RetryPolicy {
    /// Total attempts, the first one included (1 means no retry).
    pub attempts: u32,
    /// The wait before the first retry.
    pub base: Micros,
    /// Each wait is this many times the previous one (before the cap and jitter).
    pub multiplier: f64,
    /// No wait is longer than this.
    pub max_delay: Micros,
    /// How waits are randomised.
    pub jitter: Jitter,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy::new()
    }
}

impl RetryPolicy {
    /// The most attempts a policy may have.
    pub const MAX_ATTEMPTS: u32 = 20;
    /// The longest wait a policy may have.
    pub const MAX_DELAY: Micros = 3_600 * SEC;

    /// The default policy (see the module docs).
    pub const fn new() -> Self {
        RetryPolicy {
            attempts: 3,
            base: SEC / 2,
            multiplier: 2.0,
            max_delay: 30 * SEC,
            jitter: Jitter::None,
        }
    }

    /// With `attempts` attempts in all.
    pub const fn with_attempts(mut self, attempts: u32) -> Self {
        self.attempts = attempts;
        self
    }

    /// With the first wait `base`.
    pub const fn with_base(mut self, base: Micros) -> Self {
        self.base = base;
        self
    }

    /// With waits capped at `max_delay`.
    pub const fn with_max_delay(mut self, max_delay: Micros) -> Self {
        self.max_delay = max_delay;
        self
    }

    /// With `multiplier` growth per retry.
    pub const fn with_multiplier(mut self, multiplier: f64) -> Self {
        self.multiplier = multiplier;
        self
    }

    /// With `jitter`.
    pub const fn with_jitter(mut self, jitter: Jitter) -> Self {
        self.jitter = jitter;
        self
    }

    /// Checks the policy, naming the first field that is out of range.
    pub fn validate(self) -> Result<Self, ConfigError> {
        if self.attempts == 0 || self.attempts > Self::MAX_ATTEMPTS {
            return Err(ConfigError::new(
                "attempts",
                format!(
                    "must be 1 to {} (got {})",
                    Self::MAX_ATTEMPTS,
                    self.attempts
                ),
            ));
        }
        if !(self.multiplier.is_finite() && (1.0..=10.0).contains(&self.multiplier)) {
            return Err(ConfigError::new(
                "multiplier",
                format!(
                    "must be between 1 and 10 (got {})",
                    crate::time::shortest(self.multiplier)
                ),
            ));
        }
        if self.max_delay > Self::MAX_DELAY {
            return Err(ConfigError::new(
                "max_delay",
                format!(
                    "must be at most {} (got {})",
                    Secs(Self::MAX_DELAY),
                    Secs(self.max_delay)
                ),
            ));
        }
        if self.base > self.max_delay {
            return Err(ConfigError::new(
                "base_delay",
                format!(
                    "must not exceed max_delay {} (got {})",
                    Secs(self.max_delay),
                    Secs(self.base)
                ),
            ));
        }
        Ok(self)
    }

    /// The wait before retry number `retry` (0 for the first retry), before jitter:
    /// `min(base * multiplier^retry, max_delay)`. Never decreasing in `retry`.
    pub fn delay_before_jitter(&self, retry: u32) -> Micros {
        let raw = self.base as f64 * self.multiplier.powi(retry.min(1_000) as i32);
        if raw >= self.max_delay as f64 {
            self.max_delay
        } else {
            raw as Micros
        }
    }

    /// The waits between this policy's attempts, jittered with `seed`.
    pub fn backoff(&self, seed: u64) -> Backoff {
        Backoff {
            policy: *self,
            state: self.waits(seed),
        }
    }

    /// Where a call is in this policy's waits, with its jitter seeded by `seed`: the state
    /// alone, for a caller that keeps the policy itself (the agent keeps one per call).
    pub fn waits(&self, seed: u64) -> Waits {
        Waits {
            retry: 0,
            prev: self.base,
            rng: Rng::stream(seed, streams::JITTER),
        }
    }

    /// The next wait of `w`, or `None` when every attempt is used.
    pub fn next_wait(&self, w: &mut Waits) -> Option<Micros> {
        if w.retry + 1 >= self.attempts {
            return None;
        }
        let raw = self.delay_before_jitter(w.retry);
        let delay = match self.jitter {
            Jitter::None => raw,
            Jitter::Full => w.rng.between(0, raw),
            Jitter::Equal => raw / 2 + w.rng.between(0, raw - raw / 2),
            Jitter::Decorrelated => {
                let hi = w.prev.saturating_mul(3).max(self.base);
                w.rng.between(self.base, hi).min(self.max_delay)
            }
        };
        w.prev = delay;
        w.retry += 1;
        Some(delay)
    }
}

/// Where a call is in its policy's waits: how many were handed out, the last one, and the
/// jitter's random stream.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Waits {
    retry: u32,
    prev: Micros,
    rng: Rng,
}

/// The waits between attempts: `attempts - 1` of them, then `None` (give up).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Backoff {
    policy: RetryPolicy,
    state: Waits,
}

impl Backoff {
    /// How many waits have been handed out.
    pub const fn retries(&self) -> u32 {
        self.state.retry
    }
}

impl Iterator for Backoff {
    type Item = Micros;

    fn next(&mut self) -> Option<Micros> {
        self.policy.next_wait(&mut self.state)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::MS;

    #[test]
    fn default_waits_are_half_a_second_then_one() {
        let waits: Vec<Micros> = RetryPolicy::new().backoff(0).collect();
        assert_eq!(waits, vec![500 * MS, 1_000 * MS]);
    }

    #[test]
    fn waits_grow_until_the_cap() {
        let p = RetryPolicy::new().with_attempts(8).with_max_delay(3 * SEC);
        let waits: Vec<Micros> = p.backoff(0).collect();
        assert_eq!(waits.len(), 7);
        assert_eq!(&waits[..4], &[500 * MS, SEC, 2 * SEC, 3 * SEC]);
        assert!(waits[3..].iter().all(|&w| w == 3 * SEC));
    }

    #[test]
    fn one_attempt_means_no_wait() {
        assert_eq!(RetryPolicy::new().with_attempts(1).backoff(1).next(), None);
    }

    #[test]
    fn jitter_stays_in_its_band_and_follows_the_seed() {
        let p = RetryPolicy::new().with_attempts(6);
        for jitter in [Jitter::Full, Jitter::Equal, Jitter::Decorrelated] {
            let p = p.with_jitter(jitter);
            let a: Vec<Micros> = p.backoff(42).collect();
            assert_eq!(a, p.backoff(42).collect::<Vec<_>>(), "{jitter}: same seed");
            assert_ne!(a, p.backoff(43).collect::<Vec<_>>(), "{jitter}: other seed");
            for (i, w) in a.iter().enumerate() {
                let raw = p.delay_before_jitter(i as u32);
                match jitter {
                    Jitter::Full => assert!(*w <= raw),
                    Jitter::Equal => assert!(*w >= raw / 2 && *w <= raw),
                    _ => assert!(*w >= p.base && *w <= p.max_delay),
                }
            }
        }
    }

    #[test]
    fn validation_names_the_bad_field() {
        let e = RetryPolicy::new().with_attempts(0).validate().unwrap_err();
        assert_eq!(e.field, "attempts");
        assert!(e.to_string().contains("must be 1 to 20 (got 0)"));
        let e = RetryPolicy::new()
            .with_base(40 * SEC)
            .validate()
            .unwrap_err();
        assert_eq!(e.field, "base_delay");
        let e = RetryPolicy::new()
            .with_multiplier(f64::NAN)
            .validate()
            .unwrap_err();
        assert_eq!(e.field, "multiplier");
        assert!(RetryPolicy::new().validate().is_ok());
    }
}
