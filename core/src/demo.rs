//! The lab's fault-injection demo as text: sections A–F, the way the lab's demo script prints
//! them. `cargo run -p reliability-core --example demo` prints it; a golden test pins it.
//!
//! Each section prints the card's result in the handout's dict form and the card's own lines
//! (the same lines the page shows on the card), then its verdict.

use crate::lab::{run_card, CardId, CardRun, Settings};
use std::fmt::Write as _;

/// The demo's text for `s` (the lab's defaults give the lab's numbers).
pub fn render(s: &Settings) -> String {
    let mut out = String::new();
    let _ = write_demo(&mut out, s);
    out
}

const HEADINGS: [(CardId, &str); 6] = [
    (CardId::A, "A. RETRY: model fails twice, then works"),
    (CardId::B, "B. STEP CAP: model loops forever, cap stops it"),
    (CardId::C, "C. GRACEFUL DEGRADE: outage, all retries fail"),
    (CardId::D, "D. APPROVAL GATE: a risky action"),
    (CardId::E, "E. TIMEOUT: a slow call is given up on"),
    (CardId::F, "F. CIRCUIT BREAKER: a dead service"),
];

fn section(out: &mut String, card: &CardRun) -> std::fmt::Result {
    let x = &card.explanation;
    // D's lines already hold its results; every other card prints its result first.
    if card.id != CardId::D {
        writeln!(out, "{}", card.run.outcome.lab_repr())?;
    }
    for line in &x.lines {
        writeln!(out, "{line}")?;
    }
    for (k, v) in &x.facts {
        writeln!(out, "{k}: {v}")?;
    }
    writeln!(out, "-> {}: {}", x.tone.label(), x.verdict)
}

fn write_demo(out: &mut String, s: &Settings) -> std::fmt::Result {
    for (i, (id, heading)) in HEADINGS.iter().enumerate() {
        if i > 0 {
            writeln!(out)?;
        }
        writeln!(out, "==== {heading} ====")?;
        // D: the handout shows the default (nobody asked: deny) and a human's yes.
        let settings = if *id == CardId::D {
            Settings {
                approval: Some(crate::approval::Decision::Approve),
                ..s.clone()
            }
        } else {
            s.clone()
        };
        section(out, &run_card(*id, &settings))?;
    }
    Ok(())
}
