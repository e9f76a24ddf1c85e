//! Retry amplification: nested retry layers multiply.
//!
//! An SDK that retries 3 times, inside a framework that retries 3 times, inside a tool wrapper
//! that retries 3 times, makes 27 calls to a service that is down, and the waits add up layer
//! by layer. This is the worst case: every call times out (or gets a 429 with Retry-After).

use crate::time::Micros;
use serde::{Deserialize, Serialize};

/// One retry layer, innermost first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Layer {
    /// Its name ("SDK", "agent framework", "tool").
    pub name: String,
    /// Attempts it makes, the first included.
    pub attempts: u32,
    /// Its first backoff wait (doubling after).
    pub base: Micros,
}

/// The worst case at one layer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LayerCost {
    /// The layer.
    pub name: String,
    /// Calls reaching the service per call into this layer.
    pub calls: u64,
    /// Wall time of one call into this layer.
    pub wall: Micros,
}

/// The worst case of `layers` (innermost first) when every call takes `timeout` and fails;
/// a `retry_after` hint makes each wait at least that long.
pub fn worst_case(
    layers: &[Layer],
    timeout: Micros,
    retry_after: Option<Micros>,
) -> Vec<LayerCost> {
    let mut calls = 1u64;
    let mut wall = timeout;
    let mut out = Vec::with_capacity(layers.len());
    for layer in layers {
        let attempts = layer.attempts.max(1) as u64;
        let waits: Micros = (0..attempts.saturating_sub(1))
            .map(|i| {
                let backoff = layer.base.saturating_mul(1u64 << i.min(40));
                backoff.max(retry_after.unwrap_or(0))
            })
            .fold(0, Micros::saturating_add);
        calls = calls.saturating_mul(attempts);
        wall = wall.saturating_mul(attempts).saturating_add(waits);
        out.push(LayerCost {
            name: layer.name.clone(),
            calls,
            wall,
        });
    }
    out
}

/// The three layers the page's settings describe, innermost first; each backs off from the
/// lab's base delay, and every call times out at the lab's timeout.
pub fn layers(s: &crate::lab::Settings) -> Vec<Layer> {
    [
        ("SDK", s.amp_sdk),
        ("agent framework", s.amp_framework),
        ("tool wrapper", s.amp_tool),
    ]
    .into_iter()
    .map(|(name, attempts)| Layer {
        name: name.to_string(),
        attempts,
        base: s.base_delay,
    })
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::{MS, SEC};

    fn layer(name: &str, attempts: u32) -> Layer {
        Layer {
            name: name.into(),
            attempts,
            base: 500 * MS,
        }
    }

    #[test]
    fn three_layers_of_three_make_27_calls() {
        let layers = [layer("SDK", 3), layer("framework", 3), layer("tool", 3)];
        let cost = worst_case(&layers, SEC, None);
        assert_eq!(
            cost.iter().map(|c| c.calls).collect::<Vec<_>>(),
            vec![3, 9, 27]
        );
        // SDK: 3 x 1s + 0.5 + 1.0 = 4.5s; framework: 3 x 4.5 + 1.5 = 15s; tool: 3 x 15 + 1.5.
        assert_eq!(cost[0].wall, 4_500 * MS);
        assert_eq!(cost[1].wall, 15 * SEC);
        assert_eq!(cost[2].wall, 46_500 * MS);
    }

    #[test]
    fn retry_after_stretches_every_wait() {
        let cost = worst_case(&[layer("SDK", 3)], SEC, Some(5 * SEC));
        assert_eq!(cost[0].wall, 13 * SEC);
    }
}
