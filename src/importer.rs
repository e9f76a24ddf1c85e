//! Import a trace file: view it as a card, replay it, and check it against the engine.

use crate::browser;
use crate::card::Card;
use leptos::prelude::*;
use leptos::task::spawn_local;
use reliability_core::scenario::{describe, ScenarioRun, Settings};
use reliability_core::tracefile::{import, replay, ReplayReport};
use wasm_bindgen::JsCast;

/// The import panel. A bad file gets a message naming the problem; whatever was imported
/// before stays on the page.
#[component]
pub fn Importer() -> impl IntoView {
    let imported = RwSignal::new(None::<(String, ScenarioRun, ReplayReport, Vec<String>)>);
    let error = RwSignal::new(None::<String>);
    let on_change = move |ev: leptos::ev::Event| {
        let Some(input) = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
        else {
            return;
        };
        spawn_local(async move {
            let result = browser::read_chosen_file(&input)
                .await
                .and_then(|(name, text)| {
                    import(&text)
                        .map(|file| (name.clone(), file))
                        .map_err(|e| format!("{name}: {e}"))
                });
            match result {
                Ok((name, file)) => {
                    let report = replay(&file);
                    let (settings, notices) = Settings::from_query(&file.settings);
                    let ignored = notices.into_iter().map(|n| n.message).collect();
                    let card = describe(file.scenario, &settings, file.run.clone());
                    imported.try_set(Some((name, card, report, ignored)));
                    error.try_set(None);
                }
                Err(message) => {
                    error.try_set(Some(message));
                }
            }
            // Let the same file be chosen again.
            input.set_value("");
        });
    };
    view! {
        <section class="importer" aria-labelledby="import-title">
            <h2 id="import-title">"Replay a saved trace"</h2>
            <p class="help">
                "Export any card's run with its Export trace button; open the file here to view it, "
                "replay it, and check that this engine still makes the same tool calls in the same order."
            </p>
            <label class="file">
                "Trace file (.json): "
                <input type="file" accept=".json,application/json" data-testid="import-file" on:change=on_change />
            </label>
            {move || error.get().map(|e| view! {
                <p class="import-error" role="alert" data-testid="import-error">
                    <strong>"Could not import: "</strong>{e}
                </p>
            })}
            {move || imported.get().map(|(name, card, report, ignored)| {
                let run = Signal::derive(move || card.clone());
                let verdict = if report.identical {
                    "this engine replays it identically: same tool calls, same order, same run".to_string()
                } else if report.same_tool_calls() {
                    "same tool calls in the same order, but other details differ from this engine's run".to_string()
                } else {
                    format!(
                        "DIFFERENT tool calls: the file has [{}], this engine makes [{}]",
                        report.saved.join(", "),
                        report.replayed.join(", ")
                    )
                };
                view! {
                    <div class="imported" data-testid="imported">
                        <p class="replay-check" data-testid="replay-check">
                            <strong>{format!("{name}: ")}</strong>{verdict}
                        </p>
                        {(!ignored.is_empty()).then(|| view! {
                            <p class="import-error" role="status" data-testid="import-warning">
                                "Settings in the file that this page could not use (defaults stood in): "
                                {ignored.join("; ")}
                            </p>
                        })}
                        <Card run=run link=Signal::derive(String::new) imported=true />
                    </div>
                }
            })}
        </section>
    }
}
