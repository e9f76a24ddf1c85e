//! The event trace of a run: what happened, when, at which step.
//!
//! Events hold structured data, not text: recording is cheap, and the text of an event
//! ([`Event::detail`]) is produced only when someone reads it. A trace round-trips through JSON.

use crate::approval::Decision;
use crate::breaker::BreakerState;
use crate::caps::CapHit;
use crate::error::CallError;
use crate::time::{Micros, Secs};
use crate::tools::{ToolCall, ToolOutput};
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::fmt;

/// What a call was made to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Target {
    /// A model, by name.
    Model(Cow<'static, str>),
    /// A tool, by name.
    Tool(Cow<'static, str>),
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Model(n) => write!(f, "model {n}"),
            Target::Tool(n) => write!(f, "tool {n}"),
        }
    }
}

/// Why the retry loop stopped trying.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GiveUp {
    /// The error is not transient: another try would fail the same way.
    NotTransient,
    /// Every attempt was used.
    AttemptsExhausted,
}

/// How the approval gate treated a risky tool.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GateEvent {
    /// Paused, waiting for a human.
    Waiting,
    /// A human decided.
    Decided(Decision),
    /// Nobody was asked: denied by default.
    DeniedByDefault,
    /// Nobody was asked: the policy approves every risky tool.
    ApprovedByPolicy,
    /// Nobody answered before the deadline: denied and escalated.
    TimedOut,
}

/// What happened.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    /// A step began.
    Step,
    /// One attempt at a call; `dur` is how long the caller waited.
    Attempt {
        /// What was called.
        target: Target,
        /// 1 for the first try.
        attempt: u32,
        /// How it failed, if it did.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        error: Option<CallError>,
    },
    /// A wait before the next attempt; `dur` is the wait.
    Backoff {
        /// The retry this wait precedes (1 for the first retry).
        retry: u32,
        /// The server's Retry-After, when it set the wait.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        retry_after: Option<Micros>,
    },
    /// The retry loop stopped trying.
    GaveUp {
        /// What was called.
        target: Target,
        /// Why.
        reason: GiveUp,
    },
    /// The breaker refused a call: it failed fast without reaching the service.
    FastFail {
        /// What was not called.
        target: Target,
        /// When a probe will be allowed.
        retry_at: Micros,
    },
    /// The breaker changed state.
    Breaker {
        /// Before.
        from: BreakerState,
        /// After.
        to: BreakerState,
    },
    /// The run stepped down the fallback ladder.
    Fallback {
        /// The option that failed.
        from: Cow<'static, str>,
        /// The one tried next.
        to: Cow<'static, str>,
    },
    /// The model asked for a tool and the arguments validated.
    ToolRequested {
        /// The call.
        call: ToolCall,
    },
    /// The model's tool arguments failed validation.
    ArgsRejected {
        /// Why.
        error: CallError,
    },
    /// The approval gate acted on a risky tool.
    Gate {
        /// Which tool.
        tool: Cow<'static, str>,
        /// What it did.
        gate: GateEvent,
    },
    /// A tool returned.
    ToolResult {
        /// What it returned.
        output: ToolOutput,
        /// True when an idempotency key answered from memory, doing nothing again.
        deduplicated: bool,
    },
    /// A side effect was committed in the pretend world.
    SideEffect {
        /// The call that did it.
        call: ToolCall,
        /// The idempotency key it carried, if any.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        key: Option<crate::idempotency::IdempotencyKey>,
        /// True when it repeats an earlier identical effect (a duplicate).
        duplicate: bool,
    },
    /// The model's reply to the attempt just before: what it said and what it cost. (What a
    /// recorded trace replays, without the model.)
    Replied {
        /// The reply.
        reply: crate::agent::Reply,
        /// Its tokens.
        tokens: crate::agent::TokenUsage,
        /// Its cost, in micro-dollars.
        cost: u64,
    },
    /// A cap stopped the run.
    Cap {
        /// Which, and by how much.
        hit: CapHit,
    },
    /// The kill switch stopped the run.
    Killed {
        /// When the switch went on (the run stops at the event's time: at once between steps
        /// and during waits, after the call in flight otherwise).
        switched: Micros,
    },
    /// A request of a series begins (card F: many requests share one breaker).
    Request {
        /// 0 for the first.
        index: u32,
    },
    /// The same error repeated (or an approval timed out): the run stopped and handed off
    /// to a human.
    Escalated {
        /// The repeating error.
        error: CallError,
        /// How many times it came from `target`.
        times: u32,
        /// Where it came from.
        target: Target,
        /// The handoff ticket's id.
        ticket: String,
    },
    /// Every option failed: the run degraded to the safe message.
    Degraded,
    /// A bulk write was narrowed to a sample; the rest waits for a confirm.
    ScopeNarrowed {
        /// What runs now.
        sample: ToolCall,
        /// What waits.
        rest: ToolCall,
    },
    /// The critic graded an answer.
    Critique {
        /// Its score out of 10.
        score: u8,
        /// The threshold.
        threshold: u8,
        /// 0 for the draft, 1 for the revision.
        revision: u32,
        /// Will the agent revise it?
        revise: bool,
    },
    /// The run ended with this answer.
    Finished {
        /// The answer.
        answer: String,
    },
}

/// One event of a run. In JSON it also carries `detail`, its one-line description, for people
/// reading a trace file (readers ignore it: the description is derived from the rest).
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct Event {
    /// When it began, in virtual microseconds from the start of the scenario.
    pub at: Micros,
    /// How long it lasted (zero for instants).
    #[serde(default)]
    pub dur: Micros,
    /// The agent step it belongs to (0 before the first step).
    pub step: u32,
    /// What happened.
    pub kind: EventKind,
}

impl Serialize for Event {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Written<'a> {
            at: Micros,
            dur: Micros,
            step: u32,
            kind: &'a EventKind,
            detail: String,
        }
        Written {
            at: self.at,
            dur: self.dur,
            step: self.step,
            kind: &self.kind,
            detail: self.detail(),
        }
        .serialize(serializer)
    }
}

impl Event {
    /// A one-line description.
    pub fn detail(&self) -> String {
        self.to_string()
    }
}

impl fmt::Display for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            EventKind::Step => write!(f, "step {} begins", self.step),
            EventKind::Attempt {
                target,
                attempt,
                error: None,
            } => write!(f, "{target}: attempt {attempt} ok ({})", Secs(self.dur)),
            EventKind::Attempt {
                target,
                attempt,
                error: Some(e),
            } => write!(f, "{target}: attempt {attempt} failed: {e}"),
            EventKind::Backoff { retry, retry_after } => {
                write!(f, "backoff: wait {} before retry {retry}", Secs(self.dur))?;
                if retry_after.is_some() {
                    f.write_str(" (as the server's Retry-After asked)")?;
                }
                Ok(())
            }
            EventKind::GaveUp {
                target,
                reason: GiveUp::NotTransient,
            } => write!(f, "{target}: not retried (the error is permanent)"),
            EventKind::GaveUp {
                target,
                reason: GiveUp::AttemptsExhausted,
            } => write!(f, "{target}: gave up, every attempt failed"),
            EventKind::FastFail { target, retry_at } => write!(
                f,
                "{target}: failed fast, breaker open until {}",
                Secs(*retry_at)
            ),
            EventKind::Breaker { from, to } => write!(f, "breaker {from} -> {to}"),
            EventKind::Fallback { from, to } => write!(f, "fallback: {from} failed, trying {to}"),
            EventKind::ToolRequested { call } => write!(f, "model asks for {call}"),
            EventKind::ArgsRejected { error } => write!(f, "rejected: {error}"),
            EventKind::Gate { tool, gate } => match gate {
                GateEvent::Waiting => write!(f, "{tool} is risky: waiting for a human decision"),
                GateEvent::Decided(Decision::Approve) => write!(f, "{tool}: a human approved"),
                GateEvent::ApprovedByPolicy => {
                    write!(f, "{tool}: approved up front by the policy")
                }
                GateEvent::Decided(Decision::Deny) => write!(f, "{tool}: a human denied, blocked"),
                GateEvent::DeniedByDefault => {
                    write!(
                        f,
                        "{tool} is risky: blocked (no human approval, deny by default)"
                    )
                }
                GateEvent::TimedOut => {
                    write!(f, "{tool}: nobody answered in time, denied and escalated")
                }
            },
            EventKind::ToolResult {
                output,
                deduplicated: false,
            } => write!(f, "tool returned {output}"),
            EventKind::ToolResult {
                output,
                deduplicated: true,
            } => write!(
                f,
                "idempotency key matched: returned {output} without doing it again"
            ),
            EventKind::SideEffect {
                call,
                key,
                duplicate,
            } => {
                if *duplicate {
                    f.write_str("DUPLICATE ")?;
                }
                write!(f, "side effect: {call}")?;
                if let Some(k) = key {
                    write!(f, " (idempotency key {k})")?;
                }
                Ok(())
            }
            EventKind::Replied {
                reply,
                tokens,
                cost,
            } => {
                let what = match reply {
                    crate::agent::Reply::Answer { .. } => "an answer",
                    crate::agent::Reply::Tool { .. } => "a tool request",
                };
                write!(
                    f,
                    "the model replied with {what}: {} tokens in, {} out, {}",
                    tokens.input,
                    tokens.output,
                    crate::caps::fmt_usd(*cost)
                )
            }
            EventKind::Cap { hit } => write!(f, "{hit}"),
            EventKind::Killed { switched } if *switched < self.at => write!(
                f,
                "kill switch went on at {}: stopped once the call in flight was done",
                Secs(*switched)
            ),
            EventKind::Killed { .. } => f.write_str("kill switch is on: stopped"),
            EventKind::Request { index } => write!(f, "request {} arrives", index + 1),
            EventKind::Escalated {
                error,
                times,
                target,
                ticket,
            } => match times {
                1 => write!(
                    f,
                    "escalated to a human, ticket {ticket}: {error} ({target})"
                ),
                n => write!(
                    f,
                    "escalated to a human, ticket {ticket}: {error} from {target}, {n} times"
                ),
            },
            EventKind::Degraded => f.write_str("all options failed: degraded to the safe message"),
            EventKind::ScopeNarrowed { sample, rest } => {
                write!(
                    f,
                    "scope narrowed: {sample} first; {rest} waits for a confirm"
                )
            }
            EventKind::Critique {
                score,
                threshold,
                revision,
                revise,
            } => {
                let what = if *revision == 0 { "draft" } else { "revision" };
                write!(
                    f,
                    "critic: {what} scores {score}/10 (threshold {threshold})"
                )?;
                match (revise, score >= threshold) {
                    (true, _) => f.write_str(": revise once"),
                    (false, true) => f.write_str(": accepted"),
                    (false, false) => f.write_str(": still below, but no second revision"),
                }
            }
            EventKind::Finished { answer } => write!(f, "finished: {answer}"),
        }
    }
}
