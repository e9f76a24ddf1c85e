//! G. Unknown outcome: a payment retried, with and without idempotency keys.

use crate::agent::Run;
use crate::approval::Approver;
use crate::lab::explain::{but, plural, End, Explanation, Reading};
use crate::lab::{Card, CardId, Settings, Setup};
use crate::model::{Behaviour, ModelSpec};
use crate::sim::SimWorld;
use crate::time::Brief;
use crate::tools::ToolFaults;
use crate::trace::EventKind;

/// The card.
pub const CARD: Card = Card {
    id: CardId::G,
    letter: "G",
    title: "Unknown outcome: a payment retried",
    idea: "The charge went through but the answer was lost; only an idempotency key makes the retry safe.",
    knobs: &[
        "idempotency",
        "timeout",
        "attempts",
        "base_delay",
        "jitter",
        "seed",
        "max_steps",
    ],
    world: &[("first charge's answer", "lost")],
    setup,
    contrast: Some(("the other way", other_way)),
    explain,
    gauges: None,
};

fn setup(s: &Settings) -> Setup {
    // The payment was approved up front: this card is about the retry, not the gate.
    let mut cfg = s.agent_config();
    cfg.approval.approver = Approver::ApproveAll;
    cfg.idempotency = s.idempotency;
    let world = SimWorld {
        tool_faults: ToolFaults { lose_response: 1 },
        ..SimWorld::new(vec![ModelSpec::new("payments", Behaviour::Pay)])
    };
    Setup::new(cfg, world)
}

/// The same payment with idempotency keys switched the other way.
fn other_way(s: &Settings) -> Setup {
    setup(&Settings {
        idempotency: !s.idempotency,
        ..s.clone()
    })
}

fn charges(run: &Run) -> String {
    plural(run.effects.len() as u32, "charge")
}

fn explain(r: &Reading, other: Option<&Run>) -> Explanation {
    let c = &r.run.outcome.counters;
    let lost = r
        .first(|k| {
            matches!(
                k,
                EventKind::Attempt { error: Some(e), .. } if e.kind == crate::error::ErrorKind::Timeout
            )
        })
        .map(|e| e.dur);
    let deduplicated = r.events().any(|e| {
        matches!(
            e.kind,
            EventKind::ToolResult {
                deduplicated: true,
                ..
            }
        )
    });
    let clause = match lost {
        None => None,
        Some(_) if deduplicated => Some(
            "the charge went through but its answer was lost; the retry carried the same idempotency key, so the server answered from memory: charged once"
                .to_string(),
        ),
        Some(_) if c.duplicates > 0 => Some(format!(
            "the charge went through but its answer was lost; the blind retry charged the card again: {} for one payment",
            charges(r.run)
        )),
        Some(after) => Some(format!(
            "the charge went through but its answer was lost (the call timed out after {}); with no retry allowed the agent returned the safe message, not knowing the card was charged",
            Brief(after)
        )),
    };
    let verdict = match (r.end, clause) {
        (End::Answered, Some(c)) => c,
        (End::Degraded(_), Some(c)) if c.contains("no retry allowed") => c,
        (_, Some(c)) => but(c, r),
        (_, None) => r.ended(),
    };
    let mut x = Explanation::new(r.tone(), verdict)
        .fact("charges", r.run.effects.len().to_string())
        .fact("duplicates", c.duplicates.to_string());
    if let Some(other) = other {
        let keys = other.trace.iter().any(|e| {
            matches!(
                e.kind,
                EventKind::ToolResult {
                    deduplicated: true,
                    ..
                }
            )
        });
        let label = if keys || other.effects.len() < r.run.effects.len() {
            "with keys it would be"
        } else {
            "without keys it would be"
        };
        x = x.fact(label, charges(other));
    }
    x
}
