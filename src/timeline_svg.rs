//! Draws a [`Timeline`] as SVG on the virtual-time axis.

use crate::plot::{em, escape, frame, line, pct, text, x_at, x_axis, y_axis, X_ROW};
use leptos::prelude::*;
use reliability_core::time::{Micros, Secs};
use reliability_core::timeline::{Kind, Lane, Timeline};

/// A lane's height (em).
const LANE: f64 = 1.9;
/// A glyph's width as a share of a narrow (phone) plot: glyphs closer than this would touch.
const GLYPH: f64 = 0.05;

/// The CSS class of a kind (colour plus pattern).
pub fn kind_class(k: Kind) -> &'static str {
    match k {
        Kind::Ok => "k-ok",
        Kind::Failed => "k-failed",
        Kind::Timeout => "k-timeout",
        Kind::Wait => "k-wait",
        Kind::Open => "k-open",
        Kind::HalfOpen => "k-half",
        Kind::FastFail => "k-fastfail",
        Kind::Pending => "k-pending",
        Kind::Blocked => "k-blocked",
        Kind::Approved => "k-approved",
        Kind::Stop => "k-stop",
        Kind::Degraded => "k-degraded",
        Kind::Step => "k-step",
        Kind::Duplicate => "k-duplicate",
    }
}

/// The glyph drawn on a mark, so kinds differ by shape as well as colour.
pub fn glyph(k: Kind) -> &'static str {
    match k {
        Kind::FastFail => "×",
        Kind::Blocked => "✗",
        Kind::Approved => "✓",
        Kind::Stop => "■",
        Kind::Degraded => "▼",
        Kind::Open => "○",
        Kind::HalfOpen => "◐",
        Kind::Ok => "●",
        Kind::Duplicate => "!!",
        _ => "",
    }
}

fn lane_index(lane: Lane) -> usize {
    Lane::ALL.iter().position(|l| *l == lane).unwrap_or(0)
}

fn lane_y(lane: Lane) -> f64 {
    lane_index(lane) as f64 * LANE
}

/// A legend entry for every kind the timeline uses.
pub fn legend(t: &Timeline) -> Vec<(Kind, &'static str)> {
    let mut kinds: Vec<Kind> = t.bars.iter().map(|b| b.kind).collect();
    kinds.extend(t.marks.iter().map(|m| m.kind).filter(|k| *k != Kind::Step));
    let mut seen = Vec::new();
    for k in kinds {
        if !seen.contains(&k) {
            seen.push(k);
        }
    }
    seen.into_iter()
        .map(|k| {
            let text = match k {
                Kind::Ok => "call ok",
                Kind::Failed => "call failed",
                Kind::Timeout => "timed out",
                Kind::Wait => "backoff wait",
                Kind::Open => "breaker open",
                Kind::HalfOpen => "breaker half-open",
                Kind::FastFail => "failed fast",
                Kind::Pending => "awaiting approval",
                Kind::Blocked => "blocked",
                Kind::Approved => "approved",
                Kind::Stop => "stopped",
                Kind::Degraded => "degraded",
                Kind::Step => "step",
                Kind::Duplicate => "duplicate effect",
            };
            (k, text)
        })
        .collect()
}

/// The legend's entries as markup: the `<li>`s of a `<ul class="legend">` (markup, not a
/// typed view per entry: see [`crate::challenge_panel`]).
pub fn legend_html(t: &Timeline) -> String {
    let mut h = String::new();
    for (k, text) in legend(t) {
        h += r#"<li><span class="swatch "#;
        h += kind_class(k);
        h += r#""></span>"#;
        h += text;
        h += "</li>";
    }
    h
}

/// A run's event log as markup: the `<li>`s of its `<ol>`, the steps left out, up to `head`
/// (a replay's playhead) when there is one.
pub fn log_html(trace: &[reliability_core::trace::Event], head: Option<Micros>) -> String {
    let mut h = String::new();
    for e in trace
        .iter()
        .filter(|e| !matches!(e.kind, reliability_core::trace::EventKind::Step))
        .filter(|e| head.is_none_or(|h| e.at <= h))
    {
        h += r#"<li><span class="at">"#;
        h += &Secs(e.at).to_string();
        h += "</span> ";
        h += &escape(&e.to_string());
        h += "</li>";
    }
    h
}

/// Facts as markup: the `<div><dt>…</dt><dd>…</dd></div>`s of a `<dl>`.
pub fn facts_html<K: AsRef<str>, V: AsRef<str>>(facts: impl IntoIterator<Item = (K, V)>) -> String {
    let mut h = String::new();
    for (k, v) in facts {
        h += "<div><dt>";
        h += &escape(k.as_ref());
        h += "</dt><dd>";
        h += &escape(v.as_ref());
        h += "</dd></div>";
    }
    h
}

/// The timeline of one run. With a playhead, only what happened before it is drawn.
///
/// Drawn unscaled (see [`crate::plot`]): time runs across as a share of the width, lanes are
/// `em`s tall, and the lane names sit in a strip of their own on the left.
#[component]
pub fn TimelineSvg(
    /// The laid-out run.
    #[prop(into)]
    timeline: Signal<Timeline>,
    /// Where a replay has got to; `None` shows the whole run.
    #[prop(into)]
    playhead: Signal<Option<Micros>>,
    /// A short text description for screen readers.
    #[prop(into)]
    summary: Signal<String>,
) -> impl IntoView {
    let axis_y = LANE * Lane::ALL.len() as f64;
    let height = axis_y + X_ROW;
    let lane_names: Vec<(f64, String)> = Lane::ALL
        .iter()
        .map(|l| (lane_y(*l) + LANE / 2.0 - 0.15, l.label().to_string()))
        .collect();
    let body = move || {
        let t = timeline.get();
        let head = playhead.get();
        let span = t.span.max(1) as f64;
        let x = move |at: Micros| x_at(at as f64 / span);
        let visible = move |at: Micros| head.is_none_or(|h| at <= h);
        let mut out = String::new();
        for l in Lane::ALL {
            out.push_str(&format!(
                r#"<rect class="lane-bg" x="0" y="{}" width="100%" height="{}"/>"#,
                em(lane_y(l)),
                em(LANE - 0.3)
            ));
        }
        for b in t.bars.iter().filter(|b| visible(b.start)) {
            let end = match head {
                Some(h) => (b.start + b.dur).min(h),
                None => b.start + b.dur,
            };
            let x0 = x(b.start);
            out.push_str(&format!(
                r#"<rect class="bar {}" x="{}" y="{}" width="{}" height="{}" rx="2"><title>{}</title></rect>"#,
                kind_class(b.kind),
                pct(x0),
                em(lane_y(b.lane) + 0.35),
                pct((x(end) - x0).max(0.005)),
                em(LANE - 1.0),
                escape(&b.label)
            ));
        }
        // Glyphs that would touch on a narrow plot form a chain, each one em right of the one
        // before, so none covers another; a glyph like the one before it in the chain is left
        // out (its line still marks the instant). Per lane: the chain's start (a share of the
        // width), its glyphs, and the last one's kind.
        let mut chains = [(f64::NEG_INFINITY, 0u32, Kind::Step); 3];
        for m in t.marks.iter().filter(|m| visible(m.at)) {
            let cx = pct(x(m.at));
            let y = lane_y(m.lane);
            out.push_str(&format!(
                r#"<g class="mark {}"><title>{}</title>"#,
                kind_class(m.kind),
                escape(&m.label)
            ));
            line(&mut out, "", &cx, &em(y), &cx, &em(y + LANE - 0.3));
            let g = glyph(m.kind);
            if let (false, Some(chain)) = (g.is_empty(), chains.get_mut(lane_index(m.lane))) {
                let at = x(m.at);
                let touches = at < chain.0 + chain.1 as f64 * GLYPH;
                if !touches {
                    *chain = (at, 0, m.kind);
                }
                if !touches || chain.2 != m.kind {
                    let (gx, gy) = (pct(chain.0), em(y + LANE / 2.0 - 0.15));
                    let shift = em(chain.1 as f64);
                    text(&mut out, "", [&gx, &gy, &shift, "0.35em"], "middle", g);
                    *chain = (chain.0, chain.1 + 1, m.kind);
                }
            }
            out.push_str("</g>");
        }
        let ticks: Vec<(f64, String)> = t
            .ticks
            .iter()
            .map(|(at, label)| (*at as f64 / span, label.clone()))
            .collect();
        x_axis(&mut out, axis_y, &ticks);
        if let Some(h) = head {
            let hx = pct(x(h.min(t.span)));
            out.push_str(&format!(
                r#"<line class="playhead" x1="{hx}" x2="{hx}" y1="0" y2="{}"><title>replay at {}</title></line>"#,
                em(axis_y),
                Secs(h)
            ));
        }
        out
    };
    let markup = move || {
        let attrs = format!(
            r#"class="timeline" data-testid="timeline" role="img" aria-label="{}""#,
            escape(&summary.get())
        );
        frame(&attrs, 4.4, height, &y_axis(&lane_names), &body())
    };
    view! { <div class="plot-frame timeline-box" inner_html=markup></div> }
}
