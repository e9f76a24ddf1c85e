//! The lab: its settings (the knobs a student moves) and its scenarios A–F.
//!
//! A card on the page is a function of (scenario, settings) → [`ScenarioRun`]. Everything a
//! card shows (result, verdict, knobs, transcript) is computed here, so the page only draws.

use crate::agent::{self, AgentConfig, Run, Stop};
use crate::approval::{ApprovalPolicy, Approver, Decision};
use crate::breaker::{BreakerConfig, BreakerState, CircuitBreaker};
use crate::caps::Caps;
use crate::deadline::Deadline;
use crate::error::CallError;
use crate::model::{Behaviour, Faults, Latency, ModelSpec};
use crate::retry::{Jitter, RetryPolicy};
use crate::time::{from_secs, to_secs, Micros, Secs, MS, SEC};
use crate::trace::{EventKind, GateEvent};
use serde::{Deserialize, Serialize};
use std::fmt::Write as _;

/// How long scenario E's slow call takes: inside the timeout slider's range, so a student can
/// find the point where E stops timing out.
pub const SLOW_CALL: Micros = 1_500 * MS;
/// Scenario F: how many requests arrive.
pub const F_REQUESTS: u32 = 12;
/// Scenario F: one request arrives every this long.
pub const F_INTERVAL: Micros = SEC;
/// Scenario F: the service is dead until this time.
pub const F_OUTAGE: Micros = 6 * SEC;

/// The lab's settings: every knob on the page, and every value in a permalink.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Settings {
    /// How many times the flaky model (A) fails before it works.
    pub failures: u32,
    /// The step cap.
    pub max_steps: u32,
    /// The per-call timeout.
    pub timeout: Micros,
    /// Attempts per call, the first included.
    pub attempts: u32,
    /// The first backoff wait.
    pub base_delay: Micros,
    /// Backoff jitter.
    pub jitter: Jitter,
    /// The seed of every random choice.
    pub seed: u64,
    /// Consecutive failures that open the breaker (F).
    pub breaker_threshold: u32,
    /// How long the breaker stays open (F).
    pub breaker_cooldown: Micros,
    /// The human's answer at D's approval gate; `None` while nobody has answered.
    pub approval: Option<Decision>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            failures: 2,
            max_steps: 4,
            timeout: 50 * MS,
            attempts: 3,
            base_delay: 500 * MS,
            jitter: Jitter::None,
            seed: 1,
            breaker_threshold: 3,
            breaker_cooldown: 5 * SEC,
            approval: None,
        }
    }
}

/// How a knob's value is shown and stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unit {
    /// A count.
    Count,
    /// Seconds (stored as virtual microseconds).
    Seconds,
}

/// A numeric knob: its name (as in the URL), label, range and default.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Knob {
    /// The name in links and `data-testid="knob-<name>"`.
    pub name: &'static str,
    /// The label on the page.
    pub label: &'static str,
    /// What it means, in one line.
    pub help: &'static str,
    /// Its unit.
    pub unit: Unit,
    /// Smallest value.
    pub min: f64,
    /// Largest value.
    pub max: f64,
    /// Slider step.
    pub step: f64,
    /// Under "advanced" on the page.
    pub advanced: bool,
}

/// Every numeric knob, in page order. (`jitter` is a choice, see [`Jitter::ALL`].)
pub const KNOBS: &[Knob] = &[
    Knob {
        name: "failures",
        label: "Failure count",
        help: "how many calls the flaky model (A) fails before it works",
        unit: Unit::Count,
        min: 0.0,
        max: 6.0,
        step: 1.0,
        advanced: false,
    },
    Knob {
        name: "max_steps",
        label: "max_steps",
        help: "the step cap: a run is stopped past this many steps",
        unit: Unit::Count,
        min: 1.0,
        max: 12.0,
        step: 1.0,
        advanced: false,
    },
    Knob {
        name: "timeout",
        label: "Timeout",
        help: "how long one call may take before the agent gives up on it",
        unit: Unit::Seconds,
        min: 0.05,
        max: 5.0,
        step: 0.05,
        advanced: false,
    },
    Knob {
        name: "attempts",
        label: "Attempts",
        help: "tries per call, the first one included",
        unit: Unit::Count,
        min: 1.0,
        max: 8.0,
        step: 1.0,
        advanced: true,
    },
    Knob {
        name: "base_delay",
        label: "Base delay",
        help: "the first backoff wait; each later wait doubles",
        unit: Unit::Seconds,
        min: 0.05,
        max: 5.0,
        step: 0.05,
        advanced: true,
    },
    Knob {
        name: "seed",
        label: "Seed",
        help: "seeds the jitter and any random faults",
        unit: Unit::Count,
        min: 0.0,
        max: 999_999.0,
        step: 1.0,
        advanced: true,
    },
    Knob {
        name: "breaker_threshold",
        label: "Breaker threshold",
        help: "failures in a row that open the circuit breaker (F)",
        unit: Unit::Count,
        min: 1.0,
        max: 10.0,
        step: 1.0,
        advanced: true,
    },
    Knob {
        name: "breaker_cooldown",
        label: "Breaker cooldown",
        help: "how long the breaker stays open before one probe (F)",
        unit: Unit::Seconds,
        min: 0.5,
        max: 30.0,
        step: 0.5,
        advanced: true,
    },
];

/// Looks a knob up by name.
pub fn knob(name: &str) -> Option<&'static Knob> {
    KNOBS.iter().find(|k| k.name == name)
}

/// A setting that was ignored, and why: shown on the page as a notice.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notice {
    /// The setting's name as written.
    pub name: String,
    /// What happened, in words.
    pub message: String,
}

fn fmt_number(v: f64) -> String {
    // Shortest round-trip form: 0.05, 4, 1.5.
    let s = format!("{v}");
    s.strip_suffix(".0").map(str::to_string).unwrap_or(s)
}

fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(b) => {
                        out.push(b);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

impl Settings {
    /// A knob's value as the slider shows it (seconds for time knobs).
    pub fn get(&self, name: &str) -> Option<f64> {
        Some(match name {
            "failures" => self.failures as f64,
            "max_steps" => self.max_steps as f64,
            "timeout" => to_secs(self.timeout),
            "attempts" => self.attempts as f64,
            "base_delay" => to_secs(self.base_delay),
            "seed" => self.seed as f64,
            "breaker_threshold" => self.breaker_threshold as f64,
            "breaker_cooldown" => to_secs(self.breaker_cooldown),
            _ => return None,
        })
    }

    /// Sets a knob from a slider value, checking its range. On error nothing changes and the
    /// message says what the value must be.
    pub fn set(&mut self, name: &str, value: f64) -> Result<(), String> {
        let Some(k) = knob(name) else {
            return Err(format!("unknown setting `{name}`"));
        };
        // A tiny tolerance, so that 0.05 typed by a person is not rejected for float noise.
        let eps = k.step * 1e-6;
        if !value.is_finite() || value < k.min - eps || value > k.max + eps {
            return Err(format!(
                "must be {} to {}{}",
                fmt_number(k.min),
                fmt_number(k.max),
                if k.unit == Unit::Seconds {
                    " seconds"
                } else {
                    ""
                }
            ));
        }
        if k.unit == Unit::Count && value.fract() != 0.0 {
            return Err("must be a whole number".to_string());
        }
        let value = value.clamp(k.min, k.max);
        let count = value as u32;
        match name {
            "failures" => self.failures = count,
            "max_steps" => self.max_steps = count,
            "timeout" => self.timeout = from_secs(value),
            "attempts" => self.attempts = count,
            "base_delay" => self.base_delay = from_secs(value),
            "seed" => self.seed = value as u64,
            "breaker_threshold" => self.breaker_threshold = count,
            "breaker_cooldown" => self.breaker_cooldown = from_secs(value),
            _ => unreachable!("every knob is matched above"),
        }
        Ok(())
    }

    /// The permalink query (without `?`): every setting, always in the same order.
    pub fn to_query(&self) -> String {
        let mut q = String::new();
        for k in KNOBS {
            let v = self.get(k.name).unwrap_or_default();
            let _ = write!(q, "{}={}&", k.name, fmt_number(v));
        }
        let _ = write!(q, "jitter={}", self.jitter.name());
        if let Some(d) = self.approval {
            let _ = write!(
                q,
                "&approval={}",
                match d {
                    Decision::Approve => "approve",
                    Decision::Deny => "deny",
                }
            );
        }
        q
    }

    /// Reads a permalink query (with or without `?`). Never fails: every value that is
    /// missing, malformed or out of range keeps its default, and each one that was ignored
    /// comes back as a [`Notice`] saying why.
    pub fn from_query(query: &str) -> (Settings, Vec<Notice>) {
        let mut s = Settings::default();
        let mut notices = Vec::new();
        let mut seen: Vec<String> = Vec::new();
        let query = query.strip_prefix('?').unwrap_or(query);
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (raw_name, raw_value) = pair.split_once('=').unwrap_or((pair, ""));
            let name = decode(raw_name);
            let value = decode(raw_value);
            let mut ignore = |message: String| {
                notices.push(Notice {
                    name: name.clone(),
                    message,
                })
            };
            if seen.contains(&name) {
                ignore(format!("`{name}` appears twice; the first value is used"));
                continue;
            }
            seen.push(name.clone());
            match name.as_str() {
                "jitter" => match Jitter::parse(&value) {
                    Some(j) => s.jitter = j,
                    None => ignore(format!(
                        "jitter={value:?} ignored: must be none, full, equal or decorrelated; using none"
                    )),
                },
                "approval" => match value.as_str() {
                    "approve" => s.approval = Some(Decision::Approve),
                    "deny" => s.approval = Some(Decision::Deny),
                    "" | "pending" => s.approval = None,
                    _ => ignore(format!(
                        "approval={value:?} ignored: must be approve or deny; waiting for a decision"
                    )),
                },
                _ => {
                    let Some(k) = knob(&name) else {
                        ignore(format!("unknown setting `{name}` ignored"));
                        continue;
                    };
                    let default = s.get(k.name).unwrap_or_default();
                    let parsed = value.trim().parse::<f64>();
                    let result = match parsed {
                        Ok(v) => s.set(k.name, v),
                        Err(_) => Err("is not a number".to_string()),
                    };
                    if let Err(why) = result {
                        ignore(format!(
                            "{name}={value:?} ignored: {why}; using the default {}",
                            fmt_number(default)
                        ));
                    }
                }
            }
        }
        (s, notices)
    }

    /// The retry policy these settings describe.
    pub fn retry(&self) -> RetryPolicy {
        RetryPolicy::new()
            .with_attempts(self.attempts)
            .with_base(self.base_delay)
            .with_jitter(self.jitter)
    }

    /// The agent configuration these settings describe (deny-by-default approvals).
    pub fn agent_config(&self) -> AgentConfig {
        AgentConfig {
            retry: self.retry(),
            deadline: Deadline::new(self.timeout),
            caps: Caps::new().with_max_steps(self.max_steps),
            approval: ApprovalPolicy::default(),
            ..AgentConfig::default()
        }
    }

    /// The breaker these settings describe.
    pub fn breaker(&self) -> BreakerConfig {
        BreakerConfig {
            threshold: self.breaker_threshold,
            cooldown: self.breaker_cooldown,
        }
    }
}

/// The lab's scenarios.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum ScenarioId {
    /// Retry: the flaky model.
    A,
    /// Step cap: the looping model.
    B,
    /// Degrade: the model is down.
    C,
    /// Approval gate: the risky tool.
    D,
    /// Timeout: the slow call.
    E,
    /// Circuit breaker: the dead service.
    F,
}

impl ScenarioId {
    /// All six, in page order.
    pub const ALL: [ScenarioId; 6] = [
        ScenarioId::A,
        ScenarioId::B,
        ScenarioId::C,
        ScenarioId::D,
        ScenarioId::E,
        ScenarioId::F,
    ];

    /// `A` … `F`.
    pub const fn letter(self) -> &'static str {
        match self {
            ScenarioId::A => "A",
            ScenarioId::B => "B",
            ScenarioId::C => "C",
            ScenarioId::D => "D",
            ScenarioId::E => "E",
            ScenarioId::F => "F",
        }
    }

    /// The card's title.
    pub const fn title(self) -> &'static str {
        match self {
            ScenarioId::A => "Retry: a flaky model fails, then works",
            ScenarioId::B => "Step cap: a model that loops for ever",
            ScenarioId::C => "Graceful degrade: the model is down",
            ScenarioId::D => "Approval gate: a risky action",
            ScenarioId::E => "Timeout: a call that hangs",
            ScenarioId::F => "Circuit breaker: a dead service",
        }
    }

    /// The one-line idea.
    pub const fn idea(self) -> &'static str {
        match self {
            ScenarioId::A => "Transient errors are retried, waiting longer each time, so a blip does not become a failure.",
            ScenarioId::B => "A hard cap on steps stops a runaway loop before it burns unlimited tokens.",
            ScenarioId::C => "When every try fails, the agent answers with a calm safe message instead of crashing.",
            ScenarioId::D => "Safe tools run freely; a world-changing tool waits for a human yes, and is denied by default.",
            ScenarioId::E => "A call that takes longer than the timeout is given up on, so the agent never freezes.",
            ScenarioId::F => "After repeated failures the breaker opens and requests fail fast, then one probe checks for recovery.",
        }
    }

    /// The settings this card uses, by knob name.
    pub const fn knobs(self) -> &'static [&'static str] {
        match self {
            ScenarioId::A => &["failures", "attempts", "base_delay", "jitter", "timeout"],
            ScenarioId::B => &["max_steps"],
            ScenarioId::C => &["attempts", "base_delay", "jitter", "timeout"],
            ScenarioId::D => &["approval"],
            ScenarioId::E => &["timeout", "attempts", "base_delay"],
            ScenarioId::F => &[
                "breaker_threshold",
                "breaker_cooldown",
                "attempts",
                "base_delay",
            ],
        }
    }

    /// Parses `A` … `F`.
    pub fn parse(s: &str) -> Option<ScenarioId> {
        ScenarioId::ALL.into_iter().find(|id| id.letter() == s)
    }
}

/// How a card's verdict reads: said in words, so colour is never the only signal.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Tone {
    /// The fault was handled as the pattern intends.
    Handled,
    /// No fault happened (for example, failure count 0).
    Calm,
    /// The pattern could not save the run (it degraded safely instead).
    NotRecovered,
    /// Waiting for a human.
    Waiting,
}

impl Tone {
    /// The word shown before the verdict.
    pub const fn label(self) -> &'static str {
        match self {
            Tone::Handled => "handled",
            Tone::Calm => "no fault",
            Tone::NotRecovered => "not recovered",
            Tone::Waiting => "waiting",
        }
    }
}

/// A card's verdict.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Verdict {
    /// How it reads.
    pub tone: Tone,
    /// What happened, in plain words.
    pub text: String,
}

/// One card's run: the run itself plus what the card says about it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ScenarioRun {
    /// Which scenario.
    pub id: ScenarioId,
    /// The run (for F, every request's events in one trace).
    pub run: Run,
    /// The verdict.
    pub verdict: Verdict,
    /// The knobs it used, with their values as shown.
    pub knobs: Vec<(String, String)>,
    /// The latency of the call under test (E), for the card.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slow_call: Option<Micros>,
}

fn join_waits(waits: &[Micros]) -> String {
    let parts: Vec<String> = waits.iter().map(|w| Secs(*w).to_string()).collect();
    match parts.len() {
        0 => String::new(),
        1 => parts[0].clone(),
        n => format!("{} and {}", parts[..n - 1].join(", "), parts[n - 1]),
    }
}

fn knob_value(s: &Settings, name: &str) -> String {
    match name {
        "jitter" => s.jitter.name().to_string(),
        "approval" => match s.approval {
            None => "waiting".into(),
            Some(Decision::Approve) => "approved".into(),
            Some(Decision::Deny) => "denied".into(),
        },
        _ => {
            let v = s.get(name).unwrap_or_default();
            match knob(name).map(|k| k.unit) {
                Some(Unit::Seconds) => Secs(from_secs(v)).to_string(),
                _ => fmt_number(v),
            }
        }
    }
}

/// The model of each single-run scenario.
pub fn model_for(id: ScenarioId, s: &Settings) -> ModelSpec {
    match id {
        ScenarioId::A => ModelSpec::new("flaky", Behaviour::Solve).with_faults(Faults::FailFirst {
            count: s.failures,
            error: CallError::http(503),
        }),
        ScenarioId::B => ModelSpec::new("looping", Behaviour::Loop),
        ScenarioId::C => ModelSpec::new("down", Behaviour::Solve).with_faults(Faults::Always {
            error: CallError::http(503),
        }),
        ScenarioId::D => ModelSpec::new("risky", Behaviour::Risky),
        ScenarioId::E => {
            ModelSpec::new("slow", Behaviour::Solve).with_latency(Latency::Fixed { us: SLOW_CALL })
        }
        ScenarioId::F => ModelSpec::new("service", Behaviour::Solve).with_faults(Faults::Until {
            until: F_OUTAGE,
            error: CallError::http(503),
        }),
    }
}

/// Runs one scenario with `settings`. Never panics: settings out of range are clamped into the
/// knobs' ranges first (the page's link parser has already told the user about them).
pub fn run_scenario(id: ScenarioId, settings: &Settings, record: bool) -> ScenarioRun {
    let s = sanitize(settings);
    let run = simulate(id, &s, record);
    let verdict = verdict(id, &s, &run);
    let knobs = id
        .knobs()
        .iter()
        .map(|k| (k.to_string(), knob_value(&s, k)))
        .collect();
    ScenarioRun {
        id,
        run,
        verdict,
        knobs,
        slow_call: (id == ScenarioId::E).then_some(SLOW_CALL),
    }
}

/// The engine alone: one scenario's run, with no verdict or card text. `settings` must be in
/// range (see [`sanitize`]); out-of-range settings fall back to the defaults rather than panic.
pub fn simulate(id: ScenarioId, s: &Settings, record: bool) -> Run {
    match id {
        ScenarioId::F => run_breaker_series(s, Some(s.breaker()), record),
        ScenarioId::D => {
            // The card asks a human: the run pauses at the gate until the decision comes.
            let mut cfg = s.agent_config();
            cfg.approval.approver = Approver::Ask;
            let mut agent = agent::Agent::new(cfg, vec![model_for(id, s)], s.seed, record)
                .unwrap_or_else(|_| fallback_agent(record));
            agent.run_until_paused();
            if let Some(d) = s.approval {
                agent.decide(d);
                agent.run_until_paused();
            }
            agent.into_run()
        }
        _ => agent::run(s.agent_config(), vec![model_for(id, s)], s.seed, record)
            .unwrap_or_else(|_| fallback_agent(record).into_run()),
    }
}

/// An agent that always validates: used only if sanitised settings were somehow rejected.
fn fallback_agent(record: bool) -> agent::Agent {
    let s = Settings::default();
    agent::Agent::new(
        s.agent_config(),
        vec![model_for(ScenarioId::A, &s)],
        s.seed,
        record,
    )
    .expect("the default settings are valid")
}

/// Clamps every knob into its range (the page and the link parser already reject values out
/// of range; this keeps the engine total for callers that build settings by hand).
pub fn sanitize(s: &Settings) -> Settings {
    let mut out = s.clone();
    for k in KNOBS {
        let v = s.get(k.name).unwrap_or(k.min);
        let v = if v.is_finite() {
            v.clamp(k.min, k.max)
        } else {
            k.min
        };
        let v = if k.unit == Unit::Count { v.round() } else { v };
        let _ = out.set(k.name, v);
    }
    out
}

/// Scenario F: requests arrive every [`F_INTERVAL`] at a service that is dead until
/// [`F_OUTAGE`]; each request is a full agent run, and all share one breaker (or none).
pub fn run_breaker_series(s: &Settings, breaker: Option<BreakerConfig>, record: bool) -> Run {
    let mut breaker = breaker.map(CircuitBreaker::new);
    let mut now = 0;
    let mut merged: Option<Run> = None;
    let model = model_for(ScenarioId::F, s);
    let mut answered = 0;
    for i in 0..F_REQUESTS {
        now = now.max(i as Micros * F_INTERVAL);
        let agent = match agent::Agent::new(
            s.agent_config(),
            vec![model.clone()],
            s.seed ^ i as u64,
            record,
        ) {
            Ok(a) => a,
            Err(_) => fallback_agent(record),
        };
        let mut agent = agent.starting_at(now);
        if let Some(b) = breaker.take() {
            agent = agent.with_breaker(b);
        }
        agent.run_until_paused();
        now = agent.now();
        let (run, b) = agent.into_parts();
        breaker = b;
        if run.outcome.stop == Stop::Answered {
            answered += 1;
        }
        merged = Some(match merged {
            None => run,
            Some(mut m) => {
                let o = &mut m.outcome;
                let c = &mut o.counters;
                let r = run.outcome.counters;
                c.model_calls += r.model_calls;
                c.tool_calls += r.tool_calls;
                c.retries += r.retries;
                c.timeouts += r.timeouts;
                c.fast_fails += r.fast_fails;
                c.tokens += r.tokens;
                c.cost += r.cost;
                o.steps += run.outcome.steps;
                o.degraded |= run.outcome.degraded;
                o.elapsed = now;
                m.trace.extend(run.trace);
                m
            }
        });
    }
    let mut run = merged.unwrap_or_else(|| fallback_agent(record).into_run());
    let c = run.outcome.counters;
    run.outcome.answer = format!(
        "{F_REQUESTS} requests: {answered} answered, {} failed fast, {} calls reached the service",
        c.fast_fails, c.model_calls
    );
    run.outcome.stop = Stop::Answered;
    run
}

/// The verdict of a scenario's run, in plain words.
pub fn verdict(id: ScenarioId, s: &Settings, run: &Run) -> Verdict {
    let o = &run.outcome;
    let c = &o.counters;
    let v = |tone, text: String| Verdict { tone, text };
    match id {
        ScenarioId::A => {
            if o.stop == Stop::Answered && c.retries == 0 {
                v(Tone::Calm, "the first attempt worked (failure count 0), so there was nothing to retry".into())
            } else if o.stop == Stop::Answered {
                let waits: Vec<Micros> = run
                    .trace
                    .iter()
                    .filter(|e| matches!(e.kind, EventKind::Backoff { .. }))
                    .map(|e| e.dur)
                    .collect();
                v(
                    Tone::Handled,
                    format!(
                        "retry recovered on attempt {} after waiting {}",
                        c.retries + 1,
                        join_waits(&waits)
                    ),
                )
            } else {
                v(
                    Tone::NotRecovered,
                    format!(
                        "all {} attempts failed (failure count {} is not below attempts {}), so the run degraded to the safe message",
                        s.attempts, s.failures, s.attempts
                    ),
                )
            }
        }
        ScenarioId::B => match o.stop {
            Stop::Cap(_) => v(
                Tone::Handled,
                format!(
                    "the step cap stopped a runaway loop at step {} (max_steps {})",
                    o.steps, s.max_steps
                ),
            ),
            _ => v(Tone::NotRecovered, format!("the run ended: {}", o.answer)),
        },
        ScenarioId::C => v(
            Tone::Handled,
            format!(
                "all {} attempts got 503, so the agent degraded to a safe message instead of crashing",
                s.attempts
            ),
        ),
        ScenarioId::D => {
            let gate = run.trace.iter().rev().find_map(|e| match &e.kind {
                EventKind::Gate { gate, .. } => Some(*gate),
                _ => None,
            });
            match (run.awaiting.is_some(), s.approval, gate) {
                (true, _, _) => v(
                    Tone::Waiting,
                    "send_email is risky: the run is paused until a human approves or denies (deny by default)".into(),
                ),
                (_, Some(Decision::Approve), _) => v(
                    Tone::Handled,
                    "a human approved, so send_email ran (pretend: nothing was sent) and blocked is empty".into(),
                ),
                (_, Some(Decision::Deny), _) => v(
                    Tone::Handled,
                    "a human denied, so send_email was blocked and the agent said so".into(),
                ),
                (_, None, Some(GateEvent::DeniedByDefault)) | (_, None, _) => v(
                    Tone::Handled,
                    "nobody approved, so send_email was blocked (deny by default)".into(),
                ),
            }
        }
        ScenarioId::E => {
            if c.timeouts == 0 {
                v(
                    Tone::Calm,
                    format!(
                        "no timeout: the slow call ({}) finishes within the {} timeout, so the answer simply took {}",
                        Secs(SLOW_CALL),
                        Secs(s.timeout),
                        Secs(o.elapsed)
                    ),
                )
            } else if o.stop == Stop::Answered {
                v(Tone::Handled, format!("gave up on the hung call after {}, then a retry answered", Secs(s.timeout)))
            } else {
                v(
                    Tone::Handled,
                    format!(
                        "gave up on the hung call after {} ({} times; it takes {}), then degraded safely instead of freezing",
                        Secs(s.timeout),
                        c.timeouts,
                        Secs(SLOW_CALL)
                    ),
                )
            }
        }
        ScenarioId::F => {
            let opened = run
                .trace
                .iter()
                .find(|e| matches!(e.kind, EventKind::Breaker { to: BreakerState::Open, .. }));
            let closed = run.trace.iter().find(|e| {
                matches!(e.kind, EventKind::Breaker { from: BreakerState::HalfOpen, to: BreakerState::Closed })
            });
            match (opened, closed) {
                (None, _) => v(
                    Tone::NotRecovered,
                    format!("the breaker never opened (threshold {} was not reached)", s.breaker_threshold),
                ),
                (Some(o_ev), Some(c_ev)) => v(
                    Tone::Handled,
                    format!(
                        "the breaker opened at {} after {} failures in a row; {} requests failed fast without calling; a probe at {} found the service back and closed it",
                        Secs(o_ev.at),
                        s.breaker_threshold,
                        c.fast_fails,
                        Secs(c_ev.at)
                    ),
                ),
                (Some(o_ev), None) => v(
                    Tone::Handled,
                    format!(
                        "the breaker opened at {} after {} failures in a row; {} requests failed fast without calling",
                        Secs(o_ev.at),
                        s.breaker_threshold,
                        c.fast_fails
                    ),
                ),
            }
        }
    }
}

impl ScenarioRun {
    /// A plain-text transcript of the run, to paste into a chat. `link` is the permalink.
    pub fn transcript(&self, link: &str) -> String {
        let mut t = String::new();
        let _ = writeln!(
            t,
            "Agent Reliability Lab, card {}: {}",
            self.id.letter(),
            self.id.title()
        );
        let knobs: Vec<String> = self.knobs.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let _ = writeln!(t, "settings: {}", knobs.join(" "));
        let _ = writeln!(t, "result: {}", self.run.outcome.lab_repr());
        let _ = writeln!(
            t,
            "verdict: {}: {}",
            self.verdict.tone.label(),
            self.verdict.text
        );
        let _ = writeln!(t, "trace:");
        for e in &self.run.trace {
            if matches!(e.kind, EventKind::Step) {
                continue;
            }
            let _ = writeln!(t, "  {:>8}  step {}  {}", Secs(e.at).to_string(), e.step, e);
        }
        if !link.is_empty() {
            let _ = writeln!(t, "link: {link}");
        }
        t
    }
}

/// What the breaker-less run of F would have cost: calls that hit the dead service.
pub fn calls_without_breaker(s: &Settings) -> u32 {
    run_breaker_series(&sanitize(s), None, false)
        .outcome
        .counters
        .model_calls
}
