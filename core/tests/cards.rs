//! Every word on a card is true: property tests over every card and random settings of every
//! knob (10,000 cases each). Native only: proptest needs a file system for its regressions.
#![cfg(not(target_arch = "wasm32"))]

use proptest::prelude::*;
use reliability_core::agent::{Run, Stop};
use reliability_core::caps::{fmt_usd, CapKind};
use reliability_core::lab::explain::{count, End, Reading, RequestKind};
use reliability_core::lab::{run_card, simulate, CardId, CardRun, Settings, Tone, KNOBS};
use reliability_core::time::{Brief, Secs};
use std::collections::BTreeSet;

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 10_000,
        ..ProptestConfig::default()
    }
}

/// Values on each knob's grid (min, min + step, ..., max).
fn grid_len(i: usize) -> u64 {
    let k = &KNOBS[i];
    ((k.max - k.min) / k.step).round() as u64 + 1
}

fn grid_value(i: usize, pick: u64) -> f64 {
    let k = &KNOBS[i];
    let v = k.min + (pick % grid_len(i)) as f64 * k.step;
    // Keep cents and microseconds exact, as a slider would.
    (v * 1e6).round() / 1e6
}

/// Settings with every knob at a random point of its grid (some left at their defaults).
fn settings() -> impl Strategy<Value = Settings> {
    prop::collection::vec((any::<bool>(), any::<u64>()), KNOBS.len()).prop_map(|picks| {
        let mut s = Settings::default();
        for (i, (change, pick)) in picks.into_iter().enumerate() {
            if change {
                s.set(KNOBS[i].name, grid_value(i, pick))
                    .expect("grid values are in range");
            }
        }
        s
    })
}

fn card() -> impl Strategy<Value = CardId> {
    prop::sample::select(CardId::ALL.to_vec())
}

/// Number tokens of `text`: digit runs (with a decimal point) that stand alone or carry a
/// unit ("0.5s", "$0.03", "5/10", "step 2"), not digits inside a word (a ticket id).
fn numbers(text: &str) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        if chars[i].is_ascii_digit() && (i == 0 || !chars[i - 1].is_alphanumeric()) {
            let start = i;
            while i < chars.len() && (chars[i].is_ascii_digit() || chars[i] == '.') {
                i += 1;
            }
            let token: String = chars[start..i].iter().collect();
            let token = token.trim_end_matches('.').to_string();
            let next = chars.get(i).copied().unwrap_or(' ');
            let unit_or_end = !next.is_alphanumeric()
                || (next == 's' && !chars.get(i + 1).is_some_and(|c| c.is_alphanumeric()));
            if unit_or_end {
                out.push(token);
            }
        } else {
            i += 1;
        }
    }
    out
}

/// Every number a run holds, in every way the cards show numbers: as is, as seconds (exact
/// and to the millisecond) and as dollars; with the numbers in its texts.
fn allowed(runs: &[&Run]) -> BTreeSet<String> {
    fn walk(v: &serde_json::Value, out: &mut BTreeSet<String>) {
        match v {
            serde_json::Value::Number(n) => {
                if let Some(u) = n.as_u64() {
                    out.insert(u.to_string());
                    for shown in [Secs(u).to_string(), Brief(u).to_string()] {
                        out.insert(shown.trim_end_matches('s').to_string());
                    }
                    out.insert(fmt_usd(u).trim_start_matches('$').to_string());
                }
            }
            serde_json::Value::String(s) => out.extend(numbers(s)),
            serde_json::Value::Array(a) => a.iter().for_each(|x| walk(x, out)),
            serde_json::Value::Object(o) => o.values().for_each(|x| walk(x, out)),
            _ => {}
        }
    }
    let mut out = BTreeSet::new();
    for run in runs {
        walk(&serde_json::to_value(run).unwrap(), &mut out);
        // Each event's own line (its detail) is derived from the run too.
        for e in &run.trace {
            out.extend(numbers(&e.to_string()));
        }
    }
    // Scores are out of 10.
    out.insert("10".into());
    out
}

/// What the card prints about its run.
fn printed(card: &CardRun) -> String {
    let x = &card.explanation;
    let mut text = x.verdict.clone();
    for (k, v) in &x.facts {
        text.push_str(&format!("\n{k}: {v}"));
    }
    for line in &x.lines {
        text.push('\n');
        text.push_str(line);
    }
    text
}

fn check_card(id: CardId, s: &Settings) -> Result<(), TestCaseError> {
    let card = run_card(id, s);
    let run = &card.run;
    let r = Reading::new(run);
    let v = card.verdict();
    let o = &run.outcome;
    let why = || format!("card {id:?} with ?{}: {v}", s.to_query());

    // The verdict names the mechanism that ended the run, and no other stop.
    let names = |words: &[&str]| words.iter().any(|w| v.contains(w));
    if run.requests.is_empty() {
        let ok = match r.end {
            End::Cap(hit, _) => match hit.cap {
                CapKind::Steps => names(&["step cap", "turn cap"]),
                CapKind::Tokens => names(&["token"]),
                CapKind::Cost => names(&["cost"]),
                CapKind::WallTime => names(&["wall-time"]),
            },
            End::Killed { .. } => names(&["switch"]),
            End::Escalated { .. } => names(&["handed", "handoff"]),
            End::InvalidArgs(_) => names(&["invalid"]),
            End::Degraded(_) => names(&["safe message", "degraded", "not retried", "could not"]),
            End::Paused(_) => names(&["wait", "paused"]),
            End::Answered => true,
        };
        prop_assert!(ok, "the verdict misses what ended the run: {}", why());
    }
    let killed = matches!(r.end, End::Killed { .. }) || o.stop == Stop::Killed;
    if !killed {
        prop_assert!(
            !names(&["kill switch is on", "switch went on at"]),
            "claims a kill switch: {}",
            why()
        );
    }
    let capped = run
        .trace
        .iter()
        .any(|e| matches!(e.kind, reliability_core::trace::EventKind::Cap { .. }));
    if !capped {
        prop_assert!(
            !names(&["cap stopped", "cap fired"]),
            "claims a cap: {}",
            why()
        );
    }
    if o.stop != Stop::Escalated {
        prop_assert!(
            !names(&["handed off", "handed to"]),
            "claims a handoff: {}",
            why()
        );
    }

    // The tone agrees with the outcome.
    let tone = card.tone();
    if run.requests.is_empty() {
        prop_assert_eq!(
            tone == Tone::Waiting,
            o.stop == Stop::AwaitingApproval,
            "{}",
            why()
        );
        if o.counters.duplicates == 0 {
            prop_assert_eq!(
                tone == Tone::Degraded,
                o.stop == Stop::Degraded,
                "{}",
                why()
            );
        }
    }
    if tone == Tone::NotRecovered {
        prop_assert!(o.counters.duplicates > 0, "{}", why());
    }
    if tone == Tone::Calm {
        prop_assert!(
            matches!(o.stop, Stop::Answered | Stop::Cap(_)) && r.failures() == 0,
            "calm, but something failed: {}",
            why()
        );
    }

    // Every number the card prints is one its runs produced.
    let contrast = card.contrast.as_ref().map(|(_, c)| c);
    let mut runs = vec![run];
    runs.extend(contrast);
    let allowed = allowed(&runs);
    for n in numbers(&printed(&card)) {
        prop_assert!(
            allowed.contains(&n),
            "{n} is not a number of the run: {}\n{}",
            why(),
            printed(&card)
        );
    }

    // A series' requests add up.
    if !run.requests.is_empty() {
        let total: usize = [
            RequestKind::Answered,
            RequestKind::FailedFast,
            RequestKind::Degraded,
            RequestKind::Capped,
            RequestKind::Killed,
        ]
        .into_iter()
        .map(|k| count(&run.requests, k))
        .sum();
        prop_assert_eq!(total, run.requests.len(), "{}", why());
        let calls: u32 = run.requests.iter().map(|q| q.calls).sum();
        prop_assert_eq!(calls, o.counters.model_calls, "{}", why());
    }
    Ok(())
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn every_card_says_only_what_its_run_shows(id in card(), s in settings()) {
        check_card(id, &s)?;
    }

    #[test]
    fn a_link_round_trips_every_setting(s in settings()) {
        let (back, notices) = Settings::from_query(&s.to_query());
        prop_assert!(notices.is_empty(), "{notices:?}");
        prop_assert_eq!(&back, &s);
        let (full, notices) = Settings::from_query(&s.to_full_query());
        prop_assert!(notices.is_empty(), "{notices:?}");
        prop_assert_eq!(full, s);
    }

    #[test]
    fn a_knob_a_card_does_not_list_never_changes_its_run(
        id in card(), s in settings(), which in any::<prop::sample::Index>(), pick in any::<u64>(),
    ) {
        // The header's kill switch stops every card; its tag shows whenever it is on.
        let unlisted: Vec<usize> = (0..KNOBS.len())
            .filter(|&i| KNOBS[i].name != "kill" && !id.card().knobs.contains(&KNOBS[i].name))
            .collect();
        let knob = *which.get(&unlisted);
        let k = &KNOBS[knob];
        let mut other = s.clone();
        other.set(k.name, grid_value(knob, pick)).unwrap();
        prop_assert_eq!(
            simulate(id, &s, true),
            simulate(id, &other, true),
            "{} changed card {:?} without being listed (?{} vs ?{})",
            k.name, id, s.to_query(), other.to_query()
        );
    }
}

#[test]
fn number_tokens_are_read_as_a_person_reads_them() {
    assert_eq!(
        numbers("retry recovered on attempt 3 after waiting 0.5s and 1.0s"),
        vec!["3", "0.5", "1.0"]
    );
    assert_eq!(
        numbers("ticket TCK-1c0d6a, $0.0294, 5/10."),
        vec!["0.0294", "5", "10"]
    );
}

#[test]
fn a_default_page_has_no_query_and_one_change_is_one_parameter() {
    assert_eq!(Settings::default().to_query(), "");
    let s = Settings {
        max_steps: 2,
        ..Settings::default()
    };
    assert_eq!(s.to_query(), "max_steps=2");
    // An old long link (every setting written out) still opens as the same settings.
    let long = "failures=2&max_steps=2&timeout=0.05&attempts=3&base_delay=0.5&seed=1&breaker_threshold=3&breaker_cooldown=5&idempotency=off&rungs_down=1&escalate_after=3&max_turns=10&max_tokens=8000&max_cost=0.05&max_wall=1&kill_at=0.1&error=503&critic_threshold=7&stats_workload=answer&stats_rate=0.2&stats_latency=fixed&stats_runs=10000&ab_variant=more_attempts&herd_clients=50&amp_sdk=3&amp_framework=3&amp_tool=3&amp_retry_after=0&jitter=none";
    let (old, notices) = Settings::from_query(long);
    assert!(notices.is_empty(), "{notices:?}");
    assert_eq!(old, s);
}

#[test]
fn many_unknown_settings_are_one_notice() {
    let junk: Vec<String> = (0..200).map(|i| format!("junk{i}=1")).collect();
    let (s, notices) = Settings::from_query(&junk.join("&"));
    assert_eq!(s, Settings::default());
    assert_eq!(notices.len(), 1);
    assert!(notices[0]
        .message
        .starts_with("200 unknown settings ignored: junk0, junk1, junk2, junk3, junk4, …"));
}

/// The sweep the issue describes, done exhaustively over the lab's three sliders with
/// attempts, base delay and jitter: not one false card.
#[test]
fn the_lab_sliders_sweep_has_no_false_card() {
    for failures in 0..=6 {
        for max_steps in 1..=12 {
            for timeout in [0.05, 0.5, 1.5, 5.0] {
                for attempts in [1, 3, 8] {
                    for jitter in ["none", "full"] {
                        let q = format!(
                            "failures={failures}&max_steps={max_steps}&timeout={timeout}&attempts={attempts}&jitter={jitter}"
                        );
                        let (s, notices) = Settings::from_query(&q);
                        assert!(notices.is_empty());
                        for id in CardId::ALL {
                            check_card(id, &s).unwrap_or_else(|e| panic!("{e}"));
                        }
                    }
                }
            }
        }
    }
}
