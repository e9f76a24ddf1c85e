//! Statistical tests of the engine with fixed seeds. Native only: 100,000-run experiments are
//! too slow for the unoptimised wasm32 test build to be worth it there.
#![cfg(not(target_arch = "wasm32"))]

use reliability_core::lab::Settings;
use reliability_core::stats::{summarize, Experiment, LatencyDist, Policy, Variant, Workload};

use reliability_core::time::{MS, SEC};

fn experiment(rate: f64, runs: u32) -> Experiment {
    Experiment::new(Workload::Answer, rate, LatencyDist::Fixed, runs, 2024)
}

/// With independent faults at rate p, a call succeeds within 3 attempts with probability
/// 1 - p^3. Over n = 100,000 runs the standard error is sqrt(q(1-q)/n) <= 0.0016; the
/// tolerance is four standard errors.
#[test]
fn success_within_three_attempts_matches_one_minus_p_cubed() {
    let s = Settings::default();
    for p in [0.1, 0.3, 0.5, 0.7] {
        let n = 100_000;
        let sum = summarize(&experiment(p, n), &Policy::current(&s));
        let q: f64 = 1.0 - p * p * p;
        let tolerance = 4.0 * (q * (1.0 - q) / n as f64).sqrt();
        assert!(
            (sum.success_rate - q).abs() <= tolerance,
            "p = {p}: measured {} vs expected {q} (tolerance {tolerance})",
            sum.success_rate
        );
        // Expected attempts per request: 1 + p + p^2 (the third is made only after two failures).
        let calls = 1.0 + p + p * p;
        assert!(
            (sum.calls_per_request - calls).abs() <= 0.02,
            "p = {p}: {} calls per request vs {calls}",
            sum.calls_per_request
        );
    }
}

#[test]
fn more_attempts_never_lose_a_request_on_the_same_fault_schedule() {
    let s = Settings::default();
    let exp = experiment(0.4, 20_000);
    let a = summarize(&exp, &Policy::current(&s));
    let b = summarize(&exp, &Policy::variant(&s, Variant::MoreAttempts));
    // 1 - 0.4^3 = 0.936 against 1 - 0.4^5 = 0.98976, on the very same faults.
    assert!(b.success_rate > a.success_rate + 0.04);
    assert!(
        b.calls_per_request > a.calls_per_request,
        "more attempts cost more calls"
    );
    let none = summarize(&exp, &Policy::variant(&s, Variant::NoRetry));
    assert!((none.success_rate - 0.6).abs() < 0.015);
    assert!((none.calls_per_request - 1.0).abs() < 1e-9);
}

#[test]
fn a_shared_breaker_cuts_calls_during_an_outage() {
    let s = Settings::default();
    let exp = experiment(0.95, 5_000);
    let plain = summarize(&exp, &Policy::current(&s));
    let breaker = summarize(&exp, &Policy::variant(&s, Variant::Breaker));
    assert!(breaker.calls_per_request < plain.calls_per_request / 2.0);
}

#[test]
fn the_timeout_bounds_the_tail() {
    let s = Settings::default();
    let exp = Experiment {
        latency: LatencyDist::Tail,
        ..experiment(0.0, 20_000)
    };
    let sum = summarize(&exp, &Policy::current(&s));
    // Worst case: three 50 ms timeouts plus waits of 0.5 s and 1.0 s.
    assert!(sum.p99 <= 3 * 50 * MS + 1_500 * MS);
    assert!(sum.p50 == 20 * MS, "most calls are fast");
    // 5% of calls are slow and are cut off: 0.05^3 of requests time out three times.
    assert!(sum.success_rate > 0.999);
}

#[test]
fn blocked_and_looping_workloads_are_counted_as_such() {
    let s = Settings::default();
    let risky = summarize(
        &Experiment {
            workload: Workload::Risky,
            ..experiment(0.0, 1_000)
        },
        &Policy::current(&s),
    );
    assert_eq!(risky.blocked_rate, 1.0);
    let looping = summarize(
        &Experiment {
            workload: Workload::Loop,
            ..experiment(0.0, 1_000)
        },
        &Policy::current(&s),
    );
    assert_eq!(looping.degraded_rate, 1.0);
    assert_eq!(looping.calls_per_request, s.max_steps as f64);
}

#[test]
fn the_same_settings_give_the_same_statistics() {
    let s = Settings::default();
    let exp = experiment(0.3, 5_000);
    assert_eq!(
        summarize(&exp, &Policy::current(&s)),
        summarize(&exp, &Policy::current(&s))
    );
}

#[test]
fn identical_policies_are_the_same_on_every_measure() {
    use reliability_core::stats::{compare, Difference};
    let s = Settings::default();
    let exp = reliability_core::stats::experiment(&s);
    let a = summarize(&exp, &Policy::current(&s));
    for row in compare(&a, &a.clone()) {
        assert_eq!(row.difference, Difference::Same, "{}", row.name);
    }
}

#[test]
fn only_differences_beyond_chance_are_marked() {
    use reliability_core::stats::{latencies_differ, means_differ, rates_differ};
    // 99.0% vs 99.1% of 10,000: within chance. 90% vs 99%: not.
    assert!(!rates_differ(0.990, 10_000, 0.991, 10_000));
    assert!(rates_differ(0.90, 10_000, 0.99, 10_000));
    // A 1% cost difference with a wide spread is chance; a large one is not.
    assert!(!means_differ(
        (3000.0, 900.0, 10_000),
        (3030.0, 900.0, 10_000)
    ));
    assert!(means_differ(
        (3000.0, 900.0, 10_000),
        (3300.0, 900.0, 10_000)
    ));
    // Latency percentiles: more than 5% and 1 ms.
    assert!(!latencies_differ(20 * MS, 20 * MS + 500));
    assert!(!latencies_differ(2 * SEC, 2 * SEC + 90 * MS));
    assert!(latencies_differ(2 * SEC, 3 * SEC));
}

#[test]
fn more_attempts_is_marked_better_on_success_under_real_faults() {
    use reliability_core::stats::{compare, variant, Difference};
    let s = Settings {
        stats_rate: 0.3,
        ..Settings::default()
    };
    let exp = reliability_core::stats::experiment(&s);
    let a = summarize(&exp, &Policy::current(&s));
    let b = summarize(&exp, &Policy::variant(&s, variant(&s)));
    let rows = compare(&a, &b);
    let success = rows.iter().find(|r| r.name == "success rate").unwrap();
    assert_eq!(success.difference, Difference::Better);
    let calls = rows
        .iter()
        .find(|r| r.name.starts_with("model calls"))
        .unwrap();
    assert_eq!(
        calls.difference,
        Difference::Worse,
        "more attempts, more calls"
    );
}
