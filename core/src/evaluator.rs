//! Evaluator-optimizer: a critic grades the answer; below the threshold the agent revises
//! once, and never more.
//!
//! One revision catches most sloppy drafts; a loop of revisions is a runaway loop with better
//! manners. After the one revision the answer is returned as it is, with the critic's score.
//!
//! # Default
//! Off. The lab's card N turns it on with a threshold of 7 out of 10.

use crate::ConfigError;
use serde::{Deserialize, Serialize};

/// The critic's rule and, in the simulation, what it will say.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CriticPolicy {
    /// Answers scoring below this (out of 10) are revised.
    pub threshold: u8,
    /// The simulated critic's score for the first draft.
    pub draft_score: u8,
    /// The simulated critic's score for the revision.
    pub revised_score: u8,
}

impl CriticPolicy {
    /// The most revisions an answer ever gets.
    pub const MAX_REVISIONS: u32 = 1;

    /// Checks every score is 0 to 10.
    pub fn validate(self) -> Result<Self, ConfigError> {
        for (field, v) in [
            ("critic_threshold", self.threshold),
            ("draft_score", self.draft_score),
            ("revised_score", self.revised_score),
        ] {
            if v > 10 {
                return Err(ConfigError::new(
                    field,
                    format!("must be 0 to 10 (got {v})"),
                ));
            }
        }
        Ok(self)
    }

    /// The critic's score for revision number `revision` (0 for the draft).
    pub const fn score(&self, revision: u32) -> u8 {
        if revision == 0 {
            self.draft_score
        } else {
            self.revised_score
        }
    }

    /// Does an answer with `score`, after `revisions` revisions, get revised again?
    pub const fn revise(&self, score: u8, revisions: u32) -> bool {
        score < self.threshold && revisions < Self::MAX_REVISIONS
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn revises_below_the_threshold_once_and_never_more() {
        let c = CriticPolicy {
            threshold: 9,
            draft_score: 5,
            revised_score: 8,
        };
        assert!(c.revise(c.score(0), 0));
        assert!(!c.revise(c.score(1), 1), "one revision at most");
        assert!(!CriticPolicy { threshold: 5, ..c }.revise(5, 0));
        assert!(CriticPolicy { threshold: 11, ..c }.validate().is_err());
    }
}
