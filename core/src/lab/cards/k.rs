//! K. Kill switch: flipped mid-run.

use crate::agent::Run;
use crate::killswitch::KillSwitch;
use crate::lab::explain::{End, Explanation, Reading};
use crate::lab::{Card, CardId, Settings, Setup};
use crate::model::{Behaviour, ModelSpec};
use crate::sim::SimWorld;
use crate::time::Brief;
use crate::trace::EventKind;

/// The card.
pub const CARD: Card = Card {
    id: CardId::K,
    letter: "K",
    title: "Kill switch: flipped mid-run",
    idea: "One switch stops every run before its next step, wherever it is.",
    knobs: &["kill_at"],
    world: &[("model", "loops for ever"), ("max_steps", "12")],
    setup,
    contrast: None,
    explain,
    gauges: None,
};

fn setup(s: &Settings) -> Setup {
    let mut cfg = s.agent_config();
    cfg.caps.max_steps = 12;
    Setup {
        kill: KillSwitch::at(s.kill_at),
        ..Setup::new(
            cfg,
            SimWorld::new(vec![ModelSpec::new("looping", Behaviour::Loop)]),
        )
    }
}

fn explain(r: &Reading, _: Option<&Run>) -> Explanation {
    let verdict = match r.end {
        End::Killed { switched, at } if r.run.outcome.steps > 0 => {
            let during = r
                .events()
                .filter(|e| matches!(e.kind, EventKind::Step) && e.at <= switched)
                .count();
            let stop = if at > switched {
                format!(
                    "it stopped at {}, once the call in flight was done",
                    Brief(at)
                )
            } else {
                "it stopped there".to_string()
            };
            format!(
                "the switch went on at {} during step {during}; {stop}, and no step began after it: stopped within one step",
                Brief(switched)
            )
        }
        End::Cap(hit, at) => format!(
            "the step cap stopped the loop at step {} (max_steps {}) at {}, before the kill switch went on",
            hit.used,
            hit.limit,
            Brief(at)
        ),
        _ => r.ended(),
    };
    Explanation::new(r.tone(), verdict)
}
