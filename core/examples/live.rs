//! The lab's task against a real model, from a terminal: the same engine and policies as the
//! page's live panel (driver 3), as the lab's `python agent.py` does.
//!
//! ```text
//! ANTHROPIC_API_KEY=sk-... cargo run -p reliability-core --example live
//! cargo run -p reliability-core --example live -- --settings "failures=2&live_task=multiply_and_email"
//! ```
//!
//! Options: `--base URL` (default https://api.anthropic.com, or `ANTHROPIC_BASE_URL`),
//! `--model ID`, `--settings QUERY` (the page's link query: attempts, base_delay, failures,
//! live_timeout, live_task, ...), `--trace FILE` (write a trace file that replays offline),
//! `--approve` / `--deny` (answer the approval gate without asking). The key is read from
//! `ANTHROPIC_API_KEY` and sent only in the `x-api-key` header to the base address.

use reliability_core::agent::{Action, Agent, ToolReply};
use reliability_core::approval::Decision;
use reliability_core::lab::Settings;
use reliability_core::live;
use reliability_core::time::{Micros, Secs};
use reliability_core::tools::{Executed, ToolFaults, World};
use reliability_core::tracefile::{Source, TraceFile};
use std::io::{BufRead, Write};
use std::time::{Duration, Instant};

struct Options {
    base: String,
    model: String,
    settings: Settings,
    trace: Option<String>,
    answer: Option<Decision>,
}

fn options() -> Result<Options, String> {
    let mut o = Options {
        base: std::env::var("ANTHROPIC_BASE_URL").unwrap_or_else(|_| live::DEFAULT_BASE.into()),
        model: live::DEFAULT_MODEL.into(),
        settings: Settings::default(),
        trace: None,
        answer: None,
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut value = |name: &str| args.next().ok_or(format!("{name} needs a value"));
        match a.as_str() {
            "--base" => o.base = value("--base")?,
            "--model" => o.model = value("--model")?,
            "--trace" => o.trace = Some(value("--trace")?),
            "--approve" => o.answer = Some(Decision::Approve),
            "--deny" => o.answer = Some(Decision::Deny),
            "--settings" => {
                let (s, notices) = Settings::from_query(&value("--settings")?);
                for n in notices {
                    eprintln!("note: {}", n.message);
                }
                o.settings = s;
            }
            other => return Err(format!("unknown option {other}")),
        }
    }
    Ok(o)
}

fn main() {
    let o = match options() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("live: {e}");
            std::process::exit(2);
        }
    };
    let key = std::env::var("ANTHROPIC_API_KEY").unwrap_or_default();
    if key.trim().is_empty() {
        eprintln!(
            "live: set ANTHROPIC_API_KEY (it is sent only to {})",
            o.base
        );
        std::process::exit(2);
    }
    let mut agent: Agent = match live::agent(&o.settings, &o.model, true) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("live: {e}");
            std::process::exit(2);
        }
    };
    let http: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let url = format!("{}/v1/messages", o.base.trim_end_matches('/'));
    let started = Instant::now();
    let now = || started.elapsed().as_micros() as Micros;
    let mut world = World::default();
    let mut inject = o.settings.failures;
    let mut printed = 0;
    loop {
        enum Want {
            Model(String, Micros),
            Tool(
                reliability_core::tools::ToolCall,
                Option<reliability_core::idempotency::IdempotencyKey>,
            ),
            Wait(Micros),
            Human(String),
            Done,
        }
        let want = match agent.poll() {
            Action::Done => Want::Done,
            Action::Wait { until } => Want::Wait(until),
            Action::AskHuman { call, .. } => Want::Human(call.to_string()),
            Action::RunTool(t) => Want::Tool(t.call.clone(), t.key),
            Action::CallModel(c) => {
                Want::Model(live::request_body(&o.model, c.task, c.turns), c.deadline)
            }
        };
        match want {
            Want::Done => break,
            Want::Wait(until) => {
                std::thread::sleep(Duration::from_micros(until.saturating_sub(now())));
                agent.handle_timeout(until);
            }
            Want::Human(call) => {
                let d = o.answer.unwrap_or_else(|| {
                    print!("The agent wants to run {call}. Approve? [y/N] ");
                    let _ = std::io::stdout().flush();
                    let mut line = String::new();
                    let _ = std::io::stdin().lock().read_line(&mut line);
                    if line.trim().eq_ignore_ascii_case("y") {
                        Decision::Approve
                    } else {
                        Decision::Deny
                    }
                });
                agent.handle_decision(now(), d);
            }
            Want::Tool(call, key) => {
                let t = now();
                let before = world.effects.len();
                let executed = world.execute(&call, key, t, ToolFaults::default());
                if world.effects.len() > before {
                    let dup = world.effects[..before].iter().any(|e| e.call == call);
                    agent.handle_side_effect(t, dup);
                }
                match executed {
                    Executed::Ran(output) => agent.handle_tool_reply(
                        now(),
                        Ok(ToolReply {
                            output,
                            deduplicated: false,
                        }),
                    ),
                    Executed::Deduplicated(output) => agent.handle_tool_reply(
                        now(),
                        Ok(ToolReply {
                            output,
                            deduplicated: true,
                        }),
                    ),
                    Executed::Lost => agent.handle_timeout(t),
                }
            }
            Want::Model(body, deadline) => {
                if inject > 0 {
                    inject -= 1;
                    std::thread::sleep(Duration::from_millis(200));
                    agent.handle_model_reply(now(), Err(live::injected()));
                } else {
                    let timeout = Duration::from_micros(deadline.saturating_sub(now()).max(1));
                    let mut request = http
                        .post(&url)
                        .config()
                        .timeout_global(Some(timeout))
                        .build();
                    // (The third header is for browsers only.)
                    for (k, v) in &live::HEADERS[..2] {
                        request = request.header(*k, *v);
                    }
                    let sent = request.header("x-api-key", key.trim()).send(body.as_str());
                    match sent {
                        Ok(mut response) => {
                            let status = response.status().as_u16();
                            let retry_after = response
                                .headers()
                                .get("retry-after")
                                .and_then(|v| v.to_str().ok())
                                .map(str::to_string);
                            let text = response.body_mut().read_to_string();
                            match text {
                                Ok(text) => agent.handle_model_reply(
                                    now(),
                                    live::read_response(
                                        &o.model,
                                        status,
                                        retry_after.as_deref(),
                                        &text,
                                    ),
                                ),
                                Err(ureq::Error::Timeout(_)) => agent.handle_timeout(deadline),
                                Err(e) => agent.handle_model_reply(
                                    now(),
                                    Err(live::unreachable(&o.base, &e.to_string())),
                                ),
                            }
                        }
                        Err(ureq::Error::Timeout(_)) => agent.handle_timeout(deadline),
                        Err(e) => agent.handle_model_reply(
                            now(),
                            Err(live::unreachable(&o.base, &e.to_string())),
                        ),
                    }
                }
            }
        }
        for e in agent.events().iter().skip(printed) {
            if !matches!(e.kind, reliability_core::trace::EventKind::Step) {
                println!("  {:>8}  {e}", Secs(e.at).to_string());
            }
        }
        printed = agent.events().len();
    }
    let mut run = agent.into_run();
    run.effects = world.effects;
    let x = live::explain(&run);
    println!("{}", run.outcome.lab_repr());
    println!("-> {}: {}", x.tone.label(), x.verdict);
    for (k, v) in &x.facts {
        println!("   {k}: {v}");
    }
    if let Some(path) = o.trace {
        let file = TraceFile::of(
            Source::Live {
                model: o.model.clone(),
            },
            &run,
            &o.settings,
        );
        if let Err(e) = std::fs::write(&path, file.to_json() + "\n") {
            eprintln!("live: cannot write {path}: {e}");
            std::process::exit(1);
        }
        println!("trace written to {path} (it replays offline: no key, no model)");
    }
}
