//! Replay tests: saved traces (tests/traces/*.json, written by the `export_traces` example)
//! are replayed through driver 2: their recorded replies, this engine's decisions, no
//! simulator. The same settings must make the same tool calls in the same order, and the
//! very same run. Runs natively and as wasm32.

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

use reliability_core::recorded::first_difference;
use reliability_core::tracefile::{check, import, replay, replay_file, ImportError};

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
    // Recorded by the `live` example against the e2e stub of the Messages API (two failures
    // injected, then the real calls): it replays offline, with no key and no model.
    (
        "live-stub-failures-2",
        include_str!("traces/live-stub-failures-2.json"),
    ),
];

#[test]
fn saved_traces_replay_with_the_same_tool_calls_in_the_same_order() {
    for (name, text) in SAVED {
        let file = import(text).unwrap_or_else(|e| panic!("{name}: {e}"));
        let report = replay(&file);
        let toolless = *name == "h-two-rungs-down";
        if name.starts_with("live") {
            assert!(matches!(
                file.source,
                reliability_core::tracefile::Source::Live { .. }
            ));
        }
        assert_eq!(
            report.saved.is_empty(),
            toolless,
            "{name}: tool calls saved"
        );
        assert_eq!(report.replayed, report.saved, "{name}: tool calls differ");
        assert_eq!(report.first_difference, None, "{name}");
        assert!(
            report.identical,
            "{name}: the run differs from the saved one"
        );
        // The page's light reader agrees.
        let checked = check(text).unwrap();
        assert!(checked.report.identical, "{name}: the page's reader");
        assert_eq!(checked.report.first_difference, None, "{name}");
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

#[test]
fn a_different_policy_shows_the_first_action_that_differs() {
    // The payment recorded without keys, replayed with them: the retry's charge is answered
    // from memory instead of committed again.
    let file = import(SAVED[4].1).unwrap();
    let mut keys = file.settings();
    keys.idempotency = true;
    let again = replay_file(file.source.clone(), &keys, &file.tape);
    let (_, was, now) = first_difference(&file.run.trace, &again.trace).unwrap();
    assert_ne!(was, now);
    assert_eq!(was, "side effect: charge_card(\"cus_42\", 2500)");
    assert!(now.contains("(idempotency key idem-"), "{now}");
}

#[test]
fn a_version_1_file_is_named_as_such() {
    let old = SAVED[0].1.replacen("\"version\": 2", "\"version\": 1", 1);
    let e = import(&old).unwrap_err();
    assert_eq!(e, ImportError::OldVersion { version: 1 });
    assert!(e.to_string().contains("Export the run again"));
    assert_eq!(check(&old).unwrap_err(), e);
}
