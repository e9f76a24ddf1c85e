//! The controls: one per knob (slider, number, checkbox or choice), the jitter choice, reset.
//!
//! Every control writes into the one settings signal through [`Settings::set`], which checks
//! the range; a value it refuses is shown next to the control and changes nothing.

use crate::card::tone_class;
use leptos::prelude::*;
use reliability_core::lab::{CardId, CardRun, Knob, Place, Settings, Unit, KNOBS};
use reliability_core::num::parse_f64;
use reliability_core::quote;
use reliability_core::time::{shortest, Secs};

/// Bumped by the reset button, so every control forgets the input it refused before.
#[derive(Clone, Copy)]
pub struct ResetCount(pub RwSignal<u64>);

/// Writes `raw` (as the control produced it) into the settings, or says why not.
fn apply(settings: RwSignal<Settings>, knob: &'static Knob, raw: &str) -> Result<(), String> {
    let value = match knob.unit {
        Unit::Toggle | Unit::Choice(_) => knob.read(raw)?,
        _ => parse_f64(raw.trim()).ok_or_else(|| "is not a number".to_string())?,
    };
    let mut next = settings.get_untracked();
    next.set(knob.name, value)?;
    settings.set(next);
    Ok(())
}

/// The control of one knob.
#[component]
pub fn KnobControl(
    /// Which knob.
    knob: &'static Knob,
    /// The lab's settings.
    settings: RwSignal<Settings>,
    /// Put before `knob-<name>` in the control's id and test id, for a second control of a
    /// knob shown elsewhere too (the challenge panel's `ch-`): ids stay unique.
    #[prop(optional)]
    prefix: &'static str,
) -> impl IntoView {
    let id = format!("{prefix}knob-{}", knob.name);
    let help_id = format!("{id}-help");
    let value = move || settings.with(|s| s.get(knob.name).unwrap_or(knob.min));
    // The refused input, with the reset count it was refused under: a reset hides it.
    let resets = use_context::<ResetCount>().map(|r| r.0);
    let reset_count = move || resets.map(|r| r.get()).unwrap_or(0);
    let error = RwSignal::new(None::<(u64, String)>);
    let commit = move |raw: String| match apply(settings, knob, &raw) {
        Ok(()) => error.set(None),
        Err(why) => error.set(Some((
            reset_count(),
            format!("{} ignored: {} {why}", quote(&raw), knob.label),
        ))),
    };
    let shown_error = move || {
        error
            .get()
            .filter(|(at, _)| *at == reset_count())
            .map(|(_, message)| message)
    };
    let toggled = move |ev: leptos::ev::Event| {
        let on = event_target_checked(&ev);
        commit(if on { "on" } else { "off" }.to_string());
    };
    let input = match knob.unit {
        Unit::Toggle => view! {
            <input
                id=id.clone()
                data-testid=id.clone()
                type="checkbox"
                role="switch"
                aria-describedby=help_id.clone()
                prop:checked=move || { value() >= 0.5 }
                on:change=toggled
            />
        }
        .into_any(),
        Unit::Choice(names) => view! {
            <select
                id=id.clone()
                data-testid=id.clone()
                aria-describedby=help_id.clone()
                on:change=move |ev| commit(event_target_value(&ev))
            >
                {names
                    .iter()
                    .enumerate()
                    .map(|(i, n)| {
                        view! { <option value=*n selected=move || value() as usize == i>{*n}</option> }
                    })
                    .collect_view()}
            </select>
        }
        .into_any(),
        _ if knob.name == "seed" => view! {
            <input
                id=id.clone()
                data-testid=id.clone()
                type="number"
                inputmode="numeric"
                min=shortest(knob.min)
                max=shortest(knob.max)
                step=shortest(knob.step)
                aria-describedby=help_id.clone()
                prop:value=move || shortest(value())
                on:change=move |ev| commit(event_target_value(&ev))
            />
        }
        .into_any(),
        _ => view! {
            <input
                id=id.clone()
                data-testid=id.clone()
                type="range"
                min=shortest(knob.min)
                max=shortest(knob.max)
                step=shortest(knob.step)
                aria-describedby=help_id.clone()
                aria-valuetext=move || knob.show(value())
                prop:value=move || shortest(value())
                on:input=move |ev| commit(event_target_value(&ev))
            />
        }
        .into_any(),
    };
    view! {
        <div class="knob" data-knob=knob.name>
            <div class="knob-head">
                <label for=id.clone()>{knob.label}</label>
                <output for=id.clone() class="value" aria-hidden="true">{move || knob.show(value())}</output>
            </div>
            {input}
            <small id=help_id class="help">{hint(knob)}</small>
            <small class="knob-error" role="alert">{shown_error}</small>
        </div>
    }
}

/// A knob's help, with the cards it drives: "tries per call, the first one included (A, C,
/// E, F, G, H, I, L)".
fn hint(knob: &Knob) -> String {
    let cards: Vec<&str> = knob.cards().iter().map(|c| c.letter()).collect();
    match (knob.place, cards.as_slice()) {
        (_, []) | (Place::Card(_), [_]) => knob.help.to_string(),
        (_, [one]) => format!("{} (card {one})", knob.help),
        (_, many) => format!("{} (cards {})", knob.help, many.join(", ")),
    }
}

/// The controls of every knob shown at `place`, in table order.
pub fn knobs_at(place: Place, settings: RwSignal<Settings>) -> impl IntoView {
    KNOBS
        .iter()
        .filter(move |k| k.place == place)
        .map(move |k| view! { <KnobControl knob=k settings=settings /> })
        .collect_view()
}

/// The controls that live inside one card.
pub fn card_controls(id: CardId, settings: RwSignal<Settings>) -> Option<AnyView> {
    let place = Place::Card(id);
    KNOBS
        .iter()
        .any(|k| k.place == place)
        .then(|| view! { <div class="card-knobs">{knobs_at(place, settings)}</div> }.into_any())
}

/// The panel of controls for the lab's cards A–F.
#[component]
pub fn ControlPanel(
    /// The lab's settings: the panel's only state.
    settings: RwSignal<Settings>,
    /// Called by the reset button after it restored the defaults.
    #[prop(into)]
    on_reset: Callback<()>,
) -> impl IntoView {
    view! {
        <section class="controls" aria-labelledby="controls-title">
            <h2 id="controls-title">"Policy knobs"</h2>
            <div class="knobs">{knobs_at(Place::Main, settings)}</div>
            <details class="advanced">
                <summary>"Advanced: retry, jitter, seed, circuit breaker"</summary>
                <div class="knobs">{knobs_at(Place::Advanced, settings)}</div>
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

/// Every card at a glance, beside the knobs: its letter, its verdict's icon and its virtual
/// time, each a link to the card. A knob's move shows here even when the cards it drives are
/// further down the page. (Written as markup in one go, as the plots are: a view per tile
/// cost several KiB of wasm.)
pub fn cards_now(runs: Vec<Memo<CardRun>>) -> impl IntoView {
    let tiles = move || {
        let mut out = String::from("<ul>");
        for run in &runs {
            run.with(|r| {
                let (t, l) = (r.tone(), r.id.letter());
                out.push_str(&format!(
                    r##"<li class="{}"><a href="#card-{l}" title="card {l}: {}"><b>{l}</b> {} {}</a></li>"##,
                    tone_class(t),
                    t.label(),
                    t.icon(),
                    Secs(r.run.outcome.elapsed)
                ));
            });
        }
        out + "</ul>"
    };
    view! { <nav class="now" aria-label="Every card now" data-testid="cards-now" inner_html=tiles></nav> }
}
