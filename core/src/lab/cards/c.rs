//! C. Graceful degrade: the model is down.

use crate::agent::Run;
use crate::error::CallError;
use crate::lab::explain::{attempts_failed, End, Explanation, Reading};
use crate::lab::{Card, CardId, Settings, Setup};
use crate::model::{Behaviour, Faults, ModelSpec};
use crate::sim::SimWorld;

/// The card.
pub const CARD: Card = Card {
    id: CardId::C,
    letter: "C",
    title: "Graceful degrade: the model is down",
    idea: "When every try fails, the agent answers with a calm safe message instead of crashing.",
    knobs: &["attempts", "base_delay", "jitter", "seed"],
    world: &[("model", "down: every call 503")],
    setup,
    contrast: None,
    explain,
    gauges: None,
};

fn setup(s: &Settings) -> Setup {
    let down = ModelSpec::new("down", Behaviour::Solve).with_faults(Faults::Always {
        error: CallError::http(503),
    });
    Setup::new(s.agent_config(), SimWorld::new(vec![down]))
}

fn explain(r: &Reading, _: Option<&Run>) -> Explanation {
    let verdict = match r.end {
        End::Degraded(Some(error)) => format!(
            "the model was down: {} with {error}, so the agent returned the safe message instead of crashing",
            attempts_failed(r.failures() as u32)
        ),
        _ => r.ended(),
    };
    Explanation::new(r.tone(), verdict)
}
