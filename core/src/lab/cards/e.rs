//! E. Timeout: a call that hangs.

use crate::agent::Run;
use crate::error::ErrorKind;
use crate::lab::explain::{but, times_text, End, Explanation, Reading};
use crate::lab::{Card, CardId, Settings, Setup};
use crate::model::{Behaviour, Latency, ModelSpec};
use crate::sim::SimWorld;
use crate::time::{Brief, Micros, MS};

/// How long scenario E's slow call takes: inside the timeout slider's range, so a student can
/// find the point where E stops timing out.
pub const SLOW_CALL: Micros = 1_500 * MS;

/// The card.
pub const CARD: Card = Card {
    id: CardId::E,
    letter: "E",
    title: "Timeout: a call that hangs",
    idea: "A call that takes longer than the timeout is given up on, so the agent never freezes.",
    knobs: &[
        "timeout",
        "attempts",
        "base_delay",
        "jitter",
        "seed",
        "max_steps",
    ],
    world: &[("slow call takes", "1.5s")],
    setup,
    contrast: None,
    explain,
    gauges: None,
};

fn setup(s: &Settings) -> Setup {
    let slow =
        ModelSpec::new("slow", Behaviour::Solve).with_latency(Latency::Fixed { us: SLOW_CALL });
    Setup::new(s.agent_config(), SimWorld::new(vec![slow]))
}

fn explain(r: &Reading, _: Option<&Run>) -> Explanation {
    let timeouts: Vec<_> = r
        .events()
        .filter_map(|e| match &e.kind {
            crate::trace::EventKind::Attempt {
                error: Some(err), ..
            } if err.kind == ErrorKind::Timeout => Some((e, err)),
            _ => None,
        })
        .collect();
    let first_ok = r.model_attempts().position(|(_, _, e)| e.is_none());
    let took = r
        .events()
        .find(|e| matches!(e.kind, crate::trace::EventKind::Attempt { error: None, .. }))
        .map(|e| e.dur);
    let clause = match (timeouts.first(), took) {
        (Some((e, _)), _) if timeouts.len() == 1 => {
            Some(format!("gave up on the hung call after {}", Brief(e.dur)))
        }
        (Some((e, _)), _) => Some(format!(
            "gave up on the hung call {}, each time after {}",
            times_text(timeouts.len() as u32),
            Brief(e.dur)
        )),
        (None, Some(took)) if first_ok.is_some() => Some(format!(
            "the call took {}, within the timeout: nothing was given up on",
            Brief(took)
        )),
        _ => None,
    };
    let verdict = match (r.end, clause) {
        (End::Degraded(_), Some(c)) if !timeouts.is_empty() => {
            format!("{c}, then returned the safe message instead of freezing")
        }
        (End::Answered, Some(c)) if timeouts.is_empty() => c,
        (End::Answered, Some(c)) => format!("{c}, then a retry answered"),
        (_, Some(c)) => but(c, r),
        (_, None) => r.ended(),
    };
    let mut x = Explanation::new(r.tone(), verdict);
    if let Some((_, err)) = timeouts.first() {
        x = x.line(format!("caught: {err}"));
    }
    x
}
