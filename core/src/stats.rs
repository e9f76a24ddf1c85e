//! What-if statistics: thousands of seeded runs per slider move.
//!
//! Each request is one agent run with independent random faults (503 at a chosen rate) and a
//! chosen latency distribution, under the lab's current policy. Request `i` always uses seed
//! `seed + i`, and the fault stream is separate from the jitter stream, so two policies see the
//! very same fault schedule: an A/B difference is the policy's, not luck's.
//!
//! Request `i` arrives at `i × arrival` of virtual time (one every [`ARRIVAL`] unless the
//! experiment says otherwise), so an outage window covers the requests that arrive during it,
//! and a breaker shared by all requests carries its state from one to the next, in order.
//!
//! Beyond the panel's knobs, an [`Experiment`] can say what failing calls fail with (an
//! [`ErrorMix`] of 503, 429 with a Retry-After, hangs and 500), when the service is fully down
//! (an [`Outage`] window, once or periodic), and, for the payment workload, how often a charge
//! commits but its answer is lost (so a blind retry charges twice). The challenges
//! ([`crate::challenge`]) use these; at their defaults the experiment is the panel's, draw for
//! draw. Besides rates, latencies, calls, tokens and cost, the totals count requests that
//! repeated a side effect and requests that ran a risky tool nobody approved.
//!
//! The work is split into chunks ([`Accumulator::run`] over a range of requests) so a page can
//! compute between frames, show progress and cancel a stale computation.

use crate::agent::{AgentConfig, Stop};
use crate::approval::Approver;
use crate::breaker::CircuitBreaker;
use crate::error::CallError;
use crate::lab::{Choice, Settings};
use crate::model::{Behaviour, Faults, Latency, ModelSpec};
pub use crate::model::{ErrorMix, Outage};
use crate::retry::Jitter;
use crate::rng::{streams, Rng};
use crate::sim::{Sim, SimWorld};
use crate::time::{Micros, MS, SEC};
use crate::tools::ToolFaults;
use serde::{Deserialize, Serialize};

/// What each request asks the agent to do.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Workload {
    /// One model call and no tool (so every request is exactly one retried call).
    #[default]
    Answer,
    /// The multiply task: two model calls and one tool call (card A).
    Solve,
    /// A risky tool with nobody to approve it (card D): blocked.
    Risky,
    /// A model that loops (card B): stopped by the step cap.
    Loop,
    /// A payment the customer asked for (card G): approved up front, so it runs; with a
    /// lost-response rate its answer can be lost after it committed. Not offered in the
    /// statistics panel (the panel sets no lost-response rate); challenges use it.
    Pay,
}

impl Workload {
    /// The statistics panel's workloads, in page order.
    pub const ALL: [Workload; 4] = [
        Workload::Answer,
        Workload::Solve,
        Workload::Risky,
        Workload::Loop,
    ];

    /// Every workload: the panel's, then the payment.
    pub const EVERY: [Workload; 5] = [
        Workload::Answer,
        Workload::Solve,
        Workload::Risky,
        Workload::Loop,
        Workload::Pay,
    ];

    /// The name in links.
    pub const fn name(self) -> &'static str {
        match self {
            Workload::Answer => "answer",
            Workload::Solve => "solve",
            Workload::Risky => "risky",
            Workload::Loop => "loop",
            Workload::Pay => "pay",
        }
    }

    /// The workload named `name` (any of [`Workload::EVERY`]).
    pub fn parse(name: &str) -> Option<Workload> {
        Workload::EVERY.into_iter().find(|w| w.name() == name)
    }

    /// Did the user approve the risky action up front (the payment they asked for)? Then it
    /// runs without a human at the gate, and it is not an unapproved action.
    pub const fn pre_approved(self) -> bool {
        matches!(self, Workload::Pay)
    }

    const fn behaviour(self) -> Behaviour {
        match self {
            Workload::Answer => Behaviour::Cached,
            Workload::Solve => Behaviour::Solve,
            Workload::Risky => Behaviour::Risky,
            Workload::Loop => Behaviour::Loop,
            Workload::Pay => Behaviour::Pay,
        }
    }
}

/// How long model calls take.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LatencyDist {
    /// Always 20 ms.
    #[default]
    Fixed,
    /// Uniform between 10 and 200 ms.
    Uniform,
    /// 20 ms, but 5% of calls take 2 s (a heavy tail the timeout must cut).
    Tail,
}

impl LatencyDist {
    /// All, in page order.
    pub const ALL: [LatencyDist; 3] = [LatencyDist::Fixed, LatencyDist::Uniform, LatencyDist::Tail];

    /// The name in links.
    pub const fn name(self) -> &'static str {
        match self {
            LatencyDist::Fixed => "fixed",
            LatencyDist::Uniform => "uniform",
            LatencyDist::Tail => "tail",
        }
    }

    /// The distribution.
    pub const fn latency(self) -> Latency {
        match self {
            LatencyDist::Fixed => Latency::Fixed { us: 20 * MS },
            LatencyDist::Uniform => Latency::Uniform {
                lo: 10 * MS,
                hi: 200 * MS,
            },
            LatencyDist::Tail => Latency::Tail {
                base: 20 * MS,
                slow: 2 * SEC,
                p_slow: 0.05,
            },
        }
    }
}

/// The policy B of an A/B comparison: policy A (the current settings) with one change.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Variant {
    /// Two more attempts.
    #[default]
    MoreAttempts,
    /// Full jitter instead of the current jitter.
    FullJitter,
    /// A circuit breaker shared by all requests (threshold and cooldown from the settings).
    Breaker,
    /// No retries at all.
    NoRetry,
}

impl Variant {
    /// All, in page order.
    pub const ALL: [Variant; 4] = [
        Variant::MoreAttempts,
        Variant::FullJitter,
        Variant::Breaker,
        Variant::NoRetry,
    ];

    /// The name in links.
    pub const fn name(self) -> &'static str {
        match self {
            Variant::MoreAttempts => "more_attempts",
            Variant::FullJitter => "full_jitter",
            Variant::Breaker => "breaker",
            Variant::NoRetry => "no_retry",
        }
    }

    /// What policy B is, in words, given policy A's settings.
    pub fn describe(self, s: &Settings) -> String {
        match self {
            Variant::MoreAttempts => format!(
                "{} attempts instead of {}",
                (s.attempts + 2).min(20),
                s.attempts
            ),
            Variant::FullJitter => "full jitter".to_string(),
            Variant::Breaker => format!(
                "a shared circuit breaker (opens after {} failures)",
                s.breaker_threshold
            ),
            Variant::NoRetry => "no retries (1 attempt)".to_string(),
        }
    }
}

/// One policy's agent configuration, and whether its requests share a breaker.
#[derive(Clone, Debug, PartialEq)]
pub struct Policy {
    /// The agent's configuration.
    pub cfg: AgentConfig,
    /// A breaker shared by every request, in order.
    pub shared_breaker: bool,
}

impl Policy {
    /// Policy A: the current settings.
    pub fn current(s: &Settings) -> Policy {
        Policy {
            cfg: s.agent_config(),
            shared_breaker: false,
        }
    }

    /// Policy B: the current settings with `v` applied.
    pub fn variant(s: &Settings, v: Variant) -> Policy {
        let mut p = Policy::current(s);
        match v {
            Variant::MoreAttempts => p.cfg.retry.attempts = (s.attempts + 2).min(20),
            Variant::FullJitter => p.cfg.retry.jitter = Jitter::Full,
            Variant::Breaker => {
                p.cfg.breaker = Some(s.breaker());
                p.shared_breaker = true;
            }
            Variant::NoRetry => p.cfg.retry.attempts = 1,
        }
        p
    }
}

/// What the statistics are computed over.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Experiment {
    /// What each request does.
    pub workload: Workload,
    /// The chance that any one model call fails with a 503.
    pub failure_rate: f64,
    /// How long model calls take.
    pub latency: LatencyDist,
    /// How many requests.
    pub runs: u32,
    /// Request `i` uses seed `seed + i`.
    pub seed: u64,
    /// What failing calls fail with.
    #[serde(default)]
    pub errors: ErrorMix,
    /// When the service is fully down, if ever.
    #[serde(default)]
    pub outage: Option<Outage>,
    /// The chance that a request's first side effect commits but its answer is lost (0 to 1).
    #[serde(default)]
    pub lost_rate: f64,
    /// Request `i` arrives at `i × arrival`.
    #[serde(default = "arrival")]
    pub arrival: Micros,
}

/// Requests arrive this far apart, unless an experiment says otherwise.
pub const ARRIVAL: Micros = 100 * MS;

const fn arrival() -> Micros {
    ARRIVAL
}

impl Default for Experiment {
    fn default() -> Self {
        Experiment::new(Workload::Answer, 0.0, LatencyDist::Fixed, 10_000, 1)
    }
}

impl Experiment {
    /// An experiment of the statistics panel's kind: 503s at `failure_rate`, no outage, no lost
    /// answers, one request every [`ARRIVAL`].
    pub const fn new(
        workload: Workload,
        failure_rate: f64,
        latency: LatencyDist,
        runs: u32,
        seed: u64,
    ) -> Self {
        Experiment {
            workload,
            failure_rate,
            latency,
            runs,
            seed,
            errors: ErrorMix::ALL_503,
            outage: None,
            lost_rate: 0.0,
            arrival: ARRIVAL,
        }
    }

    /// The model of every request.
    pub fn model(&self) -> ModelSpec {
        // The panel's fault model keeps its one draw per call, so its numbers never move.
        let faults = if self.errors == ErrorMix::ALL_503 && self.outage.is_none() {
            Faults::Random {
                rate: self.failure_rate,
                error: CallError::http(503),
            }
        } else {
            Faults::Mixed {
                rate: self.failure_rate,
                mix: self.errors,
                outage: self.outage,
            }
        };
        ModelSpec::new("model", self.workload.behaviour())
            .with_faults(faults)
            .with_latency(self.latency.latency())
    }
}

/// Running totals over some requests; chunks merge.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Accumulator {
    /// Requests counted.
    pub runs: u32,
    /// Requests answered (not degraded, nothing blocked).
    pub success: u32,
    /// Requests that degraded or were stopped.
    pub degraded: u32,
    /// Requests with a blocked tool.
    pub blocked: u32,
    /// Every request's virtual latency.
    pub latencies: Vec<Micros>,
    /// Every request's model calls.
    pub calls: Vec<u32>,
    /// Tokens, in all.
    pub tokens: u64,
    /// Money, in all (micro-dollars).
    pub cost: u64,
    /// Sum of each request's tokens squared (for the spread).
    pub tokens_sq: f64,
    /// Sum of each request's cost squared.
    pub cost_sq: f64,
    /// Requests that repeated a side effect (a payment charged twice).
    pub duplicated: u32,
    /// Requests that ran a risky tool nobody approved.
    pub unapproved: u32,
    /// Exact sums of squares of calls, tokens and cost per request (for the challenges'
    /// margins, in integers so that they are the same on every platform).
    pub(crate) exact_sq: [u128; 3],
    breaker: Option<CircuitBreaker>,
}

impl Accumulator {
    /// Runs requests `from..to` of `exp` under `policy`, adding them to the totals. Chunks must
    /// be run in order for a shared breaker to carry over.
    pub fn run(&mut self, exp: &Experiment, policy: &Policy, from: u32, to: u32) {
        let world = SimWorld::new(vec![exp.model()]);
        // The same world, where the first side effect's answer is lost.
        let lossy = (exp.lost_rate > 0.0).then(|| SimWorld {
            tool_faults: ToolFaults { lose_response: 1 },
            ..world.clone()
        });
        // The payment was approved by the customer who asked for it.
        let pre_approved = exp.workload.pre_approved();
        let approved;
        let cfg = if pre_approved {
            let mut c = policy.cfg.clone();
            c.approval.approver = Approver::ApproveAll;
            approved = c;
            &approved
        } else {
            &policy.cfg
        };
        if policy.shared_breaker && self.breaker.is_none() {
            self.breaker = policy.cfg.breaker.map(CircuitBreaker::new);
        }
        for i in from..to {
            let seed = exp.seed.wrapping_add(i as u64);
            let world = match &lossy {
                Some(l) if Rng::stream(seed, streams::LOST).chance(exp.lost_rate) => l,
                _ => &world,
            };
            let Ok(agent) = world.agent(cfg.clone(), seed, false) else {
                return;
            };
            let mut agent = agent.starting_at((i as Micros).saturating_mul(exp.arrival));
            if let Some(b) = self.breaker.take() {
                agent = agent.with_breaker(b);
            }
            Sim::new(world, seed).drive(&mut agent);
            let (run, breaker) = agent.into_parts();
            if policy.shared_breaker {
                self.breaker = breaker;
            }
            let o = run.outcome;
            self.runs += 1;
            if !o.blocked.is_empty() {
                self.blocked += 1;
            } else if o.degraded || o.stop != Stop::Answered {
                self.degraded += 1;
            } else {
                self.success += 1;
            }
            self.latencies.push(o.elapsed);
            self.calls.push(o.counters.model_calls);
            self.tokens += o.counters.tokens;
            self.cost += o.counters.cost;
            self.tokens_sq += (o.counters.tokens as f64).powi(2);
            self.cost_sq += (o.counters.cost as f64).powi(2);
            if o.counters.duplicates > 0 {
                self.duplicated += 1;
            }
            if !pre_approved && o.counters.side_effects > 0 {
                self.unapproved += 1;
            }
            let c = &o.counters;
            for (sq, x) in self
                .exact_sq
                .iter_mut()
                .zip([c.model_calls as u64, c.tokens, c.cost])
            {
                *sq = sq.saturating_add(x as u128 * x as u128);
            }
        }
    }

    /// The slowest request counted.
    pub fn max_latency(&self) -> Micros {
        self.latencies.iter().copied().max().unwrap_or(0)
    }

    /// The summary of everything counted.
    pub fn summary(&self) -> Summary {
        self.summary_over(self.max_latency())
    }

    /// The summary, with the latency histogram running from 0 to `max` (so that two policies'
    /// histograms share one scale).
    pub fn summary_over(&self, max: Micros) -> Summary {
        let n = self.runs.max(1) as f64;
        let calls_mean = self.calls.iter().map(|c| *c as f64).sum::<f64>() / n;
        let calls_sq: f64 = self.calls.iter().map(|c| (*c as f64).powi(2)).sum();
        // The sample standard deviation from a sum of squares and the mean.
        let sd = |sum_sq: f64, mean: f64| {
            if n < 2.0 {
                0.0
            } else {
                ((sum_sq - n * mean * mean).max(0.0) / (n - 1.0)).sqrt()
            }
        };
        let mut lat = self.latencies.clone();
        sort_micros(&mut lat);
        let pct = |p: f64| -> Micros {
            if lat.is_empty() {
                0
            } else {
                lat[(((lat.len() as f64) * p).ceil() as usize).clamp(1, lat.len()) - 1]
            }
        };
        let max_calls = self.calls.iter().copied().max().unwrap_or(0) as usize;
        let mut calls_hist = vec![0u32; max_calls + 1];
        for c in &self.calls {
            calls_hist[*c as usize] += 1;
        }
        Summary {
            runs: self.runs,
            success_rate: self.success as f64 / n,
            degraded_rate: self.degraded as f64 / n,
            blocked_rate: self.blocked as f64 / n,
            p50: pct(0.50),
            p95: pct(0.95),
            p99: pct(0.99),
            calls_per_request: calls_mean,
            tokens_per_request: self.tokens as f64 / n,
            cost_per_request: self.cost as f64 / n,
            calls_sd: sd(calls_sq, calls_mean),
            tokens_sd: sd(self.tokens_sq, self.tokens as f64 / n),
            cost_sd: sd(self.cost_sq, self.cost as f64 / n),
            latency_hist: histogram(&lat, max, 24),
            calls_hist,
            duplicated: self.duplicated,
            unapproved: self.unapproved,
        }
    }
}

/// A histogram: equal-width bins from 0 to `max`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Histogram {
    /// The right edge of the last bin.
    pub max: Micros,
    /// Counts per bin.
    pub bins: Vec<u32>,
}

fn histogram(sorted: &[Micros], max: Micros, n_bins: usize) -> Histogram {
    let max = max.max(sorted.last().copied().unwrap_or(0)).max(1);
    let mut bins = vec![0u32; n_bins];
    for v in sorted {
        let i = ((*v as u128 * n_bins as u128) / (max as u128 + 1)) as usize;
        bins[i.min(n_bins - 1)] += 1;
    }
    Histogram { max, bins }
}

/// The statistics of one policy over one experiment.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// Requests.
    pub runs: u32,
    /// Share answered.
    pub success_rate: f64,
    /// Share degraded or stopped.
    pub degraded_rate: f64,
    /// Share with a blocked tool.
    pub blocked_rate: f64,
    /// Median virtual latency.
    pub p50: Micros,
    /// 95th percentile.
    pub p95: Micros,
    /// 99th percentile.
    pub p99: Micros,
    /// Model calls per request: retry amplification.
    pub calls_per_request: f64,
    /// Tokens per request.
    pub tokens_per_request: f64,
    /// Micro-dollars per request.
    pub cost_per_request: f64,
    /// Standard deviation of model calls per request.
    pub calls_sd: f64,
    /// Standard deviation of tokens per request.
    pub tokens_sd: f64,
    /// Standard deviation of cost per request.
    pub cost_sd: f64,
    /// Latency histogram.
    pub latency_hist: Histogram,
    /// How many requests made 0, 1, 2, ... model calls.
    pub calls_hist: Vec<u32>,
    /// Requests that repeated a side effect (a payment charged twice).
    #[serde(default)]
    pub duplicated: u32,
    /// Requests that ran a risky tool nobody approved.
    #[serde(default)]
    pub unapproved: u32,
}

/// How policy B compares with policy A on one measure.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Difference {
    /// B is better, beyond chance.
    Better,
    /// B is worse, beyond chance.
    Worse,
    /// Within chance (or the threshold): the same.
    Same,
}

/// One measure of the A/B table.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Row {
    /// What is measured.
    pub name: &'static str,
    /// Policy A's value.
    pub a: f64,
    /// Policy B's value.
    pub b: f64,
    /// How B compares.
    pub difference: Difference,
    /// How the value is shown.
    pub unit: RowUnit,
}

/// How a row's values are shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RowUnit {
    /// A share, as a percentage.
    Rate,
    /// Virtual microseconds.
    Latency,
    /// A count per request.
    Count,
    /// Micro-dollars per request.
    Money,
}

/// The tests behind "better", "worse" and "same", in words for the page.
pub const TESTS: &str = "Better or worse only beyond chance: rates by a two-proportion z-test at 99%; calls, tokens and cost per request by Welch's t-test at 99%; latency percentiles by a difference of more than 5% (and 1 ms). Anything less is the same.";

/// The two-sided 99% critical value of the normal distribution.
const Z99: f64 = 2.576;

/// Is `b` beyond chance from `a`, for two shares of `na` and `nb` requests?
pub fn rates_differ(a: f64, na: u32, b: f64, nb: u32) -> bool {
    let (na, nb) = (na.max(1) as f64, nb.max(1) as f64);
    let pooled = (a * na + b * nb) / (na + nb);
    let se = (pooled * (1.0 - pooled) * (1.0 / na + 1.0 / nb)).sqrt();
    if se == 0.0 {
        return a != b;
    }
    ((b - a) / se).abs() > Z99
}

/// Is mean `b` beyond chance from mean `a` (Welch's t, large samples)?
pub fn means_differ(a: (f64, f64, u32), b: (f64, f64, u32)) -> bool {
    let ((ma, sa, na), (mb, sb, nb)) = (a, b);
    let se = (sa * sa / na.max(1) as f64 + sb * sb / nb.max(1) as f64).sqrt();
    if se == 0.0 {
        return ma != mb;
    }
    ((mb - ma) / se).abs() > Z99
}

/// Do two percentiles differ by more than 5% and more than 1 ms?
pub fn latencies_differ(a: Micros, b: Micros) -> bool {
    let diff = a.abs_diff(b) as f64;
    diff > (a as f64 * 0.05).max(MS as f64)
}

/// Policy B against policy A, measure by measure, marking only differences beyond chance.
pub fn compare(a: &Summary, b: &Summary) -> Vec<Row> {
    let direction = |differs: bool, b_higher: bool, higher_is_better: bool| {
        if !differs {
            Difference::Same
        } else if b_higher == higher_is_better {
            Difference::Better
        } else {
            Difference::Worse
        }
    };
    let rate = |name, x: f64, y: f64, higher_is_better| Row {
        name,
        a: x,
        b: y,
        difference: direction(rates_differ(x, a.runs, y, b.runs), y > x, higher_is_better),
        unit: RowUnit::Rate,
    };
    let latency = |name, x: Micros, y: Micros| Row {
        name,
        a: x as f64,
        b: y as f64,
        difference: direction(latencies_differ(x, y), y > x, false),
        unit: RowUnit::Latency,
    };
    let mean = |name, x: (f64, f64), y: (f64, f64), unit| Row {
        name,
        a: x.0,
        b: y.0,
        difference: direction(
            means_differ((x.0, x.1, a.runs), (y.0, y.1, b.runs)),
            y.0 > x.0,
            false,
        ),
        unit,
    };
    vec![
        rate("success rate", a.success_rate, b.success_rate, true),
        rate("degraded rate", a.degraded_rate, b.degraded_rate, false),
        rate("blocked rate", a.blocked_rate, b.blocked_rate, false),
        latency("p50 latency", a.p50, b.p50),
        latency("p95 latency", a.p95, b.p95),
        latency("p99 latency", a.p99, b.p99),
        mean(
            "model calls (amplification)",
            (a.calls_per_request, a.calls_sd),
            (b.calls_per_request, b.calls_sd),
            RowUnit::Count,
        ),
        mean(
            "tokens",
            (a.tokens_per_request, a.tokens_sd),
            (b.tokens_per_request, b.tokens_sd),
            RowUnit::Count,
        ),
        mean(
            "cost",
            (a.cost_per_request, a.cost_sd),
            (b.cost_per_request, b.cost_sd),
            RowUnit::Money,
        ),
    ]
}

/// All of `exp` under `policy`, in one go.
pub fn summarize(exp: &Experiment, policy: &Policy) -> Summary {
    let mut acc = Accumulator::default();
    acc.run(exp, policy, 0, exp.runs);
    acc.summary()
}

/// The experiment the page's settings describe.
pub fn experiment(s: &Settings) -> Experiment {
    Experiment::new(
        s.stats_workload,
        s.stats_rate,
        s.stats_latency,
        s.stats_runs.clamp(1, 1_000_000),
        s.seed,
    )
}

/// Sorts `v` ascending, as `sort_unstable` does (whole numbers: every correct sort gives the same
/// order). A radix sort, a byte at a time: a few hundred bytes of WebAssembly where the standard
/// sort takes 3 KB, and as quick on the statistics' thousands of latencies.
pub fn sort_micros(v: &mut Vec<Micros>) {
    let mut out = vec![0; v.len()];
    for shift in (0..64).step_by(8) {
        let digit = |x: Micros| (x >> shift) as u8 as usize;
        let mut at = [0usize; 256];
        for x in v.iter() {
            at[digit(*x)] += 1;
        }
        // Every number has the same byte here: this pass would move nothing.
        if at.contains(&v.len()) {
            continue;
        }
        let mut sum = 0;
        for slot in at.iter_mut() {
            let count = *slot;
            *slot = sum;
            sum += count;
        }
        for x in v.iter() {
            let d = digit(*x);
            out[at[d]] = *x;
            at[d] += 1;
        }
        std::mem::swap(v, &mut out);
    }
}

/// Policy B's change, from the settings.
pub fn variant(s: &Settings) -> Variant {
    s.ab_variant
}

impl Choice for Workload {
    const ALL: &'static [Self] = &Workload::ALL;
    const NAMES: &'static [&'static str] = &["answer", "solve", "risky", "loop"];
}

impl Choice for LatencyDist {
    const ALL: &'static [Self] = &LatencyDist::ALL;
    const NAMES: &'static [&'static str] = &["fixed", "uniform", "tail"];
}

impl Choice for Variant {
    const ALL: &'static [Self] = &Variant::ALL;
    const NAMES: &'static [&'static str] = &["more_attempts", "full_jitter", "breaker", "no_retry"];
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exp(rate: f64, runs: u32) -> Experiment {
        Experiment::new(Workload::Answer, rate, LatencyDist::Fixed, runs, 7)
    }

    #[test]
    fn latencies_sort_as_the_standard_sort_does() {
        let mut r = crate::rng::Rng::stream(5, 0);
        for len in [0, 1, 2, 3, 10, 255, 256, 1000, 5000] {
            for spread in [1, 7, 1_000, 1 << 20, u64::MAX] {
                let v: Vec<Micros> = (0..len).map(|_| r.next_u64() % spread).collect();
                let (mut ours, mut std) = (v.clone(), v);
                sort_micros(&mut ours);
                std.sort_unstable();
                assert_eq!(ours, std, "{len} numbers below {spread}");
            }
        }
    }

    #[test]
    fn chunks_add_up_to_the_whole() {
        let s = Settings::default();
        let p = Policy::current(&s);
        let e = exp(0.3, 1_000);
        let mut acc = Accumulator::default();
        for c in 0..10 {
            acc.run(&e, &p, c * 100, (c + 1) * 100);
        }
        assert_eq!(acc.summary(), summarize(&e, &p));
    }

    #[test]
    fn lost_answers_charge_twice_without_keys_and_once_with_them() {
        let s = Settings::default();
        let e = Experiment {
            lost_rate: 0.2,
            ..Experiment::new(Workload::Pay, 0.0, LatencyDist::Fixed, 500, 7)
        };
        let blind = summarize(&e, &Policy::current(&s));
        assert!(
            (70..130).contains(&blind.duplicated),
            "{}",
            blind.duplicated
        );
        assert_eq!(blind.unapproved, 0, "the customer approved the payment");
        let mut keyed = Policy::current(&s);
        keyed.cfg.idempotency = true;
        let keyed = summarize(&e, &keyed);
        assert_eq!(keyed.duplicated, 0);
        assert_eq!(keyed.success_rate, 1.0);
    }

    #[test]
    fn an_outage_fails_the_requests_that_arrive_in_it() {
        let s = Settings::default();
        let e = Experiment {
            outage: Some(Outage {
                from: 0,
                to: SEC,
                every: 2 * SEC,
            }),
            ..Experiment::new(Workload::Answer, 0.0, LatencyDist::Fixed, 1_000, 7)
        };
        let mut p = Policy::current(&s);
        p.cfg.retry.attempts = 1;
        // Half the time down, a request every 0.1 s: half the requests fail.
        assert_eq!(summarize(&e, &p).success_rate, 0.5);
    }

    #[test]
    fn no_faults_means_every_request_succeeds_with_one_call() {
        let s = Settings::default();
        let sum = summarize(&exp(0.0, 500), &Policy::current(&s));
        assert_eq!(sum.success_rate, 1.0);
        assert_eq!(sum.calls_per_request, 1.0);
        assert_eq!(sum.p99, 20 * MS);
    }
}
