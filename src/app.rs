//! The page: header, the stage with its controls, the emotion panel and the statistics.

use web_sys::HtmlInputElement;
use yew::prelude::*;

use crate::components::{Controls, EmotionPanel, Stage, Stats, Status};
use crate::hooks::use_engine;
use crate::state::{Action, AppState, View};

#[function_component]
pub fn App() -> Html {
    let state = use_reducer(AppState::default);
    let video = use_node_ref();
    let overlay = use_node_ref();
    let photo = use_node_ref();
    let file_input = use_node_ref();
    let engine = use_engine(
        state.dispatcher(),
        state.view,
        video.clone(),
        overlay.clone(),
        photo.clone(),
    );

    // Every control is a thin callback into the engine or the reducer.
    let with_engine = |f: fn(&crate::engine::Engine)| {
        let engine = engine.clone();
        Callback::from(move |()| {
            if let Some(e) = &engine {
                f(e);
            }
        })
    };
    let on_start = {
        let engine = engine.clone();
        Callback::from(move |device: Option<String>| {
            if let Some(e) = &engine {
                e.start_camera(device);
            }
        })
    };
    let on_photo = {
        let engine = engine.clone();
        Callback::from(move |file: web_sys::File| {
            if let Some(e) = &engine {
                e.analyse_photo(file);
            }
        })
    };
    let open_photo_chooser = {
        let file_input = file_input.clone();
        Callback::from(move |()| {
            if let Some(input) = file_input.cast::<HtmlInputElement>() {
                input.click();
            }
        })
    };
    let on_snapshot = {
        let engine = engine.clone();
        let live = state.live.clone();
        Callback::from(move |()| {
            if let Some(e) = &engine {
                e.snapshot(&live);
            }
        })
    };
    let on_toggle_stats = {
        let dispatch = state.dispatcher();
        Callback::from(move |()| dispatch.dispatch(Action::ToggleStats))
    };
    let retry = {
        let on_start = on_start.clone();
        let active = state.active_camera.clone();
        Callback::from(move |()| on_start.emit(active.clone()))
    };

    let shown = state.shown().cloned();
    html! {
        <div id="app" class="app" data-state={state.phase.data_state()}
            data-view={if state.view == View::Live { "live" } else { "photo" }}>
            <header class="top">
                <h1><img class="logo" src="icon.svg" alt="" width="40" height="40" />{ "Emoji Mirror" }</h1>
                <p class="privacy">
                    { "Everything runs in this browser tab: your camera picture and your photos never leave this \
                       device, and once loaded the page makes no network requests at all (its Content Security \
                       Policy forbids any other site). It also works offline after the first visit." }
                </p>
            </header>
            <main class="layout">
                <section class="viewer" aria-label="Mirror">
                    <Stage view={state.view} video={video} overlay={overlay} photo={photo} on_drop={on_photo.clone()}>
                        if state.view == View::Live {
                            <Status phase={state.phase.clone()} on_start={retry} on_photo={open_photo_chooser.clone()} />
                        } else if state.photo_busy {
                            <div class="status" role="status"><h2>{ "Looking at the photo…" }</h2></div>
                        }
                    </Stage>
                    if let Some(message) = &state.photo_error {
                        <p class="photo-error" role="alert">{ message.clone() }</p>
                    }
                    <Controls
                        phase={state.phase.clone()}
                        view={state.view}
                        cameras={state.cameras.clone()}
                        active_camera={state.active_camera.clone()}
                        has_photo={state.photo.is_some()}
                        stats_visible={state.stats_visible}
                        file_input={file_input}
                        on_start={on_start}
                        on_stop={with_engine(|e| e.stop_camera())}
                        on_snapshot={on_snapshot}
                        on_photo={on_photo}
                        on_download={with_engine(|e| e.download_photo())}
                        on_show_live={with_engine(|e| e.show_live())}
                        on_toggle_stats={on_toggle_stats} />
                </section>
                <aside class="panel">
                    <EmotionPanel report={shown} labels={state.labels.clone()} emoji={state.emoji.clone()} />
                    <Stats state={state.clone()} />
                </aside>
            </main>
            <p class="visually-hidden" aria-live="polite" aria-atomic="true">{ state.announcer.text().to_string() }</p>
            <footer class="bottom">
                <p>{ "Face detection: MediaPipe BlazeFace (Apache-2.0). Emotion model trained on FER-2013. \
                      Emotions read from a face are guesses, not facts." }</p>
            </footer>
        </div>
    }
}
