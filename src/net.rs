//! The live panel's few calls to the world: one POST with a real timeout, the tab's session
//! storage, and the wall clock. Each one total: no `unwrap`, no panic.

use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

/// A response: its status, its `retry-after` header (when the server lets the page read
/// it), and its body.
pub struct HttpReply {
    /// The status code.
    pub status: u16,
    /// The `retry-after` header, if readable.
    pub retry_after: Option<String>,
    /// The body's text.
    pub body: String,
}

/// Why a request got no response.
pub enum HttpFailure {
    /// The timeout went off first (the request was aborted).
    TimedOut,
    /// No answer: a network error, a refused connection, or a response the browser would not
    /// show the page (CORS). The text says which, as far as the browser tells.
    Unreachable(String),
}

fn why(e: &JsValue) -> String {
    js_sys::Reflect::get(e, &JsValue::from_str("message"))
        .ok()
        .and_then(|m| m.as_string())
        .filter(|m| !m.is_empty())
        .unwrap_or_else(|| "the browser gave no reason".to_string())
}

/// POSTs `body` to `url` with `headers`, giving up (aborting) after `timeout_ms`.
pub async fn post(
    url: &str,
    headers: &[(&str, &str)],
    body: &str,
    timeout_ms: f64,
) -> Result<HttpReply, HttpFailure> {
    let unreachable = |e: JsValue| HttpFailure::Unreachable(why(&e));
    let Some(window) = web_sys::window() else {
        return Err(HttpFailure::Unreachable("no browser window".into()));
    };
    let controller = web_sys::AbortController::new().map_err(unreachable)?;
    let signal = controller.signal();
    let init = web_sys::RequestInit::new();
    init.set_method("POST");
    init.set_body(&JsValue::from_str(body));
    init.set_signal(Some(&signal));
    let h = web_sys::Headers::new().map_err(unreachable)?;
    for (k, v) in headers {
        h.set(k, v).map_err(unreachable)?;
    }
    init.set_headers(&h);
    let request = web_sys::Request::new_with_str_and_init(url, &init).map_err(|_| {
        HttpFailure::Unreachable(format!("{url} is not an address this page can call"))
    })?;
    let timer =
        gloo_timers::callback::Timeout::new(timeout_ms.clamp(0.0, 3.6e6) as u32, move || {
            controller.abort()
        });
    let aborted = |e: JsValue| {
        if signal.aborted() {
            HttpFailure::TimedOut
        } else {
            HttpFailure::Unreachable(why(&e))
        }
    };
    let response = JsFuture::from(window.fetch_with_request(&request))
        .await
        .map_err(aborted)?;
    let response: web_sys::Response = response.dyn_into().map_err(aborted)?;
    let status = response.status();
    let retry_after = response.headers().get("retry-after").ok().flatten();
    let text = response.text().map_err(aborted)?;
    let body = JsFuture::from(text).await.map_err(aborted)?;
    drop(timer);
    Ok(HttpReply {
        status,
        retry_after,
        body: body.as_string().unwrap_or_default(),
    })
}

fn session() -> Option<web_sys::Storage> {
    web_sys::window()?.session_storage().ok().flatten()
}

/// A value kept for this tab only (gone when the tab closes).
pub fn session_get(key: &str) -> Option<String> {
    session()?.get_item(key).ok().flatten()
}

/// Keeps a value for this tab only.
pub fn session_set(key: &str, value: &str) {
    if let Some(s) = session() {
        let _ = s.set_item(key, value);
    }
}

/// Forgets a value kept for this tab.
pub fn session_remove(key: &str) {
    if let Some(s) = session() {
        let _ = s.remove_item(key);
    }
}

/// Milliseconds since 1970 (the wall clock: it keeps counting across a reload).
pub fn wall_ms() -> f64 {
    js_sys::Date::now()
}
