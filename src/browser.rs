//! The few browser calls the page makes, each one total: no `unwrap`, no panic. Outside a
//! browser (native builds, tests) they do nothing and return empty values.

use wasm_bindgen::JsValue;

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
    let _ = history.replace_state_with_url(&JsValue::NULL, "", Some(&url));
}

fn query_matches(w: &web_sys::Window, url: &str) -> bool {
    w.location().search().map(|s| s == url).unwrap_or(false)
}

/// Copies `text` to the clipboard. The error says what went wrong, for the page to show.
pub async fn copy(text: &str) -> Result<(), String> {
    let w = web_sys::window().ok_or("no browser window")?;
    let promise = w.navigator().clipboard().write_text(text);
    wasm_bindgen_futures::JsFuture::from(promise)
        .await
        .map(|_| ())
        .map_err(|e| {
            e.as_string()
                .unwrap_or_else(|| "the browser refused clipboard access".to_string())
        })
}

/// Milliseconds from the page's time origin (for the play control's pacing).
pub fn now_ms() -> f64 {
    web_sys::window()
        .and_then(|w| w.performance())
        .map(|p| p.now())
        .unwrap_or(0.0)
}
