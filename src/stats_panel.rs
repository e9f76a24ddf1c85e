//! What-if statistics, policy A/B, the thundering herd and retry amplification.
//!
//! Thousands of runs per slider move are computed in chunks between frames: a new move bumps a
//! generation counter, which cancels the stale computation at its next chunk.

use crate::browser;
use crate::controls::knobs_at;
use crate::plot::{histogram, line_chart, Bins};
use crate::share;
use gloo_timers::future::TimeoutFuture;
use leptos::prelude::*;
use leptos::task::spawn_local;
use reliability_core::amplify::{layers, worst_case};
use reliability_core::herd::{point, Point, Strategy};
use reliability_core::lab::{knob, Place, Settings};
use reliability_core::stats::{
    compare, experiment, variant, Accumulator, Difference, Experiment, Histogram, Policy, Row,
    RowUnit, Summary, TESTS,
};
use reliability_core::time::{fixed, Micros, Secs};

/// Seeds averaged per point of the herd plot.
const HERD_SEEDS: u32 = 10;
/// What the herd's image says of its numbers.
const HERD_NOTE: &str = "Each number is a mean over 10 seeded runs.";
const _: () = assert!(HERD_SEEDS == 10, "HERD_NOTE names the number of seeds");
/// Runs per chunk: small enough that a chunk is a few milliseconds in the browser.
const CHUNK: u32 = 500;
/// Give the browser a turn after this much work (milliseconds): well under the 50 ms that
/// makes a "long task", so input and painting never wait long.
const SLICE_MS: f64 = 10.0;
/// Wait this long before starting (milliseconds): the cards repaint first, and a slider being
/// dragged starts one computation, not one per pixel.
const SETTLE_MS: u32 = 16;

fn pct(x: f64) -> String {
    format!("{}%", fixed(x * 100.0, 1))
}

/// One row of the A/B table: the measure, both values, and whether B differs beyond chance.
fn row(r: Row) -> impl IntoView {
    let show = match r.unit {
        RowUnit::Rate => pct,
        RowUnit::Latency => short_secs,
        RowUnit::Count if r.name == "tokens" => tokens,
        RowUnit::Count => num,
        RowUnit::Money => usd,
    };
    let (class, word) = match r.difference {
        Difference::Same => ("same", "same"),
        Difference::Better => ("better", "▲ B better"),
        Difference::Worse => ("worse", "▼ B worse"),
    };
    view! {
        <tr class=class>
            <th scope="row">{r.name}</th>
            <td>{show(r.a)}</td>
            <td>{show(r.b)}</td>
            <td class="delta">{word}</td>
        </tr>
    }
}

/// The knobs the statistics read: the lab's they inherit, then their own.
const READS: [&str; 11] = [
    "timeout",
    "attempts",
    "base_delay",
    "jitter",
    "max_steps",
    "seed",
    "stats_workload",
    "stats_rate",
    "stats_latency",
    "stats_runs",
    "ab_variant",
];

/// The lab knobs the statistics inherit, with their values: "timeout 0.05s, attempts 3, ...".
fn inherited(s: &Settings) -> String {
    let parts: Vec<String> = READS[..6]
        .iter()
        .filter_map(|name| knob(name))
        .map(|k| format!("{} {}", k.label, k.show((k.get)(s))))
        .collect();
    parts.join(", ")
}

/// Seconds with two or three significant digits, for axes and tables of simulated times.
fn short_secs(us: f64) -> String {
    let s = us / 1e6;
    if s >= 10.0 {
        format!("{}s", fixed(s, 0))
    } else if s >= 1.0 {
        format!("{}s", fixed(s, 1))
    } else {
        format!("{}s", fixed(s, 2))
    }
}

fn num(x: f64) -> String {
    fixed(x, 2)
}

fn tokens(x: f64) -> String {
    fixed(x, 0)
}

fn usd(x: f64) -> String {
    format!("${}", fixed(x / 1e6, 5))
}

/// The calls-per-request histogram as a [`Histogram`] over 0..=max calls.
fn calls_histogram(s: &Summary) -> Histogram {
    Histogram {
        max: s.calls_hist.len().saturating_sub(1) as Micros,
        bins: s.calls_hist.clone(),
    }
}

/// The statistics panel with policy A/B.
#[component]
pub fn StatsPanel(
    /// The lab's settings.
    settings: RwSignal<Settings>,
) -> impl IntoView {
    // Only what the statistics depend on: other knobs do not restart the computation.
    let job = Memo::new(move |_| {
        settings.with(|s| {
            let v = variant(s);
            (
                experiment(s),
                Policy::current(s),
                Policy::variant(s, v),
                v.describe(s),
            )
        })
    });
    // The last result: both summaries, the time it took, and the name of the B it computed.
    let result = RwSignal::new(None::<(Summary, Summary, f64, String)>);
    let progress = RwSignal::new(None::<f64>);
    let generation = StoredValue::new(0u64);
    // The generation the shown result belongs to: an image is only drawn of a current one.
    let done = StoredValue::new(0u64);

    // Schedules the computation in the browser's event loop (the world outside the graph).
    Effect::new(move |_| {
        let (exp, a, b, name) = job.get();
        generation.update_value(|g| *g += 1);
        let mine = generation.get_value();
        spawn_local(async move {
            if compute(exp, (a, b, name), mine, generation, progress, result).await {
                done.try_set_value(mine);
            }
        });
    });

    let share = share::buttons(
        settings,
        "stats".into(),
        Box::new(move |row, link| {
            if done.get_value() != generation.get_value() {
                return Err("the statistics are still being computed".to_string());
            }
            let head = vec![
                "Agent Reliability Lab: what-if statistics, policy A against policy B".into(),
                settings.with_untracked(|s| share::settings_line(s, &READS)),
            ];
            Ok(share::panel_sheet(row, head, TESTS, link))
        }),
    );
    view! {
        <section class="stats" id="stats" aria-labelledby="stats-title" data-testid="stats">
            <h2 id="stats-title">"What-if statistics: thousands of seeded runs"</h2>
            <p class="help">
                "Each request is an agent run with independent random faults; request i uses seed + i, "
                "so policy A and policy B see the very same faults."
            </p>
            <p class="help" data-testid="stats-inherits">
                "Policy A is the lab's policy: "{move || settings.with(inherited)}"."
            </p>
            <div class="knobs">{knobs_at(Place::Stats, settings)}</div>
            <p class="progress" role="status" data-testid="stats-progress">
                {move || progress.get().map(|p| format!("Computing… {}%", fixed(p * 100.0, 0)))}
            </p>
            // Only the result: the table names the B it computed, and a move that changes
            // the job does not redraw the old numbers (they stay until the new ones are in).
            {move || result.get().map(|(a, b, ms, b_name)| view! {
                <p class="help" data-testid="stats-timing" data-ms=fixed(ms, 1)>
                    {format!("{} + {} runs in {} ms.", a.runs, b.runs, fixed(ms, 1))}
                </p>
                <div class="table-scroll">
                    <table class="ab" data-testid="ab-table">
                        <thead><tr>
                            <th scope="col">"per request"</th>
                            <th scope="col">"A: current"</th>
                            <th scope="col">{format!("B: {b_name}")}</th>
                            <th scope="col">"B vs A"</th>
                        </tr></thead>
                        <tbody>
                            {compare(&a, &b).into_iter().map(row).collect_view()}
                        </tbody>
                    </table>
                </div>
                <p class="help" data-testid="ab-tests">{TESTS}</p>
                <div class="hists">
                    {histogram("A: latency".into(), &a.latency_hist, Bins::Latency)}
                    {histogram("B: latency".into(), &b.latency_hist, Bins::Latency)}
                    {histogram("A: model calls per request".into(), &calls_histogram(&a), Bins::Calls)}
                    {histogram("B: model calls per request".into(), &calls_histogram(&b), Bins::Calls)}
                </div>
            })}
            {share}
        </section>
        <HerdPlot settings=settings />
        <Amplification settings=settings />
    }
}

/// Computes both policies' statistics in slices; `false` when a newer job made it stale.
async fn compute(
    exp: Experiment,
    (a, b, b_name): (Policy, Policy, String),
    mine: u64,
    generation: StoredValue<u64>,
    progress: RwSignal<Option<f64>>,
    result: RwSignal<Option<(Summary, Summary, f64, String)>>,
) -> bool {
    TimeoutFuture::new(SETTLE_MS).await;
    if generation.try_get_value() != Some(mine) {
        return false;
    }
    let started = browser::now_ms();
    let mut slice = started;
    let (mut acc_a, mut acc_b) = (Accumulator::default(), Accumulator::default());
    let mut from = 0;
    while from < exp.runs {
        let to = (from + CHUNK).min(exp.runs);
        acc_a.run(&exp, &a, from, to);
        acc_b.run(&exp, &b, from, to);
        from = to;
        if browser::now_ms() - slice > SLICE_MS && from < exp.runs {
            // Show progress only once the work has outlasted a frame.
            progress.try_set(Some(from as f64 / exp.runs as f64));
            TimeoutFuture::new(0).await;
            slice = browser::now_ms();
            if generation.try_get_value() != Some(mine) {
                return false;
            }
        }
    }
    if generation.try_get_value() != Some(mine) {
        return false;
    }
    let ms = browser::now_ms() - started;
    progress.try_set(None);
    // One latency scale for both policies, so their histograms compare at a glance.
    let max = acc_a.max_latency().max(acc_b.max_latency());
    result.try_set(Some((
        acc_a.summary_over(max),
        acc_b.summary_over(max),
        ms,
        b_name,
    )));
    true
}

/// The thundering herd: calls and completion time per strategy, as clients grow.
#[component]
fn HerdPlot(
    /// The lab's settings.
    settings: RwSignal<Settings>,
) -> impl IntoView {
    let job = Memo::new(move |_| settings.with(|s| (s.herd_clients, s.seed)));
    let points = RwSignal::new(Vec::<Point>::new());
    let busy = RwSignal::new(false);
    let share = share::buttons(
        settings,
        "herd".into(),
        Box::new(move |row, link| {
            if busy.get_untracked() {
                return Err("the herd is still being simulated".to_string());
            }
            let head = vec![
                "Agent Reliability Lab: the thundering herd, many clients, one contended row"
                    .into(),
                settings.with_untracked(|s| share::settings_line(s, &["herd_clients", "seed"])),
            ];
            Ok(share::panel_sheet(row, head, HERD_NOTE, link))
        }),
    );
    let generation = StoredValue::new(0u64);
    Effect::new(move |_| {
        let (max_clients, seed) = job.get();
        generation.update_value(|g| *g += 1);
        let mine = generation.get_value();
        busy.set(true);
        spawn_local(async move {
            let counts: Vec<u32> = (1..=max_clients / 10).map(|i| i * 10).collect();
            let mut out = Vec::new();
            for strategy in Strategy::ALL {
                for &clients in &counts {
                    out.push(point(strategy, clients, HERD_SEEDS, seed));
                    TimeoutFuture::new(0).await;
                    if generation.try_get_value() != Some(mine) {
                        return;
                    }
                }
            }
            points.try_set(out);
            busy.try_set(false);
        });
    });
    view! {
        <section class="herd" id="herd" aria-labelledby="herd-title" data-testid="herd">
            <h2 id="herd-title">"The thundering herd: many clients, one contended row"</h2>
            <p class="help">
                "Each client wants one optimistic write to the same row, all at once; a write fails if "
                "another landed since its read, and the client backs off. After Marc Brooker's experiment "
                "(\"Exponential Backoff And Jitter\", AWS Architecture Blog): exponential backoff without "
                "jitter keeps clients in lockstep and is the clear loser; full jitter does the least work."
            </p>
            <div class="knobs">{knobs_at(Place::Herd, settings)}</div>
            <p class="progress" role="status">{move || busy.get().then_some("Simulating…")}</p>
            <div class="plots">
                {move || line_chart("Writes attempted (work)", "writes", &points.get(), |p| p.calls, false, |v| fixed(v, 0))}
                {move || line_chart("Time until the last client is done", "seconds", &points.get(), |p| p.completion, true, short_secs)}
            </div>
            <div class="table-scroll">
                <table data-testid="herd-table">
                    <thead><tr><th scope="col">"strategy"</th><th scope="col">"writes at the most clients"</th><th scope="col">"time"</th></tr></thead>
                    <tbody>
                        {move || {
                            let pts = points.get();
                            let top = pts.iter().map(|p| p.clients).max().unwrap_or(0);
                            Strategy::ALL.iter().filter_map(|s| pts.iter().find(|p| p.strategy == *s && p.clients == top).map(|p| view! {
                                <tr><th scope="row">{s.label()}</th><td>{fixed(p.calls, 0)}</td><td>{short_secs(p.completion)}</td></tr>
                            })).collect_view()
                        }}
                    </tbody>
                </table>
            </div>
            {share}
        </section>
    }
}

/// Nested retry layers multiply: the worst case, layer by layer.
#[component]
fn Amplification(
    /// The lab's settings.
    settings: RwSignal<Settings>,
) -> impl IntoView {
    let costs = Memo::new(move |_| {
        settings.with(|s| {
            let ra = (s.amp_retry_after > 0).then_some(s.amp_retry_after);
            worst_case(&layers(s), s.timeout, ra)
        })
    });
    view! {
        <section class="amplify" aria-labelledby="amp-title" data-testid="amplify">
            <h2 id="amp-title">"Retry amplification: layers multiply"</h2>
            <p class="help">
                "Worst case: the service is down, every call runs to the timeout (the lab's timeout "
                "knob), and each layer retries with the lab's base delay, doubling."
            </p>
            <div class="knobs">{knobs_at(Place::Amplify, settings)}</div>
            <table data-testid="amp-table">
                <thead><tr><th scope="col">"layer"</th><th scope="col">"calls to the service"</th><th scope="col">"wall time"</th></tr></thead>
                <tbody>
                    {move || costs.get().into_iter().map(|c| view! {
                        <tr><th scope="row">{c.name}</th><td>{c.calls}</td><td>{Secs(c.wall).to_string()}</td></tr>
                    }).collect_view()}
                </tbody>
            </table>
            <p class="verdict" data-testid="amp-verdict">
                {move || costs.with(|c| c.last().map(|last| format!(
                    "One user request can cause {} call{} to a service that is down and keep the user waiting {}.",
                    last.calls,
                    if last.calls == 1 { "" } else { "s" },
                    Secs(last.wall)
                )))}
            </p>
        </section>
    }
}
