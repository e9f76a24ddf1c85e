//! The failure-first toolbox cards G–N in the terminal.
//!
//! `cargo run -p reliability-core --example toolbox`

use reliability_core::approval::Decision;
use reliability_core::lab::{run_card, CardId, Settings};

fn main() {
    let s = Settings::default();
    for &id in CardId::TOOLBOX {
        let card = run_card(id, &s);
        let x = &card.explanation;
        println!(
            "==== {}. {} ====",
            id.letter(),
            id.card().title.to_uppercase()
        );
        println!("{}", card.run.outcome.lab_repr());
        println!("-> {}: {}", x.tone.label(), x.verdict);
        for (k, v) in &x.facts {
            println!("   {k}: {v}");
        }
        for g in &x.gauges {
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
        if id == CardId::M {
            let mut confirmed = s.clone();
            confirmed.set_decision(id, Some(Decision::Approve));
            let card = run_card(id, &confirmed);
            println!("   confirmed: {}", card.run.outcome.lab_repr());
        }
        println!();
    }
}
