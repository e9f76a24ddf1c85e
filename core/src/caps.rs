//! Run caps: steps, tokens, cost and wall time.
//!
//! A runaway agent is stopped by whichever cap it reaches first, and the stop says which. The
//! step cap is the lab's `StepLimiter`: it counts a step, then refuses it when the count is past
//! the cap, so a cap of 4 stops a looping run at step 5 with "Stopped: exceeded 4 steps
//! (possible runaway loop)".
//!
//! # Default
//! 4 steps (the lab's), 200,000 tokens, $0.50, 120 s of wall time (the course's caps).

use crate::time::{Micros, Secs, SEC};
use crate::ConfigError;
use serde::{Deserialize, Serialize};
use std::fmt;

/// Which cap stopped a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CapKind {
    /// Too many steps (turns).
    Steps,
    /// Too many tokens.
    Tokens,
    /// Too much money.
    Cost,
    /// Too much virtual wall time.
    WallTime,
}

impl CapKind {
    /// The name used in traces.
    pub const fn name(self) -> &'static str {
        match self {
            CapKind::Steps => "steps",
            CapKind::Tokens => "tokens",
            CapKind::Cost => "cost",
            CapKind::WallTime => "wall_time",
        }
    }
}

/// Money in millionths of a dollar, so sums are exact.
pub type MicroUsd = u64;

/// Formats micro-dollars as `$0.50`, `$0.0123`.
pub fn fmt_usd(m: MicroUsd) -> String {
    let whole = m / 1_000_000;
    let frac = m % 1_000_000;
    let mut digits = format!("{frac:06}");
    while digits.len() > 2 && digits.ends_with('0') {
        digits.pop();
    }
    format!("${whole}.{digits}")
}

/// The four caps of a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Caps {
    /// Steps (turns) a run may take.
    pub max_steps: u32,
    /// Tokens a run may use.
    pub max_tokens: u64,
    /// Money a run may spend.
    pub max_cost: MicroUsd,
    /// Virtual wall time a run may take.
    pub max_wall: Micros,
}

impl Default for Caps {
    fn default() -> Self {
        Caps::new()
    }
}

impl Caps {
    /// The default caps (see the module docs).
    pub const fn new() -> Self {
        Caps {
            max_steps: 4,
            max_tokens: 200_000,
            max_cost: 500_000,
            max_wall: 120 * SEC,
        }
    }

    /// With a step cap of `max_steps`.
    pub const fn with_max_steps(mut self, max_steps: u32) -> Self {
        self.max_steps = max_steps;
        self
    }

    /// Checks every cap is at least 1 and the step cap at most 1,000.
    pub fn validate(self) -> Result<Self, ConfigError> {
        if self.max_steps == 0 || self.max_steps > 1_000 {
            return Err(ConfigError::new(
                "max_steps",
                format!("must be 1 to 1000 (got {})", self.max_steps),
            ));
        }
        if self.max_tokens == 0 {
            return Err(ConfigError::new("max_tokens", "must be at least 1".into()));
        }
        if self.max_cost == 0 {
            return Err(ConfigError::new("max_cost", "must be more than $0".into()));
        }
        if self.max_wall == 0 {
            return Err(ConfigError::new("max_wall", "must be more than 0s".into()));
        }
        Ok(self)
    }
}

/// A cap that fired: which one, its limit and what was used.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CapHit {
    /// Which cap.
    pub cap: CapKind,
    /// Its limit.
    pub limit: u64,
    /// What the run had used when it fired.
    pub used: u64,
}

impl fmt::Display for CapHit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.cap {
            CapKind::Steps => write!(
                f,
                "Stopped: exceeded {} step{} (possible runaway loop)",
                self.limit,
                if self.limit == 1 { "" } else { "s" }
            ),
            CapKind::Tokens => write!(
                f,
                "Stopped: token budget of {} used up ({} tokens)",
                self.limit, self.used
            ),
            CapKind::Cost => write!(
                f,
                "Stopped: cost cap of {} reached ({} spent)",
                fmt_usd(self.limit),
                fmt_usd(self.used)
            ),
            CapKind::WallTime => write!(
                f,
                "Stopped: wall-time budget of {} used up ({} elapsed)",
                Secs(self.limit),
                Secs(self.used)
            ),
        }
    }
}

/// Counts steps and refuses the one past the cap.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepLimiter {
    max: u32,
    steps: u32,
}

impl StepLimiter {
    /// A limiter allowing `max` steps.
    pub const fn new(max: u32) -> Self {
        StepLimiter { max, steps: 0 }
    }

    /// Counts a step; refuses it if the count is now past the cap.
    pub fn tick(&mut self) -> Result<u32, CapHit> {
        self.steps += 1;
        if self.steps > self.max {
            Err(CapHit {
                cap: CapKind::Steps,
                limit: self.max as u64,
                used: self.steps as u64,
            })
        } else {
            Ok(self.steps)
        }
    }

    /// Steps counted so far, the refused one included.
    pub const fn steps(&self) -> u32 {
        self.steps
    }
}

/// What a run has used of its token, cost and wall-time budgets.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Usage {
    /// Tokens used.
    pub tokens: u64,
    /// Money spent.
    pub cost: MicroUsd,
    /// Virtual time elapsed since the run started.
    pub elapsed: Micros,
}

impl Caps {
    /// The first of the token, cost and wall-time caps that `usage` has reached, if any.
    pub fn check(&self, usage: &Usage) -> Option<CapHit> {
        let hit = |cap, limit, used| (used >= limit).then_some(CapHit { cap, limit, used });
        hit(CapKind::Tokens, self.max_tokens, usage.tokens)
            .or_else(|| hit(CapKind::Cost, self.max_cost, usage.cost))
            .or_else(|| hit(CapKind::WallTime, self.max_wall, usage.elapsed))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn step_limiter_stops_past_the_cap() {
        let mut s = StepLimiter::new(4);
        for i in 1..=4 {
            assert_eq!(s.tick(), Ok(i));
        }
        let hit = s.tick().unwrap_err();
        assert_eq!(s.steps(), 5);
        assert_eq!(
            hit.to_string(),
            "Stopped: exceeded 4 steps (possible runaway loop)"
        );
    }

    #[test]
    fn budgets_report_the_first_cap_reached() {
        let caps = Caps::new();
        assert_eq!(caps.check(&Usage::default()), None);
        let u = Usage {
            tokens: 10,
            cost: 600_000,
            elapsed: 200 * SEC,
        };
        let hit = caps.check(&u).unwrap();
        assert_eq!(hit.cap, CapKind::Cost);
        assert_eq!(
            hit.to_string(),
            "Stopped: cost cap of $0.50 reached ($0.60 spent)"
        );
    }

    #[test]
    fn dollars_print_exactly() {
        assert_eq!(fmt_usd(500_000), "$0.50");
        assert_eq!(fmt_usd(12_300), "$0.0123");
        assert_eq!(fmt_usd(3_000_000), "$3.00");
    }

    #[test]
    fn caps_validate() {
        assert_eq!(
            Caps::new().with_max_steps(0).validate().unwrap_err().field,
            "max_steps"
        );
        assert!(Caps::new().validate().is_ok());
    }
}
