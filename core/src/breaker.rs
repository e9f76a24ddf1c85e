//! Circuit breaker: stop hammering a dead service.
//!
//! Closed: calls go through and consecutive failures are counted. After `threshold` failures in
//! a row it opens: calls fail fast, without reaching the service, until `cooldown` has passed in
//! virtual time. Then it is half-open: one probe goes through. A successful probe closes it; a
//! failed one opens it again for another cooldown. Every change of state is returned to the
//! caller as a [`Transition`], so it can be put in the trace.
//!
//! # Default
//! Threshold 3 failures, cooldown 5 s.

use crate::time::{Micros, Secs, SEC};
use crate::ConfigError;
use serde::{Deserialize, Serialize};
use std::fmt;

/// The breaker's state.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BreakerState {
    /// Calls go through.
    Closed,
    /// Calls fail fast.
    Open,
    /// One probe may go through.
    HalfOpen,
}

impl fmt::Display for BreakerState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            BreakerState::Closed => "closed",
            BreakerState::Open => "open",
            BreakerState::HalfOpen => "half-open",
        })
    }
}

/// A change of state.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transition {
    /// The state before.
    pub from: BreakerState,
    /// The state after.
    pub to: BreakerState,
}

/// When the breaker opens and how long it stays open.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BreakerConfig {
    /// Consecutive failures that open the breaker.
    pub threshold: u32,
    /// How long it stays open before a probe.
    pub cooldown: Micros,
}

impl Default for BreakerConfig {
    fn default() -> Self {
        BreakerConfig::new()
    }
}

impl BreakerConfig {
    /// The default (see the module docs).
    pub const fn new() -> Self {
        BreakerConfig {
            threshold: 3,
            cooldown: 5 * SEC,
        }
    }

    /// Checks the threshold is 1 to 100 and the cooldown at most an hour.
    pub fn validate(self) -> Result<Self, ConfigError> {
        if self.threshold == 0 || self.threshold > 100 {
            return Err(ConfigError::new(
                "breaker_threshold",
                format!("must be 1 to 100 (got {})", self.threshold),
            ));
        }
        if self.cooldown > 3_600 * SEC {
            return Err(ConfigError::new(
                "breaker_cooldown",
                format!("must be at most 3600.0s (got {})", Secs(self.cooldown)),
            ));
        }
        Ok(self)
    }
}

/// Why a call was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Refused {
    /// When a probe will be allowed.
    pub retry_at: Micros,
}

/// A circuit breaker driven by virtual time.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CircuitBreaker {
    config: BreakerConfig,
    state: BreakerState,
    failures: u32,
    opened_at: Micros,
}

impl CircuitBreaker {
    /// A closed breaker.
    pub const fn new(config: BreakerConfig) -> Self {
        CircuitBreaker {
            config,
            state: BreakerState::Closed,
            failures: 0,
            opened_at: 0,
        }
    }

    /// The current state (an open breaker whose cooldown is over still says open until the
    /// next [`CircuitBreaker::allow`]).
    pub const fn state(&self) -> BreakerState {
        self.state
    }

    /// Consecutive failures counted while closed.
    pub const fn failures(&self) -> u32 {
        self.failures
    }

    /// Asks to make a call at `now`. Open and still cooling down: refused. Open and cooled
    /// down: moves to half-open (the returned transition) and lets the probe through.
    pub fn allow(&mut self, now: Micros) -> Result<Option<Transition>, Refused> {
        match self.state {
            BreakerState::Closed | BreakerState::HalfOpen => Ok(None),
            BreakerState::Open => {
                let retry_at = self.opened_at.saturating_add(self.config.cooldown);
                if now >= retry_at {
                    Ok(Some(self.set(BreakerState::HalfOpen)))
                } else {
                    Err(Refused { retry_at })
                }
            }
        }
    }

    /// Records a successful call.
    pub fn on_success(&mut self) -> Option<Transition> {
        self.failures = 0;
        (self.state != BreakerState::Closed).then(|| self.set(BreakerState::Closed))
    }

    /// Records a failed call at `now`.
    pub fn on_failure(&mut self, now: Micros) -> Option<Transition> {
        match self.state {
            BreakerState::HalfOpen => {
                self.opened_at = now;
                Some(self.set(BreakerState::Open))
            }
            BreakerState::Closed => {
                self.failures += 1;
                (self.failures >= self.config.threshold).then(|| {
                    self.opened_at = now;
                    self.failures = 0;
                    self.set(BreakerState::Open)
                })
            }
            BreakerState::Open => None,
        }
    }

    fn set(&mut self, to: BreakerState) -> Transition {
        let from = self.state;
        self.state = to;
        Transition { from, to }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn open_breaker() -> CircuitBreaker {
        let mut b = CircuitBreaker::new(BreakerConfig::new());
        assert_eq!(b.on_failure(0), None);
        assert_eq!(b.on_failure(SEC), None);
        let t = b.on_failure(2 * SEC).unwrap();
        assert_eq!((t.from, t.to), (BreakerState::Closed, BreakerState::Open));
        b
    }

    #[test]
    fn opens_after_threshold_and_fails_fast() {
        let mut b = open_breaker();
        assert_eq!(b.allow(3 * SEC), Err(Refused { retry_at: 7 * SEC }));
    }

    #[test]
    fn probes_after_cooldown_and_closes_on_success() {
        let mut b = open_breaker();
        let t = b.allow(7 * SEC).unwrap().unwrap();
        assert_eq!(t.to, BreakerState::HalfOpen);
        let t = b.on_success().unwrap();
        assert_eq!(
            (t.from, t.to),
            (BreakerState::HalfOpen, BreakerState::Closed)
        );
        assert_eq!(b.allow(8 * SEC), Ok(None));
    }

    #[test]
    fn a_failed_probe_reopens_for_another_cooldown() {
        let mut b = open_breaker();
        b.allow(7 * SEC).unwrap();
        assert_eq!(b.on_failure(7 * SEC).unwrap().to, BreakerState::Open);
        assert_eq!(b.allow(11 * SEC), Err(Refused { retry_at: 12 * SEC }));
    }

    #[test]
    fn a_success_resets_the_count() {
        let mut b = CircuitBreaker::new(BreakerConfig::new());
        b.on_failure(0);
        b.on_failure(0);
        assert_eq!(b.on_success(), None);
        assert_eq!(b.on_failure(0), None);
        assert_eq!(b.state(), BreakerState::Closed);
    }
}
