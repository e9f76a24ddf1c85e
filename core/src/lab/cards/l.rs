//! L. Retry decision table: which errors to retry.

use crate::agent::Run;
use crate::error::{CallError, ErrorKind};
use crate::lab::explain::{attempts_failed, but, waits_text, End, Explanation, Reading};
use crate::lab::{Card, CardId, Injected, Settings, Setup};
use crate::model::{Behaviour, Faults, ModelSpec};
use crate::sim::SimWorld;
use crate::time::SEC;

/// The card.
pub const CARD: Card = Card {
    id: CardId::L,
    letter: "L",
    title: "Retry decision table: which errors to retry",
    idea: "Retry what may pass (5xx, 429, timeouts, network); never what will fail the same way (4xx, bad arguments).",
    knobs: &[
        "error",
        "timeout",
        "attempts",
        "base_delay",
        "jitter",
        "seed",
        "max_steps",
    ],
    world: &[("the error comes", "on the first 2 calls")],
    setup,
    contrast: None,
    explain,
    gauges: None,
};

fn setup(s: &Settings) -> Setup {
    let faults = match s.error {
        Injected::E500 => Some(CallError::http(500)),
        Injected::E503 => Some(CallError::http(503)),
        Injected::E400 => Some(CallError::http(400)),
        Injected::E401 => Some(CallError::http(401)),
        Injected::E403 => Some(CallError::http(403)),
        Injected::E404 => Some(CallError::http(404)),
        Injected::E429 => Some(CallError::rate_limited(2 * SEC)),
        Injected::Network => Some(CallError::new(ErrorKind::Network)),
        Injected::Timeout | Injected::InvalidArgs => None,
    };
    let model = match (s.error, faults) {
        (_, Some(error)) => ModelSpec::new("model", Behaviour::Solve)
            .with_faults(Faults::FailFirst { count: 2, error }),
        // The first two calls hang: the lab's timeout gives up on them for real.
        (Injected::Timeout, None) => {
            ModelSpec::new("model", Behaviour::Solve).with_faults(Faults::HangFirst { count: 2 })
        }
        // Invalid arguments come from the model's reply, not from the service.
        _ => ModelSpec::new("model", Behaviour::Malformed),
    };
    Setup::new(s.agent_config(), SimWorld::new(vec![model]))
}

fn yes_no(b: bool) -> String {
    (if b { "yes" } else { "no" }).to_string()
}

fn explain(r: &Reading, _: Option<&Run>) -> Explanation {
    let rejected = match r.end {
        End::InvalidArgs(e) => Some(e),
        _ => None,
    };
    let Some(error) = r.first_error().or(rejected) else {
        return Explanation::new(r.tone(), r.ended());
    };
    let d = error.kind.decision();
    let name = error.kind.label();
    let recovered = r
        .model_attempts()
        .find(|(_, n, e)| e.is_none() && *n > 1)
        .map(|(_, n, _)| n);
    let failed = r.model_attempts().filter(|(_, _, e)| e.is_some()).count() as u32;
    let verdict = match (r.end, recovered) {
        (End::InvalidArgs(e), _) => format!(
            "invalid tool arguments would fail the same way every time ({}): not retried; the run stopped at once (alert a human: {})",
            e.detail.as_deref().unwrap_or("rejected"),
            d.alert
        ),
        (End::Answered, Some(n)) => {
            let hinted = r.events().any(|e| {
                matches!(
                    e.kind,
                    crate::trace::EventKind::Backoff {
                        retry_after: Some(_),
                        ..
                    }
                )
            });
            format!(
                "{name} may pass on another try: retried after waiting {}{}, and it worked on attempt {n}",
                waits_text(&r.waits()),
                if hinted { " (as the server's Retry-After asked)" } else { "" }
            )
        }
        (End::Degraded(_), _) if !d.retry => format!(
            "{error} would fail the same way every time: not retried, the run stopped at once and said so (alert a human: {})",
            d.alert
        ),
        (End::Degraded(_), _) => format!(
            "{name} is worth retrying, but {} with it: the run degraded to the safe message",
            attempts_failed(failed)
        ),
        (_, Some(n)) => but(
            format!("{name} may pass on another try, and attempt {n} worked"),
            r,
        ),
        _ => r.ended(),
    };
    Explanation::new(r.tone(), verdict)
        .fact("error seen", error.to_string())
        .fact("retry?", yes_no(d.retry))
        .fact("backoff?", yes_no(d.backoff))
        .fact("alert a human?", d.alert.to_string())
}
