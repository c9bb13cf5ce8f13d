//! The imperative side of the page: the worker, the camera, the frame loop, drawing and photo mode.
//!
//! One [`Engine`] lives as long as the page (created by `hooks::use_engine`). It talks to the yew state only by
//! dispatching [`Action`]s. The frame loop follows the video's own frames (`requestVideoFrameCallback`, or
//! `requestAnimationFrame` where that is missing): a frame goes to the worker only when the worker is idle, so
//! frames are dropped rather than queued, and the UI thread only copies pixels and draws.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::rc::{Rc, Weak};

use js_sys::{Array, Function, Reflect, Uint8Array, Uint8ClampedArray};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::{spawn_local, JsFuture};
use web_sys::{
    CanvasRenderingContext2d, Document, Event, EventTarget, File, HtmlCanvasElement,
    HtmlImageElement, HtmlVideoElement, MediaStream, MessageEvent, VisibilityState, Worker,
};
use yew::UseReducerDispatcher;

use crate::camera;
use crate::draw;
use crate::paths;
use crate::protocol::{self, Request, Response, Source};
use crate::state::{Action, AppState, Report};

/// Live frames are scaled down so that their longer side is at most this many pixels before they are copied to the
/// worker: the detector sees 128x128 anyway, and the face crops (48x48) stay sharp for faces down to ~1/6 of the
/// frame.
pub const LIVE_MAX_SIDE: u32 = 320;
/// Photos are analysed (and shown, and downloaded) with their longer side at most this.
pub const PHOTO_MAX_SIDE: u32 = 1280;
/// How often a lost camera is looked for again.
const RETRY_LOST_CAMERA_MS: i32 = 2000;

/// The DOM elements the engine draws into (owned by the components, handed over once mounted).
pub struct Elements {
    pub video: HtmlVideoElement,
    pub overlay: HtmlCanvasElement,
    pub photo: HtmlCanvasElement,
}

/// A handle to the page's engine; cheap to clone.
#[derive(Clone)]
pub struct Engine(Rc<Inner>);

impl PartialEq for Engine {
    fn eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.0, &other.0)
    }
}

type FrameClosure = Closure<dyn FnMut(f64, JsValue)>;
/// An event listener to remove on shut-down: target, event name, handler.
type Listener = (EventTarget, &'static str, Closure<dyn FnMut(Event)>);

struct Inner {
    dispatch: UseReducerDispatcher<AppState>,
    document: Document,
    el: Elements,
    /// An off-screen canvas the live frames are scaled onto and read back from.
    capture: HtmlCanvasElement,
    capture_ctx: CanvasRenderingContext2d,
    overlay_ctx: CanvasRenderingContext2d,
    /// The chosen photo at analysis size, without annotations.
    photo_base: HtmlCanvasElement,
    worker: Worker,
    /// The worker has registered its message handler (messages sent earlier would be lost).
    worker_started: Cell<bool>,
    /// The fetched model files, until the worker can take them.
    models: RefCell<Option<Vec<Uint8Array>>>,
    /// A frame is at the worker; nothing else is sent until it answers.
    busy: Cell<bool>,
    /// A video frame went by while the worker was busy.
    dropped: Cell<bool>,
    seq: Cell<u32>,
    /// A photo waiting for the worker to become idle.
    pending_photo: RefCell<Option<(JsValue, Array)>>,
    stream: RefCell<Option<MediaStream>>,
    /// The camera asked for (None: the front camera).
    wanted_camera: RefCell<Option<String>>,
    /// The camera is on (or lost and being looked for) and the live view should be analysed.
    live_on: Cell<bool>,
    lost: Cell<bool>,
    photo_view: Cell<bool>,
    /// The pending frame callback, if any: (id, through requestVideoFrameCallback).
    armed: Cell<Option<(u32, bool)>>,
    frame_closure: RefCell<Option<FrameClosure>>,
    /// When the last live answers arrived (for frames per second).
    answers: RefCell<VecDeque<f64>>,
    live_report: RefCell<Report>,
    photo_report: RefCell<Option<Report>>,
    listeners: RefCell<Vec<Listener>>,
    retry_timer: Cell<Option<i32>>,
    retry_closure: RefCell<Option<Closure<dyn FnMut()>>>,
}

fn js_err(e: JsValue) -> String {
    camera::describe(&e)
}

fn now_ms() -> f64 {
    web_sys::window()
        .and_then(|w| w.performance())
        .map_or_else(js_sys::Date::now, |p| p.now())
}

fn new_canvas(document: &Document) -> Result<HtmlCanvasElement, String> {
    document
        .create_element("canvas")
        .map_err(js_err)?
        .dyn_into::<HtmlCanvasElement>()
        .map_err(|_| "not a canvas".to_string())
}

impl Engine {
    /// Starts the worker, fetches the models for it and registers the service worker.
    pub fn new(dispatch: UseReducerDispatcher<AppState>, el: Elements) -> Result<Self, String> {
        let window = web_sys::window().ok_or("no window")?;
        let document = window.document().ok_or("no document")?;
        let capture = new_canvas(&document)?;
        let capture_ctx = draw::context_2d(&capture, true)?;
        let overlay_ctx = draw::context_2d(&el.overlay, false)?;
        let photo_base = new_canvas(&document)?;
        let worker = Worker::new(paths::WORKER)
            .map_err(|e| format!("starting the worker: {}", js_err(e)))?;
        let inner = Rc::new(Inner {
            dispatch,
            document,
            el,
            capture,
            capture_ctx,
            overlay_ctx,
            photo_base,
            worker,
            worker_started: Cell::new(false),
            models: RefCell::new(None),
            busy: Cell::new(false),
            dropped: Cell::new(false),
            seq: Cell::new(0),
            pending_photo: RefCell::new(None),
            stream: RefCell::new(None),
            wanted_camera: RefCell::new(None),
            live_on: Cell::new(false),
            lost: Cell::new(false),
            photo_view: Cell::new(false),
            armed: Cell::new(None),
            frame_closure: RefCell::new(None),
            answers: RefCell::new(VecDeque::new()),
            live_report: RefCell::new(Report::default()),
            photo_report: RefCell::new(None),
            listeners: RefCell::new(Vec::new()),
            retry_timer: Cell::new(None),
            retry_closure: RefCell::new(None),
        });
        inner.wire()?;
        register_service_worker();
        let loading = Rc::downgrade(&inner);
        spawn_local(async move {
            let result = fetch_models().await;
            let Some(inner) = loading.upgrade() else {
                return;
            };
            match result {
                Ok(models) => {
                    *inner.models.borrow_mut() = Some(models);
                    inner.send_models();
                }
                Err(message) => inner.dispatch.dispatch(Action::ModelsFailed(message)),
            }
        });
        Ok(Self(inner))
    }

    /// Opens a camera (None: the front one) and starts analysing it.
    pub fn start_camera(&self, device: Option<String>) {
        *self.0.wanted_camera.borrow_mut() = device;
        self.0.photo_view.set(false);
        self.0.clone().open_camera(false);
    }

    pub fn stop_camera(&self) {
        self.0.close_camera();
        self.0.dispatch.dispatch(Action::CameraStopped);
    }

    /// Back from a photo to the live view.
    pub fn show_live(&self) {
        self.0.photo_view.set(false);
        self.0.dispatch.dispatch(Action::ShowLive);
        self.0.arm();
    }

    /// Analyses a photo the user chose or dropped.
    pub fn analyse_photo(&self, file: File) {
        self.0.photo_view.set(true);
        self.0.dispatch.dispatch(Action::PhotoChosen);
        self.0.clone().load_photo(file);
    }

    /// Downloads the live view as the user sees it: the mirrored frame with the boxes and emojis drawn in.
    pub fn snapshot(&self) {
        let inner = &self.0;
        let video = &inner.el.video;
        let (w, h) = (
            f64::from(video.video_width()),
            f64::from(video.video_height()),
        );
        if w == 0.0 {
            return;
        }
        let result = (|| {
            let canvas = new_canvas(&inner.document)?;
            canvas.set_width(w as u32);
            canvas.set_height(h as u32);
            let ctx = draw::context_2d(&canvas, false)?;
            draw::frame(&ctx, video, w, h, true)?;
            draw::faces(&ctx, w, h, &inner.live_report.borrow(), true);
            download(&canvas, "emoji-mirror-snapshot.png")
        })();
        if let Err(message) = result {
            web_sys::console::error_1(&format!("snapshot: {message}").into());
        }
    }

    /// Downloads the annotated photo.
    pub fn download_photo(&self) {
        if let Err(message) = download(&self.0.el.photo, "emoji-mirror-photo.png") {
            web_sys::console::error_1(&format!("download: {message}").into());
        }
    }

    /// Stops everything (the page is going away).
    pub fn shut_down(&self) {
        self.0.close_camera();
        for (target, kind, listener) in self.0.listeners.borrow_mut().drain(..) {
            let _ =
                target.remove_event_listener_with_callback(kind, listener.as_ref().unchecked_ref());
        }
        self.0.worker.set_onmessage(None);
        self.0.worker.terminate();
    }
}

async fn fetch_bytes(url: &str) -> Result<Uint8Array, String> {
    let window = web_sys::window().ok_or("no window")?;
    let response = JsFuture::from(window.fetch_with_str(url))
        .await
        .map_err(|e| format!("{url}: {}", js_err(e)))?;
    let response: web_sys::Response = response
        .dyn_into()
        .map_err(|_| format!("{url}: not a response"))?;
    if !response.ok() {
        return Err(format!("{url}: HTTP {}", response.status()));
    }
    let buffer = JsFuture::from(response.array_buffer().map_err(js_err)?)
        .await
        .map_err(js_err)?;
    Ok(Uint8Array::new(&buffer))
}

async fn fetch_models() -> Result<Vec<Uint8Array>, String> {
    let detector = fetch_bytes(paths::DETECTOR_MODEL).await?;
    let emotion = fetch_bytes(paths::EMOTION_MODEL).await?;
    Ok(vec![detector, emotion])
}

fn register_service_worker() {
    let Some(window) = web_sys::window() else {
        return;
    };
    let navigator = window.navigator();
    if !Reflect::has(&navigator, &"serviceWorker".into()).unwrap_or(false) {
        return;
    }
    let promise = navigator.service_worker().register(paths::SERVICE_WORKER);
    spawn_local(async move {
        if let Err(e) = JsFuture::from(promise).await {
            web_sys::console::warn_1(&format!("offline mode unavailable: {}", js_err(e)).into());
        }
    });
}

/// Saves a canvas as a PNG file.
fn download(canvas: &HtmlCanvasElement, name: &'static str) -> Result<(), String> {
    let on_blob = Closure::once_into_js(move |blob: Option<web_sys::Blob>| {
        let Some(blob) = blob else { return };
        let Ok(url) = web_sys::Url::create_object_url_with_blob(&blob) else {
            return;
        };
        let document = web_sys::window().and_then(|w| w.document());
        if let Some(a) = document
            .and_then(|d| d.create_element("a").ok())
            .and_then(|a| a.dyn_into::<web_sys::HtmlAnchorElement>().ok())
        {
            a.set_href(&url);
            a.set_download(name);
            a.click();
        }
        let revoke = Closure::once_into_js(move || {
            let _ = web_sys::Url::revoke_object_url(&url);
        });
        if let Some(w) = web_sys::window() {
            let _ = w.set_timeout_with_callback_and_timeout_and_arguments_0(
                revoke.unchecked_ref(),
                10_000,
            );
        }
    });
    canvas
        .to_blob_with_type(on_blob.unchecked_ref(), "image/png")
        .map_err(js_err)
}

impl Inner {
    fn listen(
        self: &Rc<Self>,
        target: &EventTarget,
        kind: &'static str,
        f: impl FnMut(Event) + 'static,
    ) -> Result<(), String> {
        let closure = Closure::<dyn FnMut(Event)>::new(f);
        target
            .add_event_listener_with_callback(kind, closure.as_ref().unchecked_ref())
            .map_err(js_err)?;
        self.listeners
            .borrow_mut()
            .push((target.clone(), kind, closure));
        Ok(())
    }

    /// Connects the worker, the page visibility, device changes and the frame callback.
    fn wire(self: &Rc<Self>) -> Result<(), String> {
        let weak = Rc::downgrade(self);
        let on_message = {
            let weak = weak.clone();
            move |event: Event| {
                let Some(inner) = weak.upgrade() else { return };
                let Ok(event) = event.dyn_into::<MessageEvent>() else {
                    return;
                };
                match protocol::decode::<Response>(event.data()) {
                    Ok((response, _)) => inner.on_response(response),
                    Err(message) => web_sys::console::error_1(&message.into()),
                }
            }
        };
        self.listen(&self.worker.clone().into(), "message", on_message)?;
        let on_error = {
            let weak = weak.clone();
            move |event: Event| {
                let Some(inner) = weak.upgrade() else { return };
                let message = Reflect::get(&event, &"message".into())
                    .ok()
                    .and_then(|m| m.as_string());
                inner.dispatch.dispatch(Action::ModelsFailed(format!(
                    "The analysis worker failed: {}",
                    message.unwrap_or_else(|| "it could not start".into())
                )));
            }
        };
        self.listen(&self.worker.clone().into(), "error", on_error)?;

        let on_visibility = {
            let weak = weak.clone();
            move |_: Event| {
                if let Some(inner) = weak.upgrade() {
                    if inner.hidden() {
                        inner.disarm();
                    } else {
                        inner.arm();
                    }
                }
            }
        };
        self.listen(
            &self.document.clone().into(),
            "visibilitychange",
            on_visibility,
        )?;

        // `mediaDevices` is missing outside secure contexts; the camera then reports the error itself.
        let navigator = web_sys::window().map(|w| w.navigator());
        let devices = navigator
            .filter(|n| Reflect::has(n, &"mediaDevices".into()).unwrap_or(false))
            .and_then(|n| n.media_devices().ok());
        if let Some(devices) = devices {
            let weak = weak.clone();
            self.listen(&devices.into(), "devicechange", move |_: Event| {
                if let Some(inner) = weak.upgrade() {
                    if inner.lost.get() {
                        inner.clone().open_camera(true);
                    }
                }
            })?;
        }

        let frame = Closure::<dyn FnMut(f64, JsValue)>::new({
            let weak = weak.clone();
            move |now: f64, _meta: JsValue| {
                if let Some(inner) = weak.upgrade() {
                    inner.armed.set(None);
                    inner.on_video_frame(now);
                    inner.arm();
                }
            }
        });
        *self.frame_closure.borrow_mut() = Some(frame);

        let retry = Closure::<dyn FnMut()>::new(move || {
            if let Some(inner) = weak.upgrade() {
                if inner.lost.get() && inner.stream.borrow().is_none() {
                    inner.clone().open_camera(true);
                }
            }
        });
        *self.retry_closure.borrow_mut() = Some(retry);
        Ok(())
    }

    fn hidden(&self) -> bool {
        self.document.visibility_state() == VisibilityState::Hidden
    }

    /// The live loop should run: camera on, live view shown, page visible.
    fn looping(&self) -> bool {
        self.live_on.get() && !self.lost.get() && !self.photo_view.get() && !self.hidden()
    }

    /// Asks for a callback at the next video frame (if the loop should run and none is pending).
    fn arm(&self) {
        if self.armed.get().is_some() || !self.looping() {
            return;
        }
        let closure = self.frame_closure.borrow();
        let Some(closure) = closure.as_ref() else {
            return;
        };
        let video = &self.el.video;
        let rvfc = Reflect::get(video, &"requestVideoFrameCallback".into())
            .ok()
            .and_then(|f| f.dyn_into::<Function>().ok());
        let armed = match rvfc {
            Some(f) => f
                .call1(video, closure.as_ref())
                .ok()
                .and_then(|id| id.as_f64())
                .map(|id| (id as u32, true)),
            None => web_sys::window()
                .and_then(|w| {
                    w.request_animation_frame(closure.as_ref().unchecked_ref())
                        .ok()
                })
                .map(|id| (id as u32, false)),
        };
        self.armed.set(armed);
    }

    fn disarm(&self) {
        let Some((id, video_callback)) = self.armed.take() else {
            return;
        };
        if video_callback {
            let video = &self.el.video;
            if let Some(cancel) = Reflect::get(video, &"cancelVideoFrameCallback".into())
                .ok()
                .and_then(|f| f.dyn_into::<Function>().ok())
            {
                let _ = cancel.call1(video, &JsValue::from(id));
            }
        } else if let Some(w) = web_sys::window() {
            let _ = w.cancel_animation_frame(id as i32);
        }
    }

    fn on_video_frame(&self, now: f64) {
        if !self.looping() {
            return;
        }
        if self.busy.get() {
            self.dropped.set(true);
            return;
        }
        if let Err(message) = self.send_live_frame(now) {
            web_sys::console::warn_1(&format!("frame: {message}").into());
        }
    }

    fn send_live_frame(&self, now: f64) -> Result<(), String> {
        let video = &self.el.video;
        let (vw, vh) = (video.video_width(), video.video_height());
        // HAVE_CURRENT_DATA
        if vw == 0 || vh == 0 || video.ready_state() < 2 {
            return Ok(());
        }
        let scale = (f64::from(LIVE_MAX_SIDE) / f64::from(vw.max(vh))).min(1.0);
        let (w, h) = (
            ((f64::from(vw) * scale).round() as u32).max(1),
            ((f64::from(vh) * scale).round() as u32).max(1),
        );
        if self.capture.width() != w || self.capture.height() != h {
            self.capture.set_width(w);
            self.capture.set_height(h);
        }
        self.capture_ctx
            .draw_image_with_html_video_element_and_dw_and_dh(
                video,
                0.0,
                0.0,
                f64::from(w),
                f64::from(h),
            )
            .map_err(js_err)?;
        let pixels = self.read_pixels(&self.capture_ctx, w, h)?;
        let seq = self.next_seq();
        self.post(
            &Request::Frame {
                seq,
                source: Source::Live,
                width: w,
                height: h,
                now_ms: now,
            },
            &[pixels],
        )?;
        self.busy.set(true);
        self.dropped.set(false);
        Ok(())
    }

    /// The canvas' RGBA bytes, as a typed array whose buffer can be transferred to the worker without a copy.
    fn read_pixels(
        &self,
        ctx: &CanvasRenderingContext2d,
        w: u32,
        h: u32,
    ) -> Result<Uint8Array, String> {
        let image = ctx
            .get_image_data(0.0, 0.0, f64::from(w), f64::from(h))
            .map_err(js_err)?;
        let data: Uint8ClampedArray = Reflect::get(&image, &"data".into())
            .map_err(js_err)?
            .dyn_into()
            .map_err(|_| "no pixel data")?;
        Ok(Uint8Array::new(&data.buffer()))
    }

    fn next_seq(&self) -> u32 {
        let seq = self.seq.get().wrapping_add(1);
        self.seq.set(seq);
        seq
    }

    fn post(&self, request: &Request, payloads: &[Uint8Array]) -> Result<(), String> {
        let (message, transfer) = protocol::encode(request, payloads)?;
        self.worker
            .post_message_with_transfer(&message, &transfer)
            .map_err(js_err)
    }

    /// Hands the models to the worker once both the files and the worker are there.
    fn send_models(&self) {
        if !self.worker_started.get() {
            return;
        }
        let Some(models) = self.models.borrow_mut().take() else {
            return;
        };
        if let Err(message) = self.post(&Request::Init, &models) {
            self.dispatch.dispatch(Action::ModelsFailed(message));
        }
    }

    fn on_response(self: &Rc<Self>, response: Response) {
        match response {
            Response::Started => {
                self.worker_started.set(true);
                self.send_models();
            }
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
                ..
            } => {
                self.busy.set(false);
                let report = Report {
                    faces,
                    width,
                    height,
                    timings,
                };
                match source {
                    Source::Live => self.on_live(report, wasm_bytes),
                    Source::Photo => self.on_photo(report),
                }
                self.after_answer();
            }
            Response::FrameFailed {
                source, message, ..
            } => {
                self.busy.set(false);
                match source {
                    Source::Live => web_sys::console::warn_1(&message.into()),
                    Source::Photo => self.dispatch.dispatch(Action::PhotoFailed(message)),
                }
                self.after_answer();
            }
        }
    }

    /// The worker is idle again: a waiting photo goes first, else a live frame that went by meanwhile.
    fn after_answer(&self) {
        if let Some((message, transfer)) = self.pending_photo.borrow_mut().take() {
            match self.worker.post_message_with_transfer(&message, &transfer) {
                Ok(()) => self.busy.set(true),
                Err(e) => self.dispatch.dispatch(Action::PhotoFailed(js_err(e))),
            }
            return;
        }
        if self.dropped.get() {
            self.on_video_frame(now_ms());
        }
    }

    fn on_live(&self, report: Report, wasm_bytes: f64) {
        let now = now_ms();
        let fps = {
            let mut answers = self.answers.borrow_mut();
            answers.push_back(now);
            while answers.front().is_some_and(|&t| now - t > 1000.0) {
                answers.pop_front();
            }
            answers.len() as f64 * 1000.0
                / (now - answers.front().copied().unwrap_or(now)).max(1000.0)
        };
        if !self.live_on.get() {
            return;
        }
        self.draw_overlay(&report);
        *self.live_report.borrow_mut() = report.clone();
        self.dispatch.dispatch(Action::LiveAnalysed {
            report,
            fps,
            now_ms: now,
            wasm_bytes,
        });
    }

    fn draw_overlay(&self, report: &Report) {
        let video = &self.el.video;
        let (vw, vh) = (video.video_width(), video.video_height());
        let canvas = &self.el.overlay;
        if vw > 0 && (canvas.width() != vw || canvas.height() != vh) {
            canvas.set_width(vw);
            canvas.set_height(vh);
        }
        let (w, h) = (f64::from(canvas.width()), f64::from(canvas.height()));
        draw::clear(&self.overlay_ctx, w, h);
        draw::faces(&self.overlay_ctx, w, h, report, true);
    }

    fn on_photo(&self, report: Report) {
        let canvas = &self.el.photo;
        let (w, h) = (f64::from(canvas.width()), f64::from(canvas.height()));
        let drawn = draw::context_2d(canvas, false).and_then(|ctx| {
            draw::frame(&ctx, &self.photo_base, w, h, false)?;
            draw::faces(&ctx, w, h, &report, false);
            Ok(())
        });
        match drawn {
            Ok(()) => {
                *self.photo_report.borrow_mut() = Some(report.clone());
                self.dispatch.dispatch(Action::PhotoAnalysed(report));
            }
            Err(message) => self.dispatch.dispatch(Action::PhotoFailed(message)),
        }
    }

    fn load_photo(self: Rc<Self>, file: File) {
        let fail =
            |inner: &Inner, message: String| inner.dispatch.dispatch(Action::PhotoFailed(message));
        let url = match web_sys::Url::create_object_url_with_blob(&file) {
            Ok(url) => url,
            Err(e) => return fail(&self, js_err(e)),
        };
        let image = match HtmlImageElement::new() {
            Ok(image) => image,
            Err(e) => return fail(&self, js_err(e)),
        };
        let weak: Weak<Inner> = Rc::downgrade(&self);
        let loaded = image.clone();
        let done_url = url.clone();
        let on_load = Closure::once_into_js(move |_: Event| {
            let _ = web_sys::Url::revoke_object_url(&done_url);
            let Some(inner) = weak.upgrade() else { return };
            if let Err(message) = inner.send_photo(&loaded) {
                fail(&inner, message);
            }
        });
        let weak = Rc::downgrade(&self);
        let name = file.name();
        let error_url = url.clone();
        let on_error = Closure::once_into_js(move |_: Event| {
            let _ = web_sys::Url::revoke_object_url(&error_url);
            if let Some(inner) = weak.upgrade() {
                fail(&inner, format!("“{name}” could not be read as an image."));
            }
        });
        image.set_onload(Some(on_load.unchecked_ref()));
        image.set_onerror(Some(on_error.unchecked_ref()));
        image.set_src(&url);
    }

    fn send_photo(&self, image: &HtmlImageElement) -> Result<(), String> {
        let (iw, ih) = (image.natural_width(), image.natural_height());
        if iw == 0 || ih == 0 {
            return Err("the image is empty".into());
        }
        let scale = (f64::from(PHOTO_MAX_SIDE) / f64::from(iw.max(ih))).min(1.0);
        let (w, h) = (
            ((f64::from(iw) * scale).round() as u32).max(1),
            ((f64::from(ih) * scale).round() as u32).max(1),
        );
        for canvas in [&self.photo_base, &self.el.photo] {
            canvas.set_width(w);
            canvas.set_height(h);
        }
        let base = draw::context_2d(&self.photo_base, true)?;
        draw::frame(&base, image, f64::from(w), f64::from(h), false)?;
        // Show the photo at once; the boxes follow when the worker answers.
        let shown = draw::context_2d(&self.el.photo, false)?;
        draw::frame(&shown, &self.photo_base, f64::from(w), f64::from(h), false)?;
        let pixels = self.read_pixels(&base, w, h)?;
        let seq = self.next_seq();
        let request = Request::Frame {
            seq,
            source: Source::Photo,
            width: w,
            height: h,
            now_ms: now_ms(),
        };
        if self.busy.get() {
            *self.pending_photo.borrow_mut() = Some(protocol::encode(&request, &[pixels])?);
        } else {
            self.post(&request, &[pixels])?;
            self.busy.set(true);
        }
        Ok(())
    }

    /// Opens the wanted camera; `retry` is a quiet attempt to get a lost camera back.
    fn open_camera(self: Rc<Self>, retry: bool) {
        if !retry {
            self.close_camera();
            self.dispatch.dispatch(Action::CameraStarting);
        }
        spawn_local(async move {
            let wanted = self.wanted_camera.borrow().clone();
            let opened = camera::open(wanted.as_deref()).await;
            // A retry that fails keeps the "lost" state and tries again later.
            if retry && opened.is_err() {
                return;
            }
            match opened {
                Ok(stream) => self.run_stream(stream).await,
                Err(failure) => {
                    self.dispatch.dispatch(Action::CameraFailed(failure));
                }
            }
        });
    }

    async fn run_stream(self: Rc<Self>, stream: MediaStream) {
        self.stop_retrying();
        self.lost.set(false);
        let video = &self.el.video;
        video.set_src_object(Some(&stream));
        // A track that ends while running means the camera went away (unplugged, taken by the system).
        for track in stream.get_video_tracks().iter() {
            let weak = Rc::downgrade(&self);
            let on_ended = Closure::once_into_js(move |_: Event| {
                if let Some(inner) = weak.upgrade() {
                    inner.camera_lost();
                }
            });
            if let Some(track) = track.dyn_ref::<web_sys::MediaStreamTrack>() {
                track.set_onended(Some(on_ended.unchecked_ref()));
            }
        }
        *self.stream.borrow_mut() = Some(stream.clone());
        if let Ok(promise) = video.play() {
            if let Err(e) = JsFuture::from(promise).await {
                // Autoplay of a muted inline video is allowed; anything else is worth a line in the console.
                web_sys::console::warn_1(&format!("video: {}", js_err(e)).into());
            }
        }
        let started_ms = now_ms();
        let active = camera::device_of(&stream);
        let cameras = camera::list().await;
        let _ = self.post(&Request::ResetTracker, &[]);
        self.answers.borrow_mut().clear();
        self.live_on.set(true);
        self.dispatch.dispatch(Action::CameraRunning {
            cameras,
            active,
            started_ms,
        });
        self.arm();
    }

    fn camera_lost(&self) {
        if !self.live_on.get() {
            return;
        }
        self.disarm();
        if let Some(stream) = self.stream.borrow_mut().take() {
            camera::stop(&stream);
        }
        self.el.video.set_src_object(None);
        self.lost.set(true);
        *self.live_report.borrow_mut() = Report::default();
        draw::clear(
            &self.overlay_ctx,
            f64::from(self.el.overlay.width()),
            f64::from(self.el.overlay.height()),
        );
        self.dispatch.dispatch(Action::CameraLost);
        if let (Some(window), Some(retry)) =
            (web_sys::window(), self.retry_closure.borrow().as_ref())
        {
            if let Ok(id) = window.set_interval_with_callback_and_timeout_and_arguments_0(
                retry.as_ref().unchecked_ref(),
                RETRY_LOST_CAMERA_MS,
            ) {
                self.retry_timer.set(Some(id));
            }
        }
    }

    fn stop_retrying(&self) {
        if let (Some(id), Some(window)) = (self.retry_timer.take(), web_sys::window()) {
            window.clear_interval_with_handle(id);
        }
    }

    fn close_camera(&self) {
        self.disarm();
        self.stop_retrying();
        self.live_on.set(false);
        self.lost.set(false);
        if let Some(stream) = self.stream.borrow_mut().take() {
            camera::stop(&stream);
        }
        self.el.video.set_src_object(None);
        *self.live_report.borrow_mut() = Report::default();
        draw::clear(
            &self.overlay_ctx,
            f64::from(self.el.overlay.width()),
            f64::from(self.el.overlay.height()),
        );
    }
}
