//! Replay tests: saved traces (tests/traces/*.json, written by the `export_traces` example) are
//! replayed against the engine; the same settings must make the same tool calls in the same
//! order, and the very same run. Runs natively and as wasm32.

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

use reliability_core::tracefile::{import, replay};

const SAVED: &[(&str, &str)] = &[
    ("a-default", include_str!("traces/a-default.json")),
    ("b-max-steps-2", include_str!("traces/b-max-steps-2.json")),
    ("d-approved", include_str!("traces/d-approved.json")),
    ("f-breaker", include_str!("traces/f-breaker.json")),
    ("g-no-keys", include_str!("traces/g-no-keys.json")),
    ("g-keys", include_str!("traces/g-keys.json")),
    (
        "h-two-rungs-down",
        include_str!("traces/h-two-rungs-down.json"),
    ),
    (
        "l-429-full-jitter",
        include_str!("traces/l-429-full-jitter.json"),
    ),
    ("m-confirmed", include_str!("traces/m-confirmed.json")),
];

#[test]
fn saved_traces_replay_with_the_same_tool_calls_in_the_same_order() {
    for (name, text) in SAVED {
        let file = import(text).unwrap_or_else(|e| panic!("{name}: {e}"));
        let report = replay(&file);
        let toolless = *name == "h-two-rungs-down";
        assert_eq!(
            report.saved.is_empty(),
            toolless,
            "{name}: tool calls saved"
        );
        assert_eq!(report.replayed, report.saved, "{name}: tool calls differ");
        assert!(
            report.identical,
            "{name}: the run differs from the saved one"
        );
    }
}

#[test]
fn the_saved_payment_traces_show_the_duplicate_and_its_absence() {
    let no_keys = import(SAVED[4].1).unwrap();
    let keys = import(SAVED[5].1).unwrap();
    assert_eq!(
        replay(&no_keys).saved,
        vec!["charge_card(\"cus_42\", 2500)"],
        "the model asks once; the retry is the duplicate"
    );
    assert_eq!(no_keys.run.effects.len(), 2);
    assert_eq!(keys.run.effects.len(), 1);
}
