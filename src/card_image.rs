//! A card or panel as a PNG the page draws itself on a `<canvas>`: to paste into a class chat.
//!
//! One drawing routine for every card and panel: each hands over a [`Sheet`] (a title, lines of
//! text with the knobs that shaped it, its result and verdict, maybe a timeline, and its short
//! link), and [`png`] lays it out at 1200 px wide, readable when shown at that natural size: no
//! text smaller than 18 px. The layout runs twice, once to measure the height and once to draw.
//!
//! Only rectangles and text are drawn, so the page imports few canvas calls for it; bars and
//! marks differ by colour and glyph, and the legend names them.

use crate::timeline_svg::{glyph, legend};
use reliability_core::lab::Tone;
use reliability_core::num::clamp;
use reliability_core::time::Micros;
use reliability_core::timeline::{Kind, Lane, Timeline};
use wasm_bindgen::JsCast;
use web_sys::CanvasRenderingContext2d as Ctx;

/// What an image shows, top to bottom.
pub struct Sheet {
    /// The title, then the lines: the knobs that shaped it, its result, its verdict. A line
    /// starting with `verdict: ` is set large, on its tone's colour.
    pub lines: Vec<String>,
    /// The tone, for the verdict's colours and the left edge (`None`: neutral).
    pub tone: Option<Tone>,
    /// The run's timeline, for a card.
    pub timeline: Option<Timeline>,
    /// The short link that reopens it, in the footer.
    pub link: String,
}

const WIDTH: f64 = 1200.0;
const PAD: f64 = 44.0;
/// A CSS font. (Generic families: the image need not match the page's fonts, and a font's name
/// is bytes in the bundle.)
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
/// The timeline's lane height and the lane names' column (px).
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
    fn width(&self, text: &str) -> f64 {
        self.ctx.measure_text(text).map_or(0.0, |m| m.width())
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

    /// A paragraph in `font` (`px` tall), wrapped at spaces to the margins, on a background
    /// when given one. A word wider than a line (a link) is broken where the line ends.
    fn para(&mut self, font: &str, px: f64, colour: &str, text: &str, bg: Option<&str>) {
        self.ctx.set_font(font);
        let inset = if bg.is_some() { 12.0 } else { 0.0 };
        let max = WIDTH - 2.0 * (PAD + inset);
        // Lines as slices of `text`: from `start`, broken at the last space before the line
        // grows too wide (or at the character that makes it so, if it has no space).
        let mut lines = Vec::new();
        let (mut start, mut space) = (0, None);
        for (i, c) in text.char_indices() {
            let wide = self.width(text.get(start..i + c.len_utf8()).unwrap_or_default()) > max;
            if wide && i > start {
                // A space that does not fit ends the line itself, and is dropped.
                let at_space = if c == ' ' { Some(i) } else { space };
                let cut = at_space.unwrap_or(i);
                lines.push(text.get(start..cut).unwrap_or_default());
                start = cut + at_space.map_or(0, |_| 1);
                space = None;
            }
            if c == ' ' && i >= start {
                space = Some(i);
            }
        }
        lines.push(text.get(start..).unwrap_or_default());
        let line_h = px * 1.35;
        if let Some(bg) = bg {
            let h = lines.len() as f64 * line_h + 2.0 * inset;
            self.rect(bg, PAD, self.y, WIDTH - 2.0 * PAD, h);
            self.y += inset;
        }
        for l in lines {
            self.text(colour, l, PAD + inset, self.y + px);
            self.y += line_h;
        }
        self.y += inset + 6.0;
    }

    /// The timeline: a lane per row, bars and marks across virtual time, the ticks, a legend.
    fn timeline(&mut self, t: &Timeline) {
        let (x0, x1) = (PAD + NAMES_W, WIDTH - PAD - 12.0);
        let span = t.span.max(1) as f64;
        let x = |at: Micros| x0 + (x1 - x0) * clamp(at as f64 / span, 0.0, 1.0);
        let top = self.y;
        let lane = |l: Lane| Lane::ALL.iter().position(|a| *a == l).unwrap_or(0) as f64;
        let lane_y = |l: Lane| top + LANE_H * lane(l);
        self.ctx.set_font(font!("700 20px", SANS));
        for l in Lane::ALL {
            self.rect("#f2f4f7", x0, lane_y(l), x1 - x0, LANE_H - 6.0);
            self.text(MUTED, l.label(), PAD, lane_y(l) + 28.0);
        }
        for b in &t.bars {
            let bx = x(b.start);
            let w = (x(b.start + b.dur) - bx).max(3.0);
            self.rect(
                kind_colour(b.kind),
                bx,
                lane_y(b.lane) + 9.0,
                w,
                LANE_H - 24.0,
            );
        }
        // A mark is a line; its glyph is left out where it would touch the one before in its
        // lane. (The last glyph's lane top and x.)
        let mut last = (0.0, f64::NEG_INFINITY);
        for m in &t.marks {
            let (mx, y) = (x(m.at), lane_y(m.lane));
            self.rect(kind_colour(m.kind), mx - 1.0, y, 2.0, LANE_H - 6.0);
            let g = glyph(m.kind);
            if !g.is_empty() && (y != last.0 || mx - last.1 >= 26.0) {
                let w = self.width(g);
                self.rect("#fff", mx - w / 2.0 - 2.0, y + 10.0, w + 4.0, 24.0);
                self.text(INK, g, mx - w / 2.0, y + 29.0);
                last = (y, mx);
            }
        }
        self.y = top + 3.0 * LANE_H;
        self.rect(MUTED, x0, self.y - 4.0, x1 - x0, 1.5);
        self.ctx.set_font(font!("18px", SANS));
        for (at, label) in &t.ticks {
            let (tx, w) = (x(*at), self.width(label));
            self.rect(MUTED, tx - 0.75, self.y - 4.0, 1.5, 7.0);
            // Not f64::clamp: its panic message would bring the float formatter into the page.
            let lx = clamp(tx - w / 2.0, x0 - 20.0, WIDTH - PAD - w);
            self.text(MUTED, label, lx, self.y + 20.0);
        }
        self.y += 36.0;
        let mut lx = PAD;
        for (k, name) in legend(t) {
            let w = self.width(name) + 36.0;
            if lx + w > WIDTH - PAD {
                lx = PAD;
                self.y += 28.0;
            }
            self.rect(INK, lx, self.y + 3.0, 20.0, 14.0);
            self.rect(kind_colour(k), lx + 1.5, self.y + 4.5, 17.0, 11.0);
            self.text(MUTED, name, lx + 26.0, self.y + 16.0);
            lx += w;
        }
        self.y += 44.0;
    }

    /// Everything, from the top.
    fn sheet(&mut self, s: &Sheet) {
        let (accent, bg) = tone_colours(s.tone);
        self.rect("#fff", 0.0, 0.0, WIDTH, 1e5);
        self.rect(accent, 0.0, 0.0, 10.0, 1e5);
        self.y = PAD - 10.0;
        let mut lines = s.lines.iter();
        if let Some(title) = lines.next() {
            self.para(font!("700 30px", SANS), 30.0, INK, title, None);
        }
        self.y += 6.0;
        for line in lines {
            match line.strip_prefix("verdict: ") {
                Some(v) => self.para(font!("700 24px", SANS), 24.0, INK, v, Some(bg)),
                None => self.para(font!("20px", MONO), 20.0, INK, line, None),
            }
        }
        self.y += 14.0;
        if let Some(t) = &s.timeline {
            self.timeline(t);
        }
        self.rect("#d5dae2", PAD, self.y, WIDTH - 2.0 * PAD, 2.0);
        self.y += 12.0;
        self.para(
            font!("18px", SANS),
            18.0,
            MUTED,
            "Open this run, live, at:",
            None,
        );
        self.para(font!("18px", MONO), 18.0, "#1d4ed8", &s.link, None);
        self.y += PAD - 16.0;
    }
}

/// Draws `sheet` and returns it as a `data:image/png` URL. The error says what failed.
pub fn png(sheet: &Sheet) -> Result<String, String> {
    let fail = |_| "the browser could not draw the image".to_string();
    let doc = web_sys::window()
        .and_then(|w| w.document())
        .ok_or("no page to draw on")?;
    // A canvas element and its 2D context are what these calls return: no need to check.
    let canvas: web_sys::HtmlCanvasElement =
        doc.create_element("canvas").map_err(fail)?.unchecked_into();
    canvas.set_width(WIDTH as u32);
    let ctx = canvas
        .get_context("2d")
        .map_err(fail)?
        .ok_or("this browser cannot draw images")?
        .unchecked_into();
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
