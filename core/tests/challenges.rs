//! Challenges: every built-in is reachable and can be failed, scoring is exact and the same
//! natively and in wasm32, links read back exactly, tampered links name what is wrong, and
//! the seed knob cannot buy a better score. Runs natively and as wasm32.

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

use reliability_core::challenge::{
    builtin, read_link, score, Challenge, Claim, Conditions, ErrorMix, Goals, Link, Measures,
    Metric, Outage, Score, Scoring, SharedResult, BUILTINS, POLICY_KNOBS,
};
use reliability_core::lab::{CardId, Settings};
use reliability_core::stats::{LatencyDist, Workload};
use reliability_core::time::{MS, SEC};
use std::cmp::Ordering;

fn settings(query: &str) -> Settings {
    let (s, notices) = Settings::from_query(query);
    assert!(notices.is_empty(), "{query}: {notices:?}");
    s
}

/// A policy for [`stormy`]: retries with full jitter, keys and a shared breaker.
const STORMY_POLICY: &str =
    "attempts=4&base_delay=0.1&jitter=full&idempotency=on&use_breaker=on&breaker_threshold=10&breaker_cooldown=1";

/// A challenge of `runs` requests that meets every kind of fault at once.
fn stormy(runs: u32) -> Challenge {
    Challenge {
        runs,
        ..Challenge::custom(
            "Stormy",
            Conditions {
                workload: Workload::Pay,
                failure: 200_000,
                latency: LatencyDist::Tail,
                errors: ErrorMix {
                    e503: 40,
                    e429: 20,
                    hang: 30,
                    e500: 10,
                },
                outage: Some(Outage {
                    from: 5 * SEC,
                    to: 8 * SEC,
                    every: 20 * SEC,
                }),
                lost: 50_000,
                arrival: 100 * MS,
            },
            Goals {
                success: Some(900_000),
                p99: Some(2 * SEC),
                calls: Some(2_500),
                cost: Some(5_000),
                once: true,
                ..Goals::NONE
            },
        )
    }
}

#[test]
fn every_built_in_passes_with_its_known_policy_and_fails_without_it() {
    for b in &BUILTINS {
        let c = &b.challenge;
        let pass = score(c, &b.passing_settings()).unwrap();
        assert!(pass.passed, "{}: {}", c.id, pass.verdict());
        for g in &pass.goals {
            assert!(g.passed && !g.close, "{}: {}", c.id, g.line());
        }
        let fail = score(c, &b.failing_settings()).unwrap();
        assert!(!fail.passed, "{}: {}", c.id, fail.verdict());
        let meant = fail.goals.iter().find(|g| g.metric == b.fails).unwrap();
        assert!(!meant.passed, "{}: {}", c.id, meant.line());
        assert_eq!(pass.measures.runs, Challenge::DEFAULT_RUNS);
    }
}

#[test]
fn the_built_ins_are_eight_distinct_well_described_challenges() {
    let ids: Vec<&str> = BUILTINS.iter().map(|b| &*b.challenge.id).collect();
    assert_eq!(
        ids,
        ["flaky", "loop", "outage", "tail", "charge", "dead", "budget", "storm"]
    );
    for b in &BUILTINS {
        let c = &b.challenge;
        assert!(c.validate().is_ok(), "{}", c.id);
        assert!(c.id.bytes().all(|x| x.is_ascii_lowercase()) && c.id.len() <= 8);
        assert_eq!(builtin(&c.id).map(|x| &x.challenge), Some(c));
        assert_eq!(c.builtin().map(|x| &*x.challenge.id), Some(&*c.id));
        assert_eq!(
            b.teaches.matches(". ").count() + 1,
            2,
            "{}: two sentences",
            c.id
        );
        assert!(b.teaches.ends_with('.'));
        assert!(!b.cards.is_empty());
        assert!(
            c.goals.target(b.fails).is_some(),
            "{} fails a goal it has",
            c.id
        );
    }
    let first: Vec<CardId> = BUILTINS.iter().map(|b| b.cards[0]).collect();
    use CardId::*;
    assert_eq!(first, [A, B, C, E, G, F, J, G]);
}

#[test]
fn scoring_is_deterministic_and_chunks_add_up_to_the_whole() {
    let c = stormy(300);
    let s = settings(STORMY_POLICY);
    let whole = score(&c, &s).unwrap();
    assert_eq!(whole, score(&c, &s).unwrap());
    let mut chunked = Scoring::new(&c, &s).unwrap();
    let mut steps = 0;
    while !chunked.step(37) {
        steps += 1;
        assert_eq!(chunked.done(), 37 * steps);
    }
    assert_eq!((chunked.done(), chunked.total()), (300, 300));
    assert_eq!(chunked.score(), whole);
}

/// The page scores in a worker and judges the measures it hands back: the same score.
#[test]
fn measures_cross_to_a_worker_and_back_exactly() {
    let c = stormy(300);
    let whole = score(&c, &settings(STORMY_POLICY)).unwrap();
    let wire = whole.measures.to_wire();
    let back = Measures::from_wire(&wire).unwrap();
    assert_eq!(back, whole.measures);
    assert_eq!(Score::of(&c.goals, back), whole);
    // Squares beyond 2^53 (where a JavaScript number would round) survive too.
    let big = Measures {
        squares: [u128::MAX, 1 << 100, 3],
        ..whole.measures.clone()
    };
    assert_eq!(Measures::from_wire(&big.to_wire()), Some(big));
    for bad in [
        "",
        "1 2 3",
        &format!("{wire} 4"),
        &wire.replacen(' ', "  ", 1),
        "x",
    ] {
        assert_eq!(Measures::from_wire(bad), None, "{bad:?}");
    }
    // A count too big for its field is refused, not wrapped.
    let mut fields: Vec<&str> = wire.split(' ').collect();
    fields[0] = "4294967296";
    assert_eq!(Measures::from_wire(&fields.join(" ")), None);
}

/// Computed once natively; the wasm32 build of this test must reach the very same numbers.
#[test]
fn one_small_score_is_pinned_to_the_request() {
    let c = stormy(300);
    let s = settings(STORMY_POLICY);
    let sc = score(&c, &s).unwrap();
    assert_eq!(
        sc.measures,
        Measures {
            runs: 300,
            success: 199,
            degraded: 101,
            blocked: 0,
            p50: 50_000,
            p95: 2_070_000,
            p99: 2_495_665,
            calls: 563,
            tokens: 230_850,
            cost: 933_750,
            duplicated: 0,
            unapproved: 0,
            squares: [1_637, 264_177_500, 4_320_517_500],
        }
    );
    let lines: Vec<String> = sc.goals.iter().map(|g| g.line()).collect();
    assert_eq!(
        lines,
        [
            "success rate 66.33% ± 6.97% (goal ≥ 90.00%): fails by 23.67%",
            "p99 latency 2.496s (goal ≤ 2.0s): fails by 0.496s",
            "model calls per request 1.88 ± 0.21 (goal ≤ 2.50): passes by 0.62",
            "cost per request $0.003113 ± $0.000324 (goal ≤ $0.005): passes by $0.001888",
            "no duplicate side effect: passes (no request repeated a side effect)",
        ]
    );
    assert_eq!(
        sc.verdict(),
        "failed 2 of 5 goals (success rate, p99 latency) over 300 requests"
    );
    assert_eq!(c.seed(), 1_644_334_899_162_520_087);
}

#[test]
fn the_seed_knob_and_other_non_policy_knobs_do_not_change_a_score() {
    let c = Challenge {
        runs: 400,
        ..BUILTINS[0].challenge.clone()
    };
    let base = score(&c, &Settings::default()).unwrap();
    for q in [
        "seed=999999",
        "seed=0",
        "failures=6&stats_rate=0.9&stats_runs=50000&max_turns=1",
    ] {
        assert_eq!(score(&c, &settings(q)).unwrap(), base, "{q}");
    }
    // A policy knob does.
    assert_ne!(score(&c, &settings("attempts=6")).unwrap(), base);
}

#[test]
fn fewer_runs_score_the_first_requests_of_the_full_challenge() {
    // Seeds come from the conditions, not from the number of runs or the goals.
    let full = &BUILTINS[3].challenge;
    let short = Challenge {
        runs: 200,
        goals: Goals {
            p95: Some(SEC),
            ..Goals::NONE
        },
        ..full.clone()
    };
    assert_eq!(short.seed(), full.seed());
    let mut scoring = Scoring::new(full, &Settings::default()).unwrap();
    scoring.step(200);
    assert_eq!(
        scoring.score().measures,
        score(&short, &Settings::default()).unwrap().measures
    );
}

#[test]
fn the_tie_break_is_cost_per_request_and_a_pass_ranks_first() {
    let b = builtin("flaky").unwrap();
    let c = Challenge {
        runs: 2_000,
        ..b.challenge.clone()
    };
    let pass = score(&c, &b.passing_settings()).unwrap();
    let costly = score(&c, &settings("attempts=8&base_delay=0.2")).unwrap();
    let fail = score(&c, &b.failing_settings()).unwrap();
    assert!(pass.passed && costly.passed && !fail.passed);
    assert_eq!(pass.rank(&fail), Ordering::Less);
    assert_eq!(fail.rank(&pass), Ordering::Greater);
    // More attempts recover more requests, and each answered request costs its two calls.
    assert!(costly.tie_break() >= pass.tie_break());
    assert!(
        pass.verdict().contains("tie-break: $0.00"),
        "{}",
        pass.verdict()
    );
}

#[test]
fn built_in_links_are_one_parameter_and_read_back() {
    for b in &BUILTINS {
        let q = b.challenge.to_query();
        assert_eq!(q, format!("challenge={}", b.challenge.id));
        assert_eq!(Challenge::from_query(&q), Ok(b.challenge.clone()));
        assert_eq!(
            read_link(&format!("?{q}&seed=7")),
            Ok(Some(Link::Challenge(b.challenge.clone())))
        );
    }
}

#[test]
fn a_custom_challenge_link_reads_back_exactly() {
    let c = stormy(2_500);
    let q = c.to_query();
    assert_eq!(
        q,
        "ch_title=Stormy&ch_work=pay&ch_fail=20&ch_lat=tail&ch_mix=503:40,429:20,hang:30,500:10\
         &ch_outage=5-8/20&ch_lost=5&ch_runs=2500&ch_success=90&ch_p99=2&ch_calls=2.5\
         &ch_cost=0.005&ch_rules=once"
    );
    assert_eq!(Challenge::from_query(&q), Ok(c));
    // A title with spaces and symbols is percent-encoded.
    let odd = Challenge::custom(
        "Pay & wait: 50% off?",
        Conditions::DEFAULT,
        Goals {
            p95: Some(250 * MS),
            ..Goals::NONE
        },
    );
    let q = odd.to_query();
    assert_eq!(
        q,
        "ch_title=Pay%20%26%20wait%3A%2050%25%20off%3F&ch_p95=0.25"
    );
    assert_eq!(Challenge::from_query(&q), Ok(odd));
}

#[test]
fn a_shared_result_reads_back_and_rechecks() {
    // A built-in changed in any way is a custom challenge.
    let b = builtin("charge").unwrap();
    let c = Challenge {
        runs: 1_000,
        ..Challenge::custom(
            b.challenge.title.clone(),
            b.challenge.conditions,
            b.challenge.goals,
        )
    };
    let s = settings("idempotency=on&jitter=equal&seed=42&failures=5");
    let claim = score(&c, &s).unwrap().claim();
    assert_eq!(claim, Claim::Pass);
    let r = SharedResult::new(c, &s, claim);
    let q = r.to_query();
    assert!(
        q.ends_with("&jitter=equal&idempotency=on&claim=pass"),
        "only policy knobs travel: {q}"
    );
    let back = SharedResult::from_query(&q).unwrap();
    assert_eq!(back, r);
    assert_eq!(read_link(&q), Ok(Some(Link::Result(r.clone()))));
    assert!(back.recheck().unwrap().holds);
    // The built-in as it is, by id.
    let full = SharedResult::new(b.challenge.clone(), &b.failing_settings(), Claim::Pass);
    assert_eq!(full.to_query(), "challenge=charge&claim=pass");
    assert_eq!(SharedResult::from_query(&full.to_query()), Ok(full.clone()));
    // A claim the policy does not earn does not hold.
    let check = SharedResult {
        challenge: Challenge {
            runs: 1_000,
            ..full.challenge
        },
        ..full
    }
    .recheck()
    .unwrap();
    assert!(!check.score.passed && !check.holds);
}

#[test]
fn tampered_links_name_the_bad_parameter() {
    let cases: &[(&str, &str)] = &[
        ("challenge=nope", "challenge"),
        ("challenge=flaky&ch_fail=20", "ch_fail"),
        ("challenge=flaky&challenge=tail", "challenge"),
        ("challenge=flaky&claim=maybe", "claim"),
        ("claim=pass", "claim"),
        ("challenge=flaky&attempts=99&claim=pass", "attempts"),
        ("challenge=flaky&timeout=abc&claim=pass", "timeout"),
        ("challenge=flaky&use_breaker=maybe&claim=pass", "use_breaker"),
        ("challenge=flaky&attempts=2.5&claim=pass", "attempts"),
        ("challenge=flaky&attempts=2&attempts=3&claim=pass", "attempts"),
        ("ch_success=99&ch_zap=1", "ch_zap"),
        ("ch_success=101", "ch_success"),
        ("ch_success=99.12345", "ch_success"),
        ("ch_success=-5", "ch_success"),
        ("ch_success=1e2", "ch_success"),
        ("ch_success=99&ch_success=98", "ch_success"),
        ("ch_work=sleep&ch_success=99", "ch_work"),
        ("ch_fail=250&ch_success=99", "ch_fail"),
        ("ch_lat=slow&ch_success=99", "ch_lat"),
        ("ch_mix=503:70&ch_success=99", "ch_mix"),
        ("ch_mix=503:70,418:30&ch_success=99", "ch_mix"),
        ("ch_mix=503:50,503:50&ch_success=99", "ch_mix"),
        ("ch_mix=503:300&ch_success=99", "ch_mix"),
        ("ch_outage=5-2&ch_success=99", "ch_outage"),
        ("ch_outage=2-15/10&ch_success=99", "ch_outage"),
        ("ch_outage=soon&ch_success=99", "ch_outage"),
        ("ch_outage=1-999999&ch_success=99", "ch_outage"),
        ("ch_lost=100.5&ch_success=99", "ch_lost"),
        ("ch_every=0&ch_success=99", "ch_every"),
        ("ch_runs=5&ch_success=99", "ch_runs"),
        ("ch_runs=99999999999999999999&ch_success=99", "ch_runs"),
        ("ch_p99=0&ch_success=99", "ch_p99"),
        ("ch_p95=7200", "ch_p95"),
        ("ch_calls=1.2345", "ch_calls"),
        ("ch_tokens=2000000", "ch_tokens"),
        ("ch_cost=11", "ch_cost"),
        ("ch_rules=approved,approved", "ch_rules"),
        ("ch_rules=nice", "ch_rules"),
        ("ch_title=&ch_success=99", "ch_title"),
        ("ch_title=%0Aevil&ch_success=99", "ch_title"),
        (
            "ch_title=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa&ch_success=99",
            "ch_title",
        ),
        ("ch_work=pay", "ch_*"),
    ];
    for (q, param) in cases {
        let e = read_link(q).unwrap_err();
        assert_eq!(e.param, *param, "{q}: {e}");
        assert!(e.to_string().starts_with(&format!("{param}: ")), "{e}");
        assert!(e.problem.len() > 8, "{q}: {e}");
    }
    assert_eq!(
        read_link("ch_fail=abc&ch_success=99")
            .unwrap_err()
            .to_string(),
        "ch_fail: \"abc\" is not a number"
    );
    assert_eq!(
        read_link("ch_fail=250&ch_success=99")
            .unwrap_err()
            .to_string(),
        "ch_fail: must be 0% to 100% (got 250%)"
    );
    // A plain lab link names no challenge.
    assert_eq!(read_link("?attempts=5&present=B"), Ok(None));
    assert_eq!(read_link("attempts=5&attempts=6"), Ok(None));
    assert!(matches!(
        read_link("challenge=tail&attempts=5&attempts=6"),
        Ok(Some(Link::Challenge(_)))
    ));
    assert_eq!(read_link(""), Ok(None));
}

#[test]
fn the_lab_settings_reader_passes_over_challenge_parameters() {
    let q = "challenge=flaky&attempts=5&ch_success=99&claim=pass&use_breaker=on";
    let (s, notices) = Settings::from_query(q);
    assert!(notices.is_empty(), "{notices:?}");
    assert_eq!((s.attempts, s.use_breaker), (5, true));
}

#[test]
fn a_challenge_out_of_range_is_refused_not_scored() {
    let mut c = stormy(300);
    c.goals = Goals::NONE;
    assert_eq!(
        Scoring::new(&c, &Settings::default()).unwrap_err().param,
        "ch_*"
    );
    c = stormy(3);
    assert_eq!(
        score(&c, &Settings::default()).unwrap_err().param,
        "ch_runs"
    );
}

#[test]
fn the_policy_knobs_are_knobs_of_the_lab() {
    for name in POLICY_KNOBS {
        assert!(reliability_core::lab::knob(name).is_some(), "{name}");
    }
    assert!(!POLICY_KNOBS.contains(&"seed"));
    assert_eq!(Metric::ALL.len(), 10);
}

/// Property tests: random custom challenges and policies read back exactly; no query panics.
#[cfg(not(target_arch = "wasm32"))]
mod properties {
    use super::*;
    use proptest::prelude::*;
    use reliability_core::lab::KNOBS;

    fn opt<T: std::fmt::Debug>(s: impl Strategy<Value = T>) -> impl Strategy<Value = Option<T>> {
        prop::option::of(s)
    }

    fn conditions() -> impl Strategy<Value = Conditions> {
        (
            prop::sample::select(Workload::EVERY.to_vec()),
            0u32..=1_000_000,
            prop::sample::select(LatencyDist::ALL.to_vec()),
            (0u8..=100, 0u8..=100, 0u8..=100),
            opt((0u64..10_000_000, 1u64..10_000_000, any::<bool>())),
            0u32..=1_000_000,
            1_000u64..=60_000_000,
        )
            .prop_map(
                |(workload, failure, latency, (a, b, c), outage, lost, arrival)| {
                    // Shares scaled to add up to 100.
                    let (a, b, c) = (a as u32, b as u32, c as u32);
                    let total = (a + b + c + 1).max(1);
                    let e503 = (a * 100 / total) as u8;
                    let e429 = (b * 100 / total) as u8;
                    let hang = (c * 100 / total) as u8;
                    let errors = ErrorMix {
                        e503,
                        e429,
                        hang,
                        e500: 100 - e503 - e429 - hang,
                    };
                    let outage = outage.map(|(from, len, periodic)| {
                        let to = from + len;
                        Outage {
                            from,
                            to,
                            every: if periodic { to + from } else { 0 },
                        }
                    });
                    Conditions {
                        workload,
                        failure,
                        latency,
                        errors,
                        outage,
                        lost,
                        arrival,
                    }
                },
            )
    }

    fn goals() -> impl Strategy<Value = Goals> {
        (
            (
                opt(0u32..=1_000_000),
                opt(0u32..=1_000_000),
                opt(0u32..=1_000_000),
            ),
            (opt(1_000u64..=3_600_000_000), opt(1_000u64..=3_600_000_000)),
            (
                opt(0u64..=100_000),
                opt(0u64..=1_000_000),
                opt(0u64..=10_000_000),
            ),
            (any::<bool>(), any::<bool>()),
        )
            .prop_map(
                |((success, degraded, blocked), (p95, p99), (calls, tokens, cost), (a, o))| {
                    let mut g = Goals {
                        success,
                        degraded,
                        blocked,
                        p95,
                        p99,
                        calls,
                        tokens,
                        cost,
                        approved: a,
                        once: o,
                    };
                    if g.metrics().is_empty() {
                        g.once = true;
                    }
                    g
                },
            )
    }

    fn challenge() -> impl Strategy<Value = Challenge> {
        ("[ -~é€]{1,60}", conditions(), goals(), 100u32..=100_000).prop_map(
            |(title, conditions, goals, runs)| Challenge {
                runs,
                ..Challenge::custom(title, conditions, goals)
            },
        )
    }

    /// The policy knobs at random points of their grids.
    fn policy() -> impl Strategy<Value = Settings> {
        prop::collection::vec(any::<u64>(), POLICY_KNOBS.len()).prop_map(|picks| {
            let mut s = Settings::default();
            for (name, pick) in POLICY_KNOBS.iter().zip(picks) {
                let k = KNOBS.iter().find(|k| k.name == *name).unwrap();
                let steps = ((k.max - k.min) / k.step).round() as u64 + 1;
                let v = k.min + (pick % steps) as f64 * k.step;
                s.set(name, (v * 1e6).round() / 1e6).unwrap();
            }
            s
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 2_000, ..ProptestConfig::default() })]

        #[test]
        fn a_custom_challenge_reads_back_exactly(c in challenge()) {
            prop_assert!(c.validate().is_ok(), "{:?}", c.validate());
            let q = c.to_query();
            prop_assert_eq!(Challenge::from_query(&q), Ok(c), "{}", q);
        }

        #[test]
        fn a_result_reads_back_exactly(c in challenge(), s in policy(), pass in any::<bool>()) {
            let claim = if pass { Claim::Pass } else { Claim::Fail };
            let r = SharedResult::new(c, &s, claim);
            let q = r.to_query();
            prop_assert_eq!(SharedResult::from_query(&q), Ok(r), "{}", q);
        }

        #[test]
        fn no_query_panics(q in "[a-z_=&%0-9.:,/-]{0,80}", tail in "(ch_[a-z0-9]{1,8}=[a-z0-9.:,/%-]{0,12}&?){0,4}") {
            let _ = read_link(&q);
            let _ = read_link(&tail);
            let _ = read_link(&format!("{tail}&ch_success=99"));
        }
    }
}
