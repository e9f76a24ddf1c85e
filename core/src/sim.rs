//! Driver 1: the simulator.
//!
//! The engine ([`crate::agent`]) only decides; this driver performs its actions in a pretend
//! world, instantly and in virtual time. Model calls go to simulated models
//! ([`crate::model`]: flaky, looping, down, slow, risky, ...), tool calls to the pretend
//! [`World`] (whose risky tools only write a line in a ledger), and waits simply move the
//! virtual clock. Nobody answers the approval gate: a run that asks a human pauses there
//! ([`Status::AwaitingApproval`]) until the caller decides.
//!
//! Randomness is seeded and split into streams (see [`crate::rng`]): the fault schedule, the
//! latencies and the backoff jitter never share one, so changing one knob never moves another's
//! draws.

use crate::agent::{
    Action, Agent, AgentConfig, Driver, ModelReply, Run, Status, Task, TokenUsage, ToolReply,
};
use crate::approval::Decision;
use crate::caps::MicroUsd;
use crate::fallback::{Ladder, Rung};
use crate::model::ModelSpec;
use crate::rng::{streams, Rng};
use crate::time::{Micros, MS};
use crate::tools::{Effect, Executed, ToolFaults, World};
use crate::ConfigError;
use serde::{Deserialize, Serialize};

/// The pretend world a run happens in: the models of the fallback ladder (primary first) and
/// how the tools behave.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SimWorld {
    /// The ladder's models, the primary first.
    pub models: Vec<ModelSpec>,
    /// How tools misbehave.
    pub tool_faults: ToolFaults,
    /// How long a tool call takes.
    pub tool_latency: Micros,
}

impl SimWorld {
    /// A world with these models and well-behaved tools that take 10 ms.
    pub fn new(models: Vec<ModelSpec>) -> Self {
        SimWorld {
            models,
            tool_faults: ToolFaults::default(),
            tool_latency: 10 * MS,
        }
    }

    /// The ladder, for [`Agent::new`].
    pub fn ladder(&self) -> Vec<Rung> {
        self.models
            .iter()
            .map(|m| Rung {
                name: m.name.clone(),
                degraded: m.degraded,
            })
            .collect()
    }

    /// The task the primary model works on.
    pub fn task(&self) -> Task {
        self.models
            .first()
            .map(|m| m.behaviour.task())
            .unwrap_or(Task::MULTIPLY)
    }

    /// Checks every model.
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.models.iter().try_for_each(ModelSpec::validate)
    }

    /// An agent with `cfg` for this world, after checking both.
    pub fn agent(&self, cfg: AgentConfig, seed: u64, record: bool) -> Result<Agent, ConfigError> {
        self.validate()?;
        Agent::new(cfg, self.task(), self.ladder(), seed, record)
    }
}

/// What a simulated call to a model costs: $3 per million prompt tokens and $15 per million
/// completion tokens, in micro-dollars per token.
pub const PRICE_PER_TOKEN: (MicroUsd, MicroUsd) = (3, 15);

/// The tokens of a simulated model call at `step`: a growing context, as each step re-sends
/// the conversation so far.
pub const fn tokens_at(step: u32) -> TokenUsage {
    TokenUsage {
        input: 300 + 150 * step as u64,
        output: 50,
    }
}

/// The simulator's state: how many calls each model has had, the pretend world's ledger and
/// the random streams. It borrows the world's description: nothing is copied per run.
#[derive(Clone, Debug, PartialEq)]
pub struct Sim<'w> {
    spec: &'w SimWorld,
    calls: [u32; Ladder::MAX_RUNGS],
    world: World,
    faults: Rng,
    latency: Rng,
    human: Option<Decision>,
}

impl<'w> Sim<'w> {
    /// A simulator of `world`, seeded with `seed`.
    pub fn new(world: &'w SimWorld, seed: u64) -> Sim<'w> {
        Sim {
            spec: world,
            calls: [0; Ladder::MAX_RUNGS],
            world: World::default(),
            faults: Rng::stream(seed, streams::FAULTS),
            latency: Rng::stream(seed, streams::LATENCY),
            human: None,
        }
    }

    /// Performs what `agent` wants until it finishes or waits for a human who has not
    /// answered. (A gate with a deadline is waited out: nobody answers in a simulation.)
    pub fn drive(&mut self, agent: &mut Agent) -> Status {
        loop {
            if let Some(status) = self.step(agent) {
                return status;
            }
        }
    }

    /// Performs one action of `agent`. `Some` when the run is finished or paused for a human.
    pub fn step(&mut self, agent: &mut Agent) -> Option<Status> {
        match agent.poll() {
            Action::Done => return Some(Status::Finished),
            Action::AskHuman { deadline, .. } => match (self.human.take(), deadline) {
                (Some(d), _) => {
                    let now = agent.now();
                    agent.handle_decision(now, d)
                }
                (None, Some(at)) => agent.handle_timeout(at),
                (None, None) => return Some(Status::AwaitingApproval),
            },
            Action::Wait { until } => agent.handle_timeout(until),
            Action::CallModel(call) => {
                let (start, deadline, step) = (call.start, call.deadline, call.step);
                let (Some(model), Some(n)) = (
                    self.spec.models.get(call.rung),
                    self.calls.get_mut(call.rung),
                ) else {
                    agent.handle_timeout(deadline);
                    return None;
                };
                *n += 1;
                let (latency, result) = model.respond(
                    *n,
                    call.last_turn(),
                    start,
                    &mut self.faults,
                    &mut self.latency,
                );
                let end = start.saturating_add(latency);
                if end > deadline {
                    agent.handle_timeout(deadline);
                } else {
                    let tokens = tokens_at(step);
                    let cost = tokens.input * PRICE_PER_TOKEN.0 + tokens.output * PRICE_PER_TOKEN.1;
                    let reply = result.map(|reply| ModelReply {
                        reply,
                        tokens,
                        cost,
                    });
                    agent.handle_model_reply(end, reply);
                }
            }
            Action::RunTool(run) => {
                let (start, deadline) = (run.start, run.deadline);
                let before = self.world.effects.len();
                let executed = self
                    .world
                    .execute(run.call, run.key, start, self.spec.tool_faults);
                let effect = (self.world.effects.len() > before).then(|| {
                    self.world.effects[..before]
                        .iter()
                        .any(|e| e.call == *run.call)
                });
                if let Some(duplicate) = effect {
                    agent.handle_side_effect(start, duplicate);
                }
                let end = start.saturating_add(self.spec.tool_latency);
                let reply = |output, deduplicated| ToolReply {
                    output,
                    deduplicated,
                };
                match executed {
                    Executed::Lost => agent.handle_timeout(deadline),
                    _ if end > deadline => agent.handle_timeout(deadline),
                    Executed::Ran(out) => agent.handle_tool_reply(end, Ok(reply(out, false))),
                    Executed::Deduplicated(out) => {
                        agent.handle_tool_reply(end, Ok(reply(out, true)))
                    }
                }
            }
        }
        None
    }

    /// The side effects committed so far.
    pub fn effects(&self) -> &[Effect] {
        &self.world.effects
    }

    /// Answers the approval gate: the simulator has no human, so a card's set-up gives it
    /// the answer a person gave (the page's buttons).
    pub fn answer(&mut self, decision: Option<Decision>) {
        self.human = decision;
    }

    /// The run of `agent`, with this world's side effects.
    pub fn finish(self, agent: Agent) -> Run {
        let mut run = agent.into_run();
        run.effects = self.world.effects;
        run
    }
}

impl Driver for Sim<'_> {
    fn drive(&mut self, agent: &mut Agent) -> Status {
        Sim::drive(self, agent)
    }

    fn take_effects(&mut self) -> Vec<Effect> {
        std::mem::take(&mut self.world.effects)
    }
}

/// Runs an agent with `cfg` in `world` to its end (or its pause at the approval gate).
pub fn run(
    cfg: AgentConfig,
    world: &SimWorld,
    seed: u64,
    record: bool,
) -> Result<Run, ConfigError> {
    let mut agent = world.agent(cfg, seed, record)?;
    let mut sim = Sim::new(world, seed);
    sim.drive(&mut agent);
    Ok(sim.finish(agent))
}
