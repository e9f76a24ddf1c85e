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
//!
//! A terminal program: on wasm32 (where its HTTP client does not build) it is empty.
#![cfg_attr(target_arch = "wasm32", no_main)]
#![cfg(not(target_arch = "wasm32"))]

use reliability_core::approval::Decision;
use reliability_core::lab::Settings;
use reliability_core::live::{self, Next};
use reliability_core::time::{Micros, Secs};
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
    let mut live = match live::LiveRun::new(o.settings.clone(), &o.model, &o.base) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("live: {e}");
            std::process::exit(2);
        }
    };
    let http: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let started = Instant::now();
    let now = || started.elapsed().as_micros() as Micros;
    let mut printed = 0;
    loop {
        match live.next(now()) {
            Next::Done => break,
            Next::Wait(until) => {
                std::thread::sleep(Duration::from_micros(until.saturating_sub(now())));
                live.waited(until);
            }
            Next::Ask { call, .. } => {
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
                live.decide(now(), d);
            }
            Next::Inject => {
                std::thread::sleep(Duration::from_millis(200));
                live.inject(now());
            }
            Next::Call { body, deadline } => {
                let timeout = Duration::from_micros(deadline.saturating_sub(now()).max(1));
                let mut request = http
                    .post(&live.url())
                    .config()
                    .timeout_global(Some(timeout))
                    .build();
                // (The third header is for browsers only.)
                for (k, v) in &live::HEADERS[..2] {
                    request = request.header(*k, *v);
                }
                let read = request
                    .header("x-api-key", key.trim())
                    .send(body.as_str())
                    .and_then(|mut response| {
                        let status = response.status().as_u16();
                        let retry_after = response
                            .headers()
                            .get("retry-after")
                            .and_then(|v| v.to_str().ok())
                            .map(str::to_string);
                        let text = response.body_mut().read_to_string()?;
                        Ok((status, retry_after, text))
                    });
                match read {
                    Ok((status, retry_after, text)) => live.answer(
                        now(),
                        live::read_response(&o.model, status, retry_after.as_deref(), &text),
                    ),
                    Err(ureq::Error::Timeout(_)) => live.timed_out(deadline),
                    Err(e) => live.answer(now(), Err(live::unreachable(&o.base, &e.to_string()))),
                }
            }
        }
        for e in live.agent.events().iter().skip(printed) {
            if !matches!(e.kind, reliability_core::trace::EventKind::Step) {
                println!("  {:>8}  {e}", Secs(e.at).to_string());
            }
        }
        printed = live.agent.events().len();
    }
    let run = live.run();
    let x = live::explain(&run);
    println!("{}", run.outcome.lab_repr());
    println!("-> {}: {}", x.tone.label(), x.verdict);
    for (k, v) in &x.facts {
        println!("   {k}: {v}");
    }
    if let Some(path) = o.trace {
        if let Err(e) = std::fs::write(&path, live.trace_file().to_json() + "\n") {
            eprintln!("live: cannot write {path}: {e}");
            std::process::exit(1);
        }
        println!("trace written to {path} (it replays offline: no key, no model)");
    }
}
