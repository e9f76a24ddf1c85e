//! The lab's settings: one table of knobs, the single source of each setting.
//!
//! Each row of the table below is one setting: its field and type in [`Settings`], its default,
//! its label, help, unit, range and place on the page. The struct, its `Default`, the
//! [`KNOBS`] list and every knob's reader and writer are generated from the table, so adding a
//! knob is one row (plus, for a card, its name in that card's list of knobs).
//!
//! A link carries only the settings that differ from their defaults, in table order; a page at
//! its defaults has no query at all. Reading a link never fails: a value that is missing,
//! malformed or out of range keeps its default, and each one ignored comes back as a
//! [`Notice`] saying why.
//!
//! A link may also name a challenge or share a result (`challenge=...`, `claim=...` and the
//! `ch_*` parameters, see [`crate::challenge`]): those are read by the challenge module and
//! passed over here without a notice.

use super::knob::{last_index, Choice, Knob, KnobValue, Place, Unit, DECISIONS};
use super::CardId;
use crate::approval::Decision;
use crate::live::LiveTask;
use crate::retry::Jitter;
use crate::stats::{LatencyDist, Variant, Workload};
use crate::time::{Micros, MS, SEC};
use serde::{Deserialize, Serialize};

macro_rules! settings {
    ($(
        $(#[doc = $doc:literal])*
        $field:ident: $ty:ty = $default:expr, {
            label: $label:expr, help: $help:expr, unit: $unit:expr,
            min: $min:expr, max: $max:expr, step: $step:expr, place: $place:expr $(,)?
        }
    )*) => {
        /// The lab's settings: every knob on the page, and every value in a link.
        #[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
        pub struct Settings {
            $( $(#[doc = $doc])* pub $field: $ty, )*
        }

        impl Default for Settings {
            fn default() -> Self {
                Settings { $( $field: $default, )* }
            }
        }

        /// Every setting, in page order.
        pub const KNOBS: &[Knob] = &[ $(
            Knob {
                name: stringify!($field),
                label: $label,
                help: $help,
                unit: $unit,
                min: $min,
                max: $max,
                step: $step,
                place: $place,
                get: |s| KnobValue::to_knob(&s.$field, $unit),
                put: |s, v| s.$field = KnobValue::from_knob(v, $unit),
            },
        )* ];
    };
}

settings! {
    /// How many times the flaky model (A) fails before it works.
    failures: u32 = 2, {
        label: "Failure count", help: "how many calls the flaky model fails before it works",
        unit: Unit::Count, min: 0.0, max: 6.0, step: 1.0, place: Place::Main,
    }
    /// The step cap.
    max_steps: u32 = 4, {
        label: "max_steps", help: "the step cap: a run is stopped past this many steps",
        unit: Unit::Count, min: 1.0, max: 12.0, step: 1.0, place: Place::Main,
    }
    /// The per-call timeout.
    timeout: Micros = 50 * MS, {
        label: "Timeout", help: "how long one call may take before the agent gives up on it",
        unit: Unit::Seconds, min: 0.05, max: 5.0, step: 0.05, place: Place::Main,
    }
    /// Attempts per call, the first included.
    attempts: u32 = 3, {
        label: "Attempts", help: "tries per call, the first one included",
        unit: Unit::Count, min: 1.0, max: 8.0, step: 1.0, place: Place::Advanced,
    }
    /// The first backoff wait.
    base_delay: Micros = 500 * MS, {
        label: "Base delay", help: "the first backoff wait; each later wait doubles",
        unit: Unit::Seconds, min: 0.05, max: 5.0, step: 0.05, place: Place::Advanced,
    }
    /// Backoff jitter.
    jitter: Jitter = Jitter::None, {
        label: "Jitter", help: "how each backoff wait is randomised",
        unit: Unit::Choice(Jitter::NAMES), min: 0.0, max: last_index(Jitter::NAMES), step: 1.0,
        place: Place::Advanced,
    }
    /// The seed of every random choice.
    seed: u64 = 1, {
        label: "Seed", help: "seeds the jitter and any random faults",
        unit: Unit::Count, min: 0.0, max: 999_999.0, step: 1.0, place: Place::Advanced,
    }
    /// Consecutive failures that open the breaker (F).
    breaker_threshold: u32 = 3, {
        label: "Breaker threshold", help: "failures in a row that open the circuit breaker",
        unit: Unit::Count, min: 1.0, max: 10.0, step: 1.0, place: Place::Advanced,
    }
    /// How long the breaker stays open (F).
    breaker_cooldown: Micros = 5 * SEC, {
        label: "Breaker cooldown", help: "how long the breaker stays open before one probe",
        unit: Unit::Seconds, min: 0.5, max: 30.0, step: 0.5, place: Place::Advanced,
    }
    /// G: send idempotency keys with the payment.
    idempotency: bool = false, {
        label: "Idempotency keys", help: "send a key with the payment so a retry cannot charge twice",
        unit: Unit::Toggle, min: 0.0, max: 1.0, step: 1.0, place: Place::Card(CardId::G),
    }
    /// H: how many rungs of the fallback ladder are down, from the top.
    rungs_down: u32 = 1, {
        label: "Rungs down", help: "how many rungs of the ladder fail, from the top",
        unit: Unit::Count, min: 0.0, max: 4.0, step: 1.0, place: Place::Card(CardId::H),
    }
    /// I: escalate after the same error from the same model this many times.
    escalate_after: u32 = 3, {
        label: "Escalate after",
        help: "the same error from the same model this many times hands off to a human",
        unit: Unit::Count, min: 1.0, max: 8.0, step: 1.0, place: Place::Card(CardId::I),
    }
    /// J: the turn cap.
    max_turns: u32 = 10, {
        label: "Turn cap", help: "steps the budgeted agent may take",
        unit: Unit::Count, min: 1.0, max: 30.0, step: 1.0, place: Place::Card(CardId::J),
    }
    /// J: the token cap.
    max_tokens: u64 = 8_000, {
        label: "Token cap", help: "tokens the budgeted agent may use",
        unit: Unit::Count, min: 1_000.0, max: 30_000.0, step: 500.0, place: Place::Card(CardId::J),
    }
    /// J: the cost cap, in micro-dollars.
    max_cost: u64 = 50_000, {
        label: "Cost cap", help: "money the budgeted agent may spend",
        unit: Unit::Dollars, min: 0.002, max: 0.1, step: 0.002, place: Place::Card(CardId::J),
    }
    /// J: the wall-time cap.
    max_wall: Micros = SEC, {
        label: "Wall-time cap", help: "virtual time the budgeted agent may take",
        unit: Unit::Seconds, min: 0.05, max: 2.0, step: 0.05, place: Place::Card(CardId::J),
    }
    /// K: when the kill switch goes on during the looping run.
    kill_at: Micros = 100 * MS, {
        label: "Switch on at", help: "when the kill switch goes on during the looping run",
        unit: Unit::Seconds, min: 0.0, max: 0.5, step: 0.01, place: Place::Card(CardId::K),
    }
    /// L: which error the model's first two calls fail with.
    error: Injected = Injected::E503, {
        label: "Error", help: "what the model's first two calls fail with",
        unit: Unit::Choice(Injected::NAMES), min: 0.0, max: last_index(Injected::NAMES),
        step: 1.0, place: Place::Card(CardId::L),
    }
    /// N: the critic's threshold, out of 10.
    critic_threshold: u32 = 7, {
        label: "Critic threshold", help: "answers scoring below this (out of 10) are revised, once",
        unit: Unit::Count, min: 0.0, max: 10.0, step: 1.0, place: Place::Card(CardId::N),
    }
    /// D: the human's answer at the approval gate; `None` while nobody has answered.
    approval: Option<Decision> = None, {
        label: "Approval", help: "the human's answer at the approval gate",
        unit: Unit::Choice(DECISIONS), min: 0.0, max: 2.0, step: 1.0, place: Place::Button,
    }
    /// M: the human's answer after the test record; `None` while nobody has answered.
    scope_confirm: Option<Decision> = None, {
        label: "Confirm", help: "the human's answer after the test record",
        unit: Unit::Choice(DECISIONS), min: 0.0, max: 2.0, step: 1.0, place: Place::Button,
    }
    /// The kill switch in the page header: on, no run takes a step.
    kill: bool = false, {
        label: "Kill switch", help: "on: every run stops before its next step",
        unit: Unit::Toggle, min: 0.0, max: 1.0, step: 1.0, place: Place::Button,
    }
    /// Statistics: what each request does.
    stats_workload: Workload = Workload::Answer, {
        label: "Workload",
        help: "what each request asks: one answer, the multiply task, a risky tool, a loop",
        unit: Unit::Choice(Workload::NAMES), min: 0.0, max: last_index(Workload::NAMES),
        step: 1.0, place: Place::Stats,
    }
    /// Statistics: the chance that one model call fails.
    stats_rate: f64 = 0.2, {
        label: "Failure rate", help: "the chance that any one model call fails with a 503",
        unit: Unit::Rate, min: 0.0, max: 1.0, step: 0.01, place: Place::Stats,
    }
    /// Statistics: the latency distribution.
    stats_latency: LatencyDist = LatencyDist::Fixed, {
        label: "Latency", help: "fixed 20 ms; uniform 10-200 ms; or 20 ms with 5% of calls at 2 s",
        unit: Unit::Choice(LatencyDist::NAMES), min: 0.0, max: last_index(LatencyDist::NAMES),
        step: 1.0, place: Place::Stats,
    }
    /// Statistics: requests per policy.
    stats_runs: u32 = 10_000, {
        label: "Runs per policy", help: "seeded requests per policy; request i uses seed + i",
        unit: Unit::Count, min: 1_000.0, max: 50_000.0, step: 1_000.0, place: Place::Stats,
    }
    /// Statistics: what policy B changes.
    ab_variant: Variant = Variant::MoreAttempts, {
        label: "Policy B", help: "policy A is the lab's knobs; B changes one thing",
        unit: Unit::Choice(Variant::NAMES), min: 0.0, max: last_index(Variant::NAMES),
        step: 1.0, place: Place::Stats,
    }
    /// Live: how long one real model call may take.
    live_timeout: Micros = 20 * SEC, {
        label: "Live timeout",
        help: "how long one real model call may take (real models take seconds, not 0.05s)",
        unit: Unit::Seconds, min: 1.0, max: 60.0, step: 1.0, place: Place::Live,
    }
    /// Live: what the real model is asked.
    live_task: LiveTask = LiveTask::Multiply, {
        label: "Task", help: "the lab's sum, or the sum and an email (the risky tool)",
        unit: Unit::Choice(LiveTask::NAMES), min: 0.0, max: last_index(LiveTask::NAMES),
        step: 1.0, place: Place::Live,
    }
    /// The herd: the largest number of clients plotted.
    herd_clients: u32 = 50, {
        label: "Clients", help: "the plot runs from 10 clients up to this many",
        unit: Unit::Count, min: 20.0, max: 100.0, step: 10.0, place: Place::Herd,
    }
    /// Amplification: attempts of the SDK (innermost).
    amp_sdk: u32 = 3, {
        label: "SDK attempts", help: "the model SDK's own retries (innermost)",
        unit: Unit::Count, min: 1.0, max: 6.0, step: 1.0, place: Place::Amplify,
    }
    /// Amplification: attempts of the agent framework.
    amp_framework: u32 = 3, {
        label: "Framework attempts", help: "the agent framework's retries around the SDK",
        unit: Unit::Count, min: 1.0, max: 6.0, step: 1.0, place: Place::Amplify,
    }
    /// Amplification: attempts of the tool wrapper (outermost).
    amp_tool: u32 = 3, {
        label: "Tool attempts", help: "the tool wrapper's retries around the framework (outermost)",
        unit: Unit::Count, min: 1.0, max: 6.0, step: 1.0, place: Place::Amplify,
    }
    /// Amplification: the server's Retry-After (0 for none).
    amp_retry_after: Micros = 0, {
        label: "Retry-After", help: "the server asks every retry to wait at least this long (0: no hint)",
        unit: Unit::Seconds, min: 0.0, max: 10.0, step: 0.5, place: Place::Amplify,
    }
    /// Challenges: every request shares one circuit breaker (threshold and cooldown from the
    /// advanced knobs).
    use_breaker: bool = false, {
        label: "Circuit breaker",
        help: "requests share one circuit breaker (its threshold and cooldown are under advanced)",
        unit: Unit::Toggle, min: 0.0, max: 1.0, step: 1.0, place: Place::Challenge,
    }
    /// Challenges: card J's token, cost and wall-time caps stop each request.
    use_budgets: bool = false, {
        label: "Budgets", help: "card J's token, cost and wall-time caps stop each request",
        unit: Unit::Toggle, min: 0.0, max: 1.0, step: 1.0, place: Place::Challenge,
    }
    /// Challenges: risky tools wait for a human yes; off, they run unapproved.
    approval_gate: bool = true, {
        label: "Approval gate", help: "risky tools need a human yes; off, they run unapproved",
        unit: Unit::Toggle, min: 0.0, max: 1.0, step: 1.0, place: Place::Challenge,
    }
}

/// The errors card L can inject.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Injected {
    /// 500 Internal Server Error.
    E500,
    /// 503 Service Unavailable.
    E503,
    /// 400 Bad Request.
    E400,
    /// 401 Unauthorized.
    E401,
    /// 403 Forbidden.
    E403,
    /// 404 Not Found.
    E404,
    /// 429 Too Many Requests, with a Retry-After of 2 s.
    E429,
    /// The call hangs: the lab's timeout gives up on it.
    Timeout,
    /// The connection is reset.
    Network,
    /// The model's tool arguments are invalid (it comes from the reply, not the service).
    InvalidArgs,
}

impl Choice for Injected {
    const ALL: &'static [Self] = &[
        Injected::E500,
        Injected::E503,
        Injected::E400,
        Injected::E401,
        Injected::E403,
        Injected::E404,
        Injected::E429,
        Injected::Timeout,
        Injected::Network,
        Injected::InvalidArgs,
    ];
    const NAMES: &'static [&'static str] = &[
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
}

/// A setting that was ignored, and why: shown on the page as a notice.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notice {
    /// The setting's name as written.
    pub name: String,
    /// What happened, in words.
    pub message: String,
}

/// Link parameters that are not settings but say how to show the page (`present=B`, a card to
/// open): read by the page, passed over here without a notice.
pub const VIEW_PARAMS: &[&str] = &["present", "card"];

/// The value of the view parameter `name` in a link's query (with or without `?`): `B` for
/// `present` in `?max_steps=2&present=B`. The first one counts, as for settings.
pub fn view_param(query: &str, name: &str) -> Option<String> {
    let query = query.strip_prefix('?').unwrap_or(query);
    query.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=')?;
        (decode(k) == name).then(|| decode(v))
    })
}

/// Looks a knob up by name.
pub fn knob(name: &str) -> Option<&'static Knob> {
    KNOBS.iter().find(|k| k.name == name)
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

/// Percent-decodes a query component (`+` is a space).
pub fn decode(s: &str) -> String {
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

/// More unknown names than this are summed up in one notice.
const UNKNOWN_LISTED: usize = 5;

impl Settings {
    /// A knob's value in its unit (seconds for time knobs), by name.
    pub fn get(&self, name: &str) -> Option<f64> {
        knob(name).map(|k| (k.get)(self))
    }

    /// Sets a knob by name, checking its range. On error nothing changes and the message says
    /// what the value must be.
    pub fn set(&mut self, name: &str, value: f64) -> Result<(), String> {
        let k = knob(name).ok_or_else(|| format!("unknown setting `{name}`"))?;
        let value = k.check(value)?;
        (k.put)(self, value);
        Ok(())
    }

    /// The human's answer for a card that pauses (D or M).
    pub fn decision(&self, id: CardId) -> Option<Decision> {
        match id {
            CardId::D => self.approval,
            CardId::M => self.scope_confirm,
            _ => None,
        }
    }

    /// Records (or, with `None`, withdraws) the human's answer for a card that pauses.
    pub fn set_decision(&mut self, id: CardId, d: Option<Decision>) {
        match id {
            CardId::D => self.approval = d,
            CardId::M => self.scope_confirm = d,
            _ => {}
        }
    }

    /// The link's query (without `?`): the settings that differ from the defaults, in table
    /// order. Empty at the defaults.
    pub fn to_query(&self) -> String {
        let defaults = Settings::default();
        let mut parts: Vec<String> = Vec::new();
        for k in KNOBS {
            let v = (k.get)(self);
            if k.write(v) != k.write((k.get)(&defaults)) {
                parts.push(format!("{}={}", k.name, k.write(v)));
            }
        }
        parts.join("&")
    }

    /// The address bar's query: [`Settings::to_query`], then `present=<letter>` while a card
    /// is presented (so a reload stays on it).
    pub fn page_query(&self, present: Option<CardId>) -> String {
        let mut q = self.to_query();
        if let Some(id) = present {
            if !q.is_empty() {
                q.push('&');
            }
            q.push_str("present=");
            q.push_str(id.letter());
        }
        q
    }

    /// A link to share: `page` (the page's address; its own query and fragment are dropped),
    /// these settings as [`Settings::to_query`] writes them, and `#anchor`, the id of the card
    /// or panel to open at: `https://lab.example/?max_steps=2#card-B`.
    pub fn share_link(&self, page: &str, anchor: &str) -> String {
        let base = page.split(['?', '#']).next().unwrap_or_default();
        let q = self.to_query();
        let sep = if q.is_empty() { "" } else { "?" };
        format!("{base}{sep}{q}#{anchor}")
    }

    /// Every setting, default or not, in table order: what a trace file records, so a file
    /// still means the same run if a default changes.
    pub fn to_full_query(&self) -> String {
        let parts: Vec<String> = KNOBS
            .iter()
            .map(|k| format!("{}={}", k.name, k.write((k.get)(self))))
            .collect();
        parts.join("&")
    }

    /// Reads a link's query (with or without `?`). Never fails: every value that is missing,
    /// malformed or out of range keeps its default, and each one that was ignored comes back as
    /// a [`Notice`] saying why. Many unknown names come back as one notice.
    pub fn from_query(query: &str) -> (Settings, Vec<Notice>) {
        let mut s = Settings::default();
        let mut notices = Vec::new();
        let mut unknown: Vec<String> = Vec::new();
        let mut seen: Vec<String> = Vec::new();
        let query = query.strip_prefix('?').unwrap_or(query);
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (raw_name, raw_value) = pair.split_once('=').unwrap_or((pair, ""));
            let name = decode(raw_name);
            // Tracking tags that link shorteners and mail tools add are not settings.
            if name.starts_with("utm_")
                || matches!(name.as_str(), "fbclid" | "gclid" | "ref")
                || VIEW_PARAMS.contains(&name.as_str())
                || crate::challenge::is_link_param(&name)
            {
                continue;
            }
            // Echo at most 40 characters of a value or name back to the user.
            let value = shorten(&decode(raw_value));
            let name = shorten(&name);
            let Some(k) = knob(&name) else {
                if !unknown.contains(&name) {
                    unknown.push(name);
                }
                continue;
            };
            if seen.contains(&name) {
                notices.push(Notice {
                    message: format!(
                        "`{name}` appears more than once; only its first value was read"
                    ),
                    name,
                });
                continue;
            }
            seen.push(name.clone());
            let default = (k.get)(&Settings::default());
            if let Err(why) = k.read(&value).and_then(|v| s.set(k.name, v)) {
                notices.push(Notice {
                    message: format!(
                        "{name}={} ignored: {why}; using the default {}",
                        crate::quote(&value),
                        k.write(default)
                    ),
                    name,
                });
            }
        }
        match unknown.len() {
            0 => {}
            n if n <= UNKNOWN_LISTED => notices.extend(unknown.into_iter().map(|name| Notice {
                message: format!("unknown setting `{name}` ignored"),
                name,
            })),
            n => {
                let listed: Vec<&str> = unknown
                    .iter()
                    .take(UNKNOWN_LISTED)
                    .map(String::as_str)
                    .collect();
                notices.push(Notice {
                    name: "unknown".into(),
                    message: format!("{n} unknown settings ignored: {}, …", listed.join(", ")),
                });
            }
        }
        (s, notices)
    }

    /// The retry policy these settings describe.
    pub fn retry(&self) -> crate::retry::RetryPolicy {
        crate::retry::RetryPolicy::new()
            .with_attempts(self.attempts)
            .with_base(self.base_delay)
            .with_jitter(self.jitter)
    }

    /// The agent's policy these settings describe (deny-by-default approvals).
    pub fn agent_config(&self) -> crate::agent::AgentConfig {
        crate::agent::AgentConfig {
            retry: self.retry(),
            deadline: crate::deadline::Deadline::new(self.timeout),
            caps: crate::caps::Caps::new().with_max_steps(self.max_steps),
            ..crate::agent::AgentConfig::default()
        }
    }

    /// The breaker these settings describe.
    pub fn breaker(&self) -> crate::breaker::BreakerConfig {
        crate::breaker::BreakerConfig {
            threshold: self.breaker_threshold,
            cooldown: self.breaker_cooldown,
        }
    }

    /// These settings with every knob clamped into its range (the link reader and the page
    /// already refuse values out of range; this keeps the engine total for settings built by
    /// hand).
    pub fn sanitized(&self) -> Settings {
        let mut out = self.clone();
        for k in KNOBS {
            let v = (k.get)(self);
            let v = if v.is_finite() { v } else { k.min };
            let v = crate::num::clamp(v, k.min, k.max);
            let v = match k.unit {
                Unit::Seconds | Unit::Dollars | Unit::Rate => v,
                _ => v.round(),
            };
            (k.put)(&mut out, v);
        }
        out
    }
}
