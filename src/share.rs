//! Sharing a card or a panel: "Copy link" (a short link that opens the page at it, with its
//! settings), "Save image" (a PNG the page draws, see [`crate::card_image`]) and, where the
//! browser can put images on the clipboard, "Copy image".
//!
//! The buttons are plain markup with one click handler for the row, which writes its result
//! into the row's status: a reactive view per button cost the page several KiB of wasm.

use crate::browser;
use crate::card_image::{png, Sheet};
use leptos::prelude::*;
use leptos::task::spawn_local;
use reliability_core::lab::{knob, Settings};
use wasm_bindgen::JsCast;
use web_sys::Element;

/// Each named knob with its value as shown: ("timeout", "0.05s").
pub fn knob_tags(s: &Settings, names: &[&str]) -> Vec<(String, String)> {
    names
        .iter()
        .filter_map(|n| knob(n))
        .map(|k| (k.name.to_string(), k.show((k.get)(s))))
        .collect()
}

/// Writes `text` into a share row's status; with `link`, also shows the link in the row's box,
/// to copy by hand.
fn say(row: &Element, text: &str, link: Option<&str>) {
    if let Some(status) = row.query_selector(".share-status").ok().flatten() {
        status.set_text_content(Some(text));
    }
    if let (Some(link), Some(input)) = (link, row.query_selector("input").ok().flatten()) {
        let _ = js_sys::Reflect::set(&input, &"value".into(), &link.into());
        let _ = input.remove_attribute("hidden");
    }
}

/// The share buttons of the card or panel whose element id is `anchor` ("card-B", "stats"):
/// the link opens the page at that id with `settings`; `sheet` is what its image shows, given
/// the link for the footer, or why there is nothing to show yet.
pub fn buttons(
    settings: RwSignal<Settings>,
    anchor: String,
    sheet: Box<dyn Fn(String) -> Result<Sheet, String>>,
) -> impl IntoView {
    let file = format!("{anchor}.png");
    let on_click = move |e: leptos::ev::MouseEvent| {
        let Some(button) = e.target().and_then(|t| t.dyn_into::<Element>().ok()) else {
            return;
        };
        let (Some(act), Some(row)) = (button.get_attribute("data-act"), button.parent_element())
        else {
            return;
        };
        let link = settings.with_untracked(|s| s.share_link(&browser::href(), &anchor));
        // The link the image's footer shows, for anyone checking it.
        let _ = row.set_attribute("data-link", &link);
        // Copying starts at once, while the click still counts as the user's.
        let image = (act != "link").then(|| sheet(link.clone()).and_then(|s| png(&s)));
        let write = match (act.as_str(), image) {
            ("link", _) => browser::clipboard_write("writeText", &link.as_str().into()),
            ("save", Some(Ok(url))) => {
                browser::save_as(&file, &url);
                return say(&row, "Image saved.", None);
            }
            (_, Some(Ok(url))) => browser::write_png(&url),
            (_, Some(Err(e))) => return say(&row, &format!("No image: {e}."), None),
            (_, None) => return,
        };
        spawn_local(async move {
            let text = match (browser::finish(write).await, act == "link") {
                (Ok(()), true) => "Link copied.".to_string(),
                (Ok(()), false) => "Image copied.".to_string(),
                (Err(e), true) => {
                    let text =
                        format!("Could not copy the link ({e}): copy it from the box below.");
                    return say(&row, &text, Some(&link));
                }
                (Err(e), false) => format!("No image: {e}."),
            };
            say(&row, &text, None);
        });
    };
    view! {
        <div class="actions share" on:click=on_click>
            <button data-act="link" data-testid="copy-link">"Copy link"</button>
            <button data-act="save" data-testid="save-image">"Save image"</button>
            {browser::can_copy_image().then(|| view! {
                <button data-act="image" data-testid="copy-image">"Copy image"</button>
            })}
            <span class="share-status" role="status" data-testid="share-status"></span>
            <input class="link-box" data-testid="link-box" readonly hidden aria-label="Link to copy" />
        </div>
    }
}
