//! The few browser calls the page makes, each one total: no `unwrap`, no panic. Outside a
//! browser (native builds, tests) they do nothing and return empty values.

use wasm_bindgen::{JsCast, JsValue};

/// The page's query string, with its `?` (empty when there is none).
pub fn query() -> String {
    web_sys::window()
        .and_then(|w| w.location().search().ok())
        .unwrap_or_default()
}

/// The page's full address.
pub fn href() -> String {
    web_sys::window()
        .and_then(|w| w.location().href().ok())
        .unwrap_or_default()
}

/// Replaces the query string in the address bar without reloading or adding history.
pub fn replace_query(query: &str) {
    let Some(w) = web_sys::window() else { return };
    let Ok(history) = w.history() else { return };
    let url = format!("?{query}");
    if query_matches(&w, &url) {
        return;
    }
    // Keep the #fragment (a skip link or a card anchor) where it was.
    let hash = w.location().hash().unwrap_or_default();
    let _ = history.replace_state_with_url(&JsValue::NULL, "", Some(&format!("{url}{hash}")));
}

fn query_matches(w: &web_sys::Window, url: &str) -> bool {
    w.location().search().map(|s| s == url).unwrap_or(false)
}

/// Copies `text` to the clipboard. The error says what went wrong, for the page to show.
///
/// The Clipboard API exists only on secure pages (https, or localhost): on a teacher's laptop
/// served over plain http on the LAN, `navigator.clipboard` is undefined. So it is looked up,
/// not assumed, and every JS call here is one that returns a `Result` instead of throwing.
pub async fn copy(text: &str) -> Result<(), String> {
    let w = web_sys::window().ok_or("no browser window")?;
    // Reflect::get on an undefined clipboard is an Err, read as undefined too.
    let clipboard = js_sys::Reflect::get(&w.navigator(), &"clipboard".into()).unwrap_or_default();
    let write_text = js_sys::Reflect::get(&clipboard, &"writeText".into()).unwrap_or_default();
    if !write_text.is_function() {
        return Err(if w.is_secure_context() {
            "this browser gives pages no clipboard".to_string()
        } else {
            "this page is not on https, so the browser does not allow copying".to_string()
        });
    }
    let done = match write_text
        .unchecked_into::<js_sys::Function>()
        .call1(&clipboard, &text.into())
    {
        // Promise::resolve also copes with a writeText that returned no promise.
        Ok(promise) => {
            wasm_bindgen_futures::JsFuture::from(js_sys::Promise::resolve(&promise)).await
        }
        Err(thrown) => Err(thrown),
    };
    done.map(|_| ())
        .map_err(|_| "the browser refused clipboard access".to_string())
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

/// Scrolls the element `selector` finds into view, if there is one.
pub fn scroll_to(selector: &str) {
    let found = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.body())
        .and_then(|body| body.query_selector(selector).ok().flatten());
    if let Some(el) = found {
        el.scroll_into_view();
    }
}

/// Milliseconds from the page's time origin (for the play control's pacing).
pub fn now_ms() -> f64 {
    web_sys::window()
        .and_then(|w| w.performance())
        .map(|p| p.now())
        .unwrap_or(0.0)
}

/// Offers `text` as a file download named `name` (a data: link; nothing leaves the page).
pub fn download(name: &str, text: &str) {
    let Some(doc) = web_sys::window().and_then(|w| w.document()) else {
        return;
    };
    let Ok(a) = doc.create_element("a") else {
        return;
    };
    let href = format!(
        "data:application/json;charset=utf-8,{}",
        js_sys::encode_uri_component(text)
    );
    let _ = a.set_attribute("href", &href);
    let _ = a.set_attribute("download", name);
    if let Some(a) = wasm_bindgen::JsCast::dyn_ref::<web_sys::HtmlElement>(&a) {
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
pub fn save_session(text: &str) {
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
    let text = wasm_bindgen_futures::JsFuture::from(file.text())
        .await
        .map_err(|_| format!("{name} could not be read"))?;
    text.as_string()
        .map(|t| (name.clone(), t))
        .ok_or_else(|| format!("{name} is not text"))
}
