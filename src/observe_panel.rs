//! The observability panel: metrics over every run on the page, and the structured log.

use crate::browser;
use crate::plot::escape;
use crate::timeline_svg::facts_html;
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
                    <ul class="alerts" data-testid="alerts" inner_html=move || m.with(|m| {
                        if m.alerts.is_empty() {
                            return r#"<li class="quiet">No threshold crossed.</li>"#.to_string();
                        }
                        let mut h = String::new();
                        for a in &m.alerts {
                            h += "<li>⚠ ";
                            h += &escape(&a.message);
                            h += "</li>";
                        }
                        h
                    })></ul>
                    <h3>"Summary"</h3>
                    <dl class="facts" inner_html=move || m.with(|m| {
                        let top: Vec<String> = m.top_errors.iter().take(4).map(|(k, n)| format!("{k} ×{n}")).collect();
                        facts_html([
                            ("runs", m.runs.to_string()),
                            ("retries per run", fixed(m.avg_retries, 2)),
                            ("fallback use", format!("{} step{} down, in {} run{}", m.fallbacks, if m.fallbacks == 1 { "" } else { "s" }, m.runs_with_fallback, if m.runs_with_fallback == 1 { "" } else { "s" })),
                            ("top errors", if top.is_empty() { "none".to_string() } else { top.join(", ") }),
                        ])
                    })></dl>
                </div>
                <div>
                    <h3>"Error rate by model and tool"</h3>
                    <table class="rates">
                        <thead><tr><th scope="col">"target"</th><th scope="col">"calls"</th><th scope="col">"errors"</th><th scope="col">"rate"</th></tr></thead>
                        <tbody inner_html=move || m.with(|m| {
                            let mut h = String::new();
                            for t in &m.by_target {
                                h += &format!(
                                    r#"<tr><th scope="row">{}</th><td>{}</td><td>{}</td><td>{}%</td></tr>"#,
                                    escape(&t.target),
                                    t.attempts,
                                    t.errors,
                                    fixed(t.rate() * 100.0, 0)
                                );
                            }
                            h
                        })></tbody>
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
                        <tbody inner_html=move || lines.with(|l| {
                            let mut h = String::new();
                            for line in l {
                                h += &format!(
                                    "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                                    escape(&line.trace_id),
                                    line.step,
                                    escape(&line.tool),
                                    escape(line.error_type.as_deref().unwrap_or("-")),
                                    line.retries,
                                    Secs(line.duration_us)
                                );
                            }
                            h
                        })></tbody>
                    </table>
                </div>
            </details>
            <button data-testid="export-log" on:click=export>"Export log as JSON lines"</button>
        </section>
    }
}
