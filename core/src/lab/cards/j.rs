//! J. Budgets: turns, tokens, cost, wall time.

use crate::agent::{Run, Stop};
use crate::caps::{fmt_usd, CapKind, Caps};
use crate::lab::explain::{End, Explanation, Gauge, Reading};
use crate::lab::{Card, CardId, Settings, Setup};
use crate::model::{Behaviour, ModelSpec};
use crate::sim::SimWorld;
use crate::time::{Brief, Secs};

/// The card.
pub const CARD: Card = Card {
    id: CardId::J,
    letter: "J",
    title: "Budgets: turns, tokens, cost, wall time",
    idea: "Four caps on one runaway agent: whichever is reached first stops it, and says which.",
    knobs: &["max_turns", "max_tokens", "max_cost", "max_wall"],
    world: &[("model", "loops for ever")],
    setup,
    contrast: None,
    explain,
    gauges: Some(gauges),
};

fn setup(s: &Settings) -> Setup {
    let mut cfg = s.agent_config();
    cfg.caps = Caps {
        max_steps: s.max_turns,
        max_tokens: s.max_tokens,
        max_cost: s.max_cost,
        max_wall: s.max_wall,
    };
    Setup::new(
        cfg,
        SimWorld::new(vec![ModelSpec::new("looping", Behaviour::Loop)]),
    )
}

fn name(cap: CapKind) -> &'static str {
    match cap {
        CapKind::Steps => "turn",
        CapKind::Tokens => "token",
        CapKind::Cost => "cost",
        CapKind::WallTime => "wall-time",
    }
}

fn explain(r: &Reading, _: Option<&Run>) -> Explanation {
    let verdict = match r.end {
        End::Cap(hit, at) => {
            let steps = r.run.outcome.steps;
            match hit.cap {
                // The turn cap is the step cap: say it in the card's words.
                CapKind::Steps => format!(
                    "the turn cap fired first: the run stopped at turn {} (cap {})",
                    hit.used, hit.limit
                ),
                CapKind::Tokens => format!(
                    "the token cap fired first, at step {steps}: {} tokens used of {}",
                    hit.used, hit.limit
                ),
                CapKind::Cost => format!(
                    "the cost cap fired first, at step {steps}: {} spent of {}",
                    fmt_usd(hit.used),
                    fmt_usd(hit.limit)
                ),
                CapKind::WallTime => format!(
                    "the wall-time cap fired first, at step {steps}: the run stopped at {}, its budget of {} used up",
                    Brief(at),
                    Brief(hit.limit)
                ),
            }
        }
        _ => r.ended(),
    };
    Explanation::new(r.tone(), verdict)
}

/// How much of each configured budget the run used.
fn gauges(s: &Settings, run: &Run) -> Vec<Gauge> {
    let o = &run.outcome;
    let fired = match o.stop {
        Stop::Cap(cap) => Some(cap),
        _ => None,
    };
    let g = |cap: CapKind, used: u64, limit: u64, show: &dyn Fn(u64) -> String| Gauge {
        name: name(cap).to_string(),
        used,
        limit,
        used_text: show(used),
        limit_text: show(limit),
        fired: fired == Some(cap),
    };
    let count = |n: u64| n.to_string();
    let usd = |n: u64| fmt_usd(n);
    let secs = |n: u64| Secs(n).to_string();
    vec![
        // The refused step is counted in `steps` but never ran.
        g(
            CapKind::Steps,
            (o.steps as u64).min(s.max_turns as u64),
            s.max_turns as u64,
            &count,
        ),
        g(CapKind::Tokens, o.counters.tokens, s.max_tokens, &count),
        g(CapKind::Cost, o.counters.cost, s.max_cost, &usd),
        g(CapKind::WallTime, o.elapsed, s.max_wall, &secs),
    ]
}
