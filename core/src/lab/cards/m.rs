//! M. Scope fallback: one test record first.

use crate::agent::Run;
use crate::approval::{Approver, Decision};
use crate::lab::explain::{but, End, Explanation, Reading};
use crate::lab::{Card, CardId, Settings, Setup};
use crate::model::{Behaviour, ModelSpec};
use crate::scope::ScopePolicy;
use crate::sim::SimWorld;
use crate::tools::ToolCall;

/// The card.
pub const CARD: Card = Card {
    id: CardId::M,
    letter: "M",
    title: "Scope fallback: one test record first",
    idea: "A bulk change touches one test record first and waits for a human before the other 99.",
    knobs: &["scope_confirm", "max_steps"],
    world: &[("update", "100 customer records (pretend)")],
    setup,
    contrast: None,
    explain,
    gauges: None,
};

fn setup(s: &Settings) -> Setup {
    let mut cfg = s.agent_config();
    cfg.scope = Some(ScopePolicy::default());
    cfg.approval.approver = Approver::Ask;
    Setup {
        decision: s.scope_confirm,
        ..Setup::new(
            cfg,
            SimWorld::new(vec![ModelSpec::new("ops", Behaviour::BulkUpdate)]),
        )
    }
}

fn records(call: &ToolCall) -> i64 {
    match call {
        ToolCall::UpdateRecords { count, .. } => *count,
        _ => 0,
    }
}

fn explain(r: &Reading, _: Option<&Run>) -> Explanation {
    let updated: i64 = r.run.effects.iter().map(|e| records(&e.call)).sum();
    let asked: i64 = r
        .events()
        .find_map(|e| match &e.kind {
            crate::trace::EventKind::ToolRequested { call } => Some(records(call)),
            _ => None,
        })
        .unwrap_or(0);
    let rest = asked - updated;
    let verdict = match (r.end, r.decision()) {
        (End::Paused(call), _) => format!(
            "{} test record was updated; the other {} wait for a human to check it and confirm",
            updated,
            records(call)
        ),
        (End::Answered, Some(Decision::Approve)) => format!(
            "a human checked the test record and confirmed: the other {} were updated",
            updated - 1
        ),
        (End::Answered, Some(Decision::Deny)) => {
            format!("a human stopped after the test record: {rest} records were never touched")
        }
        (_, Some(Decision::Approve)) => but(
            format!(
                "a human confirmed and the other {} were updated",
                updated - 1
            ),
            r,
        ),
        _ => r.ended(),
    };
    Explanation::new(r.tone(), verdict).fact("records updated", format!("{updated} of {asked}"))
}
