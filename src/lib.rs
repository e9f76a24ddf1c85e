//! The Agent Reliability Lab page: a thin Leptos layer over `reliability-core`.
//!
//! The page holds one value, the lab's [`Settings`], in a signal. Every card is derived from
//! it by the core ([`run_scenario`]); the URL is kept in sync with it; nothing else is state.

mod browser;
mod card;
mod controls;
mod timeline_svg;

pub use card::Card;
pub use controls::ControlPanel;
pub use timeline_svg::TimelineSvg;

use leptos::prelude::*;
use reliability_core::scenario::{run_scenario, Notice, ScenarioId, Settings};

/// The notices about settings that were ignored (from a broken link).
#[component]
fn Notices(
    /// The notices; dismissing clears them.
    notices: RwSignal<Vec<Notice>>,
) -> impl IntoView {
    move || {
        let list = notices.get();
        (!list.is_empty()).then(|| {
            view! {
                <div class="notice" data-testid="notice" role="alert">
                    <p><strong>"Some settings in this link were ignored:"</strong></p>
                    <ul>
                        {list.into_iter().map(|n| view! { <li>{n.message}</li> }).collect_view()}
                    </ul>
                    <button on:click=move |_| notices.set(Vec::new())>"Dismiss"</button>
                </div>
            }
        })
    }
}

/// The whole lab page.
#[component]
pub fn App() -> impl IntoView {
    let (initial, ignored) = Settings::from_query(&browser::query());
    let settings = RwSignal::new(initial);
    let notices = RwSignal::new(ignored);

    // Keep the address bar a permalink of the settings (syncing with the world outside).
    Effect::new(move |_| {
        let query = settings.with(|s| s.to_query());
        browser::replace_query(&query);
    });
    let link = Signal::derive(move || {
        settings.track();
        browser::href()
    });
    let decide = Callback::new(move |d| settings.update(|s| s.approval = d));
    let on_reset = Callback::new(move |_| notices.set(Vec::new()));

    let cards = ScenarioId::ALL
        .into_iter()
        .map(|id| {
            let run = Memo::new(move |_| settings.with(|s| run_scenario(id, s, true)));
            if card::takes_decision(id) {
                view! { <Card run=run link=link on_decide=decide /> }.into_any()
            } else {
                view! { <Card run=run link=link /> }.into_any()
            }
        })
        .collect_view();

    view! {
        <a class="skip" href="#cards">"Skip to the cards"</a>
        <header class="top">
            <h1>"Agent Reliability Lab"</h1>
            <p class="lede">
                "Inject faults into a pretend agent and watch each reliability pattern handle them. "
                "Every run is simulated in virtual time from a seed: instant, exact, and the link in "
                "the address bar reproduces this page."
            </p>
        </header>
        <Notices notices=notices />
        <main>
            <ControlPanel settings=settings on_reset=on_reset />
            <section id="cards" class="cards" aria-label="Scenarios">{cards}</section>
        </main>
        <footer class="foot">
            <p>
                "Nothing here leaves your browser: the risky tools only pretend. "
                "Times are virtual; press ▶ Play on a card to watch its run in real time."
            </p>
        </footer>
    }
}
