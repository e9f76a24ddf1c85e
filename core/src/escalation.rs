//! Escalation: when the same error keeps coming back, stop and hand off to a human.
//!
//! Retrying a failure that repeats is burning money. After the same kind of error has been seen
//! `after` times in a row the run stops and produces a [`HandoffPacket`]: everything a human
//! needs to pick the task up without re-asking the user.
//!
//! # Default
//! Off. The lab's cards turn it on with a count of 3.

use crate::error::{CallError, ErrorKind};
use crate::ConfigError;
use serde::{Deserialize, Serialize};

/// Counts consecutive errors of the same kind.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RepeatTracker {
    last: Option<ErrorKind>,
    count: u32,
}

impl RepeatTracker {
    /// Records an error and returns how many times in a row its kind has now been seen.
    pub fn record(&mut self, kind: ErrorKind) -> u32 {
        if self.last == Some(kind) {
            self.count += 1;
        } else {
            self.last = Some(kind);
            self.count = 1;
        }
        self.count
    }

    /// Records a success, which breaks any streak.
    pub fn reset(&mut self) {
        *self = RepeatTracker::default();
    }
}

/// When to escalate.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EscalationPolicy {
    /// The same error this many times in a row stops the run.
    pub after: u32,
}

impl EscalationPolicy {
    /// Checks the count is 1 to 50.
    pub fn validate(self) -> Result<Self, ConfigError> {
        if self.after == 0 || self.after > 50 {
            return Err(ConfigError::new(
                "escalate_after",
                format!("must be 1 to 50 (got {})", self.after),
            ));
        }
        Ok(self)
    }
}

/// What a human gets when the agent gives up.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HandoffPacket {
    /// What the user asked.
    pub user_input: String,
    /// What the agent meant to do.
    pub plan: Vec<String>,
    /// What it did, in order.
    pub steps_executed: Vec<String>,
    /// Where it stopped.
    pub failing_step: String,
    /// The error that stopped it.
    pub error: String,
    /// What a human should try next.
    pub suggested_next_step: String,
}

/// The next step a human should take for an error.
pub fn suggestion(error: &CallError) -> &'static str {
    match error.kind {
        ErrorKind::Http(429) => {
            "Wait for the rate limit to reset, or raise the quota, then re-run."
        }
        ErrorKind::Http(500..=599) | ErrorKind::Network => {
            "Check the service's status page; re-run once it is healthy."
        }
        ErrorKind::Timeout => {
            "Check why the service is slow; re-run with a longer timeout if it is healthy."
        }
        ErrorKind::Http(401 | 403) => "Fix the credentials or permissions; retrying cannot help.",
        ErrorKind::Http(_) | ErrorKind::InvalidArgs | ErrorKind::UnknownTool => {
            "Fix the request (the arguments are wrong); retrying cannot help."
        }
        ErrorKind::CircuitOpen => "Wait for the breaker's cooldown, or fix the service behind it.",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_only_consecutive_repeats_of_one_kind() {
        let mut t = RepeatTracker::default();
        assert_eq!(t.record(ErrorKind::Http(503)), 1);
        assert_eq!(t.record(ErrorKind::Http(503)), 2);
        assert_eq!(t.record(ErrorKind::Timeout), 1);
        t.reset();
        assert_eq!(t.record(ErrorKind::Timeout), 1);
    }

    #[test]
    fn policy_validates() {
        assert!(EscalationPolicy { after: 0 }.validate().is_err());
        assert!(EscalationPolicy { after: 3 }.validate().is_ok());
    }
}
