//! What a knob is: its unit, its range, where the page shows it, and how its value is read,
//! shown and written in a link. The knobs themselves are one table, in [`super::settings`].

use super::CardId;
use crate::approval::Decision;
use crate::time::{from_secs, shortest, to_secs, Secs};

/// How a knob's value is shown, stored and written in a link.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unit {
    /// A whole number.
    Count,
    /// Seconds (stored as virtual microseconds).
    Seconds,
    /// Dollars (stored as micro-dollars).
    Dollars,
    /// A share from 0 to 1, in steps of 0.01 (shown as a percentage).
    Rate,
    /// On or off (`on`/`off` in links).
    Toggle,
    /// One of a list (its name in links).
    Choice(&'static [&'static str]),
}

/// Where a knob is shown on the page.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Place {
    /// In the lab's control bar.
    Main,
    /// In the control bar, under "advanced".
    Advanced,
    /// Inside one card.
    Card(CardId),
    /// The statistics panel.
    Stats,
    /// The thundering-herd plot.
    Herd,
    /// The retry-amplification calculator.
    Amplify,
    /// The live panel (a real model).
    Live,
    /// The challenge panel: switches of a policy that only the challenges read (whether
    /// requests share a circuit breaker, whether card J's budgets apply, whether the approval
    /// gate is on). A challenge's policy also reads knobs shown elsewhere: see
    /// [`crate::challenge::POLICY_KNOBS`].
    Challenge,
    /// Not a control of its own: set by a button (a human's decision, the kill switch).
    Button,
}

/// One setting: its name (as in links), label, range and where it is shown, and how to read
/// and write it in a [`super::Settings`].
#[derive(Clone, Copy, Debug)]
pub struct Knob {
    /// The name in links, in `Settings`, and in `data-testid="knob-<name>"`.
    pub name: &'static str,
    /// The label on the page.
    pub label: &'static str,
    /// What it means, in one line.
    pub help: &'static str,
    /// Its unit.
    pub unit: Unit,
    /// Smallest value.
    pub min: f64,
    /// Largest value.
    pub max: f64,
    /// Slider step.
    pub step: f64,
    /// Where it is shown.
    pub place: Place,
    /// Its value in `s`, in the knob's unit (seconds, dollars, an index for a choice).
    pub get: fn(&super::Settings) -> f64,
    /// Stores a value (already checked against the range) in `s`.
    pub put: fn(&mut super::Settings, f64),
}

impl PartialEq for Knob {
    fn eq(&self, other: &Knob) -> bool {
        self.name == other.name
    }
}

impl Knob {
    /// A value as written in a link: `0.05`, `on`, `503`.
    pub fn write(&self, v: f64) -> String {
        match self.unit {
            Unit::Toggle => (if v >= 0.5 { "on" } else { "off" }).to_string(),
            Unit::Choice(names) => names
                .get(v.max(0.0) as usize)
                .copied()
                .unwrap_or_default()
                .to_string(),
            _ => shortest(v),
        }
    }

    /// A value as shown next to the control: `0.05s`, `$0.03`, `20%`, `on`, `503`.
    pub fn show(&self, v: f64) -> String {
        match self.unit {
            Unit::Seconds => Secs(from_secs(v)).to_string(),
            Unit::Dollars => crate::caps::fmt_usd((v * 1e6).round().max(0.0) as u64),
            Unit::Rate => format!("{}%", shortest((v * 100.0).round())),
            _ => self.write(v),
        }
    }

    /// Reads a value as written in a link (or typed by a person).
    pub fn read(&self, text: &str) -> Result<f64, String> {
        let text = text.trim();
        match self.unit {
            Unit::Toggle => match text {
                "on" | "true" | "1" => Ok(1.0),
                "off" | "false" | "0" => Ok(0.0),
                _ => Err("must be on or off".to_string()),
            },
            // An empty decision is "nobody has answered yet".
            Unit::Choice(names) if text.is_empty() && names == DECISIONS => Ok(0.0),
            Unit::Choice(names) => names
                .iter()
                .position(|n| *n == text)
                .map(|i| i as f64)
                .ok_or_else(|| format!("must be one of {}", names.join(", "))),
            _ => crate::num::parse_f64(text).ok_or_else(|| "is not a number".to_string()),
        }
    }

    /// Checks `value` against the range and the step's kind (whole numbers stay whole).
    pub fn check(&self, value: f64) -> Result<f64, String> {
        // A tiny tolerance, so that 0.05 typed by a person is not refused for float noise.
        let eps = self.step * 1e-6;
        if !value.is_finite() || value < self.min - eps || value > self.max + eps {
            return Err(format!(
                "must be {} to {}{}",
                shortest(self.min),
                shortest(self.max),
                if self.unit == Unit::Seconds {
                    " seconds"
                } else {
                    ""
                }
            ));
        }
        let whole = !matches!(self.unit, Unit::Seconds | Unit::Dollars | Unit::Rate);
        if whole && value.fract() != 0.0 {
            return Err("must be a whole number".to_string());
        }
        Ok(crate::num::clamp(value, self.min, self.max))
    }

    /// The cards whose runs this knob shapes (for its hint).
    pub fn cards(&self) -> Vec<CardId> {
        super::CARDS
            .iter()
            .filter(|c| c.knobs.contains(&self.name))
            .map(|c| c.id)
            .collect()
    }
}

/// A choice of a fixed list: an enum a knob can hold.
pub trait Choice: Copy + PartialEq + 'static {
    /// Every choice, in the order of [`Choice::NAMES`].
    const ALL: &'static [Self];
    /// Their names, as in links.
    const NAMES: &'static [&'static str];

    /// This choice's name.
    fn name(self) -> &'static str {
        let i = Self::ALL.iter().position(|c| *c == self).unwrap_or(0);
        Self::NAMES.get(i).copied().unwrap_or_default()
    }

    /// The choice named `name`.
    fn parse(name: &str) -> Option<Self> {
        let i = Self::NAMES.iter().position(|n| *n == name)?;
        Self::ALL.get(i).copied()
    }
}

/// A value a knob can hold, converted to and from the knob's number (seconds for a time,
/// dollars for money, an index for a choice).
pub trait KnobValue: Sized {
    /// As the knob's number.
    fn to_knob(&self, unit: Unit) -> f64;
    /// From the knob's number (already in range).
    fn from_knob(v: f64, unit: Unit) -> Self;
}

impl KnobValue for u32 {
    fn to_knob(&self, _: Unit) -> f64 {
        *self as f64
    }
    fn from_knob(v: f64, _: Unit) -> Self {
        v.round() as u32
    }
}

impl KnobValue for u64 {
    fn to_knob(&self, unit: Unit) -> f64 {
        match unit {
            Unit::Seconds => to_secs(*self),
            Unit::Dollars => *self as f64 / 1e6,
            _ => *self as f64,
        }
    }
    fn from_knob(v: f64, unit: Unit) -> Self {
        match unit {
            Unit::Seconds => from_secs(v),
            Unit::Dollars => (v * 1e6).round().max(0.0) as u64,
            _ => v.round().max(0.0) as u64,
        }
    }
}

impl KnobValue for f64 {
    fn to_knob(&self, _: Unit) -> f64 {
        *self
    }
    fn from_knob(v: f64, unit: Unit) -> Self {
        match unit {
            Unit::Rate => (v * 100.0).round() / 100.0,
            _ => v,
        }
    }
}

impl KnobValue for bool {
    fn to_knob(&self, _: Unit) -> f64 {
        *self as u8 as f64
    }
    fn from_knob(v: f64, _: Unit) -> Self {
        v >= 0.5
    }
}

impl<T: Choice> KnobValue for T {
    fn to_knob(&self, _: Unit) -> f64 {
        T::ALL.iter().position(|c| c == self).unwrap_or(0) as f64
    }
    fn from_knob(v: f64, _: Unit) -> Self {
        let i = (v.max(0.0) as usize).min(T::ALL.len().saturating_sub(1));
        T::ALL[i]
    }
}

/// A human's answer at a card that pauses: nobody yet, approve, deny.
pub const DECISIONS: &[&str] = &["pending", "approve", "deny"];

impl Choice for Option<Decision> {
    const ALL: &'static [Self] = &[None, Some(Decision::Approve), Some(Decision::Deny)];
    const NAMES: &'static [&'static str] = DECISIONS;
}

impl Choice for crate::retry::Jitter {
    const ALL: &'static [Self] = &crate::retry::Jitter::ALL;
    const NAMES: &'static [&'static str] = &["none", "full", "equal", "decorrelated"];
}

/// The `max` of a choice knob over `names`.
pub const fn last_index(names: &[&str]) -> f64 {
    names.len().saturating_sub(1) as f64
}
