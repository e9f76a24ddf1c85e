//! Trace files: a run saved as versioned JSON, read back with clear errors, and replayed
//! against the engine through driver 2 ([`crate::recorded`]).
//!
//! A file names its format and version, the card (or the live run it came from), every
//! setting as a link query, the run (its outcome and events, for people and for comparison)
//! and its tape: every input the engine was given (model replies, tool results, errors,
//! timeouts, decisions). Reading checks each of those in turn, so a broken file says what is
//! wrong with it: not JSON, cut short, someone else's format, a version this lab does not
//! read, or a part that does not fit the schema.
//!
//! Replaying feeds the tape to a fresh agent under the file's policy: no model and no
//! simulator are involved, so a recording made against a real model replays offline. The
//! replayed run is compared with the file's, event by event; the first event that differs is
//! where this engine would act differently.

use crate::agent::Run;
use crate::lab::{replay as replay_card, CardId, CardRun, Settings};
use crate::recorded::{first_difference, Tape};
use crate::trace::EventKind;
use serde::{Deserialize, Serialize};
use std::fmt;

/// The `format` every trace file carries.
pub const FORMAT: &str = "agent-reliability-lab/trace";
/// The version this engine writes and reads: 2 added the tape (version 1 files have no
/// recorded replies to replay).
pub const VERSION: u32 = 2;

/// A saved run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TraceFile {
    /// Always [`FORMAT`].
    pub format: String,
    /// [`VERSION`] when written by this engine.
    pub version: u32,
    /// Where the run came from.
    pub source: Source,
    /// Every setting, as a link query.
    pub settings: String,
    /// The run.
    pub run: Run,
    /// Every input the engine was given.
    pub tape: Tape,
}

/// Where a saved run came from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// A card of the lab, simulated.
    Card(CardId),
    /// The live panel: a real model, by name (never the key, never the address).
    Live {
        /// The model's id.
        model: String,
    },
}

impl TraceFile {
    /// A file for a card's run.
    pub fn new(card: &CardRun, settings: &Settings) -> Self {
        TraceFile::of(Source::Card(card.id), &card.run, settings)
    }

    /// A file for `run` from `source`.
    pub fn of(source: Source, run: &Run, settings: &Settings) -> Self {
        TraceFile {
            format: FORMAT.to_string(),
            version: VERSION,
            source,
            settings: settings.to_full_query(),
            tape: Tape::of(run),
            run: run.clone(),
        }
    }

    /// The file's text (pretty JSON).
    pub fn to_json(&self) -> String {
        crate::json::to_string_pretty(self).unwrap_or_default()
    }

    /// The settings the file was made with (values this lab cannot read keep their defaults).
    pub fn settings(&self) -> Settings {
        Settings::from_query(&self.settings).0
    }
}

/// Why a trace file could not be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ImportError {
    /// Nothing in it.
    Empty,
    /// Not JSON at all.
    NotJson {
        /// The parser's words.
        detail: String,
    },
    /// The JSON stops in the middle.
    Truncated,
    /// JSON, but not a trace file of this lab.
    Foreign {
        /// Why not.
        detail: String,
    },
    /// Written by a newer lab.
    FutureVersion {
        /// Its version.
        version: u64,
    },
    /// Written by an older lab, in a version this one does not read.
    OldVersion {
        /// Its version.
        version: u64,
    },
    /// The right format and version, but a part does not fit.
    Invalid {
        /// What is wrong.
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
            ImportError::OldVersion { version } => write!(
                f,
                "this trace file is version {version}, made by an older lab: it holds no recorded replies to replay. Export the run again from this page"
            ),
            ImportError::Invalid { detail } => write!(f, "the trace file is damaged: {detail}"),
        }
    }
}

impl std::error::Error for ImportError {}

/// Reads a trace file, checking format, version and content in that order.
pub fn import(text: &str) -> Result<TraceFile, ImportError> {
    check_header(&parse(text)?)?;
    serde_json::from_str(text).map_err(|e| ImportError::Invalid {
        detail: e.to_string(),
    })
}

/// The file's JSON, or why it is not JSON.
fn parse(text: &str) -> Result<serde_json::Value, ImportError> {
    if text.trim().is_empty() {
        return Err(ImportError::Empty);
    }
    serde_json::from_str(text).map_err(|e| {
        if e.is_eof() {
            ImportError::Truncated
        } else {
            ImportError::NotJson {
                detail: e.to_string(),
            }
        }
    })
}

/// What replaying a saved run against this engine showed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReplayReport {
    /// The tool calls the file's run made.
    pub saved: Vec<String>,
    /// The tool calls the replay made.
    pub replayed: Vec<String>,
    /// The replay is the very same run.
    pub identical: bool,
    /// The first event that differs: (its number, the file's, the replay's).
    pub first_difference: Option<(usize, String, String)>,
}

impl ReplayReport {
    /// Same tool calls in the same order?
    pub fn same_tool_calls(&self) -> bool {
        self.saved == self.replayed
    }
}

/// Replays a file's tape under its own settings (driver 2) and compares with its run.
pub fn replay(file: &TraceFile) -> ReplayReport {
    let again = replay_file(file.source.clone(), &file.settings(), &file.tape);
    ReplayReport {
        saved: tool_calls(&file.run),
        replayed: tool_calls(&again),
        identical: again == file.run,
        first_difference: first_difference(&file.run.trace, &again.trace),
    }
}

/// Replays a tape from `source` under `settings`.
pub fn replay_file(source: Source, settings: &Settings, tape: &Tape) -> Run {
    match source {
        Source::Card(id) => replay_card(id, settings, tape),
        Source::Live { model } => crate::live::replay(settings, &model, tape),
    }
}

/// A trace file checked against this engine without reading its run into the engine's types
/// (the page's reader: it reads the header, the settings and the tape, replays the tape, and
/// compares the replay with the file's run as JSON; this keeps the web page's download small).
#[derive(Clone, Debug, PartialEq)]
pub struct Checked {
    /// Where the run came from.
    pub source: Source,
    /// The file's settings, as written.
    pub settings: String,
    /// The run this engine made from the file's tape.
    pub replayed: Run,
    /// How it compares.
    pub report: ReplayReport,
    /// The answer the file claims.
    pub saved_answer: String,
}

/// Reads a trace file for the page: the same checks and messages as [`import`], then a
/// replay of its tape (driver 2) compared with the file's run.
pub fn check(text: &str) -> Result<Checked, ImportError> {
    let value = parse(text)?;
    check_header(&value)?;
    let invalid = |detail: String| ImportError::Invalid { detail };
    let source = source(&value).map_err(invalid)?;
    let settings = value
        .get("settings")
        .and_then(|s| s.as_str())
        .ok_or_else(|| invalid("`settings` is not text".into()))?
        .to_string();
    let run = value
        .get("run")
        .ok_or_else(|| invalid("`run` is missing".into()))?;
    let tape = value
        .get("tape")
        .ok_or_else(|| invalid("`tape` is missing".into()))
        .and_then(|t| {
            crate::recorded::json::tape(t).map_err(|e| invalid(format!("the tape: {e}")))
        })?;
    let damaged = |detail: &str| ImportError::Invalid {
        detail: detail.to_string(),
    };
    let outcome = run
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
    let trace = run
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
    let replayed = replay_file(source.clone(), &Settings::from_query(&settings).0, &tape);
    // Values go through the same (pretty) writer the export uses: one serialiser in the page.
    fn as_value<T: Serialize>(x: &T) -> Option<serde_json::Value> {
        let text = crate::json::to_string_pretty(x).ok()?;
        serde_json::from_str(&text).ok()
    }
    let identical = as_value(&replayed).is_some_and(|v| &v == run);
    // The first event that differs, in words: the file's own line for it (its `detail`).
    let first_difference = (0..trace.len().max(replayed.trace.len())).find_map(|i| {
        let mine = replayed.trace.get(i);
        let theirs = trace.get(i);
        let same = match (mine.and_then(as_value), theirs) {
            (Some(a), Some(b)) => &a == b,
            (None, None) => true,
            _ => false,
        };
        (!same).then(|| {
            let said = theirs
                .and_then(|e| e.get("detail"))
                .and_then(|d| d.as_str())
                .unwrap_or("(none)")
                .to_string();
            (
                i,
                said,
                mine.map_or("(none)".to_string(), |e| e.to_string()),
            )
        })
    });
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
        source,
        settings,
        report: ReplayReport {
            saved,
            replayed: tool_calls(&replayed),
            identical,
            first_difference,
        },
        replayed,
        saved_answer,
    })
}

/// Where a file's run came from: `{"card": "A"}` or `{"live": {"model": "..."}}`.
fn source(file: &serde_json::Value) -> Result<Source, String> {
    let v = file.get("source").ok_or("`source` is missing")?;
    if let Some(card) = v.get("card") {
        return card
            .as_str()
            .and_then(CardId::parse)
            .map(Source::Card)
            .ok_or_else(|| {
                let card = crate::json::shown(card);
                format!("`source` names no card of this lab ({card})")
            });
    }
    v.get("live")
        .and_then(|l| l.get("model"))
        .and_then(|m| m.as_str())
        .map(|model| Source::Live {
            model: model.to_string(),
        })
        .ok_or_else(|| "`source` is neither a card nor a live run".to_string())
}

fn check_header(file: &serde_json::Value) -> Result<(), ImportError> {
    // First only the header, so that a foreign or future file is named as such rather than
    // reported as damaged.
    if !file.is_object() {
        return Err(ImportError::Foreign {
            detail: "its top level is not a trace file's (not an object)".into(),
        });
    }
    let format = file.get("format").and_then(|f| f.as_str());
    if let Some(f) = file.get("format").filter(|f| !f.is_string()) {
        return Err(ImportError::Foreign {
            detail: format!("its \"format\" is not text ({})", crate::json::shown(f)),
        });
    }
    if let Some(v) = file.get("version").filter(|v| !v.is_u64()) {
        return Err(ImportError::Invalid {
            detail: format!(
                "\"version\" is not a whole number ({})",
                crate::json::shown(v)
            ),
        });
    }
    let header_version = file.get("version").and_then(|v| v.as_u64());
    match format {
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
    match header_version {
        Some(v) if v == u64::from(VERSION) => {}
        Some(v) if v > u64::from(VERSION) => return Err(ImportError::FutureVersion { version: v }),
        Some(v) => return Err(ImportError::OldVersion { version: v }),
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

/// The version of a saved session.
pub const SESSION_VERSION: u32 = 1;

impl Session {
    /// A session for `settings`, with the replay of `playing` at the given virtual time.
    pub fn new(settings: &Settings, playing: Option<(CardId, u64)>) -> Self {
        Session {
            format: SESSION_FORMAT.to_string(),
            version: SESSION_VERSION,
            settings: settings.to_query(),
            playing,
        }
    }

    /// The stored text (pretty, like a trace file: the page carries one JSON writer).
    pub fn to_json(&self) -> String {
        crate::json::to_string_pretty(self).unwrap_or_default()
    }

    /// Reads a stored session; the error says what is wrong with it.
    pub fn parse(text: &str) -> Result<Session, String> {
        let v = stored(text, SESSION_FORMAT, SESSION_VERSION, "a saved session")?;
        let settings = v
            .get("settings")
            .and_then(|s| s.as_str())
            .ok_or("its settings are not text")?
            .to_string();
        let playing = match v.get("playing") {
            None | Some(serde_json::Value::Null) => None,
            Some(p) => match p.as_array().map(Vec::as_slice) {
                Some([card, at]) => Some((
                    card.as_str()
                        .and_then(CardId::parse)
                        .ok_or("it names no card of this lab")?,
                    at.as_u64().ok_or("its replay time is not a whole number")?,
                )),
                _ => return Err("its replay is not a [card, time] pair".into()),
            },
        };
        Ok(Session {
            format: SESSION_FORMAT.to_string(),
            version: SESSION_VERSION,
            settings,
            playing,
        })
    }
}

/// Reads stored JSON of the given format and version; the error says what is wrong with it.
fn stored(text: &str, format: &str, version: u32, what: &str) -> Result<serde_json::Value, String> {
    let v: serde_json::Value = serde_json::from_str(text).map_err(|e| {
        if e.is_eof() {
            "it is cut short".to_string()
        } else {
            format!("it is not {what} ({e})")
        }
    })?;
    match v.get("format").and_then(|f| f.as_str()) {
        Some(f) if f == format => {}
        Some(f) => return Err(format!("its format is {}", crate::quote(f))),
        None => return Err(format!("it is not {what} of this lab")),
    }
    match v.get("version").and_then(|v| v.as_u64()) {
        Some(n) if n == u64::from(version) => Ok(v),
        Some(n) => Err(format!(
            "it was saved in format version {n}; this page reads version {version}"
        )),
        None => Err("it has no version".to_string()),
    }
}

/// A run in progress saved after every input, so a reload resumes it: the live panel's
/// checkpoint. It holds the settings, the model and address, when the run started (wall
/// clock), and the tape of inputs so far; a fresh agent fed the tape is where the run was.
/// It never holds the API key.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Checkpoint {
    /// Always [`CHECKPOINT_FORMAT`].
    pub format: String,
    /// [`CHECKPOINT_VERSION`] when written by this engine.
    pub version: u32,
    /// Every setting, as a link query.
    pub settings: String,
    /// The model's id.
    pub model: String,
    /// The API's address (`{base}/v1/messages`).
    pub base: String,
    /// When the run started, in wall-clock milliseconds.
    pub started: f64,
    /// Every input so far.
    pub tape: Tape,
}

/// The `format` of a checkpoint.
pub const CHECKPOINT_FORMAT: &str = "agent-reliability-lab/checkpoint";
/// The version of a checkpoint this engine writes and reads.
pub const CHECKPOINT_VERSION: u32 = 1;

impl Checkpoint {
    /// A checkpoint of `run` (its events so far).
    pub fn new(settings: &Settings, model: &str, base: &str, started: f64, run: &Run) -> Self {
        Checkpoint {
            format: CHECKPOINT_FORMAT.to_string(),
            version: CHECKPOINT_VERSION,
            settings: settings.to_full_query(),
            model: model.to_string(),
            base: base.to_string(),
            started,
            tape: Tape::of(run),
        }
    }

    /// The stored text (pretty, like a trace file: the page carries one JSON writer).
    pub fn to_json(&self) -> String {
        crate::json::to_string_pretty(self).unwrap_or_default()
    }

    /// Reads a stored checkpoint; the error says what is wrong with it.
    pub fn parse(text: &str) -> Result<Checkpoint, String> {
        let v = stored(text, CHECKPOINT_FORMAT, CHECKPOINT_VERSION, "a checkpoint")?;
        let damaged = |what: &str| format!("it is damaged ({what})");
        let text_of = |name: &str| {
            v.get(name)
                .and_then(|s| s.as_str())
                .map(str::to_string)
                .ok_or_else(|| damaged(&format!("`{name}` is not text")))
        };
        Ok(Checkpoint {
            format: CHECKPOINT_FORMAT.to_string(),
            version: CHECKPOINT_VERSION,
            settings: text_of("settings")?,
            model: text_of("model")?,
            base: text_of("base")?,
            started: v
                .get("started")
                .and_then(|s| s.as_f64())
                .ok_or_else(|| damaged("`started` is not a number"))?,
            tape: crate::recorded::json::tape(v.get("tape").unwrap_or(&serde_json::Value::Null))
                .map_err(|e| damaged(&format!("the tape: {e}")))?,
        })
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
    fn a_checkpoint_round_trips_and_never_holds_a_key() {
        let s = Settings::default();
        let run = run_card(CardId::A, &s).run;
        let c = Checkpoint::new(
            &s,
            "claude-haiku-4-5",
            "https://api.anthropic.com",
            1e12,
            &run,
        );
        let json = c.to_json();
        assert_eq!(Checkpoint::parse(&json), Ok(c));
        assert!(!json.contains("key") || !json.contains("sk-"));
        assert!(Checkpoint::parse("{\"format\":")
            .unwrap_err()
            .contains("cut short"));
        let old = json.replacen("\"version\": 1", "\"version\": 0", 1);
        assert_ne!(old, json, "the test edits the version");
        assert!(Checkpoint::parse(&old)
            .unwrap_err()
            .contains("format version 0"));
        assert!(Checkpoint::parse("[]")
            .unwrap_err()
            .contains("not a checkpoint"));
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
        let future = json.replacen("\"version\": 2", "\"version\": 7", 1);
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
