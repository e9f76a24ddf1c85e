//! The lab: its settings, its cards A–N, and what each card says about its run.
//!
//! A card is one module in [`cards`]: its title and idea, the knobs that shape its run, how
//! the run is set up from the [`Settings`], and how its run is explained. A card on the page is
//! a function of (card, settings) → [`CardRun`]; everything the card shows (result, verdict,
//! tone, facts, the handout's lines, tags, transcript) is computed here, so the page only draws.
//!
//! The explanation is a function of the run alone ([`explain`]): its events and how it ended.
//! It never reads the settings that were meant to produce the run, so a card cannot say
//! something its own run contradicts.

pub mod cards;
pub mod explain;
pub mod knob;
pub mod settings;

pub use explain::{Explanation, Gauge, Tone};
pub use knob::{Choice, Knob, Place, Unit};
pub use settings::{knob, view_param, Injected, Notice, Settings, KNOBS};

use crate::agent::Driver;
use crate::agent::{AgentConfig, Outcome, RequestEnd, Run, Stop};
use crate::approval::Decision;
use crate::breaker::CircuitBreaker;
use crate::killswitch::KillSwitch;
use crate::recorded::{Recorded, Tape};
use crate::sim::{Sim, SimWorld};
use crate::time::{Micros, Secs};
use crate::trace::{Event, EventKind};
use serde::{Deserialize, Serialize};
use std::fmt::Write as _;

/// The lab's cards: A–F from the lab, G–N from the failure-first toolbox.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum CardId {
    /// Retry: the flaky model.
    A,
    /// Step cap: the looping model.
    B,
    /// Degrade: the model is down.
    C,
    /// Approval gate: the risky tool.
    D,
    /// Timeout: the slow call.
    E,
    /// Circuit breaker: the dead service.
    F,
    /// Unknown outcome and idempotency.
    G,
    /// Fallback ladder.
    H,
    /// Escalation and handoff.
    I,
    /// Budgets: turns, tokens, cost, wall time.
    J,
    /// Kill switch mid-run.
    K,
    /// Retry decision table.
    L,
    /// Scope fallback.
    M,
    /// Evaluator-optimizer.
    N,
}

impl CardId {
    /// All fourteen, in page order.
    pub const ALL: [CardId; 14] = [
        CardId::A,
        CardId::B,
        CardId::C,
        CardId::D,
        CardId::E,
        CardId::F,
        CardId::G,
        CardId::H,
        CardId::I,
        CardId::J,
        CardId::K,
        CardId::L,
        CardId::M,
        CardId::N,
    ];

    /// The lab's six, A–F.
    pub const LAB: &'static [CardId] = CardId::ALL.split_at(6).0;

    /// The failure-first toolbox, G–N.
    pub const TOOLBOX: &'static [CardId] = CardId::ALL.split_at(6).1;

    /// `A` … `N`.
    pub const fn letter(self) -> &'static str {
        self.card().letter
    }

    /// The card's definition.
    pub const fn card(self) -> &'static Card {
        CARDS[self as usize]
    }

    /// Parses `A` … `N` (either case).
    pub fn parse(s: &str) -> Option<CardId> {
        let s = s.trim();
        CardId::ALL
            .into_iter()
            .find(|id| id.letter().eq_ignore_ascii_case(s))
    }

    /// Does this card pause for a human decision?
    pub const fn takes_decision(self) -> bool {
        matches!(self, CardId::D | CardId::M)
    }
}

/// One card: what it shows and how its run is made and explained.
pub struct Card {
    /// Which card.
    pub id: CardId,
    /// `A` … `N`.
    pub letter: &'static str,
    /// The title.
    pub title: &'static str,
    /// The one-line idea.
    pub idea: &'static str,
    /// The settings that shape this card's run (its tag row). A property test checks the
    /// list: a knob left out never changes the run.
    pub knobs: &'static [&'static str],
    /// Facts of the card's pretend world that no knob sets (shown with the tags).
    pub world: &'static [(&'static str, &'static str)],
    /// The run's set-up.
    pub setup: fn(&Settings) -> Setup,
    /// A second run to compare with (the same payment without keys, F without a breaker), and
    /// what to call it.
    pub contrast: Option<(&'static str, SetupFn)>,
    /// What the card says about a run (and its contrast): from the runs alone.
    pub explain: fn(&explain::Reading, Option<&Run>) -> Explanation,
    /// Budget gauges: how much of each configured limit the run used (J).
    pub gauges: Option<fn(&Settings, &Run) -> Vec<Gauge>>,
}

/// Makes a run's set-up from the settings.
pub type SetupFn = fn(&Settings) -> Setup;

/// Every card, in [`CardId`] order.
pub const CARDS: [&Card; 14] = cards::ALL;

/// How a run is set up: the policy, the pretend world, and what the outside does.
#[derive(Clone, Debug)]
pub struct Setup {
    /// The agent's policy.
    pub cfg: AgentConfig,
    /// The pretend world.
    pub world: SimWorld,
    /// The kill switch (off, on, or set for a time).
    pub kill: KillSwitch,
    /// The human's answer when the run pauses at the gate, if given.
    pub decision: Option<Decision>,
    /// Many requests in a row instead of one run (F).
    pub series: Option<Series>,
}

impl Setup {
    /// One run of `cfg` in `world`.
    pub fn new(cfg: AgentConfig, world: SimWorld) -> Setup {
        Setup {
            cfg,
            world,
            kill: KillSwitch::OFF,
            decision: None,
            series: None,
        }
    }
}

/// Requests arriving one after another at a shared breaker.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Series {
    /// How many.
    pub requests: u32,
    /// One arrives every this long (or when the previous one is done, if later).
    pub interval: Micros,
}

/// One card's run: the run itself plus what the card says about it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CardRun {
    /// Which card.
    pub id: CardId,
    /// The run (for F, every request's events in one trace).
    pub run: Run,
    /// What shaped the run: each knob the card reads with its value as shown, then facts of
    /// its world.
    pub tags: Vec<(String, String)>,
    /// The verdict, tone, facts and the handout's lines.
    pub explanation: Explanation,
    /// The run compared with, and its label.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contrast: Option<(String, Run)>,
}

/// Runs card `id` with `settings` (clamped into range first) and explains it. (A card always
/// records its events: its explanation is read from them.)
pub fn run_card(id: CardId, settings: &Settings) -> CardRun {
    card_with(id, settings, None)
}

/// Like [`run_card`], with the kill switch going on at virtual time `at` (the page uses this
/// when the header switch is flipped while a card's replay is at `at`).
pub fn run_card_killed_at(id: CardId, settings: &Settings, at: Micros) -> CardRun {
    card_with(id, settings, Some(KillSwitch::at(at)))
}

fn card_with(id: CardId, settings: &Settings, kill: Option<KillSwitch>) -> CardRun {
    let s = settings.sanitized();
    let card = id.card();
    let mut setup = setup(id, &s);
    if let Some(k) = kill {
        setup.kill = k;
    }
    let run = simulate_setup(&setup, s.seed, true);
    let contrast = card.contrast.map(|(label, make)| {
        let mut other = make(&s);
        other.kill = setup.kill;
        (label.to_string(), simulate_setup(&other, s.seed, true))
    });
    describe(id, &s, run, contrast)
}

/// The card for a run that already exists (a replayed trace file, say): its tags, verdict and
/// facts.
pub fn describe(
    id: CardId,
    settings: &Settings,
    run: Run,
    contrast: Option<(String, Run)>,
) -> CardRun {
    let card = id.card();
    let reading = explain::Reading::new(&run);
    let mut explanation = (card.explain)(&reading, contrast.as_ref().map(|(_, r)| r));
    if let Some(gauges) = card.gauges {
        explanation.gauges = gauges(settings, &run);
    }
    CardRun {
        id,
        tags: tags(card, settings),
        explanation,
        contrast,
        run,
    }
}

/// The tag row: each knob the card reads, the header's kill switch when it is on, then the
/// card's world.
pub fn tags(card: &Card, s: &Settings) -> Vec<(String, String)> {
    let mut tags: Vec<(String, String)> = card
        .knobs
        .iter()
        .filter_map(|name| knob(name))
        .map(|k| (k.name.to_string(), shown(k, s)))
        .collect();
    if s.kill {
        tags.push(("kill".into(), "on".into()));
    }
    tags.extend(
        card.world
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string())),
    );
    tags
}

/// A knob's value as a tag shows it (a decision reads "waiting", "approved", "denied").
fn shown(k: &Knob, s: &Settings) -> String {
    let v = (k.get)(s);
    match k.unit {
        Unit::Choice(names) if names == knob::DECISIONS => {
            ["waiting", "approved", "denied"][(v as usize).min(2)].to_string()
        }
        _ => k.show(v),
    }
}

/// The set-up of card `id` with `s` (in range), with the header's kill switch applied.
pub fn setup(id: CardId, s: &Settings) -> Setup {
    let mut setup = (id.card().setup)(s);
    if s.kill {
        setup.kill = KillSwitch::ON;
    }
    setup
}

/// The engine alone: card `id`'s run, with no verdict or card text. `settings` must be in
/// range (links and controls only make such settings; [`Settings::sanitized`] clamps any
/// others): out of range, the engine refuses a policy and the run says so instead of running.
pub fn simulate(id: CardId, settings: &Settings, record: bool) -> Run {
    simulate_setup(&setup(id, settings), settings.seed, record)
}

/// Runs a set-up in the simulator. Never panics: a set-up the engine refuses (it cannot
/// happen with settings in range) gives a run that says so.
pub fn simulate_setup(setup: &Setup, seed: u64, record: bool) -> Run {
    run_setup(setup, setup.kill, seed, record, |_, seed| {
        let mut sim = Sim::new(&setup.world, seed);
        sim.answer(setup.decision);
        sim
    })
}

/// Replays a recording (driver 2) under card `id`'s policy with `settings`: no model, no
/// simulator, only the recorded replies. With the recording's own settings the run comes out
/// the same; with others, compare the events to see the first action that differs.
pub fn replay(id: CardId, settings: &Settings, tape: &Tape) -> Run {
    let s = settings.sanitized();
    let setup = setup(id, &s);
    let kill = tape.kill.map_or(setup.kill, KillSwitch::at);
    run_setup(&setup, kill, s.seed, true, |i, _| {
        Recorded::new(tape.requests.get(i as usize).map_or(&[], Vec::as_slice))
    })
}

/// Runs a set-up with a driver made for each request (`make(request, seed)`). Never panics:
/// a set-up the engine refuses gives a run that says so.
pub fn run_setup<D: Driver>(
    setup: &Setup,
    kill: KillSwitch,
    seed: u64,
    record: bool,
    make: impl FnMut(u32, u64) -> D,
) -> Run {
    if let Some(series) = setup.series {
        return run_series(setup, series, kill, seed, record, make);
    }
    let mut make = make;
    let mut agent = match setup.world.agent(setup.cfg.clone(), seed, record) {
        Ok(a) => a.with_kill_switch(kill),
        Err(e) => return refused(e),
    };
    let mut driver = make(0, seed);
    driver.drive(&mut agent);
    let mut run = agent.into_run();
    run.effects = driver.take_effects();
    run
}

/// A run the engine refused to start: its reason as the answer.
pub(crate) fn refused(e: crate::ConfigError) -> Run {
    Run {
        outcome: Outcome {
            answer: format!("Not run: {e}"),
            steps: 0,
            blocked: Vec::new(),
            degraded: true,
            stop: Stop::Degraded,
            counters: Default::default(),
            elapsed: 0,
            handoff: None,
        },
        trace: Vec::new(),
        effects: Vec::new(),
        awaiting: None,
        requests: Vec::new(),
    }
}

/// Many requests in a row, each a full agent run, all sharing one breaker (when the policy has
/// one). Request `i` arrives at `i × interval` (or when request `i - 1` is done, if later) and
/// uses seed `seed ^ i`.
fn run_series<D: Driver>(
    setup: &Setup,
    series: Series,
    kill: KillSwitch,
    seed: u64,
    record: bool,
    mut make: impl FnMut(u32, u64) -> D,
) -> Run {
    let mut breaker = setup.cfg.breaker.map(CircuitBreaker::new);
    let mut now: Micros = 0;
    let mut merged: Option<Run> = None;
    let mut ends = Vec::new();
    let mut effects = Vec::new();
    for i in 0..series.requests {
        now = now.max(i as Micros * series.interval);
        let seed_i = seed ^ i as u64;
        let agent = match setup.world.agent(setup.cfg.clone(), seed_i, record) {
            Ok(a) => a,
            Err(e) => return refused(e),
        };
        let mut agent = agent.starting_at(now).with_kill_switch(kill);
        if let Some(b) = breaker.take() {
            agent = agent.with_breaker(b);
        }
        let mut driver = make(i, seed_i);
        driver.drive(&mut agent);
        effects.extend(driver.take_effects());
        let start = now;
        now = agent.now();
        let (mut run, b) = agent.into_parts();
        breaker = b;
        let o = &run.outcome;
        ends.push(RequestEnd {
            stop: o.stop,
            start,
            calls: o.counters.model_calls,
            fast_fails: o.counters.fast_fails,
        });
        let killed = o.stop == Stop::Killed;
        let marker = Event {
            at: start,
            dur: 0,
            step: 0,
            kind: EventKind::Request { index: i },
        };
        merged = Some(match merged {
            None => {
                if record {
                    let mut trace = Vec::with_capacity(run.trace.len() * series.requests as usize);
                    trace.push(marker);
                    trace.append(&mut run.trace);
                    run.trace = trace;
                }
                run
            }
            Some(mut m) => {
                if record {
                    m.trace.push(marker);
                }
                let o = &mut m.outcome;
                let (c, r) = (&mut o.counters, run.outcome.counters);
                c.model_calls += r.model_calls;
                c.tool_calls += r.tool_calls;
                c.retries += r.retries;
                c.timeouts += r.timeouts;
                c.fast_fails += r.fast_fails;
                c.fallbacks += r.fallbacks;
                c.tokens += r.tokens;
                c.cost += r.cost;
                o.steps += run.outcome.steps;
                o.degraded |= run.outcome.degraded;
                o.stop = run.outcome.stop;
                m.trace.extend(run.trace);
                m
            }
        });
        if killed {
            break;
        }
    }
    let mut run =
        merged.unwrap_or_else(|| refused(crate::ConfigError::new("requests", "none".into())));
    run.outcome.elapsed = now;
    run.outcome.answer = explain::series_answer(series.requests, &ends);
    run.requests = ends;
    run.effects = effects;
    run
}

impl CardRun {
    /// The verdict in words.
    pub fn verdict(&self) -> &str {
        &self.explanation.verdict
    }

    /// Its tone.
    pub fn tone(&self) -> Tone {
        self.explanation.tone
    }

    /// A plain-text transcript of the run, to paste into a chat. `link` is the page's link.
    pub fn transcript(&self, link: &str) -> String {
        let card = self.id.card();
        let mut t = String::new();
        let _ = writeln!(
            t,
            "Agent Reliability Lab, card {}: {}",
            card.letter, card.title
        );
        let tags: Vec<String> = self.tags.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let _ = writeln!(t, "settings: {}", tags.join(" "));
        let _ = writeln!(t, "result: {}", self.run.outcome.lab_repr());
        for line in &self.explanation.lines {
            let _ = writeln!(t, "{line}");
        }
        let _ = writeln!(
            t,
            "verdict: {}: {}",
            self.explanation.tone.label(),
            self.explanation.verdict
        );
        for (k, v) in &self.explanation.facts {
            let _ = writeln!(t, "{k}: {v}");
        }
        let _ = writeln!(t, "trace:");
        for e in &self.run.trace {
            if matches!(e.kind, EventKind::Step) {
                continue;
            }
            let _ = writeln!(t, "  {:>8}  step {}  {}", Secs(e.at).to_string(), e.step, e);
        }
        if !link.is_empty() {
            let _ = writeln!(t, "link: {link}");
        }
        t
    }
}
