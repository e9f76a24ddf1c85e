//! A. Retry: a flaky model fails, then works.

use crate::agent::Run;
use crate::error::CallError;
use crate::lab::explain::{
    attempts_failed, but, waits_list, waits_text, End, Explanation, Reading,
};
use crate::lab::{Card, CardId, Settings, Setup};
use crate::model::{Behaviour, Faults, ModelSpec};
use crate::sim::SimWorld;

/// The card.
pub const CARD: Card = Card {
    id: CardId::A,
    letter: "A",
    title: "Retry: a flaky model fails, then works",
    idea: "Transient errors are retried, waiting longer each time, so a blip does not become a failure.",
    knobs: &["failures", "attempts", "base_delay", "jitter", "seed", "max_steps"],
    world: &[("model fails with", "503")],
    setup,
    contrast: None,
    explain,
    gauges: None,
};

fn setup(s: &Settings) -> Setup {
    let model = ModelSpec::new("flaky", Behaviour::Solve).with_faults(Faults::FailFirst {
        count: s.failures,
        error: CallError::http(503),
    });
    Setup::new(s.agent_config(), SimWorld::new(vec![model]))
}

/// What retry did with the model calls: "retry recovered on attempt 3 after waiting 0.5s and
/// 1.0s", or `None` when no call failed.
pub fn retry_clause(r: &Reading) -> Option<String> {
    let failed = r.model_attempts().filter(|(_, _, e)| e.is_some()).count();
    if failed == 0 {
        return None;
    }
    let recovered = r
        .model_attempts()
        .find(|(_, n, e)| e.is_none() && *n > 1)
        .map(|(_, n, _)| n);
    Some(match recovered {
        Some(n) => format!(
            "retry recovered on attempt {n} after waiting {}",
            waits_text(&r.waits())
        ),
        None => format!(
            "{} with {}",
            attempts_failed(failed as u32),
            r.first_error().map(|e| e.to_string()).unwrap_or_default()
        ),
    })
}

fn explain(r: &Reading, _: Option<&Run>) -> Explanation {
    let tone = r.tone();
    let verdict = match (r.end, retry_clause(r)) {
        (End::Answered, None) => {
            "the first attempt worked: nothing failed, so there was nothing to retry".to_string()
        }
        (End::Answered, Some(clause)) => clause,
        (End::Degraded(_), Some(clause)) => format!(
            "{clause}, so retry could not recover it: the agent returned the safe message instead of crashing"
        ),
        (_, Some(clause)) => but(clause, r),
        (_, None) => r.ended(),
    };
    let mut x = Explanation::new(tone, verdict);
    if !r.waits().is_empty() {
        x = x.line(format!("backoff waits: {}", waits_list(&r.waits())));
    }
    x
}
