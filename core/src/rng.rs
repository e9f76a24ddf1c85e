//! Seeded randomness.
//!
//! SplitMix64: tiny, fast, and the same sequence on every platform. Each use of randomness draws
//! from its own stream (`Rng::stream`), so changing one knob (say, the jitter kind) never shifts
//! another (say, the fault schedule): two policies can be compared on the same faults.

use serde::{Deserialize, Serialize};

/// A deterministic pseudo-random generator.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rng {
    state: u64,
}

/// Stream tags, so that independent uses of randomness never share a sequence.
pub mod streams {
    /// Injected faults.
    pub const FAULTS: u64 = 0x6661_756c_7473;
    /// Backoff jitter.
    pub const JITTER: u64 = 0x6a69_7474_6572;
    /// Latency draws.
    pub const LATENCY: u64 = 0x6c61_7465_6e63;
    /// Whether a request's payment answer is lost (the statistics' lost-response rate).
    pub const LOST: u64 = 0x6c6f_7374;
}

impl Rng {
    /// A generator for `seed`.
    pub const fn new(seed: u64) -> Self {
        Rng { state: seed }
    }

    /// A generator for one named stream of `seed` (see [`streams`]).
    pub fn stream(seed: u64, stream: u64) -> Self {
        let mut mix = Rng::new(seed ^ stream.rotate_left(17));
        Rng::new(mix.next_u64())
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A uniform float in `[0, 1)`.
    pub fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// A uniform integer in `lo..=hi` (`lo` when `hi <= lo`).
    pub fn between(&mut self, lo: u64, hi: u64) -> u64 {
        if hi <= lo {
            return lo;
        }
        let span = hi - lo;
        if span == u64::MAX {
            return self.next_u64();
        }
        // Multiply-shift: unbiased enough for simulation, and branch-free.
        lo + ((self.next_u64() as u128 * (span as u128 + 1)) >> 64) as u64
    }

    /// True with probability `p` (clamped to `[0, 1]`).
    pub fn chance(&mut self, p: f64) -> bool {
        self.next_f64() < p
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_sequence_and_streams_differ() {
        let a: Vec<u64> = (0..4).map(|_| Rng::new(7).next_u64()).collect();
        assert!(a.windows(2).all(|w| w[0] == w[1]));
        let mut f = Rng::stream(7, streams::FAULTS);
        let mut j = Rng::stream(7, streams::JITTER);
        assert_ne!(f.next_u64(), j.next_u64());
    }

    #[test]
    fn between_stays_in_range() {
        let mut r = Rng::new(1);
        for _ in 0..10_000 {
            let x = r.between(5, 9);
            assert!((5..=9).contains(&x));
        }
        assert_eq!(r.between(3, 3), 3);
        assert_eq!(r.between(4, 1), 4);
    }
}
