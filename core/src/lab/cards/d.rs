//! D. Approval gate: a risky action.

use crate::agent::Run;
use crate::approval::{Approver, Decision};
use crate::lab::explain::{but, End, Explanation, Reading};
use crate::lab::{Card, CardId, Settings, Setup};
use crate::model::{Behaviour, ModelSpec};
use crate::sim::SimWorld;

/// The card.
pub const CARD: Card = Card {
    id: CardId::D,
    letter: "D",
    title: "Approval gate: a risky action",
    idea: "Safe tools run freely; a world-changing tool waits for a human yes, and is denied by default.",
    knobs: &["approval", "max_steps"],
    world: &[("send_email", "risky (pretend)")],
    setup,
    contrast: Some(("default (deny)", default_deny)),
    explain,
    gauges: None,
};

fn world() -> SimWorld {
    SimWorld::new(vec![ModelSpec::new("risky", Behaviour::Risky)])
}

fn setup(s: &Settings) -> Setup {
    // The card asks a human: the run pauses at the gate until the decision comes.
    let mut cfg = s.agent_config();
    cfg.approval.approver = Approver::Ask;
    Setup {
        decision: s.approval,
        ..Setup::new(cfg, world())
    }
}

/// Nobody to ask: the default approver denies every risky tool.
fn default_deny(s: &Settings) -> Setup {
    Setup::new(s.agent_config(), world())
}

fn explain(r: &Reading, deny: Option<&Run>) -> Explanation {
    let ran = !r.run.effects.is_empty();
    let verdict = match (r.end, r.decision()) {
        (End::Paused(call), _) => format!(
            "{} is risky: the run is paused until a human approves or denies it (deny by default)",
            call.kind().name()
        ),
        (End::Answered, Some(Decision::Approve)) if ran => {
            "a human approved, so send_email ran (pretend: nothing was sent) and blocked is empty"
                .to_string()
        }
        (End::Answered, Some(Decision::Deny)) => {
            "a human denied send_email: it was blocked, and the agent answered without sending"
                .to_string()
        }
        (_, Some(Decision::Approve)) if ran => but(
            "a human approved and send_email ran (pretend)".to_string(),
            r,
        ),
        _ => r.ended(),
    };
    let mut x = Explanation::new(r.tone(), verdict);
    if let Some(deny) = deny {
        x = x.line(format!("default (deny): {}", deny.outcome.lab_repr()));
    }
    // The handout's second line: what the human's answer did.
    let label = match (r.end, r.decision()) {
        (End::Paused(_), _) => None,
        (_, Some(Decision::Approve)) => Some("human approves"),
        (_, Some(Decision::Deny)) => Some("human denies"),
        _ => None,
    };
    match label {
        Some(label) => x.line(format!("{label}: {}", r.run.outcome.lab_repr())),
        None => x,
    }
}
