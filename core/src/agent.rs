//! The agent loop: every pattern composed in one place.
//!
//! A ReAct-style loop as a resumable state machine. Each [`Agent::step`] is one turn:
//!
//! 1. the kill switch is checked, then the step cap counts the step, then the token, cost and
//!    wall-time budgets are checked;
//! 2. the model is called down its fallback ladder; each rung's call goes through the retry
//!    loop, and each attempt is checked against the kill switch and budgets, passes the circuit
//!    breaker and is cut off by the deadline;
//! 3. a final answer ends the run; a tool request is validated at the boundary, then passes the
//!    approval gate (risky tools wait for, or are denied, a human yes);
//! 4. the tool runs through the same retry loop, with an idempotency key when configured, in
//!    the pretend world.
//!
//! Every failure ends in a value, never a panic: all rungs failing degrades to the safe
//! message, a cap or the kill switch stops the run with its reason, a repeating error escalates
//! with a handoff packet. Nothing here reads a clock or a random source: time and seeds are
//! inputs, so the same inputs give the same [`Run`] every time.

use crate::approval::{ApprovalPolicy, Decision, Gate};
use crate::breaker::{BreakerConfig, CircuitBreaker, Transition};
use crate::caps::{CapHit, CapKind, Caps, MicroUsd, StepLimiter, Usage};
use crate::deadline::Deadline;
use crate::error::{CallError, ErrorKind};
use crate::escalation::{suggestion, EscalationPolicy, HandoffPacket, RepeatTracker};
use crate::evaluator::CriticPolicy;
use crate::fallback::SAFE_MESSAGE;
use crate::killswitch::KillSwitch;
use crate::model::{Behaviour, ModelSpec, Observation, Reply, SimModel};
use crate::retry::RetryPolicy;
use crate::rng::{streams, Rng};
use crate::scope::ScopePolicy;
use crate::time::{Micros, Secs, MS};
use crate::tools::{self, Effect, Executed, ToolCall, ToolFaults, World};
use crate::trace::{Event, EventKind, GateEvent, GiveUp, Target};
use crate::ConfigError;
use serde::{Deserialize, Serialize};
use std::borrow::Cow;

/// How the agent is hardened.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AgentConfig {
    /// Retries of model and tool calls.
    pub retry: RetryPolicy,
    /// The per-call timeout.
    pub deadline: Deadline,
    /// Step, token, cost and wall-time caps.
    pub caps: Caps,
    /// Who approves risky tools.
    pub approval: ApprovalPolicy,
    /// The circuit breaker in front of the model, if any.
    pub breaker: Option<BreakerConfig>,
    /// Escalate after the same error repeats, if set.
    pub escalation: Option<EscalationPolicy>,
    /// Send idempotency keys with side-effecting tool calls.
    pub idempotency: bool,
    /// How tools misbehave.
    pub tool_faults: ToolFaults,
    /// How long a tool call takes.
    pub tool_latency: Micros,
    /// Narrow bulk writes to a sample first, if set.
    pub scope: Option<ScopePolicy>,
    /// Grade answers and revise once, if set.
    pub critic: Option<CriticPolicy>,
}

impl Default for AgentConfig {
    fn default() -> Self {
        AgentConfig {
            retry: RetryPolicy::new(),
            deadline: Deadline::default(),
            caps: Caps::new(),
            approval: ApprovalPolicy::default(),
            breaker: None,
            escalation: None,
            idempotency: false,
            tool_faults: ToolFaults::default(),
            tool_latency: 10 * MS,
            scope: None,
            critic: None,
        }
    }
}

impl AgentConfig {
    /// Checks every part, naming the first bad field.
    pub fn validate(self) -> Result<Self, ConfigError> {
        self.retry.validate()?;
        self.deadline.validate()?;
        self.caps.validate()?;
        if let Some(b) = self.breaker {
            b.validate()?;
        }
        if let Some(e) = self.escalation {
            e.validate()?;
        }
        if let Some(s) = self.scope {
            s.validate()?;
        }
        if let Some(c) = self.critic {
            c.validate()?;
        }
        Ok(self)
    }
}

/// What the user asked and what the agent planned: the start of a handoff packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Task {
    /// What the user asked.
    pub input: &'static str,
    /// What the agent means to do.
    pub plan: &'static [&'static str],
}

impl Behaviour {
    /// The task a model of this behaviour works on.
    pub const fn task(self) -> Task {
        match self {
            Behaviour::Risky => Task {
                input: "Email the quarterly results to all staff.",
                plan: &[
                    "draft the email",
                    "send_email to all-staff (needs approval)",
                    "confirm",
                ],
            },
            Behaviour::Pay => Task {
                input: "Charge customer cus_42 $25.00 for order 1001.",
                plan: &["charge_card cus_42 2500 cents", "confirm the receipt"],
            },
            _ => Task {
                input: "What is 17 x 23?",
                plan: &[
                    "multiply 17 by 23 with the multiply tool",
                    "answer with the product",
                ],
            },
        }
    }
}

/// Why a run stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stop {
    /// The model answered.
    Answered,
    /// Every option failed: the safe message.
    Degraded,
    /// A cap fired.
    Cap(CapKind),
    /// The kill switch was on.
    Killed,
    /// The same error repeated, or an approval timed out: handed to a human.
    Escalated,
    /// The model's tool arguments were invalid (never retried).
    InvalidArgs,
    /// Paused at the approval gate.
    AwaitingApproval,
}

/// What a run used and did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counters {
    /// Model calls that reached the model.
    pub model_calls: u32,
    /// Tool calls that reached the tool.
    pub tool_calls: u32,
    /// Retries (attempts after the first).
    pub retries: u32,
    /// Attempts abandoned at the deadline.
    pub timeouts: u32,
    /// Steps down the fallback ladder.
    pub fallbacks: u32,
    /// Calls the breaker refused.
    pub fast_fails: u32,
    /// Tokens used.
    pub tokens: u64,
    /// Money spent.
    pub cost: MicroUsd,
    /// Side effects committed.
    pub side_effects: u32,
    /// Side effects that repeated an earlier one.
    pub duplicates: u32,
}

/// The result of a run, in the lab's shape plus the why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Outcome {
    /// The answer (or the safe message, or the stop message).
    pub answer: String,
    /// Steps counted, the refused one included.
    pub steps: u32,
    /// Risky tools that were blocked (or are waiting), in order.
    pub blocked: Vec<String>,
    /// True when the run did not end with a real answer.
    pub degraded: bool,
    /// Why it stopped.
    pub stop: Stop,
    /// What it used.
    pub counters: Counters,
    /// Virtual time from start to stop.
    pub elapsed: Micros,
    /// For an escalated run: what a human gets.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub handoff: Option<HandoffPacket>,
}

impl Outcome {
    /// The lab's printout: `{'answer': 'The answer is 391.', 'steps': 2, 'blocked': [], 'degraded': False}`.
    pub fn lab_repr(&self) -> String {
        let blocked: Vec<String> = self.blocked.iter().map(|b| format!("'{b}'")).collect();
        format!(
            "{{'answer': '{}', 'steps': {}, 'blocked': [{}], 'degraded': {}}}",
            self.answer.replace('\'', "\\'"),
            self.steps,
            blocked.join(", "),
            if self.degraded { "True" } else { "False" }
        )
    }
}

/// A finished (or paused) run: a value to print, compare, serialise and replay.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Run {
    /// The outcome.
    pub outcome: Outcome,
    /// Every event, in order (empty when recording was off).
    pub trace: Vec<Event>,
    /// The pretend world's side effects.
    pub effects: Vec<Effect>,
    /// The tool call waiting at the approval gate, if paused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub awaiting: Option<ToolCall>,
}

impl Run {
    /// The backoff waits of the run, in order.
    pub fn backoff_waits(&self) -> Vec<Micros> {
        self.trace
            .iter()
            .filter(|e| matches!(e.kind, EventKind::Backoff { .. }))
            .map(|e| e.dur)
            .collect()
    }
}

/// Where a stepped agent is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// More steps to take.
    Running,
    /// Paused at the approval gate: call [`Agent::decide`].
    AwaitingApproval,
    /// Done: call [`Agent::into_run`].
    Finished,
}

enum Halt {
    Killed,
    Cap(CapHit),
    Escalate {
        error: CallError,
        times: u32,
        target: Target,
    },
    Degraded,
}

enum Failure {
    Halt(Halt),
    Exhausted,
}

/// An agent run in progress.
#[derive(Clone, Debug)]
pub struct Agent {
    cfg: AgentConfig,
    task: Task,
    models: Vec<SimModel>,
    seed: u64,
    rng: Rng,
    started: Micros,
    now: Micros,
    calls_started: u64,
    limiter: StepLimiter,
    counters: Counters,
    breaker: Option<CircuitBreaker>,
    kill: KillSwitch,
    world: World,
    seen: Observation,
    blocked: Vec<String>,
    repeats: RepeatTracker,
    done: Vec<String>,
    pending: Option<(ToolCall, Micros)>,
    revisions: u32,
    outcome: Option<Outcome>,
    trace: Option<Vec<Event>>,
}

impl Agent {
    /// An agent with `cfg` over the fallback ladder `models` (the first is the primary),
    /// seeded with `seed`. Records a trace when `record` is true.
    pub fn new(
        cfg: AgentConfig,
        models: Vec<ModelSpec>,
        seed: u64,
        record: bool,
    ) -> Result<Agent, ConfigError> {
        let cfg = cfg.validate()?;
        let Some(first) = models.first() else {
            return Err(ConfigError::new(
                "models",
                "needs at least one model".to_string(),
            ));
        };
        let task = first.behaviour.task();
        Ok(Agent {
            limiter: StepLimiter::new(cfg.caps.max_steps),
            breaker: cfg.breaker.map(CircuitBreaker::new),
            cfg,
            task,
            models: models.into_iter().map(SimModel::new).collect(),
            seed,
            rng: Rng::stream(seed, streams::FAULTS),
            started: 0,
            now: 0,
            calls_started: 0,
            counters: Counters::default(),
            kill: KillSwitch::OFF,
            world: World::default(),
            seen: Observation::None,
            blocked: Vec::new(),
            repeats: RepeatTracker::default(),
            done: Vec::new(),
            pending: None,
            revisions: 0,
            outcome: None,
            trace: record.then(|| Vec::with_capacity(32)),
        })
    }

    /// Starts the run at virtual time `at` (for runs that follow one another).
    pub fn starting_at(mut self, at: Micros) -> Self {
        self.started = at;
        self.now = at;
        self
    }

    /// Uses `breaker`, carrying its state over from earlier runs.
    pub fn with_breaker(mut self, breaker: CircuitBreaker) -> Self {
        self.breaker = Some(breaker);
        self
    }

    /// Uses `kill` as the kill switch.
    pub fn with_kill_switch(mut self, kill: KillSwitch) -> Self {
        self.kill = kill;
        self
    }

    /// Turns the kill switch on now.
    pub fn engage_kill_switch(&mut self) {
        self.kill = KillSwitch::at(self.now);
    }

    /// The virtual time now.
    pub const fn now(&self) -> Micros {
        self.now
    }

    /// The breaker, with its current state.
    pub fn breaker(&self) -> Option<&CircuitBreaker> {
        self.breaker.as_ref()
    }

    /// Where the run is.
    pub fn status(&self) -> Status {
        if self.outcome.is_some() {
            Status::Finished
        } else if self.pending.is_some() {
            Status::AwaitingApproval
        } else {
            Status::Running
        }
    }

    /// Takes one step. Does nothing when finished or paused (but a kill switch that is on
    /// still stops a paused run).
    pub fn step(&mut self) -> Status {
        if self.outcome.is_some() {
            return Status::Finished;
        }
        if self.kill.is_on(self.now) {
            return self.halt(Halt::Killed);
        }
        if self.pending.is_some() {
            return Status::AwaitingApproval;
        }
        if let Err(hit) = self.limiter.tick() {
            return self.halt(Halt::Cap(hit));
        }
        self.emit(self.now, 0, || EventKind::Step);
        if let Some(hit) = self.budget_hit() {
            return self.halt(Halt::Cap(hit));
        }
        let reply = match self.call_model() {
            Ok(reply) => reply,
            Err(halt) => return self.halt(halt),
        };
        match reply {
            Reply::Answer { text } => self.critique(text),
            Reply::Tool { call } => match tools::validate(&call) {
                Err(error) => {
                    let answer = format!("Stopped: {error}");
                    self.emit(self.now, 0, || EventKind::ArgsRejected { error });
                    self.finish(answer, Stop::InvalidArgs, true)
                }
                Ok(call) => {
                    self.emit(self.now, 0, || EventKind::ToolRequested {
                        call: call.clone(),
                    });
                    self.gate(call)
                }
            },
        }
    }

    /// Steps until the run finishes or pauses at the approval gate. A paused run whose
    /// approval has a deadline waits it out: denied and escalated.
    pub fn run_until_paused(&mut self) -> Status {
        loop {
            match self.step() {
                Status::Running => continue,
                Status::AwaitingApproval => match (self.cfg.approval.deadline, &self.pending) {
                    (Some(d), Some((_, since))) => {
                        let at = since.saturating_add(d);
                        self.advance_to(at);
                    }
                    _ => return Status::AwaitingApproval,
                },
                Status::Finished => return Status::Finished,
            }
        }
    }

    /// Lets virtual time pass to `at` while paused: past the approval deadline, the request
    /// is denied and the run escalates.
    pub fn advance_to(&mut self, at: Micros) -> Status {
        if let (Some((call, since)), Some(d)) = (&self.pending, self.cfg.approval.deadline) {
            let deadline = since.saturating_add(d);
            if at >= deadline {
                self.now = self.now.max(deadline);
                let tool = call.kind().name();
                self.blocked.push(tool.to_string());
                self.pending = None;
                self.emit(self.now, 0, || EventKind::Gate {
                    tool: tool.into(),
                    gate: GateEvent::TimedOut,
                });
                let error = CallError {
                    detail: Some(format!("nobody approved {tool} within {}", Secs(d))),
                    ..CallError::new(ErrorKind::Timeout)
                };
                return self.halt(Halt::Escalate {
                    error,
                    times: 1,
                    target: Target::Tool(tool.into()),
                });
            }
        }
        self.now = self.now.max(at);
        self.status()
    }

    /// A human's decision on the paused tool call. Does nothing unless paused.
    pub fn decide(&mut self, decision: Decision) -> Status {
        let Some((call, _)) = self.pending.take() else {
            return self.status();
        };
        let tool = call.kind().name();
        self.emit(self.now, 0, || EventKind::Gate {
            tool: tool.into(),
            gate: GateEvent::Decided(decision),
        });
        match decision {
            Decision::Approve => self.run_tool(call),
            Decision::Deny => self.block(&call),
        }
    }

    /// The run so far: finished, or a snapshot of a paused or unfinished one.
    pub fn into_run(self) -> Run {
        self.into_parts().0
    }

    /// The run, plus the breaker (to carry into the next run).
    pub fn into_parts(mut self) -> (Run, Option<CircuitBreaker>) {
        let awaiting = self.pending.as_ref().map(|(c, _)| c.clone());
        let outcome = match self.outcome.take() {
            Some(o) => o,
            None => {
                let mut blocked = self.blocked.clone();
                let answer = match &awaiting {
                    Some(c) => {
                        blocked.push(c.kind().name().to_string());
                        format!(
                            "Paused: {} is waiting for a human decision.",
                            c.kind().name()
                        )
                    }
                    None => "Running.".to_string(),
                };
                self.outcome_with(answer, Stop::AwaitingApproval, false, blocked)
            }
        };
        let run = Run {
            outcome,
            trace: self.trace.take().unwrap_or_default(),
            effects: std::mem::take(&mut self.world.effects),
            awaiting,
        };
        (run, self.breaker)
    }

    fn emit(&mut self, at: Micros, dur: Micros, kind: impl FnOnce() -> EventKind) {
        if let Some(trace) = &mut self.trace {
            trace.push(Event {
                at,
                dur,
                step: self.limiter.steps(),
                kind: kind(),
            });
        }
    }

    fn emit_transition(&mut self, t: Option<Transition>) {
        if let Some(Transition { from, to }) = t {
            self.emit(self.now, 0, || EventKind::Breaker { from, to });
        }
    }

    fn budget_hit(&self) -> Option<CapHit> {
        self.cfg.caps.check(&Usage {
            tokens: self.counters.tokens,
            cost: self.counters.cost,
            elapsed: self.now - self.started,
        })
    }

    fn call_model(&mut self) -> Result<Reply, Halt> {
        for rung in 0..self.models.len() {
            if rung > 0 {
                self.counters.fallbacks += 1;
                let from = self.models[rung - 1].spec.name.clone();
                let to = self.models[rung].spec.name.clone();
                self.emit(self.now, 0, || EventKind::Fallback { from, to });
            }
            let target = Target::Model(self.models[rung].spec.name.clone());
            let step = self.limiter.steps() as u64;
            let result = self.with_retry(target, true, |a| {
                let seen = &a.seen;
                let (latency, r) = a.models[rung].call(seen, a.now, &mut a.rng);
                a.counters.model_calls += 1;
                let (waited, r) = a.cfg.deadline.apply(latency, r);
                if r.is_ok() {
                    // A growing context: each step re-sends the conversation so far.
                    let prompt = 300 + 150 * step;
                    let completion = 50;
                    a.counters.tokens += prompt + completion;
                    a.counters.cost += prompt * 3 + completion * 15;
                }
                (waited, r)
            });
            match result {
                Ok(reply) => return Ok(reply),
                Err(Failure::Halt(h)) => return Err(h),
                Err(Failure::Exhausted) => continue,
            }
        }
        self.emit(self.now, 0, || EventKind::Degraded);
        Err(Halt::Degraded)
    }

    fn with_retry<T>(
        &mut self,
        target: Target,
        through_breaker: bool,
        mut attempt_once: impl FnMut(&mut Self) -> (Micros, Result<T, CallError>),
    ) -> Result<T, Failure> {
        let mut backoff = self
            .cfg
            .retry
            .backoff(self.seed ^ self.calls_started.wrapping_mul(0x9E37_79B9));
        self.calls_started += 1;
        let mut attempt = 0;
        loop {
            attempt += 1;
            if self.kill.is_on(self.now) {
                return Err(Failure::Halt(Halt::Killed));
            }
            if let Some(hit) = self.budget_hit() {
                return Err(Failure::Halt(Halt::Cap(hit)));
            }
            if through_breaker {
                if let Some(b) = &mut self.breaker {
                    match b.allow(self.now) {
                        Ok(t) => self.emit_transition(t),
                        Err(refused) => {
                            self.counters.fast_fails += 1;
                            let retry_at = refused.retry_at;
                            self.emit(self.now, 0, || EventKind::FastFail { target, retry_at });
                            return Err(Failure::Exhausted);
                        }
                    }
                }
            }
            let start = self.now;
            let (waited, result) = attempt_once(self);
            self.now += waited;
            let error = result.as_ref().err().cloned();
            self.emit(start, waited, || EventKind::Attempt {
                target: target.clone(),
                attempt,
                error,
            });
            let error = match result {
                Ok(v) => {
                    if through_breaker {
                        let t = self.breaker.as_mut().and_then(|b| b.on_success());
                        self.emit_transition(t);
                    }
                    self.repeats.reset();
                    return Ok(v);
                }
                Err(e) => e,
            };
            if error.kind == ErrorKind::Timeout {
                self.counters.timeouts += 1;
            }
            if through_breaker {
                let now = self.now;
                let t = self.breaker.as_mut().and_then(|b| b.on_failure(now));
                self.emit_transition(t);
            }
            if let Some(policy) = self.cfg.escalation {
                let times = self.repeats.record(error.kind);
                if times >= policy.after {
                    return Err(Failure::Halt(Halt::Escalate {
                        error,
                        times,
                        target,
                    }));
                }
            }
            if !error.is_transient() {
                self.emit(self.now, 0, || EventKind::GaveUp {
                    target,
                    reason: GiveUp::NotTransient,
                });
                return Err(Failure::Exhausted);
            }
            let Some(delay) = backoff.next() else {
                self.emit(self.now, 0, || EventKind::GaveUp {
                    target,
                    reason: GiveUp::AttemptsExhausted,
                });
                return Err(Failure::Exhausted);
            };
            let hinted = error.retry_after.filter(|&ra| ra > delay);
            let delay = hinted.unwrap_or(delay);
            self.emit(self.now, delay, || EventKind::Backoff {
                retry: attempt,
                retry_after: hinted,
            });
            self.now += delay;
            self.counters.retries += 1;
        }
    }

    fn critique(&mut self, answer: String) -> Status {
        let Some(critic) = self.cfg.critic else {
            return self.finish(answer, Stop::Answered, false);
        };
        let revision = self.revisions;
        let score = critic.score(revision);
        let revise = critic.revise(score, revision);
        self.emit(self.now, 0, || EventKind::Critique {
            score,
            threshold: critic.threshold,
            revision,
            revise,
        });
        if revise {
            self.revisions += 1;
            self.seen = Observation::Feedback;
            return Status::Running;
        }
        self.finish(answer, Stop::Answered, false)
    }

    fn gate(&mut self, call: ToolCall) -> Status {
        if let Some((sample, rest)) = self.cfg.scope.and_then(|s| s.split(&call)) {
            let (shown_sample, shown_rest) = (sample.clone(), rest.clone());
            self.emit(self.now, 0, || EventKind::ScopeNarrowed {
                sample: shown_sample,
                rest: shown_rest,
            });
            if self.run_tool(sample) == Status::Finished {
                return Status::Finished;
            }
            self.emit(self.now, 0, || EventKind::Gate {
                tool: rest.kind().name().into(),
                gate: GateEvent::Waiting,
            });
            self.pending = Some((rest, self.now));
            return Status::AwaitingApproval;
        }
        let kind = call.kind();
        match self.cfg.approval.gate(kind.risk()) {
            Gate::Run => {
                if kind.risk() == crate::approval::Risk::Risky {
                    self.emit(self.now, 0, || EventKind::Gate {
                        tool: kind.name().into(),
                        gate: GateEvent::Decided(Decision::Approve),
                    });
                }
                self.run_tool(call)
            }
            Gate::Block => {
                self.emit(self.now, 0, || EventKind::Gate {
                    tool: kind.name().into(),
                    gate: GateEvent::DeniedByDefault,
                });
                self.block(&call)
            }
            Gate::Wait => {
                self.emit(self.now, 0, || EventKind::Gate {
                    tool: kind.name().into(),
                    gate: GateEvent::Waiting,
                });
                self.pending = Some((call, self.now));
                Status::AwaitingApproval
            }
        }
    }

    fn block(&mut self, call: &ToolCall) -> Status {
        self.blocked.push(call.kind().name().to_string());
        self.seen = Observation::Blocked;
        self.note_done(|| format!("{call}: blocked by the approval gate"));
        Status::Running
    }

    /// Records a step for the handoff packet, which only an escalation can need: runs that
    /// cannot escalate skip the formatting.
    fn note_done(&mut self, line: impl FnOnce() -> String) {
        if self.cfg.escalation.is_some() || self.cfg.approval.deadline.is_some() {
            self.done.push(line());
        }
    }

    fn run_tool(&mut self, call: ToolCall) -> Status {
        let key = self
            .cfg
            .idempotency
            .then(|| call.key(self.seed))
            .filter(|_| call.kind().has_side_effect());
        let target = Target::Tool(Cow::Borrowed(call.kind().name()));
        let result = self.with_retry(target, false, |a| {
            a.counters.tool_calls += 1;
            let before = a.world.effects.len();
            let executed = a.world.execute(&call, key, a.now, a.cfg.tool_faults);
            if a.world.effects.len() > before {
                a.counters.side_effects += 1;
                let duplicate = a.world.effects[..before].iter().any(|e| e.call == call);
                if duplicate {
                    a.counters.duplicates += 1;
                }
                let now = a.now;
                a.emit(now, 0, || EventKind::SideEffect {
                    call: call.clone(),
                    duplicate,
                });
            }
            let latency = a.cfg.tool_latency;
            match executed {
                Executed::Ran(out) => a.cfg.deadline.apply(latency, Ok((out, false))),
                Executed::Deduplicated(out) => a.cfg.deadline.apply(latency, Ok((out, true))),
                Executed::Lost => {
                    let t = a.cfg.deadline.timeout;
                    (t, Err(CallError::timed_out(t)))
                }
            }
        });
        match result {
            Ok((output, deduplicated)) => {
                self.note_done(|| format!("{call} -> {output}"));
                let shown = output.clone();
                self.emit(self.now, 0, || EventKind::ToolResult {
                    output: shown,
                    deduplicated,
                });
                self.seen = Observation::Output(output);
                Status::Running
            }
            Err(Failure::Halt(h)) => self.halt(h),
            Err(Failure::Exhausted) => {
                self.emit(self.now, 0, || EventKind::Degraded);
                self.halt(Halt::Degraded)
            }
        }
    }

    fn halt(&mut self, halt: Halt) -> Status {
        match halt {
            Halt::Killed => {
                self.pending = None;
                self.emit(self.now, 0, || EventKind::Killed);
                self.finish(
                    "Stopped: the kill switch is on.".to_string(),
                    Stop::Killed,
                    true,
                )
            }
            Halt::Cap(hit) => {
                self.emit(self.now, 0, || EventKind::Cap { hit });
                self.finish(hit.to_string(), Stop::Cap(hit.cap), true)
            }
            Halt::Escalate {
                error,
                times,
                target,
            } => {
                let packet = HandoffPacket {
                    user_input: self.task.input.to_string(),
                    plan: self.task.plan.iter().map(|s| s.to_string()).collect(),
                    steps_executed: self.done.clone(),
                    failing_step: format!("step {}: {target}", self.limiter.steps()),
                    error: error.to_string(),
                    suggested_next_step: suggestion(&error).to_string(),
                };
                let answer = format!(
                    "Escalated to a human: {error} ({times} time{} in a row). A handoff ticket was filed.",
                    if times == 1 { "" } else { "s" }
                );
                self.emit(self.now, 0, || EventKind::Escalated { error, times });
                let status = self.finish(answer, Stop::Escalated, true);
                if let Some(o) = &mut self.outcome {
                    o.handoff = Some(packet);
                }
                status
            }
            Halt::Degraded => self.finish(SAFE_MESSAGE.to_string(), Stop::Degraded, true),
        }
    }

    fn outcome_with(
        &self,
        answer: String,
        stop: Stop,
        degraded: bool,
        blocked: Vec<String>,
    ) -> Outcome {
        Outcome {
            answer,
            steps: self.limiter.steps(),
            blocked,
            degraded,
            stop,
            counters: self.counters,
            elapsed: self.now - self.started,
            handoff: None,
        }
    }

    fn finish(&mut self, answer: String, stop: Stop, degraded: bool) -> Status {
        if self.trace.is_some() {
            let shown = answer.clone();
            self.emit(self.now, 0, || EventKind::Finished { answer: shown });
        }
        let blocked = std::mem::take(&mut self.blocked);
        self.outcome = Some(self.outcome_with(answer, stop, degraded, blocked));
        Status::Finished
    }
}

/// Runs an agent to its end (or its pause at the approval gate) in one call.
pub fn run(
    cfg: AgentConfig,
    models: Vec<ModelSpec>,
    seed: u64,
    record: bool,
) -> Result<Run, ConfigError> {
    let mut agent = Agent::new(cfg, models, seed, record)?;
    agent.run_until_paused();
    Ok(agent.into_run())
}
