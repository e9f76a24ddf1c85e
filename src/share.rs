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

/// The named knobs with their values as shown, as a transcript writes them:
/// "settings: timeout=0.05s attempts=3".
pub fn settings_line(s: &Settings, names: &[&str]) -> String {
    let mut line = "settings:".to_string();
    for k in names.iter().filter_map(|n| knob(n)) {
        line = format!("{line} {}={}", k.name, k.show((k.get)(s)));
    }
    line
}

/// A panel's image: `head` (its title and settings), then its tables as the page shows them,
/// a row a line, then `tail`. Read from the page, so the image says what the panel says.
pub fn panel_sheet(row: &Element, mut head: Vec<String>, tail: &str, link: String) -> Sheet {
    let rows = row
        .parent_element()
        .and_then(|s| s.query_selector_all("tr").ok());
    for i in 0..rows.as_ref().map_or(0, |r| r.length()) {
        // A row's text as drawn, its cells apart (tabs, or lines where a phone stacks them).
        let tr = rows
            .as_ref()
            .and_then(|r| r.item(i)?.dyn_into::<web_sys::HtmlElement>().ok());
        if let Some(text) = tr.map(|tr| tr.inner_text()) {
            let cells: Vec<&str> = text
                .split(['\t', '\n'])
                .map(str::trim)
                .filter(|c| !c.is_empty())
                .collect();
            head.push(cells.join(" | "));
        }
    }
    head.push(tail.to_string());
    Sheet {
        lines: head,
        tone: None,
        timeline: None,
        link,
    }
}

/// Makes what an image shows, given the share row and the link for the footer; or says why
/// there is nothing to show yet.
pub type MakeSheet = dyn Fn(&Element, String) -> Result<Sheet, String>;

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

/// Makes the link to share, or says why there is none yet.
pub type MakeLink = dyn Fn() -> Result<String, String>;

/// The share buttons of the card or panel whose element id is `anchor` ("card-B", "stats"):
/// the link opens the page at that id with `settings`; `sheet` makes what its image shows.
pub fn buttons(settings: RwSignal<Settings>, anchor: String, sheet: Box<MakeSheet>) -> AnyView {
    let file = format!("{anchor}.png");
    let link = move || Ok(settings.with_untracked(|s| s.share_link(&browser::href(), &anchor)));
    buttons_for(file, Box::new(link), sheet)
}

/// Share buttons for the link `link` makes, with an image named `file` that `sheet` makes.
/// (An `AnyView`, made here once: cards and panels share its code.)
pub fn buttons_for(file: String, link: Box<MakeLink>, sheet: Box<MakeSheet>) -> AnyView {
    let on_click = move |e: leptos::ev::MouseEvent| {
        let Some(button) = e.target().and_then(|t| t.dyn_into::<Element>().ok()) else {
            return;
        };
        let (Some(act), Some(row)) = (button.get_attribute("data-act"), button.parent_element())
        else {
            return;
        };
        let link = match link() {
            Ok(link) => link,
            Err(e) => return say(&row, &format!("Not yet: {e}."), None),
        };
        // The link the image's footer shows, for anyone checking it.
        let _ = row.set_attribute("data-link", &link);
        // Copying starts at once, while the click still counts as the user's.
        let image = (act != "link").then(|| sheet(&row, link.clone()).and_then(|s| png(&s)));
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
    .into_any()
}
