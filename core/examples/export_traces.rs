//! Writes the saved traces that `tests/replay.rs` replays against the engine.
//!
//! `cargo run -p reliability-core --example export_traces`
//!
//! Run it only when the engine's behaviour changes on purpose, and review the diff: the replay
//! tests exist to catch the changes nobody meant to make.

use reliability_core::lab::{run_card, CardId, Settings};
use reliability_core::tracefile::TraceFile;
use std::path::Path;

/// (file name, permalink query, card).
pub const SAVED: &[(&str, &str, &str)] = &[
    ("a-default", "", "A"),
    ("b-max-steps-2", "max_steps=2", "B"),
    ("d-approved", "approval=approve", "D"),
    ("f-breaker", "", "F"),
    ("g-no-keys", "idempotency=off", "G"),
    ("g-keys", "idempotency=on", "G"),
    ("h-two-rungs-down", "rungs_down=2", "H"),
    ("l-429-full-jitter", "error=429&jitter=full&seed=9", "L"),
    ("m-confirmed", "scope_confirm=approve", "M"),
];

fn main() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/traces");
    for (name, query, card) in SAVED {
        let settings = Settings::from_query(query).0;
        let id = CardId::parse(card).expect("a card letter");
        let run = run_card(id, &settings);
        let path = dir.join(format!("{name}.json"));
        std::fs::write(&path, TraceFile::new(&run, &settings).to_json() + "\n")
            .unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
        println!("wrote {}", path.display());
    }
}
