//! A card or panel as a PNG the page draws itself on a `<canvas>`: to paste into a class chat.
//!
//! One drawing routine for every card and panel: each hands over a [`Sheet`] (its title, the
//! knobs that shaped it, the result, the verdict, maybe a timeline, and its short link), and
//! [`png`] lays it out at 1200 px wide, readable when shown at that natural size: no text
//! smaller than 18 px. The layout runs twice, once to measure the height and once to draw.
//!
//! Only the few canvas calls below are used (rectangles and text), so the page imports little
//! for it; bars and marks differ by colour and the legend names them.

use crate::timeline_svg::{glyph, legend};
use reliability_core::lab::Tone;
use reliability_core::time::Micros;
use reliability_core::timeline::{Kind, Lane, Timeline};
use wasm_bindgen::JsCast;
use web_sys::CanvasRenderingContext2d as Ctx;

/// What an image shows, top to bottom.
pub struct Sheet {
    /// The title: "Card B. Step cap: …".
    pub title: String,
    /// Every knob (and fact of its world) that shaped the run, as name and value.
    pub tags: Vec<(String, String)>,
    /// The result, one line each (set in a monospace font).
    pub result: Vec<String>,
    /// The verdict, with its tone word.
    pub verdict: String,
    /// The tone, for the verdict's colours (`None`: neutral).
    pub tone: Option<Tone>,
    /// The run's timeline, for a card.
    pub timeline: Option<Timeline>,
    /// The short link that reopens it.
    pub link: String,
}

const WIDTH: f64 = 1200.0;
const PAD: f64 = 44.0;
/// A CSS font: `font!("700 32px", SANS)`. (Generic families: the image need not match the
/// page's fonts, and every font name would be bytes in the bundle.)
macro_rules! font {
    ($size:literal, SANS) => {
        concat!($size, " sans-serif")
    };
    ($size:literal, MONO) => {
        concat!($size, " monospace")
    };
}
const INK: &str = "#14181f";
const MUTED: &str = "#4a5363";
const CHIP: &str = "#eef2f6";
/// The timeline's lane height, the lane names' column and the axis row (px).
const LANE_H: f64 = 46.0;
const NAMES_W: f64 = 100.0;

/// A tone's colours: accent and background (style/main.css's).
fn tone_colours(t: Option<Tone>) -> (&'static str, &'static str) {
    match t {
        Some(Tone::Handled) => ("#1f7a3a", "#ecfdf3"),
        Some(Tone::Degraded) => ("#b54708", "#fffaeb"),
        Some(Tone::NotRecovered) => ("#b42318", "#fef3f2"),
        Some(Tone::Waiting) => ("#6941c6", "#f4f3ff"),
        Some(Tone::Calm) | None => ("#6b7280", "#f2f4f7"),
    }
}

/// A kind's colour on the timeline.
fn kind_colour(k: Kind) -> &'static str {
    match k {
        Kind::Ok | Kind::Approved => "#1f7a3a",
        Kind::Failed | Kind::FastFail | Kind::Blocked | Kind::Stop => "#b42318",
        Kind::Timeout | Kind::Degraded => "#b54708",
        Kind::Wait => "#b9c0cb",
        Kind::Open => "#f4a39a",
        Kind::HalfOpen => "#f5c56b",
        Kind::Pending => "#bdb4fe",
        Kind::Step => "#c0c6d0",
        Kind::Duplicate => "#000",
    }
}

/// Draws on the canvas, or (`draw` false) only moves down, to measure.
struct Pen {
    ctx: Ctx,
    draw: bool,
    y: f64,
}

impl Pen {
    fn font(&self, font: &str) {
        self.ctx.set_font(font);
    }

    fn width(&self, text: &str) -> f64 {
        self.ctx
            .measure_text(text)
            .map(|m| m.width())
            .unwrap_or(0.0)
    }

    fn rect(&self, colour: &str, x: f64, y: f64, w: f64, h: f64) {
        if self.draw {
            self.ctx.set_fill_style_str(colour);
            self.ctx.fill_rect(x, y, w, h);
        }
    }

    fn text(&self, colour: &str, text: &str, x: f64, y: f64) {
        if self.draw {
            self.ctx.set_fill_style_str(colour);
            let _ = self.ctx.fill_text(text, x, y);
        }
    }

    /// `text` broken at spaces into lines no wider than `max` (in the current font); a word
    /// wider than that gets a line of its own.
    fn wrap(&self, text: &str, max: f64) -> Vec<String> {
        let mut lines: Vec<String> = Vec::new();
        for word in text.split(' ') {
            match lines.last_mut() {
                Some(l) if self.width(&format!("{l} {word}")) <= max => {
                    l.push(' ');
                    l.push_str(word);
                }
                _ => lines.push(word.to_string()),
            }
        }
        lines
    }

    /// A paragraph in `font` (`px` tall) at `x`, wrapped to the right margin, on a background
    /// when given one.
    fn para(&mut self, font: &str, px: f64, colour: &str, text: &str, x: f64, bg: Option<&str>) {
        self.font(font);
        let line_h = px * 1.35;
        let inset = if bg.is_some() { 12.0 } else { 0.0 };
        let lines = self.wrap(text, WIDTH - PAD - x - 2.0 * inset);
        if let Some(bg) = bg {
            let h = lines.len() as f64 * line_h + 2.0 * inset;
            self.rect(bg, x, self.y, WIDTH - PAD - x, h);
            self.y += inset;
        }
        for l in lines {
            self.text(colour, &l, x + inset, self.y + px);
            self.y += line_h;
        }
        self.y += inset;
    }

    /// The knobs as chips, as many to a line as fit.
    fn tags(&mut self, tags: &[(String, String)]) {
        self.font(font!("20px", SANS));
        let mut x = PAD;
        for (k, v) in tags {
            let chip = format!("{k} {v}");
            let w = self.width(&chip) + 16.0;
            if x > PAD && x + w > WIDTH - PAD {
                x = PAD;
                self.y += 36.0;
            }
            self.rect(CHIP, x, self.y, w, 30.0);
            self.text(INK, &chip, x + 8.0, self.y + 22.0);
            x += w + 8.0;
        }
        self.y += 46.0;
    }

    /// The timeline: a lane per row, bars and marks across virtual time, the ticks, a legend.
    fn timeline(&mut self, t: &Timeline) {
        let (x0, x1) = (PAD + NAMES_W, WIDTH - PAD - 12.0);
        let span = t.span.max(1) as f64;
        let x = |at: Micros| x0 + (x1 - x0) * (at as f64 / span).clamp(0.0, 1.0);
        let top = self.y;
        let lane_y =
            |l: Lane| top + Lane::ALL.iter().position(|a| *a == l).unwrap_or(0) as f64 * LANE_H;
        self.font(font!("700 20px", SANS));
        for l in Lane::ALL {
            let y = lane_y(l);
            self.rect("#f2f4f7", x0, y, x1 - x0, LANE_H - 6.0);
            self.text(MUTED, l.label(), PAD, y + 28.0);
        }
        for b in &t.bars {
            let (bx, y) = (x(b.start), lane_y(b.lane));
            let w = (x(b.start + b.dur) - bx).max(3.0);
            self.rect(kind_colour(b.kind), bx, y + 9.0, w, LANE_H - 24.0);
        }
        // A mark is a line; its glyph is left out where it would touch the one before.
        let mut last = [f64::NEG_INFINITY; 3];
        for m in &t.marks {
            let (mx, y) = (x(m.at), lane_y(m.lane));
            self.rect(kind_colour(m.kind), mx - 1.0, y, 2.0, LANE_H - 6.0);
            let g = glyph(m.kind);
            let i = Lane::ALL.iter().position(|a| *a == m.lane).unwrap_or(0);
            if !g.is_empty() && mx - last[i] >= 26.0 {
                last[i] = mx;
                let w = self.width(g);
                self.rect("#fff", mx - w / 2.0 - 2.0, y + 10.0, w + 4.0, 24.0);
                self.text(INK, g, mx - w / 2.0, y + 29.0);
            }
        }
        self.y += 3.0 * LANE_H;
        self.rect(MUTED, x0, self.y - 4.0, x1 - x0, 1.5);
        self.font(font!("18px", SANS));
        for (at, label) in &t.ticks {
            let tx = x(*at);
            let w = self.width(label);
            self.rect(MUTED, tx - 0.75, self.y - 4.0, 1.5, 7.0);
            // Not f64::clamp: its panic message (for bounds it cannot prove in order) prints
            // floats, and that brings the float formatter into the page.
            let lx = reliability_core::num::clamp(tx - w / 2.0, x0 - 20.0, WIDTH - PAD - w);
            self.text(MUTED, label, lx, self.y + 20.0);
        }
        self.y += 36.0;
        let mut lx = PAD;
        for (k, name) in legend(t) {
            let w = self.width(name) + 36.0;
            if lx > PAD && lx + w > WIDTH - PAD {
                lx = PAD;
                self.y += 28.0;
            }
            self.rect(INK, lx, self.y + 3.0, 20.0, 14.0);
            self.rect(kind_colour(k), lx + 1.5, self.y + 4.5, 17.0, 11.0);
            self.text(MUTED, name, lx + 26.0, self.y + 16.0);
            lx += w;
        }
        self.y += 40.0;
    }

    /// Everything, from the top.
    fn sheet(&mut self, s: &Sheet) {
        let (accent, bg) = tone_colours(s.tone);
        self.rect("#fff", 0.0, 0.0, WIDTH, 1e5);
        self.rect(accent, 0.0, 0.0, 10.0, 1e5);
        self.y = PAD - 10.0;
        let x = PAD;
        self.para(
            font!("700 18px", SANS),
            18.0,
            MUTED,
            "Agent Reliability Lab",
            x,
            None,
        );
        self.para(font!("700 32px", SANS), 32.0, INK, &s.title, x, None);
        self.y += 8.0;
        self.tags(&s.tags);
        let top = self.y;
        for line in &s.result {
            self.para(font!("20px", MONO), 20.0, INK, line, x + 12.0, None);
        }
        self.rect("#98a2b3", x, top, 3.0, self.y - top);
        self.y += 14.0;
        self.para(font!("700 24px", SANS), 24.0, INK, &s.verdict, x, Some(bg));
        self.y += 20.0;
        if let Some(t) = &s.timeline {
            self.timeline(t);
        }
        self.rect("#d5dae2", x, self.y, WIDTH - 2.0 * x, 2.0);
        self.y += 12.0;
        self.para(
            font!("18px", SANS),
            18.0,
            MUTED,
            "Open this run, live, at:",
            x,
            None,
        );
        // The link, broken anywhere (it has no spaces), in a font whose letters are all as
        // wide as a zero.
        self.font(font!("18px", MONO));
        let per = ((WIDTH - 2.0 * x) / self.width("0").max(1.0)).max(1.0) as usize;
        let chars: Vec<char> = s.link.chars().collect();
        for part in chars.chunks(per) {
            self.text(
                "#1d4ed8",
                &part.iter().collect::<String>(),
                x,
                self.y + 18.0,
            );
            self.y += 24.0;
        }
        self.y += PAD - 10.0;
    }
}

/// Draws `sheet` and returns it as a `data:image/png` URL. The error says what failed.
pub fn png(sheet: &Sheet) -> Result<String, String> {
    let fail = |_| "the browser could not draw the image".to_string();
    let canvas = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.create_element("canvas").ok())
        .and_then(|c| c.dyn_into::<web_sys::HtmlCanvasElement>().ok())
        .ok_or("this browser cannot draw images")?;
    canvas.set_width(WIDTH as u32);
    let ctx = canvas
        .get_context("2d")
        .map_err(fail)?
        .and_then(|c| c.dyn_into::<Ctx>().ok())
        .ok_or("this browser cannot draw images")?;
    let mut pen = Pen {
        ctx,
        draw: false,
        y: 0.0,
    };
    pen.sheet(sheet);
    // Resizing clears the canvas and its state; every call sets its own font and colour.
    canvas.set_height(pen.y.ceil() as u32);
    pen.draw = true;
    pen.sheet(sheet);
    canvas.to_data_url().map_err(fail)
}
