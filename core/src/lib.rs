//! # reliability-core
//!
//! Deterministic, virtual-time agent-reliability policies, and a simulated agent that uses them.
//!
//! The crate is sans-I/O: it never reads a clock, never sleeps, never spawns a thread and never
//! draws from an OS random source. Virtual time and seeds come in as inputs; a run comes out as a
//! value ([`agent::Run`]): an outcome plus an ordered event trace that round-trips through JSON.
//! The same inputs always give the same run, natively and in WebAssembly.
//!
//! One module per pattern, each with its defaults documented and its config validated:
//!
//! | module | pattern |
//! |---|---|
//! | [`retry`] | retry with exponential backoff and seeded jitter; only transient errors |
//! | [`deadline`] | per-call timeout in virtual time |
//! | [`fallback`] | options in order; the safe message when all fail |
//! | [`caps`] | step, token, cost and wall-time caps |
//! | [`approval`] | the human-approval gate for risky tools |
//! | [`breaker`] | circuit breaker: closed, open, half-open |
//! | [`idempotency`] | keys so a retried write happens once |
//! | [`escalation`] | stop on a repeating error, with a handoff packet |
//! | [`killswitch`] | one flag that stops every run within a step |
//! | [`scope`] | a bulk write runs on a sample first, then waits for a confirm |
//! | [`evaluator`] | a critic grades the answer; one revision at most |
//! | [`tools`] | tool validation at the boundary and the pretend world |
//! | [`challenge`] | a goal to tune a policy to, scored over seeded requests; a result link anyone can re-check |
//!
//! [`agent`] composes them all in one loop; [`model`] simulates the model clients;
//! [`sim`] is the simulator that drives it; [`lab`] holds the lab's settings (one table of
//! knobs) and its cards A–N, each in its own module, explained from its run alone;
//! [`timeline`] lays a run out for drawing; [`observe`] computes metrics and a structured log
//! over many runs; [`tracefile`] saves, reads and replays runs; [`stats`] runs thousands of
//! seeded requests for what-if statistics and policy A/B; [`challenge`] turns them into
//! exercises (a fault model and goals, a policy scored over seeded requests, links that share
//! a result anyone can re-check); [`herd`] re-creates the thundering herd experiment;
//! [`amplify`] multiplies nested retry layers.
//!
//! ```
//! use reliability_core::lab::{run_card, CardId, Settings};
//! let card = run_card(CardId::A, &Settings::default());
//! assert_eq!(card.run.outcome.answer, "The answer is 391.");
//! assert_eq!(card.run.outcome.steps, 2);
//! assert_eq!(card.verdict(), "retry recovered on attempt 3 after waiting 0.5s and 1.0s");
//! ```

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod agent;
pub mod amplify;
pub mod approval;
pub mod breaker;
pub mod caps;
pub mod challenge;
pub mod deadline;
pub mod demo;
pub mod error;
pub mod escalation;
pub mod evaluator;
pub mod fallback;
pub mod herd;
pub mod idempotency;
pub mod json;
pub mod killswitch;
pub mod lab;
pub mod live;
pub mod model;
pub mod num;
pub mod observe;
pub mod recorded;
pub mod retry;
pub mod rng;
pub mod scope;
pub mod sim;
pub mod stats;
pub mod time;
pub mod timeline;
pub mod tools;
pub mod trace;
pub mod tracefile;

use std::fmt;

/// `s` in double quotes, with `"` and `\` escaped: how the lab shows a value it was given.
/// (Unlike `{:?}`, this keeps the Unicode tables of Rust's debug formatting out of the page.)
pub fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

/// A configuration value out of range: which field, and what it must be.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigError {
    /// The field, as named in links and settings (`attempts`, `timeout`, ...).
    pub field: &'static str,
    /// What it must be, and what it was.
    pub problem: String,
}

impl ConfigError {
    /// A problem with `field`.
    pub fn new(field: &'static str, problem: String) -> Self {
        ConfigError { field, problem }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.field, self.problem)
    }
}

impl std::error::Error for ConfigError {}
