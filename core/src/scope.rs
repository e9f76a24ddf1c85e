//! Scope fallback: try a bulk write on a small sample first.
//!
//! An agent that wants to change 100 records changes one test record, shows the result and
//! waits for a human to confirm before it touches the other 99. If the sample looks wrong, the
//! damage is one record, not a hundred.
//!
//! # Default
//! Off. The lab's card M turns it on with a sample of 1 record.

use crate::tools::ToolCall;
use crate::ConfigError;
use serde::{Deserialize, Serialize};

/// How much of a bulk write runs before a human confirms the rest.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScopePolicy {
    /// Records in the sample.
    pub sample: i64,
}

impl Default for ScopePolicy {
    fn default() -> Self {
        ScopePolicy { sample: 1 }
    }
}

impl ScopePolicy {
    /// Checks the sample is 1 to 1,000 records.
    pub fn validate(self) -> Result<Self, ConfigError> {
        if !(1..=1_000).contains(&self.sample) {
            return Err(ConfigError::new(
                "scope_sample",
                format!("must be 1 to 1000 (got {})", self.sample),
            ));
        }
        Ok(self)
    }

    /// Splits a bulk write into (sample, rest); `None` for calls that are not bulk writes or
    /// are no larger than the sample.
    pub fn split(&self, call: &ToolCall) -> Option<(ToolCall, ToolCall)> {
        match call {
            ToolCall::UpdateRecords {
                table,
                count,
                offset,
            } if *count > self.sample => Some((
                ToolCall::UpdateRecords {
                    table: table.clone(),
                    count: self.sample,
                    offset: *offset,
                },
                ToolCall::UpdateRecords {
                    table: table.clone(),
                    count: count - self.sample,
                    offset: offset + self.sample,
                },
            )),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bulk_update_splits_into_one_test_record_and_the_rest() {
        let call = ToolCall::UpdateRecords {
            table: "customers".into(),
            count: 100,
            offset: 0,
        };
        let (sample, rest) = ScopePolicy::default().split(&call).unwrap();
        assert_eq!(sample.to_string(), "update_records(\"customers\", 1)");
        assert_eq!(
            rest.to_string(),
            "update_records(\"customers\", 99, from record 1)"
        );
        assert_eq!(ScopePolicy { sample: 100 }.split(&call), None);
        assert_eq!(
            ScopePolicy::default().split(&ToolCall::Multiply { a: 1, b: 2 }),
            None
        );
    }
}
