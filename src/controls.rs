//! The control panel: one slider per knob, the jitter choice, the seed, and reset.
//!
//! Every control writes into the one settings signal through [`Settings::set`], which checks
//! the range; a value it refuses is shown next to the control and changes nothing.

use leptos::prelude::*;
use reliability_core::retry::Jitter;
use reliability_core::scenario::{Knob, Settings, Unit, KNOBS};
use reliability_core::time::{from_secs, Secs};

fn shown(k: &Knob, v: f64) -> String {
    match k.unit {
        Unit::Seconds => Secs(from_secs(v)).to_string(),
        Unit::Count => format!("{v}"),
    }
}

#[component]
fn Slider(
    /// Which knob.
    knob: &'static Knob,
    /// The lab's settings.
    settings: RwSignal<Settings>,
) -> impl IntoView {
    let id = format!("knob-{}", knob.name);
    let value = move || settings.with(|s| s.get(knob.name).unwrap_or(knob.min));
    let error = RwSignal::new(None::<String>);
    let on_input = move |ev| {
        let raw = event_target_value(&ev);
        let result = match raw.trim().parse::<f64>() {
            Ok(v) => {
                let mut next = settings.get_untracked();
                next.set(knob.name, v).map(|_| next)
            }
            Err(_) => Err("is not a number".to_string()),
        };
        match result {
            Ok(next) => {
                error.set(None);
                settings.set(next);
            }
            Err(why) => error.set(Some(format!("{raw:?} ignored: {} {why}", knob.label))),
        }
    };
    let is_seed = knob.name == "seed";
    let help_id = format!("{id}-help");
    view! {
        <div class="knob">
            <label for=id.clone()>
                <span class="name">{knob.label}</span>
                <output for=id.clone() class="value">{move || shown(knob, value())}</output>
            </label>
            {if is_seed {
                view! {
                    <input
                        id=id.clone()
                        data-testid=id.clone()
                        type="number"
                        inputmode="numeric"
                        min=knob.min
                        max=knob.max
                        step=knob.step
                        aria-describedby=help_id.clone()
                        prop:value=move || value().to_string()
                        on:change=on_input
                    />
                }
                .into_any()
            } else {
                view! {
                    <input
                        id=id.clone()
                        data-testid=id.clone()
                        type="range"
                        min=knob.min
                        max=knob.max
                        step=knob.step
                        aria-describedby=help_id.clone()
                        aria-valuetext=move || shown(knob, value())
                        prop:value=move || value().to_string()
                        on:input=on_input
                    />
                }
                .into_any()
            }}
            <small id=help_id class="help">{knob.help}</small>
            <small class="knob-error" role="alert">{move || error.get()}</small>
        </div>
    }
}

/// The panel of controls.
#[component]
pub fn ControlPanel(
    /// The lab's settings: the panel's only state.
    settings: RwSignal<Settings>,
    /// Called by the reset button after it restored the defaults.
    #[prop(into)]
    on_reset: Callback<()>,
) -> impl IntoView {
    let basic = KNOBS
        .iter()
        .filter(|k| !k.advanced)
        .map(|k| view! { <Slider knob=k settings=settings /> })
        .collect_view();
    let advanced = KNOBS
        .iter()
        .filter(|k| k.advanced)
        .map(|k| view! { <Slider knob=k settings=settings /> })
        .collect_view();
    let jitter_options = Jitter::ALL
        .iter()
        .map(|j| {
            let name = j.name();
            view! {
                <option value=name selected=move || settings.with(|s| s.jitter.name() == name)>{name}</option>
            }
        })
        .collect_view();
    view! {
        <section class="controls" aria-labelledby="controls-title">
            <h2 id="controls-title">"Policy knobs"</h2>
            <div class="knobs">{basic}</div>
            <details class="advanced">
                <summary>"Advanced: retry, jitter, seed, circuit breaker"</summary>
                <div class="knobs">
                    {advanced}
                    <div class="knob">
                        <label for="knob-jitter"><span class="name">"Jitter"</span></label>
                        <select
                            id="knob-jitter"
                            data-testid="knob-jitter"
                            aria-describedby="knob-jitter-help"
                            on:change=move |ev| {
                                if let Some(j) = Jitter::parse(&event_target_value(&ev)) {
                                    settings.update(|s| s.jitter = j);
                                }
                            }
                        >
                            {jitter_options}
                        </select>
                        <small id="knob-jitter-help" class="help">"how each backoff wait is randomised"</small>
                    </div>
                </div>
            </details>
            <div class="panel-actions">
                <button
                    data-testid="reset"
                    on:click=move |_| {
                        settings.set(Settings::default());
                        on_reset.run(());
                    }
                >
                    "↺ Reset to the lab's defaults"
                </button>
            </div>
        </section>
    }
}
