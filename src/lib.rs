//! Emoji Mirror's site: a yew page that shows the emoji of your facial emotion, live from the webcam or from a photo,
//! with every model run in a Web Worker through the shared `emoji_pipeline` library. Nothing leaves the browser.
//!
//! Layout (after yew's `function_todomvc` and `web_worker_fib`, and candle's wasm `yolo`):
//! - [`state`]: the one reducer (`AppState` + `Action`);
//! - [`components`]: small function components that render the state;
//! - [`announce`]: what screen readers are told about the main face;
//! - [`timing`]: frames per second and the time to the first emoji, kept by the reducer;
//! - [`hooks`]: `use_engine`, which keeps the [`engine`] for the lifetime of the page;
//! - [`engine`]: starts the parts below and gives each answer of the worker to the camera or the photo;
//! - [`camera`]: the camera's life (start, lost, retry, stop), its frame loop and the overlay over the video;
//! - [`worker_client`]: the page's side of the worker (model hand-off, one frame at a time, the photo queue);
//! - [`photo`]: photo mode (load, scale, send, draw the answer, download);
//! - [`draw`]: drawing on canvases, reading their pixels, saving them as PNG; [`dom`]: small browser helpers;
//! - [`artwork`]: the emoji pictures (compiled in, shown from `data:` URLs) on the page and its canvases;
//! - [`protocol`]: the messages between the page and the worker; [`raw_frame`]: the camera's frames as the browser
//!   holds them (YUV planes), made into the pipeline's RGB in the worker; [`video_frame`]: copying them out of the
//!   browser's `VideoFrame`s;
//! - [`worker`]: the worker side, which keeps the `Pipeline` and the `Tracker`.
//!
//! Every part outside yew tells the page what happened only through [`state::Action`]s.

pub mod announce;
pub mod app;
pub mod artwork;
pub mod camera;
pub mod components;
pub mod dom;
pub mod draw;
pub mod engine;
pub mod hooks;
pub mod photo;
pub mod protocol;
pub mod raw_frame;
pub mod state;
pub mod timing;
pub mod video_frame;
#[cfg(feature = "worker")]
pub mod worker;
pub mod worker_client;

/// Where the page finds what trunk put next to `index.html` (relative, so the site works under any sub-path).
pub mod paths {
    /// The worker's loader shim written by trunk (`data-loader-shim`, `filehash = false`).
    pub const WORKER: &str = "./worker_loader.js";
    /// The BlazeFace short-range detector (copied from `models/`).
    pub const DETECTOR_MODEL: &str = "./blazeface_short_range.nnef.tar";
    /// The shipped int8 emotion classifier (copied from `models/`).
    pub const EMOTION_MODEL: &str = "./emotion_int8.nnef.tar";
    /// The service worker that keeps the site available offline.
    pub const SERVICE_WORKER: &str = "./sw.js";
}

/// Bytes of this module's WebAssembly memory (the page's or the worker's, whichever calls it): the stats panel and
/// the memory soak read it.
pub fn wasm_memory_bytes() -> f64 {
    use wasm_bindgen::JsCast;
    wasm_bindgen::memory()
        .dyn_into::<js_sys::WebAssembly::Memory>()
        .map(|m| {
            m.buffer()
                .unchecked_into::<js_sys::ArrayBuffer>()
                .byte_length() as f64
        })
        .unwrap_or(0.0)
}

/// Mounts the app on the page's `<body>`.
pub fn start_app() {
    yew::Renderer::<app::App>::new().render();
}
