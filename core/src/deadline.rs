//! Deadlines: give up on a hung call.
//!
//! A call whose (simulated) latency exceeds the timeout is abandoned at the timeout, in virtual
//! time, and reported as a transient "call timed out after Xs" error so that retry can try
//! fresh. A latency exactly equal to the timeout still succeeds.
//!
//! # Default
//! 0.05 s, the lab's timeout. The whole-run wall-time budget lives in [`crate::caps`].

use crate::error::CallError;
use crate::time::{Micros, Secs, MS, SEC};
use crate::ConfigError;
use serde::{Deserialize, Serialize};

/// A per-call timeout.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deadline {
    /// How long the caller waits for one call.
    pub timeout: Micros,
}

impl Default for Deadline {
    fn default() -> Self {
        Deadline::new(50 * MS)
    }
}

impl Deadline {
    /// The shortest timeout allowed (1 ms).
    pub const MIN: Micros = MS;
    /// The longest timeout allowed (10 min).
    pub const MAX: Micros = 600 * SEC;

    /// A deadline of `timeout`.
    pub const fn new(timeout: Micros) -> Self {
        Deadline { timeout }
    }

    /// Checks the timeout is within [`Deadline::MIN`]..=[`Deadline::MAX`].
    pub fn validate(self) -> Result<Self, ConfigError> {
        if self.timeout < Self::MIN || self.timeout > Self::MAX {
            return Err(ConfigError::new(
                "timeout",
                format!(
                    "must be {} to {} (got {})",
                    Secs(Self::MIN),
                    Secs(Self::MAX),
                    Secs(self.timeout)
                ),
            ));
        }
        Ok(self)
    }

    /// Applies the deadline to a call that would take `latency` and end in `result`:
    /// returns how long the caller actually waited, and what it got.
    pub fn apply<T>(
        &self,
        latency: Micros,
        result: Result<T, CallError>,
    ) -> (Micros, Result<T, CallError>) {
        if latency > self.timeout {
            (self.timeout, Err(CallError::timed_out(self.timeout)))
        } else {
            (latency, result)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;

    #[test]
    fn a_slow_call_is_abandoned_at_the_timeout() {
        let d = Deadline::new(50 * MS);
        let (waited, r) = d.apply(SEC, Ok::<u32, CallError>(1));
        assert_eq!(waited, 50 * MS);
        let e = r.unwrap_err();
        assert_eq!(e.kind, ErrorKind::Timeout);
        assert!(e.is_transient());
        assert_eq!(e.to_string(), "call timed out after 0.05s");
    }

    #[test]
    fn a_call_within_the_timeout_is_untouched() {
        let d = Deadline::new(50 * MS);
        assert_eq!(d.apply(50 * MS, Ok::<u32, CallError>(7)), (50 * MS, Ok(7)));
        assert_eq!(
            d.apply(20 * MS, Err::<u32, _>(CallError::http(503))),
            (20 * MS, Err(CallError::http(503)))
        );
    }

    #[test]
    fn out_of_range_timeouts_are_rejected() {
        assert_eq!(Deadline::new(0).validate().unwrap_err().field, "timeout");
        assert!(Deadline::new(5 * SEC).validate().is_ok());
    }
}
