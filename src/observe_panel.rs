//! The observability panel: metrics over every run on the page, and the structured log.

use crate::browser;
use leptos::prelude::*;
use reliability_core::lab::CardRun;
use reliability_core::observe::{log, to_jsonl, MetricsBuilder};
use reliability_core::time::{fixed, Secs};

/// Error rates, retries, top errors, fallback use, alerts and the log of all `runs`.
#[component]
pub fn ObservabilityPanel(
    /// Every card's run.
    runs: Vec<Memo<CardRun>>,
    /// The seed, for trace ids.
    #[prop(into)]
    seed: Signal<u64>,
) -> impl IntoView {
    let runs = StoredValue::new(runs);
    // Gathers every card's run by reference: no run is cloned.
    let gather = move |f: &mut dyn FnMut(&CardRun)| {
        runs.with_value(|memos| {
            for m in memos {
                m.with(|r| f(r));
            }
        })
    };
    let m = Memo::new(move |_| {
        let mut b = MetricsBuilder::default();
        gather(&mut |r| b.add(r));
        b.finish()
    });
    let all = move || {
        let mut v = Vec::new();
        gather(&mut |r| v.push(r.clone()));
        v
    };
    // The log is the page's longest list: it is built and drawn only while it is open.
    let open = RwSignal::new(false);
    let lines = Memo::new(move |_| {
        if open.get() {
            log(all().iter(), seed.get())
        } else {
            Vec::new()
        }
    });
    let line_count = Memo::new(move |_| {
        m.with(|m| {
            m.by_target
                .iter()
                .map(|t| t.attempts as usize)
                .sum::<usize>()
        })
    });
    let export = move |_| {
        let cards: Vec<CardRun> =
            runs.with_value(|memos| memos.iter().map(|m| m.get_untracked()).collect());
        let text = to_jsonl(&log(cards.iter(), seed.get_untracked()));
        browser::download("agent-runs.jsonl", &text);
    };
    view! {
        <section class="observe" aria-labelledby="observe-title" data-testid="observability">
            <h2 id="observe-title">"Observability: every run on this page"</h2>
            <div class="observe-grid">
                <div>
                    <h3>"Alerts"</h3>
                    <ul class="alerts" data-testid="alerts">
                        {move || {
                            let alerts = m.with(|m| m.alerts.clone());
                            if alerts.is_empty() {
                                view! { <li class="quiet">"No threshold crossed."</li> }.into_any()
                            } else {
                                alerts
                                    .into_iter()
                                    .map(|a| view! { <li>"⚠ " {a.message}</li> })
                                    .collect_view()
                                    .into_any()
                            }
                        }}
                    </ul>
                    <h3>"Summary"</h3>
                    <dl class="facts">
                        <div><dt>"runs"</dt><dd>{move || m.with(|m| m.runs)}</dd></div>
                        <div><dt>"retries per run"</dt><dd>{move || m.with(|m| fixed(m.avg_retries, 2))}</dd></div>
                        <div><dt>"fallback use"</dt><dd>{move || m.with(|m| format!("{} step{} down, in {} run{}", m.fallbacks, if m.fallbacks == 1 { "" } else { "s" }, m.runs_with_fallback, if m.runs_with_fallback == 1 { "" } else { "s" }))}</dd></div>
                        <div><dt>"top errors"</dt><dd>{move || m.with(|m| {
                            let top: Vec<String> = m.top_errors.iter().take(4).map(|(k, n)| format!("{k} ×{n}")).collect();
                            if top.is_empty() { "none".to_string() } else { top.join(", ") }
                        })}</dd></div>
                    </dl>
                </div>
                <div>
                    <h3>"Error rate by model and tool"</h3>
                    <table class="rates">
                        <thead><tr><th scope="col">"target"</th><th scope="col">"calls"</th><th scope="col">"errors"</th><th scope="col">"rate"</th></tr></thead>
                        <tbody>
                            {move || m.with(|m| m.by_target.iter().map(|t| view! {
                                <tr>
                                    <th scope="row">{t.target.clone()}</th>
                                    <td>{t.attempts}</td>
                                    <td>{t.errors}</td>
                                    <td>{format!("{}%", fixed(t.rate() * 100.0, 0))}</td>
                                </tr>
                            }).collect_view())}
                        </tbody>
                    </table>
                </div>
            </div>
            <details class="log-view">
                <summary on:click=move |_| open.update(|o| *o = !*o)>
                    {move || format!("Structured log ({} lines)", line_count.get())}
                </summary>
                <div class="table-scroll">
                    <table data-testid="log">
                        <thead><tr>
                            <th scope="col">"trace id"</th><th scope="col">"step"</th><th scope="col">"tool"</th>
                            <th scope="col">"error type"</th><th scope="col">"retries"</th><th scope="col">"duration"</th>
                        </tr></thead>
                        <tbody>
                            {move || lines.with(|l| l.iter().map(|line| view! {
                                <tr>
                                    <td>{line.trace_id.clone()}</td>
                                    <td>{line.step}</td>
                                    <td>{line.tool.clone()}</td>
                                    <td>{line.error_type.clone().unwrap_or_else(|| "-".into())}</td>
                                    <td>{line.retries}</td>
                                    <td>{Secs(line.duration_us).to_string()}</td>
                                </tr>
                            }).collect_view())}
                        </tbody>
                    </table>
                </div>
            </details>
            <button data-testid="export-log" on:click=export>"Export log as JSON lines"</button>
        </section>
    }
}
