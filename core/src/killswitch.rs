//! The kill switch: one flag that stops agent execution.
//!
//! It is an input, like time: the caller engages it at a virtual instant, and the agent checks it
//! before every step and before every call. A run therefore stops within one step of the switch
//! going on; the call in flight, if any, is the only thing that still finishes.

use crate::time::Micros;
use serde::{Deserialize, Serialize};

/// Off, or on from a virtual instant onwards.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct KillSwitch {
    /// When it went on, if it did.
    pub engaged_at: Option<Micros>,
}

impl KillSwitch {
    /// A switch that is off.
    pub const OFF: KillSwitch = KillSwitch { engaged_at: None };
    /// A switch that was on before the run started.
    pub const ON: KillSwitch = KillSwitch {
        engaged_at: Some(0),
    };

    /// A switch that goes on at `at`.
    pub const fn at(at: Micros) -> Self {
        KillSwitch {
            engaged_at: Some(at),
        }
    }

    /// Is it on at `now`?
    pub const fn is_on(&self, now: Micros) -> bool {
        match self.engaged_at {
            Some(at) => now >= at,
            None => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn on_from_the_instant_it_is_engaged() {
        let k = KillSwitch::at(10);
        assert!(!k.is_on(9));
        assert!(k.is_on(10));
        assert!(KillSwitch::ON.is_on(0));
        assert!(!KillSwitch::OFF.is_on(u64::MAX));
    }
}
