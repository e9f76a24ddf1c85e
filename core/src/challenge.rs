//! Challenges: tune a policy to a goal, and share a result anyone can re-check.
//!
//! A **challenge** is a stream of requests meeting faults, plus goals on what the what-if
//! statistics ([`crate::stats`]) measure. Its [`Conditions`] say what each request asks (a
//! [`Workload`]) and what goes wrong: the chance that a model call fails, what the failures
//! are (an [`ErrorMix`] of 503, 429 with a Retry-After of 2 s, hangs that only a timeout ends,
//! and 500), when the service is fully down (an [`Outage`] window, once or periodic), how long
//! calls take ([`LatencyDist`]), for the payment workload how often a charge commits but its
//! answer is lost (so only an idempotency key makes the retry safe), and how far apart requests
//! arrive (so that an outage covers the requests arriving in it, and a shared circuit breaker
//! sees them in order). Its [`Goals`] bound the success, degraded and blocked rates, the p95
//! and p99 latency, the model calls, tokens and cost per request, and two safety rules: no
//! risky action runs unapproved, no side effect happens twice.
//!
//! The **policy** a student tunes is the lab's [`Settings`]: the knobs in [`POLICY_KNOBS`]
//! (attempts, base delay, jitter, timeout, the step cap, the circuit breaker, idempotency keys,
//! card J's budgets and the approval gate) make a [`Policy`] with [`policy`]. No other knob
//! changes a score; the seed knob in particular does not (see below).
//!
//! # Default
//! A custom challenge starts from [`Conditions::DEFAULT`]: the one-answer workload, no
//! failures, every failure a 503, 20 ms calls, no outage, no lost answers, one request every
//! 0.1 s; no goals; [`Challenge::DEFAULT_RUNS`] (10,000) scored requests. A policy starts from
//! the lab's defaults: 3 attempts from 0.5 s without jitter, a 0.05 s timeout, 4 steps, no
//! breaker, no keys, no budgets, the approval gate on.
//!
//! # Scoring
//! [`Scoring`] runs the challenge's requests under a policy in chunks ([`Scoring::step`]), so a
//! page can compute between frames or in a worker, and [`Scoring::score`] measures them:
//!
//! - **Seeds come from the challenge**: request `i` uses seed `h + i`, where `h` is a hash
//!   (FNV-1a) of the challenge's conditions ([`Conditions::seed`]). A student cannot pick lucky
//!   seeds, every policy meets the very same faults, and the first `n` requests are the same
//!   whatever the number of runs or the goals.
//! - **Goal by goal** ([`GoalResult`]): the measured value, pass or fail, by how much, and for
//!   rates and per-request means a 99% margin (the half-width of a 99% confidence interval:
//!   Agresti–Coull for rates, the normal interval of the mean for calls, tokens and cost), so
//!   `99.87% ± 0.04%` against a goal of 99.9% is flagged as *within the margin*: another set
//!   of seeds could decide it the other way. Latency percentiles are nearest-rank, with no
//!   margin; the safety rules count offending requests and pass at zero.
//! - **Verdict**: a policy passes when every goal passes. Between two passing policies, the
//!   cheaper one per request wins ([`Score::rank`], [`Score::tie_break`]).
//! - **Exact everywhere**: pass or fail, margins and every number shown are computed in
//!   integers from integer counts and totals, and printed without float formatting, so a score
//!   is the same natively and in WebAssembly.
//!
//! # Links
//! A challenge, and a result (a challenge, the policy that was scored and what it claimed), are
//! URL queries that read back exactly:
//!
//! - a built-in challenge: `challenge=<id>`, e.g. `challenge=flaky`;
//! - a custom challenge: `ch_*` parameters, only those that differ from the defaults:
//!   `ch_title` (text, at most 60 characters), `ch_work` (`answer`, `solve`, `risky`, `loop`,
//!   `pay`), `ch_fail` (percent), `ch_lat` (`fixed`, `uniform`, `tail`), `ch_mix`
//!   (`503:70,429:20,hang:10`, percent shares adding up to 100), `ch_outage` (seconds:
//!   `2-5`, or `2-5/10` for every 10 s), `ch_lost` (percent), `ch_every` (seconds between
//!   requests), `ch_runs`; goals `ch_success` (at least, percent), `ch_degraded` and
//!   `ch_blocked` (at most, percent), `ch_p95` and `ch_p99` (seconds), `ch_calls`, `ch_tokens`
//!   and `ch_cost` (dollars) per request, and `ch_rules` (`approved`, `once` or both). E.g.
//!   `ch_title=Flaky%20payments&ch_work=pay&ch_fail=20&ch_lost=5&ch_success=99&ch_rules=once`;
//! - a result: the challenge's parameters, then the policy knobs that differ from their
//!   defaults, as the lab writes them, then `claim=pass` or `claim=fail`. E.g.
//!   `challenge=flaky&attempts=5&base_delay=0.2&claim=pass`.
//!
//! [`read_link`] reads any page link: `None` when it names no challenge. A bad or tampered
//! challenge link is an error naming the parameter ([`LinkError`]): unknown or repeated
//! parameters, malformed values and every value out of its range. The lab's settings reader
//! ([`Settings::from_query`]) passes over these parameters silently.

use crate::approval::Approver;
use crate::caps::{fmt_usd, Caps};
use crate::idempotency::KeyBuilder;
use crate::lab::settings::decode;
use crate::lab::{knob, CardId, Choice, Settings};
use crate::stats::{Accumulator, Experiment, LatencyDist, Policy, Workload, ARRIVAL};
pub use crate::stats::{ErrorMix, Outage};
use crate::time::{Brief, Micros, Secs, MS, SEC};
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::cmp::Ordering;
use std::fmt;

/// Parts per million: rates are counted in these (1 ppm is 0.0001%).
pub type Ppm = u32;

/// One million: a rate of 1.
const MILLION: u64 = 1_000_000;

/// What a challenge's requests ask and meet: the workload and the fault model.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Conditions {
    /// What each request asks.
    pub workload: Workload,
    /// The chance that one model call fails, outside outages.
    pub failure: Ppm,
    /// How long model calls take.
    pub latency: LatencyDist,
    /// What the failing calls fail with.
    pub errors: ErrorMix,
    /// When the service is fully down (every call a 503), if ever.
    pub outage: Option<Outage>,
    /// The chance that a request's payment commits but its answer is lost (the payment
    /// workload's unknown outcome).
    pub lost: Ppm,
    /// Request `i` arrives at `i × arrival`.
    pub arrival: Micros,
}

impl Default for Conditions {
    fn default() -> Self {
        Conditions::DEFAULT
    }
}

impl Conditions {
    /// One answer per request, no failures (every failure a 503), 20 ms calls, no outage, no
    /// lost answers, a request every 0.1 s.
    pub const DEFAULT: Conditions = Conditions {
        workload: Workload::Answer,
        failure: 0,
        latency: LatencyDist::Fixed,
        errors: ErrorMix::ALL_503,
        outage: None,
        lost: 0,
        arrival: ARRIVAL,
    };

    /// The seed of request 0 (request `i` uses this plus `i`): FNV-1a over the conditions, so
    /// it is the same on every platform and no knob of the policy can move it.
    pub fn seed(&self) -> u64 {
        let (from, to, every) = match self.outage {
            Some(o) => (o.from as i64, o.to as i64, o.every as i64),
            None => (-1, -1, -1),
        };
        let mut k = KeyBuilder::new()
            .str("challenge/1")
            .str(self.workload.name())
            .num(self.failure as i64)
            .str(self.latency.name());
        for (name, share) in self.errors.shares() {
            k = k.str(name).num(share as i64);
        }
        k.num(from)
            .num(to)
            .num(every)
            .num(self.lost as i64)
            .num(self.arrival as i64)
            .finish()
            .0
    }

    /// The statistics' experiment of `runs` requests under these conditions.
    pub fn experiment(&self, runs: u32) -> Experiment {
        Experiment {
            errors: self.errors,
            outage: self.outage,
            lost_rate: self.lost as f64 / MILLION as f64,
            arrival: self.arrival,
            ..Experiment::new(
                self.workload,
                self.failure as f64 / MILLION as f64,
                self.latency,
                runs,
                self.seed(),
            )
        }
    }
}

/// What a challenge asks of a policy: a bound on any of the measures, and the safety rules.
/// A goal left `None` (or a rule left `false`) is not part of the challenge.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Goals {
    /// Success rate at least this.
    pub success: Option<Ppm>,
    /// Degraded rate at most this.
    pub degraded: Option<Ppm>,
    /// Blocked rate at most this.
    pub blocked: Option<Ppm>,
    /// 95th percentile latency at most this.
    pub p95: Option<Micros>,
    /// 99th percentile latency at most this.
    pub p99: Option<Micros>,
    /// Model calls per request at most this many thousandths.
    pub calls: Option<u64>,
    /// Tokens per request at most this.
    pub tokens: Option<u64>,
    /// Cost per request at most this, in micro-dollars.
    pub cost: Option<u64>,
    /// The rule: no request runs a risky action nobody approved.
    pub approved: bool,
    /// The rule: no request repeats a side effect (charges twice).
    pub once: bool,
}

/// One thing a goal can be about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    /// Share of requests answered.
    Success,
    /// Share degraded or stopped.
    Degraded,
    /// Share with a blocked tool.
    Blocked,
    /// 95th percentile latency.
    P95,
    /// 99th percentile latency.
    P99,
    /// Model calls per request.
    Calls,
    /// Tokens per request.
    Tokens,
    /// Cost per request.
    Cost,
    /// Requests that ran a risky action nobody approved (the rule: none).
    Approved,
    /// Requests that repeated a side effect (the rule: none).
    Once,
}

impl Metric {
    /// All, in the order goals are listed and written.
    pub const ALL: [Metric; 10] = [
        Metric::Success,
        Metric::Degraded,
        Metric::Blocked,
        Metric::P95,
        Metric::P99,
        Metric::Calls,
        Metric::Tokens,
        Metric::Cost,
        Metric::Approved,
        Metric::Once,
    ];

    /// The name in links (`ch_<name>` for a bound, a word of `ch_rules` for a rule).
    pub const fn name(self) -> &'static str {
        match self {
            Metric::Success => "success",
            Metric::Degraded => "degraded",
            Metric::Blocked => "blocked",
            Metric::P95 => "p95",
            Metric::P99 => "p99",
            Metric::Calls => "calls",
            Metric::Tokens => "tokens",
            Metric::Cost => "cost",
            Metric::Approved => "approved",
            Metric::Once => "once",
        }
    }

    /// The link parameter that sets this goal.
    pub const fn param(self) -> &'static str {
        match self {
            Metric::Success => "ch_success",
            Metric::Degraded => "ch_degraded",
            Metric::Blocked => "ch_blocked",
            Metric::P95 => "ch_p95",
            Metric::P99 => "ch_p99",
            Metric::Calls => "ch_calls",
            Metric::Tokens => "ch_tokens",
            Metric::Cost => "ch_cost",
            Metric::Approved | Metric::Once => "ch_rules",
        }
    }

    /// What is measured, in words.
    pub const fn label(self) -> &'static str {
        match self {
            Metric::Success => "success rate",
            Metric::Degraded => "degraded rate",
            Metric::Blocked => "blocked rate",
            Metric::P95 => "p95 latency",
            Metric::P99 => "p99 latency",
            Metric::Calls => "model calls per request",
            Metric::Tokens => "tokens per request",
            Metric::Cost => "cost per request",
            Metric::Approved => "no unapproved risky action",
            Metric::Once => "no duplicate side effect",
        }
    }

    /// Is more better (only the success rate)?
    pub const fn at_least(self) -> bool {
        matches!(self, Metric::Success)
    }

    /// Is it a safety rule (pass at zero offending requests)?
    pub const fn is_rule(self) -> bool {
        matches!(self, Metric::Approved | Metric::Once)
    }

    /// How many of this metric's fine units a goal's unit is: goals on tokens are in tokens
    /// and on cost in micro-dollars, but measured in thousandths of those.
    const fn goal_scale(self) -> u64 {
        match self {
            Metric::Tokens | Metric::Cost => 1_000,
            _ => 1,
        }
    }
}

impl Goals {
    /// No goals.
    pub const NONE: Goals = Goals {
        success: None,
        degraded: None,
        blocked: None,
        p95: None,
        p99: None,
        calls: None,
        tokens: None,
        cost: None,
        approved: false,
        once: false,
    };

    /// The goal on `m`, in its unit (ppm, microseconds, thousandths of a call, tokens,
    /// micro-dollars; `Some(0)` for a rule that is on).
    pub fn target(&self, m: Metric) -> Option<u64> {
        match m {
            Metric::Success => self.success.map(u64::from),
            Metric::Degraded => self.degraded.map(u64::from),
            Metric::Blocked => self.blocked.map(u64::from),
            Metric::P95 => self.p95,
            Metric::P99 => self.p99,
            Metric::Calls => self.calls,
            Metric::Tokens => self.tokens,
            Metric::Cost => self.cost,
            Metric::Approved => self.approved.then_some(0),
            Metric::Once => self.once.then_some(0),
        }
    }

    /// The metrics that have a goal, in [`Metric::ALL`] order.
    pub fn metrics(&self) -> Vec<Metric> {
        Metric::ALL
            .into_iter()
            .filter(|m| self.target(*m).is_some())
            .collect()
    }

    /// Each goal in words: `success rate ≥ 99.9%`, `no duplicate side effect`.
    pub fn describe(&self) -> Vec<String> {
        self.metrics()
            .into_iter()
            .map(|m| match self.target(m) {
                Some(t) if !m.is_rule() => format!(
                    "{} {} {}",
                    m.label(),
                    if m.at_least() { "≥" } else { "≤" },
                    show_goal(m, t)
                ),
                _ => m.label().to_string(),
            })
            .collect()
    }
}

/// A challenge: conditions, goals, and how many requests are scored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Challenge {
    /// A built-in's id (short, URL-safe), or `custom`.
    pub id: Cow<'static, str>,
    /// The title.
    pub title: Cow<'static, str>,
    /// What the requests ask and meet.
    pub conditions: Conditions,
    /// What the policy must achieve.
    pub goals: Goals,
    /// How many requests are scored.
    pub runs: u32,
}

impl Challenge {
    /// Requests scored unless a challenge says otherwise.
    pub const DEFAULT_RUNS: u32 = 10_000;
    /// The fewest and most requests a challenge may score.
    pub const RUNS: (u32, u32) = (100, 100_000);
    /// The id of every challenge that is not a built-in.
    pub const CUSTOM: &'static str = "custom";
    /// The title of a custom challenge that has none.
    pub const UNTITLED: &'static str = "Custom challenge";
    /// The longest title, in characters.
    pub const TITLE_MAX: usize = 60;

    /// A custom (teacher-made) challenge.
    pub fn custom(title: impl Into<String>, conditions: Conditions, goals: Goals) -> Challenge {
        Challenge {
            id: Cow::Borrowed(Challenge::CUSTOM),
            title: Cow::Owned(title.into()),
            conditions,
            goals,
            runs: Challenge::DEFAULT_RUNS,
        }
    }

    /// The built-in this challenge is, if it is exactly one.
    pub fn builtin(&self) -> Option<&'static Builtin> {
        builtin(&self.id).filter(|b| b.challenge == *self)
    }

    /// The seed of its request 0 (see [`Conditions::seed`]).
    pub fn seed(&self) -> u64 {
        self.conditions.seed()
    }

    /// The statistics' experiment: its requests under its conditions.
    pub fn experiment(&self) -> Experiment {
        self.conditions.experiment(self.runs)
    }

    /// Checks every parameter against its range, naming the first one out of it.
    pub fn validate(&self) -> Result<(), LinkError> {
        let c = &self.conditions;
        let title_len = self.title.chars().count();
        if title_len == 0 || title_len > Challenge::TITLE_MAX {
            return Err(LinkError::new(
                "ch_title",
                format!(
                    "must be 1 to {} characters (got {title_len})",
                    Challenge::TITLE_MAX
                ),
            ));
        }
        if self.title.chars().any(char::is_control) {
            return Err(LinkError::new(
                "ch_title",
                "must not contain control characters",
            ));
        }
        if self.id.is_empty()
            || self.id.len() > 16
            || !self.id.bytes().all(|b| b.is_ascii_lowercase() || b == b'-')
        {
            return Err(LinkError::new(
                "challenge",
                "an id is 1 to 16 lowercase letters or dashes",
            ));
        }
        check_range("ch_fail", c.failure as u64, 0, MILLION, show_rate)?;
        check_range("ch_lost", c.lost as u64, 0, MILLION, show_rate)?;
        if c.errors.validate().is_err() {
            let sum: u32 = c.errors.shares().iter().map(|(_, s)| *s as u32).sum();
            return Err(LinkError::new(
                "ch_mix",
                format!("shares must add up to 100 (got {sum})"),
            ));
        }
        if let Some(o) = c.outage {
            check_range("ch_outage", o.to, 0, OUTAGE_MAX, secs)?;
            check_range("ch_outage", o.every, 0, OUTAGE_MAX, secs)?;
            if let Err(e) = o.validate() {
                return Err(LinkError::new("ch_outage", e.problem));
            }
        }
        check_range("ch_every", c.arrival, MS, 60 * SEC, secs)?;
        check_range(
            "ch_runs",
            self.runs as u64,
            Challenge::RUNS.0 as u64,
            Challenge::RUNS.1 as u64,
            |v| v.to_string(),
        )?;
        let g = &self.goals;
        if g.metrics().is_empty() {
            return Err(LinkError::new(
                "ch_*",
                "a challenge needs at least one goal (ch_success, ch_degraded, ch_blocked, ch_p95, ch_p99, ch_calls, ch_tokens, ch_cost or ch_rules)",
            ));
        }
        for m in Metric::ALL {
            if let (Some(t), Some((lo, hi))) = (g.target(m), goal_range(m)) {
                check_range(m.param(), t, lo, hi, |v| show_goal(m, v))?;
            }
        }
        Ok(())
    }
}

/// The longest outage window or period: a day.
const OUTAGE_MAX: Micros = 86_400 * SEC;

/// The range of a goal's target, in the goal's unit; `None` for a rule.
const fn goal_range(m: Metric) -> Option<(u64, u64)> {
    match m {
        Metric::Success | Metric::Degraded | Metric::Blocked => Some((0, MILLION)),
        Metric::P95 | Metric::P99 => Some((MS, 3_600 * SEC)),
        Metric::Calls => Some((0, 100_000)),
        Metric::Tokens => Some((0, 1_000_000)),
        Metric::Cost => Some((0, 10_000_000)),
        Metric::Approved | Metric::Once => None,
    }
}

fn check_range(
    param: &'static str,
    v: u64,
    lo: u64,
    hi: u64,
    show: impl Fn(u64) -> String,
) -> Result<(), LinkError> {
    if v < lo || v > hi {
        Err(LinkError::new(
            param,
            format!("must be {} to {} (got {})", show(lo), show(hi), show(v)),
        ))
    } else {
        Ok(())
    }
}

/// A built-in challenge: the challenge, what it teaches, the cards that show its patterns, and
/// a known passing and a known failing policy (as the lab's settings queries).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Builtin {
    /// The challenge (its id is the built-in's).
    pub challenge: Challenge,
    /// What it teaches, in two sentences.
    pub teaches: &'static str,
    /// The cards that show the patterns it needs, the main one first.
    pub cards: &'static [CardId],
    /// A policy that passes every goal, as a settings query.
    pub passing: &'static str,
    /// A policy that fails, as a settings query.
    pub failing: &'static str,
    /// The goal the failing policy fails (at least).
    pub fails: Metric,
}

impl Builtin {
    /// The known passing policy.
    pub fn passing_settings(&self) -> Settings {
        Settings::from_query(self.passing).0
    }

    /// The known failing policy.
    pub fn failing_settings(&self) -> Settings {
        Settings::from_query(self.failing).0
    }
}

const fn built(
    id: &'static str,
    title: &'static str,
    conditions: Conditions,
    goals: Goals,
) -> Challenge {
    Challenge {
        id: Cow::Borrowed(id),
        title: Cow::Borrowed(title),
        conditions,
        goals,
        runs: Challenge::DEFAULT_RUNS,
    }
}

const fn pct(percent: u32) -> Ppm {
    percent * 10_000
}

/// The built-in challenges, from the lab's first step to the hardest.
pub static BUILTINS: [Builtin; 8] = [
    Builtin {
        challenge: built(
            "flaky",
            "Recover a flaky model",
            Conditions {
                workload: Workload::Solve,
                failure: pct(20),
                ..Conditions::DEFAULT
            },
            Goals {
                success: Some(999_000),
                p99: Some(2 * SEC),
                ..Goals::NONE
            },
        ),
        teaches: "One model call in five fails with a 503, and each request needs two calls: retries turn those blips into answers. Enough attempts reach 99.9%, and a shorter base delay keeps the slowest requests fast.",
        cards: &[CardId::A],
        passing: "attempts=6&base_delay=0.2",
        failing: "",
        fails: Metric::Success,
    },
    Builtin {
        challenge: built(
            "loop",
            "Stop the loop cheaply",
            Conditions {
                workload: Workload::Loop,
                failure: pct(10),
                ..Conditions::DEFAULT
            },
            Goals {
                tokens: Some(1_500),
                cost: Some(5_000),
                ..Goals::NONE
            },
        ),
        teaches: "The model asks for a tool every step and never answers, so only a cap ends the run. Each step re-sends a growing context: a low step cap (or a token budget) stops the loop before it gets expensive.",
        cards: &[CardId::B, CardId::J],
        passing: "max_steps=2",
        failing: "",
        fails: Metric::Tokens,
    },
    Builtin {
        challenge: built(
            "outage",
            "Fail safe in an outage",
            Conditions {
                failure: pct(5),
                outage: Some(Outage {
                    from: 2 * SEC,
                    to: 5 * SEC,
                    every: 10 * SEC,
                }),
                ..Conditions::DEFAULT
            },
            Goals {
                success: Some(pct(69)),
                p99: Some(SEC),
                ..Goals::NONE
            },
        ),
        teaches: "For three seconds in every ten the service is down, and no retry can fix that. Retry the blips, then give the safe message quickly instead of keeping the user waiting on a dead service.",
        cards: &[CardId::C, CardId::A],
        passing: "base_delay=0.2",
        failing: "",
        fails: Metric::P99,
    },
    Builtin {
        challenge: built(
            "tail",
            "Beat the tail",
            Conditions {
                latency: LatencyDist::Tail,
                ..Conditions::DEFAULT
            },
            Goals {
                success: Some(999_000),
                p99: Some(300 * MS),
                ..Goals::NONE
            },
        ),
        teaches: "One call in twenty takes two seconds, and waiting for it is what makes the tail. A timeout gives up on the slow call and a quick retry usually gets a fast one.",
        cards: &[CardId::E, CardId::A],
        passing: "base_delay=0.05",
        failing: "timeout=5",
        fails: Metric::P99,
    },
    Builtin {
        challenge: built(
            "charge",
            "Don't charge twice",
            Conditions {
                workload: Workload::Pay,
                failure: pct(10),
                lost: pct(5),
                ..Conditions::DEFAULT
            },
            Goals {
                success: Some(pct(99)),
                once: true,
                ..Goals::NONE
            },
        ),
        teaches: "Sometimes the charge goes through but its answer is lost, and a blind retry charges the card again. An idempotency key lets the retry ask again safely, so the payment is made once and still answered.",
        cards: &[CardId::G],
        passing: "idempotency=on",
        failing: "",
        fails: Metric::Once,
    },
    Builtin {
        challenge: built(
            "dead",
            "Don't hammer a dead service",
            Conditions {
                failure: pct(10),
                outage: Some(Outage {
                    from: 10 * SEC,
                    to: 20 * SEC,
                    every: 30 * SEC,
                }),
                ..Conditions::DEFAULT
            },
            Goals {
                success: Some(pct(63)),
                calls: Some(900),
                ..Goals::NONE
            },
        ),
        teaches: "The service is down ten seconds in every thirty, and every retry during the outage is wasted load on it. A shared circuit breaker fails fast while it is down and probes for its return, so retries stay for the blips.",
        cards: &[CardId::F],
        passing: "use_breaker=on&breaker_threshold=5&breaker_cooldown=1",
        failing: "",
        fails: Metric::Calls,
    },
    Builtin {
        challenge: built(
            "budget",
            "Stay within budget",
            Conditions {
                workload: Workload::Solve,
                failure: pct(20),
                errors: ErrorMix {
                    e503: 50,
                    e429: 50,
                    hang: 0,
                    e500: 0,
                },
                ..Conditions::DEFAULT
            },
            Goals {
                success: Some(pct(75)),
                p99: Some(SEC),
                cost: Some(5_000),
                ..Goals::NONE
            },
        ),
        teaches: "Half the failures are rate limits whose Retry-After asks for two seconds, more than the whole request may take. A wall-time budget lets the quick retries happen and stops a request at its limit instead of letting it wait.",
        cards: &[CardId::J, CardId::A],
        passing: "base_delay=0.05&use_budgets=on&max_wall=0.9",
        failing: "base_delay=0.05",
        fails: Metric::P99,
    },
    Builtin {
        challenge: built(
            "storm",
            "Payments in a storm",
            Conditions {
                workload: Workload::Pay,
                failure: pct(20),
                latency: LatencyDist::Tail,
                errors: ErrorMix {
                    e503: 50,
                    e429: 20,
                    hang: 30,
                    e500: 0,
                },
                outage: Some(Outage {
                    from: 20 * SEC,
                    to: 30 * SEC,
                    every: 60 * SEC,
                }),
                lost: pct(3),
                ..Conditions::DEFAULT
            },
            Goals {
                success: Some(pct(78)),
                p99: Some(3 * SEC),
                calls: Some(2_400),
                once: true,
                ..Goals::NONE
            },
        ),
        teaches: "Failures of every kind at once: 503s, rate limits, hangs, a slow tail, an outage, and payments whose answers get lost. It takes retries, a timeout, a breaker and idempotency keys together, each tuned so it does not undo another.",
        cards: &[CardId::G, CardId::A, CardId::E, CardId::F],
        passing: "attempts=4&base_delay=0.1&idempotency=on&use_breaker=on&breaker_threshold=10&breaker_cooldown=1",
        failing: "attempts=4&base_delay=0.1&use_breaker=on&breaker_threshold=10&breaker_cooldown=1",
        fails: Metric::Once,
    },
];

/// The built-in with id `id`.
pub fn builtin(id: &str) -> Option<&'static Builtin> {
    BUILTINS.iter().find(|b| b.challenge.id == id)
}

/// The knobs of the lab's settings that make a challenge's policy, in table order. No other
/// knob changes a challenge's score.
pub const POLICY_KNOBS: [&str; 14] = [
    "max_steps",
    "timeout",
    "attempts",
    "base_delay",
    "jitter",
    "breaker_threshold",
    "breaker_cooldown",
    "idempotency",
    "max_tokens",
    "max_cost",
    "max_wall",
    "use_breaker",
    "use_budgets",
    "approval_gate",
];

/// The policy `s` describes for a challenge (clamped into range first): retries, timeout and
/// step cap as on the lab's cards; a circuit breaker shared by all requests when
/// `use_breaker` is on; idempotency keys when `idempotency` is on; card J's token, cost and
/// wall-time caps when `use_budgets` is on; and, with `approval_gate` off, risky tools run
/// without a human yes.
pub fn policy(s: &Settings) -> Policy {
    let s = s.sanitized();
    let mut cfg = s.agent_config();
    cfg.idempotency = s.idempotency;
    if s.use_budgets {
        cfg.caps = Caps {
            max_steps: s.max_steps,
            max_tokens: s.max_tokens,
            max_cost: s.max_cost,
            max_wall: s.max_wall,
        };
    }
    if !s.approval_gate {
        cfg.approval.approver = Approver::ApproveAll;
    }
    if s.use_breaker {
        cfg.breaker = Some(s.breaker());
    }
    Policy {
        cfg,
        shared_breaker: s.use_breaker,
    }
}

/// `s` with every knob outside [`POLICY_KNOBS`] at its default: the policy as a result
/// carries it.
pub fn policy_settings(s: &Settings) -> Settings {
    let mut out = Settings::default();
    for k in POLICY_KNOBS.iter().filter_map(|n| knob(n)) {
        (k.put)(&mut out, (k.get)(s));
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Scoring
// ---------------------------------------------------------------------------------------------

/// A challenge being scored under one policy, chunk by chunk.
#[derive(Clone, Debug)]
pub struct Scoring {
    goals: Goals,
    exp: Experiment,
    policy: Policy,
    acc: Accumulator,
    done: u32,
}

impl Scoring {
    /// How many requests a page might run per chunk: a few milliseconds in a browser.
    pub const CHUNK: u32 = 500;

    /// Starts scoring `challenge` under the policy of `settings` (see [`policy`]). Fails only
    /// for a challenge out of range.
    pub fn new(challenge: &Challenge, settings: &Settings) -> Result<Scoring, LinkError> {
        challenge.validate()?;
        let policy = policy(settings);
        // Settings in range always make a valid policy; say so rather than score nothing.
        if let Err(e) = policy.cfg.clone().validate() {
            return Err(LinkError::new(e.field, e.problem));
        }
        Ok(Scoring {
            goals: challenge.goals,
            exp: challenge.experiment(),
            policy,
            acc: Accumulator::default(),
            done: 0,
        })
    }

    /// Runs up to `max` more requests, in order. True when every request has run.
    pub fn step(&mut self, max: u32) -> bool {
        let to = self.done.saturating_add(max.max(1)).min(self.exp.runs);
        if to > self.done {
            self.acc.run(&self.exp, &self.policy, self.done, to);
            self.done = to;
        }
        self.is_finished()
    }

    /// Requests run so far.
    pub fn done(&self) -> u32 {
        self.done
    }

    /// Requests to run in all.
    pub fn total(&self) -> u32 {
        self.exp.runs
    }

    /// Has every request run?
    pub fn is_finished(&self) -> bool {
        self.done >= self.exp.runs
    }

    /// The score over the requests run so far.
    pub fn score(&self) -> Score {
        Score::of(&self.goals, Measures::of(&self.acc))
    }
}

/// Scores `challenge` under the policy of `settings`, all its requests in one go.
pub fn score(challenge: &Challenge, settings: &Settings) -> Result<Score, LinkError> {
    let mut s = Scoring::new(challenge, settings)?;
    while !s.step(u32::MAX) {}
    Ok(s.score())
}

/// What was measured: counts and totals, all integers.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Measures {
    /// Requests.
    pub runs: u32,
    /// Requests answered.
    pub success: u32,
    /// Requests degraded or stopped.
    pub degraded: u32,
    /// Requests with a blocked tool.
    pub blocked: u32,
    /// Median latency (nearest rank).
    pub p50: Micros,
    /// 95th percentile latency (nearest rank).
    pub p95: Micros,
    /// 99th percentile latency (nearest rank).
    pub p99: Micros,
    /// Model calls, in all.
    pub calls: u64,
    /// Tokens, in all.
    pub tokens: u64,
    /// Cost, in all (micro-dollars).
    pub cost: u64,
    /// Requests that repeated a side effect.
    pub duplicated: u32,
    /// Requests that ran a risky action nobody approved.
    pub unapproved: u32,
    /// Sums of squares of calls, tokens and cost per request (for the margins).
    pub squares: [u128; 3],
}

/// The 99% two-sided normal quantile (2.576), squared, in millionths.
const Z99_SQ_PPM: u128 = 6_635_776;

/// `⌈√x⌉`.
fn ceil_sqrt(x: u128) -> u64 {
    let r = x.isqrt();
    let r = if r.saturating_mul(r) < x { r + 1 } else { r };
    r.min(u64::MAX as u128) as u64
}

/// `a / b` rounded to the nearest whole number (`0` when `b` is 0).
fn div_round(a: u128, b: u128) -> u64 {
    if b == 0 {
        return 0;
    }
    (a.saturating_add(b / 2) / b).min(u64::MAX as u128) as u64
}

/// The half-width, in ppm and rounded up, of the 99% Agresti–Coull interval of `count` of `n`.
fn rate_margin(count: u64, n: u64) -> u64 {
    if n == 0 {
        return MILLION;
    }
    // ñ = n + z², s̃ = count + z²/2, p̃ = s̃/ñ, half-width z·√(p̃(1−p̃)/ñ); all in millionths.
    let nt = (n as u128).saturating_mul(MILLION as u128) + Z99_SQ_PPM;
    let st = (count.min(n) as u128).saturating_mul(MILLION as u128) + Z99_SQ_PPM / 2;
    let a = st.saturating_mul(nt - st);
    // (half-width in ppm)² = z² · a · 10¹² / ñ³, with ñ in millionths.
    let x = Z99_SQ_PPM.saturating_mul(a) / nt;
    ceil_sqrt(x.saturating_mul(1_000_000_000_000) / nt.saturating_mul(nt))
}

/// The half-width, in thousandths of the unit and rounded up, of the 99% interval of a mean
/// of `n` values with sum `sum` and sum of squares `sq`.
fn mean_margin(sum: u128, sq: u128, n: u64) -> Option<u64> {
    if n < 2 {
        return None;
    }
    let n = n as u128;
    // The variance of the mean is (n·Σx² − (Σx)²) / (n²(n−1)).
    let spread = n.saturating_mul(sq).saturating_sub(sum.saturating_mul(sum)) / n;
    // (half-width in thousandths)² = 10⁶ · z² · spread / (n(n−1)), and z² is in millionths.
    Some(ceil_sqrt(
        Z99_SQ_PPM.saturating_mul(spread) / n.saturating_mul(n - 1),
    ))
}

impl Measures {
    /// The measures of what `acc` counted.
    pub fn of(acc: &Accumulator) -> Measures {
        let mut lat = acc.latencies.clone();
        crate::stats::sort_micros(&mut lat);
        let pct = |p: usize| -> Micros {
            let n = lat.len();
            let rank = (n * p).div_ceil(100).clamp(1, n.max(1));
            lat.get(rank - 1).copied().unwrap_or(0)
        };
        Measures {
            runs: acc.runs,
            success: acc.success,
            degraded: acc.degraded,
            blocked: acc.blocked,
            p50: pct(50),
            p95: pct(95),
            p99: pct(99),
            calls: acc.calls.iter().map(|c| *c as u64).sum(),
            tokens: acc.tokens,
            cost: acc.cost,
            duplicated: acc.duplicated,
            unapproved: acc.unapproved,
            squares: acc.exact_sq,
        }
    }

    /// Every count and total as one line of whole numbers separated by spaces, in field
    /// order: how a worker hands its measures to the page. [`Measures::from_wire`] reads it
    /// back exactly (no float, so nothing is rounded on the way).
    pub fn to_wire(&self) -> String {
        let [a, b, c] = self.squares;
        [
            self.runs as u128,
            self.success as u128,
            self.degraded as u128,
            self.blocked as u128,
            self.p50 as u128,
            self.p95 as u128,
            self.p99 as u128,
            self.calls as u128,
            self.tokens as u128,
            self.cost as u128,
            self.duplicated as u128,
            self.unapproved as u128,
            a,
            b,
            c,
        ]
        .map(|v| v.to_string())
        .join(" ")
    }

    /// Reads [`Measures::to_wire`] text: `None` unless it is exactly 15 whole numbers, each in
    /// its field's range.
    pub fn from_wire(text: &str) -> Option<Measures> {
        let v: Vec<u128> = text
            .split(' ')
            .map(|t| t.parse().ok())
            .collect::<Option<_>>()?;
        let &[runs, success, degraded, blocked, p50, p95, p99, calls, tokens, cost, duplicated, unapproved, a, b, c] =
            v.as_slice()
        else {
            return None;
        };
        let n = |x: u128| u32::try_from(x).ok();
        let w = |x: u128| u64::try_from(x).ok();
        Some(Measures {
            runs: n(runs)?,
            success: n(success)?,
            degraded: n(degraded)?,
            blocked: n(blocked)?,
            p50: w(p50)?,
            p95: w(p95)?,
            p99: w(p99)?,
            calls: w(calls)?,
            tokens: w(tokens)?,
            cost: w(cost)?,
            duplicated: n(duplicated)?,
            unapproved: n(unapproved)?,
            squares: [a, b, c],
        })
    }

    /// The exact value of `m` as a fraction `(numerator, denominator)` in the metric's fine
    /// unit (ppm; microseconds; thousandths of a call, a token or a micro-dollar; requests).
    fn exact(&self, m: Metric) -> (u128, u128) {
        let n = self.runs as u128;
        let rate = |c: u32| (c as u128 * MILLION as u128, n);
        let mean = |total: u64| (total as u128 * 1_000, n);
        match m {
            Metric::Success => rate(self.success),
            Metric::Degraded => rate(self.degraded),
            Metric::Blocked => rate(self.blocked),
            Metric::P95 => (self.p95 as u128, 1),
            Metric::P99 => (self.p99 as u128, 1),
            Metric::Calls => mean(self.calls),
            Metric::Tokens => mean(self.tokens),
            Metric::Cost => mean(self.cost),
            Metric::Approved => (self.unapproved as u128, 1),
            Metric::Once => (self.duplicated as u128, 1),
        }
    }

    /// The value of `m` in its fine unit, rounded to the nearest.
    pub fn value(&self, m: Metric) -> u64 {
        let (a, b) = self.exact(m);
        div_round(a, b)
    }

    /// The 99% margin of `m` in its fine unit: for rates and per-request means.
    pub fn margin(&self, m: Metric) -> Option<u64> {
        let n = self.runs as u64;
        let [calls_sq, tokens_sq, cost_sq] = self.squares;
        match m {
            Metric::Success => Some(rate_margin(self.success as u64, n)),
            Metric::Degraded => Some(rate_margin(self.degraded as u64, n)),
            Metric::Blocked => Some(rate_margin(self.blocked as u64, n)),
            Metric::Calls => mean_margin(self.calls as u128, calls_sq, n),
            Metric::Tokens => mean_margin(self.tokens as u128, tokens_sq, n),
            Metric::Cost => mean_margin(self.cost as u128, cost_sq, n),
            _ => None,
        }
    }

    /// How `m` measures up to a goal of `target` (in the goal's unit).
    pub fn judge(&self, m: Metric, target: u64) -> GoalResult {
        let target = (target as u128).saturating_mul(m.goal_scale() as u128);
        let (a, b) = self.exact(m);
        // Compare a/b with the target exactly: a against target·b.
        let t = target.saturating_mul(b);
        let passed = self.runs > 0
            && if m.at_least() {
                a >= t
            } else if m.is_rule() {
                a == 0
            } else {
                a <= t
            };
        let gap = a.abs_diff(t);
        let margin = self.margin(m);
        let close = margin.is_some_and(|mg| gap <= (mg as u128).saturating_mul(b));
        GoalResult {
            metric: m,
            target: target.min(u64::MAX as u128) as u64,
            measured: div_round(a, b),
            margin,
            passed,
            by: div_round(gap, b),
            close,
        }
    }
}

/// One goal's outcome. Values are in the metric's fine unit: ppm for rates, microseconds for
/// latencies, thousandths of a call, of a token and of a micro-dollar per request, and
/// requests for a rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GoalResult {
    /// What the goal is about.
    pub metric: Metric,
    /// The goal.
    pub target: u64,
    /// What was measured (rounded to the nearest fine unit).
    pub measured: u64,
    /// The 99% margin of the measure (rates and per-request means).
    pub margin: Option<u64>,
    /// Did it pass?
    pub passed: bool,
    /// How far the measure is from the goal, on the passing side when it passed.
    pub by: u64,
    /// The goal lies within the margin of the measure: another set of seeds could decide it
    /// the other way.
    pub close: bool,
}

impl GoalResult {
    /// The measure as shown: `99.87%`, `0.12s`, `1.23`, `1150`, `$0.00465`.
    pub fn measured_text(&self) -> String {
        show_fine(self.metric, self.measured, false)
    }

    /// The margin as shown (rounded up): `± 0.04%`, or nothing.
    pub fn margin_text(&self) -> String {
        self.margin
            .map(|m| format!(" ± {}", show_fine(self.metric, m, true)))
            .unwrap_or_default()
    }

    /// One line: `success rate 99.87% ± 0.04% (goal ≥ 99.9%): fails by 0.03%, within the
    /// 99% margin`.
    pub fn line(&self) -> String {
        let m = self.metric;
        if m.is_rule() {
            let what = match m {
                Metric::Approved => "ran a risky action nobody approved",
                _ => "repeated a side effect",
            };
            return if self.passed {
                format!("{}: passes (no request {what})", m.label())
            } else {
                format!(
                    "{}: fails ({} {what})",
                    m.label(),
                    crate::lab::explain::plural(
                        self.measured.min(u32::MAX as u64) as u32,
                        "request"
                    )
                )
            };
        }
        let goal = show_fine(m, self.target, false);
        let mut line = format!(
            "{} {}{} (goal {} {goal}): {} by {}",
            m.label(),
            self.measured_text(),
            self.margin_text(),
            if m.at_least() { "≥" } else { "≤" },
            if self.passed { "passes" } else { "fails" },
            show_fine(m, self.by, false),
        );
        if self.close {
            line.push_str(", within the 99% margin");
        }
        line
    }
}

/// A policy's score on a challenge.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Score {
    /// Everything measured.
    pub measures: Measures,
    /// Each goal, in [`Metric::ALL`] order.
    pub goals: Vec<GoalResult>,
    /// Did every goal pass?
    pub passed: bool,
}

impl Score {
    /// How `measures` meet `goals`, goal by goal. (A page that scores in a worker gets the
    /// measures back as [`Measures::to_wire`] text and judges them here.)
    pub fn of(goals: &Goals, measures: Measures) -> Score {
        let goals: Vec<GoalResult> = goals
            .metrics()
            .into_iter()
            .filter_map(|m| Some(measures.judge(m, goals.target(m)?)))
            .collect();
        let passed = !goals.is_empty() && goals.iter().all(|g| g.passed);
        Score {
            measures,
            goals,
            passed,
        }
    }

    /// The tie-break between passing policies: cost per request, in thousandths of a
    /// micro-dollar (lower wins).
    pub fn tie_break(&self) -> u64 {
        self.measures.value(Metric::Cost)
    }

    /// Better first: a pass before a fail, then the cheaper per request, then the one with
    /// fewer failed goals.
    pub fn rank(&self, other: &Score) -> Ordering {
        let failed = |s: &Score| s.goals.iter().filter(|g| !g.passed).count();
        other
            .passed
            .cmp(&self.passed)
            .then(failed(self).cmp(&failed(other)))
            .then(self.tie_break().cmp(&other.tie_break()))
    }

    /// What a result link claims for this score.
    pub fn claim(&self) -> Claim {
        if self.passed {
            Claim::Pass
        } else {
            Claim::Fail
        }
    }

    /// The goals that failed.
    pub fn failed(&self) -> impl Iterator<Item = &GoalResult> {
        self.goals.iter().filter(|g| !g.passed)
    }

    /// The verdict in words: `passed all 2 goals over 10000 requests; tie-break: $0.00465 per
    /// request` or `failed 1 of 2 goals (success rate) over 10000 requests`.
    pub fn verdict(&self) -> String {
        let n = self.goals.len();
        let cost = show_fine(Metric::Cost, self.tie_break(), false);
        let runs = self.measures.runs;
        if self.passed {
            let all = if n == 1 {
                "the goal".to_string()
            } else {
                format!("all {n} goals")
            };
            format!("passed {all} over {runs} requests; tie-break: {cost} per request")
        } else {
            let failed: Vec<&str> = self.failed().map(|g| g.metric.label()).collect();
            format!(
                "failed {} of {n} goals ({}) over {runs} requests",
                failed.len(),
                failed.join(", ")
            )
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Showing values (integers only)
// ---------------------------------------------------------------------------------------------

fn secs(us: u64) -> String {
    Secs(us).to_string()
}

/// A rate in ppm as a percentage, as written in links: `99.9%`.
fn show_rate(ppm: u64) -> String {
    format!("{}%", write_decimal(ppm, 4))
}

/// A goal's target in its own unit, as the page shows it.
fn show_goal(m: Metric, t: u64) -> String {
    match m {
        Metric::Success | Metric::Degraded | Metric::Blocked => show_rate(t),
        Metric::P95 | Metric::P99 => secs(t),
        Metric::Calls => write_decimal(t, 3),
        Metric::Tokens => t.to_string(),
        Metric::Cost => format!("${}", write_decimal(t, 6)),
        Metric::Approved | Metric::Once => t.to_string(),
    }
}

/// A value in the metric's fine unit, rounded for reading (`up` rounds up, for margins).
fn show_fine(m: Metric, v: u64, up: bool) -> String {
    let round = |v: u64, d: u64| {
        if up {
            v.div_ceil(d)
        } else {
            v.saturating_add(d / 2) / d
        }
    };
    match m {
        Metric::Success | Metric::Degraded | Metric::Blocked => {
            let h = round(v, 100);
            format!("{}.{:02}%", h / 100, h % 100)
        }
        Metric::P95 | Metric::P99 => Brief(if up { v.div_ceil(MS) * MS } else { v }).to_string(),
        Metric::Calls => {
            let h = round(v, 10);
            format!("{}.{:02}", h / 100, h % 100)
        }
        Metric::Tokens => round(v, 1_000).to_string(),
        Metric::Cost => fmt_usd(round(v, 1_000)),
        Metric::Approved | Metric::Once => v.to_string(),
    }
}

/// `v / 10^decimals` written in decimal, without trailing zeros: `write_decimal(999000, 4)`
/// is `99.9`.
pub fn write_decimal(v: u64, decimals: u32) -> String {
    let scale = 10u64.pow(decimals.min(18));
    let (whole, frac) = (v / scale, v % scale);
    if frac == 0 {
        return whole.to_string();
    }
    let digits = format!("{frac:0width$}", width = decimals as usize);
    format!("{whole}.{}", digits.trim_end_matches('0'))
}

/// Reads a decimal with at most `decimals` digits after the point as a whole number of
/// `10^-decimals`: `read_decimal("99.9", 4)` is `999000`. No sign, no exponent, no float.
pub fn read_decimal(text: &str, decimals: u32) -> Result<u64, String> {
    let text = text.trim();
    let (whole, frac) = text.split_once('.').unwrap_or((text, ""));
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !(digits(whole) || (whole.is_empty() && digits(frac))) || !(frac.is_empty() || digits(frac))
    {
        return Err("is not a number".to_string());
    }
    let frac = frac.trim_end_matches('0');
    if frac.len() > decimals as usize {
        return Err(format!("has more than {decimals} decimals"));
    }
    let too_big = || "is too large".to_string();
    let whole: u64 = if whole.is_empty() {
        0
    } else {
        whole.parse().map_err(|_| too_big())?
    };
    let scale = 10u64.pow(decimals.min(18));
    let frac_v: u64 = if frac.is_empty() {
        0
    } else {
        frac.parse::<u64>().map_err(|_| too_big())? * 10u64.pow(decimals - frac.len() as u32)
    };
    whole
        .checked_mul(scale)
        .and_then(|w| w.checked_add(frac_v))
        .ok_or_else(too_big)
}

// ---------------------------------------------------------------------------------------------
// Links
// ---------------------------------------------------------------------------------------------

/// A challenge link that cannot be read: which parameter, and what is wrong with it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LinkError {
    /// The parameter, as written in the link.
    pub param: String,
    /// What is wrong, in words.
    pub problem: String,
}

impl LinkError {
    /// A problem with `param`.
    pub fn new(param: impl Into<String>, problem: impl Into<String>) -> Self {
        LinkError {
            param: param.into(),
            problem: problem.into(),
        }
    }
}

impl fmt::Display for LinkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.param, self.problem)
    }
}

impl std::error::Error for LinkError {}

/// What a shared result says its policy achieved.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Claim {
    /// Every goal passed.
    Pass,
    /// Some goal failed.
    Fail,
}

impl Claim {
    /// `pass` or `fail`, as in links.
    pub const fn name(self) -> &'static str {
        match self {
            Claim::Pass => "pass",
            Claim::Fail => "fail",
        }
    }
}

/// A shared result: the challenge, the policy that was scored (the lab's settings, with every
/// knob outside [`POLICY_KNOBS`] at its default) and what its sharer claims.
#[derive(Clone, Debug, PartialEq)]
pub struct SharedResult {
    /// The challenge.
    pub challenge: Challenge,
    /// The policy, as the lab's settings.
    pub settings: Settings,
    /// Pass or fail, as claimed.
    pub claim: Claim,
}

/// A shared result scored again.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Recheck {
    /// The score, computed afresh.
    pub score: Score,
    /// Does the score agree with the claim?
    pub holds: bool,
}

impl SharedResult {
    /// The result of the policy of `settings` on `challenge` (only its policy knobs are kept).
    pub fn new(challenge: Challenge, settings: &Settings, claim: Claim) -> SharedResult {
        SharedResult {
            challenge,
            settings: policy_settings(settings),
            claim,
        }
    }

    /// The link's query: the challenge, the policy knobs that differ from their defaults, the
    /// claim.
    pub fn to_query(&self) -> String {
        let mut parts = vec![self.challenge.to_query()];
        let defaults = Settings::default();
        for k in POLICY_KNOBS.iter().filter_map(|n| knob(n)) {
            let v = k.write((k.get)(&self.settings));
            if v != k.write((k.get)(&defaults)) {
                parts.push(format!("{}={v}", k.name));
            }
        }
        parts.push(format!("claim={}", self.claim.name()));
        parts.join("&")
    }

    /// Reads a result link. Every policy knob in it must be valid (a re-check scores exactly
    /// the policy that was shared); other settings are ignored.
    pub fn from_query(query: &str) -> Result<SharedResult, LinkError> {
        match read_link(query)? {
            Some(Link::Result(r)) => Ok(r),
            Some(Link::Challenge(_)) => Err(LinkError::new(
                "claim",
                "missing: a result link ends with claim=pass or claim=fail",
            )),
            None => Err(LinkError::new(
                "challenge",
                "missing: no challenge in the link",
            )),
        }
    }

    /// Scores the shared policy on the challenge again and checks the claim.
    pub fn recheck(&self) -> Result<Recheck, LinkError> {
        let score = score(&self.challenge, &self.settings)?;
        let holds = score.claim() == self.claim;
        Ok(Recheck { score, holds })
    }
}

/// What a page link says about challenges.
#[derive(Clone, Debug, PartialEq)]
pub enum Link {
    /// A challenge to take.
    Challenge(Challenge),
    /// A result to re-check.
    Result(SharedResult),
}

/// Is `name` a challenge link parameter (`challenge`, `claim`, `ch_*`)? The lab's settings
/// reader passes over these.
pub fn is_link_param(name: &str) -> bool {
    matches!(name, "challenge" | "claim") || name.starts_with("ch_")
}

/// The custom challenge parameters, in the order they are written.
const CUSTOM_PARAMS: [&str; 18] = [
    "ch_title",
    "ch_work",
    "ch_fail",
    "ch_lat",
    "ch_mix",
    "ch_outage",
    "ch_lost",
    "ch_every",
    "ch_runs",
    "ch_success",
    "ch_degraded",
    "ch_blocked",
    "ch_p95",
    "ch_p99",
    "ch_calls",
    "ch_tokens",
    "ch_cost",
    "ch_rules",
];

/// Percent-encodes a query value: everything but letters, digits and `-._~`.
fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// At most 40 characters of a value, quoted, to echo back in an error.
fn echo(s: &str) -> String {
    const MAX: usize = 40;
    if s.chars().count() <= MAX {
        crate::quote(s)
    } else {
        let head: String = s.chars().take(MAX).collect();
        format!("{}…", crate::quote(&head))
    }
}

impl Challenge {
    /// The link's query: `challenge=<id>` for a built-in, else the `ch_*` parameters that
    /// differ from a custom challenge's defaults. (A challenge that is not exactly a built-in
    /// is written in full and reads back as a custom one.)
    pub fn to_query(&self) -> String {
        if self.builtin().is_some() {
            return format!("challenge={}", self.id);
        }
        let c = &self.conditions;
        let d = Conditions::DEFAULT;
        let mut parts: Vec<String> = Vec::new();
        let mut put = |name: &str, v: String| parts.push(format!("{name}={v}"));
        if self.title != Challenge::UNTITLED {
            put("ch_title", encode(&self.title));
        }
        if c.workload != d.workload {
            put("ch_work", c.workload.name().to_string());
        }
        if c.failure != d.failure {
            put("ch_fail", write_decimal(c.failure as u64, 4));
        }
        if c.latency != d.latency {
            put("ch_lat", c.latency.name().to_string());
        }
        if c.errors != d.errors {
            let shares: Vec<String> = c
                .errors
                .shares()
                .iter()
                .filter(|(_, s)| *s > 0)
                .map(|(n, s)| format!("{n}:{s}"))
                .collect();
            put("ch_mix", shares.join(","));
        }
        if let Some(o) = c.outage {
            let mut v = format!("{}-{}", write_decimal(o.from, 6), write_decimal(o.to, 6));
            if o.every > 0 {
                v.push_str(&format!("/{}", write_decimal(o.every, 6)));
            }
            put("ch_outage", v);
        }
        if c.lost != d.lost {
            put("ch_lost", write_decimal(c.lost as u64, 4));
        }
        if c.arrival != d.arrival {
            put("ch_every", write_decimal(c.arrival, 6));
        }
        if self.runs != Challenge::DEFAULT_RUNS {
            put("ch_runs", self.runs.to_string());
        }
        let g = &self.goals;
        for m in Metric::ALL.into_iter().filter(|m| !m.is_rule()) {
            if let Some(t) = g.target(m) {
                put(m.param(), goal_text(m, t));
            }
        }
        let rules: Vec<&str> = [Metric::Approved, Metric::Once]
            .into_iter()
            .filter(|m| g.target(*m).is_some())
            .map(Metric::name)
            .collect();
        if !rules.is_empty() {
            put("ch_rules", rules.join(","));
        }
        parts.join("&")
    }

    /// Reads a challenge link (the challenge part of a result link too). An error names the
    /// first bad parameter.
    pub fn from_query(query: &str) -> Result<Challenge, LinkError> {
        match read_link(query)? {
            Some(Link::Challenge(c)) => Ok(c),
            Some(Link::Result(r)) => Ok(r.challenge),
            None => Err(LinkError::new(
                "challenge",
                "missing: no challenge in the link",
            )),
        }
    }
}

/// A goal's target as written in links.
fn goal_text(m: Metric, t: u64) -> String {
    match m {
        Metric::Success | Metric::Degraded | Metric::Blocked => write_decimal(t, 4),
        Metric::P95 | Metric::P99 => write_decimal(t, 6),
        Metric::Calls => write_decimal(t, 3),
        Metric::Cost => write_decimal(t, 6),
        _ => t.to_string(),
    }
}

/// Reads a page link's challenge parameters: `None` when it has none (a plain lab link), a
/// challenge, or a result (when it has a `claim`). An error names the first bad parameter:
/// unknown `ch_*` names, repeated names, malformed values and values out of range.
pub fn read_link(query: &str) -> Result<Option<Link>, LinkError> {
    let query = query.strip_prefix('?').unwrap_or(query);
    let mut params: Vec<(String, String)> = Vec::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (raw_name, raw_value) = pair.split_once('=').unwrap_or((pair, ""));
        let name = decode(raw_name);
        let ours = is_link_param(&name) || POLICY_KNOBS.contains(&name.as_str());
        if ours {
            params.push((name, decode(raw_value)));
        }
    }
    // A repeated challenge parameter is an error; a repeated policy knob only in a result
    // (in any other link the lab's settings reader notes it).
    let claimed = params.iter().any(|(n, _)| n == "claim");
    for (i, (name, _)) in params.iter().enumerate() {
        let repeated = params.iter().skip(i + 1).any(|(n, _)| n == name);
        if repeated && (is_link_param(name) || claimed) {
            return Err(LinkError::new(name.clone(), "appears more than once"));
        }
    }
    let get = |name: &str| {
        params
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    };
    let custom: Vec<&str> = params
        .iter()
        .map(|(n, _)| n.as_str())
        .filter(|n| n.starts_with("ch_"))
        .collect();
    if let Some(unknown) = custom.iter().find(|n| !CUSTOM_PARAMS.contains(n)) {
        return Err(LinkError::new(
            *unknown,
            "unknown challenge parameter".to_string(),
        ));
    }
    let challenge =
        match (get("challenge"), custom.first()) {
            (Some(_), Some(first)) => return Err(LinkError::new(
                *first,
                "a link names a built-in challenge or defines one with ch_ parameters, not both",
            )),
            (Some(id), None) => match builtin(id) {
                Some(b) => b.challenge.clone(),
                None => {
                    let ids: Vec<&str> = BUILTINS.iter().map(|b| &*b.challenge.id).collect();
                    return Err(LinkError::new(
                        "challenge",
                        format!(
                            "unknown challenge {} (built-ins: {})",
                            echo(id),
                            ids.join(", ")
                        ),
                    ));
                }
            },
            (None, Some(_)) => read_custom(&get)?,
            (None, None) => {
                return match get("claim") {
                    Some(_) => Err(LinkError::new(
                        "claim",
                        "a result needs a challenge (challenge= or ch_ parameters)",
                    )),
                    None => Ok(None),
                };
            }
        };
    let Some(claim) = get("claim") else {
        return Ok(Some(Link::Challenge(challenge)));
    };
    let claim = match claim {
        "pass" => Claim::Pass,
        "fail" => Claim::Fail,
        other => {
            return Err(LinkError::new(
                "claim",
                format!("must be pass or fail (got {})", echo(other)),
            ))
        }
    };
    let mut settings = Settings::default();
    for name in POLICY_KNOBS {
        let (Some(k), Some(text)) = (knob(name), get(name)) else {
            continue;
        };
        match k.read(text).and_then(|v| k.check(v)) {
            Ok(v) => (k.put)(&mut settings, v),
            Err(why) => return Err(LinkError::new(name, format!("{} {why}", echo(text)))),
        }
    }
    Ok(Some(Link::Result(SharedResult {
        challenge,
        settings,
        claim,
    })))
}

/// Reads a custom challenge from its `ch_*` parameters, then checks every range.
fn read_custom<'a>(get: &impl Fn(&str) -> Option<&'a str>) -> Result<Challenge, LinkError> {
    let bad = |param: &str, text: &str, why: String| {
        LinkError::new(param, format!("{} {why}", echo(text)))
    };
    let decimal = |param: &str, decimals: u32| -> Result<Option<u64>, LinkError> {
        get(param)
            .map(|t| read_decimal(t, decimals).map_err(|why| bad(param, t, why)))
            .transpose()
    };
    let rate = |param: &str| -> Result<Option<Ppm>, LinkError> {
        Ok(decimal(param, 4)?.map(|v| v.min(u32::MAX as u64) as Ppm))
    };
    let mut c = Conditions::DEFAULT;
    if let Some(t) = get("ch_work") {
        c.workload = Workload::parse(t).ok_or_else(|| {
            let names: Vec<&str> = Workload::EVERY.iter().map(|w| w.name()).collect();
            bad("ch_work", t, format!("must be one of {}", names.join(", ")))
        })?;
    }
    if let Some(v) = rate("ch_fail")? {
        c.failure = v;
    }
    if let Some(t) = get("ch_lat") {
        c.latency = LatencyDist::parse(t).ok_or_else(|| {
            bad(
                "ch_lat",
                t,
                format!("must be one of {}", LatencyDist::NAMES.join(", ")),
            )
        })?;
    }
    if let Some(t) = get("ch_mix") {
        c.errors = read_mix(t).map_err(|why| bad("ch_mix", t, why))?;
    }
    if let Some(t) = get("ch_outage") {
        c.outage = Some(read_outage(t).map_err(|why| bad("ch_outage", t, why))?);
    }
    if let Some(v) = rate("ch_lost")? {
        c.lost = v;
    }
    if let Some(v) = decimal("ch_every", 6)? {
        c.arrival = v;
    }
    let mut g = Goals::NONE;
    g.success = rate("ch_success")?;
    g.degraded = rate("ch_degraded")?;
    g.blocked = rate("ch_blocked")?;
    g.p95 = decimal("ch_p95", 6)?;
    g.p99 = decimal("ch_p99", 6)?;
    g.calls = decimal("ch_calls", 3)?;
    g.tokens = decimal("ch_tokens", 0)?;
    g.cost = decimal("ch_cost", 6)?;
    if let Some(t) = get("ch_rules") {
        for word in t.split(',') {
            let flag = match word {
                "approved" => &mut g.approved,
                "once" => &mut g.once,
                _ => {
                    return Err(bad(
                        "ch_rules",
                        t,
                        "must list approved, once or both, separated by a comma".into(),
                    ))
                }
            };
            if *flag {
                return Err(bad("ch_rules", t, format!("lists {word} twice")));
            }
            *flag = true;
        }
    }
    let runs = match get("ch_runs") {
        None => Challenge::DEFAULT_RUNS,
        Some(t) => {
            let v = read_decimal(t, 0).map_err(|why| bad("ch_runs", t, why))?;
            v.min(u32::MAX as u64) as u32
        }
    };
    let title = match get("ch_title") {
        None => Cow::Borrowed(Challenge::UNTITLED),
        Some(t) => Cow::Owned(t.to_string()),
    };
    let challenge = Challenge {
        id: Cow::Borrowed(Challenge::CUSTOM),
        title,
        conditions: c,
        goals: g,
        runs,
    };
    challenge.validate()?;
    Ok(challenge)
}

/// `503:70,429:20,hang:10`: each kind at most once, whole percents adding up to 100.
fn read_mix(text: &str) -> Result<ErrorMix, String> {
    let mut mix = ErrorMix {
        e503: 0,
        e429: 0,
        hang: 0,
        e500: 0,
    };
    let mut seen: Vec<&str> = Vec::new();
    for part in text.split(',') {
        let (kind, share) = part
            .split_once(':')
            .ok_or("must be shares like 503:70,429:20,hang:10")?;
        let share = read_decimal(share, 0)
            .ok()
            .filter(|s| *s <= 100)
            .ok_or("has a share that is not a whole percent from 0 to 100")?
            as u8;
        if seen.contains(&kind) {
            return Err(format!("lists {kind} twice"));
        }
        let slot = match kind {
            "503" => &mut mix.e503,
            "429" => &mut mix.e429,
            "hang" => &mut mix.hang,
            "500" => &mut mix.e500,
            _ => return Err("has a kind that is not 503, 429, hang or 500".into()),
        };
        *slot = share;
        seen.push(kind);
    }
    Ok(mix)
}

/// `2-5` (seconds, once) or `2-5/10` (every 10 s).
fn read_outage(text: &str) -> Result<Outage, String> {
    let (window, every) = match text.split_once('/') {
        Some((w, e)) => (w, Some(e)),
        None => (text, None),
    };
    let (from, to) = window
        .split_once('-')
        .ok_or("must be from-to in seconds, like 2-5 or 2-5/10")?;
    let secs = |t: &str| read_decimal(t, 6).map_err(|why| format!("has a time that {why}"));
    Ok(Outage {
        from: secs(from)?,
        to: secs(to)?,
        every: every.map(secs).transpose()?.unwrap_or(0),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_read_and_write_exactly() {
        assert_eq!(read_decimal("99.9", 4), Ok(999_000));
        assert_eq!(read_decimal("0.003", 6), Ok(3_000));
        assert_eq!(read_decimal(".5", 1), Ok(5));
        assert_eq!(read_decimal("2.50", 1), Ok(25));
        assert!(read_decimal("1.23", 1).is_err());
        assert!(read_decimal("-1", 2).is_err());
        assert!(read_decimal("1e3", 2).is_err());
        assert!(read_decimal("", 2).is_err());
        assert!(read_decimal(".", 2).is_err());
        assert!(read_decimal("99999999999999999999", 0).is_err());
        assert_eq!(write_decimal(999_000, 4), "99.9");
        assert_eq!(write_decimal(3_000, 6), "0.003");
        assert_eq!(write_decimal(20, 0), "20");
    }

    #[test]
    fn the_rate_margin_matches_agresti_coull() {
        // 9987 of 10,000: z·√(p̃(1−p̃)/ñ) with z = 2.576 is 0.00103905 (1039.05 ppm, up).
        assert_eq!(rate_margin(9_987, 10_000), 1_040);
        // Every request: still a margin (about 0.05%), not zero.
        assert_eq!(rate_margin(10_000, 10_000), 469);
        assert_eq!(rate_margin(5_000, 10_000), 12_876);
    }

    #[test]
    fn the_mean_margin_is_z_times_the_standard_error() {
        // Values 0 and 2, half each, over 10,000: sd 1.00005, se 0.0100005, 99%: 0.02576.
        let n = 10_000u64;
        assert_eq!(mean_margin(n as u128, 2 * n as u128, n), Some(26));
        assert_eq!(mean_margin(5, 25, 1), None);
    }
}
