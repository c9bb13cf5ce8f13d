//! The live frame loop: a callback at each new video frame (`requestVideoFrameCallback`, or `requestAnimationFrame`
//! where that is missing) that can be stopped at any time, and the capture of a frame for the worker: the camera's
//! frame as it holds it (a WebCodecs `VideoFrame`, whose planes are copied out, [`crate::video_frame`]), or, where
//! that cannot be, drawn scaled onto a canvas and read back as RGBA bytes.
//!
//! After wasm-bindgen's `request-animation-frame` example: the loop owns its closure, and at most one callback is
//! pending. The camera decides when the loop runs ([`FrameLoop::arm`] after each frame while it should).

use std::cell::Cell;

use js_sys::{Function, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;
use web_sys::{CanvasRenderingContext2d, Document, HtmlCanvasElement, HtmlVideoElement};

use crate::dom::{describe, new_canvas};
use crate::draw;
use crate::raw_frame::RawLayout;
use crate::video_frame;

/// A pending callback: its id, and whether it came from `requestVideoFrameCallback`.
#[derive(Clone, Copy)]
struct Pending {
    id: u32,
    video_frame: bool,
}

/// How live frames are taken: as `VideoFrame`s where the browser makes them, else scaled onto an off-screen canvas
/// and read back.
pub struct Capture {
    video_frame: Option<Function>,
    canvas: HtmlCanvasElement,
    ctx: CanvasRenderingContext2d,
}

impl Capture {
    pub fn new(document: &Document) -> Result<Self, String> {
        let canvas = new_canvas(document)?;
        let ctx = draw::context_2d(&canvas, true)?;
        Ok(Self {
            video_frame: video_frame::constructor(),
            canvas,
            ctx,
        })
    }
}

/// A live frame for the worker, to be analysed at `width` x `height`.
pub enum Captured {
    /// RGBA bytes, scaled already.
    Pixels {
        width: u32,
        height: u32,
        rgba: Uint8Array,
    },
    /// The camera's frame, wrapped: its planes are still to be copied out ([`video_frame::copy`]), which closes it.
    Raw {
        width: u32,
        height: u32,
        frame: JsValue,
        layout: RawLayout,
    },
}

pub struct FrameLoop {
    video: HtmlVideoElement,
    on_frame: Closure<dyn FnMut(f64, JsValue)>,
    pending: Cell<Option<Pending>>,
    capture: Capture,
}

impl FrameLoop {
    /// A stopped loop over `video`; `on_frame(now_ms)` is called at each frame while it is armed.
    pub fn new(
        video: HtmlVideoElement,
        capture: Capture,
        mut on_frame: impl FnMut(f64) + 'static,
    ) -> Self {
        Self {
            video,
            on_frame: Closure::new(move |now: f64, _meta: JsValue| on_frame(now)),
            pending: Cell::new(None),
            capture,
        }
    }

    /// The pending callback has fired (call first thing in `on_frame`).
    pub fn fired(&self) {
        self.pending.set(None);
    }

    /// Asks for a callback at the next video frame, unless one is pending.
    pub fn arm(&self) {
        if self.pending.get().is_some() {
            return;
        }
        let video = &self.video;
        let callback = self.on_frame.as_ref();
        let video_frame = Reflect::get(video, &"requestVideoFrameCallback".into())
            .ok()
            .and_then(|f| f.dyn_into::<Function>().ok());
        let pending = match video_frame {
            Some(request) => request
                .call1(video, callback)
                .ok()
                .and_then(|id| id.as_f64())
                .map(|id| Pending {
                    id: id as u32,
                    video_frame: true,
                }),
            None => web_sys::window()
                .and_then(|w| w.request_animation_frame(callback.unchecked_ref()).ok())
                .map(|id| Pending {
                    id: id as u32,
                    video_frame: false,
                }),
        };
        self.pending.set(pending);
    }

    /// Stops the loop: the pending callback, if any, is cancelled.
    pub fn disarm(&self) {
        let Some(Pending { id, video_frame }) = self.pending.take() else {
            return;
        };
        if video_frame {
            let video = &self.video;
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

    /// The video's current frame, to be analysed scaled so that its longer side is at most `max_side`; `None` while
    /// the video has no frame yet.
    pub fn capture(&self, max_side: u32) -> Result<Option<Captured>, String> {
        let video = &self.video;
        let (vw, vh) = (video.video_width(), video.video_height());
        // HAVE_CURRENT_DATA
        if vw == 0 || vh == 0 || video.ready_state() < 2 {
            return Ok(None);
        }
        let Capture {
            video_frame,
            canvas,
            ctx,
        } = &self.capture;
        if let Some(constructor) = video_frame {
            if let Some((frame, layout)) = video_frame::wrap(constructor, video)? {
                let (width, height) = draw::fit_within(layout.width, layout.height, max_side);
                return Ok(Some(Captured::Raw {
                    width,
                    height,
                    frame,
                    layout,
                }));
            }
        }
        let (width, height) = draw::fit_within(vw, vh, max_side);
        if canvas.width() != width || canvas.height() != height {
            canvas.set_width(width);
            canvas.set_height(height);
        }
        ctx.draw_image_with_html_video_element_and_dw_and_dh(
            video,
            0.0,
            0.0,
            f64::from(width),
            f64::from(height),
        )
        .map_err(|e| describe(&e))?;
        Ok(Some(Captured::Pixels {
            width,
            height,
            rgba: draw::pixels(ctx, width, height)?,
        }))
    }
}
