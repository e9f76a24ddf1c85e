//! One engine, several drivers: a recorded run replays without the simulator, and a run
//! checkpointed anywhere continues to the same end. Property tests are native only.
#![cfg(not(target_arch = "wasm32"))]

use proptest::prelude::*;
use reliability_core::agent::Driver;
use reliability_core::agent::{Agent, Run};
use reliability_core::lab::{replay, run_card, setup, CardId, Settings, KNOBS};
use reliability_core::recorded::{first_difference, Recorded, Tape};
use reliability_core::sim::Sim;

fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases,
        ..ProptestConfig::default()
    }
}

fn settings() -> impl Strategy<Value = Settings> {
    prop::collection::vec((any::<bool>(), any::<u64>()), KNOBS.len()).prop_map(|picks| {
        let mut s = Settings::default();
        for (k, (change, pick)) in KNOBS.iter().zip(picks) {
            if change {
                let n = ((k.max - k.min) / k.step).round() as u64 + 1;
                let v = k.min + (pick % n) as f64 * k.step;
                s.set(k.name, (v * 1e6).round() / 1e6).unwrap();
            }
        }
        s
    })
}

fn card() -> impl Strategy<Value = CardId> {
    prop::sample::select(CardId::ALL.to_vec())
}

/// The agent and simulator a card's run starts from (single-run cards only).
fn start(id: CardId, s: &Settings) -> (Agent, reliability_core::lab::Setup) {
    let setup = setup(id, &s.sanitized());
    let agent = setup
        .world
        .agent(setup.cfg.clone(), s.seed, true)
        .unwrap()
        .with_kill_switch(setup.kill);
    (agent, setup)
}

fn finish(mut agent: Agent, sim: &mut Sim) -> Run {
    sim.drive(&mut agent);
    let mut run = agent.into_run();
    run.effects = sim.take_effects();
    run
}

proptest! {
    #![proptest_config(config(2_000))]

    /// Driver 2 reproduces every card's run from its recording alone.
    #[test]
    fn a_recording_replays_to_the_same_run(id in card(), s in settings()) {
        let run = run_card(id, &s).run;
        let again = replay(id, &s, &Tape::of(&run));
        prop_assert_eq!(first_difference(&run.trace, &again.trace), None);
        prop_assert_eq!(again, run);
    }

    /// The page's hand-written tape reader reads exactly what the derived writer wrote (and
    /// what the derived reader reads), for every card's recording.
    #[test]
    fn the_hand_reader_reads_every_tape(id in card(), s in settings()) {
        let tape = Tape::of(&run_card(id, &s).run);
        let value = serde_json::to_value(&tape).unwrap();
        prop_assert_eq!(reliability_core::recorded::json::tape(&value), Ok(tape.clone()));
        let derived: Tape = serde_json::from_value(value).unwrap();
        prop_assert_eq!(derived, tape);
    }

    /// Checkpoint anywhere, restore (as a value, or by replaying the inputs so far), continue:
    /// the same run as straight through.
    #[test]
    fn a_checkpoint_continues_to_the_same_run(
        id in card(), s in settings(), cut in 0usize..40,
    ) {
        prop_assume!(id != CardId::F);
        let (agent, setup) = start(id, &s);
        let mut sim = Sim::new(&setup.world, s.seed);
        sim.answer(setup.decision);
        let straight = finish(agent.clone(), &mut sim.clone());

        let mut agent = agent;
        for _ in 0..cut {
            if sim.step(&mut agent).is_some() {
                break;
            }
        }
        // As a value: the agent's state serialises and comes back the same.
        let json = serde_json::to_string(&agent).unwrap();
        let restored: Agent = serde_json::from_str(&json).unwrap();
        prop_assert_eq!(&restored, &agent);
        // (The simulator carries on from the cut too: its ledger holds the effects so far.)
        let via_value = finish(restored, &mut sim.clone());
        prop_assert_eq!(&via_value, &straight);

        // By its inputs: a fresh agent fed the tape so far is where the run was.
        let tape = Tape::from_events(agent.events());
        let (mut fresh, _) = start(id, &s);
        let mut recorded = Recorded::new(&tape.requests[0]);
        recorded.drive(&mut fresh);
        prop_assert!(recorded.remaining().is_empty(), "the whole tape is fed");
        prop_assert_eq!(recorded.mismatch(), None);
        prop_assert_eq!(finish(fresh, &mut sim), straight);
    }
}

#[test]
fn a_changed_policy_reports_the_first_action_that_differs() {
    // Recorded with the lab's defaults: A recovers on attempt 3.
    let s = Settings::default();
    let recorded = run_card(CardId::A, &s).run;
    let tape = Tape::of(&recorded);
    // Replayed with a longer first wait: the same replies, but the first backoff differs.
    let slower = Settings {
        base_delay: 1_000_000,
        ..s.clone()
    };
    let again = replay(CardId::A, &slower, &tape);
    let (i, was, now) = first_difference(&recorded.trace, &again.trace).expect("a difference");
    assert!(was.contains("backoff: wait 0.5s"), "{was}");
    assert!(now.contains("backoff: wait 1.0s"), "{now}");
    assert!(i > 0);
    // With one attempt only, the engine gives up where the recording retried.
    let once = Settings { attempts: 1, ..s };
    let again = replay(CardId::A, &once, &tape);
    let (_, was, now) = first_difference(&recorded.trace, &again.trace).unwrap();
    assert!(was.contains("backoff"), "{was}");
    assert!(now.contains("gave up"), "{now}");
}

#[test]
fn a_recording_needs_no_simulated_model() {
    // The recording says the model answered "The answer is 42." (as if the model changed):
    // the replay follows the recording, not the simulator.
    let s = Settings::default();
    let run = run_card(CardId::A, &s).run;
    let mut tape = Tape::of(&run);
    for input in &mut tape.requests[0] {
        if let reliability_core::recorded::Input::Model { reply, .. } = input {
            if let reliability_core::agent::Reply::Answer { text } = &mut reply.reply {
                *text = "The answer is 42.".into();
            }
        }
    }
    let again = replay(CardId::A, &s, &tape);
    assert_eq!(again.outcome.answer, "The answer is 42.");
}
