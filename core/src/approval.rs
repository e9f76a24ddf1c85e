//! The approval gate: risky tools need a human yes.
//!
//! Safe tools (multiply) run freely. Risky, world-changing tools (send an email, charge a
//! payment, delete records) run only when a human approves. Deny is the default: with nobody
//! to ask, the tool is blocked. A run that asks ([`Approver::Ask`]) pauses at the gate until the
//! caller decides; an optional deadline turns silence into a denial and an escalation.

use crate::time::Micros;
use serde::{Deserialize, Serialize};

/// How risky a tool is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Risk {
    /// Runs without asking.
    Safe,
    /// Changes the world: needs approval.
    Risky,
}

/// A human's answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    /// Yes: run it.
    Approve,
    /// No: block it.
    Deny,
}

/// Who answers at the gate.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Approver {
    /// Nobody: every risky tool is blocked (the default).
    #[default]
    DenyAll,
    /// A human who says yes to everything (the lab's "human approves").
    ApproveAll,
    /// Pause the run and let the caller decide.
    Ask,
}

/// What the gate does with one tool call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Gate {
    /// Run the tool.
    Run,
    /// Block it.
    Block,
    /// Pause and wait for a decision.
    Wait,
}

/// The approval policy of a run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApprovalPolicy {
    /// Who answers.
    pub approver: Approver,
    /// With [`Approver::Ask`]: how long a paused run waits before the request is denied and
    /// escalated. `None` waits for ever.
    pub deadline: Option<Micros>,
}

impl ApprovalPolicy {
    /// The gate's answer for a tool of `risk`.
    pub const fn gate(&self, risk: Risk) -> Gate {
        match (risk, self.approver) {
            (Risk::Safe, _) | (Risk::Risky, Approver::ApproveAll) => Gate::Run,
            (Risk::Risky, Approver::DenyAll) => Gate::Block,
            (Risk::Risky, Approver::Ask) => Gate::Wait,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deny_by_default_safe_tools_pass() {
        let p = ApprovalPolicy::default();
        assert_eq!(p.gate(Risk::Risky), Gate::Block);
        assert_eq!(p.gate(Risk::Safe), Gate::Run);
    }

    #[test]
    fn an_approver_lets_risky_tools_run_and_ask_pauses() {
        let yes = ApprovalPolicy {
            approver: Approver::ApproveAll,
            deadline: None,
        };
        assert_eq!(yes.gate(Risk::Risky), Gate::Run);
        let ask = ApprovalPolicy {
            approver: Approver::Ask,
            deadline: None,
        };
        assert_eq!(ask.gate(Risk::Risky), Gate::Wait);
        assert_eq!(ask.gate(Risk::Safe), Gate::Run);
    }
}
