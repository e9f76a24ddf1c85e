//! Import a trace file: view it as a card, replay it, and check it against the engine.

use crate::browser;
use crate::card::Card;
use leptos::prelude::*;
use leptos::task::spawn_local;
use reliability_core::agent::Run;
use reliability_core::lab::{describe, CardRun, Settings};
use reliability_core::tracefile::{check, ReplayReport, Source};
use wasm_bindgen::JsCast;

/// What replaying a file against this engine showed, in words. The card shows the engine's
/// replay, so when the file differs the words say what the file itself claimed.
fn replay_verdict(report: &ReplayReport, saved_answer: &str) -> String {
    let first = report
        .first_difference
        .as_ref()
        .map(|(i, was, now)| {
            format!(
                " The first difference is event {}: the file has \u{201c}{was}\u{201d}, this engine \u{201c}{now}\u{201d}.",
                i + 1
            )
        })
        .unwrap_or_default();
    if report.identical {
        "its recorded replies, fed to this engine, make the very same run: same tool calls, same order, same events".to_string()
    } else if report.same_tool_calls() {
        format!(
            "same tool calls in the same order, but other details differ from this engine's run (the file's answer: {}); the card shows this engine's replay.{first}",
            reliability_core::quote(saved_answer)
        )
    } else {
        format!(
            "DIFFERENT tool calls: the file has [{}], this engine makes [{}]; the card shows this engine's replay.{first}",
            report.saved.join(", "),
            report.replayed.join(", ")
        )
    }
}

/// What an imported file is shown as: a card, or a live run.
#[derive(Clone)]
enum Shown {
    Card(Box<CardRun>),
    Live(String, Box<Run>),
}

/// The import panel. A bad file gets a message naming the problem; whatever was imported
/// before stays on the page.
#[component]
pub fn Importer() -> impl IntoView {
    // (file name, the card, what the replay check said, settings the page could not use)
    let imported = RwSignal::new(None::<(String, Shown, String, Vec<String>)>);
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
                    check(&text)
                        .map(|checked| (name.clone(), checked))
                        .map_err(|e| format!("{name}: {e}"))
                });
            match result {
                Ok((name, checked)) => {
                    let (settings, notices) = Settings::from_query(&checked.settings);
                    let ignored = notices.into_iter().map(|n| n.message).collect();
                    let verdict = replay_verdict(&checked.report, &checked.saved_answer);
                    let card = match checked.source {
                        Source::Card(id) => {
                            Shown::Card(Box::new(describe(id, &settings, checked.replayed, None)))
                        }
                        Source::Live { model } => Shown::Live(model, Box::new(checked.replayed)),
                    };
                    imported.try_set(Some((name, card, verdict, ignored)));
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
            {move || imported.get().map(|(name, shown, verdict, ignored)| {
                let body = match shown {
                    Shown::Card(card) => {
                        let run = Signal::derive(move || (*card).clone());
                        view! { <Card run=run link=Signal::derive(String::new) imported=true /> }.into_any()
                    }
                    Shown::Live(model, run) => {
                        view! { <crate::live_panel::RunView model=model run=Signal::derive(move || (*run).clone()) /> }.into_any()
                    }
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
                        {body}
                    </div>
                }
            })}
        </section>
    }
}
