//! F. Circuit breaker: a dead service, many requests.

use crate::agent::Run;
use crate::breaker::BreakerState;
use crate::error::CallError;
use crate::lab::explain::{count, plural, End, Explanation, Reading, RequestKind, Tone};
use crate::lab::{Card, CardId, Series, Settings, Setup};
use crate::model::{Behaviour, Faults, ModelSpec};
use crate::sim::SimWorld;
use crate::time::{Brief, Micros, SEC};
use crate::trace::{EventKind, Target};

/// How many requests arrive.
pub const REQUESTS: u32 = 12;
/// One request arrives every this long.
pub const INTERVAL: Micros = SEC;
/// The service is dead until this time.
pub const OUTAGE: Micros = 6 * SEC;

/// The card.
pub const CARD: Card = Card {
    id: CardId::F,
    letter: "F",
    title: "Circuit breaker: a dead service",
    idea: "After repeated failures the breaker opens and requests fail fast, then one probe checks for recovery.",
    knobs: &[
        "breaker_threshold",
        "breaker_cooldown",
        "attempts",
        "base_delay",
        "jitter",
        "seed",
        "max_steps",
    ],
    world: &[("requests", "12, one a second"), ("service down until", "6.0s")],
    setup,
    contrast: Some(("without a breaker", without_breaker)),
    explain,
    gauges: None,
};

fn world() -> SimWorld {
    SimWorld::new(vec![ModelSpec::new("service", Behaviour::Solve)
        .with_faults(Faults::Until {
            until: OUTAGE,
            error: CallError::http(503),
        })])
}

fn series() -> Option<Series> {
    Some(Series {
        requests: REQUESTS,
        interval: INTERVAL,
    })
}

fn setup(s: &Settings) -> Setup {
    let mut cfg = s.agent_config();
    cfg.breaker = Some(s.breaker());
    Setup {
        series: series(),
        ..Setup::new(cfg, world())
    }
}

fn without_breaker(s: &Settings) -> Setup {
    Setup {
        series: series(),
        ..Setup::new(s.agent_config(), world())
    }
}

/// Failed model calls in a row when the breaker first opened, and when.
fn first_open(r: &Reading) -> Option<(u32, Micros)> {
    let mut in_a_row = 0;
    for e in r.events() {
        match &e.kind {
            EventKind::Attempt {
                target: Target::Model(_),
                error,
                ..
            } => match error {
                Some(err) if err.kind.blames_the_service() => in_a_row += 1,
                Some(_) => {}
                None => in_a_row = 0,
            },
            EventKind::Breaker {
                from: BreakerState::Closed,
                to: BreakerState::Open,
            } => return Some((in_a_row, e.at)),
            _ => {}
        }
    }
    None
}

fn explain(r: &Reading, without: Option<&Run>) -> Explanation {
    let reqs = &r.run.requests;
    let n = |k| count(reqs, k);
    let closed = r.first(|k| {
        matches!(
            k,
            EventKind::Breaker {
                from: BreakerState::HalfOpen,
                to: BreakerState::Closed
            }
        )
    });
    let failed_probes = r
        .events()
        .filter(|e| {
            matches!(
                e.kind,
                EventKind::Breaker {
                    from: BreakerState::HalfOpen,
                    to: BreakerState::Open
                }
            )
        })
        .count() as u32;
    let calls: u32 = reqs.iter().map(|q| q.calls).sum();
    if calls == 0 && matches!(r.end, End::Killed { .. }) {
        return Explanation::new(Tone::Handled, r.ended());
    }
    let mut verdict = match first_open(r) {
        Some((in_a_row, at)) => {
            let mut v = format!(
                "the breaker opened at {} after {} in a row; {} failed fast without calling the dead service",
                Brief(at),
                plural(in_a_row, "failure"),
                plural(n(RequestKind::FailedFast) as u32, "request"),
            );
            if failed_probes > 0 {
                v.push_str(&format!(
                    "; {} found it still down, so it opened again",
                    plural(failed_probes, "probe")
                ));
            }
            if let Some(c) = closed {
                v.push_str(&format!(
                    "; a probe at {} found the service back and closed it",
                    Brief(c.at)
                ));
            }
            v
        }
        None => format!(
            "the breaker never opened: every request called the service ({} in all), and {} answered",
            plural(calls, "call"),
            n(RequestKind::Answered)
        ),
    };
    let capped = n(RequestKind::Capped);
    if capped > 0 {
        let limit = r.events().find_map(|e| match &e.kind {
            EventKind::Cap { hit } => Some(hit.limit),
            _ => None,
        });
        verdict.push_str(&format!(
            "; the step cap stopped {} before {} could answer (max_steps {})",
            plural(capped as u32, "request"),
            if capped == 1 { "it" } else { "they" },
            limit.unwrap_or_default()
        ));
    }
    if let End::Killed { .. } = r.end {
        verdict = format!("{verdict}; then {}", r.ended());
    }
    let tone = match r.end {
        End::Killed { .. } => Tone::Handled,
        _ if first_open(r).is_some() => Tone::Handled,
        _ if n(RequestKind::Degraded) > 0 => Tone::Degraded,
        _ if capped > 0 || r.failures() > 0 => Tone::Handled,
        _ => Tone::Calm,
    };
    let mut x =
        Explanation::new(tone, verdict).fact("calls that reached the service", calls.to_string());
    if let Some(w) = without {
        x = x.fact(
            "without a breaker",
            format!(
                "{} would have reached it",
                plural(w.outcome.counters.model_calls, "call")
            ),
        );
    }
    for e in r.events() {
        if let EventKind::Breaker { from, to } = e.kind {
            x = x.line(format!("at {}: breaker {from} -> {to}", Brief(e.at)));
        }
    }
    x
}
