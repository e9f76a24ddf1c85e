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

use crate::agent::{Agent, AgentConfig, ModelReply, Reply, Run, Task, TokenUsage, Turn};
use crate::approval::Approver;
use crate::error::{CallError, ErrorKind};
use crate::fallback::Rung;
use crate::lab::Settings;
use crate::recorded::{Recorded, Tape};
use crate::time::{Micros, SEC};
use crate::tools::{Arg, RawCall};
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
    json!({
        "model": model,
        "max_tokens": MAX_TOKENS,
        "tools": tools(),
        "messages": messages,
    })
    .to_string()
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
    let map: serde_json::Map<String, Value> = call
        .args
        .iter()
        .map(|(name, arg)| {
            let v = match arg {
                Arg::Int(n) => json!(n),
                Arg::Text(t) => json!(t),
            };
            (name.to_string(), v)
        })
        .collect();
    Value::Object(map)
}

fn arg_of(v: &Value) -> Arg {
    match v {
        Value::Number(n) => match n.as_i64() {
            Some(i) => Arg::Int(i),
            None => match n.as_f64() {
                Some(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => Arg::Int(f as i64),
                _ => Arg::Text(Cow::Owned(n.to_string())),
            },
        },
        Value::String(s) => Arg::Text(Cow::Owned(s.clone())),
        other => Arg::Text(Cow::Owned(other.to_string())),
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
    let secs: f64 = header?.trim().parse().ok()?;
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
                raw: Some(Value::Array(content.clone()).to_string()),
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
    let s = settings.sanitized();
    let agent = match agent(&s, model, true) {
        Ok(a) => a,
        Err(e) => return crate::lab::refused(e),
    };
    let mut agent = match tape.kill {
        Some(k) => agent.with_kill_switch(crate::killswitch::KillSwitch::at(k)),
        None => agent,
    };
    let inputs = tape.requests.first().map_or(&[][..], Vec::as_slice);
    let mut driver = Recorded::new(inputs);
    crate::agent::Driver::drive(&mut driver, &mut agent);
    let mut run = agent.into_run();
    run.effects = crate::agent::Driver::take_effects(&mut driver);
    run
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
