//! Photo mode: a photo the user chose or dropped is shown at once, scaled down to at most [`PHOTO_MAX_SIDE`], sent
//! to the worker (judged alone, without tracking over time), and drawn again with a box and an emoji on each face
//! when the answer arrives; the annotated photo can be downloaded. What happens is told to the page through
//! [`Action`]s.

use std::rc::Rc;

use wasm_bindgen::prelude::*;
use web_sys::{Event, File, HtmlCanvasElement, HtmlImageElement};
use yew::UseReducerDispatcher;

use crate::artwork::Pictures;
use crate::dom::{describe, new_canvas};
use crate::draw;
use crate::state::{Action, AppState, Report};
use crate::worker_client::WorkerClient;

/// Photos are analysed (and shown, and downloaded) with their longer side at most this.
pub const PHOTO_MAX_SIDE: u32 = 1280;

pub struct Photo {
    dispatch: UseReducerDispatcher<AppState>,
    client: Rc<WorkerClient>,
    /// The stage's canvas: the photo with its boxes and emojis.
    shown: HtmlCanvasElement,
    /// The photo at analysis size, without annotations.
    base: HtmlCanvasElement,
    pictures: Rc<Pictures>,
}

impl Photo {
    pub fn new(
        dispatch: UseReducerDispatcher<AppState>,
        client: Rc<WorkerClient>,
        shown: HtmlCanvasElement,
        pictures: Rc<Pictures>,
    ) -> Result<Self, String> {
        let document = web_sys::window()
            .and_then(|w| w.document())
            .ok_or("no document")?;
        Ok(Self {
            dispatch,
            client,
            shown,
            base: new_canvas(&document)?,
            pictures,
        })
    }

    /// Shows and analyses a photo the user chose or dropped.
    pub fn analyse(self: &Rc<Self>, file: File) {
        self.dispatch.dispatch(Action::PhotoChosen);
        if let Err(message) = self.load(file) {
            self.fail(message);
        }
    }

    fn fail(&self, message: String) {
        self.dispatch.dispatch(Action::PhotoFailed(message));
    }

    /// Decodes the file as an image; it is sent once loaded.
    fn load(self: &Rc<Self>, file: File) -> Result<(), String> {
        let url = web_sys::Url::create_object_url_with_blob(&file).map_err(|e| describe(&e))?;
        let image = HtmlImageElement::new().map_err(|e| describe(&e))?;
        let weak = Rc::downgrade(self);
        let loaded = image.clone();
        let done_url = url.clone();
        let on_load = Closure::once_into_js(move |_: Event| {
            let _ = web_sys::Url::revoke_object_url(&done_url);
            let Some(photo) = weak.upgrade() else { return };
            if let Err(message) = photo.send(&loaded) {
                photo.fail(message);
            }
        });
        let weak = Rc::downgrade(self);
        let name = file.name();
        let error_url = url.clone();
        let on_error = Closure::once_into_js(move |_: Event| {
            let _ = web_sys::Url::revoke_object_url(&error_url);
            if let Some(photo) = weak.upgrade() {
                photo.fail(format!("“{name}” could not be read as an image."));
            }
        });
        image.set_onload(Some(on_load.unchecked_ref()));
        image.set_onerror(Some(on_error.unchecked_ref()));
        image.set_src(&url);
        Ok(())
    }

    /// Draws the photo at analysis size, shows it, and sends its pixels to the worker.
    fn send(&self, image: &HtmlImageElement) -> Result<(), String> {
        let (iw, ih) = (image.natural_width(), image.natural_height());
        if iw == 0 || ih == 0 {
            return Err("the image is empty".into());
        }
        let (w, h) = draw::fit_within(iw, ih, PHOTO_MAX_SIDE);
        for canvas in [&self.base, &self.shown] {
            canvas.set_width(w);
            canvas.set_height(h);
        }
        let base = draw::context_2d(&self.base, true)?;
        draw::frame(&base, image, f64::from(w), f64::from(h), false)?;
        // Show the photo at once; the boxes follow when the worker answers.
        let shown = draw::context_2d(&self.shown, false)?;
        draw::frame(&shown, &self.base, f64::from(w), f64::from(h), false)?;
        self.client.send_photo(w, h, draw::pixels(&base, w, h)?)
    }

    /// The worker's answer: the photo is drawn again with its boxes and emojis.
    pub fn show(&self, report: Report) {
        let canvas = &self.shown;
        let (w, h) = (f64::from(canvas.width()), f64::from(canvas.height()));
        let drawn = draw::context_2d(canvas, false).and_then(|ctx| {
            draw::frame(&ctx, &self.base, w, h, false)?;
            draw::faces(&ctx, w, h, &report, &self.pictures, false);
            Ok(())
        });
        match drawn {
            Ok(()) => self.dispatch.dispatch(Action::PhotoAnalysed(report)),
            Err(message) => self.fail(message),
        }
    }

    /// Downloads the annotated photo.
    pub fn download(&self) {
        if let Err(message) = draw::save_png(&self.shown, "emoji-mirror-photo.png") {
            web_sys::console::error_1(&format!("download: {message}").into());
        }
    }
}
