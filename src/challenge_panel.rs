//! The challenges: tune the lab's policy to a goal, and share a result anyone can re-check.
//!
//! The panel shows the open challenge (a built-in, or a teacher's from the link), the policy
//! knobs (controls of the lab's one settings value, as everywhere else), and the score of that
//! policy, goal by goal, from [`scorer`] (a Web Worker). Every word of a score is the core's
//! ([`GoalResult::line`], [`Score::verdict`]); the panel only lays them out.
//!
//! What only shows text (the challenge, the scores, the builder's link) is written as markup
//! and set in one go, as the plots are: a typed view per element costs about a kilobyte of
//! wasm each, and the page's bundle budget is tight. Every piece of text in that markup goes
//! through [`escape`] (a teacher's title and a link's errors come from the link).
//!
//! [`GoalResult::line`]: reliability_core::challenge::GoalResult::line

use crate::browser;
use crate::card_image::Sheet;
use crate::controls::KnobControl;
use crate::plot::escape;
use crate::scorer::{self, Scored};
use crate::share;
use leptos::prelude::*;
use reliability_core::challenge::{
    read_link, Challenge, Claim, Link, LinkError, Score, SharedResult, BUILTINS, POLICY_KNOBS,
};
use reliability_core::lab::{knob, settings::decode, Place, Settings, Tone};
use reliability_core::time::fixed;

/// What the page's own link says about challenges: the challenge to open, the result to
/// re-check, or why its challenge part could not be used. A result's policy knobs are put in
/// `settings`, so the page scores exactly the policy that was shared.
pub fn from_link(
    query: &str,
    settings: &mut Settings,
) -> (Option<Challenge>, Option<SharedResult>, Option<LinkError>) {
    match read_link(query) {
        Ok(None) => (None, None, None),
        Ok(Some(Link::Challenge(c))) => (Some(c), None, None),
        Ok(Some(Link::Result(r))) => {
            for k in POLICY_KNOBS.iter().filter_map(|n| knob(n)) {
                (k.put)(settings, (k.get)(&r.settings));
            }
            (Some(r.challenge.clone()), Some(r), None)
        }
        Err(e) => (None, None, Some(e)),
    }
}

/// Does the page's link name a challenge or a result (or a broken one)?
pub fn in_link() -> bool {
    !matches!(read_link(&browser::query()), Ok(None))
}

/// A goal's, a verdict's or a claim's class and sign.
fn mark(pass: bool) -> (&'static str, &'static str) {
    if pass {
        ("pass", "✓")
    } else {
        ("fail", "✗")
    }
}

/// The page's address with `query`, as a link to share.
fn address(query: &str) -> String {
    let href = browser::href();
    let page = href.split(['?', '#']).next().unwrap_or_default();
    format!("{page}?{query}")
}

/// The builder's fields: a custom challenge's link parameters (see
/// [`reliability_core::challenge`]), their labels, the default (shown in an empty field) and
/// a hint on what to write.
#[rustfmt::skip]
const FIELDS: [(&str, &str, &str, &str); 18] = [
    ("ch_title", "Title", "Custom challenge", ""),
    ("ch_work", "Workload", "answer", ": answer, solve, risky, loop or pay"),
    ("ch_fail", "Failure rate (%)", "0", ""),
    ("ch_lat", "Latency", "fixed", ": fixed, uniform or tail"),
    ("ch_mix", "Error mix (%)", "503:100", ", e.g. 503:70,429:20,hang:10"),
    ("ch_outage", "Outage (s)", "none", ", e.g. 2-5, or 2-5/10 for every 10 s"),
    ("ch_lost", "Lost payment answers (%)", "0", ""),
    ("ch_every", "Seconds between requests", "0.1", ""),
    ("ch_runs", "Requests scored", "10000", ""),
    ("ch_success", "Goal: success rate at least (%)", "", ""),
    ("ch_degraded", "Goal: degraded rate at most (%)", "", ""),
    ("ch_blocked", "Goal: blocked rate at most (%)", "", ""),
    ("ch_p95", "Goal: p95 latency at most (s)", "", ""),
    ("ch_p99", "Goal: p99 latency at most (s)", "", ""),
    ("ch_calls", "Goal: model calls per request at most", "", ""),
    ("ch_tokens", "Goal: tokens per request at most", "", ""),
    ("ch_cost", "Goal: cost per request at most ($)", "", ""),
    ("ch_rules", "Rules", "", ": approved, once, or approved,once"),
];

/// The challenges panel.
#[component]
pub fn ChallengePanel(
    /// The lab's settings: a challenge's policy is their policy knobs.
    settings: RwSignal<Settings>,
    /// The open challenge.
    challenge: RwSignal<Option<Challenge>>,
    /// The result the page's link shared, if it did.
    claimed: Option<SharedResult>,
    /// Why the page's challenge link could not be used.
    error: Option<LinkError>,
) -> impl IntoView {
    // The job: the open challenge and the policy, as a result link's query. (Plain closures,
    // not memos: each memo's type costs wasm, and these are cheap.)
    let job = move || {
        let c = challenge.get()?;
        Some(settings.with(|s| SharedResult::new(c, s, Claim::Pass).to_query()))
    };
    // Scoring happens outside the reactive graph (in the worker); `version` says it answered.
    let version = RwSignal::new(0u64);
    Effect::new(move |_| {
        if let Some(j) = job() {
            scorer::ask(j, version);
        }
    });
    // The newest answer for the open challenge: is it the current policy's, and its score.
    let shown = move || {
        version.track();
        let c = challenge.get()?;
        let o = scorer::last()?;
        (Challenge::from_query(&o.job).ok()? == c).then(|| {
            let current = job().as_ref() == Some(&o.job);
            let score = o.measures.clone().map(|m| Score::of(&c.goals, m));
            (current, score, o)
        })
    };
    // The link to share: the scored job, with the claim its score makes.
    let share = move || {
        let (true, Ok(s), o) = shown()? else {
            return None;
        };
        let mut r = SharedResult::from_query(&o.job).ok()?;
        r.claim = s.claim();
        Some(address(&r.to_query()))
    };
    // The shared result's claim, with its job: it is re-checked whenever that job is scored.
    let claimed = claimed.map(|r| {
        let claim = r.claim;
        (
            SharedResult {
                claim: Claim::Pass,
                ..r
            }
            .to_query(),
            claim,
        )
    });

    let choices = BUILTINS
        .iter()
        .map(|b| {
            let on = move || {
                challenge
                    .with(|c| c.as_ref() == Some(&b.challenge))
                    .to_string()
            };
            view! {
                <button
                    data-testid=format!("challenge-{}", b.challenge.id)
                    aria-pressed=on
                    on:click=move |_| challenge.set(Some(b.challenge.clone()))
                >
                    {&*b.challenge.title}
                </button>
            }
        })
        .collect_view();
    let knobs = POLICY_KNOBS
        .iter()
        .filter_map(|n| knob(n))
        .map(|k| {
            // The challenge switches live only here; the others have a control elsewhere too.
            let prefix = if k.place == Place::Challenge {
                ""
            } else {
                "ch-"
            };
            view! { <KnobControl knob=k settings=settings prefix=prefix /> }
        })
        .collect_view();
    // The result to share as the cards are: its link (the Share result link) and an image (the
    // cards' PNG) of the challenge, the policy, goal by goal, the verdict and that link.
    let not_yet =
        || "the score of this policy was still being computed; try again once it shows".to_string();
    let image = share::buttons_for(
        "challenge-result.png".into(),
        Box::new(move || share().ok_or_else(not_yet)),
        Box::new(move |_, link| {
            // Only the current policy's score (`shown` checks it is the open challenge's).
            let (Some((true, Ok(s), _)), Some(title)) = (
                shown(),
                challenge.with_untracked(|c| c.as_ref().map(|c| c.title.clone())),
            ) else {
                return Err(not_yet());
            };
            let mut lines = vec![
                format!("Agent Reliability Lab challenge: {title}"),
                settings.with_untracked(|s| share::settings_line(s, &POLICY_KNOBS)),
            ];
            for g in &s.goals {
                lines.push(format!("{} {}", mark(g.passed).1, g.line()));
            }
            lines.push(format!("verdict: {}", s.verdict()));
            Ok(Sheet {
                lines,
                tone: Some(if s.passed {
                    Tone::Handled
                } else {
                    Tone::NotRecovered
                }),
                timeline: None,
                link,
            })
        }),
    );
    let no_error = error.is_none();
    let error = error.map(|e| {
        format!("This link's challenge could not be used ({e}), so no challenge is open. The rest of the lab works as usual.")
    });

    view! {
        <section id="challenges" class="challenges" data-testid="challenges" aria-labelledby="ch-title">
            <h2 id="ch-title">"Challenges: tune the policy to a goal"</h2>
            <p class="help">
                "Pick a challenge and tune the policy knobs until every goal passes, then share a link "
                "that anyone can open to score your policy again. Each request's seed comes from the "
                "challenge, so every policy meets the very same faults."
            </p>
            <p class="notice" role="alert" data-testid="challenge-notice" hidden=no_error>
                {error}
            </p>
            <div class="choices" role="group" aria-label="Built-in challenges">{choices}</div>
            <button
                data-testid="challenge-close"
                hidden=move || challenge.with(Option::is_none)
                on:click=move |_| challenge.set(None)
            >
                "✕ Close the challenge"
            </button>
            <div inner_html=move || challenge.with(|c| c.as_ref().map(about).unwrap_or_default())></div>
            <div class="knobs" hidden=move || challenge.with(Option::is_none)>{knobs}</div>
            <div inner_html=move || {
                shown().map(|(current, score, o)| scores(current, &score, &o, claimed.as_ref()))
            }></div>
            // A live region that stays in place (only its text changes), so it is read out.
            <p class="help" data-testid="challenge-status" role="status">{move || {
                let pending = challenge.with(|c| c.as_ref().map(|c| c.runs));
                match (shown(), pending) {
                    (Some((false, ..)), _) => "Scoring your change…".to_string(),
                    (Some((true, Err(why), _)), _) => format!("This policy could not be scored: {why}"),
                    (Some((true, Ok(_), o)), _) => {
                        let place = if o.in_worker {
                            "in a background worker"
                        } else {
                            "on this page, between frames"
                        };
                        format!("Scored in {} ms, {place}.", fixed(o.ms, 0))
                    }
                    (None, Some(runs)) => format!("Scoring {runs} requests…"),
                    (None, None) => String::new(),
                }
            }}</p>
            <p class="share" hidden=move || share().is_none()>
                <a data-testid="share-result" href=share>"Share result"</a>
                " (a link that carries the challenge and this policy: copy it, or open it to score it again)"
            </p>
            <div hidden=move || challenge.with(Option::is_none)>{image}</div>
            <Builder />
        </section>
    }
}

/// The open challenge as markup: title, lesson (a built-in's) or conditions (a teacher's), goals.
fn about(c: &Challenge) -> String {
    let text = match c.builtin() {
        Some(b) => {
            let cards: Vec<String> = b
                .cards
                .iter()
                .map(|id| format!(r##"<a href="#card-{0}-title">{0}</a>"##, id.letter()))
                .collect();
            format!(
                "{} Cards that show it: {}.",
                escape(b.teaches),
                cards.join(", ")
            )
        }
        // A teacher's challenge: its conditions, as its link writes them.
        None => {
            let query = c.to_query();
            let parts: Vec<String> = query
                .split('&')
                .filter_map(|p| {
                    let (name, value) = p.split_once('=')?;
                    let (_, label, ..) = FIELDS[1..9].iter().find(|f| f.0 == name)?;
                    Some(format!("{label} {}", decode(value)))
                })
                .collect();
            let parts = if parts.is_empty() {
                "the defaults".to_string()
            } else {
                parts.join(" · ")
            };
            format!("Conditions: {}.", escape(&parts))
        }
    };
    format!(
        r#"<h3>{}</h3><p>{text}</p><p class="help">Goals: {}.</p>"#,
        escape(&c.title),
        escape(&c.goals.describe().join("; "))
    )
}

/// A score as markup: goal by goal, the verdict, how it was scored, and the re-check of the
/// claim the page's link made (while the policy is the one it shared).
fn scores(
    current: bool,
    score: &Result<Score, String>,
    o: &Scored,
    claimed: Option<&(String, Claim)>,
) -> String {
    // Why a policy could not be scored is the status line's to say.
    let Ok(s) = score else {
        return String::new();
    };
    let mut h = format!(
        r#"<div class="scores{}" aria-busy="{}"><ul>"#,
        if current { "" } else { " stale" },
        !current
    );
    for g in &s.goals {
        h += &format!(
            r#"<li data-testid="challenge-score" data-goal="{}" data-value="{}" data-pass="{}" class="{}">{} {}</li>"#,
            g.metric.name(),
            escape(&g.measured_text()),
            g.passed,
            mark(g.passed).0,
            mark(g.passed).1,
            escape(&g.line()),
        );
    }
    h += &format!(
        r#"</ul><p data-testid="challenge-verdict" data-pass="{}" data-ms="{}" data-compute-ms="{}" class="verdict {}">{} {}</p>"#,
        s.passed,
        fixed(o.ms, 1),
        fixed(o.compute_ms, 1),
        mark(s.passed).0,
        mark(s.passed).1,
        escape(&s.verdict()),
    );
    if let Some((_, claim)) = claimed.filter(|(job, _)| current && *job == o.job) {
        let holds = *claim == s.claim();
        let word = |c: Claim| if c == Claim::Pass { "passes" } else { "fails" };
        h += &format!(
            r#"<p data-testid="challenge-claim" data-holds="{holds}" class="claim {}">{} The link that opened this page claims this policy {}; scored again here, it {}: the claim {}.</p>"#,
            mark(holds).0,
            mark(holds).1,
            word(*claim),
            word(s.claim()),
            if holds { "holds" } else { "does not hold" },
        );
    }
    h + "</div>"
}

/// For teachers: a challenge link from the custom challenge's parameters (no server: the
/// challenge lives in the link). The core reads it back as the student's page will, so a
/// mistake is named here.
#[component]
fn Builder() -> impl IntoView {
    let values = RwSignal::new(vec![String::new(); FIELDS.len()]);
    let built = move || {
        values.with(|v| {
            let query: Vec<String> = FIELDS
                .iter()
                .zip(v)
                .filter(|(_, v)| !v.trim().is_empty())
                .map(|((p, ..), v)| format!("{p}={}", js_sys::encode_uri_component(v.trim())))
                .collect();
            match read_link(&query.join("&")) {
                Ok(Some(Link::Challenge(c))) => {
                    let url = escape(&address(&c.to_query()));
                    format!(r#"<p>Challenge link: <a data-testid="challenge-link" href="{url}">{url}</a></p>"#)
                }
                Ok(_) => r#"<p class="help">Set at least one goal.</p>"#.to_string(),
                Err(e) => format!(
                    // No live region: it would interrupt a screen reader at every key press.
                    r#"<p class="knob-error" data-testid="builder-error">Not a challenge yet: {}.</p>"#,
                    escape(&e.to_string())
                ),
            }
        })
    };
    // The fields as markup (see the module's doc), read back by one handler of the form.
    let fields: String = FIELDS
        .iter()
        .map(|(name, label, default, hint)| {
            format!(r#"<label>{label}{hint}<input name="{name}" placeholder="{default}"></label>"#)
        })
        .collect();
    let on_input = move |ev: leptos::ev::Event| {
        let name = event_target::<web_sys::Element>(&ev).get_attribute("name");
        let text = event_target_value(&ev);
        if let Some(i) = FIELDS.iter().position(|f| Some(f.0) == name.as_deref()) {
            values.update(|v| {
                if let Some(slot) = v.get_mut(i) {
                    *slot = text;
                }
            });
        }
    };
    view! {
        <details class="builder" data-testid="challenge-builder">
            <summary>"For teachers: build a challenge link"</summary>
            <p class="help">
                "The challenge lives in the link: no server keeps it. An empty field keeps the "
                "default shown in grey, or sets no goal; a challenge needs at least one goal."
            </p>
            <form
                class="fields"
                inner_html=fields
                on:input=on_input
                on:submit=|ev| ev.prevent_default()
            ></form>
            <div inner_html=built></div>
        </details>
    }
}
