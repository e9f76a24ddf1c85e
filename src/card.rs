//! One scenario card: title, idea, knobs, result, verdict, timeline, play and share.
//!
//! A card draws a [`ScenarioRun`] it is handed; it never computes one. The only thing it owns
//! is view state: the replay's playhead and the copy button's status.

use crate::browser;
use crate::card_image::Sheet;
use crate::plot::escape;
use crate::timeline_svg::{facts_html, legend_html, log_html, TimelineSvg};
use leptos::prelude::*;
use leptos::task::spawn_local;
use reliability_core::approval::Decision;
use reliability_core::lab::{CardId, CardRun, Tone};
use reliability_core::time::{Micros, Secs};
use reliability_core::timeline::{layout, Kind};

/// How long a replay lasts in real time, at most and at least (milliseconds).
const REPLAY_MAX_MS: f64 = 8_000.0;
const REPLAY_MIN_MS: f64 = 1_500.0;
/// How often a replay redraws (milliseconds).
const FRAME_MS: u32 = 50;

pub fn tone_class(t: Tone) -> &'static str {
    match t {
        Tone::Handled => "tone-handled",
        Tone::Calm => "tone-calm",
        Tone::Degraded => "tone-degraded",
        Tone::NotRecovered => "tone-not-recovered",
        Tone::Waiting => "tone-waiting",
    }
}

/// `'send_email'` items, as the lab's dict prints them.
fn blocked_text(b: &[String]) -> String {
    let items: Vec<String> = b.iter().map(|t| format!("'{t}'")).collect();
    format!("[{}]", items.join(", "))
}

/// The answer as the dict quotes it.
fn answer_text(a: &str) -> String {
    a.replace('\'', "\\'")
}

/// What the card's image shows: its transcript up to the trace (title, the knobs and facts that
/// shaped the run, result, the handout's lines, verdict, facts), and its timeline.
pub fn sheet(r: &CardRun, link: String) -> Sheet {
    let text = r.transcript("");
    let lines = text.lines().take_while(|l| *l != "trace:");
    Sheet {
        lines: lines.map(str::to_string).collect(),
        tone: Some(r.tone()),
        timeline: Some(layout(&r.run)),
        link,
    }
}

/// Replay speed for a run of `span`: real milliseconds per virtual microsecond.
fn replay_ms(span: Micros) -> f64 {
    (span as f64 / 1_000.0).clamp(REPLAY_MIN_MS, REPLAY_MAX_MS)
}

/// A scenario card.
#[component]
pub fn Card(
    /// The run to show.
    #[prop(into)]
    run: Signal<CardRun>,
    /// The page's permalink, for the transcript.
    #[prop(into)]
    link: Signal<String>,
    /// Cards that pause (D, M) call this from their decision buttons; others have none.
    #[prop(optional_no_strip)]
    on_decide: Option<Callback<Option<Decision>>>,
    /// Where a replay is: called on every frame, with `None` when it stops.
    #[prop(optional)]
    on_play: Option<Callback<Option<Micros>>>,
    /// Start replaying from here when the card first appears (a resumed session).
    #[prop(optional_no_strip)]
    resume_at: Option<Micros>,
    /// Makes the card's trace file, for the export button.
    #[prop(optional)]
    on_export: Option<Callback<(), String>>,
    /// The card's own knobs.
    #[prop(optional)]
    children: Option<Children>,
    /// A copy of a card elsewhere on the page (an imported trace): its ids must not clash.
    #[prop(optional)]
    imported: bool,
    /// Its share buttons (none on an imported copy).
    #[prop(optional)]
    share: Option<AnyView>,
) -> impl IntoView {
    let id = run.with_untracked(|r| r.id);
    let card = id.card();
    let letter = card.letter;
    let heading_id = if imported {
        format!("imported-card-{letter}-title")
    } else {
        format!("card-{letter}-title")
    };
    let timeline = Memo::new(move |_| run.with(|r| layout(&r.run)));
    let playhead = RwSignal::new(None::<Micros>);
    let replay_gen = StoredValue::new(0u64);
    // The copy button's result, with the transcript it copied: stale once the run changes.
    let copy_status = RwSignal::new(None::<(String, Result<String, String>)>);
    let article = NodeRef::<leptos::html::Article>::new();

    let report = move |at: Option<Micros>| {
        if let Some(cb) = on_play {
            cb.run(at);
        }
    };
    let start_replay = move |from: Micros| {
        replay_gen.update_value(|g| *g += 1);
        let mine = replay_gen.get_value();
        let start_run = run.get_untracked();
        let span = timeline.with_untracked(|t| t.span).max(1);
        let total = replay_ms(span);
        let from = from.min(span);
        let started = browser::now_ms() - total * (from as f64 / span as f64);
        playhead.set(Some(from));
        report(Some(from));
        spawn_local(async move {
            loop {
                gloo_timers::future::TimeoutFuture::new(FRAME_MS).await;
                // Stop when another press, or a settings change, made this replay stale.
                let stale = replay_gen.try_get_value() != Some(mine)
                    || run.try_with_untracked(|r| r != &start_run).unwrap_or(true);
                if stale {
                    if replay_gen.try_get_value() == Some(mine) {
                        playhead.try_set(None);
                        report(None);
                    }
                    return;
                }
                let frac = ((browser::now_ms() - started) / total).clamp(0.0, 1.0);
                if frac >= 1.0 {
                    playhead.try_set(None);
                    report(None);
                    return;
                }
                let at = (frac * span as f64) as Micros;
                playhead.try_set(Some(at));
                report(Some(at));
            }
        });
    };
    if let Some(at) = resume_at {
        start_replay(at);
    }
    let play = move |_| {
        if playhead.get_untracked().is_some() {
            // A second press stops the replay.
            replay_gen.update_value(|g| *g += 1);
            playhead.set(None);
            report(None);
        } else {
            start_replay(0);
        }
    };

    let copy = move |_| {
        let text = run.with_untracked(|r| r.transcript(&link.get_untracked()));
        spawn_local(async move {
            let status = match browser::copy(&text).await {
                Ok(()) => Ok("Transcript copied.".to_string()),
                Err(e) => Err(format!(
                    "Could not copy ({e}). Select the text below instead."
                )),
            };
            copy_status.try_set(Some((text, status)));
        });
    };

    let transcript = move || run.with(|r| r.transcript(&link.get()));
    let current_status = move || {
        copy_status
            .get()
            .filter(|(copied, _)| *copied == transcript())
            .map(|(_, status)| status)
    };
    let tone = move || run.with(|r| r.tone());
    let summary = Signal::derive(move || {
        let t = timeline.get();
        let count = |k: Kind| t.bars.iter().filter(|b| b.kind == k).count();
        format!(
            "Timeline of card {letter} over {}: {} calls ok, {} failed, {} timed out, {} waits",
            Secs(t.span),
            count(Kind::Ok),
            count(Kind::Failed),
            count(Kind::Timeout),
            count(Kind::Wait)
        )
    });
    let log = move || {
        let head = playhead.get();
        run.with(|r| log_html(&r.run.trace, head))
    };

    // After a decision the pressed button is gone: put focus on its replacement.
    let refocus = move || {
        request_animation_frame(move || {
            let Some(el) = article.get_untracked() else {
                return;
            };
            let next = el
                .query_selector("[data-testid=ask-again], [data-testid=approve]")
                .ok()
                .flatten()
                .and_then(|e| wasm_bindgen::JsCast::dyn_into::<web_sys::HtmlElement>(e).ok());
            if let Some(b) = next {
                let _ = b.focus();
            }
        });
    };
    let decide_buttons = move || {
        let cb = on_decide?;
        // A run the kill switch stopped takes no decisions.
        if run.with(|r| r.run.outcome.stop == reliability_core::agent::Stop::Killed) {
            return None;
        }
        let decide = move |d: Option<Decision>| {
            cb.run(d);
            refocus();
        };
        let awaiting = run.with(|r| r.run.awaiting.is_some());
        let (yes, no) = if id == CardId::M {
            ("✓ Confirm the other 99", "✗ Stop here")
        } else {
            ("✓ Approve send_email", "✗ Deny")
        };
        Some(if awaiting {
            view! {
                <div class="decide" role="group" aria-label="Human decision">
                    <button class="approve" data-testid="approve" on:click=move |_| decide(Some(Decision::Approve))>
                        {yes}
                    </button>
                    <button class="deny" data-testid="deny" on:click=move |_| decide(Some(Decision::Deny))>
                        {no}
                    </button>
                </div>
            }
            .into_any()
        } else {
            view! {
                <div class="decide">
                    <button data-testid="ask-again" on:click=move |_| decide(None)>"↺ Ask again"</button>
                </div>
            }
            .into_any()
        })
    };

    view! {
        <article
            node_ref=article
            class=move || format!("card {}", tone_class(tone()))
            id=(!imported).then(|| format!("card-{letter}"))
            data-testid=format!("card-{letter}")
            aria-labelledby=heading_id.clone()
        >
            <header class="card-head">
                <span class="badge" aria-hidden="true">{letter}</span>
                <h2 id=heading_id.clone()>{format!("{letter}. {}", card.title)}</h2>
            </header>
            <p class="idea">{card.idea}</p>
            {children.map(|c| c())}
            <ul class="used" data-testid="tags" aria-label="What shaped this run" inner_html=move || run.with(|r| {
                let mut h = String::new();
                for (k, v) in &r.tags {
                    h += r#"<li><span class="k">"#;
                    h += &escape(k);
                    h += r#"</span> <span class="v">"#;
                    h += &escape(v);
                    h += "</span></li>";
                }
                h
            })></ul>
            <p class="result" data-testid="result" aria-label="Result" inner_html=move || run.with(|r| {
                let o = &r.run.outcome;
                format!(
                    r#"<code>{{'answer': '<span data-field="answer">{}</span>', 'steps': <span data-field="steps">{}</span>, 'blocked': <span data-field="blocked">{}</span>, 'degraded': <span data-field="degraded">{}</span>}}</code>"#,
                    escape(&answer_text(&o.answer)),
                    o.steps,
                    escape(&blocked_text(&o.blocked)),
                    if o.degraded { "True" } else { "False" }
                )
            })></p>
            {move || run.with(|r| (!r.explanation.lines.is_empty()).then(|| view! {
                <pre class="lines" data-testid="lines">{r.explanation.lines.join("\n")}</pre>
            }))}
            <p class="counters">
                {move || run.with(|r| {
                    let c = &r.run.outcome.counters;
                    format!(
                        "{} model call{}, {} retr{}, {} virtual time",
                        c.model_calls,
                        if c.model_calls == 1 { "" } else { "s" },
                        c.retries,
                        if c.retries == 1 { "y" } else { "ies" },
                        Secs(r.run.outcome.elapsed)
                    )
                })}
            </p>
            {move || run.with(|r| (!r.explanation.facts.is_empty()).then(|| view! {
                <dl class="facts" data-testid="facts" inner_html=facts_html(r.explanation.facts.iter().map(|(k, v)| (k, v)))></dl>
            }))}
            {move || run.with(|r| (!r.explanation.gauges.is_empty()).then(|| view! {
                <ul class="gauges" data-testid="gauges" aria-label="Budgets used" inner_html={
                    let mut h = String::new();
                    for g in &r.explanation.gauges {
                        let pct = if g.limit == 0 { 100.0 } else { (g.used as f64 / g.limit as f64 * 100.0).min(100.0) };
                        let label = escape(&format!("{} cap: {} of {}{}", g.name, g.used_text, g.limit_text, if g.fired { ", fired first" } else { "" }));
                        h += &format!(
                            r#"<li{}><span class="gauge-name">{}{}</span><meter min="0" max="100" value="{}" aria-label="{label}" title="{label}"></meter><span class="gauge-text">{} / {}</span></li>"#,
                            if g.fired { r#" class="fired""# } else { "" },
                            escape(&g.name),
                            if g.fired { " ■ fired" } else { "" },
                            reliability_core::time::fixed(pct, 1),
                            escape(&g.used_text),
                            escape(&g.limit_text),
                        );
                    }
                    h
                }></ul>
            }))}
            {move || run.with(|r| r.run.outcome.handoff.clone()).map(|h| {
                let json = reliability_core::json::to_string_pretty(&h).unwrap_or_default();
                let copied = RwSignal::new(None::<String>);
                let copy_json = move |_| {
                    let json = json.clone();
                    spawn_local(async move {
                        let msg = match browser::copy(&json).await {
                            Ok(()) => "Ticket copied as JSON.".to_string(),
                            Err(e) => format!("Could not copy ({e})."),
                        };
                        copied.try_set(Some(msg));
                    });
                };
                view! {
                    <section class="ticket" data-testid="handoff" aria-label="Handoff ticket">
                        <h3>{format!("Handoff ticket {}", h.ticket)}</h3>
                        <dl inner_html=facts_html([
                            ("user asked", h.user_input),
                            ("plan", h.plan.join("; ")),
                            ("steps done", if h.steps_executed.is_empty() { "none".to_string() } else { h.steps_executed.join("; ") }),
                            ("failing step", h.failing_step),
                            ("error", h.error),
                            ("next step", h.suggested_next_step),
                        ])></dl>
                        <button data-testid="copy-ticket" on:click=copy_json>"Copy as JSON"</button>
                        <span role="status" class="copy-status">{move || copied.get()}</span>
                    </section>
                }
            })}
            <p class="verdict" data-testid="verdict" aria-live="polite">
                <span class="tone">{move || format!("{} {}", tone().icon(), tone().label())}</span>
                ": "
                {move || run.with(|r| r.verdict().to_string())}
            </p>
            {decide_buttons}
            <TimelineSvg timeline=timeline playhead=playhead summary=summary />
            <ul class="legend" aria-label="Legend" inner_html=move || timeline.with(legend_html)></ul>
            <div class="actions">
                <button data-testid="play" on:click=play aria-pressed=move || playhead.get().is_some().to_string()>
                    {move || if playhead.get().is_some() { "■ Stop replay" } else { "▶ Play" }}
                </button>
                <button data-testid="copy" on:click=copy>"Copy transcript"</button>
                {on_export.map(|cb| view! {
                    <button data-testid="export" on:click=move |_| {
                        let json = cb.run(());
                        browser::download(&format!("trace-{letter}.json"), &json);
                    }>"Export trace"</button>
                })}
                <span class="copy-status" role="status">
                    {move || current_status().map(|s| match s { Ok(m) | Err(m) => m })}
                </span>
                // Handled by the page's present mode (see `present_keys` in lib.rs).
                {(!imported).then(|| view! {
                    <button data-present=letter data-testid="present">"⛶ Present"</button>
                })}
            </div>
            {share}
            {move || matches!(current_status(), Some(Err(_))).then(|| view! {
                <textarea class="transcript" readonly rows="8" aria-label="Transcript">{transcript}</textarea>
            })}
            <details class="log">
                <summary>"Event log"</summary>
                <ol inner_html=log></ol>
            </details>
        </article>
    }
}
