//! What can go wrong with a call, and the retry decision for each kind.
//!
//! Errors are classified by a small predicate ([`ErrorKind::is_transient`]), never by catching
//! everything: a 503 is worth another try, a 400 never is. [`ErrorKind::decision`] is the full
//! decision table (retry? backoff? alert a human?) that card L of the lab shows.

use crate::time::{Micros, Secs};
use serde::{Deserialize, Serialize};
use std::fmt;

/// The kind of a failed call.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// An HTTP status from the service (429, 500, 503, 400, 401, ...).
    Http(u16),
    /// The caller gave up waiting (see [`crate::deadline`]).
    Timeout,
    /// The connection failed before any answer.
    Network,
    /// The model asked for a tool with arguments that failed validation.
    InvalidArgs,
    /// The model asked for a tool that does not exist.
    UnknownTool,
    /// The circuit breaker is open: the call was not made at all.
    CircuitOpen,
    /// Nobody answered the approval gate before its deadline.
    ApprovalTimeout,
    /// The service answered, but its reply could not be read (cut short, not JSON).
    BadReply,
}

/// When a human should hear about an error.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Alert {
    /// No alert.
    No,
    /// Worth a look if it becomes frequent.
    Maybe,
    /// Only if the same error repeats.
    IfRepeated,
    /// Only if it persists after the retries.
    IfPersistent,
    /// Always: retrying cannot fix it, someone has to.
    Yes,
}

impl fmt::Display for Alert {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Alert::No => "no",
            Alert::Maybe => "maybe",
            Alert::IfRepeated => "if repeated",
            Alert::IfPersistent => "if persistent",
            Alert::Yes => "yes",
        })
    }
}

/// One row of the retry decision table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decision {
    /// Is the call tried again?
    pub retry: bool,
    /// Does the next try wait, longer each time?
    pub backoff: bool,
    /// When does a human hear about it?
    pub alert: Alert,
}

impl ErrorKind {
    /// Transient errors may succeed on another try: 429, 5xx (500, 502, 503, 504 and the
    /// Messages API's 529 "overloaded"), timeouts and network errors. Everything else (400,
    /// 401, 403, 404, invalid tool arguments, an open breaker) fails the same way every time,
    /// so it is never retried. This is the `retry` column of [`ErrorKind::decision`]: one rule.
    pub const fn is_transient(self) -> bool {
        self.decision().retry
    }

    /// Does this error say the service itself is unwell? Server errors, 429 (it is overloaded
    /// for us), timeouts and network errors do, and count towards opening a circuit breaker.
    /// A client error (400, 401, 403, 404, bad arguments) says the *request* was wrong: the
    /// service answered it, so it does not count.
    pub const fn blames_the_service(self) -> bool {
        matches!(
            self,
            ErrorKind::Http(429 | 500..=599)
                | ErrorKind::Timeout
                | ErrorKind::Network
                | ErrorKind::BadReply
        )
    }

    /// The decision table: retry, backoff and alert for this kind of error.
    pub const fn decision(self) -> Decision {
        let (retry, alert) = match self {
            ErrorKind::Http(429) => (true, Alert::IfPersistent),
            ErrorKind::Http(500 | 502 | 503 | 504 | 529) => (true, Alert::Maybe),
            ErrorKind::Timeout | ErrorKind::Network | ErrorKind::BadReply => {
                (true, Alert::IfRepeated)
            }
            ErrorKind::Http(401 | 403) => (false, Alert::Yes),
            ErrorKind::Http(404) => (false, Alert::Maybe),
            ErrorKind::Http(_) => (false, Alert::Yes),
            ErrorKind::InvalidArgs | ErrorKind::UnknownTool => (false, Alert::Yes),
            ErrorKind::CircuitOpen => (false, Alert::No),
            ErrorKind::ApprovalTimeout => (false, Alert::Yes),
        };
        Decision {
            retry,
            backoff: retry,
            alert,
        }
    }

    /// A short label for tables and logs: `503`, `timeout`, `invalid_args`.
    pub fn label(self) -> String {
        match self {
            ErrorKind::Http(code) => code.to_string(),
            ErrorKind::Timeout => "timeout".into(),
            ErrorKind::Network => "network".into(),
            ErrorKind::InvalidArgs => "invalid_args".into(),
            ErrorKind::UnknownTool => "unknown_tool".into(),
            ErrorKind::CircuitOpen => "circuit_open".into(),
            ErrorKind::ApprovalTimeout => "approval_timeout".into(),
            ErrorKind::BadReply => "bad_reply".into(),
        }
    }
}

/// The reason phrase of the HTTP statuses the lab uses.
pub fn reason_phrase(code: u16) -> &'static str {
    match code {
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        529 => "Overloaded",
        _ => "Error",
    }
}

/// A failed call: its kind plus what the message needs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallError {
    /// What went wrong.
    pub kind: ErrorKind,
    /// For a timeout: how long the caller waited before giving up.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<Micros>,
    /// For a 429: the server's Retry-After hint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<Micros>,
    /// For invalid tool arguments: which argument and why.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

impl CallError {
    /// An error of `kind` with nothing more to say.
    pub const fn new(kind: ErrorKind) -> Self {
        CallError {
            kind,
            after: None,
            retry_after: None,
            detail: None,
        }
    }

    /// An HTTP status.
    pub const fn http(code: u16) -> Self {
        CallError::new(ErrorKind::Http(code))
    }

    /// A 429 with a Retry-After hint.
    pub const fn rate_limited(retry_after: Micros) -> Self {
        CallError {
            kind: ErrorKind::Http(429),
            after: None,
            retry_after: Some(retry_after),
            detail: None,
        }
    }

    /// The caller gave up after `after`.
    pub const fn timed_out(after: Micros) -> Self {
        CallError {
            kind: ErrorKind::Timeout,
            after: Some(after),
            retry_after: None,
            detail: None,
        }
    }

    /// Invalid tool arguments, with the reason.
    pub fn invalid_args(detail: impl Into<String>) -> Self {
        CallError {
            detail: Some(detail.into()),
            ..CallError::new(ErrorKind::InvalidArgs)
        }
    }

    /// See [`ErrorKind::is_transient`].
    pub const fn is_transient(&self) -> bool {
        self.kind.is_transient()
    }
}

impl fmt::Display for CallError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            ErrorKind::Http(code) => {
                write!(f, "{code} {}", reason_phrase(code))?;
                if let Some(ra) = self.retry_after {
                    write!(f, " (Retry-After {})", Secs(ra))?;
                }
                if let Some(d) = &self.detail {
                    write!(f, ": {d}")?;
                }
                Ok(())
            }
            ErrorKind::Timeout => match self.after {
                Some(after) => write!(f, "call timed out after {}", Secs(after)),
                None => f.write_str("call timed out"),
            },
            ErrorKind::Network => match &self.detail {
                Some(d) => write!(f, "network error: {d}"),
                None => f.write_str("network error: connection reset"),
            },
            ErrorKind::BadReply => match &self.detail {
                Some(d) => write!(f, "the reply could not be read: {d}"),
                None => f.write_str("the reply could not be read"),
            },
            ErrorKind::InvalidArgs => match &self.detail {
                Some(d) => write!(f, "invalid tool arguments: {d}"),
                None => f.write_str("invalid tool arguments"),
            },
            ErrorKind::UnknownTool => match &self.detail {
                Some(d) => write!(f, "unknown tool: {d}"),
                None => f.write_str("unknown tool"),
            },
            ErrorKind::CircuitOpen => f.write_str("circuit open: failing fast without calling"),
            ErrorKind::ApprovalTimeout => match &self.detail {
                Some(d) => f.write_str(d),
                None => f.write_str("nobody answered the approval request in time"),
            },
        }
    }
}

impl std::error::Error for CallError {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::MS;

    #[test]
    fn only_transient_errors_are_retried() {
        for code in [429, 500, 502, 503, 504] {
            assert!(ErrorKind::Http(code).is_transient(), "{code}");
        }
        assert!(ErrorKind::Timeout.is_transient());
        assert!(ErrorKind::Network.is_transient());
        for code in [400, 401, 403, 404] {
            assert!(!ErrorKind::Http(code).is_transient(), "{code}");
        }
        assert!(!ErrorKind::InvalidArgs.is_transient());
        assert!(!ErrorKind::CircuitOpen.is_transient());
    }

    #[test]
    fn transient_is_the_decision_tables_retry_column() {
        let kinds = (100..=599).map(ErrorKind::Http).chain([
            ErrorKind::Timeout,
            ErrorKind::Network,
            ErrorKind::InvalidArgs,
            ErrorKind::UnknownTool,
            ErrorKind::CircuitOpen,
            ErrorKind::ApprovalTimeout,
        ]);
        for kind in kinds {
            assert_eq!(kind.is_transient(), kind.decision().retry, "{kind:?}");
        }
        assert!(ErrorKind::Http(529).is_transient(), "the API's overloaded");
    }

    #[test]
    fn client_errors_do_not_blame_the_service() {
        for code in [400, 401, 403, 404, 422] {
            assert!(!ErrorKind::Http(code).blames_the_service(), "{code}");
        }
        for code in [429, 500, 503, 529] {
            assert!(ErrorKind::Http(code).blames_the_service(), "{code}");
        }
        assert!(ErrorKind::Timeout.blames_the_service());
        assert!(!ErrorKind::InvalidArgs.blames_the_service());
    }

    #[test]
    fn decision_table_matches_the_article() {
        let d = ErrorKind::Http(400).decision();
        assert!(!d.retry && !d.backoff && d.alert == Alert::Yes);
        let d = ErrorKind::Http(500).decision();
        assert!(d.retry && d.backoff && d.alert == Alert::Maybe);
        assert_eq!(ErrorKind::Timeout.decision().alert, Alert::IfRepeated);
        assert_eq!(ErrorKind::Http(429).decision().alert, Alert::IfPersistent);
        assert_eq!(ErrorKind::Network.decision().alert, Alert::IfRepeated);
    }

    #[test]
    fn messages_read_like_the_lab() {
        assert_eq!(
            CallError::timed_out(50 * MS).to_string(),
            "call timed out after 0.05s"
        );
        assert_eq!(CallError::http(503).to_string(), "503 Service Unavailable");
        assert_eq!(
            CallError::rate_limited(2_000 * MS).to_string(),
            "429 Too Many Requests (Retry-After 2.0s)"
        );
    }
}
