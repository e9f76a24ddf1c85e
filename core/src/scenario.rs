//! The lab: its settings (the knobs a student moves) and its scenarios A–F.
//!
//! A card on the page is a function of (scenario, settings) → [`ScenarioRun`]. Everything a
//! card shows (result, verdict, knobs, transcript) is computed here, so the page only draws.

use crate::agent::{self, AgentConfig, Run, Status, Stop};
use crate::approval::{ApprovalPolicy, Approver, Decision};
use crate::breaker::{BreakerConfig, BreakerState, CircuitBreaker};
use crate::caps::{CapKind, Caps};
use crate::deadline::Deadline;
use crate::error::CallError;
use crate::error::ErrorKind;
use crate::escalation::EscalationPolicy;
use crate::evaluator::CriticPolicy;
use crate::killswitch::KillSwitch;
use crate::model::{Behaviour, Faults, Latency, ModelSpec};
use crate::retry::{Jitter, RetryPolicy};
use crate::scope::ScopePolicy;
use crate::sim::{Sim, SimWorld};
use crate::time::{from_secs, to_secs, Micros, Secs, MS, SEC};
use crate::tools::ToolFaults;
use crate::trace::EventKind;
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
    /// The kill switch in the page header: on, no run takes a step.
    pub kill: bool,
    /// G: send idempotency keys with the payment.
    pub idempotency: bool,
    /// H: how many rungs of the fallback ladder are down, from the top.
    pub rungs_down: u32,
    /// I: escalate after the same error this many times in a row.
    pub escalate_after: u32,
    /// J: the turn cap.
    pub max_turns: u32,
    /// J: the token cap.
    pub max_tokens: u64,
    /// J: the cost cap, in micro-dollars.
    pub max_cost: u64,
    /// J: the wall-time cap.
    pub max_wall: Micros,
    /// K: when the kill switch goes on during the looping run.
    pub kill_at: Micros,
    /// L: which error the model's first two calls fail with (an index into [`ERRORS`]).
    pub error: u32,
    /// M: the human's answer after the test record; `None` while nobody has answered.
    pub scope_confirm: Option<Decision>,
    /// N: the critic's threshold, out of 10.
    pub critic_threshold: u32,
    /// Statistics: what each request does (an index into [`Workload::ALL`]).
    pub stats_workload: u32,
    /// Statistics: the chance that one model call fails.
    pub stats_rate: f64,
    /// Statistics: the latency distribution (an index into [`LatencyDist::ALL`]).
    pub stats_latency: u32,
    /// Statistics: requests per policy.
    pub stats_runs: u32,
    /// Statistics: what policy B changes (an index into [`Variant::ALL`]).
    pub ab_variant: u32,
    /// The herd: the largest number of clients plotted.
    pub herd_clients: u32,
    /// Amplification: attempts of the SDK, the framework and the tool layer.
    pub amp_sdk: u32,
    /// See [`Settings::amp_sdk`].
    pub amp_framework: u32,
    /// See [`Settings::amp_sdk`].
    pub amp_tool: u32,
    /// Amplification: the server's Retry-After (0 for none).
    pub amp_retry_after: Micros,
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
            kill: false,
            idempotency: false,
            rungs_down: 1,
            escalate_after: 3,
            max_turns: 10,
            max_tokens: 8_000,
            max_cost: 50_000,
            max_wall: SEC,
            kill_at: 100 * MS,
            error: 1,
            scope_confirm: None,
            critic_threshold: 7,
            stats_workload: 0,
            stats_rate: 0.2,
            stats_latency: 0,
            stats_runs: 10_000,
            ab_variant: 0,
            herd_clients: 50,
            amp_sdk: 3,
            amp_framework: 3,
            amp_tool: 3,
            amp_retry_after: 0,
        }
    }
}

/// How a knob's value is shown, stored and written in a link.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unit {
    /// A whole number.
    Count,
    /// Seconds (stored as virtual microseconds).
    Seconds,
    /// Dollars (stored as micro-dollars).
    Dollars,
    /// A share from 0 to 1 (shown as a percentage).
    Rate,
    /// On or off (0 or 1; `on`/`off` in links).
    Toggle,
    /// One of a list (its index; the name in links).
    Choice(&'static [&'static str]),
}

/// Where a knob is shown on the page.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Place {
    /// In the main panel.
    Main,
    /// In the main panel, under "advanced".
    Advanced,
    /// Inside one card.
    Card(ScenarioId),
    /// The statistics panel.
    Stats,
    /// The thundering-herd plot.
    Herd,
    /// The retry-amplification calculator.
    Amplify,
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
    /// Where it is shown.
    pub place: Place,
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
        place: Place::Main,
    },
    Knob {
        name: "max_steps",
        label: "max_steps",
        help: "the step cap: a run is stopped past this many steps",
        unit: Unit::Count,
        min: 1.0,
        max: 12.0,
        step: 1.0,
        place: Place::Main,
    },
    Knob {
        name: "timeout",
        label: "Timeout",
        help: "how long one call may take before the agent gives up on it",
        unit: Unit::Seconds,
        min: 0.05,
        max: 5.0,
        step: 0.05,
        place: Place::Main,
    },
    Knob {
        name: "attempts",
        label: "Attempts",
        help: "tries per call, the first one included",
        unit: Unit::Count,
        min: 1.0,
        max: 8.0,
        step: 1.0,
        place: Place::Advanced,
    },
    Knob {
        name: "base_delay",
        label: "Base delay",
        help: "the first backoff wait; each later wait doubles",
        unit: Unit::Seconds,
        min: 0.05,
        max: 5.0,
        step: 0.05,
        place: Place::Advanced,
    },
    Knob {
        name: "seed",
        label: "Seed",
        help: "seeds the jitter and any random faults",
        unit: Unit::Count,
        min: 0.0,
        max: 999_999.0,
        step: 1.0,
        place: Place::Advanced,
    },
    Knob {
        name: "breaker_threshold",
        label: "Breaker threshold",
        help: "failures in a row that open the circuit breaker (F)",
        unit: Unit::Count,
        min: 1.0,
        max: 10.0,
        step: 1.0,
        place: Place::Advanced,
    },
    Knob {
        name: "breaker_cooldown",
        label: "Breaker cooldown",
        help: "how long the breaker stays open before one probe (F)",
        unit: Unit::Seconds,
        min: 0.5,
        max: 30.0,
        step: 0.5,
        place: Place::Advanced,
    },
    Knob {
        name: "idempotency",
        label: "Idempotency keys",
        help: "send a key with the payment so a retry cannot charge twice",
        unit: Unit::Toggle,
        min: 0.0,
        max: 1.0,
        step: 1.0,
        place: Place::Card(ScenarioId::G),
    },
    Knob {
        name: "rungs_down",
        label: "Rungs down",
        help: "how many rungs of the ladder fail, from the top",
        unit: Unit::Count,
        min: 0.0,
        max: 4.0,
        step: 1.0,
        place: Place::Card(ScenarioId::H),
    },
    Knob {
        name: "escalate_after",
        label: "Escalate after",
        help: "the same error this many times in a row hands off to a human",
        unit: Unit::Count,
        min: 1.0,
        max: 8.0,
        step: 1.0,
        place: Place::Card(ScenarioId::I),
    },
    Knob {
        name: "max_turns",
        label: "Turn cap",
        help: "steps the budgeted agent may take",
        unit: Unit::Count,
        min: 1.0,
        max: 30.0,
        step: 1.0,
        place: Place::Card(ScenarioId::J),
    },
    Knob {
        name: "max_tokens",
        label: "Token cap",
        help: "tokens the budgeted agent may use",
        unit: Unit::Count,
        min: 1_000.0,
        max: 30_000.0,
        step: 500.0,
        place: Place::Card(ScenarioId::J),
    },
    Knob {
        name: "max_cost",
        label: "Cost cap",
        help: "money the budgeted agent may spend",
        unit: Unit::Dollars,
        min: 0.002,
        max: 0.1,
        step: 0.002,
        place: Place::Card(ScenarioId::J),
    },
    Knob {
        name: "max_wall",
        label: "Wall-time cap",
        help: "virtual time the budgeted agent may take",
        unit: Unit::Seconds,
        min: 0.05,
        max: 2.0,
        step: 0.05,
        place: Place::Card(ScenarioId::J),
    },
    Knob {
        name: "kill_at",
        label: "Switch on at",
        help: "when the kill switch goes on during the looping run",
        unit: Unit::Seconds,
        min: 0.0,
        max: 0.5,
        step: 0.01,
        place: Place::Card(ScenarioId::K),
    },
    Knob {
        name: "error",
        label: "Error",
        help: "what the model's first two calls fail with",
        unit: Unit::Choice(ERRORS),
        min: 0.0,
        max: (ERRORS.len() - 1) as f64,
        step: 1.0,
        place: Place::Card(ScenarioId::L),
    },
    Knob {
        name: "critic_threshold",
        label: "Critic threshold",
        help: "answers scoring below this (out of 10) are revised, once",
        unit: Unit::Count,
        min: 0.0,
        max: 10.0,
        step: 1.0,
        place: Place::Card(ScenarioId::N),
    },
    Knob {
        name: "stats_workload",
        label: "Workload",
        help: "what each request asks: one answer, the multiply task, a risky tool, a loop",
        unit: Unit::Choice(&["answer", "solve", "risky", "loop"]),
        min: 0.0,
        max: 3.0,
        step: 1.0,
        place: Place::Stats,
    },
    Knob {
        name: "stats_rate",
        label: "Failure rate",
        help: "the chance that any one model call fails with a 503",
        unit: Unit::Rate,
        min: 0.0,
        max: 1.0,
        step: 0.01,
        place: Place::Stats,
    },
    Knob {
        name: "stats_latency",
        label: "Latency",
        help: "fixed 20 ms; uniform 10-200 ms; or 20 ms with 5% of calls at 2 s",
        unit: Unit::Choice(&["fixed", "uniform", "tail"]),
        min: 0.0,
        max: 2.0,
        step: 1.0,
        place: Place::Stats,
    },
    Knob {
        name: "stats_runs",
        label: "Runs per policy",
        help: "seeded requests per policy; request i uses seed + i",
        unit: Unit::Count,
        min: 1_000.0,
        max: 50_000.0,
        step: 1_000.0,
        place: Place::Stats,
    },
    Knob {
        name: "ab_variant",
        label: "Policy B",
        help: "policy A is the knobs above; B changes one thing",
        unit: Unit::Choice(&["more_attempts", "full_jitter", "breaker", "no_retry"]),
        min: 0.0,
        max: 3.0,
        step: 1.0,
        place: Place::Stats,
    },
    Knob {
        name: "herd_clients",
        label: "Clients",
        help: "the plot runs from 10 clients up to this many",
        unit: Unit::Count,
        min: 20.0,
        max: 100.0,
        step: 10.0,
        place: Place::Herd,
    },
    Knob {
        name: "amp_sdk",
        label: "SDK attempts",
        help: "the model SDK's own retries (innermost)",
        unit: Unit::Count,
        min: 1.0,
        max: 6.0,
        step: 1.0,
        place: Place::Amplify,
    },
    Knob {
        name: "amp_framework",
        label: "Framework attempts",
        help: "the agent framework's retries around the SDK",
        unit: Unit::Count,
        min: 1.0,
        max: 6.0,
        step: 1.0,
        place: Place::Amplify,
    },
    Knob {
        name: "amp_tool",
        label: "Tool attempts",
        help: "the tool wrapper's retries around the framework (outermost)",
        unit: Unit::Count,
        min: 1.0,
        max: 6.0,
        step: 1.0,
        place: Place::Amplify,
    },
    Knob {
        name: "amp_retry_after",
        label: "Retry-After",
        help: "the server asks every retry to wait at least this long (0: no hint)",
        unit: Unit::Seconds,
        min: 0.0,
        max: 10.0,
        step: 0.5,
        place: Place::Amplify,
    },
];

/// The errors card L can inject, by name.
pub const ERRORS: &[&str] = &[
    "500",
    "503",
    "400",
    "401",
    "403",
    "404",
    "429",
    "timeout",
    "network",
    "invalid_args",
];

/// Card N's simulated critic: what it scores the draft and the revision.
pub const DRAFT_SCORE: u8 = 5;
/// See [`DRAFT_SCORE`].
pub const REVISED_SCORE: u8 = 8;

fn decision_name(d: Decision) -> &'static str {
    match d {
        Decision::Approve => "approve",
        Decision::Deny => "deny",
    }
}

fn parse_decision(v: &str) -> Result<Option<Decision>, ()> {
    match v {
        "approve" => Ok(Some(Decision::Approve)),
        "deny" => Ok(Some(Decision::Deny)),
        "" | "pending" => Ok(None),
        _ => Err(()),
    }
}

fn parse_toggle(v: &str) -> Option<bool> {
    match v {
        "on" | "true" | "1" => Some(true),
        "off" | "false" | "0" => Some(false),
        _ => None,
    }
}

impl Knob {
    /// A value as written in a link: `0.05`, `on`, `503`.
    pub fn write(&self, v: f64) -> String {
        match self.unit {
            Unit::Toggle => (if v >= 0.5 { "on" } else { "off" }).to_string(),
            Unit::Choice(names) => names
                .get(v.max(0.0) as usize)
                .copied()
                .unwrap_or_default()
                .to_string(),
            _ => fmt_number(v),
        }
    }

    /// A value as shown next to the control: `0.05s`, `$0.03`, `on`, `503`.
    pub fn show(&self, v: f64) -> String {
        match self.unit {
            Unit::Seconds => Secs(from_secs(v)).to_string(),
            Unit::Dollars => crate::caps::fmt_usd((v * 1e6).round().max(0.0) as u64),
            Unit::Rate => format!("{}%", fmt_number((v * 100.0).round())),
            _ => self.write(v),
        }
    }

    /// Reads a value as written in a link.
    pub fn read(&self, text: &str) -> Result<f64, String> {
        let text = text.trim();
        match self.unit {
            Unit::Toggle => parse_toggle(text)
                .map(|on| on as u8 as f64)
                .ok_or_else(|| "must be on or off".to_string()),
            Unit::Choice(names) => names
                .iter()
                .position(|n| *n == text)
                .map(|i| i as f64)
                .ok_or_else(|| format!("must be one of {}", names.join(", "))),
            _ => text
                .parse::<f64>()
                .map_err(|_| "is not a number".to_string()),
        }
    }
}

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
    crate::time::shortest(v)
}

fn shorten(s: &str) -> String {
    const MAX: usize = 40;
    if s.chars().count() <= MAX {
        s.to_string()
    } else {
        let head: String = s.chars().take(MAX).collect();
        format!("{head}…")
    }
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
            "idempotency" => self.idempotency as u8 as f64,
            "rungs_down" => self.rungs_down as f64,
            "escalate_after" => self.escalate_after as f64,
            "max_turns" => self.max_turns as f64,
            "max_tokens" => self.max_tokens as f64,
            "max_cost" => self.max_cost as f64 / 1e6,
            "max_wall" => to_secs(self.max_wall),
            "kill_at" => to_secs(self.kill_at),
            "error" => self.error as f64,
            "critic_threshold" => self.critic_threshold as f64,
            "stats_workload" => self.stats_workload as f64,
            "stats_rate" => self.stats_rate,
            "stats_latency" => self.stats_latency as f64,
            "stats_runs" => self.stats_runs as f64,
            "ab_variant" => self.ab_variant as f64,
            "herd_clients" => self.herd_clients as f64,
            "amp_sdk" => self.amp_sdk as f64,
            "amp_framework" => self.amp_framework as f64,
            "amp_tool" => self.amp_tool as f64,
            "amp_retry_after" => to_secs(self.amp_retry_after),
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
        let whole = !matches!(k.unit, Unit::Seconds | Unit::Dollars | Unit::Rate);
        if whole && value.fract() != 0.0 {
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
            "idempotency" => self.idempotency = count == 1,
            "rungs_down" => self.rungs_down = count,
            "escalate_after" => self.escalate_after = count,
            "max_turns" => self.max_turns = count,
            "max_tokens" => self.max_tokens = value as u64,
            "max_cost" => self.max_cost = (value * 1e6).round() as u64,
            "max_wall" => self.max_wall = from_secs(value),
            "kill_at" => self.kill_at = from_secs(value),
            "error" => self.error = count,
            "critic_threshold" => self.critic_threshold = count,
            "stats_workload" => self.stats_workload = count,
            "stats_rate" => self.stats_rate = (value * 100.0).round() / 100.0,
            "stats_latency" => self.stats_latency = count,
            "stats_runs" => self.stats_runs = count,
            "ab_variant" => self.ab_variant = count,
            "herd_clients" => self.herd_clients = count,
            "amp_sdk" => self.amp_sdk = count,
            "amp_framework" => self.amp_framework = count,
            "amp_tool" => self.amp_tool = count,
            "amp_retry_after" => self.amp_retry_after = from_secs(value),
            _ => return Err(format!("unknown setting `{name}`")),
        }
        Ok(())
    }

    /// The permalink query (without `?`): every setting, always in the same order.
    pub fn to_query(&self) -> String {
        let mut q = String::new();
        for k in KNOBS {
            let v = self.get(k.name).unwrap_or_default();
            let _ = write!(q, "{}={}&", k.name, k.write(v));
        }
        let _ = write!(q, "jitter={}", self.jitter.name());
        for (name, decision) in [
            ("approval", self.approval),
            ("scope_confirm", self.scope_confirm),
        ] {
            if let Some(d) = decision {
                let _ = write!(q, "&{name}={}", decision_name(d));
            }
        }
        if self.kill {
            q.push_str("&kill=on");
        }
        q
    }

    /// The human's answer for a card that pauses (D or M).
    pub fn decision(&self, id: ScenarioId) -> Option<Decision> {
        match id {
            ScenarioId::D => self.approval,
            ScenarioId::M => self.scope_confirm,
            _ => None,
        }
    }

    /// Records (or, with `None`, withdraws) the human's answer for a card that pauses.
    pub fn set_decision(&mut self, id: ScenarioId, d: Option<Decision>) {
        match id {
            ScenarioId::D => self.approval = d,
            ScenarioId::M => self.scope_confirm = d,
            _ => {}
        }
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
            // Tracking tags that link shorteners and mail tools add are not settings.
            if name.starts_with("utm_") || matches!(name.as_str(), "fbclid" | "gclid" | "ref") {
                continue;
            }
            // Echo at most 40 characters of a value or name back to the user.
            let value = shorten(&value);
            let name = shorten(&name);
            let mut ignore = |message: String| {
                notices.push(Notice {
                    name: name.clone(),
                    message,
                })
            };
            if seen.contains(&name) {
                ignore(format!(
                    "`{name}` appears more than once; only its first value was read"
                ));
                continue;
            }
            seen.push(name.clone());
            match name.as_str() {
                "jitter" => match Jitter::parse(&value) {
                    Some(j) => s.jitter = j,
                    None => ignore(format!(
                        "jitter={} ignored: must be none, full, equal or decorrelated; using none",
                        crate::quote(&value)
                    )),
                },
                "approval" | "scope_confirm" => match parse_decision(&value) {
                    Ok(d) if name == "approval" => s.approval = d,
                    Ok(d) => s.scope_confirm = d,
                    Err(()) => ignore(format!(
                        "{name}={} ignored: must be approve or deny; waiting for a decision",
                        crate::quote(&value)
                    )),
                },
                "kill" => match parse_toggle(&value) {
                    Some(on) => s.kill = on,
                    None => ignore(format!(
                        "kill={} ignored: must be on or off; off",
                        crate::quote(&value)
                    )),
                },
                _ => {
                    let Some(k) = knob(&name) else {
                        ignore(format!("unknown setting `{name}` ignored"));
                        continue;
                    };
                    let default = s.get(k.name).unwrap_or_default();
                    let result = k.read(&value).and_then(|v| s.set(k.name, v));
                    if let Err(why) = result {
                        ignore(format!(
                            "{name}={} ignored: {why}; using the default {}",
                            crate::quote(&value),
                            k.write(default)
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

/// The lab's scenarios: A–F from the lab, G–N from the failure-first toolbox.
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
    /// Unknown outcome and idempotency.
    G,
    /// Fallback ladder.
    H,
    /// Escalation and handoff.
    I,
    /// Budgets: turns, tokens, cost, wall time.
    J,
    /// Kill switch mid-run.
    K,
    /// Retry decision table.
    L,
    /// Scope fallback.
    M,
    /// Evaluator-optimizer.
    N,
}

impl ScenarioId {
    /// All fourteen.
    pub const ALL: [ScenarioId; 14] = [
        ScenarioId::A,
        ScenarioId::B,
        ScenarioId::C,
        ScenarioId::D,
        ScenarioId::E,
        ScenarioId::F,
        ScenarioId::G,
        ScenarioId::H,
        ScenarioId::I,
        ScenarioId::J,
        ScenarioId::K,
        ScenarioId::L,
        ScenarioId::M,
        ScenarioId::N,
    ];

    /// The lab's six, A–F, in page order.
    pub const LAB: &'static [ScenarioId] = ScenarioId::ALL.split_at(6).0;

    /// The failure-first toolbox, G–N, in page order.
    pub const TOOLBOX: &'static [ScenarioId] = ScenarioId::ALL.split_at(6).1;

    /// `A` … `N`.
    pub const fn letter(self) -> &'static str {
        match self {
            ScenarioId::A => "A",
            ScenarioId::B => "B",
            ScenarioId::C => "C",
            ScenarioId::D => "D",
            ScenarioId::E => "E",
            ScenarioId::F => "F",
            ScenarioId::G => "G",
            ScenarioId::H => "H",
            ScenarioId::I => "I",
            ScenarioId::J => "J",
            ScenarioId::K => "K",
            ScenarioId::L => "L",
            ScenarioId::M => "M",
            ScenarioId::N => "N",
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
            ScenarioId::G => "Unknown outcome: a payment retried",
            ScenarioId::H => "Fallback ladder: model, backup, cache, advice",
            ScenarioId::I => "Escalation: hand off with a ticket",
            ScenarioId::J => "Budgets: turns, tokens, cost, wall time",
            ScenarioId::K => "Kill switch: flipped mid-run",
            ScenarioId::L => "Retry decision table: which errors to retry",
            ScenarioId::M => "Scope fallback: one test record first",
            ScenarioId::N => "Evaluator-optimizer: revise once, never more",
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
            ScenarioId::G => "The charge went through but the answer was lost; only an idempotency key makes the retry safe.",
            ScenarioId::H => "Each rung down is weaker but safer, and every step down is counted: fallbacks are never silent.",
            ScenarioId::I => "When the same error keeps coming back, stop retrying and give a human everything they need.",
            ScenarioId::J => "Four caps on one runaway agent: whichever is reached first stops it, and says which.",
            ScenarioId::K => "One switch stops every run before its next step, wherever it is.",
            ScenarioId::L => "Retry what may pass (5xx, 429, timeouts, network); never what will fail the same way (4xx, bad arguments).",
            ScenarioId::M => "A bulk change touches one test record first and waits for a human before the other 99.",
            ScenarioId::N => "A critic grades the answer; below the bar the agent revises once, and then stops either way.",
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
            ScenarioId::G => &["idempotency", "timeout", "attempts"],
            ScenarioId::H => &["rungs_down", "attempts"],
            ScenarioId::I => &["escalate_after", "attempts"],
            ScenarioId::J => &["max_turns", "max_tokens", "max_cost", "max_wall"],
            ScenarioId::K => &["kill_at"],
            ScenarioId::L => &["error", "attempts", "base_delay"],
            ScenarioId::M => &["scope_confirm"],
            ScenarioId::N => &["critic_threshold"],
        }
    }

    /// Does this card pause for a human decision?
    pub const fn takes_decision(self) -> bool {
        matches!(self, ScenarioId::D | ScenarioId::M)
    }

    /// Parses `A` … `N`.
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
    /// Card-specific facts, as (label, value): charges, the rung that answered, scores.
    #[serde(default)]
    pub facts: Vec<(String, String)>,
    /// Budget gauges (J).
    #[serde(default)]
    pub gauges: Vec<Gauge>,
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
        "approval" | "scope_confirm" => {
            let d = if name == "approval" {
                s.approval
            } else {
                s.scope_confirm
            };
            match d {
                None => "waiting".into(),
                Some(Decision::Approve) => "approved".into(),
                Some(Decision::Deny) => "denied".into(),
            }
        }
        _ => match knob(name) {
            Some(k) => k.show(s.get(name).unwrap_or_default()),
            None => String::new(),
        },
    }
}

/// Card L's injected error: `None` for invalid tool arguments (they come from the model's
/// reply, not from the service).
pub fn injected_error(s: &Settings) -> Option<CallError> {
    match ERRORS.get(s.error as usize).copied().unwrap_or("503") {
        "timeout" => Some(CallError::timed_out(s.timeout)),
        "network" => Some(CallError::new(ErrorKind::Network)),
        "invalid_args" => None,
        "429" => Some(CallError::rate_limited(2 * SEC)),
        code => Some(CallError::http(code.parse().unwrap_or(503))),
    }
}

/// The agent configuration and the fallback ladder (primary first) of a scenario. For F this
/// is one request of the series.
pub fn setup(id: ScenarioId, s: &Settings) -> (AgentConfig, SimWorld) {
    let mut cfg = s.agent_config();
    let down = |name: &'static str, b| {
        ModelSpec::new(name, b).with_faults(Faults::Always {
            error: CallError::http(503),
        })
    };
    let models =
        match id {
            ScenarioId::A => {
                vec![
                    ModelSpec::new("flaky", Behaviour::Solve).with_faults(Faults::FailFirst {
                        count: s.failures,
                        error: CallError::http(503),
                    }),
                ]
            }
            ScenarioId::B => vec![ModelSpec::new("looping", Behaviour::Loop)],
            ScenarioId::C => vec![down("down", Behaviour::Solve)],
            ScenarioId::D => {
                // The card asks a human: the run pauses at the gate until the decision comes.
                cfg.approval.approver = Approver::Ask;
                vec![ModelSpec::new("risky", Behaviour::Risky)]
            }
            ScenarioId::E => vec![ModelSpec::new("slow", Behaviour::Solve)
                .with_latency(Latency::Fixed { us: SLOW_CALL })],
            ScenarioId::F => {
                vec![
                    ModelSpec::new("service", Behaviour::Solve).with_faults(Faults::Until {
                        until: F_OUTAGE,
                        error: CallError::http(503),
                    }),
                ]
            }
            ScenarioId::G => {
                // The payment was approved up front: this card is about the retry, not the gate.
                cfg.approval.approver = Approver::ApproveAll;
                cfg.idempotency = s.idempotency;
                return (
                    cfg,
                    SimWorld {
                        tool_faults: ToolFaults { lose_response: 1 },
                        ..SimWorld::new(vec![ModelSpec::new("payments", Behaviour::Pay)])
                    },
                );
            }
            ScenarioId::H => {
                let rungs = [
                    ("primary", Behaviour::Solve),
                    ("backup (simpler prompt)", Behaviour::Brief),
                    ("cached answer", Behaviour::Cached),
                    ("advisory mode", Behaviour::Advisory),
                ];
                rungs
                    .into_iter()
                    .enumerate()
                    .map(|(i, (name, b))| {
                        if (i as u32) < s.rungs_down {
                            down(name, b)
                        } else {
                            ModelSpec::new(name, b)
                        }
                    })
                    .collect()
            }
            ScenarioId::I => {
                cfg.escalation = Some(EscalationPolicy {
                    after: s.escalate_after,
                });
                vec![
                    down("primary", Behaviour::Solve),
                    down("backup", Behaviour::Solve),
                ]
            }
            ScenarioId::J => {
                cfg.caps = Caps {
                    max_steps: s.max_turns,
                    max_tokens: s.max_tokens,
                    max_cost: s.max_cost,
                    max_wall: s.max_wall,
                };
                vec![ModelSpec::new("looping", Behaviour::Loop)]
            }
            ScenarioId::K => {
                cfg.caps.max_steps = 12;
                vec![ModelSpec::new("looping", Behaviour::Loop)]
            }
            ScenarioId::L => match injected_error(s) {
                Some(error) => vec![ModelSpec::new("model", Behaviour::Solve)
                    .with_faults(Faults::FailFirst { count: 2, error })],
                None => vec![ModelSpec::new("model", Behaviour::Malformed)],
            },
            ScenarioId::M => {
                cfg.scope = Some(ScopePolicy::default());
                cfg.approval.approver = Approver::Ask;
                vec![ModelSpec::new("ops", Behaviour::BulkUpdate)]
            }
            ScenarioId::N => {
                cfg.critic = Some(CriticPolicy {
                    threshold: s.critic_threshold.min(10) as u8,
                    draft_score: DRAFT_SCORE,
                    revised_score: REVISED_SCORE,
                });
                vec![ModelSpec::new("writer", Behaviour::Solve)]
            }
        };
    (cfg, SimWorld::new(models))
}

/// The primary model of a scenario.
pub fn model_for(id: ScenarioId, s: &Settings) -> ModelSpec {
    setup(id, s).1.models.swap_remove(0)
}

/// The kill switch a scenario runs under: the header switch, or card K's own.
pub fn kill_switch(id: ScenarioId, s: &Settings) -> KillSwitch {
    if s.kill {
        KillSwitch::ON
    } else if id == ScenarioId::K {
        KillSwitch::at(s.kill_at)
    } else {
        KillSwitch::OFF
    }
}

/// Runs one scenario with `settings`. Never panics: settings out of range are clamped into the
/// knobs' ranges first (the page's link parser has already told the user about them).
pub fn run_scenario(id: ScenarioId, settings: &Settings, record: bool) -> ScenarioRun {
    card(id, settings, None, record)
}

/// Like [`run_scenario`], with the kill switch going on at virtual time `at` (the page uses
/// this when the header switch is flipped while a card's replay is at `at`).
pub fn run_scenario_killed_at(id: ScenarioId, settings: &Settings, at: Micros) -> ScenarioRun {
    card(id, settings, Some(KillSwitch::at(at)), true)
}

fn card(
    id: ScenarioId,
    settings: &Settings,
    kill: Option<KillSwitch>,
    record: bool,
) -> ScenarioRun {
    let s = sanitize(settings);
    let run = simulate_with(id, &s, kill.unwrap_or_else(|| kill_switch(id, &s)), record);
    describe(id, &s, run)
}

/// The card for a run that already exists (an imported trace file, say): its verdict, knobs
/// and facts, as if the page had just run it with `settings`.
pub fn describe(id: ScenarioId, settings: &Settings, run: Run) -> ScenarioRun {
    let s = sanitize(settings);
    let verdict = verdict(id, &s, &run);
    let knobs = id
        .knobs()
        .iter()
        .map(|k| (k.to_string(), knob_value(&s, k)))
        .collect();
    let (facts, gauges) = facts(id, &s, &run);
    ScenarioRun {
        id,
        verdict,
        knobs,
        slow_call: (id == ScenarioId::E).then_some(SLOW_CALL),
        facts,
        gauges,
        run,
    }
}

/// The engine alone: one scenario's run, with no verdict or card text. `settings` must be in
/// range (see [`sanitize`]); out-of-range settings fall back to the defaults rather than panic.
pub fn simulate(id: ScenarioId, s: &Settings, record: bool) -> Run {
    simulate_with(id, s, kill_switch(id, s), record)
}

fn simulate_with(id: ScenarioId, s: &Settings, kill: KillSwitch, record: bool) -> Run {
    if id == ScenarioId::F {
        return run_breaker_series(s, Some(s.breaker()), kill, record);
    }
    let (cfg, world) = setup(id, s);
    let (agent, world) = match world.agent(cfg, s.seed, record) {
        Ok(a) => (a, world),
        Err(_) => fallback_agent(record),
    };
    let mut agent = agent.with_kill_switch(kill);
    let mut sim = Sim::new(&world, s.seed);
    if sim.drive(&mut agent) == Status::AwaitingApproval {
        if let Some(d) = s.decision(id) {
            agent.handle_decision(agent.now(), d);
            sim.drive(&mut agent);
        }
    }
    sim.finish(agent)
}

/// An agent that always validates: used only if sanitised settings were somehow rejected.
fn fallback_agent(record: bool) -> (agent::Agent, SimWorld) {
    let s = Settings::default();
    let world = SimWorld::new(vec![model_for(ScenarioId::A, &s)]);
    let agent = world
        .agent(s.agent_config(), s.seed, record)
        .unwrap_or_else(|_| unreachable!("the default settings are valid"));
    (agent, world)
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
        let v = if matches!(k.unit, Unit::Seconds | Unit::Dollars) {
            v
        } else {
            v.round()
        };
        let _ = out.set(k.name, v);
    }
    out
}

/// Scenario F: requests arrive every [`F_INTERVAL`] at a service that is dead until
/// [`F_OUTAGE`]; each request is a full agent run, and all share one breaker (or none).
pub fn run_breaker_series(
    s: &Settings,
    breaker: Option<BreakerConfig>,
    kill: KillSwitch,
    record: bool,
) -> Run {
    let mut breaker = breaker.map(CircuitBreaker::new);
    let mut now = 0;
    let mut merged: Option<Run> = None;
    let world = SimWorld::new(vec![model_for(ScenarioId::F, s)]);
    let mut answered = 0;
    let mut was_killed = false;
    for i in 0..F_REQUESTS {
        now = now.max(i as Micros * F_INTERVAL);
        let agent = match world.agent(s.agent_config(), s.seed ^ i as u64, record) {
            Ok(a) => a,
            Err(_) => fallback_agent(record).0,
        };
        let mut agent = agent.starting_at(now).with_kill_switch(kill);
        if let Some(b) = breaker.take() {
            agent = agent.with_breaker(b);
        }
        Sim::new(&world, s.seed ^ i as u64).drive(&mut agent);
        now = agent.now();
        let (run, b) = agent.into_parts();
        breaker = b;
        let killed = run.outcome.stop == Stop::Killed;
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
        if killed {
            was_killed = true;
            break;
        }
    }
    let mut run = merged.unwrap_or_else(|| fallback_agent(record).0.into_run());
    let c = run.outcome.counters;
    if was_killed {
        run.outcome.answer = format!(
            "Stopped by the kill switch: {answered} of {F_REQUESTS} requests answered, {} calls reached the service",
            c.model_calls
        );
        run.outcome.stop = Stop::Killed;
        return run;
    }
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
    // The header's kill switch (card K's own switch is the card's subject, handled below).
    if o.stop == Stop::Killed && (s.kill || id != ScenarioId::K) {
        return v(
            Tone::Handled,
            if o.steps == 0 {
                "the kill switch is on: the run stopped before its first step".to_string()
            } else {
                format!(
                    "the kill switch went on mid-run: the run stopped after {} step{}, before the next one began",
                    o.steps,
                    if o.steps == 1 { "" } else { "s" }
                )
            },
        );
    }
    match id {
        ScenarioId::A => {
            if o.stop == Stop::Answered && c.retries == 0 {
                v(Tone::Calm, "the first attempt worked (failure count 0), so there was nothing to retry".into())
            } else if o.stop == Stop::Answered {
                let waits = run.backoff_waits();
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
            match (run.awaiting.is_some(), s.approval) {
                (true, _) => v(
                    Tone::Waiting,
                    "send_email is risky: the run is paused until a human approves or denies (deny by default)".into(),
                ),
                (_, Some(Decision::Approve)) => v(
                    Tone::Handled,
                    "a human approved, so send_email ran (pretend: nothing was sent) and blocked is empty".into(),
                ),
                (_, Some(Decision::Deny)) => v(
                    Tone::Handled,
                    "a human denied, so send_email was blocked and the agent said so".into(),
                ),
                (_, None) => v(
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
        _ => toolbox_verdict(id, s, run),
    }
}

fn cap_name(cap: CapKind) -> &'static str {
    match cap {
        CapKind::Steps => "turn",
        CapKind::Tokens => "token",
        CapKind::Cost => "cost",
        CapKind::WallTime => "wall-time",
    }
}

fn first_event(run: &Run, pred: impl Fn(&EventKind) -> bool) -> Option<&crate::trace::Event> {
    run.trace.iter().find(|e| pred(&e.kind))
}

fn toolbox_verdict(id: ScenarioId, s: &Settings, run: &Run) -> Verdict {
    let o = &run.outcome;
    let c = &o.counters;
    let v = |tone, text: String| Verdict { tone, text };
    match id {
        ScenarioId::G => match (c.duplicates, s.idempotency) {
            (0, true) => v(
                Tone::Handled,
                "the charge went through but its answer was lost; the retry carried the same idempotency key, so the server answered from memory: charged once".into(),
            ),
            (0, false) => v(Tone::Calm, "no duplicate this time".into()),
            (n, _) => v(
                Tone::NotRecovered,
                format!(
                    "the charge went through but its answer was lost; the blind retry charged the card again: {} charges for one payment (turn on idempotency keys)",
                    n + 1
                ),
            ),
        },
        ScenarioId::H => {
            let answered_by = (s.rungs_down as usize).min(LADDER.len());
            match (o.stop, answered_by) {
                (Stop::Answered, 0) => v(
                    Tone::Calm,
                    "the primary model answered; no fallback was needed".into(),
                ),
                (Stop::Answered, n) => v(
                    Tone::Handled,
                    format!(
                        "{} down, so the {} answered ({} fallback{} counted and logged)",
                        LADDER[..n].join(", "),
                        LADDER[n],
                        c.fallbacks,
                        if c.fallbacks == 1 { "" } else { "s" }
                    ),
                ),
                _ => v(
                    Tone::NotRecovered,
                    "every rung failed, even advisory mode: the agent stopped with the safe message".into(),
                ),
            }
        }
        ScenarioId::I => match (&o.handoff, first_event(run, |k| matches!(k, EventKind::Escalated { .. }))) {
            (Some(_), Some(e)) => v(
                Tone::Handled,
                format!(
                    "the same 503 came back {} in a row: the agent stopped at {} and filed a handoff ticket",
                    if s.escalate_after == 1 { "once".to_string() } else { format!("{} times", s.escalate_after) },
                    Secs(e.at)
                ),
            ),
            _ => v(
                Tone::NotRecovered,
                format!(
                    "the run degraded after {} failed calls, before the error repeated {} times: no ticket was filed",
                    c.model_calls, s.escalate_after
                ),
            ),
        },
        ScenarioId::J => match o.stop {
            Stop::Cap(cap) => v(
                Tone::Handled,
                format!(
                    "the {} cap fired first, at step {}: {}",
                    cap_name(cap),
                    o.steps,
                    o.answer
                ),
            ),
            _ => v(Tone::NotRecovered, format!("the run ended: {}", o.answer)),
        },
        ScenarioId::K => match o.stop {
            Stop::Killed => {
                let steps_before = run
                    .trace
                    .iter()
                    .filter(|e| matches!(e.kind, EventKind::Step) && e.at < s.kill_at)
                    .count();
                v(
                    Tone::Handled,
                    format!(
                        "the switch went on at {} during step {steps_before}; no step began after it: stopped within one step",
                        Secs(s.kill_at)
                    ),
                )
            }
            _ => v(
                Tone::Calm,
                format!("the step cap stopped the loop before the switch went on at {}", Secs(s.kill_at)),
            ),
        },
        ScenarioId::L => {
            let name = ERRORS.get(s.error as usize).copied().unwrap_or("503");
            let d = injected_error(s)
                .map(|e| e.kind)
                .unwrap_or(ErrorKind::InvalidArgs)
                .decision();
            if d.retry && o.stop == Stop::Answered {
                let waits = run.backoff_waits();
                v(
                    Tone::Handled,
                    format!(
                        "{name} may pass on another try: retried after waiting {}, and it worked on attempt {}",
                        join_waits(&waits),
                        c.retries + 1
                    ),
                )
            } else if d.retry {
                v(
                    Tone::NotRecovered,
                    format!("{name} is worth retrying, but {} attempts were not enough", s.attempts),
                )
            } else {
                v(
                    Tone::Handled,
                    format!(
                        "{name} would fail the same way every time: not retried, the run stopped at once (alert a human: {})",
                        d.alert
                    ),
                )
            }
        }
        ScenarioId::M => match (run.awaiting.is_some(), s.scope_confirm) {
            (true, _) => v(
                Tone::Waiting,
                "one test record was updated; the other 99 wait for a human to check it and confirm".into(),
            ),
            (false, Some(Decision::Approve)) => v(
                Tone::Handled,
                "a human checked the test record and confirmed: the other 99 were updated".into(),
            ),
            _ => v(
                Tone::Handled,
                "a human stopped after the test record: 99 records were never touched".into(),
            ),
        },
        ScenarioId::N => {
            let t = s.critic_threshold;
            if u32::from(DRAFT_SCORE) >= t {
                v(Tone::Calm, format!("the draft scored {DRAFT_SCORE}/10, at or above the bar of {t}: accepted as it was"))
            } else if u32::from(REVISED_SCORE) >= t {
                v(Tone::Handled, format!("the draft scored {DRAFT_SCORE}/10, below {t}: revised once; the revision scored {REVISED_SCORE}/10 and was accepted"))
            } else {
                v(Tone::Handled, format!("revised once and still {REVISED_SCORE}/10, below {t}: returned with its score, because one revision is the limit"))
            }
        }
        _ => v(Tone::Calm, o.answer.clone()),
    }
}

/// The rungs of card H's ladder, top first.
pub const LADDER: [&str; 4] = [
    "primary",
    "backup (simpler prompt)",
    "cached answer",
    "advisory mode",
];

fn facts(id: ScenarioId, s: &Settings, run: &Run) -> (Vec<(String, String)>, Vec<Gauge>) {
    let o = &run.outcome;
    let c = &o.counters;
    let f = |k: &str, v: String| (k.to_string(), v);
    match id {
        ScenarioId::G => {
            let other = Settings {
                idempotency: !s.idempotency,
                ..s.clone()
            };
            let other_charges = simulate(ScenarioId::G, &other, false).effects.len();
            let label = if s.idempotency {
                "without keys it would be"
            } else {
                "with keys it would be"
            };
            (
                vec![
                    f("charges", run.effects.len().to_string()),
                    f("duplicates", c.duplicates.to_string()),
                    f(
                        label,
                        format!(
                            "{other_charges} charge{}",
                            if other_charges == 1 { "" } else { "s" }
                        ),
                    ),
                ],
                vec![],
            )
        }
        ScenarioId::H => {
            let rung = (s.rungs_down as usize).min(LADDER.len());
            let answered = if o.stop == Stop::Answered {
                LADDER.get(rung).copied().unwrap_or("none")
            } else {
                "none"
            };
            (
                vec![
                    f("answered by", answered.into()),
                    f("fallbacks used", c.fallbacks.to_string()),
                ],
                vec![],
            )
        }
        ScenarioId::J => {
            let fired = match o.stop {
                Stop::Cap(cap) => Some(cap),
                _ => None,
            };
            let g = |cap: CapKind, used: u64, limit: u64, show: &dyn Fn(u64) -> String| Gauge {
                name: cap_name(cap).to_string(),
                used,
                limit,
                used_text: show(used),
                limit_text: show(limit),
                fired: fired == Some(cap),
            };
            let count = |n: u64| n.to_string();
            let usd = |n: u64| crate::caps::fmt_usd(n);
            let secs = |n: u64| Secs(n).to_string();
            (
                vec![],
                vec![
                    // The refused step is counted in `steps` but never ran.
                    g(
                        CapKind::Steps,
                        (o.steps as u64).min(s.max_turns as u64),
                        s.max_turns as u64,
                        &count,
                    ),
                    g(CapKind::Tokens, c.tokens, s.max_tokens, &count),
                    g(CapKind::Cost, c.cost, s.max_cost, &usd),
                    g(CapKind::WallTime, o.elapsed, s.max_wall, &secs),
                ],
            )
        }
        ScenarioId::L => {
            let kind = injected_error(s)
                .map(|e| e.kind)
                .unwrap_or(ErrorKind::InvalidArgs);
            let d = kind.decision();
            let yn = |b: bool| (if b { "yes" } else { "no" }).to_string();
            (
                vec![
                    f("retry?", yn(d.retry)),
                    f("backoff?", yn(d.backoff)),
                    f("alert a human?", d.alert.to_string()),
                ],
                vec![],
            )
        }
        ScenarioId::M => {
            let updated: i64 = run
                .effects
                .iter()
                .map(|e| match &e.call {
                    crate::tools::ToolCall::UpdateRecords { count, .. } => *count,
                    _ => 0,
                })
                .sum();
            (
                vec![f(
                    "records updated",
                    format!("{updated} of {}", crate::model::BULK_RECORDS),
                )],
                vec![],
            )
        }
        ScenarioId::N => {
            let scores: Vec<String> = run
                .trace
                .iter()
                .filter_map(|e| match e.kind {
                    EventKind::Critique { score, .. } => Some(format!("{score}/10")),
                    _ => None,
                })
                .collect();
            (
                vec![
                    f("critic scores", scores.join(" then ")),
                    f("revisions", (scores.len().saturating_sub(1)).to_string()),
                ],
                vec![],
            )
        }
        _ => (vec![], vec![]),
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
    run_breaker_series(&sanitize(s), None, KillSwitch::OFF, false)
        .outcome
        .counters
        .model_calls
}
