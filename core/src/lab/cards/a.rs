//! A. Retry: a flaky model fails, then works.

use crate::agent::Run;
use crate::error::CallError;
use crate::lab::explain::{
    attempts_failed, but, waits_list, waits_text, End, Explanation, Reading,
};
use crate::lab::{Card, CardId, Settings, Setup};
use crate::model::{Behaviour, Faults, ModelSpec};
use crate::sim::SimWorld;
use crate::trace::{EventKind, GiveUp};

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
        None if r
            .first(|k| {
                matches!(
                    k,
                    EventKind::GaveUp {
                        reason: GiveUp::NotTransient,
                        ..
                    }
                )
            })
            .is_some() =>
        {
            let tries = if failed == 1 {
                "the first attempt failed".to_string()
            } else {
                attempts_failed(failed as u32)
            };
            format!(
                "{tries}{}, an error that fails the same way every time, so it was not retried",
                failed_with(r)
            )
        }
        None => format!("{}{}", attempts_failed(failed as u32), failed_with(r)),
    })
}

/// " with E" when every failed model attempt failed the same way, else each way and how
/// often, in the order they first happened (": 1 with E1, 2 with E2").
fn failed_with(r: &Reading) -> String {
    let mut seen: Vec<(String, usize)> = Vec::new();
    for (_, _, e) in r.model_attempts() {
        if let Some(e) = e {
            let text = e.to_string();
            match seen.iter_mut().find(|(t, _)| *t == text) {
                Some((_, n)) => *n += 1,
                None => seen.push((text, 1)),
            }
        }
    }
    match seen.as_slice() {
        [(only, _)] => format!(" with {only}"),
        many => {
            let parts: Vec<String> = many.iter().map(|(t, n)| format!("{n} with {t}")).collect();
            format!(": {}", parts.join(", "))
        }
    }
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
