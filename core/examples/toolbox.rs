//! The failure-first toolbox cards G–N in the terminal.
//!
//! `cargo run -p reliability-core --example toolbox`

use reliability_core::approval::Decision;
use reliability_core::scenario::{run_scenario, ScenarioId, Settings};

fn main() {
    let s = Settings::default();
    for &id in ScenarioId::TOOLBOX {
        let card = run_scenario(id, &s, true);
        println!("==== {}. {} ====", id.letter(), id.title().to_uppercase());
        println!("{}", card.run.outcome.lab_repr());
        println!("-> {}: {}", card.verdict.tone.label(), card.verdict.text);
        for (k, v) in &card.facts {
            println!("   {k}: {v}");
        }
        for g in &card.gauges {
            let fired = if g.fired { "  <- fired first" } else { "" };
            println!(
                "   {} cap: {} of {}{fired}",
                g.name, g.used_text, g.limit_text
            );
        }
        if let Some(h) = &card.run.outcome.handoff {
            println!(
                "   handoff: {}",
                serde_json::to_string(h).unwrap_or_default()
            );
        }
        if id == ScenarioId::M {
            let mut confirmed = s.clone();
            confirmed.set_decision(id, Some(Decision::Approve));
            let card = run_scenario(id, &confirmed, false);
            println!("   confirmed: {}", card.run.outcome.lab_repr());
        }
        println!();
    }
}
