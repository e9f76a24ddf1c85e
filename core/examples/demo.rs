//! The lab's fault-injection demo in the terminal: sections A–F, as the lab prints them.
//!
//! `cargo run -p reliability-core --example demo`

use reliability_core::agent;
use reliability_core::approval::Decision;
use reliability_core::deadline::Deadline;
use reliability_core::error::CallError;
use reliability_core::scenario::{
    calls_without_breaker, model_for, run_scenario, ScenarioId, Settings, SLOW_CALL,
};
use reliability_core::time::Secs;
use reliability_core::trace::EventKind;

fn main() {
    let s = Settings::default();

    println!("==== A. RETRY: model fails twice, then works ====");
    let a = run_scenario(ScenarioId::A, &s, true);
    println!("{}", a.run.outcome.lab_repr());
    println!("-> {}: {}", a.verdict.tone.label(), a.verdict.text);

    println!("\n==== B. STEP CAP: model loops forever, cap stops it ====");
    let b = run_scenario(ScenarioId::B, &s, true);
    println!("{}", b.run.outcome.lab_repr());

    println!("\n==== C. GRACEFUL DEGRADE: outage, all retries fail ====");
    let c = run_scenario(ScenarioId::C, &s, true);
    println!("{}", c.run.outcome.lab_repr());

    println!("\n==== D. APPROVAL GATE: a risky action ====");
    // Nobody to ask: the default approver denies every risky tool.
    let deny = agent::run(
        s.agent_config(),
        vec![model_for(ScenarioId::D, &s)],
        s.seed,
        false,
    )
    .expect("the default settings are valid");
    println!("default (deny): {}", deny.outcome.lab_repr());
    let approve = run_scenario(
        ScenarioId::D,
        &Settings {
            approval: Some(Decision::Approve),
            ..s.clone()
        },
        true,
    );
    println!("human approves: {}", approve.run.outcome.lab_repr());

    println!("\n==== E. TIMEOUT: a slow call is given up on ====");
    let (_, r) = Deadline::new(s.timeout).apply(SLOW_CALL, Ok::<(), CallError>(()));
    if let Err(e) = r {
        println!(
            "caught: {e} (the call takes {}; retry would then retry)",
            Secs(SLOW_CALL)
        );
    }
    let e = run_scenario(ScenarioId::E, &s, true);
    println!("{}", e.run.outcome.lab_repr());

    println!("\n==== F. CIRCUIT BREAKER: a dead service ====");
    let f = run_scenario(ScenarioId::F, &s, true);
    for ev in &f.run.trace {
        if matches!(
            ev.kind,
            EventKind::Breaker { .. } | EventKind::FastFail { .. }
        ) {
            println!("  at {:>7}: {ev}", Secs(ev.at).to_string());
        }
    }
    println!("{}", f.run.outcome.answer);
    println!(
        "without a breaker: {} calls would have reached the service",
        calls_without_breaker(&s)
    );
}
