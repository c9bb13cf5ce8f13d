//! The inference worker: keeps the `Pipeline`, the `Tracker` and the `Stream` (the detector's search, the
//! classifier's next view) of the live camera, and answers one frame at a time.
//!
//! The page never sends a new frame before the answer to the last one has arrived, so the worker needs no queue.
//! The pixel buffers are kept between frames so that a long session does not churn the wasm heap.

use std::cell::RefCell;
use std::rc::Rc;

use emoji_pipeline::{
    Contract, Frame, Pipeline, RgbImage, Stream, TrackedFace, Tracker, TrackerConfig,
};
use js_sys::Uint8Array;
use wasm_bindgen::prelude::*;
use web_sys::{DedicatedWorkerGlobalScope, MessageEvent};

use crate::dom::now_ms;
use crate::protocol::{self, Face, Request, Response, Source, Timings};
use crate::raw_frame::{self, RawLayout};

/// What the worker keeps between messages.
struct Inference {
    pipeline: Option<Pipeline>,
    tracker: Tracker,
    stream: Stream,
    /// A canvas's or photo's RGBA pixels, as they came.
    pixels: Vec<u8>,
    /// A camera frame's planes, as they came (kept too).
    raw: Vec<u8>,
    /// The camera frame's planes made RGB, the pipeline's pixels (lent to each frame's image and taken back).
    rgb: Vec<u8>,
}

/// Registers the message handler; called by the worker's `main`.
pub fn start() {
    let scope: DedicatedWorkerGlobalScope = js_sys::global().unchecked_into();
    let state = Rc::new(RefCell::new(Inference {
        pipeline: None,
        tracker: Tracker::new(TrackerConfig::default()),
        stream: Stream::new(),
        pixels: Vec::new(),
        raw: Vec::new(),
        rgb: Vec::new(),
    }));
    let reply_scope = scope.clone();
    let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
        let response = match protocol::decode::<Request>(event.data()) {
            Ok((request, payloads)) => state.borrow_mut().handle(request, &payloads),
            Err(message) => Some(Response::Failed { message }),
        };
        if let Some(response) = response {
            post(&reply_scope, &response);
        }
    });
    scope.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    // The handler lives as long as the worker.
    on_message.forget();
    post(&scope, &Response::Started);
}

fn post(scope: &DedicatedWorkerGlobalScope, response: &Response) {
    match protocol::encode(response, &[]) {
        Ok((message, _)) => {
            if let Err(err) = scope.post_message(&message) {
                web_sys::console::error_2(&"emoji-mirror worker: cannot reply".into(), &err);
            }
        }
        Err(message) => web_sys::console::error_1(&message.into()),
    }
}

impl Inference {
    fn handle(&mut self, request: Request, payloads: &[Uint8Array]) -> Option<Response> {
        let start = now_ms();
        match request {
            Request::Init => Some(self.init(payloads)),
            Request::ResetTracker => {
                self.tracker.reset();
                self.stream = Stream::new();
                None
            }
            Request::Frame {
                source,
                width,
                height,
                now_ms: frame_ms,
            } => Some(
                self.copy_pixels(width, height, payloads)
                    .and_then(|()| {
                        let frame = Frame {
                            width,
                            height,
                            rgba: &self.pixels,
                        };
                        frame
                            .to_rgb()
                            .map_err(|e| format!("reading the frame: {e}"))
                    })
                    .and_then(|image| self.analyse(source, &image, frame_ms, start))
                    .unwrap_or_else(|message| Response::FrameFailed { source, message }),
            ),
            Request::RawFrame {
                layout,
                width,
                height,
                now_ms: frame_ms,
            } => Some(
                self.convert_raw(&layout, width, height, payloads)
                    .and_then(|image| {
                        let answer = self.analyse(Source::Live, &image, frame_ms, start);
                        self.rgb = image.into_raw();
                        answer
                    })
                    .unwrap_or_else(|message| Response::FrameFailed {
                        source: Source::Live,
                        message,
                    }),
            ),
        }
    }

    fn init(&mut self, payloads: &[Uint8Array]) -> Response {
        let start = now_ms();
        let [detector, emotion] = payloads else {
            return Response::Failed {
                message: format!("expected 2 model files, got {}", payloads.len()),
            };
        };
        match Pipeline::from_bytes(&detector.to_vec(), &emotion.to_vec()) {
            Ok(pipeline) => {
                self.pipeline = Some(pipeline);
                let contract = Contract::shipped();
                Response::Ready {
                    load_ms: now_ms() - start,
                    labels: contract.labels.clone(),
                    emoji: contract.emoji.clone(),
                }
            }
            Err(err) => Response::Failed {
                message: format!("loading the models: {err}"),
            },
        }
    }

    /// A frame's RGBA bytes into the kept buffer.
    fn copy_pixels(
        &mut self,
        width: u32,
        height: u32,
        payloads: &[Uint8Array],
    ) -> Result<(), String> {
        let bytes = payloads.first().ok_or("a frame without pixels")?;
        let expected = width as usize * height as usize * 4;
        if bytes.length() as usize != expected {
            return Err(format!(
                "a {width}x{height} frame needs {expected} bytes, got {}",
                bytes.length()
            ));
        }
        self.pixels.resize(expected, 0);
        bytes.copy_to(&mut self.pixels);
        Ok(())
    }

    /// A camera frame's planes made into an RGB image at `width` x `height`, in the kept buffer (give it back).
    fn convert_raw(
        &mut self,
        layout: &RawLayout,
        width: u32,
        height: u32,
        payloads: &[Uint8Array],
    ) -> Result<RgbImage, String> {
        let bytes = payloads.first().ok_or("a frame without its planes")?;
        self.raw.resize(bytes.length() as usize, 0);
        bytes.copy_to(&mut self.raw);
        let mut rgb = std::mem::take(&mut self.rgb);
        raw_frame::to_rgb(layout, &self.raw, width, height, &mut rgb)
            .map_err(|e| format!("reading the camera's frame: {e}"))?;
        RgbImage::from_raw(width, height, rgb)
            .ok_or_else(|| "the camera's frame came out short".to_string())
    }

    /// A frame analysed; `start`: when the worker took the message.
    fn analyse(
        &mut self,
        source: Source,
        image: &RgbImage,
        frame_ms: f64,
        start: f64,
    ) -> Result<Response, String> {
        let pipeline = self
            .pipeline
            .as_ref()
            .ok_or("the models are not loaded yet")?;
        // Live frames share the detector's search across frames (a few tiles a frame); a photo gets the whole plan.
        let analysis = match source {
            Source::Live => pipeline.analyze_in_stream(image, &mut self.stream),
            Source::Photo => pipeline.analyze(image),
        }
        .map_err(|e| format!("analysing the frame: {e}"))?;
        let tracked = match source {
            Source::Live => self.tracker.update(&analysis.faces, frame_ms),
            // A photo is judged alone: a fresh tracker gives the same fields (top, confidence, not sure) unsmoothed.
            Source::Photo => Tracker::new(TrackerConfig::default()).update(&analysis.faces, 0.0),
        };
        let timings = Timings {
            detect_ms: analysis.timings.detect_ms,
            crop_ms: analysis.timings.crop_ms,
            classify_ms: analysis.timings.classify_ms,
            worker_ms: now_ms() - start,
        };
        Ok(Response::Analysed {
            source,
            width: image.width(),
            height: image.height(),
            faces: tracked.iter().map(face).collect(),
            timings,
            wasm_bytes: crate::wasm_memory_bytes(),
        })
    }
}

fn face(t: &TrackedFace) -> Face {
    Face {
        id: t.id,
        x: t.bbox.x,
        y: t.bbox.y,
        w: t.bbox.w,
        h: t.bbox.h,
        probabilities: t.probabilities.to_vec(),
        top: t.top,
        label: emoji_pipeline::label(t.top).to_string(),
        emoji: emoji_pipeline::emoji(t.top).to_string(),
        confidence: t.confidence,
        uncertain: t.uncertain,
    }
}
