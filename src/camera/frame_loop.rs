//! The live frame loop: a callback at each new video frame (`requestVideoFrameCallback`, or `requestAnimationFrame`
//! where that is missing) that can be stopped at any time, and the capture of a frame, scaled down, as RGBA bytes.
//!
//! After wasm-bindgen's `request-animation-frame` example: the loop owns its closure, and at most one callback is
//! pending. The camera decides when the loop runs ([`FrameLoop::arm`] after each frame while it should).

use std::cell::Cell;

use js_sys::{Function, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;
use web_sys::{CanvasRenderingContext2d, Document, HtmlCanvasElement, HtmlVideoElement};

use crate::dom::{describe, new_canvas};
use crate::draw;

/// A pending callback: its id, and whether it came from `requestVideoFrameCallback`.
#[derive(Clone, Copy)]
struct Pending {
    id: u32,
    video_frame: bool,
}

/// An off-screen canvas the live frames are scaled onto and read back from.
pub struct Capture {
    canvas: HtmlCanvasElement,
    ctx: CanvasRenderingContext2d,
}

impl Capture {
    pub fn new(document: &Document) -> Result<Self, String> {
        let canvas = new_canvas(document)?;
        let ctx = draw::context_2d(&canvas, true)?;
        Ok(Self { canvas, ctx })
    }
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

    /// The video's current frame scaled so that its longer side is at most `max_side`: (width, height, RGBA bytes),
    /// or `None` while the video has no frame yet.
    pub fn capture(&self, max_side: u32) -> Result<Option<(u32, u32, Uint8Array)>, String> {
        let video = &self.video;
        let (vw, vh) = (video.video_width(), video.video_height());
        // HAVE_CURRENT_DATA
        if vw == 0 || vh == 0 || video.ready_state() < 2 {
            return Ok(None);
        }
        let (w, h) = draw::fit_within(vw, vh, max_side);
        let Capture { canvas, ctx } = &self.capture;
        if canvas.width() != w || canvas.height() != h {
            canvas.set_width(w);
            canvas.set_height(h);
        }
        ctx.draw_image_with_html_video_element_and_dw_and_dh(
            video,
            0.0,
            0.0,
            f64::from(w),
            f64::from(h),
        )
        .map_err(|e| describe(&e))?;
        Ok(Some((w, h, draw::pixels(ctx, w, h)?)))
    }
}
