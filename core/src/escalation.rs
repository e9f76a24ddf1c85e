//! Escalation: when the same error keeps coming back, stop and hand off to a human.
//!
//! Retrying a failure that repeats is burning money. Errors are counted per key, the kind of
//! error and what it came from (a 503 from the primary model is not a 503 from the backup, nor
//! a timeout from the primary); a success of a model or tool clears its counts. When one key
//! reaches `after`, the run stops and produces a [`HandoffPacket`]: a ticket with everything a
//! human needs to pick the task up without re-asking the user.
//!
//! # Default
//! Off. The lab's card I turns it on with a count of 3.

use crate::error::{CallError, ErrorKind};
use crate::idempotency::KeyBuilder;
use crate::trace::Target;
use crate::ConfigError;
use serde::{Deserialize, Serialize};

/// Counts errors per (kind, target).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RepeatTracker {
    counts: Vec<(ErrorKind, Target, u32)>,
}

impl RepeatTracker {
    /// Records one `kind` of error from `target`; returns how many times that pair has been
    /// seen since `target` last worked.
    pub fn record(&mut self, kind: ErrorKind, target: &Target) -> u32 {
        match self
            .counts
            .iter_mut()
            .find(|(k, t, _)| *k == kind && t == target)
        {
            Some((_, _, n)) => {
                *n += 1;
                *n
            }
            None => {
                self.counts.push((kind, target.clone(), 1));
                1
            }
        }
    }

    /// `target` worked: its errors are forgotten.
    pub fn cleared(&mut self, target: &Target) {
        self.counts.retain(|(_, t, _)| t != target);
    }
}

/// When to escalate.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EscalationPolicy {
    /// The same error from the same target this many times stops the run. 1 to 50.
    pub after: u32,
}

impl EscalationPolicy {
    /// Checks the count.
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

/// What a human gets when the agent hands off: the article's list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HandoffPacket {
    /// The ticket's id, to refer to it.
    pub ticket: String,
    /// What the user asked.
    pub user_input: String,
    /// What the agent planned.
    pub plan: Vec<String>,
    /// What it did so far.
    pub steps_executed: Vec<String>,
    /// Where it stopped.
    pub failing_step: String,
    /// The error, in words.
    pub error: String,
    /// What a human should do next.
    pub suggested_next_step: String,
}

/// A ticket id that follows from the run (its seed and where it stopped), so the same run
/// files the same ticket: `TCK-1a2b3c`.
pub fn ticket_id(seed: u64, step: u32, at: u64) -> String {
    let key = KeyBuilder::new()
        .num(seed as i64)
        .num(step as i64)
        .num(at as i64)
        .finish();
    format!("TCK-{:06x}", key.0 & 0xff_ffff)
}

/// The next step to suggest for a repeating `error`.
pub fn suggestion(error: &CallError) -> &'static str {
    match error.kind {
        ErrorKind::Http(429) => {
            "Wait for the rate limit to reset, or raise the quota, then re-run."
        }
        ErrorKind::Http(500..=599) | ErrorKind::Network | ErrorKind::BadReply => {
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
        ErrorKind::ApprovalTimeout => {
            "Ask someone who may approve this action to approve or deny it, then re-run."
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::borrow::Cow;

    #[test]
    fn counts_per_kind_and_target_and_clears_a_target_that_works() {
        let primary = Target::Model(Cow::Borrowed("primary"));
        let backup = Target::Model(Cow::Borrowed("backup"));
        let mut t = RepeatTracker::default();
        assert_eq!(t.record(ErrorKind::Http(503), &primary), 1);
        assert_eq!(t.record(ErrorKind::Http(503), &primary), 2);
        assert_eq!(t.record(ErrorKind::Http(503), &backup), 1, "another target");
        assert_eq!(t.record(ErrorKind::Timeout, &primary), 1, "another kind");
        assert_eq!(t.record(ErrorKind::Http(503), &primary), 3);
        t.cleared(&primary);
        assert_eq!(t.record(ErrorKind::Http(503), &primary), 1);
        assert_eq!(
            t.record(ErrorKind::Http(503), &backup),
            2,
            "backup not cleared"
        );
    }

    #[test]
    fn policy_validates_and_tickets_follow_the_run() {
        assert!(EscalationPolicy { after: 0 }.validate().is_err());
        assert!(EscalationPolicy { after: 3 }.validate().is_ok());
        assert_eq!(ticket_id(1, 2, 3), ticket_id(1, 2, 3));
        assert_ne!(ticket_id(1, 2, 3), ticket_id(2, 2, 3));
        assert!(ticket_id(1, 2, 3).starts_with("TCK-"));
    }
}
