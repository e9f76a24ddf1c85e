//! Driver 2: a recorded run, replayed without the model.
//!
//! A run's events hold everything the engine was told: each model reply (its words, tokens and
//! cost), each tool result, each error and timeout, each side effect, each human decision, when
//! the kill switch went on. [`Tape::of`] reads those inputs back out of a run, and [`Recorded`]
//! feeds them to a fresh agent in order. The agent decides again, under whatever policy it is
//! given: with the recording's policy it makes the very same run; with another, the first
//! action that differs shows where the policies part ([`first_difference`]).
//!
//! Nothing here needs the simulator: change a simulated model and a recorded trace still
//! replays. A tape is also a checkpoint: a fresh agent fed the tape is back where the run was
//! ([`Recorded`] stops where the tape ends, before anything new is asked of the world).

use crate::agent::{Action, Agent, Driver, ModelReply, Run, Status, ToolReply};
use crate::approval::Decision;
use crate::error::{CallError, ErrorKind};
use crate::idempotency::IdempotencyKey;
use crate::time::Micros;
use crate::tools::{Effect, ToolCall};
use crate::trace::{Event, EventKind, GateEvent, Target};
use serde::{Deserialize, Serialize};

/// One input the engine was given.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Input {
    /// The model answered the call in flight.
    Model {
        /// When.
        at: Micros,
        /// What it said and cost.
        reply: ModelReply,
    },
    /// The model call in flight failed.
    ModelError {
        /// When.
        at: Micros,
        /// How.
        error: CallError,
    },
    /// The tool call in flight returned.
    Tool {
        /// When.
        at: Micros,
        /// What it returned.
        reply: ToolReply,
    },
    /// The tool call in flight failed.
    ToolError {
        /// When.
        at: Micros,
        /// How.
        error: CallError,
    },
    /// The tool call in flight committed a side effect (which call, and its key, the agent
    /// knows: it is the one in flight).
    Effect {
        /// When.
        at: Micros,
        /// It repeated an earlier one.
        duplicate: bool,
    },
    /// Time ran out for what the agent was waiting on (a call's deadline, an approval's).
    Timeout {
        /// When.
        at: Micros,
    },
    /// A human answered the approval gate.
    Decision {
        /// When.
        at: Micros,
        /// The answer.
        decision: Decision,
    },
}

impl Input {
    /// What the input is, in words, for a report.
    pub fn describe(&self) -> String {
        match self {
            Input::Model { .. } => "a model reply".to_string(),
            Input::ModelError { error, .. } => format!("a model error ({error})"),
            Input::Tool { reply, .. } => format!("a tool result ({})", reply.output),
            Input::ToolError { error, .. } => format!("a tool error ({error})"),
            Input::Effect { .. } => "a side effect".to_string(),
            Input::Timeout { .. } => "a timeout".to_string(),
            Input::Decision { decision, .. } => format!("a human's decision ({decision:?})"),
        }
    }
}

/// Everything a run was told, request by request (one request, unless the run is a series).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tape {
    /// When the kill switch went on, if it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kill: Option<Micros>,
    /// Each request's inputs, in order.
    pub requests: Vec<Vec<Input>>,
}

impl Tape {
    /// The inputs recorded in `run`'s events. (A run recorded without its trace has none.)
    pub fn of(run: &Run) -> Tape {
        Tape::from_events(&run.trace)
    }

    /// The inputs in `events`.
    pub fn from_events(events: &[Event]) -> Tape {
        let mut tape = Tape::default();
        let mut current: Vec<Input> = Vec::new();
        let mut started = false;
        // The end of the last successful attempt, and whether it was the model's.
        let mut ok_at: Option<(Micros, bool)> = None;
        for e in events {
            match &e.kind {
                EventKind::Request { .. } if started => {
                    tape.requests.push(std::mem::take(&mut current));
                }
                EventKind::Attempt { target, error, .. } => {
                    let end = e.at + e.dur;
                    let model = matches!(target, Target::Model(_));
                    match error {
                        None => ok_at = Some((end, model)),
                        Some(err) if err.kind == ErrorKind::Timeout => {
                            current.push(Input::Timeout { at: end })
                        }
                        Some(err) if model => current.push(Input::ModelError {
                            at: end,
                            error: err.clone(),
                        }),
                        Some(err) => current.push(Input::ToolError {
                            at: end,
                            error: err.clone(),
                        }),
                    }
                }
                EventKind::Replied {
                    reply,
                    tokens,
                    cost,
                } => {
                    if let Some((at, true)) = ok_at.take() {
                        current.push(Input::Model {
                            at,
                            reply: ModelReply {
                                reply: reply.clone(),
                                tokens: *tokens,
                                cost: *cost,
                            },
                        });
                    }
                }
                EventKind::ToolResult {
                    output,
                    deduplicated,
                } => {
                    if let Some((at, false)) = ok_at.take() {
                        current.push(Input::Tool {
                            at,
                            reply: ToolReply {
                                output: output.clone(),
                                deduplicated: *deduplicated,
                            },
                        });
                    }
                }
                EventKind::SideEffect { duplicate, .. } => current.push(Input::Effect {
                    at: e.at,
                    duplicate: *duplicate,
                }),
                EventKind::Gate { gate, .. } => match gate {
                    GateEvent::Decided(decision) => current.push(Input::Decision {
                        at: e.at,
                        decision: *decision,
                    }),
                    GateEvent::TimedOut => current.push(Input::Timeout { at: e.at }),
                    _ => {}
                },
                EventKind::Killed { switched } => {
                    tape.kill = Some(tape.kill.map_or(*switched, |k| k.min(*switched)))
                }
                _ => {}
            }
            started = true;
        }
        tape.requests.push(current);
        tape
    }
}

/// Feeds one request's recorded inputs to an agent.
#[derive(Clone, Debug)]
pub struct Recorded<'t> {
    inputs: &'t [Input],
    next: usize,
    effects: Vec<Effect>,
    mismatch: Option<String>,
}

/// What the agent wanted, without its borrow.
enum Want {
    Done,
    Wait(Micros),
    Human,
    Model(String),
    Tool(String, ToolCall, Option<IdempotencyKey>),
}

impl<'t> Recorded<'t> {
    /// A driver over `inputs`.
    pub fn new(inputs: &'t [Input]) -> Self {
        Recorded {
            inputs,
            next: 0,
            effects: Vec::new(),
            mismatch: None,
        }
    }

    /// Inputs not yet fed.
    pub fn remaining(&self) -> &'t [Input] {
        self.inputs.get(self.next..).unwrap_or_default()
    }

    /// Where the agent asked for something the recording does not have next, in words.
    pub fn mismatch(&self) -> Option<&str> {
        self.mismatch.as_deref()
    }

    fn stop(&mut self, agent: &mut Agent, wanted: String) -> Status {
        if let Some(input) = self.remaining().first() {
            self.mismatch = Some(format!(
                "this engine wants {wanted}, but the recording has {} next",
                input.describe()
            ));
        }
        agent.unpoll();
        Status::Running
    }
}

impl Driver for Recorded<'_> {
    /// Feeds the recording until the run finishes, pauses for a human the recording does not
    /// answer, or the recording ends or stops fitting (the agent is left ready to ask again).
    fn drive(&mut self, agent: &mut Agent) -> Status {
        loop {
            let want = match agent.poll() {
                Action::Done => Want::Done,
                Action::Wait { until } => Want::Wait(until),
                Action::AskHuman { .. } => Want::Human,
                Action::CallModel(c) => Want::Model(format!(
                    "to call model {} (attempt {}) at step {}",
                    c.model, c.attempt, c.step
                )),
                Action::RunTool(t) => Want::Tool(
                    format!("to run {} (attempt {})", t.call, t.attempt),
                    t.call.clone(),
                    t.key,
                ),
            };
            let input = self.remaining().first().cloned();
            match (want, input) {
                (Want::Done, _) => return Status::Finished,
                (Want::Wait(until), _) => agent.handle_timeout(until),
                (Want::Human, Some(Input::Decision { at, decision })) => {
                    self.next += 1;
                    agent.handle_decision(at, decision);
                }
                (Want::Human, Some(Input::Timeout { at })) => {
                    self.next += 1;
                    agent.handle_timeout(at);
                }
                (Want::Human, Some(other)) => {
                    self.mismatch = Some(format!(
                        "this engine waits for a human, but the recording has {} next",
                        other.describe()
                    ));
                    return Status::AwaitingApproval;
                }
                (Want::Human, None) => return Status::AwaitingApproval,
                (Want::Model(_), Some(Input::Model { at, reply })) => {
                    self.next += 1;
                    agent.handle_model_reply(at, Ok(reply));
                }
                (Want::Model(_), Some(Input::ModelError { at, error })) => {
                    self.next += 1;
                    agent.handle_model_reply(at, Err(error));
                }
                (Want::Model(_) | Want::Tool(..), Some(Input::Timeout { at })) => {
                    self.next += 1;
                    agent.handle_timeout(at);
                }
                (Want::Tool(_, call, key), Some(Input::Effect { at, duplicate })) => {
                    self.next += 1;
                    self.effects.push(Effect { at, call, key });
                    agent.handle_side_effect(at, duplicate);
                    // The tool is still in flight: ask for it again.
                    agent.unpoll();
                }
                (Want::Tool(..), Some(Input::Tool { at, reply })) => {
                    self.next += 1;
                    agent.handle_tool_reply(at, Ok(reply));
                }
                (Want::Tool(..), Some(Input::ToolError { at, error })) => {
                    self.next += 1;
                    agent.handle_tool_reply(at, Err(error));
                }
                (Want::Model(w) | Want::Tool(w, ..), _) => return self.stop(agent, w),
            }
        }
    }

    fn take_effects(&mut self) -> Vec<Effect> {
        std::mem::take(&mut self.effects)
    }
}

/// Where two runs' events first differ: (index, the recorded event, the replayed one), each in
/// words ("(none)" where one run has ended). `None` when they agree event for event.
pub fn first_difference(recorded: &[Event], replayed: &[Event]) -> Option<(usize, String, String)> {
    let n = recorded.len().max(replayed.len());
    (0..n).find_map(|i| {
        let (a, b) = (recorded.get(i), replayed.get(i));
        (a != b).then(|| {
            let show = |e: Option<&Event>| e.map_or("(none)".to_string(), |e| e.to_string());
            (i, show(a), show(b))
        })
    })
}

/// Reading a tape from JSON by hand, for the web page: it is the same JSON the derived
/// `Deserialize` reads (a test checks they agree), but this reader is a few kilobytes where
/// serde's generated visitors for every type on a tape are tens.
pub mod json {
    use super::{Input, Tape};
    use crate::agent::{ModelReply, Reply, TokenUsage, ToolReply};
    use crate::approval::Decision;
    use crate::error::{CallError, ErrorKind};
    use crate::tools::{Arg, RawCall, ToolOutput};
    use serde_json::Value;
    use std::borrow::Cow;

    type R<T> = Result<T, String>;

    fn field<'v>(v: &'v Value, name: &str) -> R<&'v Value> {
        v.get(name).ok_or_else(|| format!("`{name}` is missing"))
    }

    fn num(v: &Value, name: &str) -> R<u64> {
        field(v, name)?
            .as_u64()
            .ok_or_else(|| format!("`{name}` is not a whole number"))
    }

    fn opt_num(v: &Value, name: &str) -> R<Option<u64>> {
        match v.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(_) => num(v, name).map(Some),
        }
    }

    fn text(v: &Value, name: &str) -> R<String> {
        field(v, name)?
            .as_str()
            .map(str::to_string)
            .ok_or_else(|| format!("`{name}` is not text"))
    }

    fn opt_text(v: &Value, name: &str) -> R<Option<String>> {
        match v.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(_) => text(v, name).map(Some),
        }
    }

    /// The one key of an externally tagged enum value, and what it holds.
    fn tagged(v: &Value) -> R<(&str, &Value)> {
        match v {
            Value::String(s) => Ok((s.as_str(), &Value::Null)),
            Value::Object(o) if o.len() == 1 => o
                .iter()
                .next()
                .map(|(k, v)| (k.as_str(), v))
                .ok_or_else(|| "an empty object".to_string()),
            _ => Err("not one of the expected kinds".to_string()),
        }
    }

    fn error(v: &Value) -> R<CallError> {
        let (tag, inner) = tagged(field(v, "kind")?)?;
        let kind = match tag {
            "http" => ErrorKind::Http(
                inner
                    .as_u64()
                    .and_then(|c| u16::try_from(c).ok())
                    .ok_or("an HTTP status is not a number")?,
            ),
            "timeout" => ErrorKind::Timeout,
            "network" => ErrorKind::Network,
            "invalid_args" => ErrorKind::InvalidArgs,
            "unknown_tool" => ErrorKind::UnknownTool,
            "circuit_open" => ErrorKind::CircuitOpen,
            "approval_timeout" => ErrorKind::ApprovalTimeout,
            "bad_reply" => ErrorKind::BadReply,
            other => return Err(format!("unknown error kind `{other}`")),
        };
        Ok(CallError {
            kind,
            after: opt_num(v, "after")?,
            retry_after: opt_num(v, "retry_after")?,
            detail: opt_text(v, "detail")?,
        })
    }

    fn arg(v: &Value) -> R<Arg> {
        match tagged(v)? {
            ("int", n) => n
                .as_i64()
                .map(Arg::Int)
                .ok_or("an int is not a number".into()),
            ("text", t) => t
                .as_str()
                .map(|s| Arg::Text(Cow::Owned(s.to_string())))
                .ok_or("a text argument is not text".into()),
            (other, _) => Err(format!("unknown argument kind `{other}`")),
        }
    }

    fn reply(v: &Value) -> R<Reply> {
        match tagged(v)? {
            ("answer", a) => Ok(Reply::Answer {
                text: text(a, "text")?,
            }),
            ("tool", t) => {
                let call = field(t, "call")?;
                let args = field(call, "args")?
                    .as_array()
                    .ok_or("a call's args are not a list")?
                    .iter()
                    .map(|pair| match pair.as_array().map(Vec::as_slice) {
                        Some([name, value]) => Ok((
                            Cow::Owned(
                                name.as_str()
                                    .ok_or("an argument's name is not text")?
                                    .to_string(),
                            ),
                            arg(value)?,
                        )),
                        _ => Err("an argument is not a [name, value] pair".to_string()),
                    })
                    .collect::<R<Vec<_>>>()?;
                Ok(Reply::Tool {
                    call: RawCall {
                        name: Cow::Owned(text(call, "name")?),
                        args: Cow::Owned(args),
                    },
                    id: opt_text(t, "id")?,
                    raw: opt_text(t, "raw")?,
                })
            }
            (other, _) => Err(format!("unknown reply kind `{other}`")),
        }
    }

    fn input(v: &Value) -> R<Input> {
        let (tag, b) = tagged(v)?;
        let at = num(b, "at")?;
        Ok(match tag {
            "model" => {
                let r = field(b, "reply")?;
                let tokens = field(r, "tokens")?;
                Input::Model {
                    at,
                    reply: ModelReply {
                        reply: reply(field(r, "reply")?)?,
                        tokens: TokenUsage {
                            input: num(tokens, "input")?,
                            output: num(tokens, "output")?,
                        },
                        cost: num(r, "cost")?,
                    },
                }
            }
            "model_error" => Input::ModelError {
                at,
                error: error(field(b, "error")?)?,
            },
            "tool" => {
                let r = field(b, "reply")?;
                let output = match tagged(field(r, "output")?)? {
                    ("number", n) => {
                        ToolOutput::Number(n.as_i64().ok_or("a tool's number is not a number")?)
                    }
                    ("text", t) => {
                        ToolOutput::Text(t.as_str().ok_or("a tool's text is not text")?.to_string())
                    }
                    (other, _) => return Err(format!("unknown tool output `{other}`")),
                };
                Input::Tool {
                    at,
                    reply: ToolReply {
                        output,
                        deduplicated: r
                            .get("deduplicated")
                            .and_then(Value::as_bool)
                            .unwrap_or(false),
                    },
                }
            }
            "tool_error" => Input::ToolError {
                at,
                error: error(field(b, "error")?)?,
            },
            "effect" => Input::Effect {
                at,
                duplicate: field(b, "duplicate")?
                    .as_bool()
                    .ok_or("`duplicate` is not true or false")?,
            },
            "timeout" => Input::Timeout { at },
            "decision" => Input::Decision {
                at,
                decision: match field(b, "decision")?.as_str() {
                    Some("approve") => Decision::Approve,
                    Some("deny") => Decision::Deny,
                    _ => return Err("a decision is neither approve nor deny".into()),
                },
            },
            other => return Err(format!("unknown input `{other}`")),
        })
    }

    /// The tape in `v`; the error names what does not fit.
    pub fn tape(v: &Value) -> R<Tape> {
        let requests = field(v, "requests")?
            .as_array()
            .ok_or("`requests` is not a list")?
            .iter()
            .map(|r| {
                r.as_array()
                    .ok_or("a request's inputs are not a list")?
                    .iter()
                    .map(input)
                    .collect::<R<Vec<_>>>()
            })
            .collect::<R<Vec<_>>>()?;
        Ok(Tape {
            kill: opt_num(v, "kill")?,
            requests,
        })
    }
}
