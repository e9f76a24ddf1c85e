//! Fallbacks and graceful degrade.
//!
//! The agent's model calls go down a [`Ladder`]: the primary model, then a backup, then
//! weaker but safer options. The first rung that answers wins; every step down is counted and
//! put in the trace, so a fallback is never silent. When every rung fails the run does not
//! crash: it returns a safe message ([`safe_message`]) and says `degraded: true`.
//!
//! # Default
//! One rung (no fallback): the lab's cards A–F call a single model.

use crate::error::{CallError, ErrorKind};
use crate::ConfigError;
use serde::{Deserialize, Serialize};
use std::borrow::Cow;

/// What the agent says when every option failed because the service is unavailable: the
/// lab's safe message.
pub const SAFE_MESSAGE: &str = "Service unavailable, please try again later.";

/// The safe message for a run whose last error was `error`. An outage (a transient error, an
/// open breaker) gets the lab's [`SAFE_MESSAGE`]: trying later may well work. A permanent
/// error must not promise that: it says what was refused, and that retrying will not help.
pub fn safe_message(error: Option<&CallError>) -> Cow<'static, str> {
    let Some(e) = error.filter(|e| !e.is_transient() && e.kind != ErrorKind::CircuitOpen) else {
        return Cow::Borrowed(SAFE_MESSAGE);
    };
    Cow::Owned(match e.kind {
        ErrorKind::Http(401 | 403) => format!(
            "Sorry, I could not do that: the service refused this agent's credentials ({e}). Trying again will not help; someone has to fix the access."
        ),
        _ => format!(
            "Sorry, I could not do that: the service rejected the request ({e}). Trying again will not help; it has been reported."
        ),
    })
}

/// The options of a fallback ladder, by name, the primary first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ladder {
    rungs: Vec<Cow<'static, str>>,
}

impl Ladder {
    /// The most rungs a ladder may have.
    pub const MAX_RUNGS: usize = 16;

    /// A ladder over `rungs` (at least one).
    pub fn new(rungs: Vec<Cow<'static, str>>) -> Result<Ladder, ConfigError> {
        if rungs.is_empty() || rungs.len() > Self::MAX_RUNGS {
            return Err(ConfigError::new(
                "models",
                format!(
                    "needs 1 to {} models (got {})",
                    Self::MAX_RUNGS,
                    rungs.len()
                ),
            ));
        }
        Ok(Ladder { rungs })
    }

    /// How many rungs.
    pub fn len(&self) -> usize {
        self.rungs.len()
    }

    /// Never true: a ladder has at least one rung.
    pub fn is_empty(&self) -> bool {
        self.rungs.is_empty()
    }

    /// The name of rung `i` (the last rung's when out of range).
    pub fn name(&self, i: usize) -> &str {
        self.rungs
            .get(i)
            .or(self.rungs.last())
            .map(|n| n.as_ref())
            .unwrap_or_default()
    }

    /// The name of rung `i`, cheaply cloned.
    pub fn name_cow(&self, i: usize) -> Cow<'static, str> {
        self.rungs
            .get(i)
            .or(self.rungs.last())
            .cloned()
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_an_outage_promises_that_later_may_work() {
        assert_eq!(safe_message(None), SAFE_MESSAGE);
        assert_eq!(safe_message(Some(&CallError::http(503))), SAFE_MESSAGE);
        let bad = safe_message(Some(&CallError::http(400)));
        assert!(bad.contains("400 Bad Request") && bad.contains("will not help"));
        let key = safe_message(Some(&CallError::http(401)));
        assert!(key.contains("credentials") && !key.contains("try again later"));
    }

    #[test]
    fn a_ladder_needs_a_rung_and_names_each() {
        assert_eq!(Ladder::new(vec![]).unwrap_err().field, "models");
        let l = Ladder::new(vec!["primary".into(), "backup".into()]).unwrap();
        assert_eq!((l.len(), l.name(0), l.name(1)), (2, "primary", "backup"));
    }
}
