//! The live panel: the lab's task against a real model (driver 3), with the user's own key.
//!
//! The agent is the same engine as every card's, under the same policies (the lab's attempts,
//! base delay, jitter, max_steps; the live timeout); this module only performs what it asks:
//! a fetch to `{base}/v1/messages` with a real timeout, a pretend tool, a real wait, the
//! Approve and Deny buttons. After every input the run is checkpointed in this tab's session
//! storage (never the key), so a reload resumes it, even in the middle of a backoff wait or a
//! pending approval.
//!
//! The key goes in the `x-api-key` header of requests to the address the user named, and
//! nowhere else: not the link, not a trace, not the log, not local storage.

use crate::net::{self, HttpFailure};
use crate::timeline_svg::{facts_html, legend_html, log_html, TimelineSvg};
use leptos::prelude::*;
use leptos::task::spawn_local;
use reliability_core::agent::{Run, TokenUsage};
use reliability_core::approval::Decision;
use reliability_core::lab::{Place, Settings};
use reliability_core::live::{self, LiveRun, Next};
use reliability_core::time::{Micros, Secs};
use reliability_core::timeline::layout;
use reliability_core::tracefile::Checkpoint;

const CHECKPOINT_KEY: &str = "agent-reliability-lab.live";
const KEY_KEY: &str = "agent-reliability-lab.live-key";
const BASE_KEY: &str = "agent-reliability-lab.live-base";
const MODEL_KEY: &str = "agent-reliability-lab.live-model";

/// A live run in progress, and when it started (wall-clock ms: virtual time is real time
/// since then, so a reload keeps counting).
struct Live {
    run: LiveRun,
    started: f64,
}

impl Live {
    fn now(&self) -> Micros {
        ((net::wall_ms() - self.started).max(0.0) * 1000.0) as Micros
    }
}

/// Where the panel is.
#[derive(Clone, Debug, PartialEq)]
enum Phase {
    Idle,
    Running(String),
    Asking,
    Done,
}

/// Sleeps `ms` real milliseconds in short slices, stopping early when `stop` says so.
async fn sleep(ms: f64, stop: impl Fn() -> bool) -> bool {
    let end = net::wall_ms() + ms;
    loop {
        if stop() {
            return false;
        }
        let left = end - net::wall_ms();
        if left <= 0.0 {
            return true;
        }
        gloo_timers::future::TimeoutFuture::new(left.min(100.0) as u32).await;
    }
}

/// A run's result, verdict, timeline and log: what a live run (or an imported one) shows.
#[component]
pub fn RunView(
    /// The model's id.
    #[prop(into)]
    model: String,
    /// The run.
    #[prop(into)]
    run: Signal<Run>,
) -> impl IntoView {
    let explanation = Memo::new(move |_| run.with(live::explain));
    let timeline = Memo::new(move |_| run.with(layout));
    let summary = Signal::derive(move || {
        format!(
            "Timeline of the live run with {model} over {}",
            timeline.with(|t| Secs(t.span).to_string())
        )
    });
    view! {
        <p class="result" data-testid="result" aria-label="Result">
            <code>{move || run.with(|r| r.outcome.lab_repr())}</code>
        </p>
        <p class="verdict" data-testid="verdict" aria-live="polite">
            <span class="tone">{move || explanation.with(|x| format!("{} {}", x.tone.icon(), x.tone.label()))}</span>
            ": "
            {move || explanation.with(|x| x.verdict.clone())}
        </p>
        <dl class="facts" inner_html=move || explanation.with(|x| facts_html(x.facts.iter().map(|(k, v)| (k, v))))></dl>
        <TimelineSvg timeline=timeline playhead=Signal::derive(|| None) summary=summary />
        <ul class="legend" aria-label="Legend" inner_html=move || timeline.with(legend_html)></ul>
        <details class="log" open>
            <summary>"Event log"</summary>
            <ol inner_html=move || run.with(|r| log_html(&r.trace, None))></ol>
        </details>
    }
}

/// The live panel.
#[component]
pub fn LivePanel(
    /// The lab's settings: the policy knobs the live run uses.
    settings: RwSignal<Settings>,
) -> impl IntoView {
    let key = RwSignal::new(net::session_get(KEY_KEY).unwrap_or_default());
    let base =
        RwSignal::new(net::session_get(BASE_KEY).unwrap_or_else(|| live::DEFAULT_BASE.to_string()));
    let model = RwSignal::new(
        net::session_get(MODEL_KEY).unwrap_or_else(|| live::DEFAULT_MODEL.to_string()),
    );
    let state = StoredValue::new(None::<Live>);
    let shown = RwSignal::new(None::<Run>);
    let phase = RwSignal::new(Phase::Idle);
    let notice = RwSignal::new(None::<String>);
    let decision = RwSignal::new(None::<Decision>);
    let stop = RwSignal::new(false);
    let generation = StoredValue::new(0u64);

    // Remember what was typed for this tab only (the key included: session storage ends with
    // the tab, and the key never goes to the link or to local storage).
    Effect::new(move |_| net::session_set(KEY_KEY, &key.get()));
    Effect::new(move |_| net::session_set(BASE_KEY, &base.get()));
    Effect::new(move |_| net::session_set(MODEL_KEY, &model.get()));
    // The header's kill switch stops a live run too.
    Effect::new(move |_| {
        if settings.with(|s| s.kill) {
            stop.set(true);
        }
    });

    let publish = move || {
        state.with_value(|l| {
            if let Some(l) = l {
                shown.set(Some(l.run.run()));
                net::session_set(CHECKPOINT_KEY, &l.run.checkpoint(l.started).to_json());
            }
        })
    };
    // Hands the run an input at the current time (nothing when no run is going).
    let feed = move |f: &dyn Fn(&mut LiveRun, Micros)| {
        state.update_value(|l| {
            if let Some(l) = l {
                let now = l.now();
                f(&mut l.run, now);
            }
        });
        publish();
    };

    // Drives the run until it is done: it only performs what the run asks. `mine` cancels it
    // when a new run starts.
    let drive = move |mine: u64| {
        spawn_local(async move {
            let alive = move || generation.try_get_value() == Some(mine);
            loop {
                if !alive() {
                    return;
                }
                if stop.get_untracked() {
                    stop.set(false);
                    feed(&|r, now| r.kill(now));
                }
                let next = state.try_update_value(|l| {
                    l.as_mut().map(|l| {
                        let now = l.now();
                        (l.run.next(now), now)
                    })
                });
                let Some(Some((next, now))) = next else {
                    return;
                };
                match next {
                    Next::Done => {
                        phase.set(Phase::Done);
                        publish();
                        return;
                    }
                    Next::Wait(until) => {
                        phase.set(Phase::Running("waiting before the next try".into()));
                        let ms = until.saturating_sub(now) as f64 / 1000.0;
                        if sleep(ms, move || stop.get_untracked() || !alive()).await {
                            feed(&|r, _| r.waited(until));
                        }
                    }
                    Next::Ask { deadline, .. } => {
                        phase.set(Phase::Asking);
                        publish();
                        let answered = loop {
                            if !alive() {
                                return;
                            }
                            if let Some(d) = decision.get_untracked() {
                                break Some(d);
                            }
                            let now = state.with_value(|l| l.as_ref().map_or(0, Live::now));
                            if stop.get_untracked() || deadline.is_some_and(|d| now >= d) {
                                break None;
                            }
                            gloo_timers::future::TimeoutFuture::new(100).await;
                        };
                        decision.set(None);
                        phase.set(Phase::Running("working".into()));
                        match (answered, deadline) {
                            (Some(d), _) => feed(&|r, now| r.decide(now, d)),
                            (None, Some(at)) if !stop.get_untracked() => {
                                feed(&|r, _| r.timed_out(at))
                            }
                            _ => {}
                        }
                    }
                    Next::Inject => {
                        // The lab's failure count: a failure before the real call, so retry
                        // has something to recover from.
                        phase.set(Phase::Running("an injected failure".into()));
                        sleep(200.0, || false).await;
                        if alive() {
                            feed(&|r, now| r.inject(now));
                        }
                    }
                    Next::Call { body, deadline } => {
                        let key = key.get_untracked();
                        if key.trim().is_empty() {
                            notice.set(Some("Paste your API key to run against a real model (it stays in this tab).".into()));
                            phase.set(Phase::Idle);
                            state.update_value(|l| {
                                if let Some(l) = l {
                                    l.run.agent.unpoll();
                                }
                            });
                            return;
                        }
                        let (url, base_url, model_id) = state.with_value(|l| {
                            l.as_ref().map_or_else(Default::default, |l| {
                                (l.run.url(), l.run.base.clone(), l.run.model.clone())
                            })
                        });
                        phase.set(Phase::Running(format!("calling {model_id}")));
                        let mut headers: Vec<(&str, &str)> = live::HEADERS.to_vec();
                        headers.push(("x-api-key", key.trim()));
                        let timeout_ms = deadline.saturating_sub(now) as f64 / 1000.0;
                        let result = net::post(&url, &headers, &body, timeout_ms).await;
                        if !alive() {
                            return;
                        }
                        match result {
                            Ok(r) => {
                                let reply = live::read_response(
                                    &model_id,
                                    r.status,
                                    r.retry_after.as_deref(),
                                    &r.body,
                                );
                                feed(&|run, now| run.answer(now, reply.clone()));
                            }
                            Err(HttpFailure::TimedOut) => feed(&|r, _| r.timed_out(deadline)),
                            Err(HttpFailure::Unreachable(why)) => {
                                let error = live::unreachable(&base_url, &why);
                                feed(&|r, now| r.answer(now, Err(error.clone())));
                            }
                        }
                    }
                }
            }
        });
    };

    let start = move |live: Live| {
        generation.update_value(|g| *g += 1);
        let mine = generation.get_value();
        state.set_value(Some(live));
        stop.set(false);
        decision.set(None);
        notice.set(None);
        phase.set(Phase::Running("starting".into()));
        publish();
        drive(mine);
    };

    let run_now = move |_| {
        let s = settings.get_untracked();
        let m = model.get_untracked().trim().to_string();
        if key.get_untracked().trim().is_empty() && s.failures == 0 {
            notice.set(Some(
                "Paste your API key first: it is sent only to the address above.".into(),
            ));
            return;
        }
        match LiveRun::new(s, &m, base.get_untracked().trim()) {
            Ok(run) => start(Live {
                run,
                started: net::wall_ms(),
            }),
            Err(e) => notice.set(Some(format!("Cannot start: {e}"))),
        }
    };

    // A run saved in this tab resumes where it was.
    if let Some(text) = net::session_get(CHECKPOINT_KEY) {
        let resumed = Checkpoint::parse(&text).and_then(|c| {
            LiveRun::resume(&c)
                .map(|run| (c, run))
                .map_err(|e| e.to_string())
        });
        match resumed {
            Ok((c, run)) => {
                model.set(c.model);
                base.set(c.base);
                start(Live {
                    run,
                    started: c.started,
                });
            }
            Err(why) => {
                net::session_remove(CHECKPOINT_KEY);
                notice.set(Some(format!("The live run saved in this tab could not be resumed: {why}. It starts over; nothing else on the page changed.")));
            }
        }
    }

    let export = move |_| {
        state.with_value(|l| {
            if let Some(l) = l {
                crate::browser::download("trace-live.json", &l.run.trace_file().to_json());
            }
        })
    };
    let decide = move |d: Decision| decision.set(Some(d));
    let price = move || {
        let m = model.get();
        match live::price(&m) {
            Some(_) => format!(
                "A run makes 2 to 4 model calls of under a thousand tokens each: about {} with {m}.",
                reliability_core::caps::fmt_usd(live::cost(&m, TokenUsage { input: 2_400, output: 300 }))
            ),
            None => format!("This lab does not know {m}'s price: the run's cost will show as $0.00."),
        }
    };

    view! {
        <section class="live" data-testid="live" aria-labelledby="live-title">
            <h2 id="live-title">"Live run: the same policies around a real model"</h2>
            <p class="help">
                "The lab's task, against a real model through Anthropic's Messages API, with your own key. "
                "The lab's sliders set the policy (attempts, base delay, jitter, max_steps; failures are injected "
                "before the real call, so you can watch retry recover). When nothing fails, the wrappers are invisible."
            </p>
            <div class="live-fields">
                <label>"API key "
                    <input type="password" autocomplete="off" data-testid="live-key"
                        prop:value=move || key.get() on:input=move |ev| key.set(event_target_value(&ev)) />
                </label>
                <label>"Address "
                    <input type="url" data-testid="live-base-url"
                        prop:value=move || base.get() on:input=move |ev| base.set(event_target_value(&ev)) />
                </label>
                <label>"Model "
                    <input type="text" data-testid="live-model"
                        prop:value=move || model.get() on:input=move |ev| model.set(event_target_value(&ev)) />
                </label>
            </div>
            <div class="knobs">{crate::controls::knobs_at(Place::Live, settings)}</div>
            <p class="help" data-testid="live-note">
                "Your key is sent from this browser straight to "
                {move || format!("{}/v1/messages", base.get().trim_end_matches('/'))}
                " and nowhere else: not in the link, an exported trace, the log or saved storage beyond this tab. "
                {price}
            </p>
            <div class="actions">
                <button data-testid="live-run" on:click=run_now>"▶ Run"</button>
                <button data-testid="live-stop" on:click=move |_| stop.set(true)
                    disabled=move || !matches!(phase.get(), Phase::Running(_) | Phase::Asking)>"■ Stop"</button>
                <button data-testid="export" on:click=export disabled=move || shown.with(Option::is_none)>"Export trace"</button>
                <span class="copy-status" role="status" data-testid="live-status">
                    {move || match phase.get() {
                        Phase::Idle => String::new(),
                        Phase::Running(what) => format!("Running: {what}…"),
                        Phase::Asking => "Waiting for your decision.".to_string(),
                        Phase::Done => "Done.".to_string(),
                    }}
                </span>
            </div>
            {move || notice.get().map(|n| view! { <p class="import-error" role="alert" data-testid="live-notice">{n}</p> })}
            {move || (phase.get() == Phase::Asking).then(|| view! {
                <div class="decide" role="group" aria-label="Human decision">
                    <button class="approve" data-testid="approve" on:click=move |_| decide(Decision::Approve)>"✓ Approve send_email"</button>
                    <button class="deny" data-testid="deny" on:click=move |_| decide(Decision::Deny)>"✗ Deny"</button>
                </div>
            })}
            {move || shown.get().map(|run| view! {
                <RunView model=model.get_untracked() run=Signal::derive(move || run.clone()) />
            })}
        </section>
    }
}
