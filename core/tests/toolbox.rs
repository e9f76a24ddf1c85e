//! The failure-first toolbox cards G–N as their knobs move. Runs natively and as wasm32.

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

use reliability_core::agent::Stop;
use reliability_core::approval::Decision;
use reliability_core::caps::CapKind;
use reliability_core::lab::cards::h::LADDER;
use reliability_core::lab::{run_card, CardId, Choice, Injected, Settings, Tone};
use reliability_core::time::{MS, SEC};
use reliability_core::trace::EventKind;

fn with(f: impl FnOnce(&mut Settings)) -> Settings {
    let mut s = Settings::default();
    f(&mut s);
    s
}

fn fact(card: &reliability_core::lab::CardRun, label: &str) -> String {
    card.explanation
        .facts
        .iter()
        .find(|(k, _)| k == label)
        .map(|(_, v)| v.clone())
        .unwrap_or_else(|| panic!("no fact {label}"))
}

#[test]
fn g_a_lost_payment_response_charges_twice_without_keys_and_once_with() {
    let without = run_card(CardId::G, &Settings::default());
    assert_eq!(without.run.effects.len(), 2);
    assert_eq!(without.tone(), Tone::NotRecovered);
    assert_eq!(fact(&without, "with keys it would be"), "1 charge");
    assert!(without.run.trace.iter().any(|e| e
        .to_string()
        .starts_with("DUPLICATE side effect: charge_card")));

    let with_keys = run_card(CardId::G, &with(|s| s.idempotency = true));
    assert_eq!(with_keys.run.effects.len(), 1);
    assert_eq!(with_keys.run.outcome.counters.duplicates, 0);
    assert_eq!(with_keys.tone(), Tone::Handled);
    assert!(with_keys.run.trace.iter().any(|e| matches!(
        e.kind,
        EventKind::ToolResult {
            deduplicated: true,
            ..
        }
    )));
}

#[test]
fn h_each_rung_down_moves_the_answer_one_rung_and_is_counted() {
    for down in 0..=4u32 {
        let h = run_card(CardId::H, &with(|s| s.rungs_down = down));
        let o = &h.run.outcome;
        assert_eq!(o.counters.fallbacks, down.min(3), "rungs down {down}");
        if down < 4 {
            let (rung, _, degraded) = LADDER[down as usize];
            assert_eq!(o.stop, Stop::Answered);
            assert_eq!(fact(&h, "answered by"), rung);
            // A cached or advisory answer is less than the user asked for, and says so.
            assert_eq!(o.degraded, degraded, "rungs down {down}");
        } else {
            assert!(o.degraded);
            assert_eq!(fact(&h, "answered by"), "none");
        }
    }
    let advisory = run_card(CardId::H, &with(|s| s.rungs_down = 3));
    assert!(advisory
        .run
        .outcome
        .answer
        .starts_with("Suggestion for a human"));
}

#[test]
fn i_the_same_error_n_times_escalates_with_a_ticket() {
    // Errors count per (kind, target): the primary's three attempts can reach 1 to 3.
    for after in 1..=3u32 {
        let i = run_card(CardId::I, &with(|s| s.escalate_after = after));
        let o = &i.run.outcome;
        assert_eq!(o.stop, Stop::Escalated, "after {after}");
        assert_eq!(o.counters.model_calls, after);
        let h = o.handoff.as_ref().unwrap();
        assert_eq!(h.error, "503 Service Unavailable");
        assert!(h.ticket.starts_with("TCK-"));
        assert_eq!(h.user_input, "What is 17 x 23?");
        assert!(!h.plan.is_empty() && !h.suggested_next_step.is_empty());
    }
    // A 503 from the backup is not a fourth 503 from the primary: with 3 attempts a rung,
    // a count of 4 is never reached, so the run degrades after both rungs.
    let never = run_card(CardId::I, &with(|s| s.escalate_after = 4));
    assert_eq!(never.run.outcome.stop, Stop::Degraded);
    assert_eq!(never.run.outcome.counters.model_calls, 6);
}

#[test]
fn j_whichever_cap_is_reached_first_fires_and_says_so() {
    let j = run_card(CardId::J, &Settings::default());
    assert_eq!(j.run.outcome.stop, Stop::Cap(CapKind::Tokens));
    assert_eq!(j.explanation.gauges.iter().filter(|g| g.fired).count(), 1);

    let turns = run_card(CardId::J, &with(|s| s.max_turns = 3));
    assert_eq!(turns.run.outcome.stop, Stop::Cap(CapKind::Steps));
    assert!(turns.verdict().starts_with("the turn cap fired first"));

    let cost = run_card(
        CardId::J,
        &with(|s| {
            s.max_tokens = 30_000;
            s.max_cost = 10_000;
        }),
    );
    assert_eq!(cost.run.outcome.stop, Stop::Cap(CapKind::Cost));

    let wall = run_card(
        CardId::J,
        &with(|s| {
            s.max_tokens = 30_000;
            s.max_turns = 30;
            s.max_wall = 100 * MS;
        }),
    );
    assert_eq!(wall.run.outcome.stop, Stop::Cap(CapKind::WallTime));
    for g in &wall.explanation.gauges {
        assert_eq!(g.fired, g.name == "wall-time", "{}", g.name);
    }
}

#[test]
fn k_the_kill_switch_stops_the_loop_within_one_step_of_going_on() {
    for ms in [0u64, 10, 50, 100, 200, 300] {
        let k = run_card(CardId::K, &with(|s| s.kill_at = ms * MS));
        assert_eq!(k.run.outcome.stop, Stop::Killed, "{ms} ms");
        for e in &k.run.trace {
            if matches!(e.kind, EventKind::Step | EventKind::Attempt { .. }) {
                assert!(e.at < ms * MS, "{e} began after the switch at {ms} ms");
            }
        }
    }
    let late = run_card(CardId::K, &with(|s| s.kill_at = 500 * MS));
    assert_eq!(late.run.outcome.stop, Stop::Cap(CapKind::Steps));
}

#[test]
fn the_header_kill_switch_stops_every_card_before_its_first_step() {
    let s = with(|s| s.kill = true);
    for id in CardId::ALL {
        let card = run_card(id, &s);
        assert_eq!(card.run.outcome.counters.model_calls, 0, "{id:?}");
        assert!(card.run.effects.is_empty(), "{id:?}");
        assert_eq!(card.run.outcome.stop, Stop::Killed, "{id:?}");
        assert_eq!(
            card.verdict(),
            "the kill switch is on: the run stopped before its first step",
            "{id:?}"
        );
    }
    // Off again, runs start as before.
    let a = run_card(CardId::A, &Settings::default());
    assert_eq!(a.run.outcome.answer, "The answer is 391.");
}

#[test]
fn l_retries_exactly_the_transient_errors() {
    for (&error, name) in Injected::ALL.iter().zip(Injected::NAMES) {
        let l = run_card(CardId::L, &with(|s| s.error = error));
        let o = &l.run.outcome;
        let transient = matches!(*name, "500" | "503" | "429" | "timeout" | "network");
        assert_eq!(
            fact(&l, "retry?"),
            if transient { "yes" } else { "no" },
            "{name}"
        );
        if transient {
            assert_eq!(o.answer, "The answer is 391.", "{name}");
            assert_eq!(o.counters.retries, 2, "{name}");
            if *name == "timeout" {
                // The hang is given up on at the lab's timeout, for real.
                assert_eq!(o.counters.timeouts, 2);
            }
        } else {
            assert_eq!(o.counters.retries, 0, "{name}");
            assert!(o.degraded, "{name}");
            assert_eq!(o.counters.model_calls, 1, "{name}");
        }
    }
    let ra = run_card(CardId::L, &with(|s| s.error = Injected::E429));
    let waits = ra.run.backoff_waits();
    assert_eq!(
        waits,
        vec![2 * SEC, 2 * SEC],
        "Retry-After 2s beats 0.5s and 1.0s"
    );
}

#[test]
fn m_updates_one_test_record_then_waits_for_a_confirm() {
    let m = run_card(CardId::M, &Settings::default());
    assert_eq!(m.tone(), Tone::Waiting);
    assert_eq!(fact(&m, "records updated"), "1 of 100");
    let confirmed = run_card(
        CardId::M,
        &with(|s| s.scope_confirm = Some(Decision::Approve)),
    );
    assert_eq!(fact(&confirmed, "records updated"), "100 of 100");
    let stopped = run_card(CardId::M, &with(|s| s.scope_confirm = Some(Decision::Deny)));
    assert_eq!(fact(&stopped, "records updated"), "1 of 100");
    assert_eq!(stopped.run.outcome.blocked, vec!["update_records"]);
}

#[test]
fn n_revises_below_the_bar_once_and_never_more() {
    for t in 0..=10u32 {
        let n = run_card(CardId::N, &with(|s| s.critic_threshold = t));
        let critiques = n
            .run
            .trace
            .iter()
            .filter(|e| matches!(e.kind, EventKind::Critique { .. }))
            .count();
        let expected = if t <= 5 { 1 } else { 2 };
        assert_eq!(critiques, expected, "threshold {t}");
        assert_eq!(n.run.outcome.stop, Stop::Answered);
    }
}
