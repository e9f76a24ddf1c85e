//! Driver 3's protocol: the lab's task against a real model through Anthropic's Messages API.
//!
//! This module is data in, data out: the request body for the agent's model call, the reply
//! (or the error) a response means, and what a call costs. The HTTP itself is the driver's
//! work: the page's live panel (fetch, with the user's own key) and the `live` example (a
//! terminal run with `ANTHROPIC_API_KEY`). Both drive the same agent, under the same policies
//! as the lab's sliders, and both record a trace that replays offline ([`replay`]).
//!
//! The key never passes through here: a driver adds it as the `x-api-key` header, and only
//! there.
//!
//! Which responses are retried is the engine's one rule ([`crate::error::ErrorKind::decision`]):
//! 429, 500, 529 and network errors are retried (a 429's `retry-after` honoured, bounded by the
//! policy's longest wait); 400, 401, 403 and 404 are not, and the safe message says what was
//! refused.

use crate::agent::{
    Action, Agent, AgentConfig, ModelReply, Reply, Run, Task, TokenUsage, ToolReply, Turn,
};
use crate::approval::Approver;
use crate::approval::Decision;
use crate::error::{CallError, ErrorKind};
use crate::fallback::Rung;
use crate::lab::Settings;
use crate::recorded::{Input, Recorded, Tape};
use crate::time::{Micros, SEC};
use crate::tools::{Arg, RawCall};
use crate::tools::{Executed, ToolFaults, World};
use crate::tracefile::{Checkpoint, Source, TraceFile};
use crate::ConfigError;
use serde_json::{json, Value};
use std::borrow::Cow;

/// Where the page and the example send requests by default (`{base}/v1/messages`).
pub const DEFAULT_BASE: &str = "https://api.anthropic.com";
/// The model asked by default: small, cheap, and it uses tools.
pub const DEFAULT_MODEL: &str = "claude-haiku-4-5";
/// The `anthropic-version` header sent.
pub const API_VERSION: &str = "2023-06-01";
/// Room for the model's answer, in tokens.
pub const MAX_TOKENS: u32 = 1024;

/// The headers a request carries besides the key (`x-api-key`, added by the driver). A page
/// also needs the last one: the API refuses calls from a browser without it.
pub const HEADERS: [(&str, &str); 3] = [
    ("anthropic-version", API_VERSION),
    ("content-type", "application/json"),
    ("anthropic-dangerous-direct-browser-access", "true"),
];

/// What the live run asks.
pub fn task(s: &Settings) -> Task {
    match s.live_task {
        LiveTask::Multiply => Task::MULTIPLY,
        LiveTask::Email => Task {
            input: Cow::Borrowed("What is 17 x 23? Email the answer to team@example.com."),
            plan: Cow::Borrowed(&[
                Cow::Borrowed("multiply 17 by 23 with the multiply tool"),
                Cow::Borrowed("send_email to team@example.com (needs approval)"),
                Cow::Borrowed("answer with the product"),
            ]),
        },
    }
}

/// The live run's tasks: the lab's sum, or the sum and an email (the risky tool).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LiveTask {
    /// "What is 17 x 23?"
    #[default]
    Multiply,
    /// "What is 17 x 23? Email the answer to ...": the model should ask for send_email.
    Email,
}

impl crate::lab::Choice for LiveTask {
    const ALL: &'static [Self] = &[LiveTask::Multiply, LiveTask::Email];
    const NAMES: &'static [&'static str] = &["multiply", "multiply_and_email"];
}

/// The live run's policy: the lab's sliders (attempts, base delay, jitter, max_steps) with the
/// live timeout, and a human at the approval gate for as long as they take.
pub fn config(s: &Settings) -> AgentConfig {
    let mut cfg = s.agent_config();
    cfg.deadline = crate::deadline::Deadline::new(s.live_timeout);
    cfg.approval.approver = Approver::Ask;
    cfg
}

/// An agent for a live run with `model`.
pub fn agent(s: &Settings, model: &str, record: bool) -> Result<Agent, ConfigError> {
    let ladder = vec![Rung::new(model.to_string())];
    Ok(Agent::new(config(s), task(s), ladder, s.seed, record)?.keeping_conversation())
}

/// The tools the model is offered.
pub fn tools() -> Value {
    json!([
        {
            "name": "multiply",
            "description": "Multiply two whole numbers and return the product.",
            "input_schema": {
                "type": "object",
                "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}},
                "required": ["a", "b"]
            }
        },
        {
            "name": "send_email",
            "description": "Send an email (a world-changing action: a human must approve it).",
            "input_schema": {
                "type": "object",
                "properties": {"to": {"type": "string"}, "subject": {"type": "string"}},
                "required": ["to", "subject"]
            }
        }
    ])
}

/// The JSON body of the model call for `task` and the conversation since.
pub fn request_body(model: &str, task: &Task, turns: &[Turn]) -> String {
    let mut messages = vec![json!({"role": "user", "content": task.input})];
    // The ids of the tool requests still owed a result, in the order the model made them.
    let mut owed: Vec<String> = Vec::new();
    for turn in turns {
        match turn {
            Turn::Model(Reply::Tool { call, id, raw }) => {
                let content = raw
                    .as_deref()
                    .and_then(|r| serde_json::from_str::<Value>(r).ok())
                    .unwrap_or_else(|| {
                        json!([{
                            "type": "tool_use",
                            "id": id.clone().unwrap_or_else(|| "toolu_lab".to_string()),
                            "name": call.name,
                            "input": args_json(call),
                        }])
                    });
                owed = tool_use_ids(&content);
                messages.push(json!({"role": "assistant", "content": content}));
            }
            Turn::Model(Reply::Answer { text }) => {
                messages.push(json!({"role": "assistant", "content": text}));
            }
            Turn::Output(out) => messages.push(results(&owed, &out.to_string(), false)),
            Turn::Blocked => messages.push(results(
                &owed,
                "blocked: a human did not approve this action, so it was not done",
                true,
            )),
            Turn::Feedback { score } => messages.push(json!({
                "role": "user",
                "content": format!("A reviewer scored that answer {score}/10. Revise it once."),
            })),
        }
    }
    let body = json!({
        "model": model,
        "max_tokens": MAX_TOKENS,
        "tools": tools(),
        "messages": messages,
    });
    crate::json::to_string(&body).unwrap_or_default()
}

fn tool_use_ids(content: &Value) -> Vec<String> {
    content
        .as_array()
        .map(|blocks| {
            blocks
                .iter()
                .filter(|b| b.get("type").and_then(Value::as_str) == Some("tool_use"))
                .filter_map(|b| b.get("id").and_then(Value::as_str).map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// The user message answering every tool request: the first gets `text`; the agent runs one
/// tool a step, so any others are told so.
fn results(owed: &[String], text: &str, is_error: bool) -> Value {
    let blocks: Vec<Value> = owed
        .iter()
        .enumerate()
        .map(|(i, id)| {
            if i == 0 {
                json!({"type": "tool_result", "tool_use_id": id, "content": text, "is_error": is_error})
            } else {
                json!({"type": "tool_result", "tool_use_id": id,
                       "content": "not run: this agent runs one tool call per step", "is_error": true})
            }
        })
        .collect();
    json!({"role": "user", "content": blocks})
}

fn args_json(call: &RawCall) -> Value {
    // Inserted one by one, not collected: collecting sorts first, and the sort costs the page
    // more WebAssembly than the map itself. (A repeated name keeps its last value either way.)
    let mut map = serde_json::Map::new();
    for (name, arg) in call.args.iter() {
        let v = match arg {
            Arg::Int(n) => json!(n),
            Arg::Text(t) => json!(t),
        };
        map.insert(name.to_string(), v);
    }
    Value::Object(map)
}

fn arg_of(v: &Value) -> Arg {
    match v {
        Value::Number(n) => match n.as_i64() {
            Some(i) => Arg::Int(i),
            None => match n.as_f64() {
                Some(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => Arg::Int(f as i64),
                _ => Arg::Text(Cow::Owned(crate::json::shown(n))),
            },
        },
        Value::String(s) => Arg::Text(Cow::Owned(s.clone())),
        other => Arg::Text(Cow::Owned(crate::json::shown(other))),
    }
}

/// Micro-dollars per million tokens (in, out) of the models this lab knows the price of.
/// Prices change: these are the published list prices as of late 2026.
pub fn price(model: &str) -> Option<(u64, u64)> {
    let per_mtok = |input: f64, output: f64| ((input * 1e6) as u64, (output * 1e6) as u64);
    match model {
        m if m.starts_with("claude-haiku-4-5") => Some(per_mtok(1.0, 5.0)),
        m if m.starts_with("claude-haiku-5-5") => Some(per_mtok(0.10, 0.50)),
        m if m.starts_with("claude-sonnet-4-5") => Some(per_mtok(3.0, 15.0)),
        _ => None,
    }
}

/// What `tokens` of `model` cost, in micro-dollars (0 when the price is unknown).
pub fn cost(model: &str, tokens: TokenUsage) -> u64 {
    price(model).map_or(0, |(i, o)| {
        (tokens.input * i + tokens.output * o).div_ceil(1_000_000)
    })
}

/// Reads a `retry-after` header: whole or fractional seconds (an HTTP date is not honoured).
pub fn retry_after(header: Option<&str>) -> Option<Micros> {
    let secs = crate::num::parse_f64(header?.trim())?;
    (secs.is_finite() && secs >= 0.0).then_some((secs * SEC as f64) as Micros)
}

/// What a response means: the model's reply (with its tokens and cost), or the error to
/// retry or not. `status` and `body` as received; `retry_after` the header, if readable.
pub fn read_response(
    model: &str,
    status: u16,
    retry_after_header: Option<&str>,
    body: &str,
) -> Result<ModelReply, CallError> {
    let json: Option<Value> = serde_json::from_str(body).ok();
    if !(200..300).contains(&status) {
        let detail = json.as_ref().and_then(|j| {
            let e = j.get("error")?;
            let kind = e.get("type").and_then(Value::as_str).unwrap_or("error");
            let msg = e.get("message").and_then(Value::as_str).unwrap_or("");
            Some(format!("{kind}: {msg}"))
        });
        return Err(CallError {
            kind: ErrorKind::Http(status),
            after: None,
            retry_after: retry_after(retry_after_header),
            detail,
        });
    }
    let bad = |why: &str| CallError {
        detail: Some(why.to_string()),
        ..CallError::new(ErrorKind::BadReply)
    };
    let Some(json) = json else {
        return Err(bad("the response is not JSON (cut short?)"));
    };
    let content = json
        .get("content")
        .and_then(Value::as_array)
        .ok_or_else(|| bad("the response has no content"))?;
    let usage = json.get("usage");
    let count = |k: &str| {
        usage
            .and_then(|u| u.get(k))
            .and_then(Value::as_u64)
            .unwrap_or(0)
    };
    let tokens = TokenUsage {
        input: count("input_tokens"),
        output: count("output_tokens"),
    };
    let tool = content
        .iter()
        .find(|b| b.get("type").and_then(Value::as_str) == Some("tool_use"));
    let reply = match tool {
        Some(block) => {
            let name = block.get("name").and_then(Value::as_str).unwrap_or("");
            let args = block
                .get("input")
                .and_then(Value::as_object)
                .map(|o| {
                    o.iter()
                        .map(|(k, v)| (Cow::Owned(k.clone()), arg_of(v)))
                        .collect::<Vec<_>>()
                })
                .unwrap_or_default();
            Reply::Tool {
                call: RawCall {
                    name: Cow::Owned(name.to_string()),
                    args: Cow::Owned(args),
                },
                id: block.get("id").and_then(Value::as_str).map(str::to_string),
                raw: crate::json::to_string(content).ok(),
            }
        }
        None => {
            let text: Vec<&str> = content
                .iter()
                .filter(|b| b.get("type").and_then(Value::as_str) == Some("text"))
                .filter_map(|b| b.get("text").and_then(Value::as_str))
                .collect();
            let text = text.join("").trim().to_string();
            let text = if text.is_empty() {
                let stop = json.get("stop_reason").and_then(Value::as_str);
                format!(
                    "(the model said nothing; it stopped with {})",
                    stop.unwrap_or("no reason")
                )
            } else {
                text
            };
            Reply::Answer { text }
        }
    };
    Ok(ModelReply {
        reply,
        tokens,
        cost: cost(model, tokens),
    })
}

/// A failure injected before the real call (the lab's failure-count slider), so a live run
/// shows retry recovering: a 503, and the API is never asked.
pub fn injected() -> CallError {
    CallError {
        detail: Some("injected by the lab before the real call".to_string()),
        ..CallError::http(503)
    }
}

/// A fetch that never got an answer: the connection failed, or the browser refused it.
pub fn unreachable(base: &str, why: &str) -> CallError {
    CallError {
        detail: Some(format!("could not reach {base} ({why})")),
        ..CallError::new(ErrorKind::Network)
    }
}

/// Replays a live run's recording offline (driver 2) under `settings`, with `model`'s name.
pub fn replay(settings: &Settings, model: &str, tape: &Tape) -> Run {
    match LiveRun::replayed(settings.sanitized(), model, "", tape) {
        Ok(live) => live.run(),
        Err(e) => crate::lab::refused(e),
    }
}

/// A live run between two inputs: the agent, the pretend tools, and the failures still to
/// inject. Both live drivers (the page and the `live` example) hold one and do what
/// [`LiveRun::next`] asks; every decision is the agent's.
#[derive(Clone, Debug)]
pub struct LiveRun {
    /// The agent.
    pub agent: Agent,
    /// The pretend tools: a ledger of what they would have done.
    pub world: World,
    /// The lab's settings (the policy).
    pub settings: Settings,
    /// The model's id.
    pub model: String,
    /// The API's address (requests go to `{base}/v1/messages`).
    pub base: String,
    /// Failures still to inject before the real call (the lab's failure count).
    pub inject: u32,
}

/// What a live driver does next.
#[derive(Clone, Debug, PartialEq)]
pub enum Next {
    /// POST `body` to [`LiveRun::url`]; give up at `deadline` (virtual time since the start)
    /// and report it with [`LiveRun::timed_out`].
    Call {
        /// The request body.
        body: String,
        /// When to give up.
        deadline: Micros,
    },
    /// Fail this call on purpose (no request): pause a moment, then [`LiveRun::inject`].
    Inject,
    /// Sleep until `until`, then [`LiveRun::waited`].
    Wait(Micros),
    /// Ask the human about `call` and hand in the answer with [`LiveRun::decide`]; past
    /// `deadline` (if any), [`LiveRun::timed_out`].
    Ask {
        /// The risky call, as text.
        call: String,
        /// When the gate stops waiting.
        deadline: Option<Micros>,
    },
    /// The run is over.
    Done,
}

impl LiveRun {
    /// A new run with `model` at `base` under `settings`.
    pub fn new(settings: Settings, model: &str, base: &str) -> Result<Self, ConfigError> {
        Ok(LiveRun {
            agent: agent(&settings, model, true)?,
            world: World::default(),
            inject: settings.failures,
            settings,
            model: model.to_string(),
            base: base.to_string(),
        })
    }

    /// The run a tape left off: a fresh agent fed the recorded inputs (driver 2), with the
    /// injected failures already spent.
    pub fn replayed(
        settings: Settings,
        model: &str,
        base: &str,
        tape: &Tape,
    ) -> Result<Self, ConfigError> {
        let mut live = LiveRun::new(settings, model, base)?;
        if let Some(k) = tape.kill {
            live.agent = live
                .agent
                .with_kill_switch(crate::killswitch::KillSwitch::at(k));
        }
        let inputs = tape.requests.first().map_or(&[][..], Vec::as_slice);
        let mut driver = Recorded::new(inputs);
        crate::agent::Driver::drive(&mut driver, &mut live.agent);
        live.world = World::replayed(crate::agent::Driver::take_effects(&mut driver));
        let spent = inputs
            .iter()
            .filter(|i| matches!(i, Input::ModelError { error, .. } if error.detail == injected().detail))
            .count();
        live.inject = live.inject.saturating_sub(spent as u32);
        Ok(live)
    }

    /// The run a checkpoint saved.
    pub fn resume(c: &Checkpoint) -> Result<Self, ConfigError> {
        let settings = Settings::from_query(&c.settings).0;
        LiveRun::replayed(settings, &c.model, &c.base, &c.tape)
    }

    /// A checkpoint of the run so far (`started`: the wall clock at its start, in ms).
    pub fn checkpoint(&self, started: f64) -> Checkpoint {
        Checkpoint::new(
            &self.settings,
            &self.model,
            &self.base,
            started,
            &self.run(),
        )
    }

    /// Where the requests go.
    pub fn url(&self) -> String {
        format!("{}/v1/messages", self.base.trim_end_matches('/'))
    }

    /// The run so far (or in full, once [`Next::Done`]).
    pub fn run(&self) -> Run {
        let mut run = self.agent.clone().into_run();
        run.effects = self.world.effects.clone();
        run
    }

    /// The run as a trace file (no key, no address: only the model's name).
    pub fn trace_file(&self) -> TraceFile {
        TraceFile::of(
            Source::Live {
                model: self.model.clone(),
            },
            &self.run(),
            &self.settings,
        )
    }

    /// What to do next at `now`. The pretend tools run here and now (they only write a line
    /// in a ledger), so a driver never sees them.
    pub fn next(&mut self, now: Micros) -> Next {
        loop {
            match self.agent.poll() {
                Action::Done => return Next::Done,
                Action::Wait { until } => return Next::Wait(until),
                Action::AskHuman { call, deadline } => {
                    return Next::Ask {
                        call: call.to_string(),
                        deadline,
                    }
                }
                Action::CallModel(_) if self.inject > 0 => return Next::Inject,
                Action::CallModel(c) => {
                    return Next::Call {
                        body: request_body(&self.model, c.task, c.turns),
                        deadline: c.deadline,
                    }
                }
                Action::RunTool(t) => {
                    let (call, key) = (t.call.clone(), t.key);
                    let before = self.world.effects.len();
                    let executed = self.world.execute(&call, key, now, ToolFaults::default());
                    if self.world.effects.len() > before {
                        let duplicate = self.world.effects[..before].iter().any(|e| e.call == call);
                        self.agent.handle_side_effect(now, duplicate);
                    }
                    let reply = |output, deduplicated| {
                        Ok(ToolReply {
                            output,
                            deduplicated,
                        })
                    };
                    match executed {
                        Executed::Ran(out) => self.agent.handle_tool_reply(now, reply(out, false)),
                        Executed::Deduplicated(out) => {
                            self.agent.handle_tool_reply(now, reply(out, true))
                        }
                        Executed::Lost => self.agent.handle_timeout(now),
                    }
                }
            }
        }
    }

    /// The response to [`Next::Call`], read with [`read_response`] (or [`unreachable`]).
    pub fn answer(&mut self, now: Micros, result: Result<ModelReply, CallError>) {
        self.agent.handle_model_reply(now, result)
    }

    /// Hands in the failure [`Next::Inject`] asked for.
    pub fn inject(&mut self, now: Micros) {
        self.inject = self.inject.saturating_sub(1);
        self.agent.handle_model_reply(now, Err(injected()))
    }

    /// The call or the question ran out of time at `deadline`.
    pub fn timed_out(&mut self, deadline: Micros) {
        self.agent.handle_timeout(deadline)
    }

    /// The wait [`Next::Wait`] asked for is over.
    pub fn waited(&mut self, until: Micros) {
        self.agent.handle_timeout(until)
    }

    /// The human's answer.
    pub fn decide(&mut self, now: Micros, decision: Decision) {
        self.agent.handle_decision(now, decision)
    }

    /// The kill switch, pressed at `now`.
    pub fn kill(&mut self, now: Micros) {
        self.agent.engage_kill_switch(now)
    }
}

/// What a live run says about itself: computed from the run, like every card.
pub fn explain(run: &Run) -> crate::lab::Explanation {
    use crate::lab::explain::{but, End, Explanation, Reading};
    let r = Reading::new(run);
    let retry = crate::lab::cards::a::retry_clause(&r);
    let injected = r
        .model_attempts()
        .filter(|(_, _, e)| e.is_some_and(|e| e.detail.as_deref() == injected().detail.as_deref()))
        .count();
    let verdict = match (r.end, retry) {
        (End::Answered, None) if r.blocked() => {
            "the model asked for a risky tool, a human said no, and the model answered without it"
                .to_string()
        }
        (End::Answered, None) => {
            "the real model answered and nothing failed: the reliability wrappers stayed invisible"
                .to_string()
        }
        (End::Answered, Some(clause)) => clause,
        (End::Degraded(_), Some(clause)) => {
            format!("{clause}, so the agent returned the safe message instead of crashing")
        }
        (End::Degraded(_), None) => r.ended(),
        (_, Some(clause)) => but(clause, &r),
        (_, None) => r.ended(),
    };
    let mut x = Explanation::new(r.tone(), verdict);
    if injected > 0 {
        x = x.fact(
            "failures injected before the real call",
            injected.to_string(),
        );
    }
    let c = &run.outcome.counters;
    x.fact("tokens", c.tokens.to_string())
        .fact("cost", crate::caps::fmt_usd(c.cost))
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOOL_USE: &str = r#"{"id":"msg_1","type":"message","role":"assistant","model":"m",
      "content":[{"type":"text","text":"Let me multiply."},
                 {"type":"tool_use","id":"toolu_1","name":"multiply","input":{"a":17,"b":23}}],
      "stop_reason":"tool_use","usage":{"input_tokens":400,"output_tokens":60}}"#;

    const ANSWER: &str = r#"{"id":"msg_2","type":"message","role":"assistant","model":"m",
      "content":[{"type":"text","text":"391"}],
      "stop_reason":"end_turn","usage":{"input_tokens":500,"output_tokens":5}}"#;

    #[test]
    fn a_tool_request_is_read_with_its_id_tokens_and_cost() {
        let r = read_response("claude-haiku-4-5", 200, None, TOOL_USE).unwrap();
        let Reply::Tool { call, id, raw } = &r.reply else {
            panic!("a tool request")
        };
        assert_eq!(call.name, "multiply");
        assert_eq!(
            crate::tools::validate(call).unwrap().to_string(),
            "multiply(17, 23)"
        );
        assert_eq!(id.as_deref(), Some("toolu_1"));
        assert!(raw.as_deref().unwrap().contains("Let me multiply."));
        assert_eq!((r.tokens.input, r.tokens.output), (400, 60));
        // $1 and $5 per million tokens: 400 + 300 micro-dollars.
        assert_eq!(r.cost, 700);
    }

    /// Drives a live run with scripted responses, as a driver would (no network).
    fn drive(settings: &str, responses: &[(u16, &str)]) -> Run {
        let s = Settings::from_query(settings).0;
        let mut live = LiveRun::new(s, "claude-haiku-4-5", "http://127.0.0.1:1").unwrap();
        let mut now = 0;
        let mut script = responses.iter();
        loop {
            now += 1_000;
            match live.next(now) {
                Next::Done => return live.run(),
                Next::Wait(until) => {
                    now = until;
                    live.waited(until)
                }
                Next::Inject => live.inject(now),
                Next::Ask { .. } => live.decide(now, Decision::Approve),
                Next::Call { deadline, .. } => match script.next() {
                    Some((status, body)) => {
                        live.answer(now, read_response("claude-haiku-4-5", *status, None, body))
                    }
                    None => live.timed_out(deadline),
                },
            }
        }
    }

    const OVERLOADED: &str =
        r#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#;

    #[test]
    fn a_verdict_names_each_way_the_attempts_failed() {
        let run = drive(
            "failures=1&attempts=3",
            &[(529, OVERLOADED), (529, OVERLOADED)],
        );
        let verdict = explain(&run).verdict;
        assert!(verdict.contains("1 with 503"), "{verdict}");
        assert!(verdict.contains("2 with 529"), "{verdict}");
        assert!(run.outcome.degraded);
    }

    #[test]
    fn a_wrong_key_is_tried_once_and_the_verdict_says_why_not_again() {
        let body = r#"{"type":"error","error":{"type":"authentication_error","message":"invalid x-api-key"}}"#;
        let run = drive("failures=0&attempts=3", &[(401, body), (200, ANSWER)]);
        let verdict = explain(&run).verdict;
        assert!(run.outcome.degraded);
        assert!(
            verdict.starts_with("the first attempt failed with 401 Unauthorized"),
            "{verdict}"
        );
        assert!(verdict.contains("so it was not retried"), "{verdict}");
        assert!(
            run.outcome.answer.contains("credentials"),
            "{}",
            run.outcome.answer
        );
    }

    #[test]
    fn injected_failures_then_a_real_answer_recover_and_replay() {
        let run = drive("failures=2&attempts=3", &[(200, TOOL_USE), (200, ANSWER)]);
        assert_eq!(run.outcome.answer, "391");
        assert!(explain(&run)
            .verdict
            .starts_with("retry recovered on attempt 3"));
        let again = replay(
            &Settings::from_query("failures=2&attempts=3").0,
            "claude-haiku-4-5",
            &Tape::of(&run),
        );
        assert_eq!(again, run);
    }

    #[test]
    fn errors_are_classified_and_keep_the_apis_words() {
        let body = r#"{"type":"error","error":{"type":"authentication_error","message":"invalid x-api-key"}}"#;
        let e = read_response("m", 401, None, body).unwrap_err();
        assert_eq!(e.kind, ErrorKind::Http(401));
        assert!(!e.is_transient());
        assert_eq!(
            e.to_string(),
            "401 Unauthorized: authentication_error: invalid x-api-key"
        );
        let e = read_response("m", 429, Some("2"), "{}").unwrap_err();
        assert_eq!(e.retry_after, Some(2 * SEC));
        assert!(e.is_transient());
        assert!(read_response("m", 529, None, "")
            .unwrap_err()
            .is_transient());
        let e = read_response("m", 200, None, "{\"content\": [").unwrap_err();
        assert_eq!(e.kind, ErrorKind::BadReply);
        assert!(e.is_transient());
    }

    #[test]
    fn the_conversation_returns_each_tool_result_to_its_request() {
        let s = Settings::default();
        let reply = read_response("m", 200, None, TOOL_USE).unwrap().reply;
        let turns = vec![
            Turn::Model(reply),
            Turn::Output(crate::tools::ToolOutput::Number(391)),
        ];
        let body: Value = serde_json::from_str(&request_body("m", &task(&s), &turns)).unwrap();
        let messages = body["messages"].as_array().unwrap();
        assert_eq!(messages.len(), 3);
        assert_eq!(messages[0]["content"], "What is 17 x 23?");
        assert_eq!(messages[1]["content"][0]["text"], "Let me multiply.");
        assert_eq!(messages[2]["content"][0]["tool_use_id"], "toolu_1");
        assert_eq!(messages[2]["content"][0]["content"], "391");
        assert_eq!(body["tools"].as_array().unwrap().len(), 2);
        assert!(!body.to_string().contains("x-api-key"));
    }
}
