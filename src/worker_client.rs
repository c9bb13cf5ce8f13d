//! The page's side of the inference worker: starts it, hands it the model files, sends it frames and reads its
//! answers (messages as in [`crate::protocol`]).
//!
//! The worker analyses one frame at a time. While a frame is at the worker (`busy`), live frames are not queued: the
//! client only remembers that one went by, and the camera captures a fresh one when the answer arrives. A photo
//! waits in a one-place queue and goes before live frames. Start-up and model news become [`Action`]s; the answers
//! to frames are handed back to the engine, which gives them to the camera or to the photo.

use std::cell::RefCell;

use js_sys::{Array, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::Worker;
use yew::UseReducerDispatcher;

use crate::dom::{describe, now_ms};
use crate::paths;
use crate::protocol::{self, Request, Response, Source};
use crate::raw_frame::RawLayout;
use crate::state::{Action, AppState, Report};

/// Getting the models into the worker: the files and the worker's start-up arrive in either order.
enum Handoff {
    Waiting,
    Fetched(Vec<Uint8Array>),
    Listening,
    Sent,
}

/// The frame at the worker and those waiting for it.
#[derive(Default)]
struct Queue {
    /// A frame is at the worker; nothing else is sent until it answers.
    busy: bool,
    /// A photo waiting for the worker (the encoded message and its transfer list).
    photo: Option<(JsValue, Array)>,
    /// A live frame went by while the worker was busy.
    live_wanted: bool,
}

/// The worker's answer to one frame.
pub enum Answer {
    Analysed {
        source: Source,
        report: Report,
        /// The worker's wasm memory size.
        wasm_bytes: f64,
    },
    Failed {
        source: Source,
        message: String,
    },
}

pub struct WorkerClient {
    worker: Worker,
    dispatch: UseReducerDispatcher<AppState>,
    handoff: RefCell<Handoff>,
    queue: RefCell<Queue>,
}

impl WorkerClient {
    /// Starts the worker (its messages are read by whoever listens on [`worker`](Self::worker)).
    pub fn start(dispatch: UseReducerDispatcher<AppState>) -> Result<Self, String> {
        let worker = Worker::new(paths::WORKER)
            .map_err(|e| format!("starting the worker: {}", describe(&e)))?;
        Ok(Self {
            worker,
            dispatch,
            handoff: RefCell::new(Handoff::Waiting),
            queue: RefCell::new(Queue::default()),
        })
    }

    pub fn worker(&self) -> &Worker {
        &self.worker
    }

    /// The model files, fetched: they go to the worker once it listens.
    pub fn models_fetched(&self, models: Vec<Uint8Array>) {
        let ready = {
            let mut handoff = self.handoff.borrow_mut();
            match std::mem::replace(&mut *handoff, Handoff::Waiting) {
                Handoff::Listening => {
                    *handoff = Handoff::Sent;
                    Some(models)
                }
                _ => {
                    *handoff = Handoff::Fetched(models);
                    None
                }
            }
        };
        if let Some(models) = ready {
            self.send_models(&models);
        }
    }

    fn worker_listening(&self) {
        let ready = {
            let mut handoff = self.handoff.borrow_mut();
            match std::mem::replace(&mut *handoff, Handoff::Listening) {
                Handoff::Fetched(models) => {
                    *handoff = Handoff::Sent;
                    Some(models)
                }
                Handoff::Sent => {
                    *handoff = Handoff::Sent;
                    None
                }
                Handoff::Waiting | Handoff::Listening => None,
            }
        };
        if let Some(models) = ready {
            self.send_models(&models);
        }
    }

    fn send_models(&self, models: &[Uint8Array]) {
        if let Err(message) = self.post(&Request::Init, models) {
            self.dispatch.dispatch(Action::ModelsFailed(message));
        }
    }

    /// Reads one message of the worker. An answer to a frame frees the worker and is returned.
    pub fn receive(&self, data: JsValue) -> Option<Answer> {
        let response = match protocol::decode::<Response>(data) {
            Ok((response, _)) => response,
            Err(message) => {
                web_sys::console::error_1(&message.into());
                return None;
            }
        };
        match response {
            Response::Started => self.worker_listening(),
            Response::Ready {
                load_ms,
                labels,
                emoji,
            } => self.dispatch.dispatch(Action::ModelsReady {
                load_ms,
                labels,
                emoji,
            }),
            Response::Failed { message } => self.dispatch.dispatch(Action::ModelsFailed(message)),
            Response::Analysed {
                source,
                width,
                height,
                faces,
                timings,
                wasm_bytes,
            } => {
                self.queue.borrow_mut().busy = false;
                let report = Report {
                    faces,
                    width,
                    height,
                    timings,
                };
                return Some(Answer::Analysed {
                    source,
                    report,
                    wasm_bytes,
                });
            }
            Response::FrameFailed { source, message } => {
                self.queue.borrow_mut().busy = false;
                return Some(Answer::Failed { source, message });
            }
        }
        None
    }

    /// Whether a live frame can go now; if not (the worker is busy), that one went by is remembered.
    pub fn ready_for_live(&self) -> bool {
        let mut queue = self.queue.borrow_mut();
        if queue.busy {
            queue.live_wanted = true;
        }
        !queue.busy
    }

    /// Sends a live frame (`width` x `height` RGBA `pixels`, captured at `now_ms`).
    pub fn send_live(
        &self,
        width: u32,
        height: u32,
        now_ms: f64,
        pixels: Uint8Array,
    ) -> Result<(), String> {
        let request = Request::Frame {
            source: Source::Live,
            width,
            height,
            now_ms,
        };
        self.post(&request, &[pixels])?;
        let mut queue = self.queue.borrow_mut();
        queue.busy = true;
        queue.live_wanted = false;
        Ok(())
    }

    /// A live frame is on its way (its planes are being copied out): the worker counts as busy with it.
    pub fn live_frame_coming(&self) {
        let mut queue = self.queue.borrow_mut();
        queue.busy = true;
        queue.live_wanted = false;
    }

    /// The live frame announced by [`live_frame_coming`](Self::live_frame_coming), as the camera holds it: its
    /// planes' `bytes` laid out as `layout`, to be analysed at `width` x `height`.
    pub fn send_live_raw(
        &self,
        layout: RawLayout,
        width: u32,
        height: u32,
        now_ms: f64,
        bytes: Uint8Array,
    ) -> Result<(), String> {
        let request = Request::RawFrame {
            layout,
            width,
            height,
            now_ms,
        };
        self.post(&request, &[bytes])
    }

    /// The live frame on its way could not be sent: the worker is free again.
    pub fn live_frame_lost(&self) {
        self.queue.borrow_mut().busy = false;
    }

    /// Sends a photo, or queues it until the worker's answer to the frame it has.
    pub fn send_photo(&self, width: u32, height: u32, pixels: Uint8Array) -> Result<(), String> {
        let request = Request::Frame {
            source: Source::Photo,
            width,
            height,
            now_ms: now_ms(),
        };
        let mut queue = self.queue.borrow_mut();
        if queue.busy {
            queue.photo = Some(protocol::encode(&request, &[pixels])?);
        } else {
            self.post(&request, &[pixels])?;
            queue.busy = true;
        }
        Ok(())
    }

    /// After an answer: a waiting photo goes to the worker. Returns whether a live frame went by meanwhile and should
    /// be captured now.
    pub fn next(&self) -> bool {
        let mut queue = self.queue.borrow_mut();
        if queue.busy {
            return false;
        }
        let Some((message, transfer)) = queue.photo.take() else {
            return queue.live_wanted;
        };
        match self.worker.post_message_with_transfer(&message, &transfer) {
            Ok(()) => queue.busy = true,
            Err(e) => {
                drop(queue);
                self.dispatch.dispatch(Action::PhotoFailed(describe(&e)));
            }
        }
        false
    }

    /// The camera changed or restarted: the worker forgets the faces it tracks.
    pub fn reset_tracker(&self) {
        if let Err(message) = self.post(&Request::ResetTracker, &[]) {
            web_sys::console::warn_1(&message.into());
        }
    }

    pub fn terminate(&self) {
        self.worker.terminate();
    }

    fn post(&self, request: &Request, payloads: &[Uint8Array]) -> Result<(), String> {
        let (message, transfer) = protocol::encode(request, payloads)?;
        self.worker
            .post_message_with_transfer(&message, &transfer)
            .map_err(|e| describe(&e))
    }
}

/// Fetches the model files for the worker: the detector's, then the emotion model's.
pub async fn fetch_models() -> Result<Vec<Uint8Array>, String> {
    let detector = fetch_bytes(paths::DETECTOR_MODEL).await?;
    let emotion = fetch_bytes(paths::EMOTION_MODEL).await?;
    Ok(vec![detector, emotion])
}

async fn fetch_bytes(url: &str) -> Result<Uint8Array, String> {
    let window = web_sys::window().ok_or("no window")?;
    let response = JsFuture::from(window.fetch_with_str(url))
        .await
        .map_err(|e| format!("{url}: {}", describe(&e)))?;
    let response: web_sys::Response = response
        .dyn_into()
        .map_err(|_| format!("{url}: not a response"))?;
    if !response.ok() {
        return Err(format!("{url}: HTTP {}", response.status()));
    }
    let promise = response.array_buffer().map_err(|e| describe(&e))?;
    let buffer = JsFuture::from(promise).await.map_err(|e| describe(&e))?;
    Ok(Uint8Array::new(&buffer))
}
