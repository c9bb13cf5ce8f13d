//! The messages between the page and the inference worker.
//!
//! A message is a JS array: element 0 is the serde-encoded [`Request`] or [`Response`] (through `serde-wasm-bindgen`),
//! the rest are byte payloads (`Uint8Array`) whose buffers are *transferred*, not copied: model bytes on `Init`, RGBA
//! pixels on `Frame`, a camera frame's planes on `RawFrame`. Errors cross the boundary as strings. The page sends a
//! frame only when the worker has answered the last one, so an answer needs no number to say which frame it is about:
//! its `source` is enough.

use js_sys::{Array, Uint8Array};
use serde::{de::DeserializeOwned, Deserialize, Serialize};
use wasm_bindgen::{JsCast, JsValue};

use crate::raw_frame::RawLayout;

/// Where a frame comes from: the live camera (tracked and smoothed over time) or a still photo (analysed alone).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Source {
    Live,
    Photo,
}

/// Page → worker.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum Request {
    /// Payload: the detector's NNEF archive bytes, then the emotion model's.
    Init,
    /// Payload: `width * height * 4` RGBA bytes. `now_ms` is the page's clock when the frame was captured.
    Frame {
        source: Source,
        width: u32,
        height: u32,
        now_ms: f64,
    },
    /// A live frame as the camera holds it. Payload: its planes' bytes, laid out as `layout` says; the worker makes
    /// RGB of them, scaled to `width` x `height` ([`crate::raw_frame`]).
    RawFrame {
        layout: RawLayout,
        width: u32,
        height: u32,
        now_ms: f64,
    },
    /// Forget tracked faces (the camera changed or restarted).
    ResetTracker,
}

/// One face as the page draws it: its box in the frame's pixels and its (smoothed, for live frames) probabilities.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Face {
    pub id: u32,
    pub x: f32,
    pub y: f32,
    pub w: f32,
    pub h: f32,
    /// In the contract's label order.
    pub probabilities: Vec<f32>,
    pub top: usize,
    /// The label and emoji of `top` (from the pipeline's contract; the page has no copy of it).
    pub label: String,
    pub emoji: String,
    pub confidence: f32,
    /// No emotion is clearly ahead ("not sure").
    pub uncertain: bool,
}

impl Face {
    pub fn area(&self) -> f32 {
        self.w.max(0.0) * self.h.max(0.0)
    }
}

/// Milliseconds per stage, measured in the worker.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Timings {
    pub detect_ms: f64,
    pub crop_ms: f64,
    pub classify_ms: f64,
    /// Everything the worker did for the frame, copying the pixels and tracking included.
    pub worker_ms: f64,
}

/// Worker → page.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum Response {
    /// The worker listens (sent once, first: messages posted before it would be lost).
    Started,
    /// The models are loaded; `load_ms` is the time it took inside the worker. The labels and their emoji, in the
    /// order of `Face::probabilities`, come from the pipeline's contract.
    Ready {
        load_ms: f64,
        labels: Vec<String>,
        emoji: Vec<String>,
    },
    /// The models could not be loaded.
    Failed { message: String },
    /// The analysis of one frame. `wasm_bytes` is the worker's wasm memory size (for the memory soak test).
    Analysed {
        source: Source,
        width: u32,
        height: u32,
        faces: Vec<Face>,
        timings: Timings,
        wasm_bytes: f64,
    },
    /// One frame could not be analysed.
    FrameFailed { source: Source, message: String },
}

/// Builds a message and its transfer list from a header and byte payloads.
pub fn encode<T: Serialize>(
    header: &T,
    payloads: &[Uint8Array],
) -> Result<(JsValue, Array), String> {
    let message = Array::new();
    let transfer = Array::new();
    message.push(
        &serde_wasm_bindgen::to_value(header).map_err(|e| format!("encoding a message: {e}"))?,
    );
    for payload in payloads {
        message.push(payload);
        transfer.push(&payload.buffer());
    }
    Ok((message.into(), transfer))
}

/// Splits a received message into its header and byte payloads.
pub fn decode<T: DeserializeOwned>(data: JsValue) -> Result<(T, Vec<Uint8Array>), String> {
    let message: Array = data
        .dyn_into()
        .map_err(|_| "a message that is not an array".to_string())?;
    let header = serde_wasm_bindgen::from_value(message.get(0))
        .map_err(|e| format!("decoding a message: {e}"))?;
    let payloads = (1..message.length())
        .map(|i| {
            message
                .get(i)
                .dyn_into::<Uint8Array>()
                .map_err(|_| format!("payload {i} is not bytes"))
        })
        .collect::<Result<_, _>>()?;
    Ok((header, payloads))
}
