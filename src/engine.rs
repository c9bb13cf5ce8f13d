//! The page's engine: starts the parts that work outside yew and connects them — the [`WorkerClient`], the
//! [`Camera`] with its frame loop, the [`Photo`] — fetches the models for the worker, registers the service worker,
//! and gives each answer of the worker to the camera or to the photo.
//!
//! One [`Engine`] lives as long as the page (created by `hooks::use_engine`). Its parts tell the page what happened
//! only by dispatching [`Action`]s; the page's controls call the engine's methods.

use std::rc::{Rc, Weak};

use js_sys::Reflect;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::{spawn_local, JsFuture};
use web_sys::{Event, File, HtmlCanvasElement, HtmlVideoElement, MessageEvent};
use yew::UseReducerDispatcher;

use crate::artwork::Pictures;
use crate::camera::Camera;
use crate::dom::{describe, now_ms, Listener};
use crate::paths;
use crate::photo::Photo;
use crate::protocol::Source;
use crate::state::{Action, AppState};
use crate::worker_client::{fetch_models, Answer, WorkerClient};

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

struct Inner {
    dispatch: UseReducerDispatcher<AppState>,
    client: Rc<WorkerClient>,
    camera: Rc<Camera>,
    photo: Rc<Photo>,
    /// The worker's messages and errors.
    listeners: [Listener; 2],
}

impl Engine {
    /// Starts the worker, fetches the models for it and registers the service worker.
    pub fn new(dispatch: UseReducerDispatcher<AppState>, el: Elements) -> Result<Self, String> {
        let client = Rc::new(WorkerClient::start(dispatch.clone())?);
        // The emoji pictures for the canvases, loaded (from memory) while the models are fetched.
        let pictures = Rc::new(Pictures::load()?);
        let camera = Camera::new(
            dispatch.clone(),
            client.clone(),
            el.video,
            el.overlay,
            pictures.clone(),
        )?;
        let photo = Rc::new(Photo::new(
            dispatch.clone(),
            client.clone(),
            el.photo,
            pictures,
        )?);
        let inner = Rc::new_cyclic(move |weak: &Weak<Inner>| {
            let on_message = {
                let weak = weak.clone();
                Listener::new(client.worker(), "message", move |event: Event| {
                    if let (Some(inner), Ok(event)) =
                        (weak.upgrade(), event.dyn_into::<MessageEvent>())
                    {
                        inner.on_message(event.data());
                    }
                })
            };
            let on_error = {
                let dispatch = dispatch.clone();
                Listener::new(client.worker(), "error", move |event: Event| {
                    let message = Reflect::get(&event, &"message".into())
                        .ok()
                        .and_then(|m| m.as_string());
                    dispatch.dispatch(Action::ModelsFailed(format!(
                        "The analysis worker failed: {}",
                        message.unwrap_or_else(|| "it could not start".into())
                    )));
                })
            };
            Inner {
                dispatch,
                client,
                camera,
                photo,
                listeners: [on_message, on_error],
            }
        });
        for listener in &inner.listeners {
            listener.attach()?;
        }
        register_service_worker();
        let client = Rc::downgrade(&inner.client);
        let dispatch = inner.dispatch.clone();
        spawn_local(async move {
            let fetched = fetch_models().await;
            let Some(client) = client.upgrade() else {
                return;
            };
            match fetched {
                Ok(models) => client.models_fetched(models),
                Err(message) => dispatch.dispatch(Action::ModelsFailed(message)),
            }
        });
        Ok(Self(inner))
    }

    /// Opens a camera (None: the front one) and starts analysing it.
    pub fn start_camera(&self, device: Option<String>) {
        self.0.camera.start(device);
    }

    pub fn stop_camera(&self) {
        self.0.camera.stop();
    }

    /// Back from a photo to the live view (the frame loop follows once it is shown: [`Engine::view_shown`]).
    pub fn show_live(&self) {
        self.0.dispatch.dispatch(Action::ShowLive);
    }

    /// The page shows another view: the frame loop runs only under the live view.
    pub fn view_shown(&self) {
        self.0.camera.follow_page();
    }

    /// Analyses a photo the user chose or dropped.
    pub fn analyse_photo(&self, file: File) {
        self.0.photo.analyse(file);
    }

    /// Downloads the live view as the user sees it, with the boxes and emojis over it.
    pub fn snapshot(&self) {
        self.0.camera.snapshot();
    }

    /// Downloads the annotated photo.
    pub fn download_photo(&self) {
        self.0.photo.download();
    }

    /// Stops everything (the page is going away).
    pub fn shut_down(&self) {
        self.0.camera.shut_down();
        for listener in &self.0.listeners {
            listener.detach();
        }
        self.0.client.terminate();
    }
}

impl Inner {
    /// One message of the worker; an answer to a frame goes to the camera or the photo, then the next frame goes.
    fn on_message(&self, data: JsValue) {
        let Some(answer) = self.client.receive(data) else {
            return;
        };
        match answer {
            Answer::Analysed {
                source: Source::Live,
                report,
                wasm_bytes,
            } => self.camera.show(report, wasm_bytes),
            Answer::Analysed {
                source: Source::Photo,
                report,
                ..
            } => self.photo.show(report),
            Answer::Failed {
                source: Source::Live,
                message,
            } => web_sys::console::warn_1(&message.into()),
            Answer::Failed {
                source: Source::Photo,
                message,
            } => self.dispatch.dispatch(Action::PhotoFailed(message)),
        }
        if self.client.next() {
            self.camera.frame_due(now_ms());
        }
    }
}

/// Registers the service worker that keeps the site available offline.
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
            web_sys::console::warn_1(&format!("offline mode unavailable: {}", describe(&e)).into());
        }
    });
}
