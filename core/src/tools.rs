//! Tools, their validation at the boundary, and the pretend world they act on.
//!
//! The model is untrusted input: what it asks for arrives as a [`RawCall`] (a name and loose
//! arguments) and is validated into a typed [`ToolCall`] before anything runs. A hallucinated
//! argument is a clear, non-retried [`ErrorKind::InvalidArgs`] error.
//!
//! The risky tools only pretend: they write a line in the [`World`]'s ledger of side effects and
//! nothing leaves the machine. The ledger is how tests and cards see a duplicate charge.

use crate::approval::Risk;
use crate::error::{CallError, ErrorKind};
use crate::idempotency::{IdempotencyKey, IdempotencyStore, KeyBuilder};
use crate::quote;
use crate::time::Micros;
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::fmt;

/// A loosely typed argument, as a model produces it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Arg {
    /// A whole number.
    Int(i64),
    /// Text.
    Text(Cow<'static, str>),
}

impl fmt::Display for Arg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Arg::Int(n) => write!(f, "{n}"),
            Arg::Text(s) => f.write_str(&quote(s)),
        }
    }
}

/// A tool call as the model asked for it: not yet trusted.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RawCall {
    /// The tool's name.
    pub name: Cow<'static, str>,
    /// Its arguments, by name (borrowed when they are fixed, as a simulated model's are).
    pub args: Cow<'static, [(Cow<'static, str>, Arg)]>,
}

/// The tools the simulated agent knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ToolKind {
    /// Multiplies two numbers. Safe.
    Multiply,
    /// Sends an email (pretend). Risky.
    SendEmail,
    /// Charges a card (pretend). Risky.
    ChargeCard,
    /// Deletes records (pretend). Risky.
    DeleteRecords,
    /// Updates records in bulk (pretend). Risky.
    UpdateRecords,
}

impl ToolKind {
    /// Every tool.
    pub const ALL: [ToolKind; 5] = [
        ToolKind::Multiply,
        ToolKind::SendEmail,
        ToolKind::ChargeCard,
        ToolKind::DeleteRecords,
        ToolKind::UpdateRecords,
    ];

    /// The name the model uses.
    pub const fn name(self) -> &'static str {
        match self {
            ToolKind::Multiply => "multiply",
            ToolKind::SendEmail => "send_email",
            ToolKind::ChargeCard => "charge_card",
            ToolKind::DeleteRecords => "delete_records",
            ToolKind::UpdateRecords => "update_records",
        }
    }

    /// Safe or risky.
    pub const fn risk(self) -> Risk {
        match self {
            ToolKind::Multiply => Risk::Safe,
            _ => Risk::Risky,
        }
    }

    /// Does it change the world (and so need an idempotency key when retried)?
    pub const fn has_side_effect(self) -> bool {
        !matches!(self, ToolKind::Multiply)
    }

    fn from_name(name: &str) -> Option<ToolKind> {
        ToolKind::ALL.into_iter().find(|t| t.name() == name)
    }
}

/// A validated tool call.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ToolCall {
    /// `multiply(a, b)`.
    Multiply {
        /// First factor.
        a: i64,
        /// Second factor.
        b: i64,
    },
    /// `send_email(to, subject)`.
    SendEmail {
        /// Recipient address.
        to: String,
        /// Subject line.
        subject: String,
    },
    /// `charge_card(customer, amount_cents)`.
    ChargeCard {
        /// Customer id.
        customer: String,
        /// Amount in cents, 1 to 1,000,000.
        amount_cents: i64,
    },
    /// `delete_records(table, count)`.
    DeleteRecords {
        /// Which table.
        table: String,
        /// How many records, 1 to 10,000.
        count: i64,
    },
    /// `update_records(table, count)`: sets a field on `count` records, starting at record
    /// `offset` (0 unless a scope policy split the update).
    UpdateRecords {
        /// Which table.
        table: String,
        /// How many records, 1 to 10,000.
        count: i64,
        /// The first record touched.
        #[serde(default)]
        offset: i64,
    },
}

impl ToolCall {
    /// Which tool.
    pub const fn kind(&self) -> ToolKind {
        match self {
            ToolCall::Multiply { .. } => ToolKind::Multiply,
            ToolCall::SendEmail { .. } => ToolKind::SendEmail,
            ToolCall::ChargeCard { .. } => ToolKind::ChargeCard,
            ToolCall::DeleteRecords { .. } => ToolKind::DeleteRecords,
            ToolCall::UpdateRecords { .. } => ToolKind::UpdateRecords,
        }
    }

    /// The idempotency key of this call within request `request`.
    pub fn key(&self, request: u64) -> IdempotencyKey {
        let k = KeyBuilder::new()
            .num(request as i64)
            .str(self.kind().name());
        match self {
            ToolCall::Multiply { a, b } => k.num(*a).num(*b),
            ToolCall::SendEmail { to, subject } => k.str(to).str(subject),
            ToolCall::ChargeCard {
                customer,
                amount_cents,
            } => k.str(customer).num(*amount_cents),
            ToolCall::DeleteRecords { table, count } => k.str(table).num(*count),
            ToolCall::UpdateRecords {
                table,
                count,
                offset,
            } => k.str(table).num(*count).num(*offset),
        }
        .finish()
    }
}

impl fmt::Display for ToolCall {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ToolCall::Multiply { a, b } => write!(f, "multiply({a}, {b})"),
            ToolCall::SendEmail { to, subject } => {
                write!(f, "send_email({}, {})", quote(to), quote(subject))
            }
            ToolCall::ChargeCard {
                customer,
                amount_cents,
            } => write!(f, "charge_card({}, {amount_cents})", quote(customer)),
            ToolCall::DeleteRecords { table, count } => {
                write!(f, "delete_records({}, {count})", quote(table))
            }
            ToolCall::UpdateRecords {
                table,
                count,
                offset: 0,
            } => write!(f, "update_records({}, {count})", quote(table)),
            ToolCall::UpdateRecords {
                table,
                count,
                offset,
            } => write!(
                f,
                "update_records({}, {count}, from record {offset})",
                quote(table)
            ),
        }
    }
}

struct Args<'a> {
    tool: &'static str,
    args: &'a [(Cow<'static, str>, Arg)],
}

impl Args<'_> {
    fn get(&self, name: &str) -> Result<&Arg, CallError> {
        self.args
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v)
            .ok_or_else(|| CallError::invalid_args(format!("{}: missing `{name}`", self.tool)))
    }

    fn int(&self, name: &str, lo: i64, hi: i64) -> Result<i64, CallError> {
        match self.get(name)? {
            Arg::Int(n) if (lo..=hi).contains(n) => Ok(*n),
            Arg::Int(n) => Err(CallError::invalid_args(format!(
                "{}: `{name}` must be {lo} to {hi}, got {n}",
                self.tool
            ))),
            other => Err(CallError::invalid_args(format!(
                "{}: `{name}` must be a whole number, got {other}",
                self.tool
            ))),
        }
    }

    fn text(&self, name: &str) -> Result<String, CallError> {
        match self.get(name)? {
            Arg::Text(s) if !s.trim().is_empty() => Ok(s.to_string()),
            other => Err(CallError::invalid_args(format!(
                "{}: `{name}` must be non-empty text, got {other}",
                self.tool
            ))),
        }
    }

    fn only(&self, allowed: &[&str]) -> Result<(), CallError> {
        match self
            .args
            .iter()
            .find(|(n, _)| !allowed.contains(&n.as_ref()))
        {
            Some((n, _)) => Err(CallError::invalid_args(format!(
                "{}: unexpected argument `{n}`",
                self.tool
            ))),
            None => Ok(()),
        }
    }
}

/// Validates a model's raw call into a typed one.
pub fn validate(raw: &RawCall) -> Result<ToolCall, CallError> {
    let Some(kind) = ToolKind::from_name(&raw.name) else {
        return Err(CallError {
            detail: Some(raw.name.to_string()),
            ..CallError::new(ErrorKind::UnknownTool)
        });
    };
    let a = Args {
        tool: kind.name(),
        args: &raw.args,
    };
    const BIG: i64 = 1_000_000_000;
    let call = match kind {
        ToolKind::Multiply => {
            a.only(&["a", "b"])?;
            ToolCall::Multiply {
                a: a.int("a", -BIG, BIG)?,
                b: a.int("b", -BIG, BIG)?,
            }
        }
        ToolKind::SendEmail => {
            a.only(&["to", "subject"])?;
            let to = a.text("to")?;
            if !to.contains('@') {
                return Err(CallError::invalid_args(format!(
                    "send_email: `to` must be an email address, got {}",
                    quote(&to)
                )));
            }
            ToolCall::SendEmail {
                to,
                subject: a.text("subject")?,
            }
        }
        ToolKind::ChargeCard => {
            a.only(&["customer", "amount_cents"])?;
            ToolCall::ChargeCard {
                customer: a.text("customer")?,
                amount_cents: a.int("amount_cents", 1, 1_000_000)?,
            }
        }
        ToolKind::DeleteRecords => {
            a.only(&["table", "count"])?;
            ToolCall::DeleteRecords {
                table: a.text("table")?,
                count: a.int("count", 1, 10_000)?,
            }
        }
        ToolKind::UpdateRecords => {
            a.only(&["table", "count"])?;
            ToolCall::UpdateRecords {
                table: a.text("table")?,
                count: a.int("count", 1, 10_000)?,
                offset: 0,
            }
        }
    };
    Ok(call)
}

/// What a tool returned.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ToolOutput {
    /// A number (multiply).
    Number(i64),
    /// A confirmation (the side-effecting tools).
    Text(String),
}

impl fmt::Display for ToolOutput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ToolOutput::Number(n) => write!(f, "{n}"),
            ToolOutput::Text(s) => f.write_str(s),
        }
    }
}

/// One pretend change to the world.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Effect {
    /// When it happened.
    pub at: Micros,
    /// What did it.
    pub call: ToolCall,
    /// The key it carried, if any.
    pub key: Option<IdempotencyKey>,
}

/// How tools misbehave in a scenario.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ToolFaults {
    /// The first this many side-effecting calls commit, but their response is lost: the caller
    /// only sees a timeout (an unknown outcome).
    pub lose_response: u32,
}

/// The pretend world: a ledger of side effects and the server's idempotency memory.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct World {
    /// Every side effect, in order. Nothing here ever leaves the machine.
    pub effects: Vec<Effect>,
    store: IdempotencyStore<ToolOutput>,
    lost: u32,
}

/// What the world did with a call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Executed {
    /// It ran (and committed, for a side-effecting tool).
    Ran(ToolOutput),
    /// Its key was known: the remembered result, nothing done again.
    Deduplicated(ToolOutput),
    /// It committed but the response was lost.
    Lost,
}

impl World {
    /// Runs `call` at `now` with an optional key, under `faults`.
    pub fn execute(
        &mut self,
        call: &ToolCall,
        key: Option<IdempotencyKey>,
        now: Micros,
        faults: ToolFaults,
    ) -> Executed {
        if let Some(done) = key.and_then(|k| self.store.get(k)) {
            return Executed::Deduplicated(done);
        }
        let output = self.output_of(call);
        if call.kind().has_side_effect() {
            self.effects.push(Effect {
                at: now,
                call: call.clone(),
                key,
            });
            if let Some(k) = key {
                self.store.record(k, output.clone());
            }
            if self.lost < faults.lose_response {
                self.lost += 1;
                return Executed::Lost;
            }
        }
        Executed::Ran(output)
    }

    /// A world that has already committed `effects` (a run restored from its recording): its
    /// ledger, and its memory of their keys.
    pub fn replayed(effects: Vec<Effect>) -> World {
        let mut world = World::default();
        for e in effects {
            let output = world.output_of(&e.call);
            if let Some(k) = e.key {
                world.store.record(k, output);
            }
            world.effects.push(e);
        }
        world
    }

    /// What `call` returns in this world now.
    fn output_of(&self, call: &ToolCall) -> ToolOutput {
        match call {
            ToolCall::Multiply { a, b } => ToolOutput::Number(a.saturating_mul(*b)),
            ToolCall::SendEmail { to, .. } => {
                ToolOutput::Text(format!("email sent to {to} (pretend)"))
            }
            ToolCall::ChargeCard { amount_cents, .. } => ToolOutput::Text(format!(
                "charged ${}.{:02} (pretend), receipt #{}",
                amount_cents / 100,
                amount_cents % 100,
                self.effects.len() + 1
            )),
            ToolCall::DeleteRecords { count, table } => {
                ToolOutput::Text(format!("deleted {count} records from {table} (pretend)"))
            }
            ToolCall::UpdateRecords {
                count: 1,
                table,
                offset,
            } => ToolOutput::Text(format!(
                "updated record {} in {table} (pretend)",
                offset + 1
            )),
            ToolCall::UpdateRecords {
                count,
                table,
                offset,
            } => ToolOutput::Text(format!(
                "updated records {}-{} in {table} (pretend)",
                offset + 1,
                offset + count
            )),
        }
    }

    /// Side effects that repeat an earlier one (same call): what idempotency prevents.
    pub fn duplicates(&self) -> usize {
        self.effects
            .iter()
            .enumerate()
            .filter(|(i, e)| self.effects[..*i].iter().any(|p| p.call == e.call))
            .count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(name: &'static str, args: Vec<(&'static str, Arg)>) -> RawCall {
        RawCall {
            name: name.into(),
            args: Cow::Owned(args.into_iter().map(|(n, a)| (n.into(), a)).collect()),
        }
    }

    #[test]
    fn a_good_call_validates() {
        let c = validate(&raw(
            "multiply",
            vec![("a", Arg::Int(17)), ("b", Arg::Int(23))],
        ));
        assert_eq!(c, Ok(ToolCall::Multiply { a: 17, b: 23 }));
    }

    #[test]
    fn hallucinated_arguments_are_clear_non_retried_errors() {
        let e = validate(&raw(
            "multiply",
            vec![("a", Arg::Int(17)), ("b", Arg::Text("twenty-three".into()))],
        ))
        .unwrap_err();
        assert_eq!(e.kind, ErrorKind::InvalidArgs);
        assert!(!e.is_transient());
        assert_eq!(
            e.to_string(),
            "invalid tool arguments: multiply: `b` must be a whole number, got \"twenty-three\""
        );
        let e = validate(&raw("multiply", vec![("a", Arg::Int(1))])).unwrap_err();
        assert!(e.to_string().contains("missing `b`"));
        let e = validate(&raw("launch_rocket", vec![])).unwrap_err();
        assert_eq!(e.kind, ErrorKind::UnknownTool);
        let e = validate(&raw(
            "send_email",
            vec![
                ("to", Arg::Text("bob".into())),
                ("subject", Arg::Text("hi".into())),
            ],
        ))
        .unwrap_err();
        assert!(e.to_string().contains("email address"));
    }

    #[test]
    fn a_lost_response_retried_without_a_key_charges_twice_with_one_once() {
        let charge = ToolCall::ChargeCard {
            customer: "cus_42".into(),
            amount_cents: 2500,
        };
        let faults = ToolFaults { lose_response: 1 };
        let mut w = World::default();
        assert_eq!(w.execute(&charge, None, 0, faults), Executed::Lost);
        assert!(matches!(
            w.execute(&charge, None, 1, faults),
            Executed::Ran(_)
        ));
        assert_eq!((w.effects.len(), w.duplicates()), (2, 1));

        let mut w = World::default();
        let key = Some(charge.key(1));
        assert_eq!(w.execute(&charge, key, 0, faults), Executed::Lost);
        assert!(matches!(
            w.execute(&charge, key, 1, faults),
            Executed::Deduplicated(_)
        ));
        assert_eq!((w.effects.len(), w.duplicates()), (1, 0));
    }
}
