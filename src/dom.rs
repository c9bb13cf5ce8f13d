//! Small browser helpers shared by the page's parts: JS errors as one line of text, the page's clock, new canvases,
//! and event listeners that can be removed again.

use wasm_bindgen::prelude::*;
use web_sys::{Document, DomException, Event, EventTarget, HtmlCanvasElement};

/// A one-line description of a JS error.
pub fn describe(err: &JsValue) -> String {
    if let Some(e) = err.dyn_ref::<DomException>() {
        return format!("{}: {}", e.name(), e.message());
    }
    if let Some(e) = err.dyn_ref::<js_sys::Error>() {
        return String::from(e.message());
    }
    err.as_string().unwrap_or_else(|| format!("{err:?}"))
}

/// The page's (or the worker's) monotonic clock in milliseconds (`performance.now()`).
pub fn now_ms() -> f64 {
    js_sys::Reflect::get(&js_sys::global(), &"performance".into())
        .ok()
        .and_then(|p| p.dyn_into::<web_sys::Performance>().ok())
        .map_or_else(js_sys::Date::now, |p| p.now())
}

/// A canvas that is not in the page.
pub fn new_canvas(document: &Document) -> Result<HtmlCanvasElement, String> {
    document
        .create_element("canvas")
        .map_err(|e| describe(&e))?
        .dyn_into::<HtmlCanvasElement>()
        .map_err(|_| "not a canvas".to_string())
}

/// An event handler for `kind` events of `target`: made first, [`attach`](Listener::attach)ed once its owner exists,
/// and removed by [`detach`](Listener::detach) (or when dropped).
pub struct Listener {
    target: EventTarget,
    kind: &'static str,
    handler: Closure<dyn FnMut(Event)>,
}

impl Listener {
    pub fn new(
        target: &EventTarget,
        kind: &'static str,
        handler: impl FnMut(Event) + 'static,
    ) -> Self {
        Self {
            target: target.clone(),
            kind,
            handler: Closure::new(handler),
        }
    }

    pub fn attach(&self) -> Result<(), String> {
        self.target
            .add_event_listener_with_callback(self.kind, self.handler.as_ref().unchecked_ref())
            .map_err(|e| describe(&e))
    }

    pub fn detach(&self) {
        let _ = self
            .target
            .remove_event_listener_with_callback(self.kind, self.handler.as_ref().unchecked_ref());
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        self.detach();
    }
}
