//! Words computed from a run: how it ended, what its patterns did, and the tone of it.
//!
//! Everything here reads a [`Run`] (its outcome, its events, its effects) and nothing else:
//! no settings, no expectations. A card's module says what its run means in its own terms
//! (retry recovered, the breaker opened); when something else ended the run (the step cap, the
//! kill switch, a budget), [`Reading::ended`] names it, with the numbers the run holds.

use crate::agent::{RequestEnd, Run, Stop};
use crate::approval::Decision;
use crate::caps::{fmt_usd, CapHit, CapKind};
use crate::error::{CallError, ErrorKind};
use crate::time::{Brief, Micros};
use crate::tools::ToolCall;
use crate::trace::{Event, EventKind, GateEvent, Target};
use serde::{Deserialize, Serialize};

/// How a card's verdict reads: said in words, so colour is never the only signal.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Tone {
    /// Nothing went wrong: no fault to handle.
    #[default]
    Calm,
    /// A fault or a risk happened and a pattern handled it: the run recovered, or a safety
    /// mechanism stopped it where it should.
    Handled,
    /// The run could not be recovered and failed safely, with the safe message.
    Degraded,
    /// Harm was done: a side effect happened twice.
    NotRecovered,
    /// Paused: a human has to decide.
    Waiting,
}

impl Tone {
    /// The word shown before the verdict.
    pub const fn label(self) -> &'static str {
        match self {
            Tone::Calm => "no fault",
            Tone::Handled => "handled",
            Tone::Degraded => "degraded safely",
            Tone::NotRecovered => "not recovered",
            Tone::Waiting => "waiting",
        }
    }

    /// A glyph for the tone, shown with its word.
    pub const fn icon(self) -> &'static str {
        match self {
            Tone::Calm => "•",
            Tone::Handled => "✓",
            Tone::Degraded => "⚠",
            Tone::NotRecovered => "✗",
            Tone::Waiting => "…",
        }
    }
}

/// How much of one budget a run used.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Gauge {
    /// Which budget.
    pub name: String,
    /// Used, as a fraction's numerator.
    pub used: u64,
    /// The limit.
    pub limit: u64,
    /// Used, as shown.
    pub used_text: String,
    /// The limit, as shown.
    pub limit_text: String,
    /// Did this cap stop the run?
    pub fired: bool,
}

/// What a card says about its run.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Explanation {
    /// How it reads.
    pub tone: Tone,
    /// What happened, in plain words.
    pub verdict: String,
    /// Card-specific facts, as (label, value): charges, the rung that answered, scores.
    pub facts: Vec<(String, String)>,
    /// The lines the lab's handout prints for this section (waits, "caught: ...").
    pub lines: Vec<String>,
    /// Budget gauges (J).
    pub gauges: Vec<Gauge>,
}

impl Explanation {
    /// A verdict with its tone, nothing more yet.
    pub fn new(tone: Tone, verdict: String) -> Self {
        Explanation {
            tone,
            verdict,
            ..Explanation::default()
        }
    }

    /// With a fact.
    pub fn fact(mut self, label: &str, value: String) -> Self {
        self.facts.push((label.to_string(), value));
        self
    }

    /// With one of the handout's lines.
    pub fn line(mut self, line: String) -> Self {
        self.lines.push(line);
        self
    }
}

/// How a run ended, read from its outcome and its events.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum End<'a> {
    /// The model answered.
    Answered,
    /// Every option failed: the safe message. With the last error, if a call failed.
    Degraded(Option<&'a CallError>),
    /// A cap fired, at this time.
    Cap(&'a CapHit, Micros),
    /// The kill switch went on at `switched`; the run stopped at `at`.
    Killed {
        /// When the switch went on.
        switched: Micros,
        /// When the run stopped.
        at: Micros,
    },
    /// Handed to a human.
    Escalated {
        /// The error.
        error: &'a CallError,
        /// How many times it came.
        times: u32,
        /// From where.
        target: &'a Target,
        /// The ticket.
        ticket: &'a str,
    },
    /// The model's tool arguments were invalid.
    InvalidArgs(&'a CallError),
    /// Paused at the gate with this call.
    Paused(&'a ToolCall),
}

/// A run, read.
pub struct Reading<'a> {
    /// The run.
    pub run: &'a Run,
    /// How it ended.
    pub end: End<'a>,
}

impl<'a> Reading<'a> {
    /// Reads `run`.
    pub fn new(run: &'a Run) -> Self {
        Reading {
            run,
            end: end_of(run),
        }
    }

    /// The events.
    pub fn events(&self) -> impl DoubleEndedIterator<Item = &'a Event> + 'a {
        self.run.trace.iter()
    }

    /// Every model or tool attempt: (target, attempt number, error).
    pub fn attempts(&self) -> impl Iterator<Item = (&'a Target, u32, Option<&'a CallError>)> + 'a {
        self.events().filter_map(|e| match &e.kind {
            EventKind::Attempt {
                target,
                attempt,
                error,
            } => Some((target, *attempt, error.as_ref())),
            _ => None,
        })
    }

    /// Attempts at the model.
    pub fn model_attempts(
        &self,
    ) -> impl Iterator<Item = (&'a Target, u32, Option<&'a CallError>)> + 'a {
        self.attempts()
            .filter(|(t, _, _)| matches!(t, Target::Model(_)))
    }

    /// Failed attempts, any target.
    pub fn failures(&self) -> usize {
        self.attempts().filter(|(_, _, e)| e.is_some()).count()
    }

    /// The first error a call failed with.
    pub fn first_error(&self) -> Option<&'a CallError> {
        self.attempts().find_map(|(_, _, e)| e)
    }

    /// The backoff waits, in order.
    pub fn waits(&self) -> Vec<Micros> {
        self.run.backoff_waits()
    }

    /// The first event of a kind.
    pub fn first(&self, pred: impl Fn(&EventKind) -> bool) -> Option<&'a Event> {
        self.run.trace.iter().find(|e| pred(&e.kind))
    }

    /// Was a risky tool blocked or denied?
    pub fn blocked(&self) -> bool {
        !self.run.outcome.blocked.is_empty()
    }

    /// The human's decision at the gate, if one was made.
    pub fn decision(&self) -> Option<Decision> {
        self.events().rev().find_map(|e| match e.kind {
            EventKind::Gate {
                gate: GateEvent::Decided(d),
                ..
            } => Some(d),
            _ => None,
        })
    }

    /// Did a fault or a risk happen: a failed or refused call, a fallback, a blocked tool, a
    /// revision, a lost response?
    pub fn had_trouble(&self) -> bool {
        self.failures() > 0
            || self.blocked()
            || self.run.outcome.counters.fast_fails > 0
            || self.run.outcome.counters.fallbacks > 0
            || self.events().any(|e| {
                matches!(
                    e.kind,
                    EventKind::Critique { revise: true, .. }
                        | EventKind::Gate { .. }
                        | EventKind::ScopeNarrowed { .. }
                )
            })
    }

    /// The tone of the run: one rule for every card.
    pub fn tone(&self) -> Tone {
        if self.run.outcome.counters.duplicates > 0 {
            return Tone::NotRecovered;
        }
        match self.end {
            End::Paused(_) => Tone::Waiting,
            End::Answered if self.had_trouble() => Tone::Handled,
            End::Answered => Tone::Calm,
            End::Degraded(_) => Tone::Degraded,
            End::Cap(..) | End::Killed { .. } | End::Escalated { .. } | End::InvalidArgs(_) => {
                Tone::Handled
            }
        }
    }

    /// What ended the run, in words, for a card whose own pattern did not end it: "the step
    /// cap stopped the run at step 2 (max_steps 1)".
    pub fn ended(&self) -> String {
        let o = &self.run.outcome;
        match self.end {
            End::Answered => "the agent answered".to_string(),
            End::Paused(call) => format!(
                "the run is paused: {} waits for a human decision",
                call.kind().name()
            ),
            End::Cap(hit, at) => cap_clause(hit, at),
            End::Killed { switched, at } => {
                let steps = o.steps;
                if steps == 0 {
                    "the kill switch is on: the run stopped before its first step".to_string()
                } else if switched < at {
                    format!(
                        "the kill switch went on at {}, during step {steps}: the run stopped at {}, once the call in flight was done",
                        Brief(switched),
                        Brief(at)
                    )
                } else if self.waiting_at(at) {
                    format!(
                        "the kill switch went on at {} during a backoff wait: the run stopped there, after {}",
                        Brief(at),
                        plural(steps, "step")
                    )
                } else {
                    format!(
                        "the kill switch went on at {}: the run stopped after {}, before anything else began",
                        Brief(at),
                        plural(steps, "step")
                    )
                }
            }
            End::Escalated {
                error,
                times,
                target,
                ticket,
            } => {
                if error.kind == ErrorKind::ApprovalTimeout {
                    format!("{error}: the run was handed to a human (ticket {ticket})")
                } else {
                    format!(
                        "{error} came from {target} {}: the run was handed to a human (ticket {ticket})",
                        times_text(times)
                    )
                }
            }
            End::InvalidArgs(error) => format!(
                "the model asked for a tool with invalid arguments ({}): that fails the same way every time, so the run stopped without retrying",
                error.detail.as_deref().unwrap_or("rejected")
            ),
            End::Degraded(error) => match error {
                Some(e) if !e.is_transient() && e.kind != ErrorKind::CircuitOpen => format!(
                    "{e} would fail the same way every time, so it was not retried: the agent said it could not do it"
                ),
                _ if o.counters.fast_fails > 0 && o.counters.model_calls == 0 => {
                    "the breaker was open, so the call failed fast and the agent returned the safe message".to_string()
                }
                Some(e) => format!(
                    "every attempt failed (the last with {e}), so the agent returned the safe message"
                ),
                None => "the agent returned the safe message".to_string(),
            },
        }
    }

    /// Was the run in a backoff wait that ended at `at`?
    fn waiting_at(&self, at: Micros) -> bool {
        self.events()
            .rev()
            .any(|e| matches!(e.kind, EventKind::Backoff { .. }) && e.at < at && at <= e.at + e.dur)
    }
}

fn end_of(run: &Run) -> End<'_> {
    let events = &run.trace;
    let last = |pred: &dyn Fn(&EventKind) -> bool| events.iter().rev().find(|e| pred(&e.kind));
    match run.outcome.stop {
        Stop::Answered => End::Answered,
        Stop::AwaitingApproval => match &run.awaiting {
            Some(call) => End::Paused(call),
            None => End::Answered,
        },
        Stop::Cap(_) => match last(&|k| matches!(k, EventKind::Cap { .. })) {
            Some(Event {
                at,
                kind: EventKind::Cap { hit },
                ..
            }) => End::Cap(hit, *at),
            _ => End::Degraded(None),
        },
        Stop::Killed => match last(&|k| matches!(k, EventKind::Killed { .. })) {
            Some(Event {
                at,
                kind: EventKind::Killed { switched },
                ..
            }) => End::Killed {
                switched: *switched,
                at: *at,
            },
            _ => End::Killed {
                switched: run.outcome.elapsed,
                at: run.outcome.elapsed,
            },
        },
        Stop::Escalated => match last(&|k| matches!(k, EventKind::Escalated { .. })) {
            Some(Event {
                kind:
                    EventKind::Escalated {
                        error,
                        times,
                        target,
                        ticket,
                    },
                ..
            }) => End::Escalated {
                error,
                times: *times,
                target,
                ticket,
            },
            _ => End::Degraded(None),
        },
        Stop::InvalidArgs => match last(&|k| matches!(k, EventKind::ArgsRejected { .. })) {
            Some(Event {
                kind: EventKind::ArgsRejected { error },
                ..
            }) => End::InvalidArgs(error),
            _ => End::Degraded(None),
        },
        Stop::Degraded => End::Degraded(events.iter().rev().find_map(|e| match &e.kind {
            EventKind::Attempt { error, .. } => error.as_ref(),
            _ => None,
        })),
    }
}

/// "the step cap stopped the run at step 2 (max_steps 1)", and the other caps likewise.
pub fn cap_clause(hit: &CapHit, at: Micros) -> String {
    match hit.cap {
        CapKind::Steps => format!(
            "the step cap stopped the run at step {} (max_steps {})",
            hit.used, hit.limit
        ),
        CapKind::Tokens => format!(
            "the token budget stopped the run at {}: {} tokens used of {}",
            Brief(at),
            hit.used,
            hit.limit
        ),
        CapKind::Cost => format!(
            "the cost cap stopped the run at {}: {} spent of {}",
            Brief(at),
            fmt_usd(hit.used),
            fmt_usd(hit.limit)
        ),
        CapKind::WallTime => format!(
            "the wall-time budget of {} stopped the run at {}",
            Brief(hit.limit),
            Brief(at)
        ),
    }
}

/// Durations as the lab prints them: `0.5s and 1.0s`, `0.191s, 0.435s and 0.8s`.
pub fn waits_text(waits: &[Micros]) -> String {
    let parts: Vec<String> = waits.iter().map(|w| Brief(*w).to_string()).collect();
    match parts.len() {
        0 => "nothing".to_string(),
        1 => parts[0].clone(),
        n => format!("{} and {}", parts[..n - 1].join(", "), parts[n - 1]),
    }
}

/// Durations as the handout's list of seconds: `[0.5, 1.0]`.
pub fn waits_list(waits: &[Micros]) -> String {
    let parts: Vec<String> = waits
        .iter()
        .map(|w| Brief(*w).to_string().trim_end_matches('s').to_string())
        .collect();
    format!("[{}]", parts.join(", "))
}

/// "1 step", "2 steps".
pub fn plural(n: u32, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}

/// "once", "twice", "3 times".
pub fn times_text(n: u32) -> String {
    match n {
        1 => "once".to_string(),
        2 => "twice".to_string(),
        n => format!("{n} times"),
    }
}

/// "attempt 1 failed" / "all 3 attempts failed".
pub fn attempts_failed(n: u32) -> String {
    match n {
        1 => "the only attempt failed".to_string(),
        n => format!("all {n} attempts failed"),
    }
}

/// `clause`, then what ended the run if it was not the card's own pattern: "retry recovered
/// on attempt 3, but the step cap stopped the run at step 2 (max_steps 1)".
pub fn but(clause: String, r: &Reading) -> String {
    format!("{clause}, but {}", r.ended())
}

/// How a request of a series ended, as the card counts it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RequestKind {
    /// Answered.
    Answered,
    /// Refused by the open breaker without calling the service.
    FailedFast,
    /// Called the service, failed, degraded.
    Degraded,
    /// Stopped by a cap.
    Capped,
    /// Stopped by the kill switch.
    Killed,
}

impl RequestKind {
    /// Sorts a request.
    pub fn of(r: &RequestEnd) -> RequestKind {
        match r.stop {
            Stop::Answered => RequestKind::Answered,
            Stop::Cap(_) => RequestKind::Capped,
            Stop::Killed => RequestKind::Killed,
            _ if r.calls == 0 && r.fast_fails > 0 => RequestKind::FailedFast,
            _ => RequestKind::Degraded,
        }
    }
}

/// Counts of a series' requests by how they ended.
pub fn count(requests: &[RequestEnd], kind: RequestKind) -> usize {
    requests
        .iter()
        .filter(|r| RequestKind::of(r) == kind)
        .count()
}

/// The answer of a series of `planned` requests: every started request counted once.
pub fn series_answer(planned: u32, requests: &[RequestEnd]) -> String {
    let n = |k| count(requests, k);
    let mut parts = vec![format!("{} answered", n(RequestKind::Answered))];
    for (kind, words) in [
        (RequestKind::FailedFast, "failed fast"),
        (RequestKind::Degraded, "degraded after calling"),
        (RequestKind::Capped, "stopped by the step cap"),
        (RequestKind::Killed, "stopped by the kill switch"),
    ] {
        if n(kind) > 0 {
            parts.push(format!("{} {words}", n(kind)));
        }
    }
    let calls: u32 = requests.iter().map(|r| r.calls).sum();
    let started = requests.len() as u32;
    let head = if started < planned {
        format!("{started} of {planned} requests")
    } else {
        format!("{planned} requests")
    };
    format!(
        "{head}: {}; {} reached the service",
        parts.join(", "),
        plural(calls, "call")
    )
}
