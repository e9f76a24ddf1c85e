//! The few browser calls the page makes, each one total: no `unwrap`, no panic. Outside a
//! browser (native builds, tests) they do nothing and return empty values.

use std::cell::RefCell;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

/// The page's query string, with its `?` (empty when there is none).
pub fn query() -> String {
    web_sys::window()
        .and_then(|w| w.location().search().ok())
        .unwrap_or_default()
}

/// The page's full address (with any query [`keep`] left pending written first, so a link
/// made from it is never a move behind).
pub fn href() -> String {
    flush();
    web_sys::window()
        .and_then(|w| w.location().href().ok())
        .unwrap_or_default()
}

/// What the address bar's query and the saved session are to become.
#[derive(Default)]
struct Pending {
    query: Option<String>,
    session: Option<String>,
    scheduled: bool,
}

thread_local! {
    static PENDING: RefCell<Pending> = RefCell::default();
}

/// Keeps the address bar's query and the saved session up to date, just after the next frame:
/// a slider's move repaints first (`history.replaceState` and `localStorage.setItem` took
/// about 12 ms of every move on a busy machine, before the cards could show it), and a drag
/// writes once per frame, not once per input event. `None` leaves that one as it is.
pub fn keep(query: Option<String>, session: Option<String>) {
    let schedule = PENDING.with_borrow_mut(|p| {
        if query.is_some() {
            p.query = query;
        }
        if session.is_some() {
            p.session = session;
        }
        !std::mem::replace(&mut p.scheduled, true)
    });
    if !schedule {
        return;
    }
    if web_sys::window().is_some() {
        leptos::prelude::request_animation_frame(|| {
            leptos::prelude::set_timeout(flush, std::time::Duration::ZERO)
        });
        // A hidden tab has no frames: the write still happens (the second flush finds
        // nothing left when the frame came first).
        leptos::prelude::set_timeout(flush, std::time::Duration::from_millis(250));
    } else {
        flush();
    }
}

/// Writes now what [`keep`] left pending.
fn flush() {
    let p = PENDING.with_borrow_mut(std::mem::take);
    if let Some(query) = p.query {
        replace_query(&query);
    }
    if let Some(session) = p.session {
        save_session(&session);
    }
}

/// Replaces the query string in the address bar without reloading or adding history. An
/// empty query leaves no bare `?`.
fn replace_query(query: &str) {
    let Some(w) = web_sys::window() else { return };
    let Ok(history) = w.history() else { return };
    let location = w.location();
    let search = if query.is_empty() {
        String::new()
    } else {
        format!("?{query}")
    };
    let href = location.href().unwrap_or_default();
    // Keep the #fragment (a skip link or a card anchor) where it was.
    let base = href.split(['?', '#']).next().unwrap_or_default();
    let hash = location.hash().unwrap_or_default();
    let url = format!("{base}{search}{hash}");
    if url != href {
        let _ = history.replace_state_with_url(&JsValue::NULL, "", Some(&url));
    }
}

/// The #fragment of the page's address, without its `#`.
pub fn fragment() -> String {
    let hash = web_sys::window()
        .and_then(|w| w.location().hash().ok())
        .unwrap_or_default();
    hash.trim_start_matches('#').to_string()
}

/// The body of the page.
fn body() -> Option<web_sys::HtmlElement> {
    web_sys::window()?.document()?.body()
}

/// Scrolls the element whose id is `id` into view; nothing when there is none.
pub fn scroll_to(id: &str) {
    // An id from a link may be anything: a selector it breaks is an Err, not a panic.
    let found = body().and_then(|b| b.query_selector(&format!("[id='{id}']")).ok().flatten());
    if let Some(el) = found {
        el.scroll_into_view();
    }
}

/// Present mode's look, on the body: for card `letter`, reading the knobs `knobs` (names with
/// spaces between), or none. Present mode opens the advanced knobs, as a card may read them.
pub fn present_look(card: Option<(&str, String)>) {
    let Some(b) = body() else { return };
    let (class, letter, knobs) = card
        .as_ref()
        .map_or(("", "", ""), |(l, k)| ("present solo", *l, k.as_str()));
    let _ = b.set_attribute("class", class);
    let _ = b.set_attribute("data-present", letter);
    let _ = b.set_attribute("data-knobs", knobs);
    if let (Some(_), Ok(Some(details))) = (card, b.query_selector("details.advanced")) {
        let _ = details.set_attribute("open", "");
    }
}

/// `navigator.clipboard`, and its method `name` when the browser has it.
fn clipboard(w: &web_sys::Window, name: &str) -> (JsValue, Option<js_sys::Function>) {
    // Reflect::get on an undefined clipboard is an Err, read as undefined too.
    let clipboard = js_sys::Reflect::get(&w.navigator(), &"clipboard".into()).unwrap_or_default();
    let method = js_sys::Reflect::get(&clipboard, &name.into()).unwrap_or_default();
    (clipboard, method.dyn_into().ok())
}

/// Starts `navigator.clipboard[method](arg)`: the promise of the write, or why there is none.
///
/// The Clipboard API exists only on secure pages (https, or localhost): on a teacher's laptop
/// served over plain http on the LAN, `navigator.clipboard` is undefined. So it is looked up,
/// not assumed, and every JS call here is one that returns a `Result` instead of throwing.
pub fn clipboard_write(method: &str, arg: &JsValue) -> Result<js_sys::Promise, String> {
    let w = web_sys::window().ok_or("no browser window")?;
    let (clipboard, write) = clipboard(&w, method);
    let Some(write) = write else {
        return Err(if w.is_secure_context() {
            "this browser gives pages no clipboard".to_string()
        } else {
            "this page is not on https, so the browser does not allow copying".to_string()
        });
    };
    // Promise::resolve also copes with a method that returned no promise.
    write
        .call1(&clipboard, arg)
        .map(|p| js_sys::Promise::resolve(&p))
        .map_err(|_| "the browser refused clipboard access".to_string())
}

/// Waits for a clipboard write started by [`clipboard_write`] or [`write_png`].
pub async fn finish(write: Result<js_sys::Promise, String>) -> Result<(), String> {
    JsFuture::from(write?)
        .await
        .map(|_| ())
        .map_err(|_| "the browser refused clipboard access".to_string())
}

/// Copies `text` to the clipboard. The error says what went wrong, for the page to show.
pub async fn copy(text: &str) -> Result<(), String> {
    finish(clipboard_write("writeText", &text.into())).await
}

/// Whether the browser can put an image on the clipboard (`ClipboardItem` and
/// `navigator.clipboard.write`, on secure pages of current browsers).
pub fn can_copy_image() -> bool {
    web_sys::window().is_some_and(|w| {
        clipboard(&w, "write").1.is_some()
            && js_sys::Reflect::get(&w, &"ClipboardItem".into()).is_ok_and(|c| c.is_function())
    })
}

/// Starts putting the PNG of a `data:image/png;base64,` URL on the clipboard. It is called
/// while the click is still the user's: browsers copy images only then.
pub fn write_png(data_url: &str) -> Result<js_sys::Promise, String> {
    let cannot = |_| "this browser cannot copy images".to_string();
    let w = web_sys::window().ok_or("no browser window")?;
    let class: js_sys::Function = js_sys::Reflect::get(&w, &"ClipboardItem".into())
        .and_then(JsCast::dyn_into)
        .map_err(cannot)?;
    let base64 = data_url.split_once(',').map_or("", |(_, b)| b);
    let bytes = js_sys::Uint8Array::from(&decode_base64(base64)[..]);
    let options = web_sys::BlobPropertyBag::new();
    options.set_type("image/png");
    let blob = web_sys::Blob::new_with_u8_array_sequence_and_options(
        &js_sys::Array::of1(&bytes),
        &options,
    )
    .map_err(cannot)?;
    let items = js_sys::Object::new();
    js_sys::Reflect::set(&items, &"image/png".into(), &blob).map_err(cannot)?;
    let item = js_sys::Reflect::construct(&class, &js_sys::Array::of1(&items)).map_err(cannot)?;
    clipboard_write("write", &js_sys::Array::of1(&item))
}

/// Base64 to bytes; characters outside the alphabet (padding) are skipped.
fn decode_base64(text: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len() / 4 * 3);
    let (mut acc, mut bits) = (0u32, 0);
    for c in text.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => continue,
        };
        acc = (acc << 6 | v as u32) & 0xff_ffff;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    out
}

/// Says on the page that the lab has stopped, when a bug panics it: the WebAssembly cannot go
/// on after a panic, and without this the page would look alive and answer nothing. index.html's
/// `lab.crash` shows the message (and logs it to the console): its script costs the bundle
/// nothing, where drawing it from here cost about 1 KiB gzipped.
pub fn report_panic(info: &std::panic::PanicHookInfo<'_>) {
    // No window in the scorer's worker: the page sees the worker fail and scores itself.
    let Some(w) = web_sys::window() else {
        return;
    };
    let lab = js_sys::Reflect::get(&w, &"lab".into()).unwrap_or_default();
    let crash = js_sys::Reflect::get(&lab, &"crash".into()).unwrap_or_default();
    if let Ok(crash) = crash.dyn_into::<js_sys::Function>() {
        let _ = crash.call1(&lab, &JsValue::from_str(&info.to_string()));
    }
}

/// Removes the loading message that index.html shows until the app is mounted.
pub fn remove_loading_message() {
    // Through the body's querySelector, which the page already imports: getElementById, a new
    // import, made the gzipped bundle about 120 bytes bigger.
    let message = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.body())
        .and_then(|body| body.query_selector("#loading").ok().flatten());
    if let Some(message) = message {
        message.remove();
    }
}

/// Milliseconds from the page's time origin (for the play control's pacing).
pub fn now_ms() -> f64 {
    web_sys::window()
        .and_then(|w| w.performance())
        .map(|p| p.now())
        .unwrap_or(0.0)
}

/// Offers `text` as a JSON file download named `name` (a data: link; nothing leaves the page).
pub fn download(name: &str, text: &str) {
    let href = format!(
        "data:application/json;charset=utf-8,{}",
        js_sys::encode_uri_component(text)
    );
    save_as(name, &href);
}

/// Offers the file at `href` (a data: URL) as a download named `name`.
pub fn save_as(name: &str, href: &str) {
    let Some(doc) = web_sys::window().and_then(|w| w.document()) else {
        return;
    };
    let Ok(a) = doc.create_element("a") else {
        return;
    };
    let _ = a.set_attribute("href", href);
    let _ = a.set_attribute("download", name);
    if let Some(a) = a.dyn_ref::<web_sys::HtmlElement>() {
        a.click();
    }
}

/// The saved session, if the browser has one (`Err` when storage cannot be read).
pub fn load_session() -> Result<Option<String>, String> {
    let storage = local_storage()?;
    storage
        .get_item(SESSION_KEY)
        .map_err(|_| "the browser refused to read its storage".to_string())
}

/// Saves the session. Storage that is full or switched off is not an error worth a notice:
/// the page works the same without it.
fn save_session(text: &str) {
    if let Ok(storage) = local_storage() {
        let _ = storage.set_item(SESSION_KEY, text);
    }
}

/// Keeps an unreadable session under another key (so nothing is lost) and clears the slot.
pub fn set_aside_session(text: &str) {
    if let Ok(storage) = local_storage() {
        let _ = storage.set_item(&format!("{SESSION_KEY}.unreadable"), text);
        let _ = storage.remove_item(SESSION_KEY);
    }
}

const SESSION_KEY: &str = "agent-reliability-lab.session";

fn local_storage() -> Result<web_sys::Storage, String> {
    web_sys::window()
        .ok_or("no browser window")?
        .local_storage()
        .ok()
        .flatten()
        .ok_or_else(|| "this browser has no local storage".to_string())
}

/// Reads the text of the first file chosen in a file input.
pub async fn read_chosen_file(
    input: &web_sys::HtmlInputElement,
) -> Result<(String, String), String> {
    let file = input
        .files()
        .and_then(|f| f.get(0))
        .ok_or("no file was chosen")?;
    let name = file.name();
    let text = JsFuture::from(file.text())
        .await
        .map_err(|_| format!("{name} could not be read"))?;
    text.as_string()
        .map(|t| (name.clone(), t))
        .ok_or_else(|| format!("{name} is not text"))
}
