//! Property tests over random settings and fault schedules (10,000 cases each).
//! Native only: proptest's shrinking and failure persistence need a file system.
#![cfg(not(target_arch = "wasm32"))]

use proptest::prelude::*;
use reliability_core::agent::{AgentConfig, Run, Status};
use reliability_core::approval::{ApprovalPolicy, Approver, Decision};
use reliability_core::caps::Caps;
use reliability_core::deadline::Deadline;
use reliability_core::error::CallError;
use reliability_core::evaluator::CriticPolicy;
use reliability_core::killswitch::KillSwitch;
use reliability_core::lab::{run_card, CardId, Choice, Injected, Settings};
use reliability_core::model::{Behaviour, Faults, Latency, ModelSpec};
use reliability_core::retry::{Jitter, RetryPolicy};
use reliability_core::scope::ScopePolicy;
use reliability_core::sim::{Sim, SimWorld};
use reliability_core::time::{Micros, MS, SEC};
use reliability_core::tools::{ToolCall, ToolFaults};
use reliability_core::trace::EventKind;

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 10_000,
        ..ProptestConfig::default()
    }
}

fn jitter() -> impl Strategy<Value = Jitter> {
    prop::sample::select(Jitter::ALL.to_vec())
}

fn retry() -> impl Strategy<Value = RetryPolicy> {
    (1u32..=8, 1u64..=3_000, 10u32..=40, 1u64..=60, jitter()).prop_map(
        |(attempts, base_ms, mult_tenths, cap_s, jitter)| {
            RetryPolicy::new()
                .with_attempts(attempts)
                .with_base((base_ms * MS).min(cap_s * SEC))
                .with_multiplier(mult_tenths as f64 / 10.0)
                .with_max_delay(cap_s * SEC)
                .with_jitter(jitter)
        },
    )
}

fn error() -> impl Strategy<Value = CallError> {
    prop_oneof![
        prop::sample::select(vec![400u16, 401, 403, 404, 429, 500, 502, 503, 504])
            .prop_map(CallError::http),
        (1u64..=3_000).prop_map(|ms| CallError::rate_limited(ms * MS)),
        Just(CallError::new(reliability_core::error::ErrorKind::Network)),
    ]
}

fn behaviour() -> impl Strategy<Value = Behaviour> {
    prop::sample::select(vec![
        Behaviour::Solve,
        Behaviour::Loop,
        Behaviour::Risky,
        Behaviour::Malformed,
        Behaviour::Pay,
    ])
}

fn model() -> impl Strategy<Value = ModelSpec> {
    (behaviour(), 0.0f64..=1.0, error(), 1u64..=400).prop_map(|(b, rate, error, lat_ms)| {
        ModelSpec::new("m", b)
            .with_faults(Faults::Random { rate, error })
            .with_latency(Latency::Uniform {
                lo: MS,
                hi: lat_ms * MS,
            })
    })
}

#[derive(Debug, Clone)]
struct World {
    cfg: AgentConfig,
    world: SimWorld,
    seed: u64,
}

fn world() -> impl Strategy<Value = World> {
    (
        retry(),
        1u64..=300,
        1u32..=12,
        prop::collection::vec(model(), 1..=3),
        any::<u64>(),
        0u32..=4,
        any::<bool>(),
        prop::sample::select(vec![Approver::DenyAll, Approver::ApproveAll, Approver::Ask]),
    )
        .prop_map(
            |(retry, timeout_ms, max_steps, models, seed, lose, idempotency, approver)| World {
                cfg: AgentConfig {
                    retry,
                    deadline: Deadline::new(timeout_ms * MS),
                    caps: Caps::new().with_max_steps(max_steps),
                    approval: ApprovalPolicy {
                        approver,
                        deadline: None,
                    },
                    idempotency,
                    ..AgentConfig::default()
                },
                world: SimWorld {
                    tool_faults: ToolFaults {
                        lose_response: lose,
                    },
                    ..SimWorld::new(models)
                },
                seed,
            },
        )
}

/// Runs to the end, answering every approval request with `decisions` in turn (deny when
/// they run out). Returns the run and whether any approval was given.
fn drive(w: &World, decisions: &[Decision]) -> (Run, bool) {
    let mut agent = w.world.agent(w.cfg.clone(), w.seed, true).unwrap();
    let mut sim = Sim::new(&w.world, w.seed);
    let mut approved = false;
    let mut i = 0;
    loop {
        match sim.drive(&mut agent) {
            Status::Finished => break,
            Status::AwaitingApproval => {
                let d = decisions.get(i).copied().unwrap_or(Decision::Deny);
                approved |= d == Decision::Approve;
                i += 1;
                agent.handle_decision(agent.now(), d);
            }
            Status::Running => unreachable!("drive only returns when it stops"),
        }
    }
    (sim.finish(agent), approved)
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn attempts_never_exceed_the_cap_and_steps_never_exceed_max_plus_one(
        w in world(),
        decisions in prop::collection::vec(prop::sample::select(vec![Decision::Approve, Decision::Deny]), 0..4),
    ) {
        let (run, _) = drive(&w, &decisions);
        for e in &run.trace {
            if let EventKind::Attempt { attempt, .. } = e.kind {
                prop_assert!(attempt >= 1 && attempt <= w.cfg.retry.attempts);
            }
        }
        prop_assert!(run.outcome.steps <= w.cfg.caps.max_steps + 1);
    }

    #[test]
    fn delays_before_jitter_never_decrease_and_never_pass_the_cap(p in retry(), seed in any::<u64>()) {
        for i in 0..30 {
            let d = p.delay_before_jitter(i);
            prop_assert!(d <= p.max_delay);
            prop_assert!(d <= p.delay_before_jitter(i + 1));
        }
        let waits: Vec<Micros> = p.backoff(seed).collect();
        prop_assert_eq!(waits.len() as u32, p.attempts - 1);
        prop_assert!(waits.iter().all(|&w| w <= p.max_delay));
    }

    #[test]
    fn no_risky_tool_runs_without_approval(
        w in world(),
        decisions in prop::collection::vec(prop::sample::select(vec![Decision::Approve, Decision::Deny]), 0..4),
    ) {
        let (run, approved) = drive(&w, &decisions);
        if !(approved || w.cfg.approval.approver == Approver::ApproveAll) {
            prop_assert!(run.effects.is_empty(), "effects without approval: {:?}", run.effects);
        }
    }

    #[test]
    fn with_idempotency_no_side_effect_happens_twice(mut w in world()) {
        w.cfg.idempotency = true;
        w.cfg.approval.approver = Approver::ApproveAll;
        let (run, _) = drive(&w, &[]);
        prop_assert_eq!(run.outcome.counters.duplicates, 0);
        for (i, e) in run.effects.iter().enumerate() {
            prop_assert!(run.effects[..i].iter().all(|p| p.call != e.call));
        }
    }

    #[test]
    fn the_kill_switch_halts_within_one_step(w in world(), at_ms in 0u64..=20_000) {
        let at = at_ms * MS;
        let mut agent = w.world.agent(w.cfg.clone(), w.seed, true)
            .unwrap()
            .with_kill_switch(KillSwitch::at(at));
        let mut sim = Sim::new(&w.world, w.seed);
        while sim.drive(&mut agent) == Status::AwaitingApproval {
            agent.handle_decision(agent.now(), Decision::Approve);
        }
        let run = sim.finish(agent);
        // No step and no call starts once the switch is on; the call in flight may finish.
        for e in &run.trace {
            if matches!(e.kind, EventKind::Step | EventKind::Attempt { .. }) {
                prop_assert!(e.at < at, "{} started at {} after the switch at {}", e, e.at, at);
            }
        }
    }

    #[test]
    fn the_critic_never_asks_for_a_second_revision(
        w in world(), threshold in 0u8..=10, draft in 0u8..=10, revised in 0u8..=10,
    ) {
        let mut w = w;
        w.cfg.critic = Some(CriticPolicy { threshold, draft_score: draft, revised_score: revised });
        let (run, _) = drive(&w, &[Decision::Approve]);
        let revisions = run.trace.iter().filter(|e| matches!(e.kind, EventKind::Critique { revise: true, .. })).count();
        prop_assert!(revisions <= 1);
    }

    #[test]
    fn a_bulk_write_never_goes_past_its_sample_without_a_confirm(
        sample in 1i64..=50, decision in prop::sample::select(vec![Decision::Approve, Decision::Deny]),
        seed in any::<u64>(), rate in 0.0f64..=0.5,
    ) {
        let cfg = AgentConfig {
            scope: Some(ScopePolicy { sample }),
            approval: ApprovalPolicy { approver: Approver::Ask, deadline: None },
            ..AgentConfig::default()
        };
        let model = ModelSpec::new("ops", Behaviour::BulkUpdate)
            .with_faults(Faults::Random { rate, error: CallError::http(503) });
        let w = World { cfg, world: SimWorld::new(vec![model]), seed };
        let (run, _) = drive(&w, &[decision]);
        let updated: i64 = run.effects.iter().map(|e| match &e.call {
            ToolCall::UpdateRecords { count, .. } => *count,
            _ => 0,
        }).sum();
        prop_assert!(updated <= sample || decision == Decision::Approve);
    }

    #[test]
    fn same_seed_same_trace(w in world()) {
        prop_assert_eq!(drive(&w, &[Decision::Approve]).0, drive(&w, &[Decision::Approve]).0);
    }

    #[test]
    fn nothing_panics_on_any_settings_or_link(
        failures in any::<u32>(), max_steps in any::<u32>(), timeout in any::<u64>(),
        attempts in any::<u32>(), base in any::<u64>(), seed in any::<u64>(),
        threshold in any::<u32>(), cooldown in any::<u64>(), j in jitter(),
        query in ".{0,80}",
        toolbox in (any::<u32>(), any::<u32>(), any::<u32>(), any::<u64>(), any::<u64>(), any::<u64>(), any::<u64>(), any::<u32>(), any::<u32>(), any::<bool>()),
    ) {
        let (rungs_down, escalate_after, max_turns, max_tokens, max_cost, max_wall, kill_at, error, critic_threshold, idempotency) = toolbox;
        let s = Settings {
            failures, max_steps, timeout, attempts, base_delay: base, jitter: j, seed,
            breaker_threshold: threshold, breaker_cooldown: cooldown, approval: Some(Decision::Approve),
            kill: false, idempotency, rungs_down, escalate_after, max_turns, max_tokens, max_cost,
            max_wall, kill_at, error: Injected::ALL[(error % 10) as usize], scope_confirm: Some(Decision::Deny), critic_threshold,
            ..Settings::default()
        };
        for id in CardId::ALL {
            let r = run_card(id, &s);
            prop_assert!(!r.verdict().is_empty());
        }
        let (parsed, _) = Settings::from_query(&query);
        let _ = run_card(CardId::A, &parsed);
    }
}
