//! Draws a [`Timeline`] as SVG on the virtual-time axis.

use leptos::prelude::*;
use reliability_core::time::{Micros, Secs};
use reliability_core::timeline::{Bar, Kind, Lane, Mark, Timeline};

const WIDTH: f64 = 460.0;
const LEFT: f64 = 64.0;
const RIGHT: f64 = 14.0;
const TOP: f64 = 6.0;
const LANE: f64 = 24.0;
const AXIS: f64 = 26.0;

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
fn glyph(k: Kind) -> &'static str {
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

/// An SVG coordinate: one decimal is plenty on screen, and integer formatting keeps Rust's
/// float formatter out of the page.
pub fn px(x: f64) -> String {
    reliability_core::time::fixed(x, 1)
}

fn lane_y(lane: Lane) -> f64 {
    let i = Lane::ALL.iter().position(|l| *l == lane).unwrap_or(0);
    TOP + i as f64 * LANE
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

/// The timeline of one run. With a playhead, only what happened before it is drawn.
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
    let height = TOP + LANE * Lane::ALL.len() as f64 + AXIS;
    let view_box = format!("0 0 {} {}", px(WIDTH), px(height));
    let body = move || {
        let t = timeline.get();
        let head = playhead.get();
        let span = t.span.max(1) as f64;
        let x = move |at: Micros| LEFT + (at as f64 / span) * (WIDTH - LEFT - RIGHT);
        let visible = move |at: Micros| head.is_none_or(|h| at <= h);
        let lanes = Lane::ALL
            .iter()
            .map(|l| {
                let y = lane_y(*l);
                view! {
                    <g class="lane">
                        <rect class="lane-bg" x=px(LEFT) y=px(y) width=px(WIDTH - LEFT - RIGHT) height=px(LANE - 4.0)></rect>
                        <text class="lane-label" x=px(LEFT - 6.0) y=px(y + 15.0) text-anchor="end">{l.label()}</text>
                    </g>
                }
            })
            .collect_view();
        let bars = t
            .bars
            .iter()
            .filter(|b| visible(b.start))
            .map(|b: &Bar| {
                let end = match head {
                    Some(h) => (b.start + b.dur).min(h),
                    None => b.start + b.dur,
                };
                let x0 = x(b.start);
                let w = (x(end) - x0).max(2.0);
                let y = lane_y(b.lane) + 3.0;
                view! {
                    <rect class=format!("bar {}", kind_class(b.kind)) x=px(x0) y=px(y) width=px(w) height=px(LANE - 10.0) rx="2">
                        <title>{b.label.clone()}</title>
                    </rect>
                }
            })
            .collect_view();
        let marks = t
            .marks
            .iter()
            .filter(|m| visible(m.at))
            .map(|m: &Mark| {
                let cx = x(m.at);
                let y = lane_y(m.lane);
                let g = glyph(m.kind);
                view! {
                    <g class=format!("mark {}", kind_class(m.kind))>
                        <title>{m.label.clone()}</title>
                        <line x1=px(cx) x2=px(cx) y1=px(y) y2=px(y + LANE - 4.0)></line>
                        {(!g.is_empty()).then(|| view! {
                            <text x=px(cx) y=px(y + 15.0) text-anchor="middle">{g}</text>
                        })}
                    </g>
                }
            })
            .collect_view();
        let axis_y = TOP + LANE * Lane::ALL.len() as f64;
        let ticks = t
            .ticks
            .iter()
            .map(|(at, label)| {
                let tx = x(*at);
                view! {
                    <g class="tick">
                        <line x1=px(tx) x2=px(tx) y1=px(axis_y) y2=px(axis_y + 4.0)></line>
                        <text x=px(tx) y=px(axis_y + 18.0) text-anchor="middle">{label.clone()}</text>
                    </g>
                }
            })
            .collect_view();
        let playline = head.map(|h| {
            let head_x = x(h.min(t.span));
            view! {
                <line class="playhead" x1=px(head_x) x2=px(head_x) y1=px(TOP) y2=px(axis_y)>
                    <title>{format!("replay at {}", Secs(h))}</title>
                </line>
            }
        });
        view! {
            {lanes}
            {bars}
            {marks}
            <line class="axis" x1=px(LEFT) x2=px(WIDTH - RIGHT) y1=px(axis_y) y2=px(axis_y)></line>
            {ticks}
            {playline}
        }
    };
    view! {
        <svg
            class="timeline"
            data-testid="timeline"
            viewBox=view_box
            role="img"
            aria-label=move || summary.get()
        >
            {body}
        </svg>
    }
}
