//! I. Escalation: hand off with a ticket.

use crate::agent::Run;
use crate::error::CallError;
use crate::escalation::EscalationPolicy;
use crate::lab::explain::{plural, times_text, End, Explanation, Reading};
use crate::lab::{Card, CardId, Settings, Setup};
use crate::model::{Behaviour, Faults, ModelSpec};
use crate::sim::SimWorld;
use crate::time::Brief;
use crate::trace::Target;

/// The card.
pub const CARD: Card = Card {
    id: CardId::I,
    letter: "I",
    title: "Escalation: hand off with a ticket",
    idea: "When the same error keeps coming back, stop retrying and give a human everything they need.",
    knobs: &["escalate_after", "attempts", "base_delay", "jitter", "seed"],
    world: &[("primary and backup", "503 every call")],
    setup,
    contrast: None,
    explain,
    gauges: None,
};

fn setup(s: &Settings) -> Setup {
    let mut cfg = s.agent_config();
    cfg.escalation = Some(EscalationPolicy {
        after: s.escalate_after,
    });
    let down = |name| {
        ModelSpec::new(name, Behaviour::Solve).with_faults(Faults::Always {
            error: CallError::http(503),
        })
    };
    Setup::new(cfg, SimWorld::new(vec![down("primary"), down("backup")]))
}

fn explain(r: &Reading, _: Option<&Run>) -> Explanation {
    let verdict = match r.end {
        End::Escalated {
            error,
            times,
            target,
            ticket,
        } => format!(
            "the same {error} came from {target} {}: the agent stopped at {} and handed off to a human with ticket {ticket}",
            times_text(times),
            Brief(r.run.outcome.elapsed)
        ),
        End::Degraded(_) => {
            // How many of the same error each model returned.
            let mut per: Vec<(&Target, u32)> = Vec::new();
            for (t, _, e) in r.model_attempts() {
                if e.is_some() {
                    match per.iter_mut().find(|(x, _)| *x == t) {
                        Some((_, n)) => *n += 1,
                        None => per.push((t, 1)),
                    }
                }
            }
            let counts: Vec<String> = per
                .iter()
                .map(|(t, n)| format!("{} from {t}", plural(*n, "error")))
                .collect();
            format!(
                "no model returned the same error often enough to escalate ({}), so the run degraded to the safe message without a ticket",
                counts.join(", ")
            )
        }
        _ => r.ended(),
    };
    Explanation::new(r.tone(), verdict)
}
