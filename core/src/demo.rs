//! The lab's fault-injection demo as text: sections A–F, the way the lab's demo script prints
//! them. `cargo run -p reliability-core --example demo` prints it; a golden test pins it.

use crate::approval::Decision;
use crate::deadline::Deadline;
use crate::error::CallError;
use crate::scenario::{
    calls_without_breaker, model_for, run_scenario, ScenarioId, Settings, SLOW_CALL,
};
use crate::sim::{self, SimWorld};
use crate::time::Secs;
use crate::trace::EventKind;
use std::fmt::Write as _;

/// The demo's text for `s` (the lab's defaults give the lab's numbers).
pub fn render(s: &Settings) -> String {
    let mut out = String::new();
    let _ = write_demo(&mut out, s);
    out
}

fn write_demo(out: &mut String, s: &Settings) -> std::fmt::Result {
    writeln!(out, "==== A. RETRY: model fails twice, then works ====")?;
    let a = run_scenario(ScenarioId::A, s, true);
    writeln!(out, "{}", a.run.outcome.lab_repr())?;
    writeln!(out, "-> {}: {}", a.verdict.tone.label(), a.verdict.text)?;

    writeln!(
        out,
        "\n==== B. STEP CAP: model loops forever, cap stops it ===="
    )?;
    let b = run_scenario(ScenarioId::B, s, true);
    writeln!(out, "{}", b.run.outcome.lab_repr())?;

    writeln!(
        out,
        "\n==== C. GRACEFUL DEGRADE: outage, all retries fail ===="
    )?;
    let c = run_scenario(ScenarioId::C, s, true);
    writeln!(out, "{}", c.run.outcome.lab_repr())?;

    writeln!(out, "\n==== D. APPROVAL GATE: a risky action ====")?;
    // Nobody to ask: the default approver denies every risky tool.
    let deny = sim::run(
        s.agent_config(),
        &SimWorld::new(vec![model_for(ScenarioId::D, s)]),
        s.seed,
        false,
    )
    .unwrap_or_else(|_| run_scenario(ScenarioId::D, s, false).run);
    writeln!(out, "default (deny): {}", deny.outcome.lab_repr())?;
    let approve = run_scenario(
        ScenarioId::D,
        &Settings {
            approval: Some(Decision::Approve),
            ..s.clone()
        },
        true,
    );
    writeln!(out, "human approves: {}", approve.run.outcome.lab_repr())?;

    writeln!(out, "\n==== E. TIMEOUT: a slow call is given up on ====")?;
    let (_, r) = Deadline::new(s.timeout).apply(SLOW_CALL, Ok::<(), CallError>(()));
    if let Err(e) = r {
        writeln!(
            out,
            "caught: {e} (the call takes {}; retry would then retry)",
            Secs(SLOW_CALL)
        )?;
    }
    let e = run_scenario(ScenarioId::E, s, true);
    writeln!(out, "{}", e.run.outcome.lab_repr())?;

    writeln!(out, "\n==== F. CIRCUIT BREAKER: a dead service ====")?;
    let f = run_scenario(ScenarioId::F, s, true);
    for ev in &f.run.trace {
        if matches!(
            ev.kind,
            EventKind::Breaker { .. } | EventKind::FastFail { .. }
        ) {
            writeln!(out, "  at {:>7}: {ev}", Secs(ev.at).to_string())?;
        }
    }
    writeln!(out, "{}", f.run.outcome.answer)?;
    writeln!(
        out,
        "without a breaker: {} calls would have reached the service",
        calls_without_breaker(s)
    )?;
    Ok(())
}
