//! H. Fallback ladder: model, backup, cache, advice.

use crate::agent::Run;
use crate::error::CallError;
use crate::lab::explain::{but, plural, End, Explanation, Reading};
use crate::lab::{Card, CardId, Settings, Setup};
use crate::model::{Behaviour, Faults, ModelSpec};
use crate::sim::SimWorld;
use crate::trace::{EventKind, Target};

/// The rungs of the ladder, top first: (name, behaviour, its answers are degraded).
pub const LADDER: [(&str, Behaviour, bool); 4] = [
    ("primary", Behaviour::Solve, false),
    ("backup (simpler prompt)", Behaviour::Brief, false),
    ("cached answer", Behaviour::Cached, true),
    ("advisory mode", Behaviour::Advisory, true),
];

/// The card.
pub const CARD: Card = Card {
    id: CardId::H,
    letter: "H",
    title: "Fallback ladder: model, backup, cache, advice",
    idea: "Each rung down is weaker but safer, and every step down is counted: fallbacks are never silent.",
    knobs: &["rungs_down", "attempts", "base_delay", "jitter", "seed", "max_steps"],
    world: &[("a rung that is down", "503 every call")],
    setup,
    contrast: None,
    explain,
    gauges: None,
};

fn setup(s: &Settings) -> Setup {
    let models = LADDER
        .iter()
        .enumerate()
        .map(|(i, (name, b, degraded))| {
            let m = ModelSpec::new(name, *b).degraded(*degraded);
            if (i as u32) < s.rungs_down {
                m.with_faults(Faults::Always {
                    error: CallError::http(503),
                })
            } else {
                m
            }
        })
        .collect();
    Setup::new(s.agent_config(), SimWorld::new(models))
}

/// The rung whose call last worked.
fn answered_by<'a>(r: &Reading<'a>) -> Option<&'a str> {
    r.model_attempts()
        .filter(|(_, _, e)| e.is_none())
        .last()
        .map(|(t, _, _)| match t {
            Target::Model(n) | Target::Tool(n) => n.as_ref(),
        })
}

fn explain(r: &Reading, _: Option<&Run>) -> Explanation {
    let fallbacks = r.run.outcome.counters.fallbacks;
    let down: Vec<String> = r
        .events()
        .filter_map(|e| match &e.kind {
            EventKind::Fallback { from, .. } => Some(from.to_string()),
            _ => None,
        })
        .collect();
    let by = answered_by(r);
    let clause = by.map(|rung| match fallbacks {
        0 => format!("the {rung} worked; no fallback was needed"),
        _ => format!(
            "{} down, so the {rung} answered ({} counted and logged)",
            down.join(", "),
            plural(fallbacks, "fallback")
        ),
    });
    let verdict = match (r.end, clause) {
        (End::Answered, Some(c)) => {
            if r.run.outcome.degraded {
                format!("{c}: a degraded answer, and it says so (degraded: True)")
            } else {
                c
            }
        }
        (End::Degraded(_), _) => {
            let last = r
                .model_attempts()
                .last()
                .map(|(t, _, _)| match t {
                    Target::Model(n) | Target::Tool(n) => n.to_string(),
                })
                .unwrap_or_default();
            format!(
                "every rung failed ({} and {last}): the agent stopped with the safe message",
                down.join(", ")
            )
        }
        (_, Some(c)) => but(c, r),
        (_, None) => r.ended(),
    };
    Explanation::new(r.tone(), verdict)
        .fact(
            "answered by",
            match r.end {
                End::Answered => by.unwrap_or("none").to_string(),
                _ => "none".to_string(),
            },
        )
        .fact("fallbacks used", fallbacks.to_string())
}
