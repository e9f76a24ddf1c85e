//! The Agent Reliability Lab's stand-in for [wasm-streams](https://crates.io/crates/wasm-streams)
//! 0.5: the part of its API that Leptos's `server_fn` uses, and nothing else.
//!
//! Leptos always builds the browser client of its server functions, and that client's streaming
//! codecs use wasm-streams. wasm-streams exports three classes to JavaScript (the sources and
//! the sink that let a Rust stream back a JS stream), and a WebAssembly export is never left out
//! as unused: the page carried them, with the JS glue and the async machinery behind them, though
//! it calls no server function at all. This crate has no exports.
//!
//! Reading a JavaScript stream works as in wasm-streams. Turning a Rust stream into a JavaScript
//! one (a streaming request body) is not supported: [`ReadableStream::from_stream`] panics.

#![forbid(unsafe_code)]

use futures_util::stream::{self, Stream};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

/// A JavaScript `ReadableStream`.
#[derive(Debug)]
pub struct ReadableStream {
    raw: web_sys::ReadableStream,
}

impl ReadableStream {
    /// Wraps a JavaScript stream.
    pub fn from_raw(raw: web_sys::ReadableStream) -> Self {
        Self { raw }
    }

    /// Not supported here (wasm-streams makes a JavaScript stream backed by `stream`).
    ///
    /// # Panics
    ///
    /// Always.
    pub fn from_stream<St>(_stream: St) -> Self
    where
        St: Stream<Item = Result<JsValue, JsValue>> + 'static,
    {
        panic!("streaming request bodies are not supported: the lab replaces wasm-streams (vendor/wasm-streams)")
    }

    /// The JavaScript stream.
    pub fn into_raw(self) -> web_sys::ReadableStream {
        self.raw
    }

    /// The stream's chunks, read one at a time; an error ends it.
    pub fn into_stream(self) -> impl Stream<Item = Result<JsValue, JsValue>> + Unpin + 'static {
        let reader: web_sys::ReadableStreamDefaultReader = self.raw.get_reader().unchecked_into();
        Box::pin(stream::unfold(Some(reader), |reader| async move {
            let reader = reader?;
            match JsFuture::from(reader.read()).await {
                Err(e) => Some((Err(e), None)),
                Ok(result) => {
                    let field = |name: &str| {
                        js_sys::Reflect::get(&result, &JsValue::from_str(name)).unwrap_or_default()
                    };
                    if field("done").is_truthy() {
                        None
                    } else {
                        Some((Ok(field("value")), Some(reader)))
                    }
                }
            }
        }))
    }
}
