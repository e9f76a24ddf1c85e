//! Virtual time.
//!
//! The engine never reads a clock. Every duration and instant is a whole number of virtual
//! microseconds, handed in by the caller or computed from the scenario, so a run is exact and
//! repeatable on any machine, natively or in the browser.

use std::fmt;

/// A duration or an instant on the virtual clock, in microseconds.
pub type Micros = u64;

/// One millisecond of virtual time.
pub const MS: Micros = 1_000;
/// One second of virtual time.
pub const SEC: Micros = 1_000_000;

/// Converts seconds to virtual microseconds, rounding to the nearest microsecond.
/// Negative and non-finite inputs become zero.
pub fn from_secs(secs: f64) -> Micros {
    if secs.is_finite() && secs > 0.0 {
        (secs * SEC as f64).round() as Micros
    } else {
        0
    }
}

/// Converts virtual microseconds to seconds.
pub fn to_secs(us: Micros) -> f64 {
    us as f64 / SEC as f64
}

/// Displays a duration in seconds in its shortest form, the way the lab prints it:
/// `0.05s`, `0.5s`, `1.0s`, `1.5s`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Secs(pub Micros);

impl fmt::Display for Secs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let whole = self.0 / SEC;
        let frac = self.0 % SEC;
        if frac == 0 {
            write!(f, "{whole}.0s")
        } else {
            // Six decimal places, trailing zeros dropped: exact for whole microseconds.
            let digits = format!("{frac:06}");
            write!(f, "{whole}.{}s", digits.trim_end_matches('0'))
        }
    }
}

/// Displays a duration rounded to the millisecond, the way verdicts print it: `0.05s`,
/// `0.5s`, `1.0s`, `0.191s` (a jittered wait of 0.190554 s).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Brief(pub Micros);

impl fmt::Display for Brief {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ms = (self.0 + MS / 2) / MS;
        Secs(ms * MS).fmt(f)
    }
}

/// `x` with exactly `decimals` digits after the point (at most 9), rounded half away from zero:
/// `fixed(0.9925, 1)` is `"1.0"`. Integer arithmetic only, so a web page that formats numbers
/// this way does not carry the float formatter.
pub fn fixed(x: f64, decimals: u32) -> String {
    if !x.is_finite() {
        return if x.is_nan() {
            "NaN".into()
        } else if x > 0.0 {
            "inf".into()
        } else {
            "-inf".into()
        };
    }
    let d = decimals.min(9);
    let scale = 10u64.pow(d);
    let scaled = (x.abs() * scale as f64).round();
    if scaled >= u64::MAX as f64 {
        return format!("{}{}", if x < 0.0 { "-" } else { "" }, u64::MAX);
    }
    let n = scaled as u64;
    let sign = if x < 0.0 && n > 0 { "-" } else { "" };
    if d == 0 {
        format!("{sign}{n}")
    } else {
        format!(
            "{sign}{}.{:0width$}",
            n / scale,
            n % scale,
            width = d as usize
        )
    }
}

/// `x` to at most six decimals, without trailing zeros: `0.05`, `4`, `1.5`. (The lab's knob
/// values are whole microseconds, cents of a rate or micro-dollars, so six decimals are exact.)
pub fn shortest(x: f64) -> String {
    let s = fixed(x, 6);
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_print_in_their_shortest_form() {
        assert_eq!(Secs(50 * MS).to_string(), "0.05s");
        assert_eq!(Secs(300 * MS).to_string(), "0.3s");
        assert_eq!(Secs(1_500 * MS).to_string(), "1.5s");
        assert_eq!(Secs(SEC).to_string(), "1.0s");
        assert_eq!(Secs(0).to_string(), "0.0s");
        assert_eq!(Secs(1).to_string(), "0.000001s");
    }

    #[test]
    fn brief_rounds_to_the_millisecond() {
        assert_eq!(Brief(190_554).to_string(), "0.191s");
        assert_eq!(Brief(500 * MS).to_string(), "0.5s");
        assert_eq!(Brief(SEC).to_string(), "1.0s");
        assert_eq!(Brief(1_499).to_string(), "0.001s");
        assert_eq!(Brief(499).to_string(), "0.0s");
    }

    #[test]
    fn fixed_rounds_to_the_digits_asked() {
        assert_eq!(fixed(0.9925, 1), "1.0");
        assert_eq!(fixed(99.25, 1), "99.3");
        assert_eq!(fixed(2.0, 2), "2.00");
        assert_eq!(fixed(0.00123, 5), "0.00123");
        assert_eq!(fixed(-1.26, 1), "-1.3");
        assert_eq!(fixed(-0.01, 1), "0.0");
        assert_eq!(fixed(1234.5, 0), "1235");
        assert_eq!(fixed(f64::NAN, 2), "NaN");
    }

    #[test]
    fn shortest_drops_trailing_zeros() {
        assert_eq!(shortest(0.05), "0.05");
        assert_eq!(shortest(4.0), "4");
        assert_eq!(shortest(1.55), "1.55");
        assert_eq!(shortest(999_999.0), "999999");
        assert_eq!(shortest(0.002), "0.002");
    }

    #[test]
    fn seconds_convert_both_ways() {
        assert_eq!(from_secs(0.05), 50 * MS);
        assert_eq!(from_secs(-1.0), 0);
        assert_eq!(from_secs(f64::NAN), 0);
        assert_eq!(to_secs(from_secs(2.25)), 2.25);
    }
}
