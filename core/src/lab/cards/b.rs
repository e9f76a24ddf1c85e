//! B. Step cap: a model that loops for ever.

use crate::agent::Run;
use crate::caps::CapKind;
use crate::lab::explain::{plural, End, Explanation, Reading};
use crate::lab::{Card, CardId, Settings, Setup};
use crate::model::{Behaviour, ModelSpec};
use crate::sim::SimWorld;

/// The card.
pub const CARD: Card = Card {
    id: CardId::B,
    letter: "B",
    title: "Step cap: a model that loops for ever",
    idea: "A hard cap on steps stops a runaway loop before it burns unlimited tokens.",
    knobs: &["max_steps"],
    world: &[("model", "asks for a tool every step")],
    setup,
    contrast: None,
    explain,
    gauges: None,
};

fn setup(s: &Settings) -> Setup {
    Setup::new(
        s.agent_config(),
        SimWorld::new(vec![ModelSpec::new("looping", Behaviour::Loop)]),
    )
}

fn explain(r: &Reading, _: Option<&Run>) -> Explanation {
    let verdict = match r.end {
        End::Cap(hit, _) if hit.cap == CapKind::Steps => format!(
            "the step cap stopped a runaway loop at step {} (max_steps {}): {} and {}, then no more",
            hit.used,
            hit.limit,
            plural(r.run.outcome.counters.model_calls, "model call"),
            plural(r.run.outcome.counters.tool_calls, "tool call")
        ),
        _ => r.ended(),
    };
    Explanation::new(r.tone(), verdict)
}
