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
    fn seconds_convert_both_ways() {
        assert_eq!(from_secs(0.05), 50 * MS);
        assert_eq!(from_secs(-1.0), 0);
        assert_eq!(from_secs(f64::NAN), 0);
        assert_eq!(to_secs(from_secs(2.25)), 2.25);
    }
}
