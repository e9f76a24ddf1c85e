//! The agent loop: every pattern composed in one place, as a sans-I/O state machine.
//!
//! The agent only decides. [`Agent::poll`] says what it wants next, an [`Action`]: call the
//! model (with the conversation so far, by a deadline), run a tool, wait until a time, ask a
//! human, or nothing (done). What happened outside comes back through the `handle_*` methods:
//! a reply, an error, time passing ([`Agent::handle_timeout`]), a human's decision, the kill
//! switch. The agent never reads a clock, never sleeps and never calls anything: a simulator
//! ([`crate::sim`]), a recorded trace ([`crate::recorded`]) and a real model API (the page's
//! live panel, the `live` example) are three drivers of this one engine.
//!
//! Each step, in order:
//!
//! 1. the kill switch is checked, then the step cap counts the step, then the token, cost and
//!    wall-time budgets are checked;
//! 2. the model is called down its fallback ladder; each rung's call goes through the retry
//!    loop, and each attempt is checked against the kill switch and the budgets, passes the
//!    circuit breaker and is cut off at its deadline;
//! 3. a final answer ends the run (after the critic, if there is one); a tool request is
//!    validated at the boundary, narrowed by the scope policy, then passes the approval gate
//!    (risky tools wait for, or are denied, a human yes);
//! 4. the tool runs through the same retry loop, with an idempotency key when configured.
//!
//! Every failure ends in a value, never a panic: all rungs failing degrades to the safe
//! message, a cap or the kill switch stops the run with its reason, a repeating error escalates
//! with a handoff packet. The same inputs give the same [`Run`] every time, and the agent's
//! state is a value that serialises (a checkpoint).

use crate::approval::{ApprovalPolicy, Decision, Gate, Risk};
use crate::breaker::{BreakerConfig, CircuitBreaker, Transition};
use crate::caps::{CapHit, CapKind, Caps, MicroUsd, StepLimiter, Usage};
use crate::deadline::Deadline;
use crate::error::{CallError, ErrorKind};
use crate::escalation::{suggestion, ticket_id, EscalationPolicy, HandoffPacket, RepeatTracker};
use crate::evaluator::CriticPolicy;
use crate::fallback::{safe_message, Ladder, Rung};
use crate::idempotency::IdempotencyKey;
use crate::killswitch::KillSwitch;
use crate::retry::{RetryPolicy, Waits};
use crate::scope::ScopePolicy;
use crate::time::{Micros, Secs};
use crate::tools::{self, RawCall, ToolCall, ToolOutput};
use crate::trace::{Event, EventKind, GateEvent, GiveUp, Target};
use crate::ConfigError;
use serde::{Deserialize, Serialize};
use std::borrow::Cow;

/// How the agent is hardened: its policies, nothing about the world it runs in. The default
/// is each part's default: 3 attempts from 0.5 s, a 0.05 s timeout, 4 steps, deny-by-default
/// approvals, and no breaker, escalation, keys, scope or critic.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
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
    /// Narrow bulk writes to a sample first, if set.
    pub scope: Option<ScopePolicy>,
    /// Grade answers and revise once, if set.
    pub critic: Option<CriticPolicy>,
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

/// What the user asked and what the agent planned: the start of the conversation, and of a
/// handoff packet.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Task {
    /// What the user asked.
    pub input: Cow<'static, str>,
    /// What the agent means to do.
    pub plan: Cow<'static, [Cow<'static, str>]>,
}

impl Task {
    /// The lab's task: "What is 17 x 23?", with the multiply tool.
    pub const MULTIPLY: Task = Task {
        input: Cow::Borrowed("What is 17 x 23?"),
        plan: Cow::Borrowed(&[
            Cow::Borrowed("multiply 17 by 23 with the multiply tool"),
            Cow::Borrowed("answer with the product"),
        ]),
    };
}

/// One turn of the conversation after the user's task: what the model said and what it was
/// told back. A driver that talks to a real model sends these; the simulator reads the last.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Turn {
    /// The model's reply.
    Model(Reply),
    /// A tool's output, returned to the model.
    Output(ToolOutput),
    /// The approval gate blocked the tool the model asked for.
    Blocked,
    /// A critic asked for a better answer.
    Feedback {
        /// The critic's score of the draft, out of 10.
        score: u8,
    },
}

/// The model's reply.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reply {
    /// A final answer.
    Answer {
        /// The text.
        text: String,
    },
    /// A request to run a tool.
    Tool {
        /// The untrusted call.
        call: RawCall,
        /// The model's id for this request (a real API pairs the tool's result with it).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        id: Option<String>,
        /// The model's whole reply as the API sent it (JSON), to send back unchanged.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        raw: Option<String>,
    },
}

/// A successful model call: the reply, and what it cost.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelReply {
    /// What the model said.
    pub reply: Reply,
    /// Tokens read and written.
    pub tokens: TokenUsage,
    /// What the call cost.
    pub cost: MicroUsd,
}

/// Tokens of one model call.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenUsage {
    /// Prompt tokens.
    pub input: u64,
    /// Completion tokens.
    pub output: u64,
}

/// A tool's answer: its output, and whether an idempotency key answered it from memory.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ToolReply {
    /// What the tool returned.
    pub output: ToolOutput,
    /// True when the key matched: nothing was done again.
    #[serde(default)]
    pub deduplicated: bool,
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
    /// Risky tools that were blocked, in order.
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
    pub handoff: Option<Box<HandoffPacket>>,
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
    pub effects: Vec<crate::tools::Effect>,
    /// The tool call waiting at the approval gate, if paused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub awaiting: Option<ToolCall>,
    /// For many requests in a row (card F): how each one ended.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub requests: Vec<RequestEnd>,
}

/// How one request of a series ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestEnd {
    /// Why it stopped.
    pub stop: Stop,
    /// When it started.
    pub start: Micros,
    /// Model calls that reached the service.
    pub calls: u32,
    /// Calls the breaker refused.
    pub fast_fails: u32,
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

/// Where a driven agent is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// More to do.
    Running,
    /// Paused at the approval gate: a human has to decide.
    AwaitingApproval,
    /// Done: call [`Agent::into_run`].
    Finished,
}

/// Something that performs what an agent asks: the simulator ([`crate::sim::Sim`]), a
/// recording ([`crate::recorded::Recorded`]), a real model API (the page's live panel).
pub trait Driver {
    /// Performs what `agent` wants until it finishes or waits for something this driver cannot
    /// give (a human's answer, more of a recording).
    fn drive(&mut self, agent: &mut Agent) -> Status;
    /// The side effects committed so far, taken out.
    fn take_effects(&mut self) -> Vec<crate::tools::Effect>;
}

/// A model call the agent wants made.
#[derive(Clone, Copy, Debug)]
pub struct ModelCall<'a> {
    /// The rung of the fallback ladder (0 for the primary).
    pub rung: usize,
    /// The model's name on that rung.
    pub model: &'a str,
    /// The step this call belongs to (1 for the first).
    pub step: u32,
    /// 1 for the first try of this call.
    pub attempt: u32,
    /// When the call starts.
    pub start: Micros,
    /// When the agent stops waiting for it: report a reply before this, or
    /// [`Agent::handle_timeout`] at it.
    pub deadline: Micros,
    /// What the user asked.
    pub task: &'a Task,
    /// The conversation since.
    pub turns: &'a [Turn],
}

impl ModelCall<'_> {
    /// What the model last saw: the last turn of the conversation, if any.
    pub fn last_turn(&self) -> Option<&Turn> {
        self.turns.last()
    }
}

/// A tool call the agent wants made.
#[derive(Clone, Copy, Debug)]
pub struct ToolRun<'a> {
    /// The validated call.
    pub call: &'a ToolCall,
    /// The idempotency key it carries, if any.
    pub key: Option<IdempotencyKey>,
    /// 1 for the first try.
    pub attempt: u32,
    /// When the call starts.
    pub start: Micros,
    /// When the agent stops waiting for it.
    pub deadline: Micros,
}

/// What the agent wants next: the output of [`Agent::poll`].
#[derive(Clone, Copy, Debug)]
pub enum Action<'a> {
    /// Call the model; answer with [`Agent::handle_model_reply`] or
    /// [`Agent::handle_timeout`]. Returned once per attempt.
    CallModel(ModelCall<'a>),
    /// Run a tool; answer with [`Agent::handle_tool_reply`] (after any
    /// [`Agent::handle_side_effect`]) or [`Agent::handle_timeout`]. Returned once per attempt.
    RunTool(ToolRun<'a>),
    /// Nothing to do until `until` (a call's deadline, a backoff wait, a kill switch set for
    /// later): call [`Agent::handle_timeout`] then, unless an input comes first.
    Wait {
        /// When.
        until: Micros,
    },
    /// A risky tool waits for a human: [`Agent::handle_decision`]. With a deadline, call
    /// [`Agent::handle_timeout`] at it if nobody has answered.
    AskHuman {
        /// The call waiting.
        call: &'a ToolCall,
        /// When silence becomes a denial (or the kill switch goes on), if ever.
        deadline: Option<Micros>,
    },
    /// The run is over: [`Agent::into_run`].
    Done,
}

/// What is being called, inside the retry loop.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Callee {
    /// The model on this rung.
    Model { rung: usize },
    /// A tool, with its key.
    Tool {
        call: ToolCall,
        key: Option<IdempotencyKey>,
    },
}

/// A call going through the retry loop. Its waits are made on its first failure: most calls
/// never need them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct Call {
    callee: Callee,
    attempt: u32,
    /// Which call of the run this is (it seeds the jitter).
    index: u64,
    waits: Option<Waits>,
}

/// Where the agent is.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Phase {
    /// The next poll begins a step.
    Step,
    /// The next poll makes the next attempt of the current call.
    Attempt,
    /// An attempt is out, waiting for its reply.
    InFlight {
        start: Micros,
        deadline: Micros,
        issued: bool,
    },
    /// Waiting out a backoff before the next attempt.
    Backoff { until: Micros },
    /// Paused at the approval gate (the call waiting is in `State::held`).
    Approval { since: Micros },
    /// Finished.
    Done,
}

enum Halt {
    Killed,
    Cap(CapHit),
    Escalate {
        error: CallError,
        times: u32,
        target: Target,
    },
    Degraded(Option<CallError>),
}

/// An agent run in progress: a value that serialises (a checkpoint).
///
/// Its state lives behind one box: drivers move agents around (builders, runs that follow
/// one another), and a pointer moves for free where a kilobyte of state would not.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Agent {
    state: Box<State>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct State {
    cfg: AgentConfig,
    task: Task,
    ladder: Ladder,
    seed: u64,
    started: Micros,
    now: Micros,
    calls_started: u64,
    limiter: StepLimiter,
    counters: Counters,
    breaker: Option<CircuitBreaker>,
    kill: KillSwitch,
    /// The whole conversation, when a driver asked for it.
    turns: Option<Vec<Turn>>,
    last_turn: Option<Turn>,
    blocked: Vec<String>,
    repeats: RepeatTracker,
    done: Vec<String>,
    revisions: u32,
    last_error: Option<Box<CallError>>,
    answered_by: usize,
    /// A tool call held back: the one waiting at the approval gate, or, while a narrowed
    /// write's sample runs, the rest of it.
    held: Option<ToolCall>,
    phase: Phase,
    call: Option<Call>,
    outcome: Option<Outcome>,
    trace: Option<Vec<Event>>,
}

impl Agent {
    /// An agent with `cfg` working on `task` over the fallback ladder `models` (the primary
    /// first), seeded with `seed` (its backoff jitter). Records a trace when `record`.
    pub fn new(
        cfg: AgentConfig,
        task: Task,
        models: Vec<Rung>,
        seed: u64,
        record: bool,
    ) -> Result<Agent, ConfigError> {
        State::new(cfg, task, models, seed, record).map(|state| Agent {
            state: Box::new(state),
        })
    }

    /// Starts the run at virtual time `at` (for runs that follow one another).
    pub fn starting_at(mut self, at: Micros) -> Self {
        self.state.started = at;
        self.state.now = at;
        self
    }

    /// Uses `breaker`, carrying its state over from earlier runs.
    pub fn with_breaker(mut self, breaker: CircuitBreaker) -> Self {
        self.state.breaker = Some(breaker);
        self
    }

    /// Keeps the whole conversation, for a driver that sends it to a real model. (Otherwise
    /// the agent keeps only the last turn: all a simulated model reads.)
    pub fn keeping_conversation(mut self) -> Self {
        if self.state.turns.is_none() {
            self.state.turns = Some(self.state.last_turn.take().into_iter().collect());
        }
        self
    }

    /// Uses `kill` as the kill switch (one set for a later time stops the run then).
    pub fn with_kill_switch(mut self, kill: KillSwitch) -> Self {
        self.state.kill = kill;
        self
    }

    /// The virtual time now: the time of the last input.
    pub fn now(&self) -> Micros {
        self.state.now
    }

    /// The configuration.
    pub fn config(&self) -> &AgentConfig {
        &self.state.cfg
    }

    /// The task.
    pub fn task(&self) -> &Task {
        &self.state.task
    }

    /// The conversation so far, after the task: all of it with
    /// [`Agent::keeping_conversation`], else only its last turn.
    pub fn turns(&self) -> &[Turn] {
        self.state.conversation()
    }

    /// The breaker, with its current state.
    pub fn breaker(&self) -> Option<&CircuitBreaker> {
        self.state.breaker.as_ref()
    }

    /// The events recorded so far.
    pub fn events(&self) -> &[Event] {
        self.state.trace.as_deref().unwrap_or_default()
    }

    /// Where the run is.
    pub fn status(&self) -> Status {
        self.state.status()
    }

    /// What the agent wants next. A call is returned once; until its reply comes, polling
    /// again returns [`Action::Wait`] for its deadline.
    pub fn poll(&mut self) -> Action<'_> {
        self.state.poll()
    }

    /// A model call's reply (or error) arrived at `now`. A reply after the call's deadline
    /// counts as a timeout at the deadline. Ignored unless a model call is in flight.
    pub fn handle_model_reply(&mut self, now: Micros, result: Result<ModelReply, CallError>) {
        self.state.handle_model_reply(now, result)
    }

    /// A tool call's reply (or error) arrived at `now`. Ignored unless a tool call is in
    /// flight.
    pub fn handle_tool_reply(&mut self, now: Micros, result: Result<ToolReply, CallError>) {
        self.state.handle_tool_reply(now, result)
    }

    /// The world reports that the tool call in flight committed a side effect at `at`
    /// (`duplicate` when it repeats an earlier one): before its reply, or instead of it when
    /// the reply is lost.
    pub fn handle_side_effect(&mut self, at: Micros, duplicate: bool) {
        self.state.handle_side_effect(at, duplicate)
    }

    /// Virtual time has reached `now` with no other input: a call in flight times out at its
    /// deadline, a backoff wait ends, an approval deadline denies and escalates, a kill switch
    /// set for this time stops the run.
    pub fn handle_timeout(&mut self, now: Micros) {
        self.state.handle_timeout(now)
    }

    /// A human's decision on the call waiting at the gate, at `now`. Ignored unless paused.
    pub fn handle_decision(&mut self, now: Micros, decision: Decision) {
        self.state.handle_decision(now, decision)
    }

    /// Turns the kill switch on at `now`. Between steps, during a backoff wait and at the
    /// approval gate the run stops at once; a call in flight still finishes, and the run stops
    /// before anything else begins.
    pub fn engage_kill_switch(&mut self, now: Micros) {
        self.state.engage_kill_switch(now)
    }

    /// Hands back the call [`Agent::poll`] just returned, unperformed: the next poll returns it
    /// again. (A driver that stops before performing it, or a restored checkpoint whose call
    /// was in flight, uses this.)
    pub fn unpoll(&mut self) {
        if let Phase::InFlight { issued, .. } = &mut self.state.phase {
            *issued = false;
        }
    }

    /// The run so far: finished, or a snapshot of a paused or unfinished one.
    pub fn into_run(self) -> Run {
        self.into_parts().0
    }

    /// The run, plus the breaker (to carry into the next run).
    pub fn into_parts(self) -> (Run, Option<CircuitBreaker>) {
        let mut state = self.state;
        state.take_parts()
    }
}

impl State {
    /// An agent with `cfg` working on `task` over the fallback ladder `models` (names, the
    /// primary first), seeded with `seed` (its backoff jitter). Records a trace when `record`.
    fn new(
        cfg: AgentConfig,
        task: Task,
        models: Vec<Rung>,
        seed: u64,
        record: bool,
    ) -> Result<State, ConfigError> {
        let cfg = cfg.validate()?;
        let ladder = Ladder::new(models)?;
        Ok(State {
            limiter: StepLimiter::new(cfg.caps.max_steps),
            breaker: cfg.breaker.map(CircuitBreaker::new),
            cfg,
            task,
            ladder,
            seed,
            started: 0,
            now: 0,
            calls_started: 0,
            counters: Counters::default(),
            kill: KillSwitch::OFF,
            turns: None,
            last_turn: None,
            blocked: Vec::new(),
            repeats: RepeatTracker::default(),
            done: Vec::new(),
            revisions: 0,
            last_error: None,
            answered_by: 0,
            held: None,
            phase: Phase::Step,
            call: None,
            outcome: None,
            trace: record.then(|| Vec::with_capacity(32)),
        })
    }

    /// Where the run is.
    fn status(&self) -> Status {
        match self.phase {
            Phase::Done => Status::Finished,
            Phase::Approval { .. } => Status::AwaitingApproval,
            _ => Status::Running,
        }
    }

    /// What the agent wants next. A call is returned once; until its reply comes, polling
    /// again returns [`Action::Wait`] for its deadline.
    fn poll(&mut self) -> Action<'_> {
        self.advance();
        let fresh = match &mut self.phase {
            Phase::InFlight { issued, .. } => !std::mem::replace(issued, true),
            _ => false,
        };
        match &self.phase {
            Phase::Done => Action::Done,
            Phase::InFlight {
                start, deadline, ..
            } => match (&self.call, fresh) {
                (Some(call), true) => match &call.callee {
                    Callee::Model { rung } => Action::CallModel(ModelCall {
                        rung: *rung,
                        model: self.ladder.name(*rung),
                        step: self.limiter.steps(),
                        attempt: call.attempt,
                        start: *start,
                        deadline: *deadline,
                        task: &self.task,
                        turns: self.conversation(),
                    }),
                    Callee::Tool {
                        call: tool, key, ..
                    } => Action::RunTool(ToolRun {
                        call: tool,
                        key: *key,
                        attempt: call.attempt,
                        start: *start,
                        deadline: *deadline,
                    }),
                },
                _ => Action::Wait { until: *deadline },
            },
            Phase::Backoff { until } => Action::Wait {
                until: self.kill_bound(*until),
            },
            Phase::Approval { since } => {
                let Some(call) = &self.held else {
                    return Action::Wait { until: self.now };
                };
                let deadline = self.cfg.approval.deadline.map(|d| since.saturating_add(d));
                let kill = self.kill.engaged_at.filter(|k| *k > self.now);
                let deadline = match (deadline, kill) {
                    (Some(d), Some(k)) => Some(d.min(k)),
                    (d, k) => d.or(k),
                };
                Action::AskHuman { call, deadline }
            }
            // `advance` leaves only the phases above.
            Phase::Step | Phase::Attempt => Action::Wait { until: self.now },
        }
    }

    /// A model call's reply (or error) arrived at `now`. A reply after the call's deadline
    /// counts as a timeout at the deadline. Ignored unless a model call is in flight.
    fn handle_model_reply(&mut self, now: Micros, result: Result<ModelReply, CallError>) {
        let Some(deadline) = self.in_flight(|c| matches!(c, Callee::Model { .. })) else {
            return;
        };
        if now > deadline {
            return self.handle_timeout(deadline);
        }
        let replied = match &result {
            Ok(r) => {
                self.counters.tokens += r.tokens.input + r.tokens.output;
                self.counters.cost += r.cost;
                self.trace.is_some().then_some((r.tokens, r.cost))
            }
            Err(_) => None,
        };
        let result = result.map(|r| r.reply);
        self.finish_attempt_with(now, result.map(Payload::Model), replied);
    }

    /// A tool call's reply (or error) arrived at `now`. Ignored unless a tool call is in
    /// flight.
    fn handle_tool_reply(&mut self, now: Micros, result: Result<ToolReply, CallError>) {
        let Some(deadline) = self.in_flight(|c| matches!(c, Callee::Tool { .. })) else {
            return;
        };
        if now > deadline {
            return self.handle_timeout(deadline);
        }
        self.finish_attempt(now, result.map(Payload::Tool));
    }

    /// The world reports that the tool call in flight committed a side effect at `at`
    /// (`duplicate` when it repeats an earlier one): before its reply, or instead of it when
    /// the reply is lost.
    fn handle_side_effect(&mut self, at: Micros, duplicate: bool) {
        let Some(Call {
            callee: Callee::Tool { call, key },
            ..
        }) = &self.call
        else {
            return;
        };
        self.counters.side_effects += 1;
        if duplicate {
            self.counters.duplicates += 1;
        }
        if self.trace.is_some() {
            let (call, key) = (call.clone(), *key);
            self.emit(at, 0, || EventKind::SideEffect {
                call,
                key,
                duplicate,
            });
        }
    }

    /// Virtual time has reached `now` with no other input: a call in flight times out at its
    /// deadline, a backoff wait ends, an approval deadline denies and escalates, a kill switch
    /// set for this time stops the run.
    fn handle_timeout(&mut self, now: Micros) {
        let now = now.max(self.now);
        match self.phase {
            Phase::InFlight { deadline, .. } => {
                if now >= deadline {
                    let timeout = self.cfg.deadline.timeout;
                    self.finish_attempt(deadline, Err(CallError::timed_out(timeout)));
                }
            }
            Phase::Backoff { until } => {
                if let Some(k) = self.kill.engaged_at.filter(|k| *k < until && *k <= now) {
                    self.now = k.max(self.now);
                    self.halt(Halt::Killed);
                } else if now >= until {
                    self.now = until;
                    self.phase = Phase::Attempt;
                }
            }
            Phase::Approval { since } => {
                let Some(call) = &self.held else {
                    return;
                };
                let deadline = self
                    .cfg
                    .approval
                    .deadline
                    .map(|d| (d, since.saturating_add(d)));
                if let Some((d, at)) = deadline.filter(|(_, at)| now >= *at) {
                    if self.kill.engaged_at.is_some_and(|k| k <= at) {
                        self.now = self.kill.engaged_at.unwrap_or(at).max(self.now);
                        return self.halt(Halt::Killed);
                    }
                    let tool = call.kind().name();
                    self.held = None;
                    self.now = at.max(self.now);
                    self.blocked.push(tool.to_string());
                    self.emit(self.now, 0, || EventKind::Gate {
                        tool: tool.into(),
                        gate: GateEvent::TimedOut,
                    });
                    let error = CallError {
                        detail: Some(format!("nobody approved {tool} within {}", Secs(d))),
                        ..CallError::new(ErrorKind::ApprovalTimeout)
                    };
                    self.halt(Halt::Escalate {
                        error,
                        times: 1,
                        target: Target::Tool(tool.into()),
                    });
                } else if let Some(k) = self.kill.engaged_at.filter(|k| *k <= now) {
                    self.now = k.max(self.now);
                    self.halt(Halt::Killed);
                } else {
                    self.now = now;
                }
            }
            Phase::Step | Phase::Attempt => self.now = now,
            Phase::Done => {}
        }
    }

    /// A human's decision on the call waiting at the gate, at `now`. Ignored unless paused.
    fn handle_decision(&mut self, now: Micros, decision: Decision) {
        if !matches!(self.phase, Phase::Approval { .. }) {
            return;
        }
        let Some(call) = self.held.take() else {
            return;
        };
        self.phase = Phase::Step;
        self.now = now.max(self.now);
        let tool = call.kind().name();
        self.emit(self.now, 0, || EventKind::Gate {
            tool: tool.into(),
            gate: GateEvent::Decided(decision),
        });
        match decision {
            Decision::Approve => self.start_tool(call),
            Decision::Deny => self.block(&call),
        }
    }

    /// Turns the kill switch on at `now`. Between steps, during a backoff wait and at the
    /// approval gate the run stops at once; a call in flight still finishes, and the run stops
    /// before anything else begins.
    fn engage_kill_switch(&mut self, now: Micros) {
        let at = now.max(self.now);
        if !self.kill.is_on(at) {
            self.kill = KillSwitch::at(at);
        }
        match self.phase {
            Phase::Step | Phase::Attempt | Phase::Backoff { .. } | Phase::Approval { .. } => {
                self.now = at;
                self.halt(Halt::Killed);
            }
            Phase::InFlight { .. } | Phase::Done => {}
        }
    }

    /// The run, plus the breaker (to carry into the next run).
    /// The run so far, taken out of the state in place (the state is dropped next).
    fn take_parts(&mut self) -> (Run, Option<CircuitBreaker>) {
        let awaiting = match &self.phase {
            Phase::Approval { .. } => self.held.take(),
            _ => None,
        };
        let outcome = match self.outcome.take() {
            Some(o) => o,
            None => {
                let blocked = self.blocked.clone();
                let answer = match &awaiting {
                    Some(c) => format!(
                        "Paused: {} is waiting for a human decision.",
                        c.kind().name()
                    ),
                    None => "Running.".to_string(),
                };
                self.outcome_with(answer, Stop::AwaitingApproval, false, blocked)
            }
        };
        let run = Run {
            outcome,
            trace: self.trace.take().unwrap_or_default(),
            effects: Vec::new(),
            awaiting,
            requests: Vec::new(),
        };
        (run, self.breaker.take())
    }

    // -----------------------------------------------------------------------------------------
    // The state machine
    // -----------------------------------------------------------------------------------------

    /// Takes every step that needs nothing from outside.
    fn advance(&mut self) {
        loop {
            match self.phase {
                Phase::Step => self.begin_step(),
                Phase::Attempt => self.begin_attempt(),
                _ => return,
            }
        }
    }

    /// The deadline of the call in flight, if `is` accepts its callee.
    fn in_flight(&self, is: impl Fn(&Callee) -> bool) -> Option<Micros> {
        match (&self.phase, &self.call) {
            (Phase::InFlight { deadline, .. }, Some(call)) if is(&call.callee) => Some(*deadline),
            _ => None,
        }
    }

    /// `until`, or earlier if the kill switch is set to go on before it.
    fn kill_bound(&self, until: Micros) -> Micros {
        match self.kill.engaged_at {
            Some(k) if k < until => k.max(self.now),
            _ => until,
        }
    }

    fn begin_step(&mut self) {
        if self.kill.is_on(self.now) {
            return self.halt(Halt::Killed);
        }
        if let Err(hit) = self.limiter.tick() {
            return self.halt(Halt::Cap(hit));
        }
        self.emit(self.now, 0, || EventKind::Step);
        if let Some(hit) = self.budget_hit() {
            return self.halt(Halt::Cap(hit));
        }
        self.start_call(Callee::Model { rung: 0 });
    }

    fn start_call(&mut self, callee: Callee) {
        self.call = Some(Call {
            callee,
            attempt: 0,
            index: self.calls_started,
            waits: None,
        });
        self.calls_started += 1;
        self.phase = Phase::Attempt;
    }

    fn begin_attempt(&mut self) {
        let Some(call) = &mut self.call else {
            self.phase = Phase::Step;
            return;
        };
        call.attempt += 1;
        let is_model = matches!(call.callee, Callee::Model { .. });
        if self.kill.is_on(self.now) {
            return self.halt(Halt::Killed);
        }
        if let Some(hit) = self.budget_hit() {
            return self.halt(Halt::Cap(hit));
        }
        if is_model {
            if let Some(b) = &mut self.breaker {
                match b.allow(self.now) {
                    Ok(t) => self.emit_transition(t),
                    Err(refused) => {
                        self.counters.fast_fails += 1;
                        let retry_at = refused.retry_at;
                        let target = self.target();
                        self.emit(self.now, 0, || EventKind::FastFail { target, retry_at });
                        return self.exhausted();
                    }
                }
            }
            self.counters.model_calls += 1;
        } else {
            self.counters.tool_calls += 1;
        }
        self.phase = Phase::InFlight {
            start: self.now,
            deadline: self.now.saturating_add(self.cfg.deadline.timeout),
            issued: false,
        };
    }

    /// What the current call is made to.
    fn target(&self) -> Target {
        match self.call.as_ref().map(|c| &c.callee) {
            Some(Callee::Model { rung }) => Target::Model(self.ladder.name_cow(*rung)),
            Some(Callee::Tool { call, .. }) => Target::Tool(Cow::Borrowed(call.kind().name())),
            None => Target::Model(self.ladder.name_cow(0)),
        }
    }

    fn finish_attempt(&mut self, now: Micros, result: Result<Payload, CallError>) {
        self.finish_attempt_with(now, result, None)
    }

    /// Ends the attempt in flight at `now`. `replied` holds a model reply's tokens and cost
    /// when the trace records the reply itself.
    fn finish_attempt_with(
        &mut self,
        now: Micros,
        result: Result<Payload, CallError>,
        replied: Option<(TokenUsage, MicroUsd)>,
    ) {
        let Phase::InFlight { start, .. } = self.phase else {
            return;
        };
        let Some(call) = &self.call else {
            return;
        };
        let attempt = call.attempt;
        let is_model = matches!(call.callee, Callee::Model { .. });
        self.now = now.max(start);
        if self.trace.is_some() {
            let target = self.target();
            let error = result.as_ref().err().cloned();
            self.emit(start, self.now - start, || EventKind::Attempt {
                target,
                attempt,
                error,
            });
            if let (Some((tokens, cost)), Ok(Payload::Model(reply))) = (replied, &result) {
                let reply = reply.clone();
                self.emit(self.now, 0, || EventKind::Replied {
                    reply,
                    tokens,
                    cost,
                });
            }
        }
        let error = match result {
            Ok(payload) => {
                if is_model {
                    let t = self.breaker.as_mut().and_then(|b| b.on_success());
                    self.emit_transition(t);
                }
                if self.cfg.escalation.is_some() {
                    let target = self.target();
                    self.repeats.cleared(&target);
                }
                let callee = self.call.take().map(|c| c.callee);
                return match (payload, callee) {
                    (Payload::Model(reply), Some(Callee::Model { rung })) => {
                        self.answered_by = rung;
                        self.on_reply(reply)
                    }
                    (Payload::Tool(reply), Some(Callee::Tool { call, .. })) => {
                        self.on_tool_output(call, reply)
                    }
                    _ => self.phase = Phase::Step,
                };
            }
            Err(e) => e,
        };
        if error.kind == ErrorKind::Timeout {
            self.counters.timeouts += 1;
        }
        if is_model && error.kind.blames_the_service() {
            let now = self.now;
            let t = self.breaker.as_mut().and_then(|b| b.on_failure(now));
            self.emit_transition(t);
        }
        if let Some(policy) = self.cfg.escalation {
            let target = self.target();
            let times = self.repeats.record(error.kind, &target);
            if times >= policy.after {
                return self.halt(Halt::Escalate {
                    error,
                    times,
                    target,
                });
            }
        }
        if !error.is_transient() {
            let target = self.target();
            self.emit(self.now, 0, || EventKind::GaveUp {
                target,
                reason: GiveUp::NotTransient,
            });
            self.last_error = Some(Box::new(error));
            return self.exhausted();
        }
        let (retry, seed) = (&self.cfg.retry, self.seed);
        let next = self.call.as_mut().and_then(|c| {
            let waits = c
                .waits
                .get_or_insert_with(|| retry.waits(seed ^ c.index.wrapping_mul(0x9E37_79B9)));
            retry.next_wait(waits)
        });
        let Some(delay) = next else {
            let target = self.target();
            self.emit(self.now, 0, || EventKind::GaveUp {
                target,
                reason: GiveUp::AttemptsExhausted,
            });
            self.last_error = Some(Box::new(error));
            return self.exhausted();
        };
        // A server's Retry-After may ask for longer than the backoff, never for longer than
        // the policy's longest wait.
        let hinted = error
            .retry_after
            .map(|ra| ra.min(self.cfg.retry.max_delay))
            .filter(|&ra| ra > delay);
        let delay = hinted.unwrap_or(delay);
        // A wait that would pass the wall-time budget ends at it, and the budget stops the run
        // there (the next attempt's check).
        let wall_end = self.started.saturating_add(self.cfg.caps.max_wall);
        let until = self.now.saturating_add(delay).min(wall_end.max(self.now));
        self.emit(self.now, until - self.now, || EventKind::Backoff {
            retry: attempt,
            retry_after: hinted,
        });
        self.counters.retries += 1;
        self.phase = Phase::Backoff { until };
    }

    /// The current call failed for good: the next rung of the ladder, or the safe message.
    fn exhausted(&mut self) {
        let next = match self.call.take().map(|c| c.callee) {
            Some(Callee::Model { rung }) if rung + 1 < self.ladder.len() => Some(rung + 1),
            _ => None,
        };
        match next {
            Some(rung) => {
                self.counters.fallbacks += 1;
                let from = self.ladder.name_cow(rung - 1);
                let to = self.ladder.name_cow(rung);
                self.emit(self.now, 0, || EventKind::Fallback { from, to });
                self.start_call(Callee::Model { rung });
            }
            None => {
                self.emit(self.now, 0, || EventKind::Degraded);
                let error = self.last_error.take().map(|e| *e);
                self.halt(Halt::Degraded(error));
            }
        }
    }

    fn on_reply(&mut self, reply: Reply) {
        match reply {
            Reply::Answer { text } => self.critique(text),
            Reply::Tool { ref call, .. } => match tools::validate(call) {
                Err(error) => {
                    let answer = format!("Stopped: {error}");
                    self.emit(self.now, 0, || EventKind::ArgsRejected { error });
                    self.finish(answer, Stop::InvalidArgs, true);
                }
                Ok(call) => {
                    if self.trace.is_some() {
                        let shown = call.clone();
                        self.emit(self.now, 0, || EventKind::ToolRequested { call: shown });
                    }
                    self.push_turn(Turn::Model(reply));
                    self.gate(call);
                }
            },
        }
    }

    fn critique(&mut self, answer: String) {
        let degraded = self.ladder.degraded(self.answered_by);
        let Some(critic) = self.cfg.critic else {
            return self.finish(answer, Stop::Answered, degraded);
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
            self.push_turn(Turn::Model(Reply::Answer { text: answer }));
            self.push_turn(Turn::Feedback { score });
            self.phase = Phase::Step;
            return;
        }
        self.finish(answer, Stop::Answered, degraded)
    }

    fn gate(&mut self, call: ToolCall) {
        let kind = call.kind();
        let gate = self.cfg.approval.gate(kind.risk());
        // Under deny-all nothing risky is written, not even the scope's sample.
        let scope = self.cfg.scope.filter(|_| gate != Gate::Block);
        if let Some((sample, rest)) = scope.and_then(|s| s.split(&call)) {
            if self.trace.is_some() {
                let (shown_sample, shown_rest) = (sample.clone(), rest.clone());
                self.emit(self.now, 0, || EventKind::ScopeNarrowed {
                    sample: shown_sample,
                    rest: shown_rest,
                });
            }
            self.held = Some(rest);
            return self.start_tool(sample);
        }
        match gate {
            Gate::Run => {
                if kind.risk() == Risk::Risky {
                    self.emit(self.now, 0, || EventKind::Gate {
                        tool: kind.name().into(),
                        gate: GateEvent::ApprovedByPolicy,
                    });
                }
                self.start_tool(call)
            }
            Gate::Block => {
                self.emit(self.now, 0, || EventKind::Gate {
                    tool: kind.name().into(),
                    gate: GateEvent::DeniedByDefault,
                });
                self.block(&call)
            }
            Gate::Wait => self.wait_for_human(call),
        }
    }

    fn wait_for_human(&mut self, call: ToolCall) {
        self.emit(self.now, 0, || EventKind::Gate {
            tool: call.kind().name().into(),
            gate: GateEvent::Waiting,
        });
        self.held = Some(call);
        self.phase = Phase::Approval { since: self.now };
    }

    fn start_tool(&mut self, call: ToolCall) {
        let key =
            (self.cfg.idempotency && call.kind().has_side_effect()).then(|| call.key(self.seed));
        self.start_call(Callee::Tool { call, key });
    }

    fn block(&mut self, call: &ToolCall) {
        self.blocked.push(call.kind().name().to_string());
        self.push_turn(Turn::Blocked);
        self.note_done(|| format!("{call}: blocked by the approval gate"));
        self.phase = Phase::Step;
    }

    fn on_tool_output(&mut self, call: ToolCall, reply: ToolReply) {
        let ToolReply {
            output,
            deduplicated,
        } = reply;
        self.note_done(|| format!("{call} -> {output}"));
        if self.trace.is_some() {
            let shown = output.clone();
            self.emit(self.now, 0, || EventKind::ToolResult {
                output: shown,
                deduplicated,
            });
        }
        self.push_turn(Turn::Output(output));
        match self.held.take() {
            // The rest of a narrowed write: an approver who says yes to everything runs it,
            // anyone else is asked after looking at the sample.
            Some(rest) if self.cfg.approval.gate(rest.kind().risk()) == Gate::Run => {
                self.start_tool(rest)
            }
            Some(rest) => self.wait_for_human(rest),
            None => self.phase = Phase::Step,
        }
    }

    fn push_turn(&mut self, turn: Turn) {
        match &mut self.turns {
            Some(turns) => turns.push(turn),
            None => self.last_turn = Some(turn),
        }
    }

    fn conversation(&self) -> &[Turn] {
        match &self.turns {
            Some(turns) => turns,
            None => self.last_turn.as_slice(),
        }
    }

    /// Records a step for the handoff packet, which only an escalation can need: runs that
    /// cannot escalate skip the formatting.
    fn note_done(&mut self, line: impl FnOnce() -> String) {
        if self.cfg.escalation.is_some() || self.cfg.approval.deadline.is_some() {
            self.done.push(line());
        }
    }

    fn budget_hit(&self) -> Option<CapHit> {
        self.cfg.caps.check(&Usage {
            tokens: self.counters.tokens,
            cost: self.counters.cost,
            elapsed: self.now - self.started,
        })
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

    fn halt(&mut self, halt: Halt) {
        self.call = None;
        match halt {
            Halt::Killed => {
                let switched = self.kill.engaged_at.unwrap_or(self.now).min(self.now);
                self.emit(self.now, 0, || EventKind::Killed { switched });
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
                let ticket = ticket_id(self.seed, self.limiter.steps(), self.now);
                let packet = HandoffPacket {
                    ticket: ticket.clone(),
                    user_input: self.task.input.to_string(),
                    plan: self.task.plan.iter().map(|s| s.to_string()).collect(),
                    steps_executed: self.done.clone(),
                    failing_step: format!("step {}: {target}", self.limiter.steps()),
                    error: error.to_string(),
                    suggested_next_step: suggestion(&error).to_string(),
                };
                let answer = if error.kind == ErrorKind::ApprovalTimeout {
                    format!("Escalated to a human (ticket {ticket}): {error}.")
                } else {
                    format!(
                        "Escalated to a human (ticket {ticket}): {error} from {target}, {}.",
                        times_text(times)
                    )
                };
                self.emit(self.now, 0, || EventKind::Escalated {
                    error,
                    times,
                    target,
                    ticket,
                });
                self.finish(answer, Stop::Escalated, true);
                if let Some(o) = &mut self.outcome {
                    o.handoff = Some(Box::new(packet));
                }
            }
            Halt::Degraded(error) => self.finish(
                safe_message(error.as_ref()).into_owned(),
                Stop::Degraded,
                true,
            ),
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

    fn finish(&mut self, answer: String, stop: Stop, degraded: bool) {
        if self.trace.is_some() {
            let shown = answer.clone();
            self.emit(self.now, 0, || EventKind::Finished { answer: shown });
        }
        let blocked = std::mem::take(&mut self.blocked);
        self.outcome = Some(self.outcome_with(answer, stop, degraded, blocked));
        self.phase = Phase::Done;
    }
}

/// What a successful attempt returned.
enum Payload {
    Model(Reply),
    Tool(ToolReply),
}

/// "once", "2 times", ...
fn times_text(times: u32) -> String {
    match times {
        1 => "once".to_string(),
        n => format!("{n} times"),
    }
}
