//! The lab's numbers, exactly, with the knobs varied; and every claim of the reference
//! solution's "Verified (offline)" list. Runs natively and, in Node, as wasm32.

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

use reliability_core::agent::{self, Action, AgentConfig, Stop};
use reliability_core::approval::{ApprovalPolicy, Approver, Decision};
use reliability_core::caps::CapKind;
use reliability_core::error::{CallError, ErrorKind};
use reliability_core::escalation::EscalationPolicy;
use reliability_core::fallback::SAFE_MESSAGE;
use reliability_core::killswitch::KillSwitch;
use reliability_core::lab::{cards::e::SLOW_CALL, run_card, view_param, CardId, Settings, Tone};
use reliability_core::model::{Behaviour, Faults, ModelSpec};
use reliability_core::retry::Jitter;
use reliability_core::sim::{self, SimWorld};
use reliability_core::time::{Micros, MS, SEC};
use reliability_core::tools::ToolFaults;
use reliability_core::trace::{EventKind, GiveUp};

fn waits(run: &agent::Run) -> Vec<Micros> {
    run.backoff_waits()
}

fn with(f: impl FnOnce(&mut Settings)) -> Settings {
    let mut s = Settings::default();
    f(&mut s);
    s
}

#[test]
fn a_retry_recovers_on_attempt_3_after_half_a_second_and_one() {
    let a = run_card(CardId::A, &Settings::default());
    let o = &a.run.outcome;
    assert_eq!(
        o.lab_repr(),
        "{'answer': 'The answer is 391.', 'steps': 2, 'blocked': [], 'degraded': False}"
    );
    assert_eq!(waits(&a.run), vec![500 * MS, SEC]);
    assert_eq!(o.counters.retries, 2);
    assert_eq!(a.tone(), Tone::Handled);
    assert_eq!(
        a.verdict(),
        "retry recovered on attempt 3 after waiting 0.5s and 1.0s"
    );
}

#[test]
fn a_recovers_below_the_attempts_cap_and_degrades_at_or_above_it() {
    for attempts in 1..=8 {
        for failures in 0..=6 {
            let s = with(|s| {
                s.attempts = attempts;
                s.failures = failures;
            });
            let o = run_card(CardId::A, &s).run.outcome;
            if failures < attempts {
                assert_eq!(o.answer, "The answer is 391.", "{failures} < {attempts}");
                assert!(!o.degraded);
                assert_eq!(o.counters.retries, failures);
            } else {
                assert_eq!(o.answer, SAFE_MESSAGE, "{failures} >= {attempts}");
                assert!(o.degraded);
                assert_eq!(o.counters.model_calls, attempts);
            }
        }
    }
}

#[test]
fn a_jitter_changes_the_waits_but_not_the_outcome() {
    for jitter in [Jitter::Full, Jitter::Equal, Jitter::Decorrelated] {
        let s = with(|s| s.jitter = jitter);
        let a = run_card(CardId::A, &s);
        assert_eq!(a.run.outcome.answer, "The answer is 391.");
        assert_ne!(waits(&a.run), vec![500 * MS, SEC], "{jitter}");
        let b = run_card(
            CardId::A,
            &with(|s| {
                s.jitter = jitter;
                s.seed = 2;
            }),
        );
        assert_ne!(waits(&a.run), waits(&b.run), "{jitter}: seeds differ");
    }
}

#[test]
fn b_step_cap_stops_the_loop_at_the_cap_plus_one() {
    let b = run_card(CardId::B, &Settings::default());
    assert_eq!(
        b.run.outcome.lab_repr(),
        "{'answer': 'Stopped: exceeded 4 steps (possible runaway loop)', 'steps': 5, 'blocked': [], 'degraded': True}"
    );
    for max_steps in 1..=12 {
        let o = run_card(CardId::B, &with(|s| s.max_steps = max_steps))
            .run
            .outcome;
        let steps = if max_steps == 1 { "step" } else { "steps" };
        assert_eq!(
            o.answer,
            format!("Stopped: exceeded {max_steps} {steps} (possible runaway loop)")
        );
        assert_eq!(o.steps, max_steps + 1);
        assert_eq!(o.stop, Stop::Cap(CapKind::Steps));
        assert_eq!(o.counters.model_calls, max_steps);
    }
}

#[test]
fn c_outage_degrades_to_the_safe_message_after_every_attempt() {
    for attempts in 1..=8 {
        let c = run_card(CardId::C, &with(|s| s.attempts = attempts));
        let o = &c.run.outcome;
        assert_eq!(o.answer, "Service unavailable, please try again later.");
        assert!(o.degraded);
        assert_eq!(o.stop, Stop::Degraded);
        assert_eq!(o.counters.model_calls, attempts);
        assert_eq!(waits(&c.run).len() as u32, attempts - 1);
    }
}

#[test]
fn d_send_email_is_blocked_by_default_and_runs_when_approved() {
    let s = Settings::default();
    let deny_all = sim::run(
        s.agent_config(),
        &SimWorld::new(vec![ModelSpec::new("risky", Behaviour::Risky)]),
        1,
        false,
    )
    .unwrap();
    assert_eq!(deny_all.outcome.blocked, vec!["send_email"]);
    assert!(deny_all.effects.is_empty(), "nothing was sent");

    let paused = run_card(CardId::D, &s);
    assert_eq!(paused.tone(), Tone::Waiting);
    assert!(paused.run.awaiting.is_some());
    // Waiting is not blocked: nothing has been refused yet.
    assert!(paused.run.outcome.blocked.is_empty());
    assert!(paused.run.effects.is_empty());

    let denied = run_card(CardId::D, &with(|s| s.approval = Some(Decision::Deny)));
    assert_eq!(denied.run.outcome.blocked, vec!["send_email"]);
    assert!(denied.run.effects.is_empty());
    assert!(!denied.run.outcome.degraded);

    let approved = run_card(CardId::D, &with(|s| s.approval = Some(Decision::Approve)));
    assert!(approved.run.outcome.blocked.is_empty());
    assert_eq!(
        approved.run.outcome.answer,
        "Email sent to all-staff@example.com."
    );
    assert_eq!(approved.run.effects.len(), 1, "the pretend email, once");
}

#[test]
fn safe_tools_pass_the_gate_without_asking() {
    let cfg = AgentConfig {
        approval: ApprovalPolicy {
            approver: Approver::Ask,
            deadline: None,
        },
        ..AgentConfig::default()
    };
    let run = sim::run(
        cfg,
        &SimWorld::new(vec![ModelSpec::new("m", Behaviour::Solve)]),
        1,
        true,
    )
    .unwrap();
    assert_eq!(run.outcome.answer, "The answer is 391.");
    assert!(run.awaiting.is_none());
}

#[test]
fn e_timeout_gives_up_below_the_slow_calls_latency_and_not_above() {
    let e = run_card(CardId::E, &Settings::default());
    let first = e.run.trace.iter().find_map(|ev| match &ev.kind {
        EventKind::Attempt {
            error: Some(err), ..
        } => Some(err.to_string()),
        _ => None,
    });
    assert_eq!(first.as_deref(), Some("call timed out after 0.05s"));
    assert_eq!(e.run.outcome.counters.timeouts, 3);
    assert!(e.run.outcome.degraded);
    let slider = reliability_core::lab::knob("timeout").unwrap();
    let slow = reliability_core::time::to_secs(SLOW_CALL);
    assert!(
        slow >= slider.min && slow <= slider.max,
        "inside the slider's range"
    );

    for tenths in 1..=50u64 {
        let timeout = tenths * 100 * MS;
        let o = run_card(CardId::E, &with(|s| s.timeout = timeout))
            .run
            .outcome;
        if timeout >= SLOW_CALL {
            assert_eq!(o.counters.timeouts, 0, "timeout {timeout}");
            assert_eq!(o.answer, "The answer is 391.");
        } else {
            assert_eq!(o.counters.timeouts, 3, "timeout {timeout}");
            assert!(o.degraded);
        }
    }
}

#[test]
fn f_breaker_opens_fails_fast_then_probes_and_closes() {
    let f = run_card(CardId::F, &Settings::default());
    let transitions: Vec<String> = f
        .run
        .trace
        .iter()
        .filter(|e| matches!(e.kind, EventKind::Breaker { .. }))
        .map(|e| e.to_string())
        .collect();
    assert_eq!(
        transitions,
        vec![
            "breaker closed -> open",
            "breaker open -> half-open",
            "breaker half-open -> closed"
        ]
    );
    let c = f.run.outcome.counters;
    assert!(c.fast_fails >= 4, "requests during the cooldown fail fast");
    let (label, without) = f.contrast.as_ref().expect("F compares with no breaker");
    assert_eq!(label, "without a breaker");
    assert!(c.model_calls < without.outcome.counters.model_calls);
    assert_eq!(f.tone(), Tone::Handled);

    // One attempt per request, one request a second, and the service back at 6 s: only six
    // failures in a row, so a threshold of 10 never opens.
    let never = run_card(
        CardId::F,
        &with(|s| {
            s.breaker_threshold = 10;
            s.attempts = 1;
        }),
    );
    assert_eq!(never.run.outcome.counters.fast_fails, 0);
    assert_eq!(never.tone(), Tone::Degraded);
    assert!(never.verdict().starts_with("the breaker never opened"));

    // A longer cooldown means more requests fail fast.
    let long = run_card(CardId::F, &with(|s| s.breaker_cooldown = 8 * SEC));
    assert!(long.run.outcome.counters.fast_fails > c.fast_fails);
}

#[test]
fn retry_after_on_a_429_is_honoured() {
    let model = ModelSpec::new("m", Behaviour::Solve).with_faults(Faults::FailFirst {
        count: 1,
        error: CallError::rate_limited(2 * SEC),
    });
    let run = sim::run(AgentConfig::default(), &SimWorld::new(vec![model]), 1, true).unwrap();
    assert_eq!(waits(&run), vec![2 * SEC]);
    assert_eq!(run.outcome.answer, "The answer is 391.");
}

#[test]
fn permanent_errors_are_never_retried() {
    for code in [400, 401, 403, 404] {
        let model = ModelSpec::new("m", Behaviour::Solve).with_faults(Faults::Always {
            error: CallError::http(code),
        });
        let run = sim::run(AgentConfig::default(), &SimWorld::new(vec![model]), 1, true).unwrap();
        assert_eq!(run.outcome.counters.model_calls, 1, "{code}");
        assert_eq!(run.outcome.counters.retries, 0);
        assert!(run.trace.iter().any(|e| matches!(
            e.kind,
            EventKind::GaveUp {
                reason: GiveUp::NotTransient,
                ..
            }
        )));
    }
}

#[test]
fn fallback_uses_the_backup_and_says_so() {
    let primary = ModelSpec::new("primary", Behaviour::Solve).with_faults(Faults::Always {
        error: CallError::http(503),
    });
    let backup = ModelSpec::new("backup", Behaviour::Solve);
    let run = sim::run(
        AgentConfig::default(),
        &SimWorld::new(vec![primary, backup]),
        1,
        true,
    )
    .unwrap();
    assert_eq!(run.outcome.answer, "The answer is 391.");
    assert!(run.outcome.counters.fallbacks >= 1);
    assert!(run
        .trace
        .iter()
        .any(|e| e.to_string() == "fallback: primary failed, trying backup"));
}

#[test]
fn invalid_tool_arguments_stop_with_a_clear_message_and_no_retry() {
    let run = sim::run(
        AgentConfig::default(),
        &SimWorld::new(vec![ModelSpec::new("m", Behaviour::Malformed)]),
        1,
        false,
    )
    .unwrap();
    assert_eq!(run.outcome.stop, Stop::InvalidArgs);
    assert_eq!(run.outcome.counters.model_calls, 1);
    assert_eq!(run.outcome.counters.tool_calls, 0);
    assert!(run.outcome.answer.contains("`b` must be a whole number"));
}

#[test]
fn idempotency_keys_make_a_retried_charge_happen_once() {
    let cfg = |idempotency| AgentConfig {
        approval: ApprovalPolicy {
            approver: Approver::ApproveAll,
            deadline: None,
        },
        idempotency,
        ..AgentConfig::default()
    };
    let pay = || SimWorld {
        tool_faults: ToolFaults { lose_response: 1 },
        ..SimWorld::new(vec![ModelSpec::new("m", Behaviour::Pay)])
    };
    let without = sim::run(cfg(false), &pay(), 1, false).unwrap();
    assert_eq!(without.effects.len(), 2, "charged twice");
    assert_eq!(without.outcome.counters.duplicates, 1);
    let with_keys = sim::run(cfg(true), &pay(), 1, false).unwrap();
    assert_eq!(with_keys.effects.len(), 1, "charged once");
    assert_eq!(with_keys.outcome.counters.duplicates, 0);
}

#[test]
fn a_repeating_error_escalates_with_a_handoff_packet() {
    let cfg = AgentConfig {
        escalation: Some(EscalationPolicy { after: 2 }),
        ..AgentConfig::default()
    };
    let model = ModelSpec::new("m", Behaviour::Solve).with_faults(Faults::Always {
        error: CallError::http(503),
    });
    let run = sim::run(cfg, &SimWorld::new(vec![model]), 1, false).unwrap();
    assert_eq!(run.outcome.stop, Stop::Escalated);
    let h = run.outcome.handoff.expect("a handoff packet");
    assert_eq!(h.user_input, "What is 17 x 23?");
    assert_eq!(h.error, "503 Service Unavailable");
    assert_eq!(h.failing_step, "step 1: model m");
    assert!(!h.suggested_next_step.is_empty());
    assert_eq!(run.outcome.counters.model_calls, 2);
}

#[test]
fn the_kill_switch_stops_a_run_before_its_next_step() {
    let s = Settings::default();
    let world = SimWorld::new(vec![ModelSpec::new("m", Behaviour::Loop)]);
    let mut agent = world
        .agent(s.agent_config(), 1, false)
        .unwrap()
        .with_kill_switch(KillSwitch::ON);
    assert!(matches!(agent.poll(), Action::Done));
    let run = agent.into_run();
    assert_eq!(run.outcome.stop, Stop::Killed);
    assert_eq!(run.outcome.steps, 0);
    assert_eq!(run.outcome.counters.model_calls, 0);

    // Flipped while the first step's model call is out: that call finishes, nothing else
    // begins.
    let mut agent = world.agent(s.agent_config(), 1, false).unwrap();
    let reply = match agent.poll() {
        Action::CallModel(call) => Behaviour::Loop.reply(call.last_turn()),
        other => panic!("the first action is a model call, not {other:?}"),
    };
    agent.engage_kill_switch(5 * MS);
    assert!(
        matches!(agent.poll(), Action::Wait { .. }),
        "the call is still out"
    );
    agent.handle_model_reply(
        20 * MS,
        Ok(agent::ModelReply {
            reply,
            tokens: sim::tokens_at(1),
            cost: 0,
        }),
    );
    assert!(matches!(agent.poll(), Action::Done), "no tool call begins");
    let run = agent.into_run();
    assert_eq!(run.outcome.steps, 1);
    assert_eq!(run.outcome.stop, Stop::Killed);
    assert_eq!(run.outcome.counters.tool_calls, 0);
}

#[test]
fn a_paused_approval_with_a_deadline_is_denied_and_escalated() {
    let cfg = AgentConfig {
        approval: ApprovalPolicy {
            approver: Approver::Ask,
            deadline: Some(30 * SEC),
        },
        ..AgentConfig::default()
    };
    let run = sim::run(
        cfg,
        &SimWorld::new(vec![ModelSpec::new("m", Behaviour::Risky)]),
        1,
        true,
    )
    .unwrap();
    assert_eq!(run.outcome.stop, Stop::Escalated);
    assert_eq!(run.outcome.blocked, vec!["send_email"]);
    assert!(run.effects.is_empty());
    assert!(run.outcome.elapsed >= 30 * SEC);
}

#[test]
fn token_cost_and_wall_caps_each_fire_with_their_own_reason() {
    let looping = || vec![ModelSpec::new("m", Behaviour::Loop)];
    let mut cfg = AgentConfig::default();
    cfg.caps.max_steps = 1_000;
    cfg.caps.max_tokens = 2_000;
    let run = sim::run(cfg.clone(), &SimWorld::new(looping()), 1, false).unwrap();
    assert_eq!(run.outcome.stop, Stop::Cap(CapKind::Tokens));
    assert!(run
        .outcome
        .answer
        .starts_with("Stopped: token budget of 2000"));

    let mut cfg2 = cfg.clone();
    cfg2.caps.max_tokens = 1_000_000;
    cfg2.caps.max_cost = 10_000;
    let run = sim::run(cfg2, &SimWorld::new(looping()), 1, false).unwrap();
    assert_eq!(run.outcome.stop, Stop::Cap(CapKind::Cost));
    assert!(run.outcome.answer.starts_with("Stopped: cost cap of $0.01"));

    let mut cfg3 = cfg;
    cfg3.caps.max_tokens = u64::MAX;
    cfg3.caps.max_cost = u64::MAX;
    cfg3.caps.max_wall = SEC / 10;
    let run = sim::run(cfg3, &SimWorld::new(looping()), 1, false).unwrap();
    assert_eq!(run.outcome.stop, Stop::Cap(CapKind::WallTime));
}

#[test]
fn same_seed_same_trace_and_the_trace_round_trips_through_json() {
    for id in CardId::ALL {
        let s = with(|s| s.jitter = Jitter::Full);
        let a = run_card(id, &s);
        let b = run_card(id, &s);
        assert_eq!(a, b, "{id:?}");
        let json = serde_json::to_string(&a).unwrap();
        let back: reliability_core::lab::CardRun = serde_json::from_str(&json).unwrap();
        assert_eq!(back, a, "{id:?} JSON round trip");
    }
}

#[test]
fn recording_the_trace_does_not_change_the_outcome() {
    for id in CardId::ALL {
        let s = Settings::default();
        assert_eq!(
            run_card(id, &s).run.outcome,
            run_card(id, &s).run.outcome,
            "{id:?}"
        );
    }
}

#[test]
fn permalinks_round_trip_and_bad_values_fall_back_with_a_notice() {
    let s = with(|s| {
        s.failures = 5;
        s.max_steps = 2;
        s.timeout = 1_550 * MS;
        s.jitter = Jitter::Decorrelated;
        s.seed = 77;
        s.approval = Some(Decision::Approve);
    });
    let q = s.to_query();
    assert!(q.contains("timeout=1.55"));
    assert_eq!(Settings::from_query(&q), (s, vec![]));

    let (s, notices) =
        Settings::from_query("?max_steps=99&timeout=abc&jitter=wild&bogus=1&failures=3");
    assert_eq!(s.max_steps, 4);
    assert_eq!(s.timeout, 50 * MS);
    assert_eq!(s.failures, 3);
    let names: Vec<&str> = notices.iter().map(|n| n.name.as_str()).collect();
    assert_eq!(names, vec!["max_steps", "timeout", "jitter", "bogus"]);
    assert_eq!(
        notices[0].message,
        "max_steps=\"99\" ignored: must be 1 to 12; using the default 4"
    );
}

#[test]
fn a_shared_link_names_only_what_differs_and_the_card_to_open() {
    let page = "http://10.0.0.5:8080/lab/?max_steps=9&present=B#stats";
    // Defaults: no query at all, only the card.
    let s = Settings::default();
    assert_eq!(
        s.share_link(page, "card-B"),
        "http://10.0.0.5:8080/lab/#card-B"
    );
    // One knob moved: one parameter.
    let s = with(|s| s.max_steps = 2);
    let link = s.share_link(page, "card-B");
    assert_eq!(link, "http://10.0.0.5:8080/lab/?max_steps=2#card-B");
    // The link reads back as the same settings, with no notice.
    let query = link.split_once('?').unwrap().1.split('#').next().unwrap();
    assert_eq!(Settings::from_query(query), (s.clone(), vec![]));

    // The address bar keeps the presented card; a link to present it reads back.
    assert_eq!(s.page_query(None), "max_steps=2");
    assert_eq!(s.page_query(Some(CardId::E)), "max_steps=2&present=E");
    assert_eq!(Settings::default().page_query(Some(CardId::A)), "present=A");
    let q = "?max_steps=2&present=E";
    assert_eq!(view_param(q, "present").as_deref(), Some("E"));
    assert_eq!(view_param(q, "card"), None);
    assert_eq!(Settings::from_query(q), (s, vec![]));
}

#[test]
fn errors_are_classified_by_kind() {
    assert!(CallError::http(503).is_transient());
    assert!(!CallError::http(400).is_transient());
    assert!(!ErrorKind::Http(404).decision().retry);
}

/// The terminal demo prints exactly the lab's sections. After a deliberate change, regenerate
/// with `cargo run -p reliability-core --example demo > core/tests/golden/demo.txt` and review
/// the diff.
#[test]
fn the_demo_prints_the_golden_sections() {
    let golden = include_str!("golden/demo.txt");
    let now = reliability_core::demo::render(&Settings::default());
    assert_eq!(now, golden);
    for section in [
        "==== A. RETRY: model fails twice, then works ====",
        "==== B. STEP CAP: model loops forever, cap stops it ====",
        "==== C. GRACEFUL DEGRADE: outage, all retries fail ====",
        "==== D. APPROVAL GATE: a risky action ====",
        "==== E. TIMEOUT: a slow call is given up on ====",
        "==== F. CIRCUIT BREAKER: a dead service ====",
    ] {
        assert!(now.contains(section), "{section}");
    }
    assert!(now.contains("caught: call timed out after 0.05s"));
}
