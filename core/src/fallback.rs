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

/// One option of a fallback ladder.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rung {
    /// Its name in traces ("primary", "backup", ...).
    pub name: Cow<'static, str>,
    /// Its answers are less than the user asked for (a stale cache, advice): a run it
    /// answers says `degraded: true`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub degraded: bool,
}

impl Rung {
    /// A rung whose answers are real answers.
    pub fn new(name: impl Into<Cow<'static, str>>) -> Rung {
        Rung {
            name: name.into(),
            degraded: false,
        }
    }
}

/// The options of a fallback ladder, the primary first: 1 to [`Ladder::MAX_RUNGS`], kept
/// inline (every agent run has one, and a run should not pay an allocation for it).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ladder {
    names: [Cow<'static, str>; Ladder::MAX_RUNGS],
    len: u8,
    /// Bit `i` set: rung `i`'s answers are degraded.
    degraded: u8,
}

impl Ladder {
    /// The most rungs a ladder may have: model, backup, cache, advice.
    pub const MAX_RUNGS: usize = 4;

    /// A ladder over `rungs` (1 to [`Ladder::MAX_RUNGS`]).
    pub fn new(rungs: impl IntoIterator<Item = Rung>) -> Result<Ladder, ConfigError> {
        let mut ladder = Ladder {
            names: Default::default(),
            len: 0,
            degraded: 0,
        };
        let mut n = 0;
        for rung in rungs {
            if let Some(slot) = ladder.names.get_mut(n) {
                *slot = rung.name;
                ladder.degraded |= (rung.degraded as u8) << n;
            }
            n += 1;
        }
        if n == 0 || n > Self::MAX_RUNGS {
            return Err(ConfigError::new(
                "models",
                format!("needs 1 to {} models (got {n})", Self::MAX_RUNGS),
            ));
        }
        ladder.len = n as u8;
        Ok(ladder)
    }

    /// How many rungs.
    pub fn len(&self) -> usize {
        self.len as usize
    }

    /// Never true: a ladder has at least one rung.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Rung `i`, or the last rung when out of range.
    fn index(&self, i: usize) -> usize {
        i.min(self.len().saturating_sub(1))
    }

    /// The name of rung `i` (the last rung's when out of range).
    pub fn name(&self, i: usize) -> &str {
        self.names
            .get(self.index(i))
            .map(|n| n.as_ref())
            .unwrap_or_default()
    }

    /// The name of rung `i`, cheaply cloned.
    pub fn name_cow(&self, i: usize) -> Cow<'static, str> {
        self.names.get(self.index(i)).cloned().unwrap_or_default()
    }

    /// Are rung `i`'s answers degraded?
    pub fn degraded(&self, i: usize) -> bool {
        self.degraded & (1 << self.index(i)) != 0
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
        let l = Ladder::new(vec![Rung::new("primary"), Rung::new("backup")]).unwrap();
        assert_eq!((l.len(), l.name(0), l.name(1)), (2, "primary", "backup"));
    }
}
