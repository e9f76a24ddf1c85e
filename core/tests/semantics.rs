//! Engine semantics that review found wrong (issue 11), each pinned by a test. Runs natively
//! and as wasm32.

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

use reliability_core::agent::{AgentConfig, Run, Stop};
use reliability_core::approval::{ApprovalPolicy, Approver};
use reliability_core::breaker::BreakerConfig;
use reliability_core::caps::CapKind;
use reliability_core::error::{CallError, ErrorKind};
use reliability_core::escalation::EscalationPolicy;
use reliability_core::fallback::SAFE_MESSAGE;
use reliability_core::killswitch::KillSwitch;
use reliability_core::model::{Behaviour, Faults, Latency, ModelSpec};
use reliability_core::retry::RetryPolicy;
use reliability_core::scope::ScopePolicy;
use reliability_core::sim::{self, Sim, SimWorld};
use reliability_core::time::{Micros, MS, SEC};
use reliability_core::trace::EventKind;

fn failing(error: CallError) -> SimWorld {
    SimWorld::new(vec![
        ModelSpec::new("m", Behaviour::Solve).with_faults(Faults::Always { error })
    ])
}

fn run(cfg: AgentConfig, world: &SimWorld) -> Run {
    sim::run(cfg, world, 1, true).unwrap()
}

fn killed_at(cfg: AgentConfig, world: &SimWorld, at: Micros) -> Run {
    let mut agent = world
        .agent(cfg, 1, true)
        .unwrap()
        .with_kill_switch(KillSwitch::at(at));
    let mut sim = Sim::new(world, 1);
    sim.drive(&mut agent);
    sim.finish(agent)
}

#[test]
fn retry_after_is_bounded_by_the_policys_longest_wait() {
    let cfg = AgentConfig {
        retry: RetryPolicy::new().with_max_delay(5 * SEC),
        ..AgentConfig::default()
    };
    let r = run(cfg, &failing(CallError::rate_limited(60 * SEC)));
    assert_eq!(r.backoff_waits(), vec![5 * SEC, 5 * SEC], "not 60 s");
}

#[test]
fn a_wait_past_the_wall_time_budget_stops_the_run_at_the_budget() {
    let mut cfg = AgentConfig::default();
    cfg.caps.max_wall = SEC;
    let r = run(cfg, &failing(CallError::rate_limited(2 * SEC)));
    assert_eq!(r.outcome.stop, Stop::Cap(CapKind::WallTime));
    assert_eq!(r.outcome.elapsed, SEC, "stopped at the cap, not at 2.02 s");
    // The first attempt took 20 ms; its wait is cut to the 0.98 s left.
    assert_eq!(r.backoff_waits(), vec![980 * MS]);
    assert_eq!(r.outcome.counters.model_calls, 1);
}

#[test]
fn the_kill_switch_stops_a_backoff_wait_when_it_is_flipped() {
    // A 503, then a 0.5 s wait; the switch goes on 0.3 s in.
    let r = killed_at(
        AgentConfig::default(),
        &failing(CallError::http(503)),
        300 * MS,
    );
    assert_eq!(r.outcome.stop, Stop::Killed);
    assert_eq!(r.outcome.elapsed, 300 * MS, "not at the 0.52 s wake-up");
    let killed = r
        .trace
        .iter()
        .find(|e| matches!(e.kind, EventKind::Killed { .. }))
        .unwrap();
    assert_eq!(killed.at, 300 * MS);
    assert_eq!(r.outcome.counters.model_calls, 1);
}

#[test]
fn escalation_counts_per_error_and_target() {
    let cfg = AgentConfig {
        escalation: Some(EscalationPolicy { after: 3 }),
        ..AgentConfig::default()
    };
    let down = |name| {
        ModelSpec::new(name, Behaviour::Solve).with_faults(Faults::Always {
            error: CallError::http(503),
        })
    };
    // Two attempts a rung: no rung reaches 3, so the run degrades after four calls.
    let two = AgentConfig {
        retry: RetryPolicy::new().with_attempts(2),
        ..cfg.clone()
    };
    let world = SimWorld::new(vec![down("primary"), down("backup")]);
    let r = run(two, &world);
    assert_eq!(r.outcome.stop, Stop::Degraded);
    assert_eq!(r.outcome.counters.model_calls, 4);
    // Three attempts: the primary's third 503 escalates, naming where it came from.
    let r = run(cfg, &world);
    assert_eq!(r.outcome.stop, Stop::Escalated);
    let h = r.outcome.handoff.unwrap();
    assert!(h.ticket.starts_with("TCK-"));
    assert_eq!(h.failing_step, "step 1: model primary");
    assert!(r.outcome.answer.contains(&h.ticket));
    assert!(r.outcome.answer.contains("from model primary, 3 times"));
}

#[test]
fn an_approval_timeout_is_handed_off_as_what_it_is() {
    let cfg = AgentConfig {
        approval: ApprovalPolicy {
            approver: Approver::Ask,
            deadline: Some(30 * SEC),
        },
        ..AgentConfig::default()
    };
    let world = SimWorld::new(vec![ModelSpec::new("m", Behaviour::Risky)]);
    let r = run(cfg, &world);
    assert_eq!(r.outcome.stop, Stop::Escalated);
    let h = r.outcome.handoff.unwrap();
    assert_eq!(h.user_input, "Email the quarterly results to all staff.");
    assert_eq!(h.error, "nobody approved send_email within 30.0s");
    assert!(
        !h.suggested_next_step.contains("slow"),
        "an approval timeout is not a slow service: {}",
        h.suggested_next_step
    );
    assert!(h.suggested_next_step.contains("approve"));
}

#[test]
fn client_errors_do_not_open_the_breaker() {
    let cfg = AgentConfig {
        breaker: Some(BreakerConfig {
            threshold: 1,
            cooldown: 5 * SEC,
        }),
        ..AgentConfig::default()
    };
    let opened = |r: &Run| {
        r.trace
            .iter()
            .any(|e| matches!(e.kind, EventKind::Breaker { .. }))
    };
    for code in [400, 401, 403, 404] {
        assert!(
            !opened(&run(cfg.clone(), &failing(CallError::http(code)))),
            "{code}"
        );
    }
    for code in [429, 500, 503] {
        assert!(
            opened(&run(cfg.clone(), &failing(CallError::http(code)))),
            "{code}"
        );
    }
}

#[test]
fn under_deny_all_a_scoped_bulk_write_writes_nothing() {
    let cfg = AgentConfig {
        scope: Some(ScopePolicy::default()),
        ..AgentConfig::default()
    };
    let world = SimWorld::new(vec![ModelSpec::new("ops", Behaviour::BulkUpdate)]);
    let r = run(cfg.clone(), &world);
    assert!(r.effects.is_empty(), "not even the sample: {:?}", r.effects);
    assert_eq!(r.outcome.blocked, vec!["update_records"]);
    // With an approver who says yes to everything, the sample goes first, then the rest.
    let yes = AgentConfig {
        approval: ApprovalPolicy {
            approver: Approver::ApproveAll,
            deadline: None,
        },
        ..cfg
    };
    let r = run(yes, &world);
    let counts: Vec<String> = r.effects.iter().map(|e| e.call.to_string()).collect();
    assert_eq!(
        counts,
        vec![
            "update_records(\"customers\", 1)",
            "update_records(\"customers\", 99, from record 1)"
        ]
    );
}

#[test]
fn latency_draws_never_move_the_fault_schedule() {
    let cfg = AgentConfig {
        deadline: reliability_core::deadline::Deadline::new(10 * SEC),
        ..AgentConfig::default()
    };
    let failed_calls = |latency: Latency| -> Vec<u32> {
        (0..200)
            .map(|seed| {
                let world = SimWorld::new(vec![ModelSpec::new("m", Behaviour::Cached)
                    .with_faults(Faults::Random {
                        rate: 0.3,
                        error: CallError::http(503),
                    })
                    .with_latency(latency)]);
                sim::run(cfg.clone(), &world, seed, false)
                    .unwrap()
                    .outcome
                    .counters
                    .retries
            })
            .collect()
    };
    let fixed = failed_calls(Latency::Fixed { us: 20 * MS });
    assert!(fixed.iter().any(|r| *r > 0), "some faults happen");
    assert_eq!(
        fixed,
        failed_calls(Latency::Uniform {
            lo: 10 * MS,
            hi: 900 * MS
        })
    );
}

#[test]
fn a_fault_rate_that_is_not_a_probability_is_refused() {
    for rate in [f64::NAN, -0.5, 2.0] {
        let world = SimWorld::new(vec![ModelSpec::new("m", Behaviour::Solve).with_faults(
            Faults::Random {
                rate,
                error: CallError::http(503),
            },
        )]);
        let e = sim::run(AgentConfig::default(), &world, 1, false).unwrap_err();
        assert_eq!(e.field, "failure_rate");
    }
}

#[test]
fn only_an_outage_tells_the_user_to_try_again_later() {
    let r = run(AgentConfig::default(), &failing(CallError::http(503)));
    assert_eq!(r.outcome.answer, SAFE_MESSAGE);
    for code in [400, 401, 403, 404] {
        let r = run(AgentConfig::default(), &failing(CallError::http(code)));
        assert_eq!(r.outcome.stop, Stop::Degraded);
        assert_eq!(r.outcome.counters.model_calls, 1, "{code} is not retried");
        assert!(!r.outcome.answer.contains("try again later"), "{code}");
        assert!(r.outcome.answer.contains(&code.to_string()), "{code}");
    }
    assert!(!ErrorKind::Http(400).is_transient());
}
