//! Simulated agent runs per second over a seeded mix of the lab's scenarios A–F.
//!
//! `cargo bench -p reliability-core --bench runs`
//!
//! Each iteration runs the six scenarios once, each with its own seed (so jitter and faults
//! vary), with full jitter on so the seeded path is exercised. Scenario F is twelve agent runs
//! (one per request), so one iteration is 17 agent runs; divan reports items per second as
//! agent runs per second. The report goes in BENCHMARKS.md.

// divan measures with the OS clock: native only. In wasm32 builds this is an empty program.
#[cfg(target_arch = "wasm32")]
fn main() {}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    divan::main();
}

#[cfg(not(target_arch = "wasm32"))]
mod mix {
    use divan::counter::ItemsCount;
    use divan::{black_box, Bencher};
    use reliability_core::lab::cards::f::REQUESTS as F_REQUESTS;
    use reliability_core::lab::{simulate, CardId, Settings};
    use reliability_core::retry::Jitter;
    use std::cell::Cell;

    const AGENT_RUNS_PER_MIX: usize = 5 + F_REQUESTS as usize;

    fn mix(bencher: Bencher, record: bool) {
        let seed = Cell::new(0u64);
        let mut s = Settings {
            jitter: Jitter::Full,
            ..Settings::default()
        };
        bencher
            .counter(ItemsCount::new(AGENT_RUNS_PER_MIX))
            .bench_local(move || {
                seed.set(seed.get().wrapping_add(1));
                s.seed = seed.get();
                for id in CardId::LAB {
                    black_box(simulate(*id, black_box(&s), record));
                }
            });
    }

    /// The whole mix with the event trace off: the engine alone.
    #[divan::bench]
    fn mix_trace_off(bencher: Bencher) {
        mix(bencher, false);
    }

    /// The whole mix with every event recorded, as the page does.
    #[divan::bench]
    fn mix_trace_on(bencher: Bencher) {
        mix(bencher, true);
    }

    /// The statistics panel's default computation: 10,000 requests under policy A and the same
    /// 10,000 under policy B (20,000 agent runs). The page times the same work in wasm.
    #[divan::bench(sample_count = 20)]
    fn stats_panel_default_10k_ab(bencher: Bencher) {
        use reliability_core::stats::{experiment, summarize, variant, Policy};
        let s = Settings::default();
        let exp = experiment(&s);
        let (a, b) = (Policy::current(&s), Policy::variant(&s, variant(&s)));
        bencher
            .counter(ItemsCount::new(2 * exp.runs as usize))
            .bench_local(|| (summarize(&exp, &a), summarize(&exp, &b)));
    }

    /// Scenario A alone (one agent run, two failures, two backoffs), trace off.
    #[divan::bench]
    fn a_retry_trace_off(bencher: Bencher) {
        let s = Settings::default();
        bencher
            .counter(ItemsCount::new(1usize))
            .bench_local(|| black_box(simulate(CardId::A, black_box(&s), false)));
    }
}
