//! Trace files: a card's run saved as versioned JSON, read back with clear errors, and replayed
//! against the engine.
//!
//! A file names its format and version, the scenario, the settings as a permalink query (the
//! same text the address bar holds) and the run. Reading checks each of those in turn, so a
//! broken file says what is wrong with it: not JSON, cut short, someone else's format, a
//! version from the future, or a run that does not fit the schema.

use crate::agent::Run;
use crate::lab::{simulate, CardId, CardRun, Settings};
use crate::trace::EventKind;
use serde::{Deserialize, Serialize};
use std::fmt;

/// The `format` every trace file carries.
pub const FORMAT: &str = "agent-reliability-lab/trace";
/// The version this engine writes and reads.
pub const VERSION: u32 = 1;

/// A saved run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TraceFile {
    /// Always [`FORMAT`].
    pub format: String,
    /// The format version ([`VERSION`]).
    pub version: u32,
    /// Which card.
    pub scenario: CardId,
    /// The settings, as a permalink query.
    pub settings: String,
    /// The run.
    pub run: Run,
}

impl TraceFile {
    /// A file for `card`, run with `settings`.
    pub fn new(card: &CardRun, settings: &Settings) -> Self {
        TraceFile {
            format: FORMAT.to_string(),
            version: VERSION,
            scenario: card.id,
            settings: settings.to_full_query(),
            run: card.run.clone(),
        }
    }

    /// The file's text (pretty JSON).
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// The settings the run was made with.
    pub fn settings(&self) -> Settings {
        Settings::from_query(&self.settings).0
    }
}

/// Why a trace file could not be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ImportError {
    /// The file is empty.
    Empty,
    /// Not JSON at all.
    NotJson {
        /// Where, and what the parser said.
        detail: String,
    },
    /// JSON that stops in the middle: a truncated file.
    Truncated,
    /// JSON, but not a trace file of this lab.
    Foreign {
        /// What it looked like instead.
        detail: String,
    },
    /// A trace file from a newer version of the lab.
    FutureVersion {
        /// The file's version.
        version: u64,
    },
    /// A trace file of this version whose content does not fit.
    Invalid {
        /// Which part, and why.
        detail: String,
    },
}

impl fmt::Display for ImportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ImportError::Empty => f.write_str("the file is empty"),
            ImportError::NotJson { detail } => write!(f, "this is not a trace file: it is not JSON ({detail})"),
            ImportError::Truncated => f.write_str("the file is cut short: the JSON stops in the middle (was the download interrupted?)"),
            ImportError::Foreign { detail } => write!(f, "this JSON is not a trace file of this lab ({detail})"),
            ImportError::FutureVersion { version } => write!(
                f,
                "this trace file is version {version}, made by a newer lab; this page reads version {VERSION}"
            ),
            ImportError::Invalid { detail } => write!(f, "the trace file is damaged: {detail}"),
        }
    }
}

impl std::error::Error for ImportError {}

/// Reads a trace file, checking format, version and content in that order.
pub fn import(text: &str) -> Result<TraceFile, ImportError> {
    check_header(text)?;
    serde_json::from_str(text).map_err(|e| ImportError::Invalid {
        detail: e.to_string(),
    })
}

/// A trace file checked against this engine without reading its run into the engine's types
/// (the page's reader: the engine is deterministic, so it re-runs the file's settings and
/// compares; this keeps the web page's download small).
#[derive(Clone, Debug, PartialEq)]
pub struct Checked {
    /// Which card.
    pub scenario: CardId,
    /// The settings the file was made with (a permalink query).
    pub settings: String,
    /// This engine's run for those settings.
    pub replayed: Run,
    /// The comparison.
    pub report: ReplayReport,
    /// The file's own answer, for when it differs.
    pub saved_answer: String,
}

/// Reads a trace file for the page: the same checks and messages as [`import`], then a
/// replay of its settings compared with the file's run.
pub fn check(text: &str) -> Result<Checked, ImportError> {
    check_header(text)?;
    #[derive(Deserialize)]
    struct Light {
        scenario: CardId,
        settings: String,
        run: serde_json::Value,
    }
    let file: Light = serde_json::from_str(text).map_err(|e| ImportError::Invalid {
        detail: e.to_string(),
    })?;
    let damaged = |detail: &str| ImportError::Invalid {
        detail: detail.to_string(),
    };
    let outcome = file
        .run
        .get("outcome")
        .ok_or_else(|| damaged("the run has no outcome"))?;
    let saved_answer = outcome
        .get("answer")
        .and_then(|a| a.as_str())
        .ok_or_else(|| damaged("the outcome's answer is not text"))?
        .to_string();
    if outcome.get("steps").and_then(|v| v.as_u64()).is_none() {
        return Err(damaged("the outcome's steps is not a whole number"));
    }
    let trace = file
        .run
        .get("trace")
        .and_then(|t| t.as_array())
        .ok_or_else(|| damaged("the run's trace is not a list of events"))?;
    let mut saved_calls = Vec::new();
    for event in trace {
        let Some(kind) = event.get("kind") else {
            return Err(damaged("an event has no kind"));
        };
        if let Some(call) = kind.get("tool_requested").and_then(|t| t.get("call")) {
            saved_calls.push(call);
        }
    }
    let settings = (Settings::from_query(&file.settings).0).sanitized();
    let replayed = simulate(file.scenario, &settings, true);
    // Values go through the same (pretty) writer the export uses: one serialiser in the page.
    fn as_value<T: Serialize>(x: &T) -> Option<serde_json::Value> {
        let text = serde_json::to_string_pretty(x).ok()?;
        serde_json::from_str(&text).ok()
    }
    let identical = as_value(&replayed).is_some_and(|v| v == file.run);
    // The file's calls are named like the engine's where they match, else shown as JSON.
    let replayed_calls: Vec<&crate::tools::ToolCall> = replayed
        .trace
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::ToolRequested { call } => Some(call),
            _ => None,
        })
        .collect();
    let saved = saved_calls
        .iter()
        .enumerate()
        .map(|(i, v)| match replayed_calls.get(i) {
            Some(c) if as_value(*c).as_ref() == Some(*v) => c.to_string(),
            // A call this engine would not make: name the tool, not its arguments.
            _ => match v.as_object().and_then(|o| o.keys().next()) {
                Some(tool) => format!("{tool}(other arguments)"),
                None => "an unreadable call".to_string(),
            },
        })
        .collect();
    Ok(Checked {
        scenario: file.scenario,
        settings: file.settings,
        report: ReplayReport {
            saved,
            replayed: tool_calls(&replayed),
            identical,
        },
        replayed,
        saved_answer,
    })
}

fn check_header(text: &str) -> Result<(), ImportError> {
    if text.trim().is_empty() {
        return Err(ImportError::Empty);
    }
    // First only the header, so that a foreign or future file is named as such rather than
    // reported as damaged.
    #[derive(Deserialize)]
    struct Header {
        #[serde(default)]
        format: Option<String>,
        #[serde(default)]
        version: Option<u64>,
    }
    let header: Header = serde_json::from_str(text).map_err(|e| match e.classify() {
        serde_json::error::Category::Eof => ImportError::Truncated,
        serde_json::error::Category::Syntax | serde_json::error::Category::Io => {
            ImportError::NotJson {
                detail: e.to_string(),
            }
        }
        serde_json::error::Category::Data => ImportError::Foreign {
            detail: format!("its top level is not a trace file's ({e})"),
        },
    })?;
    match header.format.as_deref() {
        Some(FORMAT) => {}
        Some(other) => {
            return Err(ImportError::Foreign {
                detail: format!(
                    "its format is {}, not {}",
                    crate::quote(other),
                    crate::quote(FORMAT)
                ),
            })
        }
        None => {
            return Err(ImportError::Foreign {
                detail: "it has no \"format\" field".into(),
            })
        }
    }
    match header.version {
        Some(v) if v == u64::from(VERSION) => {}
        Some(v) if v > u64::from(VERSION) => return Err(ImportError::FutureVersion { version: v }),
        Some(v) => {
            return Err(ImportError::Invalid {
                detail: format!("version {v} is not one this page reads"),
            })
        }
        None => {
            return Err(ImportError::Invalid {
                detail: "\"version\" is missing".into(),
            })
        }
    }
    Ok(())
}

/// The browser's saved session: what the page was showing, so that a reload (or a crash)
/// resumes exactly there.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    /// Always [`SESSION_FORMAT`].
    pub format: String,
    /// [`VERSION`].
    pub version: u32,
    /// The settings, as a permalink query.
    pub settings: String,
    /// The card whose replay was playing, and how far it had got.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub playing: Option<(CardId, u64)>,
}

/// The `format` of a saved session.
pub const SESSION_FORMAT: &str = "agent-reliability-lab/session";

impl Session {
    /// A session for `settings`, with the replay of `playing` at the given virtual time.
    pub fn new(settings: &Settings, playing: Option<(CardId, u64)>) -> Self {
        Session {
            format: SESSION_FORMAT.to_string(),
            version: VERSION,
            settings: settings.to_query(),
            playing,
        }
    }

    /// The stored text.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Reads a stored session; the error says what is wrong with it.
    pub fn parse(text: &str) -> Result<Session, String> {
        let s: Session = serde_json::from_str(text).map_err(|e| {
            if e.is_eof() {
                "it is cut short".to_string()
            } else {
                format!("it is not a saved session ({e})")
            }
        })?;
        if s.format != SESSION_FORMAT {
            return Err(format!("its format is {}", crate::quote(&s.format)));
        }
        if s.version != VERSION {
            return Err(format!(
                "it is version {}; this page reads version {VERSION}",
                s.version
            ));
        }
        Ok(s)
    }
}

/// The tool calls a run made, in order, as text.
pub fn tool_calls(run: &Run) -> Vec<String> {
    run.trace
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::ToolRequested { call } => Some(call.to_string()),
            _ => None,
        })
        .collect()
}

/// What replaying a saved run against this engine showed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReplayReport {
    /// The saved run's tool calls.
    pub saved: Vec<String>,
    /// The engine's tool calls for the same settings.
    pub replayed: Vec<String>,
    /// True when the whole run (outcome and trace) is identical.
    pub identical: bool,
}

impl ReplayReport {
    /// Same tool calls, in the same order?
    pub fn same_tool_calls(&self) -> bool {
        self.saved == self.replayed
    }
}

/// Re-runs a saved file's scenario with its settings and compares.
pub fn replay(file: &TraceFile) -> ReplayReport {
    let settings = (file.settings()).sanitized();
    let again = simulate(file.scenario, &settings, true);
    ReplayReport {
        saved: tool_calls(&file.run),
        replayed: tool_calls(&again),
        identical: again == file.run,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lab::run_card;

    fn file() -> TraceFile {
        let s = Settings::default();
        TraceFile::new(&run_card(CardId::A, &s), &s)
    }

    #[test]
    fn a_file_round_trips_and_replays_identically() {
        let f = file();
        let back = import(&f.to_json()).unwrap();
        assert_eq!(back, f);
        let r = replay(&back);
        assert!(r.identical && r.same_tool_calls());
        assert_eq!(r.saved, vec!["multiply(17, 23)"]);
    }

    #[test]
    fn the_light_reader_agrees_with_the_full_one() {
        let json = file().to_json();
        let c = check(&json).unwrap();
        assert!(c.report.identical && c.report.same_tool_calls());
        assert_eq!(c.replayed, file().run);
        assert_eq!(c.report, replay(&import(&json).unwrap()));
        let edited = json.replacen("The answer is 391.", "The answer is 42.", 1);
        let c = check(&edited).unwrap();
        assert!(!c.report.identical && c.report.same_tool_calls());
        assert_eq!(c.saved_answer, "The answer is 42.");
        for bad in [
            "",
            &json[..json.len() / 2],
            "hello",
            r#"{"format":"chrome-trace","version":1}"#,
        ] {
            assert_eq!(
                check(bad).unwrap_err(),
                import(bad).unwrap_err(),
                "{bad:.30}"
            );
        }
        let damaged = json.replacen("\"steps\": 2", "\"steps\": \"two\"", 1);
        assert!(matches!(check(&damaged), Err(ImportError::Invalid { .. })));
    }

    #[test]
    fn a_session_round_trips_and_corrupt_storage_is_named() {
        let s = Settings::default();
        let session = Session::new(&s, Some((CardId::B, 40_000)));
        assert_eq!(Session::parse(&session.to_json()), Ok(session));
        assert!(Session::parse("{\"format\":")
            .unwrap_err()
            .contains("cut short"));
        assert!(Session::parse("garbage")
            .unwrap_err()
            .contains("not a saved session"));
        let future = Session {
            version: 9,
            ..Session::new(&s, None)
        };
        assert!(Session::parse(&future.to_json())
            .unwrap_err()
            .contains("version 9"));
    }

    #[test]
    fn each_kind_of_bad_file_says_what_is_wrong() {
        let json = file().to_json();
        assert_eq!(import("  "), Err(ImportError::Empty));
        assert_eq!(import(&json[..json.len() / 2]), Err(ImportError::Truncated));
        assert!(matches!(import("hello"), Err(ImportError::NotJson { .. })));
        assert!(matches!(import("[1,2]"), Err(ImportError::Foreign { .. })));
        assert!(matches!(
            import(r#"{"format":"chrome-trace","version":1}"#),
            Err(ImportError::Foreign { .. })
        ));
        let future = json.replacen("\"version\": 1", "\"version\": 7", 1);
        assert_eq!(
            import(&future),
            Err(ImportError::FutureVersion { version: 7 })
        );
        assert!(import(&future)
            .unwrap_err()
            .to_string()
            .contains("version 7, made by a newer lab"));
        let damaged = json.replacen("\"steps\": 2", "\"steps\": \"two\"", 1);
        assert!(matches!(import(&damaged), Err(ImportError::Invalid { .. })));
    }
}
