//! Component tests in a real headless browser: mount, move a slider, click, read the DOM.
//! Run by `cargo xtask test` (wasm-bindgen-test-runner with chromedriver).
#![cfg(target_arch = "wasm32")]

use leptos::prelude::*;
use reliability_core::lab::{run_card, CardId, Settings};
use reliability_lab::{App, Card};
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;
use web_sys::{Element, HtmlElement, HtmlInputElement};

wasm_bindgen_test_configure!(run_in_browser);

fn document() -> web_sys::Document {
    web_sys::window().unwrap().document().unwrap()
}

/// A fresh container, so tests do not see each other's DOM.
fn container() -> HtmlElement {
    // And a clean address and storage: the page reads both when it mounts, so a test must
    // not start where the last one left off.
    let w = web_sys::window().unwrap();
    w.history()
        .unwrap()
        .replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some("?"))
        .unwrap();
    w.local_storage().unwrap().unwrap().clear().unwrap();
    let div: HtmlElement = document().create_element("div").unwrap().unchecked_into();
    document().body().unwrap().append_child(&div).unwrap();
    div
}

fn find(root: &Element, selector: &str) -> Element {
    root.query_selector(selector)
        .unwrap()
        .unwrap_or_else(|| panic!("no element matches {selector}"))
}

fn text(root: &Element, selector: &str) -> String {
    find(root, selector).text_content().unwrap_or_default()
}

fn field(root: &Element, card: &str, field: &str) -> String {
    text(
        root,
        &format!("[data-testid=card-{card}] [data-testid=result] [data-field={field}]"),
    )
}

async fn set_slider(root: &Element, name: &str, value: &str) {
    let input: HtmlInputElement =
        find(root, &format!("[data-testid=knob-{name}]")).unchecked_into();
    input.set_value(value);
    let init = web_sys::EventInit::new();
    init.set_bubbles(true);
    let ev = web_sys::Event::new_with_event_init_dict("input", &init).unwrap();
    input.dispatch_event(&ev).unwrap();
    leptos::task::tick().await;
}

async fn click(root: &Element, selector: &str) {
    let el: HtmlElement = find(root, selector).unchecked_into();
    el.click();
    leptos::task::tick().await;
}

#[wasm_bindgen_test]
async fn the_page_shows_the_labs_default_outcomes() {
    let root = container();
    let _handle = leptos::mount::mount_to(root.clone(), App);
    leptos::task::tick().await;
    let root: Element = root.into();
    assert_eq!(field(&root, "A", "answer"), "The answer is 391.");
    assert_eq!(field(&root, "A", "steps"), "2");
    assert_eq!(
        field(&root, "B", "answer"),
        "Stopped: exceeded 4 steps (possible runaway loop)"
    );
    // Waiting for a human is not blocked.
    assert_eq!(field(&root, "D", "blocked"), "[]");
    // The card prints the core's verdict (whose words the core's tests pin).
    let a = run_card(CardId::A, &Settings::default());
    assert!(text(&root, "[data-testid=card-A] [data-testid=verdict]").ends_with(a.verdict()));
    assert!(text(&root, "[data-testid=card-A] [data-testid=lines]").contains("[0.5, 1.0]"));
    assert!(find(&root, "[data-testid=card-F] [data-testid=timeline]")
        .query_selector("rect.bar")
        .unwrap()
        .is_some());
}

#[wasm_bindgen_test]
async fn moving_sliders_re_runs_the_cards() {
    let root = container();
    let _handle = leptos::mount::mount_to(root.clone(), App);
    leptos::task::tick().await;
    let root: Element = root.into();

    set_slider(&root, "failures", "3").await;
    assert_eq!(field(&root, "A", "degraded"), "True");
    assert_eq!(
        field(&root, "A", "answer"),
        "Service unavailable, please try again later."
    );
    set_slider(&root, "failures", "1").await;
    assert_eq!(field(&root, "A", "answer"), "The answer is 391.");

    set_slider(&root, "max_steps", "2").await;
    assert_eq!(
        field(&root, "B", "answer"),
        "Stopped: exceeded 2 steps (possible runaway loop)"
    );
    assert_eq!(field(&root, "B", "steps"), "3");
    assert_eq!(text(&root, "output[for=knob-max_steps]"), "2");

    set_slider(&root, "timeout", "1.5").await;
    assert_eq!(field(&root, "E", "answer"), "The answer is 391.");
    assert_eq!(text(&root, "output[for=knob-timeout]"), "1.5s");
}

#[wasm_bindgen_test]
async fn approve_and_deny_resume_the_paused_run() {
    let root = container();
    let _handle = leptos::mount::mount_to(root.clone(), App);
    leptos::task::tick().await;
    let root: Element = root.into();

    click(&root, "[data-testid=card-D] [data-testid=approve]").await;
    assert_eq!(field(&root, "D", "blocked"), "[]");
    assert_eq!(
        field(&root, "D", "answer"),
        "Email sent to all-staff@example.com."
    );
    click(&root, "[data-testid=card-D] [data-testid=ask-again]").await;
    click(&root, "[data-testid=card-D] [data-testid=deny]").await;
    assert_eq!(field(&root, "D", "blocked"), "['send_email']");
    assert_eq!(field(&root, "D", "degraded"), "False");
}

#[wasm_bindgen_test]
async fn a_card_draws_whatever_run_it_is_given() {
    let root = container();
    let settings = RwSignal::new(Settings::default());
    let run = Signal::derive(move || settings.with(|s| run_card(CardId::B, s)));
    let _handle = leptos::mount::mount_to(root.clone(), move || {
        view! { <Card run=run link=Signal::derive(String::new) /> }
    });
    leptos::task::tick().await;
    let root: Element = root.into();
    assert_eq!(field(&root, "B", "steps"), "5");
    settings.update(|s| s.max_steps = 7);
    leptos::task::tick().await;
    assert_eq!(field(&root, "B", "steps"), "8");
    // Card B takes no decision: it has no Approve button.
    assert!(root
        .query_selector("[data-testid=approve]")
        .unwrap()
        .is_none());
}

#[wasm_bindgen_test]
async fn the_kill_switch_stops_every_card_and_lets_them_run_again() {
    let root = container();
    let _handle = leptos::mount::mount_to(root.clone(), App);
    leptos::task::tick().await;
    let root: Element = root.into();

    click(&root, "[data-testid=kill-switch]").await;
    for card in ["A", "B", "D", "G", "N"] {
        assert_eq!(
            field(&root, card, "answer"),
            "Stopped: the kill switch is on.",
            "card {card}"
        );
        assert_eq!(field(&root, card, "steps"), "0", "card {card}");
    }
    assert!(root
        .query_selector("[data-testid=card-D] [data-testid=approve]")
        .unwrap()
        .is_none());

    click(&root, "[data-testid=kill-switch]").await;
    assert_eq!(field(&root, "A", "answer"), "The answer is 391.");
    assert!(root
        .query_selector("[data-testid=card-D] [data-testid=approve]")
        .unwrap()
        .is_some());
}

#[wasm_bindgen_test]
async fn a_card_knob_moves_only_its_own_story() {
    let root = container();
    let _handle = leptos::mount::mount_to(root.clone(), App);
    leptos::task::tick().await;
    let root: Element = root.into();
    let before_a = field(&root, "A", "answer");
    set_slider(&root, "rungs_down", "3").await;
    assert!(field(&root, "H", "answer").starts_with("Suggestion for a human"));
    assert_eq!(field(&root, "A", "answer"), before_a);
}
