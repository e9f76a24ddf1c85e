//! N. Evaluator-optimizer: a critic grades; revise once, never more.

use crate::agent::Run;
use crate::evaluator::CriticPolicy;
use crate::lab::explain::{but, End, Explanation, Reading};
use crate::lab::{Card, CardId, Settings, Setup};
use crate::model::{Behaviour, ModelSpec};
use crate::sim::SimWorld;
use crate::trace::EventKind;

/// What the simulated critic scores the draft.
pub const DRAFT_SCORE: u8 = 5;
/// What it scores the revision.
pub const REVISED_SCORE: u8 = 8;

/// The card.
pub const CARD: Card = Card {
    id: CardId::N,
    letter: "N",
    title: "Evaluator-optimizer: revise once, never more",
    idea: "A critic grades the answer; below the bar the agent revises once, and then stops either way.",
    knobs: &["critic_threshold", "max_steps"],
    world: &[("critic scores", "draft 5/10, revision 8/10")],
    setup,
    contrast: None,
    explain,
    gauges: None,
};

fn setup(s: &Settings) -> Setup {
    let mut cfg = s.agent_config();
    cfg.critic = Some(CriticPolicy {
        threshold: s.critic_threshold.min(10) as u8,
        draft_score: DRAFT_SCORE,
        revised_score: REVISED_SCORE,
    });
    Setup::new(
        cfg,
        SimWorld::new(vec![ModelSpec::new("writer", Behaviour::Solve)]),
    )
}

fn explain(r: &Reading, _: Option<&Run>) -> Explanation {
    // (score, threshold, revise) of each critique, in order.
    let critiques: Vec<(u8, u8, bool)> = r
        .events()
        .filter_map(|e| match e.kind {
            EventKind::Critique {
                score,
                threshold,
                revise,
                ..
            } => Some((score, threshold, revise)),
            _ => None,
        })
        .collect();
    let verdict = match (r.end, critiques.as_slice()) {
        (End::Answered, [(draft, bar, false)]) => format!(
            "the draft scored {draft}/10, at or above the bar of {bar}: accepted as it was"
        ),
        (End::Answered, [(draft, bar, true), (revised, _, _)]) if revised >= bar => format!(
            "the draft scored {draft}/10, below {bar}: revised once; the revision scored {revised}/10 and was accepted"
        ),
        (End::Answered, [(draft, bar, true), (revised, _, _)]) => format!(
            "the draft scored {draft}/10, below {bar}; revised once and still {revised}/10: returned with its score, because one revision is the limit"
        ),
        (_, [(draft, bar, true)]) => but(
            format!("the draft scored {draft}/10, below {bar}, so the agent began a revision"),
            r,
        ),
        (End::Cap(..), []) => format!(
            "{} before the model had an answer for the critic to grade",
            r.ended()
        ),
        _ => r.ended(),
    };
    let scores: Vec<String> = critiques
        .iter()
        .map(|(s, _, _)| format!("{s}/10"))
        .collect();
    let revisions = critiques.iter().filter(|c| c.2).count();
    Explanation::new(r.tone(), verdict)
        .fact(
            "critic scores",
            if scores.is_empty() {
                "none".to_string()
            } else {
                scores.join(" then ")
            },
        )
        .fact("revisions", revisions.to_string())
}
