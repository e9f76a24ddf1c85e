//! Scores a challenge off the main thread: a Web Worker runs this same wasm, so the page
//! keeps repainting while it scores 10,000 requests.
//!
//! How the worker starts. trunk names the app's JS glue in the page's
//! `<link rel="modulepreload" href="./reliability-lab-<hash>.js">`; a module worker made from
//! a Blob imports that glue by its absolute address and, given the page's own compiled
//! `WebAssembly.Module` (`wasm_bindgen::module()`, posted as the first message), instantiates
//! it without a second download or compile. The glue then runs `main`, which, finding no
//! `window`, calls [`serve`] instead of mounting the app. The worker says `ready`; from then
//! on each message is a job (a result link's query: challenge and policy) and each reply the
//! score's [`Measures::to_wire`] text, or `!` and why it could not be scored.
//!
//! Only the newest job matters: one job is in the worker at a time, and a job asked for while
//! it is busy replaces any job still waiting, so a dragged slider never queues stale work. A
//! job waits a frame (16 ms) before it is sent, so the page repaints first: on a machine with
//! few cores the worker competes with the page for one.
//!
//! Where there is no worker (it could not start, it failed, or the page runs in a test harness
//! without trunk's link), the page scores on the main thread in slices of at most 10 ms, as the
//! statistics panel does, and drops a slice's job as soon as a newer one is asked for.

use crate::browser::now_ms;
use gloo_timers::future::TimeoutFuture;
use leptos::prelude::*;
use reliability_core::challenge::{score, Measures, Scoring, SharedResult};
use std::cell::RefCell;
use wasm_bindgen::{closure::Closure, JsCast, JsValue};
use web_sys::{Event, MessageEvent, Worker};

/// A finished job: what was asked, the measures or why there are none, and how long it took
/// from being asked to being answered (milliseconds).
#[derive(Clone)]
pub struct Scored {
    /// The job: a result link's query.
    pub job: String,
    /// The measures, or why there are none.
    pub measures: Result<Measures, String>,
    /// Milliseconds from sending the job to its answer.
    pub ms: f64,
    /// Milliseconds of scoring alone (in the worker, by its clock in whole milliseconds).
    pub compute_ms: f64,
    /// Scored by the worker (else on the main thread).
    pub in_worker: bool,
}

const READY: &str = "ready";
/// Work at most this long before giving the browser a turn (main-thread scoring only).
const SLICE_MS: f64 = 10.0;
/// Wait this long after a job is asked for before scoring it (milliseconds): a frame.
const SETTLE_MS: u32 = 16;

#[derive(Default)]
struct Pool {
    /// The worker, once asked for; `None` after it failed (then the page scores itself).
    worker: Option<Worker>,
    started: bool,
    ready: bool,
    /// The job in the worker, and when it was sent.
    busy: Option<(String, f64)>,
    /// The newest job asked for, until it is scored (for the worker: until it is sent).
    next: Option<String>,
    /// The newest job asked for, ever: asking for it again changes nothing.
    asked: String,
    /// The newest answer.
    last: Option<Scored>,
    /// Bumped when `last` changes (a signal of a type the page already has: each new
    /// signal type costs wasm).
    version: Option<RwSignal<u64>>,
}

thread_local! {
    static POOL: RefCell<Pool> = RefCell::default();
}

/// Scores `job` (a result link's query), unless it is the job asked for last; [`last`] has
/// the answer once `version` changes.
pub fn ask(job: String, version: RwSignal<u64>) {
    let here = POOL.with_borrow_mut(|p| {
        if p.asked == job {
            return None;
        }
        p.asked = job.clone();
        p.version = Some(version);
        p.next = Some(job.clone());
        if !p.started {
            p.started = true;
            p.worker = start();
        }
        Some(p.worker.is_none())
    });
    match here {
        Some(true) => leptos::task::spawn_local(score_here(job)),
        Some(false) => leptos::task::spawn_local(async {
            // As on the main thread: the page repaints before the worker starts (on a machine
            // with few cores the worker competes with the page for one), and a dragged slider
            // sends one job, not one per pixel.
            TimeoutFuture::new(SETTLE_MS).await;
            pump();
        }),
        None => {}
    }
}

/// The newest answer.
pub fn last() -> Option<Scored> {
    POOL.with_borrow(|p| p.last.clone())
}

/// Sends the waiting job when the worker is free.
fn pump() {
    POOL.with_borrow_mut(|p| {
        let (Some(w), true, None) = (&p.worker, p.ready, &p.busy) else {
            return;
        };
        if let Some(job) = p.next.take() {
            let _ = w.post_message(&JsValue::from_str(&job));
            p.busy = Some((job, now_ms()));
        }
    });
}

fn deliver(s: Scored) {
    let version = POOL.with_borrow_mut(|p| {
        p.last = Some(s);
        p.version
    });
    if let Some(v) = version {
        v.try_update(|n| *n += 1);
    }
}

/// The worker failed: score its job, and every later one, on the main thread.
fn fail_over() {
    let job = POOL.with_borrow_mut(|p| {
        if let Some(w) = p.worker.take() {
            w.terminate();
        }
        let busy = p.busy.take().map(|(j, _)| j);
        p.next.clone().or(busy)
    });
    if let Some(job) = job {
        POOL.with_borrow_mut(|p| p.next = Some(job.clone()));
        leptos::task::spawn_local(score_here(job));
    }
}

fn on_reply(text: String) {
    if !POOL.with_borrow(|p| p.ready) {
        if text != READY {
            // The glue or the wasm did not start in the worker.
            return fail_over();
        }
        POOL.with_borrow_mut(|p| p.ready = true);
        return pump();
    }
    let Some((job, sent)) = POOL.with_borrow_mut(|p| p.busy.take()) else {
        return;
    };
    // `<ms> <measures>`, or `<ms> !<why>`.
    let (took, answer) = text.split_once(' ').unwrap_or_default();
    let measures = match answer.strip_prefix('!') {
        Some(why) => Err(why.to_string()),
        None => {
            Measures::from_wire(answer).ok_or_else(|| "the worker's answer was unreadable".into())
        }
    };
    deliver(Scored {
        job,
        measures,
        ms: now_ms() - sent,
        compute_ms: took
            .parse::<u64>()
            .map_or(f64::NAN, |us| us as f64 / 1000.0),
        in_worker: true,
    });
    pump();
}

/// A message event's text (empty if it is not text).
fn data(e: &Event) -> String {
    e.unchecked_ref::<MessageEvent>()
        .data()
        .as_string()
        .unwrap_or_default()
}

/// Starts the worker, or says there is none to start.
fn start() -> Option<Worker> {
    let glue = web_sys::window()?
        .document()?
        .query_selector("link[rel=modulepreload]")
        .ok()??;
    // The `href` property: the address made absolute, as a Blob's module needs.
    let glue = js_sys::Reflect::get(&glue, &"href".into())
        .ok()?
        .as_string()?;
    // The address quoted by the core, not `{:?}`, whose escaping tables would cost wasm.
    let src = format!(
        "import init from {};onmessage=e=>init({{module_or_path:e.data}}).catch(e=>postMessage('!'+e))",
        reliability_core::quote(&glue)
    );
    let bag = web_sys::BlobPropertyBag::new();
    bag.set_type("text/javascript");
    let blob = web_sys::Blob::new_with_str_sequence_and_options(
        &js_sys::Array::of1(&JsValue::from_str(&src)),
        &bag,
    )
    .ok()?;
    let url = web_sys::Url::create_object_url_with_blob(&blob).ok()?;
    let opts = web_sys::WorkerOptions::new();
    opts.set_type(web_sys::WorkerType::Module);
    let w = Worker::new_with_options(&url, &opts).ok()?;
    // One closure type for every handler here and in `serve`: each type costs glue code.
    let on_message = Closure::<dyn Fn(Event)>::new(|e: Event| on_reply(data(&e)));
    let on_error = Closure::<dyn Fn(Event)>::new(|e: Event| {
        // Handled here: the page falls back, so the browser need not report it.
        e.prevent_default();
        fail_over();
    });
    w.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    w.set_onerror(Some(on_error.as_ref().unchecked_ref()));
    // One worker for the page's life: its handlers live as long.
    on_message.forget();
    on_error.forget();
    w.post_message(&wasm_bindgen::module()).ok()?;
    Some(w)
}

/// Is `job` still the newest one asked for?
fn wanted(job: &str) -> bool {
    POOL.with_borrow(|p| p.next.as_deref() == Some(job))
}

/// Scores `job` on the main thread, in slices; drops it once a newer job is asked for.
async fn score_here(job: String) {
    // Let the page repaint first; a slider being dragged starts one job, not one per pixel.
    TimeoutFuture::new(SETTLE_MS).await;
    if !wanted(&job) {
        return;
    }
    let started = now_ms();
    let scoring =
        SharedResult::from_query(&job).and_then(|r| Scoring::new(&r.challenge, &r.settings));
    let measures = match scoring {
        Err(e) => Err(e.to_string()),
        Ok(mut s) => {
            let mut slice = started;
            while !s.step(Scoring::CHUNK) {
                if now_ms() - slice > SLICE_MS {
                    TimeoutFuture::new(0).await;
                    slice = now_ms();
                    if !wanted(&job) {
                        return;
                    }
                }
            }
            Ok(s.score().measures)
        }
    };
    if wanted(&job) {
        POOL.with_borrow_mut(|p| p.next = None);
        deliver(Scored {
            job,
            measures,
            ms: now_ms() - started,
            compute_ms: now_ms() - started,
            in_worker: false,
        });
    }
}

/// The worker's side: answers each job with its measures. Called by `main` when there is no
/// `window`, that is, in the worker [`ask`] started.
pub fn serve() {
    let scope: web_sys::DedicatedWorkerGlobalScope = js_sys::global().unchecked_into();
    let reply = scope.clone();
    let on_job = Closure::<dyn Fn(Event)>::new(move |e: Event| {
        let job = data(&e);
        let started = js_sys::Date::now();
        let answer = SharedResult::from_query(&job)
            .and_then(|r| score(&r.challenge, &r.settings))
            .map_or_else(|e| format!("!{e}"), |s| s.measures.to_wire());
        // Whole microseconds: formatting an f64 would link the float formatter into the page.
        let took = ((js_sys::Date::now() - started).max(0.0) * 1000.0) as u64;
        let _ = reply.post_message(&JsValue::from_str(&format!("{took} {answer}")));
    });
    scope.set_onmessage(Some(on_job.as_ref().unchecked_ref()));
    on_job.forget();
    let _ = scope.post_message(&JsValue::from_str(READY));
}
