//! The Agent Reliability Lab page: a thin Leptos layer over `reliability-core`.
//!
//! The page holds one value, the lab's [`Settings`], in a signal. Every card is derived from
//! it by the core ([`run_scenario`]); the address bar and the browser's storage are kept in
//! sync with it. The only other state is view state: which card is replaying, and where.

mod browser;
mod card;
mod card_image;
mod challenge_panel;
mod controls;
mod importer;
mod live_panel;
mod net;
mod observe_panel;
mod plot;
mod scorer;
mod share;
mod stats_panel;
mod timeline_svg;

pub use browser::{remove_loading_message, report_panic};

/// Once the page is mounted: present mode if the link asks for it (`?present=B`), else the
/// card or panel a shared link names (`#card-B`, `#stats`) scrolled into view, else the
/// challenges when the link names a challenge or a result (or a broken one): whoever opens
/// one wants the panel, not the top of the lab.
pub fn after_mount() {
    let id = browser::fragment();
    match presented_by_link() {
        Some(card) => present_look(Some(card)),
        None if !id.is_empty() => browser::scroll_to(&id),
        None if challenge_panel::in_link() => browser::scroll_to("challenges"),
        None => {}
    }
}
pub use card::Card;
pub use controls::{ControlPanel, KnobControl};
pub use observe_panel::ObservabilityPanel;
pub use scorer::serve as serve_scores;
pub use timeline_svg::TimelineSvg;

use leptos::prelude::*;
use reliability_core::lab::{
    run_card, run_card_killed_at, view_param, CardId, CardRun, Notice, Settings,
};
use reliability_core::time::Micros;
use reliability_core::tracefile::{Session, TraceFile};
use wasm_bindgen::JsCast;

/// Messages about input that was ignored (a broken link, unreadable storage).
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
                    <p><strong>"Some input could not be used, so safe defaults stand in for it:"</strong></p>
                    <ul inner_html={
                        let items: String = list.iter().map(|n| format!("<li>{}</li>", plot::escape(&n.message))).collect();
                        items
                    }></ul>
                    <button on:click=move |_| notices.set(Vec::new())>"Dismiss"</button>
                </div>
            }
        })
    }
}

/// What the page starts from: the link's settings, or a saved session when the link has none.
fn starting_point() -> (Settings, Vec<Notice>, Option<(CardId, Micros)>) {
    let query = browser::query();
    let (from_link, mut notices) = Settings::from_query(&query);
    let saved = match browser::load_session() {
        Ok(Some(text)) => match Session::parse(&text) {
            Ok(s) => Some(s),
            Err(why) => {
                browser::set_aside_session(&text);
                notices.push(Notice {
                    name: "session".into(),
                    message: format!(
                        "The saved session could not be read ({why}); it was set aside and the page starts fresh."
                    ),
                });
                None
            }
        },
        Ok(None) => None,
        Err(_) => None,
    };
    match saved {
        // A saved session resumes when it is the same page (a reload) or the link is bare.
        Some(s)
            if query.trim_start_matches('?').is_empty()
                || Settings::from_query(&s.settings).0 == from_link =>
        {
            let (settings, mut more) = Settings::from_query(&s.settings);
            notices.append(&mut more);
            (settings, notices, s.playing)
        }
        _ => (from_link, notices, None),
    }
}

/// The whole lab page.
#[component]
pub fn App() -> impl IntoView {
    let (mut initial, ignored, resume) = starting_point();
    let (opened, shared, link_error) = challenge_panel::from_link(&browser::query(), &mut initial);
    let challenge = RwSignal::new(opened);
    let settings = RwSignal::new(initial);
    let notices = RwSignal::new(ignored);
    // Which card is replaying, and where; and where the kill switch caught it.
    let playing = RwSignal::new(resume);
    let killed_at = RwSignal::new(None::<(CardId, Micros)>);
    // The card shown alone and large for a projector (present mode), from `?present=B`.
    let present = RwSignal::new(presented_by_link());

    // Keep the address bar a permalink, and the session in storage (syncing with the world),
    // both written just after the frame that shows the change.
    Effect::new(move |_| {
        let mut query = settings.with(|s| s.page_query(present.get()));
        // The open challenge stays in the link too (a shared result's claim does not).
        if let Some(c) = challenge.with(|c| c.as_ref().map(|c| c.to_query())) {
            query = if query.is_empty() {
                c
            } else {
                format!("{query}&{c}")
            };
        }
        browser::keep(Some(query), None);
    });
    Effect::new(move |_| {
        let session = settings.with(|s| Session::new(s, playing.get()));
        browser::keep(None, Some(session.to_json()));
    });
    present_mode(present);

    let link = Signal::derive(move || {
        settings.track();
        browser::href()
    });
    let resets = RwSignal::new(0u64);
    provide_context(controls::ResetCount(resets));
    let on_reset = Callback::new(move |_| {
        notices.set(Vec::new());
        resets.update(|r| *r += 1);
    });
    let toggle_kill = move |_| {
        let on = !settings.with_untracked(|s| s.kill);
        // A card caught mid-replay stops where it was, not back at the start.
        killed_at.set(if on { playing.get_untracked() } else { None });
        settings.update(|s| s.kill = on);
    };

    let runs: Vec<Memo<CardRun>> = CardId::ALL
        .into_iter()
        .map(|id| {
            Memo::new(move |_| {
                settings.with(|s| match killed_at.get() {
                    Some((k, at)) if k == id && s.kill => run_card_killed_at(id, s, at),
                    _ => run_card(id, s),
                })
            })
        })
        .collect();
    let seed = Signal::derive(move || settings.with(|s| s.seed));

    let lab = CardId::LAB
        .iter()
        .zip(runs.iter())
        .map(|(id, run)| make_card(*id, *run, settings, link, playing, resume))
        .collect_view();
    let toolbox = CardId::TOOLBOX
        .iter()
        .zip(runs[CardId::LAB.len()..].iter())
        .map(|(id, run)| make_card(*id, *run, settings, link, playing, resume))
        .collect_view();
    let now = controls::cards_now(runs.clone());

    view! {
        <a class="skip" href="#cards">"Skip to the cards"</a>
        <header class="top" id="top">
            <div class="title-row">
                <h1>"Agent Reliability Lab"</h1>
                <button
                    class="kill"
                    class:on=move || settings.with(|s| s.kill)
                    data-testid="kill-switch"
                    aria-pressed=move || settings.with(|s| s.kill).to_string()
                    on:click=toggle_kill
                >
                    {move || if settings.with(|s| s.kill) { "■ Kill switch ON: runs stopped" } else { "Kill switch: off" }}
                </button>
            </div>
            <p class="lede">
                "Inject faults into a pretend agent and watch each reliability pattern handle them. "
                "Every run is simulated in virtual time from a seed: instant, exact, and the link in "
                "the address bar reproduces this page."
            </p>
        </header>
        <Notices notices=notices />
        <main>
            <ControlPanel settings=settings on_reset=on_reset />
            <div class="stage">
                // Shown in present mode only (style/main.css); `present_mode` handles its buttons.
                <nav class="present-bar" aria-label="Present mode">
                    <button data-present="prev" data-testid="present-prev">"← Previous card"</button>
                    <p>"Present mode: the arrow keys change cards; Esc leaves."</p>
                    <button data-present="next" data-testid="present-next">"Next card →"</button>
                    <button data-present="exit" data-testid="present-exit">"✕ Leave present mode"</button>
                </nav>
                {now}
                <section id="cards" class="cards" aria-label="The lab: scenarios A to F">{lab}</section>
                <live_panel::LivePanel settings=settings />
                <h2 class="section-title">"The failure-first toolbox"</h2>
                <section class="cards" aria-label="The toolbox: scenarios G to N">{toolbox}</section>
                <ObservabilityPanel runs=runs.clone() seed=seed />
                <stats_panel::StatsPanel settings=settings />
                <challenge_panel::ChallengePanel
                    settings=settings
                    challenge=challenge
                    claimed=shared
                    error=link_error
                />
                <importer::Importer />
            </div>
        </main>
        <footer class="foot">
            <p>
                "Nothing here leaves your browser: the risky tools only pretend. "
                "Times are virtual; press ▶ Play on a card to watch its run in real time."
            </p>
        </footer>
    }
}

/// One card of the page, wired to the settings: its decision, replay, export and own knobs.
fn make_card(
    id: CardId,
    run: Memo<CardRun>,
    settings: RwSignal<Settings>,
    link: Signal<String>,
    playing: RwSignal<Option<(CardId, Micros)>>,
    resume: Option<(CardId, Micros)>,
) -> AnyView {
    let on_decide = id
        .takes_decision()
        .then(|| Callback::new(move |d| settings.update(|s| s.set_decision(id, d))));
    let on_play = Callback::new(move |at: Option<Micros>| match at {
        Some(at) => playing.set(Some((id, at))),
        None => {
            if playing.get_untracked().map(|(p, _)| p) == Some(id) {
                playing.set(None);
            }
        }
    });
    let on_export = Callback::new(move |()| {
        settings.with_untracked(|s| run.with_untracked(|r| TraceFile::new(r, s).to_json()))
    });
    let resume_at = resume.filter(|(p, _)| *p == id).map(|(_, at)| at);
    let controls = controls::card_controls(id, settings);
    let share = share::buttons(
        settings,
        format!("card-{}", id.letter()),
        Box::new(move |_, link| Ok(run.with_untracked(|r| card::sheet(r, link)))),
    );
    view! {
        <Card
            run=run
            link=link
            on_decide=on_decide
            on_play=on_play
            on_export=on_export
            resume_at=resume_at
            share=share
        >
            {controls}
        </Card>
    }
    .into_any()
}

/// Present mode: one card large for a projector, with its knobs. The body's attributes carry
/// it (`class="present solo"`, `data-present="B"`, `data-knobs="max_steps"`) and
/// style/main.css does the rest, so the page's markup stays the same. A button with
/// `data-present` (a card's letter, `prev`, `next` or `exit`) moves it, and so do the arrow
/// keys and Escape, unless a control has the keys. (The handlers set the look themselves, not
/// an effect: less wasm, and nothing else changes it.)
fn present_mode(present: RwSignal<Option<CardId>>) {
    let show = move |next: Option<CardId>| {
        let was = present.get_untracked();
        present.set(next);
        present_look(next);
        // On entering, the top of the page; on leaving, the card that was shown.
        match (next, was) {
            (Some(_), _) => browser::scroll_to("top"),
            (None, Some(id)) => browser::scroll_to(&format!("card-{}", id.letter())),
            (None, None) => {}
        }
    };
    let step = move |by: usize| {
        let n = CardId::ALL.len();
        show(
            present
                .get_untracked()
                .map(|id| CardId::ALL[(id as usize + by) % n]),
        );
    };
    // One handler for clicks and keys (one listener's code, not two).
    let on_event = move |e: web_sys::Event| {
        let target = e
            .target()
            .and_then(|t| t.dyn_into::<web_sys::Element>().ok());
        // A click has no key; a key counts in present mode only, and the arrows only when no
        // control (a slider, a list) has them.
        let key = js_sys::Reflect::get(&e, &"key".into())
            .ok()
            .and_then(|k| k.as_string());
        let in_control = || {
            target
                .as_ref()
                .is_some_and(|t| matches!(t.tag_name().as_str(), "INPUT" | "SELECT" | "TEXTAREA"))
        };
        let to = match key.as_deref() {
            None => target
                .as_ref()
                .and_then(|t| t.get_attribute("data-present")),
            Some(_) if present.get_untracked().is_none() => None,
            Some("Escape") => Some("exit".into()),
            Some("ArrowRight") if !in_control() => Some("next".into()),
            Some("ArrowLeft") if !in_control() => Some("prev".into()),
            Some(_) => None,
        };
        let Some(to) = to else { return };
        if key.is_some() {
            e.prevent_default();
        }
        match to.as_str() {
            "prev" => step(CardId::ALL.len() - 1),
            "next" => step(1),
            "exit" => show(None),
            letter => show(CardId::parse(letter)),
        }
    };
    let _ = window_event_listener_untyped("click", on_event);
    let _ = window_event_listener_untyped("keydown", on_event);
}

/// Present mode's look for card `id` (or none).
fn present_look(id: Option<CardId>) {
    browser::present_look(id.map(|id| (id.letter(), id.card().knobs.join(" "))));
}

/// The card the link asks to present (`?present=B`).
fn presented_by_link() -> Option<CardId> {
    view_param(&browser::query(), "present").and_then(|l| CardId::parse(&l))
}
