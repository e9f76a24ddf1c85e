//! Simulated model clients: scripted, seeded, instant.
//!
//! A [`ModelSpec`] says what the model wants to do ([`Behaviour`]), how its calls fail
//! ([`Faults`]) and how long they take ([`Latency`]). The agent calls it through the same retry,
//! deadline and breaker machinery a real client would go through.

use crate::agent::{Reply, Task, Turn};
use crate::error::CallError;
use crate::rng::Rng;
use crate::time::{Micros, Secs, MS, SEC};
use crate::tools::{Arg, RawCall};
use crate::ConfigError;
use serde::{Deserialize, Serialize};
use std::borrow::Cow;

/// What the model asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Behaviour {
    /// Asks for `multiply(17, 23)`, then answers "The answer is 391.".
    Solve,
    /// Asks for a tool every time and never answers: a runaway loop.
    Loop,
    /// Asks to send an email, a risky tool.
    Risky,
    /// Asks for `multiply` with a hallucinated argument.
    Malformed,
    /// Asks to charge a card $25.00, a side-effecting tool.
    Pay,
    /// Answers at once with a short, cached answer (a fallback rung).
    Cached,
    /// Answers with a suggestion for a human to act on (advisory mode).
    Advisory,
    /// Answers at once, without tools, from a simpler prompt (a backup model).
    Brief,
    /// Asks to update 100 customer records at once, a bulk write.
    BulkUpdate,
}

/// How the model's calls fail.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Faults {
    /// Never.
    #[default]
    None,
    /// The first `count` calls fail with `error`, then it works (the flaky model).
    FailFirst {
        /// How many calls fail.
        count: u32,
        /// With what.
        error: CallError,
    },
    /// Every call fails with `error` (the model is down).
    Always {
        /// With what.
        error: CallError,
    },
    /// Calls before `until` fail with `error` (an outage that ends).
    Until {
        /// When the outage ends.
        until: Micros,
        /// With what.
        error: CallError,
    },
    /// The first `count` calls hang (an hour), so the caller's timeout gives up on them;
    /// then it works.
    HangFirst {
        /// How many calls hang.
        count: u32,
    },
    /// Each call fails independently with probability `rate` (random fault injection).
    Random {
        /// The failure probability, 0 to 1.
        rate: f64,
        /// With what.
        error: CallError,
    },
    /// Each call fails independently with probability `rate`, with an error drawn from `mix`;
    /// and while `outage` says the service is down, every call fails with a 503. (The fault
    /// model of the statistics and the challenges.)
    Mixed {
        /// The failure probability, 0 to 1, outside outages.
        rate: f64,
        /// What the failing calls fail with.
        mix: ErrorMix,
        /// When the service is fully down, if ever.
        outage: Option<Outage>,
    },
}

/// How long a 429 of an [`ErrorMix`] asks the caller to wait: 2 s (as on card L).
pub const RETRY_AFTER: Micros = 2 * SEC;

static E503: CallError = CallError::http(503);
static E500: CallError = CallError::http(500);
static E429: CallError = CallError::rate_limited(RETRY_AFTER);

/// What randomly failing calls fail with: shares in percent that sum to 100.
///
/// # Default
/// Every failure is a 503.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ErrorMix {
    /// 503 Service Unavailable.
    pub e503: u8,
    /// 429 Too Many Requests, with a Retry-After of [`RETRY_AFTER`].
    pub e429: u8,
    /// The call hangs ([`HANG`]) and the caller's timeout gives up on it.
    pub hang: u8,
    /// 500 Internal Server Error.
    pub e500: u8,
}

impl Default for ErrorMix {
    fn default() -> Self {
        ErrorMix::ALL_503
    }
}

impl ErrorMix {
    /// Every failure a 503 (the default).
    pub const ALL_503: ErrorMix = ErrorMix {
        e503: 100,
        e429: 0,
        hang: 0,
        e500: 0,
    };

    /// The shares in link order (503, 429, hang, 500), with their names in links.
    pub const fn shares(&self) -> [(&'static str, u8); 4] {
        [
            ("503", self.e503),
            ("429", self.e429),
            ("hang", self.hang),
            ("500", self.e500),
        ]
    }

    /// Checks that the shares add up to 100.
    pub fn validate(self) -> Result<Self, ConfigError> {
        let sum: u32 = self.shares().iter().map(|(_, s)| *s as u32).sum();
        if sum == 100 {
            Ok(self)
        } else {
            Err(ConfigError::new(
                "error_mix",
                format!("shares must add up to 100 (got {sum})"),
            ))
        }
    }

    /// The failure for a draw `d` from 0 to 99: an error, or `None` for a hang.
    fn pick(&self, d: u64) -> Option<&'static CallError> {
        let d = d.min(99) as u32;
        let (a, b, c) = (
            self.e503 as u32,
            self.e503 as u32 + self.e429 as u32,
            self.e503 as u32 + self.e429 as u32 + self.hang as u32,
        );
        if d < a {
            Some(&E503)
        } else if d < b {
            Some(&E429)
        } else if d < c {
            None
        } else {
            Some(&E500)
        }
    }
}

/// When the service is fully down: from `from` to `to` (not included), and again every
/// `every` if that is not zero (so `2 s-5 s every 10 s` is down from 2 to 5 s, 12 to 15 s, ...).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Outage {
    /// When it starts (within each period).
    pub from: Micros,
    /// When it ends (within each period).
    pub to: Micros,
    /// The period; zero for a single window.
    pub every: Micros,
}

impl Outage {
    /// Is the service down at `t`?
    pub const fn is_down(&self, t: Micros) -> bool {
        let t = if self.every > 0 { t % self.every } else { t };
        self.from <= t && t < self.to
    }

    /// Checks that the window is not empty and fits in its period.
    pub fn validate(self) -> Result<Self, ConfigError> {
        if self.from >= self.to {
            return Err(ConfigError::new(
                "outage",
                format!(
                    "must end after it starts (got {} to {})",
                    Secs(self.from),
                    Secs(self.to)
                ),
            ));
        }
        if self.every > 0 && self.to > self.every {
            return Err(ConfigError::new(
                "outage",
                format!(
                    "must fit in its period of {} (it ends at {})",
                    Secs(self.every),
                    Secs(self.to)
                ),
            ));
        }
        Ok(self)
    }
}

/// How long calls take.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Latency {
    /// Always the same.
    Fixed {
        /// The latency.
        us: Micros,
    },
    /// Uniform between `lo` and `hi`.
    Uniform {
        /// Fastest.
        lo: Micros,
        /// Slowest.
        hi: Micros,
    },
    /// Usually `base`; with probability `p_slow`, `slow` instead (a heavy tail).
    Tail {
        /// The usual latency.
        base: Micros,
        /// The tail latency.
        slow: Micros,
        /// How often the tail happens.
        p_slow: f64,
    },
}

impl Default for Latency {
    fn default() -> Self {
        Latency::Fixed { us: 20 * MS }
    }
}

impl Latency {
    /// Draws one latency.
    pub fn draw(&self, rng: &mut Rng) -> Micros {
        match *self {
            Latency::Fixed { us } => us,
            Latency::Uniform { lo, hi } => rng.between(lo, hi),
            Latency::Tail { base, slow, p_slow } => {
                if rng.chance(p_slow) {
                    slow
                } else {
                    base
                }
            }
        }
    }
}

/// A simulated model.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ModelSpec {
    /// Its name in traces ("primary", "backup", ...).
    pub name: Cow<'static, str>,
    /// What it asks for.
    pub behaviour: Behaviour,
    /// How its calls fail.
    pub faults: Faults,
    /// How long its calls take.
    pub latency: Latency,
    /// Its answers are less than the user asked for (a stale cache, advice instead of an
    /// answer): a run it answers is marked degraded.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub degraded: bool,
}

impl ModelSpec {
    /// A healthy model named `name` with `behaviour`.
    pub const fn new(name: &'static str, behaviour: Behaviour) -> Self {
        ModelSpec {
            name: Cow::Borrowed(name),
            behaviour,
            faults: Faults::None,
            latency: Latency::Fixed { us: 20 * MS },
            degraded: false,
        }
    }

    /// Marks its answers as degraded (or not).
    pub const fn degraded(mut self, degraded: bool) -> Self {
        self.degraded = degraded;
        self
    }

    /// With `faults`.
    pub fn with_faults(mut self, faults: Faults) -> Self {
        self.faults = faults;
        self
    }

    /// With `latency`.
    pub const fn with_latency(mut self, latency: Latency) -> Self {
        self.latency = latency;
        self
    }

    /// Checks that its chances are probabilities: a fault rate or a tail chance outside
    /// 0 to 1 (or not a number) is a mistake to report, not "never" or "always".
    pub fn validate(&self) -> Result<(), ConfigError> {
        let chance = |field: &'static str, p: f64| {
            if p.is_finite() && (0.0..=1.0).contains(&p) {
                Ok(())
            } else {
                Err(ConfigError::new(
                    field,
                    format!("must be between 0 and 1 (got {})", crate::time::shortest(p)),
                ))
            }
        };
        match self.faults {
            Faults::Random { rate, .. } => chance("failure_rate", rate)?,
            Faults::Mixed { rate, mix, outage } => {
                chance("failure_rate", rate)?;
                mix.validate()?;
                if let Some(o) = outage {
                    o.validate()?;
                }
            }
            _ => {}
        }
        if let Latency::Tail { p_slow, .. } = self.latency {
            chance("p_slow", p_slow)?;
        }
        Ok(())
    }
}

/// A simulated model's tool request: its arguments are fixed, so they are borrowed, not
/// allocated per call.
const fn call(name: &'static str, args: &'static [(Cow<'static, str>, Arg)]) -> Reply {
    Reply::Tool {
        call: RawCall {
            name: Cow::Borrowed(name),
            args: Cow::Borrowed(args),
        },
        id: None,
        raw: None,
    }
}

const fn arg(name: &'static str, value: Arg) -> (Cow<'static, str>, Arg) {
    (Cow::Borrowed(name), value)
}

const fn text(s: &'static str) -> Arg {
    Arg::Text(Cow::Borrowed(s))
}

const MULTIPLY: &[(Cow<'static, str>, Arg)] = &[arg("a", Arg::Int(17)), arg("b", Arg::Int(23))];
const SEND_EMAIL: &[(Cow<'static, str>, Arg)] = &[
    arg("to", text(EMAIL_TO)),
    arg("subject", text("Quarterly results")),
];
const MALFORMED: &[(Cow<'static, str>, Arg)] =
    &[arg("a", Arg::Int(17)), arg("b", text("twenty-three"))];
const CHARGE: &[(Cow<'static, str>, Arg)] = &[
    arg("customer", text("cus_42")),
    arg("amount_cents", Arg::Int(2500)),
];
const UPDATE: &[(Cow<'static, str>, Arg)] = &[
    arg("table", text("customers")),
    arg("count", Arg::Int(BULK_RECORDS)),
];

fn answer(text: impl Into<String>) -> Reply {
    Reply::Answer { text: text.into() }
}

impl Behaviour {
    /// The task a model of this behaviour works on.
    pub const fn task(self) -> Task {
        match self {
            Behaviour::Risky => Task {
                input: Cow::Borrowed("Email the quarterly results to all staff."),
                plan: Cow::Borrowed(&[
                    Cow::Borrowed("draft the email"),
                    Cow::Borrowed("send_email to all-staff (needs approval)"),
                    Cow::Borrowed("confirm"),
                ]),
            },
            Behaviour::Pay => Task {
                input: Cow::Borrowed("Charge customer cus_42 $25.00 for order 1001."),
                plan: Cow::Borrowed(&[
                    Cow::Borrowed("charge_card cus_42 2500 cents"),
                    Cow::Borrowed("confirm the receipt"),
                ]),
            },
            Behaviour::BulkUpdate => Task {
                input: Cow::Borrowed("Set the newsletter flag on all 100 customer records."),
                plan: Cow::Borrowed(&[
                    Cow::Borrowed("update_records customers 100"),
                    Cow::Borrowed("confirm"),
                ]),
            },
            _ => Task::MULTIPLY,
        }
    }
}

/// How long a hanging call takes: far past any timeout.
pub const HANG: Micros = 3_600 * crate::time::SEC;

/// How many records the bulk-update model wants to change.
pub const BULK_RECORDS: i64 = 100;

/// The email the risky model wants to send.
pub const EMAIL_TO: &str = "all-staff@example.com";

impl Behaviour {
    /// The reply to a conversation whose last turn is `last`. Pure: the same last turn always
    /// gives the same reply.
    pub fn reply(self, last: Option<&Turn>) -> Reply {
        let multiply = || call("multiply", MULTIPLY);
        // The model reacts to what it was told last; its own last words tell it nothing new.
        let last = last.filter(|t| !matches!(t, Turn::Model(_)));
        match (self, last) {
            (_, Some(Turn::Feedback { .. })) => {
                answer("The answer is 391: 17 x 23 = 17 x 20 + 17 x 3 = 340 + 51 = 391 (checked).")
            }
            (Behaviour::Solve, Some(Turn::Output(out))) => answer(format!("The answer is {out}.")),
            (Behaviour::Solve | Behaviour::Loop, _) => multiply(),
            (Behaviour::Risky, None | Some(Turn::Model(_))) => call("send_email", SEND_EMAIL),
            (Behaviour::Risky, Some(Turn::Output(_))) => {
                answer(format!("Email sent to {EMAIL_TO}."))
            }
            (Behaviour::Risky | Behaviour::Pay, Some(Turn::Blocked)) => {
                answer("I did not do it: a human has to approve that action first.")
            }
            (Behaviour::Malformed, _) => call("multiply", MALFORMED),
            (Behaviour::Pay, None | Some(Turn::Model(_))) => call("charge_card", CHARGE),
            (Behaviour::Pay, Some(Turn::Output(out))) => answer(format!("Payment done: {out}.")),
            (Behaviour::Cached, _) => {
                answer("The answer is 391. (cached answer from an earlier run)")
            }
            (Behaviour::Brief, _) => answer("The answer is 391. (backup model, simpler prompt)"),
            (Behaviour::BulkUpdate, None | Some(Turn::Model(_))) => call("update_records", UPDATE),
            (Behaviour::BulkUpdate, Some(Turn::Output(out))) => answer(format!("Done: {out}.")),
            (Behaviour::BulkUpdate, Some(Turn::Blocked)) => {
                answer("Stopped after the test record: nobody confirmed the rest of the update.")
            }
            (Behaviour::Advisory, _) => answer(
                "Suggestion for a human: compute 17 x 23 (I expect 391); please check and decide.",
            ),
        }
    }
}

impl ModelSpec {
    /// Its `n`th call (1 for the first) at `now`: how long it takes and what it returns
    /// (before any deadline). Faults and latencies draw from their own streams, so a new
    /// latency distribution never moves the fault schedule.
    pub fn respond(
        &self,
        n: u32,
        last: Option<&Turn>,
        now: Micros,
        faults: &mut Rng,
        latency: &mut Rng,
    ) -> (Micros, Result<Reply, CallError>) {
        let mut latency = self.latency.draw(latency);
        let failure = match &self.faults {
            Faults::None => None,
            Faults::HangFirst { count } => {
                if n <= *count {
                    latency = HANG;
                }
                None
            }
            Faults::FailFirst { count, error } => (n <= *count).then_some(error),
            Faults::Always { error } => Some(error),
            Faults::Until { until, error } => (now < *until).then_some(error),
            Faults::Random { rate, error } => faults.chance(*rate).then_some(error),
            Faults::Mixed { rate, mix, outage } => {
                // Two draws per call whatever happens, so call k of a request sees the same
                // draws under every policy, in an outage or not.
                let fails = faults.chance(*rate);
                let pick = faults.between(0, 99);
                if outage.is_some_and(|o| o.is_down(now)) {
                    Some(&E503)
                } else if !fails {
                    None
                } else {
                    let error = mix.pick(pick);
                    if error.is_none() {
                        latency = HANG;
                    }
                    error
                }
            }
        };
        match failure {
            Some(e) => (latency, Err(e.clone())),
            None => (latency, Ok(self.behaviour.reply(last))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tools::ToolOutput;

    #[test]
    fn a_flaky_model_fails_its_first_calls_then_works() {
        let spec = ModelSpec::new("m", Behaviour::Solve).with_faults(Faults::FailFirst {
            count: 2,
            error: CallError::http(503),
        });
        let (mut f, mut l) = (Rng::new(0), Rng::new(1));
        assert!(spec.respond(1, None, 0, &mut f, &mut l).1.is_err());
        assert!(spec.respond(2, None, 0, &mut f, &mut l).1.is_err());
        let (lat, r) = spec.respond(3, None, 0, &mut f, &mut l);
        assert_eq!(lat, 20 * MS);
        assert!(matches!(r, Ok(Reply::Tool { .. })));
    }

    #[test]
    fn a_fault_rate_outside_0_to_1_is_a_configuration_error() {
        let with_rate = |rate| {
            ModelSpec::new("m", Behaviour::Solve).with_faults(Faults::Random {
                rate,
                error: CallError::http(503),
            })
        };
        for bad in [-0.1, 1.5, f64::NAN, f64::INFINITY] {
            assert_eq!(with_rate(bad).validate().unwrap_err().field, "failure_rate");
        }
        for good in [0.0, 0.3, 1.0] {
            assert!(with_rate(good).validate().is_ok());
        }
    }

    #[test]
    fn a_mix_fails_with_its_shares_and_an_outage_with_503s() {
        let mix = ErrorMix {
            e503: 50,
            e429: 20,
            hang: 30,
            e500: 0,
        };
        let outage = Outage {
            from: 2 * SEC,
            to: 5 * SEC,
            every: 10 * SEC,
        };
        let spec = ModelSpec::new("m", Behaviour::Solve).with_faults(Faults::Mixed {
            rate: 1.0,
            mix,
            outage: Some(outage),
        });
        assert!(spec.validate().is_ok());
        let (mut f, mut l) = (Rng::new(0), Rng::new(1));
        let (mut e503, mut e429, mut hang) = (0, 0, 0);
        for _ in 0..1_000 {
            match spec.respond(1, None, 0, &mut f, &mut l) {
                (HANG, Ok(_)) => hang += 1,
                (_, Err(e)) if e.kind == crate::error::ErrorKind::Http(503) => e503 += 1,
                (_, Err(e)) if e.retry_after == Some(RETRY_AFTER) => e429 += 1,
                other => panic!("{other:?}"),
            }
        }
        assert_eq!(e503 + e429 + hang, 1_000);
        assert!(
            (450..550).contains(&e503) && (150..250).contains(&e429),
            "{e503} {e429}"
        );
        // Down from 12 to 15 s: a 503 whatever the draw.
        let healthy = ModelSpec::new("m", Behaviour::Solve).with_faults(Faults::Mixed {
            rate: 0.0,
            mix,
            outage: Some(outage),
        });
        assert!(healthy
            .respond(1, None, 12 * SEC, &mut f, &mut l)
            .1
            .is_err());
        assert!(healthy.respond(1, None, 15 * SEC, &mut f, &mut l).1.is_ok());
        assert!(outage.is_down(2 * SEC) && !outage.is_down(5 * SEC) && !outage.is_down(SEC));
    }

    #[test]
    fn a_mix_must_add_up_and_an_outage_must_fit() {
        let bad = ErrorMix {
            e503: 50,
            ..ErrorMix::ALL_503
        };
        assert_eq!(bad.validate().unwrap_err().field, "error_mix");
        let o = |from, to, every| Outage { from, to, every }.validate();
        assert!(o(2, 5, 10).is_ok() && o(2, 5, 0).is_ok());
        assert!(o(5, 5, 10).is_err() && o(2, 11, 10).is_err());
    }

    #[test]
    fn solve_answers_with_the_tool_result() {
        let r = Behaviour::Solve.reply(Some(&Turn::Output(ToolOutput::Number(391))));
        assert_eq!(r, answer("The answer is 391."));
    }
}
