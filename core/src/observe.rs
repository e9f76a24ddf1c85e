//! Observability over many runs: error rates, retries, top errors, fallback use, alerts, and
//! a structured log that exports as JSON lines.

use crate::agent::Stop;
use crate::lab::CardRun;
use crate::time::{fixed, shortest};
use crate::trace::{EventKind, Target};
use serde::{Deserialize, Serialize};
use std::cmp::Ordering;

/// Error rate of one target (a model or a tool).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TargetStats {
    /// `model flaky`, `tool charge_card`.
    pub target: String,
    /// Attempts made.
    pub attempts: u32,
    /// Attempts that failed.
    pub errors: u32,
}

impl TargetStats {
    /// errors / attempts (0 when there were none).
    pub fn rate(&self) -> f64 {
        if self.attempts == 0 {
            0.0
        } else {
            self.errors as f64 / self.attempts as f64
        }
    }
}

/// A threshold that was crossed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Alert {
    /// What to look at.
    pub message: String,
}

/// The panel's numbers.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Metrics {
    /// Runs counted (one per card).
    pub runs: u32,
    /// Error rate by target, worst first.
    pub by_target: Vec<TargetStats>,
    /// Retries per run, on average.
    pub avg_retries: f64,
    /// Error types by count, most first.
    pub top_errors: Vec<(String, u32)>,
    /// Steps down a fallback ladder, in all.
    pub fallbacks: u32,
    /// Runs that used a fallback.
    pub runs_with_fallback: u32,
    /// Thresholds crossed.
    pub alerts: Vec<Alert>,
}

/// When the panel raises an alert.
pub mod thresholds {
    /// A target failing more than this share of its attempts.
    pub const ERROR_RATE: f64 = 0.5;
    /// More retries per run than this, on average.
    pub const AVG_RETRIES: f64 = 1.0;
}

/// Builds the panel one run at a time (so a caller need not gather every run first).
#[derive(Clone, Debug, Default)]
pub struct MetricsBuilder {
    m: Metrics,
    // Lists, not maps: a dozen entries at most, sorted once at the end (the page then carries
    // no B-tree code for them).
    targets: Vec<TargetStats>,
    errors: Vec<(String, u32)>,
    retries: u32,
    alerts: Vec<String>,
}

impl MetricsBuilder {
    /// Counts one card's run.
    pub fn add(&mut self, card: &CardRun) {
        let m = &mut self.m;
        m.runs += 1;
        let o = &card.run.outcome;
        self.retries += o.counters.retries;
        m.fallbacks += o.counters.fallbacks;
        if o.counters.fallbacks > 0 {
            m.runs_with_fallback += 1;
        }
        if o.counters.duplicates > 0 {
            self.alerts.push(format!(
                "card {}: {} duplicate side effect{} (a retried write without an idempotency key)",
                card.id.letter(),
                o.counters.duplicates,
                if o.counters.duplicates == 1 { "" } else { "s" }
            ));
        }
        match o.stop {
            Stop::Escalated => self
                .alerts
                .push(format!("card {}: escalated to a human", card.id.letter())),
            Stop::Cap(cap) => self.alerts.push(format!(
                "card {}: the {} cap stopped a run",
                card.id.letter(),
                cap.name()
            )),
            _ => {}
        }
        for e in &card.run.trace {
            if let EventKind::Attempt { target, error, .. } = &e.kind {
                let name = target.to_string();
                let targets = &mut self.targets;
                let i = match targets.iter().position(|t| t.target == name) {
                    Some(i) => i,
                    None => {
                        targets.push(TargetStats {
                            target: name,
                            attempts: 0,
                            errors: 0,
                        });
                        targets.len() - 1
                    }
                };
                let t = &mut targets[i];
                t.attempts += 1;
                if let Some(err) = error {
                    t.errors += 1;
                    let kind = err.kind.label();
                    match self.errors.iter_mut().find(|(k, _)| *k == kind) {
                        Some((_, n)) => *n += 1,
                        None => self.errors.push((kind, 1)),
                    }
                }
            }
        }
    }

    /// The panel's numbers.
    pub fn finish(self) -> Metrics {
        let MetricsBuilder {
            mut m,
            targets,
            errors,
            retries,
            mut alerts,
        } = self;
        // Both orders are total (names are unique), so the order counted in does not matter.
        m.by_target = targets;
        sort_short(&mut m.by_target, |a, b| {
            b.rate().total_cmp(&a.rate()).then(a.target.cmp(&b.target))
        });
        m.top_errors = errors;
        sort_short(&mut m.top_errors, |a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        m.avg_retries = if m.runs == 0 {
            0.0
        } else {
            retries as f64 / m.runs as f64
        };
        for t in &m.by_target {
            if t.attempts >= 2 && t.rate() > thresholds::ERROR_RATE {
                alerts.insert(
                    0,
                    format!(
                        "{} fails {}% of its calls ({} of {})",
                        t.target,
                        fixed(t.rate() * 100.0, 0),
                        t.errors,
                        t.attempts
                    ),
                );
            }
        }
        if m.avg_retries > thresholds::AVG_RETRIES {
            alerts.push(format!(
                "{} retries per run on average (over {})",
                fixed(m.avg_retries, 2),
                shortest(thresholds::AVG_RETRIES)
            ));
        }
        m.alerts = alerts
            .into_iter()
            .map(|message| Alert { message })
            .collect();
        m
    }
}

/// Sorts a short list by `cmp`, keeping equal items in order (as `sort_by` does): the standard
/// sort would cost the page a few KB of WebAssembly per item type, for lists of a dozen.
fn sort_short<T>(v: &mut [T], mut cmp: impl FnMut(&T, &T) -> Ordering) {
    for i in 1..v.len() {
        let mut j = i;
        while j > 0 && cmp(&v[j - 1], &v[j]) == Ordering::Greater {
            v.swap(j - 1, j);
            j -= 1;
        }
    }
}

/// Computes the panel over `cards`.
pub fn metrics<'a>(cards: impl IntoIterator<Item = &'a CardRun>) -> Metrics {
    let mut b = MetricsBuilder::default();
    for card in cards {
        b.add(card);
    }
    b.finish()
}

/// One line of the structured log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogLine {
    /// The run's trace id: card letter and seed.
    pub trace_id: String,
    /// The step.
    pub step: u32,
    /// The model or tool called.
    pub tool: String,
    /// The error type, if the call failed.
    pub error_type: Option<String>,
    /// Retries so far in this run.
    pub retries: u32,
    /// How long the call took, in virtual microseconds.
    pub duration_us: u64,
    /// When it began, in virtual microseconds.
    pub at_us: u64,
}

/// The structured log of `cards`: one line per call attempt.
pub fn log<'a>(cards: impl IntoIterator<Item = &'a CardRun>, seed: u64) -> Vec<LogLine> {
    let mut lines = Vec::new();
    for card in cards {
        let trace_id = format!("{}-{seed}", card.id.letter());
        let mut retries = 0;
        for e in &card.run.trace {
            match &e.kind {
                EventKind::Backoff { .. } => retries += 1,
                EventKind::Attempt { target, error, .. } => lines.push(LogLine {
                    trace_id: trace_id.clone(),
                    step: e.step,
                    tool: match target {
                        Target::Model(n) => format!("model:{n}"),
                        Target::Tool(n) => n.to_string(),
                    },
                    error_type: error.as_ref().map(|err| err.kind.label()),
                    retries,
                    duration_us: e.dur,
                    at_us: e.at,
                }),
                _ => {}
            }
        }
    }
    lines
}

/// The log as JSON lines.
pub fn to_jsonl(lines: &[LogLine]) -> String {
    let mut out = String::new();
    for l in lines {
        out.push_str(&crate::json::to_string(l).unwrap_or_default());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lab::{run_card, CardId, Settings};

    #[test]
    fn the_short_sort_orders_like_the_standard_stable_sort() {
        let mut r = crate::rng::Rng::stream(3, 0);
        for len in 0..40 {
            let v: Vec<(u64, usize)> = (0..len).map(|i| (r.next_u64() % 5, i)).collect();
            let (mut ours, mut std) = (v.clone(), v);
            sort_short(&mut ours, |a, b| b.0.cmp(&a.0));
            std.sort_by_key(|a| std::cmp::Reverse(a.0));
            assert_eq!(ours, std);
        }
    }

    #[test]
    fn targets_and_errors_are_ordered_as_by_a_sorted_map() {
        use std::collections::BTreeMap;
        for failures in 0..4 {
            let s = Settings {
                failures,
                ..Settings::default()
            };
            let cards: Vec<CardRun> = CardId::ALL.iter().map(|id| run_card(*id, &s)).collect();
            let m = metrics(&cards);
            // What the panel showed when it counted in sorted maps and sorted with sort_by.
            let mut targets: BTreeMap<String, (u32, u32)> = BTreeMap::new();
            let mut errors: BTreeMap<String, u32> = BTreeMap::new();
            for e in cards.iter().flat_map(|c| &c.run.trace) {
                if let EventKind::Attempt { target, error, .. } = &e.kind {
                    let t = targets.entry(target.to_string()).or_default();
                    t.0 += 1;
                    if let Some(err) = error {
                        t.1 += 1;
                        *errors.entry(err.kind.label()).or_default() += 1;
                    }
                }
            }
            let rate = |t: &(String, (u32, u32))| t.1 .1 as f64 / t.1 .0 as f64;
            let mut want: Vec<(String, (u32, u32))> = targets.into_iter().collect();
            want.sort_by(|a, b| rate(b).total_cmp(&rate(a)).then(a.0.cmp(&b.0)));
            let got: Vec<(String, (u32, u32))> = m
                .by_target
                .iter()
                .map(|t| (t.target.clone(), (t.attempts, t.errors)))
                .collect();
            assert_eq!(got, want);
            let mut want: Vec<(String, u32)> = errors.into_iter().collect();
            want.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
            assert_eq!(m.top_errors, want);
        }
    }

    #[test]
    fn the_panel_counts_errors_retries_and_raises_alerts() {
        let s = Settings::default();
        let cards: Vec<CardRun> = CardId::ALL.iter().map(|id| run_card(*id, &s)).collect();
        let m = metrics(&cards);
        assert_eq!(m.runs, 14);
        assert!(m.top_errors.iter().any(|(k, n)| k == "503" && *n > 0));
        assert!(m.fallbacks >= 1, "H uses the backup");
        assert!(m
            .alerts
            .iter()
            .any(|a| a.message.contains("duplicate side effect")));
        assert!(m
            .alerts
            .iter()
            .any(|a| a.message.contains("model down fails 100%")));
        let lines = log(&cards, s.seed);
        assert!(lines
            .iter()
            .any(|l| l.trace_id == "A-1" && l.error_type.as_deref() == Some("503")));
        let jsonl = to_jsonl(&lines);
        assert_eq!(jsonl.lines().count(), lines.len());
        let first: LogLine = serde_json::from_str(jsonl.lines().next().unwrap()).unwrap();
        assert_eq!(first, lines[0]);
    }
}
