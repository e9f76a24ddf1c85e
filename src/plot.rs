//! Plot drawing shared by the timeline, the statistics histograms and the herd chart: axes with
//! nice ticks, and the charts themselves.
//!
//! Plots are drawn without a `viewBox`, so nothing is scaled: text is as large as the CSS says at
//! any width, on a phone and on a projector. Across, positions are percentages of the plot's
//! width; down, they are `em`s of its font size, so a larger font (`.present`) makes a taller
//! plot with the same layout. The y axis's labels sit in an SVG strip of their own beside the
//! plot area, so they are never cut off and never cross a mark.
//!
//! A plot is written as markup and set in one go (`inner_html`): a typed view per shape would
//! cost the page several KiB of wasm for the same drawing.

use leptos::prelude::*;
use reliability_core::herd::{Point, Strategy};
use reliability_core::stats::Histogram;
use reliability_core::time::{fixed, shortest, to_secs};
use reliability_core::timeline::tick_step;

/// Room left at either end of the x axis, as a share of the width: a glyph drawn at the very
/// start or end of the range is not cut in half.
const INSET: f64 = 0.03;
/// Labels are laid out for the narrowest plot area (px) and the widest character of plot text
/// (px) that a phone shows; on a wider plot, labels laid out this way are further apart.
const NARROW_PX: f64 = 250.0;
const CHAR_PX: f64 = 9.0;
/// Space kept between two labels on a narrow plot (px).
const GAP_PX: f64 = 6.0;
/// How far below the x axis its labels' baseline is (em), and the height of that row.
const LABEL_DROP: f64 = 1.35;
/// The height of the row of x labels under a plot area (em).
pub const X_ROW: f64 = 1.8;
/// Room above the top of a value axis (em): its top label is not cut off.
const HEADROOM: f64 = 0.8;

/// A share of the width as an SVG length.
pub fn pct(f: f64) -> String {
    format!("{}%", fixed(f * 100.0, 2))
}

/// `em`s as an SVG length.
pub fn em(y: f64) -> String {
    format!("{}em", fixed(y, 2))
}

/// Where `f`, a fraction of the x range, is drawn, as a share of the width.
pub fn x_at(f: f64) -> f64 {
    INSET + f.clamp(0.0, 1.0) * (1.0 - 2.0 * INSET)
}

/// Nice values from `lo` to `hi`: the multiples of a step of 1, 2 or 5 times a power of ten
/// that gives three to six of them.
pub fn ticks(lo: u64, hi: u64) -> Vec<u64> {
    let step = tick_step(hi.saturating_sub(lo)).max(1);
    let mut out = Vec::new();
    let mut v = lo.div_ceil(step).saturating_mul(step);
    while v <= hi {
        out.push(v);
        v = v.saturating_add(step);
        if v == u64::MAX {
            break;
        }
    }
    out
}

/// The top of a value axis from zero that holds `peak`: the next nice tick at or above it.
pub fn nice_top(peak: u64) -> u64 {
    let step = tick_step(peak.max(1)).max(1);
    peak.max(1).div_ceil(step).saturating_mul(step)
}

/// Which of some labels to show so that none touches the next: `spans` are their extents along
/// the axis, in order, and `gap` the room to keep between two. The first and the last are
/// kept: they tell the range.
pub fn keep_apart(spans: &[(f64, f64)], gap: f64) -> Vec<bool> {
    let mut kept: Vec<usize> = Vec::new();
    for (i, s) in spans.iter().enumerate() {
        let clash = |k: &usize| spans.get(*k).is_some_and(|p| s.0 < p.1 + gap);
        if i + 1 == spans.len() {
            while kept.len() > 1 && kept.last().is_some_and(clash) {
                kept.pop();
            }
        }
        if !kept.last().is_some_and(clash) {
            kept.push(i);
        }
    }
    (0..spans.len()).map(|i| kept.contains(&i)).collect()
}

/// A count for an axis: `800`, `2k`, `1.5k`.
pub fn count(v: u64) -> String {
    if v >= 1000 {
        format!("{}k", shortest(v as f64 / 1000.0))
    } else {
        v.to_string()
    }
}

/// `text` with the characters that mean something in markup escaped (also in an attribute).
pub fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A `<line>` from (`x1`, `y1`) to (`x2`, `y2`): SVG lengths.
pub fn line(out: &mut String, class: &str, x1: &str, y1: &str, x2: &str, y2: &str) {
    out.push_str(&format!(
        r#"<line class="{class}" x1="{x1}" y1="{y1}" x2="{x2}" y2="{y2}"/>"#
    ));
}

/// A `<text>` at (`x`, `y`), moved by (`dx`, `dy`) and anchored `anchor`; `body` is markup.
pub fn text(out: &mut String, class: &str, at: [&str; 4], anchor: &str, body: &str) {
    let [x, y, dx, dy] = at;
    out.push_str(&format!(
        r#"<text class="{class}" x="{x}" y="{y}" dx="{dx}" dy="{dy}" text-anchor="{anchor}">{body}</text>"#
    ));
}

/// Seconds for an axis, without trailing zeros: `0s`, `0.5s`, `20s`.
pub fn secs(us: u64) -> String {
    format!("{}s", shortest(to_secs(us)))
}

/// The x axis at `y` (em): a line, a tick at each of `ticks` (a fraction of the range and its
/// label) and the labels under them. A label at either end is anchored inward, so it is never
/// cut off; one that would touch its neighbour on a narrow plot is left out, its tick kept.
pub fn x_axis(out: &mut String, y: f64, ticks: &[(f64, String)]) {
    let placed: Vec<(f64, &str, (f64, f64))> = ticks
        .iter()
        .map(|(f, label)| {
            let x = x_at(*f);
            let w = label.chars().count() as f64 * CHAR_PX / NARROW_PX;
            if x < w / 2.0 {
                (x, "start", (x, x + w))
            } else if x + w / 2.0 > 1.0 {
                (x, "end", (x - w, x))
            } else {
                (x, "middle", (x - w / 2.0, x + w / 2.0))
            }
        })
        .collect();
    let spans: Vec<(f64, f64)> = placed.iter().map(|p| p.2).collect();
    let keep = keep_apart(&spans, GAP_PX / NARROW_PX);
    line(out, "axis", "0", &em(y), "100%", &em(y));
    for (((_, label), (x, anchor, _)), shown) in ticks.iter().zip(placed).zip(keep) {
        let x = pct(x);
        line(out, "tick", &x, &em(y), &x, &em(y + 0.3));
        if shown {
            let at = [x.as_str(), &em(y + LABEL_DROP), "0", "0"];
            text(out, "xl", at, anchor, &escape(label));
        }
    }
}

/// The markup of the y axis's labels, for a strip beside the plot: each is a height (em from the
/// top) and a text, top to bottom. Labels that would touch are thinned.
pub fn y_axis(labels: &[(f64, String)]) -> String {
    let spans: Vec<(f64, f64)> = labels.iter().map(|(y, _)| (y - 0.6, y + 0.6)).collect();
    let keep = keep_apart(&spans, 0.0);
    let mut out = String::new();
    for ((y, label), _) in labels.iter().zip(keep).filter(|(_, shown)| *shown) {
        let at = ["100%", &em(*y), "-0.4em", "0.35em"];
        text(&mut out, "yl", at, "end", &escape(label));
    }
    out
}

/// The attributes of a plot area named `title`.
fn area_attrs(title: &str) -> String {
    format!(r#"class="area" role="img" aria-label="{}""#, escape(title))
}

/// Horizontal grid lines at the given heights (em).
fn grid(out: &mut String, ys: &[f64]) {
    for y in ys {
        line(out, "grid", "0", &em(*y), "100%", &em(*y));
    }
}

/// A plot's markup: a strip `y_width` em wide with the y labels' markup `y_labels`, beside the
/// plot area's SVG (with the attributes `attrs`: its class, role and label) holding `area`; both
/// `height` em tall. It is set as the inner HTML of a `.plot-frame`: set on an SVG by the view,
/// a placeholder comment would follow its first drawing only, so a redrawn plot would differ
/// from a fresh one.
pub fn frame(attrs: &str, y_width: f64, height: f64, y_labels: &str, area: &str) -> String {
    let (w, h) = (em(y_width), em(height));
    format!(
        r#"<svg class="y-axis" aria-hidden="true" width="{w}" height="{h}">{y_labels}</svg><svg {attrs} width="100%" height="{h}">{area}</svg>"#
    )
}

/// What a histogram's bins count.
#[derive(Clone, Copy)]
pub enum Bins {
    /// Latency: equal bins from 0 to the histogram's `max` microseconds.
    Latency,
    /// Model calls: one bin per number of calls, from 0.
    Calls,
}

/// A histogram of requests, with a count axis and a labelled x axis.
pub fn histogram(title: String, h: &Histogram, bins: Bins) -> impl IntoView {
    const PLOT: f64 = 6.5;
    let axis_y = HEADROOM + PLOT;
    let height = axis_y + X_ROW;
    let mut counts = h.bins.clone();
    if let Bins::Calls = bins {
        // At least 0, 1 and 2 calls, so the axis has three labels even when every request
        // made one call.
        counts.resize(counts.len().max(3), 0);
    }
    let n = counts.len().max(1);
    let top = nice_top(counts.iter().copied().max().unwrap_or(0) as u64);
    let y = move |v: u64| HEADROOM + PLOT * (1.0 - v as f64 / top as f64);
    let levels = ticks(0, top);
    let y_labels: Vec<(f64, String)> = levels.iter().rev().map(|v| (y(*v), count(*v))).collect();
    let grid_ys: Vec<f64> = levels.iter().map(|v| y(*v)).collect();
    let x_ticks: Vec<(f64, String)> = match bins {
        Bins::Latency => {
            let max = h.max.max(1);
            ticks(0, max)
                .into_iter()
                .map(|v| (v as f64 / max as f64, secs(v)))
                .collect()
        }
        Bins::Calls => {
            let mut t: Vec<(f64, String)> = ticks(0, n as u64 - 1)
                .into_iter()
                .map(|c| ((c as f64 + 0.5) / n as f64, c.to_string()))
                .collect();
            if let Some(last) = t.last_mut() {
                last.1.push_str(" calls");
            }
            t
        }
    };
    let bw = pct((1.0 - 2.0 * INSET) / n as f64);
    let mut area = String::new();
    grid(&mut area, &grid_ys);
    for (i, c) in counts.iter().enumerate() {
        let top_y = y(*c as u64);
        area.push_str(&format!(
            r#"<rect class="hbar" x="{}" y="{}" width="{bw}" height="{}"><title>{c} requests</title></rect>"#,
            pct(x_at(i as f64 / n as f64)),
            em(top_y),
            em(axis_y - top_y)
        ));
    }
    x_axis(&mut area, axis_y, &x_ticks);
    view! {
        <figure class="hist">
            <figcaption>{title.clone()}</figcaption>
            <div class="y-title">"↑ requests"</div>
            <div class="plot-frame" inner_html=frame(&area_attrs(&title), 2.6, height, &y_axis(&y_labels), &area)></div>
        </figure>
    }
}

/// The dash pattern of a strategy's line.
fn dash(s: Strategy) -> &'static str {
    match s {
        Strategy::NoBackoff => "2 3",
        Strategy::Exponential => "",
        Strategy::FullJitter => "8 3",
        Strategy::EqualJitter => "1 2",
        Strategy::Decorrelated => "6 2 1 2",
    }
}

/// The marker of a strategy's points.
fn marker(s: Strategy) -> &'static str {
    match s {
        Strategy::NoBackoff => "○",
        Strategy::Exponential => "■",
        Strategy::FullJitter => "▲",
        Strategy::EqualJitter => "◆",
        Strategy::Decorrelated => "●",
    }
}

/// Nice values 1, 2 and 5 times a power of ten, from the largest at or below `lo` to the
/// smallest at or above `hi`: the ticks of a log axis.
fn log_ticks(lo: u64, hi: u64) -> Vec<u64> {
    let mut out = Vec::new();
    let mut pow = 1u64;
    while pow <= hi.max(1) {
        for m in [1, 2, 5] {
            let v = m * pow;
            // Keep one value below `lo` (the last pushed is replaced while still below it).
            if v <= lo {
                out.clear();
            }
            out.push(v);
            if v >= hi {
                return out;
            }
        }
        pow = match pow.checked_mul(10) {
            Some(p) => p,
            None => break,
        };
    }
    out
}

/// The herd chart: one line per strategy over the number of clients. `value` is what is
/// plotted, `unit` what it is counted in (for the axis title), `log` puts it on a log scale
/// (in microseconds, labelled in seconds), and `fmt` writes a value for a tooltip.
pub fn line_chart(
    title: &'static str,
    unit: &'static str,
    points: &[Point],
    value: fn(&Point) -> f64,
    log: bool,
    fmt: fn(f64) -> String,
) -> impl IntoView {
    const PLOT: f64 = 12.0;
    let axis_y = HEADROOM + PLOT;
    let height = axis_y + X_ROW;
    let min_x = points.iter().map(|p| p.clients).min().unwrap_or(0);
    let max_x = points
        .iter()
        .map(|p| p.clients)
        .max()
        .unwrap_or(10)
        .max(min_x + 1);
    let vals: Vec<f64> = points.iter().map(value).filter(|v| *v > 0.0).collect();
    let max_v = vals.iter().copied().fold(1.0, f64::max);
    let min_v = vals.iter().copied().fold(max_v, f64::min).max(1.0);
    let levels = if log {
        log_ticks(min_v as u64, max_v.ceil() as u64)
    } else {
        ticks(0, nice_top(max_v.ceil() as u64))
    };
    let lo = if log {
        levels.first().copied().unwrap_or(1).max(1) as f64
    } else {
        0.0
    };
    let hi = (levels.last().copied().unwrap_or(1) as f64).max(lo + 1.0);
    let y = move |v: f64| {
        let frac = if log {
            (v.max(lo).ln() - lo.ln()) / (hi.ln() - lo.ln()).max(1e-9)
        } else {
            v / hi
        };
        HEADROOM + (1.0 - frac.clamp(0.0, 1.0)) * PLOT
    };
    let x = move |c: u32| x_at(c.saturating_sub(min_x) as f64 / (max_x - min_x) as f64);
    let label = move |v: u64| if log { secs(v) } else { count(v) };
    let y_labels: Vec<(f64, String)> = levels
        .iter()
        .rev()
        .map(|v| (y(*v as f64), label(*v)))
        .collect();
    let grid_ys: Vec<f64> = levels.iter().map(|v| y(*v as f64)).collect();
    let x_ticks: Vec<(f64, String)> = ticks(min_x as u64, max_x as u64)
        .into_iter()
        .map(|c| {
            let f = c.saturating_sub(min_x as u64) as f64 / (max_x - min_x) as f64;
            (f, c.to_string())
        })
        .collect();
    let mut area = String::new();
    grid(&mut area, &grid_ys);
    line(&mut area, "axis", "0", &em(HEADROOM), "0", &em(axis_y));
    x_axis(&mut area, axis_y, &x_ticks);
    for s in Strategy::ALL {
        let pts: Vec<(String, String, &Point)> = points
            .iter()
            .filter(|p| p.strategy == s)
            .map(|p| (pct(x(p.clients)), em(y(value(p))), p))
            .collect();
        area.push_str(&format!(
            r#"<g class="series s-{}" stroke-dasharray="{}">"#,
            s.label().replace(' ', "-"),
            dash(s)
        ));
        for w in pts.windows(2) {
            if let [(x1, y1, _), (x2, y2, _)] = w {
                line(&mut area, "", x1, y1, x2, y2);
            }
        }
        for (px, py, p) in &pts {
            let tip = format!(
                "{}<title>{}: {} at {} clients</title>",
                marker(s),
                s.label(),
                fmt(value(p)),
                p.clients
            );
            text(&mut area, "marker", [px, py, "0", "0.35em"], "middle", &tip);
        }
        area.push_str("</g>");
    }
    view! {
        <figure class="chart">
            <div class="y-title">{format!("↑ {unit}{}", if log { " (log scale)" } else { "" })}</div>
            <div class="plot-frame" inner_html=frame(&area_attrs(title), 3.4, height, &y_axis(&y_labels), &area)></div>
            <div class="x-title">"clients →"</div>
            <figcaption>
                {title}
                <ul class="chart-legend">
                    {Strategy::ALL.iter().map(|s| view! {
                        <li class=format!("s-{}", s.label().replace(' ', "-"))>{format!("{} {}", marker(*s), s.label())}</li>
                    }).collect_view()}
                </ul>
            </figcaption>
        </figure>
    }
}
