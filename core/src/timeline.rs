//! A run laid out on the virtual-time axis, ready to draw.
//!
//! The page draws this as SVG; the layout (lanes, bars, marks, ticks) is computed here so that
//! it is tested natively and the component only maps numbers to pixels.

use crate::agent::Run;
use crate::approval::Decision;
use crate::breaker::BreakerState;
use crate::time::{Micros, Secs, MS};
use crate::trace::{EventKind, GateEvent, Target};
use serde::{Deserialize, Serialize};

/// A horizontal lane of the timeline.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Lane {
    /// Model attempts and backoff waits.
    Model,
    /// Tool calls and the approval gate.
    Tool,
    /// Breaker state and stops (caps, kill switch, degrade).
    Control,
}

impl Lane {
    /// Every lane, top to bottom.
    pub const ALL: [Lane; 3] = [Lane::Model, Lane::Tool, Lane::Control];

    /// The lane's label.
    pub const fn label(self) -> &'static str {
        match self {
            Lane::Model => "model",
            Lane::Tool => "tools",
            Lane::Control => "policy",
        }
    }
}

/// What a bar or mark stands for: drawn with a colour *and* a pattern or glyph.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// A call that worked.
    Ok,
    /// A call that failed.
    Failed,
    /// A call given up on at the deadline.
    Timeout,
    /// A backoff wait.
    Wait,
    /// The breaker was open.
    Open,
    /// The breaker was half-open.
    HalfOpen,
    /// A call refused by the breaker.
    FastFail,
    /// Waiting for a human.
    Pending,
    /// A risky tool blocked.
    Blocked,
    /// A risky tool approved.
    Approved,
    /// A cap, the kill switch or an escalation stopped the run.
    Stop,
    /// Degraded to the safe message.
    Degraded,
    /// A step began.
    Step,
    /// A duplicate side effect.
    Duplicate,
}

/// Something with a duration.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Bar {
    /// Its lane.
    pub lane: Lane,
    /// Start.
    pub start: Micros,
    /// Length.
    pub dur: Micros,
    /// What it is.
    pub kind: Kind,
    /// Its tooltip.
    pub label: String,
}

/// Something at an instant.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Mark {
    /// Its lane.
    pub lane: Lane,
    /// When.
    pub at: Micros,
    /// What it is.
    pub kind: Kind,
    /// Its tooltip.
    pub label: String,
}

/// A run laid out for drawing.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Timeline {
    /// The axis runs from 0 to this.
    pub span: Micros,
    /// Bars.
    pub bars: Vec<Bar>,
    /// Marks.
    pub marks: Vec<Mark>,
    /// Axis ticks: where, and the label.
    pub ticks: Vec<(Micros, String)>,
}

/// A "nice" tick step (1, 2 or 5 times a power of ten) for about five ticks over `span`.
pub fn tick_step(span: Micros) -> Micros {
    let raw = (span / 5).max(1);
    let mut pow = 1u64;
    while pow.saturating_mul(10) <= raw {
        pow *= 10;
    }
    [1, 2, 5, 10]
        .into_iter()
        .map(|m| m * pow)
        .find(|&s| s >= raw)
        .unwrap_or(10 * pow)
}

/// Lays out `run`'s trace.
pub fn layout(run: &Run) -> Timeline {
    let mut t = Timeline::default();
    let mut breaker_since: Option<(Micros, BreakerState)> = None;
    let mut pending_since: Option<(Micros, String)> = None;
    for e in &run.trace {
        t.span = t.span.max(e.at + e.dur);
        let mut mark = |lane, kind, label: String| {
            t.marks.push(Mark {
                lane,
                at: e.at,
                kind,
                label,
            })
        };
        match &e.kind {
            EventKind::Step => mark(Lane::Control, Kind::Step, format!("step {}", e.step)),
            EventKind::Attempt { target, error, .. } => {
                let lane = match target {
                    Target::Model(_) => Lane::Model,
                    Target::Tool(_) => Lane::Tool,
                };
                let kind = match error {
                    None => Kind::Ok,
                    Some(err) if err.kind == crate::error::ErrorKind::Timeout => Kind::Timeout,
                    Some(_) => Kind::Failed,
                };
                t.bars.push(Bar {
                    lane,
                    start: e.at,
                    dur: e.dur,
                    kind,
                    label: e.to_string(),
                });
            }
            EventKind::Backoff { .. } => t.bars.push(Bar {
                lane: Lane::Model,
                start: e.at,
                dur: e.dur,
                kind: Kind::Wait,
                label: e.to_string(),
            }),
            EventKind::FastFail { .. } => mark(Lane::Model, Kind::FastFail, e.to_string()),
            EventKind::Breaker { to, .. } => {
                if let Some((since, state)) = breaker_since.take() {
                    t.bars.push(breaker_bar(since, e.at, state));
                }
                if *to != BreakerState::Closed {
                    breaker_since = Some((e.at, *to));
                }
                let kind = match to {
                    BreakerState::Open => Kind::Open,
                    BreakerState::HalfOpen => Kind::HalfOpen,
                    BreakerState::Closed => Kind::Ok,
                };
                mark(Lane::Control, kind, e.to_string());
            }
            EventKind::Gate { gate, tool } => match gate {
                GateEvent::Waiting => pending_since = Some((e.at, tool.to_string())),
                GateEvent::Decided(d) => {
                    pending_since = None;
                    let kind = match d {
                        Decision::Approve => Kind::Approved,
                        Decision::Deny => Kind::Blocked,
                    };
                    mark(Lane::Tool, kind, e.to_string());
                }
                GateEvent::ApprovedByPolicy => mark(Lane::Tool, Kind::Approved, e.to_string()),
                GateEvent::DeniedByDefault | GateEvent::TimedOut => {
                    pending_since = None;
                    mark(Lane::Tool, Kind::Blocked, e.to_string());
                }
            },
            EventKind::SideEffect {
                duplicate: true, ..
            } => mark(Lane::Tool, Kind::Duplicate, e.to_string()),
            EventKind::Cap { .. } | EventKind::Killed { .. } | EventKind::Escalated { .. } => {
                mark(Lane::Control, Kind::Stop, e.to_string())
            }
            EventKind::ArgsRejected { .. } => mark(Lane::Tool, Kind::Stop, e.to_string()),
            EventKind::Degraded => mark(Lane::Control, Kind::Degraded, e.to_string()),
            _ => {}
        }
    }
    // Whatever is still open runs to the end of the axis; give a paused run some room.
    if let Some((since, tool)) = pending_since {
        let end = t.span.max(since) + (t.span / 4).max(100 * MS);
        t.bars.push(Bar {
            lane: Lane::Tool,
            start: since,
            dur: end - since,
            kind: Kind::Pending,
            label: format!("{tool}: waiting for a human decision"),
        });
        t.span = end;
    }
    if let Some((since, state)) = breaker_since {
        t.bars.push(breaker_bar(since, t.span.max(since), state));
    }
    t.span = t.span.max(MS);
    let step = tick_step(t.span);
    let mut at = 0;
    while at <= t.span {
        t.ticks.push((at, Secs(at).to_string()));
        at += step;
    }
    t
}

fn breaker_bar(since: Micros, until: Micros, state: BreakerState) -> Bar {
    Bar {
        lane: Lane::Control,
        start: since,
        dur: until.saturating_sub(since),
        kind: if state == BreakerState::Open {
            Kind::Open
        } else {
            Kind::HalfOpen
        },
        label: format!("breaker {state} from {} to {}", Secs(since), Secs(until)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lab::{run_card, CardId, Settings};
    use crate::time::SEC;

    #[test]
    fn ticks_are_nice_numbers() {
        assert_eq!(tick_step(1_560 * MS), 500 * MS);
        assert_eq!(tick_step(12 * SEC), 5 * SEC);
        assert_eq!(tick_step(40 * MS), 10 * MS);
    }

    #[test]
    fn a_shows_two_failures_two_waits_and_a_success() {
        let a = run_card(CardId::A, &Settings::default());
        let t = layout(&a.run);
        let model: Vec<Kind> = t
            .bars
            .iter()
            .filter(|b| b.lane == Lane::Model)
            .map(|b| b.kind)
            .collect();
        assert_eq!(
            model,
            vec![
                Kind::Failed,
                Kind::Wait,
                Kind::Failed,
                Kind::Wait,
                Kind::Ok,
                Kind::Ok
            ]
        );
        assert!(t.span >= 1_500 * MS);
        assert_eq!(t.ticks[0].1, "0.0s");
    }

    #[test]
    fn f_shows_the_breaker_open_then_half_open() {
        let f = run_card(CardId::F, &Settings::default());
        let t = layout(&f.run);
        assert!(t.bars.iter().any(|b| b.kind == Kind::Open));
        assert!(t.marks.iter().any(|m| m.kind == Kind::FastFail));
        assert!(t.marks.iter().any(|m| m.kind == Kind::HalfOpen));
    }

    #[test]
    fn a_paused_d_shows_a_pending_bar() {
        let d = run_card(CardId::D, &Settings::default());
        let t = layout(&d.run);
        assert!(t.bars.iter().any(|b| b.kind == Kind::Pending));
    }
}
