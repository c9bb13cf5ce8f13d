//! The live camera on the page: the stream's life (opened, lost and looked for again, stopped), the frame loop that
//! sends its frames to the worker, the overlay of boxes and emojis over the video, and the snapshot.
//!
//! Whether the loop runs is not kept but read from the page: the camera streams, the live view shows the video, and
//! the page is visible ([`Camera::follow_page`] runs when the view or the visibility changes). A frame goes to the
//! worker only when the worker is idle, so frames are dropped rather than queued, and the UI thread only copies the
//! camera's frame out (or, in browsers without `VideoFrame`, draws it scaled and reads its pixels) and draws. What
//! happens is told to the page through [`Action`]s.

pub mod devices;
mod frame_loop;

pub use frame_loop::Captured;

use std::cell::RefCell;
use std::rc::{Rc, Weak};

use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::{spawn_local, JsFuture};
use web_sys::{
    CanvasRenderingContext2d, Document, Event, HtmlCanvasElement, HtmlVideoElement, MediaStream,
    VisibilityState,
};
use yew::UseReducerDispatcher;

use crate::artwork::Pictures;
use crate::dom::{describe, new_canvas, now_ms, Listener};
use crate::draw;
use crate::state::{Action, AppState, Report};
use crate::video_frame;
use crate::worker_client::WorkerClient;
use frame_loop::{Capture, FrameLoop};

/// Live frames are scaled down so that their longer side is at most this many pixels before they are copied to the
/// worker: the detector sees 128x128 anyway, and the face crops (48x48) stay sharp for faces down to ~1/6 of the
/// frame.
pub const LIVE_MAX_SIDE: u32 = 320;
/// How often a lost camera is looked for again.
const RETRY_LOST_CAMERA_MS: i32 = 2000;

/// What the camera is doing; `wanted` is the camera asked for (None: the front one).
enum Stream {
    Off,
    On {
        stream: MediaStream,
        wanted: Option<String>,
    },
    /// The camera went away: it is looked for again by a timer and at each device change.
    Lost {
        wanted: Option<String>,
        timer: Option<i32>,
    },
}

pub struct Camera {
    dispatch: UseReducerDispatcher<AppState>,
    client: Rc<WorkerClient>,
    document: Document,
    video: HtmlVideoElement,
    overlay: HtmlCanvasElement,
    overlay_ctx: CanvasRenderingContext2d,
    pictures: Rc<Pictures>,
    frames: FrameLoop,
    stream: RefCell<Stream>,
    /// Run by the timer while the camera is lost.
    retry: Closure<dyn FnMut()>,
    /// The page's visibility and the devices' changes.
    listeners: Vec<Listener>,
}

impl Camera {
    /// The camera, off, showing on `video` with the boxes and `pictures` drawn on `overlay`; frames go to `client`.
    pub fn new(
        dispatch: UseReducerDispatcher<AppState>,
        client: Rc<WorkerClient>,
        video: HtmlVideoElement,
        overlay: HtmlCanvasElement,
        pictures: Rc<Pictures>,
    ) -> Result<Rc<Self>, String> {
        let document = web_sys::window()
            .and_then(|w| w.document())
            .ok_or("no document")?;
        let overlay_ctx = draw::context_2d(&overlay, false)?;
        let capture = Capture::new(&document)?;
        // `mediaDevices` is missing outside secure contexts; opening the camera then reports the error itself.
        let devices = web_sys::window()
            .map(|w| w.navigator())
            .filter(|n| js_sys::Reflect::has(n, &"mediaDevices".into()).unwrap_or(false))
            .and_then(|n| n.media_devices().ok());
        let camera = Rc::new_cyclic(|weak: &Weak<Camera>| {
            let on = |f: fn(&Rc<Camera>)| {
                let weak = weak.clone();
                move || {
                    if let Some(camera) = weak.upgrade() {
                        f(&camera);
                    }
                }
            };
            let on_frame = {
                let weak = weak.clone();
                move |now: f64| {
                    if let Some(camera) = weak.upgrade() {
                        camera.on_frame(now);
                    }
                }
            };
            let mut listeners = Vec::new();
            let on_visibility = on(|c| c.follow_page());
            listeners.push(Listener::new(
                &document,
                "visibilitychange",
                move |_: Event| on_visibility(),
            ));
            if let Some(devices) = devices {
                let on_device_change = on(|c| c.look_again());
                listeners.push(Listener::new(&devices, "devicechange", move |_: Event| {
                    on_device_change()
                }));
            }
            Camera {
                dispatch,
                client,
                document: document.clone(),
                frames: FrameLoop::new(video.clone(), capture, on_frame),
                video,
                overlay,
                overlay_ctx,
                pictures,
                stream: RefCell::new(Stream::Off),
                retry: Closure::new(on(|c| c.look_again())),
                listeners,
            }
        });
        for listener in &camera.listeners {
            listener.attach()?;
        }
        Ok(camera)
    }

    /// Opens a camera (None: the front one) and starts analysing it.
    pub fn start(self: &Rc<Self>, device: Option<String>) {
        self.close();
        self.dispatch.dispatch(Action::CameraStarting);
        self.clone().open(device, false);
    }

    pub fn stop(&self) {
        self.close();
        self.dispatch.dispatch(Action::CameraStopped);
    }

    /// Stops everything (the page is going away).
    pub fn shut_down(&self) {
        self.close();
        for listener in &self.listeners {
            listener.detach();
        }
    }

    /// Runs or stops the frame loop to match the page: it runs while the camera streams, the live view shows the
    /// video and the page is visible.
    pub fn follow_page(&self) {
        if self.looping() {
            self.frames.arm();
        } else {
            self.frames.disarm();
        }
    }

    fn streaming(&self) -> bool {
        matches!(*self.stream.borrow(), Stream::On { .. })
    }

    fn looping(&self) -> bool {
        self.streaming()
            && !self.video.hidden()
            && self.document.visibility_state() != VisibilityState::Hidden
    }

    fn on_frame(&self, now: f64) {
        self.frames.fired();
        self.frame_due(now);
        if self.looping() {
            self.frames.arm();
        }
    }

    /// A video frame went by (now, or while the worker was busy): it goes to the worker if the loop runs and the
    /// worker is idle.
    pub fn frame_due(&self, now: f64) {
        if !self.looping() || !self.client.ready_for_live() {
            return;
        }
        let sent = match self.frames.capture(LIVE_MAX_SIDE) {
            Ok(Some(Captured::Pixels {
                width,
                height,
                rgba,
            })) => self.client.send_live(width, height, now, rgba),
            Ok(Some(Captured::Raw {
                width,
                height,
                frame,
                layout,
            })) => {
                // The worker waits for this frame while its planes are copied out (asynchronously).
                self.client.live_frame_coming();
                let client = self.client.clone();
                spawn_local(async move {
                    let sent = match video_frame::copy(frame, layout).await {
                        Ok((layout, bytes)) => {
                            client.send_live_raw(layout, width, height, now, bytes)
                        }
                        Err(message) => Err(message),
                    };
                    if let Err(message) = sent {
                        client.live_frame_lost();
                        web_sys::console::warn_1(&format!("frame: {message}").into());
                    }
                });
                Ok(())
            }
            Ok(None) => Ok(()),
            Err(message) => Err(message),
        };
        if let Err(message) = sent {
            web_sys::console::warn_1(&format!("frame: {message}").into());
        }
    }

    /// The worker's answer to a live frame: drawn over the video and told to the page, while the camera streams.
    pub fn show(&self, report: Report, wasm_bytes: f64) {
        if !self.streaming() {
            return;
        }
        let now = now_ms();
        self.draw_overlay(&report);
        self.dispatch.dispatch(Action::LiveAnalysed {
            report,
            now_ms: now,
            wasm_bytes,
        });
    }

    /// Downloads the live view as the user sees it: the mirrored frame with the overlay (the boxes and emojis of the
    /// last answer, drawn at the video's size) on top.
    pub fn snapshot(&self) {
        let video = &self.video;
        let (w, h) = (
            f64::from(video.video_width()),
            f64::from(video.video_height()),
        );
        if w == 0.0 {
            return;
        }
        let result = (|| {
            let canvas = new_canvas(&self.document)?;
            canvas.set_width(w as u32);
            canvas.set_height(h as u32);
            let ctx = draw::context_2d(&canvas, false)?;
            draw::frame(&ctx, video, w, h, true)?;
            draw::frame(&ctx, &self.overlay, w, h, false)?;
            draw::save_png(&canvas, "emoji-mirror-snapshot.png")
        })();
        if let Err(message) = result {
            web_sys::console::error_1(&format!("snapshot: {message}").into());
        }
    }

    /// Opens the wanted camera; `retry` is a quiet attempt to get a lost camera back.
    fn open(self: Rc<Self>, wanted: Option<String>, retry: bool) {
        spawn_local(async move {
            match devices::open(wanted.as_deref()).await {
                Ok(stream) => self.run(stream, wanted).await,
                // A retry that fails keeps the "lost" state and tries again later.
                Err(_) if retry => {}
                Err(failure) => self.dispatch.dispatch(Action::CameraFailed(failure)),
            }
        });
    }

    async fn run(self: Rc<Self>, stream: MediaStream, wanted: Option<String>) {
        // The state holds this very stream, the one the video plays: `Clone::clone`, because web-sys's inherent
        // `MediaStream::clone` is the JS method, which makes a new stream with new tracks (stopping those would leave
        // the camera on, and the check below would take the new stream for a stale one).
        let before = std::mem::replace(
            &mut *self.stream.borrow_mut(),
            Stream::On {
                stream: Clone::clone(&stream),
                wanted,
            },
        );
        self.forget(before);
        let video = &self.video;
        video.set_src_object(Some(&stream));
        // A track that ends while running means the camera went away (unplugged, taken by the system).
        for track in stream.get_video_tracks().iter() {
            let weak = Rc::downgrade(&self);
            let on_ended = Closure::once_into_js(move |_: Event| {
                if let Some(camera) = weak.upgrade() {
                    camera.lost();
                }
            });
            if let Some(track) = track.dyn_ref::<web_sys::MediaStreamTrack>() {
                track.set_onended(Some(on_ended.unchecked_ref()));
            }
        }
        if let Ok(promise) = video.play() {
            if let Err(e) = JsFuture::from(promise).await {
                // Autoplay of a muted inline video is allowed; anything else is worth a line in the console.
                web_sys::console::warn_1(&format!("video: {}", describe(&e)).into());
            }
        }
        let started_ms = now_ms();
        let active = devices::device_of(&stream);
        let cameras = devices::list().await;
        // Stopped (or replaced) while starting: nothing more to do.
        if !matches!(&*self.stream.borrow(), Stream::On { stream: s, .. } if *s == stream) {
            return;
        }
        self.client.reset_tracker();
        self.dispatch.dispatch(Action::CameraRunning {
            cameras,
            active,
            started_ms,
        });
        self.follow_page();
    }

    fn lost(&self) {
        {
            let mut state = self.stream.borrow_mut();
            if !matches!(*state, Stream::On { .. }) {
                return;
            }
            let Stream::On { stream, wanted } = std::mem::replace(&mut *state, Stream::Off) else {
                return;
            };
            devices::stop(&stream);
            let timer = web_sys::window().and_then(|w| {
                w.set_interval_with_callback_and_timeout_and_arguments_0(
                    self.retry.as_ref().unchecked_ref(),
                    RETRY_LOST_CAMERA_MS,
                )
                .ok()
            });
            *state = Stream::Lost { wanted, timer };
        }
        self.frames.disarm();
        self.video.set_src_object(None);
        self.clear_overlay();
        self.dispatch.dispatch(Action::CameraLost);
    }

    /// Tries to get a lost camera back.
    fn look_again(self: &Rc<Self>) {
        let wanted = match &*self.stream.borrow() {
            Stream::Lost { wanted, .. } => wanted.clone(),
            _ => return,
        };
        self.clone().open(wanted, true);
    }

    fn close(&self) {
        self.frames.disarm();
        let before = std::mem::replace(&mut *self.stream.borrow_mut(), Stream::Off);
        self.forget(before);
        self.video.set_src_object(None);
        self.clear_overlay();
    }

    /// Lets go of a stream state that was replaced: its tracks stopped, its retry timer cleared.
    fn forget(&self, before: Stream) {
        match before {
            Stream::On { stream, .. } => devices::stop(&stream),
            Stream::Lost {
                timer: Some(id), ..
            } => {
                if let Some(window) = web_sys::window() {
                    window.clear_interval_with_handle(id);
                }
            }
            Stream::Lost { timer: None, .. } | Stream::Off => {}
        }
    }

    fn draw_overlay(&self, report: &Report) {
        let (vw, vh) = (self.video.video_width(), self.video.video_height());
        let canvas = &self.overlay;
        if vw > 0 && (canvas.width() != vw || canvas.height() != vh) {
            canvas.set_width(vw);
            canvas.set_height(vh);
        }
        self.clear_overlay();
        let (w, h) = (f64::from(canvas.width()), f64::from(canvas.height()));
        draw::faces(&self.overlay_ctx, w, h, report, &self.pictures, true);
    }

    fn clear_overlay(&self) {
        let canvas = &self.overlay;
        draw::clear(
            &self.overlay_ctx,
            f64::from(canvas.width()),
            f64::from(canvas.height()),
        );
    }
}
