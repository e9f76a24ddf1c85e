//! One scenario card: title, idea, knobs, result, verdict, timeline, play and share.
//!
//! A card draws a [`ScenarioRun`] it is handed; it never computes one. The only thing it owns
//! is view state: the replay's playhead and the copy button's status.

use crate::browser;
use crate::timeline_svg::{kind_class, legend, TimelineSvg};
use leptos::prelude::*;
use leptos::task::spawn_local;
use reliability_core::approval::Decision;
use reliability_core::scenario::{ScenarioId, ScenarioRun, Tone};
use reliability_core::time::{Micros, Secs};
use reliability_core::timeline::{layout, Kind};
use reliability_core::trace::EventKind;

/// How long a replay lasts in real time, at most and at least (milliseconds).
const REPLAY_MAX_MS: f64 = 8_000.0;
const REPLAY_MIN_MS: f64 = 1_500.0;
/// How often a replay redraws (milliseconds).
const FRAME_MS: u32 = 50;

fn tone_class(t: Tone) -> &'static str {
    match t {
        Tone::Handled => "tone-handled",
        Tone::Calm => "tone-calm",
        Tone::NotRecovered => "tone-not-recovered",
        Tone::Waiting => "tone-waiting",
    }
}

fn tone_icon(t: Tone) -> &'static str {
    match t {
        Tone::Handled => "✓",
        Tone::Calm => "•",
        Tone::NotRecovered => "✗",
        Tone::Waiting => "…",
    }
}

fn blocked_text(b: &[String]) -> String {
    let items: Vec<String> = b.iter().map(|t| format!("\"{t}\"")).collect();
    format!("[{}]", items.join(", "))
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
    run: Signal<ScenarioRun>,
    /// The page's permalink, for the transcript.
    #[prop(into)]
    link: Signal<String>,
    /// Card D's Approve / Deny / ask-again buttons call this; other cards have none.
    #[prop(optional)]
    on_decide: Option<Callback<Option<Decision>>>,
) -> impl IntoView {
    let id = run.with_untracked(|r| r.id);
    let letter = id.letter();
    let heading_id = format!("card-{letter}-title");
    let timeline = Memo::new(move |_| run.with(|r| layout(&r.run)));
    let playhead = RwSignal::new(None::<Micros>);
    let replay_gen = StoredValue::new(0u64);
    let copy_status = RwSignal::new(None::<Result<String, String>>);

    let play = move |_| {
        if playhead.get_untracked().is_some() {
            // A second press stops the replay.
            replay_gen.update_value(|g| *g += 1);
            playhead.set(None);
            return;
        }
        replay_gen.update_value(|g| *g += 1);
        let mine = replay_gen.get_value();
        let start_run = run.get_untracked();
        let span = timeline.with_untracked(|t| t.span);
        let total = replay_ms(span);
        let started = browser::now_ms();
        playhead.set(Some(0));
        spawn_local(async move {
            loop {
                gloo_timers::future::TimeoutFuture::new(FRAME_MS).await;
                // Stop when another press, or a settings change, made this replay stale.
                let stale = replay_gen.try_get_value() != Some(mine)
                    || run.try_with_untracked(|r| r != &start_run).unwrap_or(true);
                if stale {
                    if replay_gen.try_get_value() == Some(mine) {
                        playhead.try_set(None);
                    }
                    return;
                }
                let frac = ((browser::now_ms() - started) / total).clamp(0.0, 1.0);
                if frac >= 1.0 {
                    playhead.try_set(None);
                    return;
                }
                playhead.try_set(Some((frac * span as f64) as Micros));
            }
        });
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
            copy_status.try_set(Some(status));
        });
    };

    let transcript = move || run.with(|r| r.transcript(&link.get()));
    let tone = move || run.with(|r| r.verdict.tone);
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
        run.with(|r| {
            r.run
                .trace
                .iter()
                .filter(|e| !matches!(e.kind, EventKind::Step))
                .filter(|e| head.is_none_or(|h| e.at <= h))
                .map(|e| {
                    view! {
                        <li><span class="at">{Secs(e.at).to_string()}</span>" "{e.to_string()}</li>
                    }
                })
                .collect_view()
        })
    };

    let decide_buttons = move || {
        let cb = on_decide?;
        let awaiting = run.with(|r| r.run.awaiting.is_some());
        Some(if awaiting {
            view! {
                <div class="decide" role="group" aria-label="Human decision">
                    <button class="approve" data-testid="approve" on:click=move |_| cb.run(Some(Decision::Approve))>
                        "✓ Approve send_email"
                    </button>
                    <button class="deny" data-testid="deny" on:click=move |_| cb.run(Some(Decision::Deny))>
                        "✗ Deny"
                    </button>
                </div>
            }
            .into_any()
        } else {
            view! {
                <div class="decide">
                    <button data-testid="ask-again" on:click=move |_| cb.run(None)>"↺ Ask again"</button>
                </div>
            }
            .into_any()
        })
    };

    view! {
        <article
            class=move || format!("card {}", tone_class(tone()))
            data-testid=format!("card-{letter}")
            aria-labelledby=heading_id.clone()
        >
            <header class="card-head">
                <span class="badge" aria-hidden="true">{letter}</span>
                <h2 id=heading_id.clone()>{format!("{letter}. {}", id.title())}</h2>
            </header>
            <p class="idea">{id.idea()}</p>
            <ul class="used" aria-label="Settings this card uses">
                {move || run.with(|r| {
                    let mut items: Vec<_> = r.knobs.iter().map(|(k, v)| view! {
                        <li><span class="k">{k.clone()}</span>" "<span class="v">{v.clone()}</span></li>
                    }.into_any()).collect();
                    if let Some(slow) = r.slow_call {
                        items.push(view! {
                            <li><span class="k">"slow call takes"</span>" "<span class="v">{Secs(slow).to_string()}</span></li>
                        }.into_any());
                    }
                    items.collect_view()
                })}
            </ul>
            <dl class="result" data-testid="result">
                {move || run.with(|r| {
                    let o = &r.run.outcome;
                    view! {
                        <div><dt>"answer"</dt><dd data-field="answer">{o.answer.clone()}</dd></div>
                        <div><dt>"steps"</dt><dd data-field="steps">{o.steps}</dd></div>
                        <div><dt>"blocked"</dt><dd data-field="blocked">{blocked_text(&o.blocked)}</dd></div>
                        <div><dt>"degraded"</dt><dd data-field="degraded">{o.degraded.to_string()}</dd></div>
                    }
                })}
            </dl>
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
            <p class="verdict" data-testid="verdict" aria-live="polite">
                <span class="tone">{move || format!("{} {}", tone_icon(tone()), tone().label())}</span>
                ": "
                {move || run.with(|r| r.verdict.text.clone())}
            </p>
            {decide_buttons}
            <TimelineSvg timeline=timeline playhead=playhead summary=summary />
            <ul class="legend" aria-label="Legend">
                {move || timeline.with(|t| legend(t).into_iter().map(|(k, text)| view! {
                    <li><span class=format!("swatch {}", kind_class(k))></span>{text}</li>
                }).collect_view())}
            </ul>
            <div class="actions">
                <button data-testid="play" on:click=play aria-pressed=move || playhead.get().is_some().to_string()>
                    {move || if playhead.get().is_some() { "■ Stop replay" } else { "▶ Play" }}
                </button>
                <button data-testid="copy" on:click=copy>"Copy transcript"</button>
                <span class="copy-status" role="status">
                    {move || copy_status.get().map(|s| match s { Ok(m) | Err(m) => m })}
                </span>
            </div>
            {move || matches!(copy_status.get(), Some(Err(_))).then(|| view! {
                <textarea class="transcript" readonly rows="8" aria-label="Transcript">{transcript}</textarea>
            })}
            <details class="log">
                <summary>"Event log"</summary>
                <ol>{log}</ol>
            </details>
        </article>
    }
}

/// Which cards take a human decision.
pub fn takes_decision(id: ScenarioId) -> bool {
    id == ScenarioId::D
}
