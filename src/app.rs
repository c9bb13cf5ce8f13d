//! The page: header, the stage with its controls, the emotion panel and the statistics.

use web_sys::HtmlInputElement;
use yew::prelude::*;

use crate::components::{Controls, EmotionPanel, Stage, Stats, Status};
use crate::engine::Engine;
use crate::hooks::use_engine;
use crate::state::{Action, AppState, View};

/// A control's callback that calls `act` on the engine (once there is one), made once per engine.
#[hook]
fn use_engine_callback(engine: &Option<Engine>, act: fn(&Engine)) -> Callback<()> {
    use_callback(engine.clone(), move |(), engine| {
        if let Some(e) = engine {
            act(e);
        }
    })
}

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

    // Every control is a thin callback into the engine or the reducer, made once per engine (`use_callback`): the
    // props of the controls then stay equal from frame to frame, and yew skips them when a live frame re-renders
    // the page.
    let on_start = use_callback(engine.clone(), |device: Option<String>, engine| {
        if let Some(e) = engine {
            e.start_camera(device);
        }
    });
    let on_stop = use_engine_callback(&engine, Engine::stop_camera);
    let on_snapshot = use_engine_callback(&engine, Engine::snapshot);
    let on_photo = use_callback(engine.clone(), |file: web_sys::File, engine| {
        if let Some(e) = engine {
            e.analyse_photo(file);
        }
    });
    let on_download = use_engine_callback(&engine, Engine::download_photo);
    let on_show_live = use_engine_callback(&engine, Engine::show_live);
    let open_photo_chooser = use_callback(file_input.clone(), |(), file_input| {
        if let Some(input) = file_input.cast::<HtmlInputElement>() {
            input.click();
        }
    });
    let on_toggle_stats = use_callback(state.dispatcher(), |(), dispatch| {
        dispatch.dispatch(Action::ToggleStats)
    });
    let retry = use_callback(
        (on_start.clone(), state.active_camera.clone()),
        |(), (on_start, active)| on_start.emit(active.clone()),
    );

    let shown = state.shown().cloned();
    let shown_timings = match state.view {
        View::Live => state.stage_ms,
        View::Photo => state.photo.as_ref().map(|r| r.timings).unwrap_or_default(),
    };
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
                        on_stop={on_stop}
                        on_snapshot={on_snapshot}
                        on_photo={on_photo}
                        on_download={on_download}
                        on_show_live={on_show_live}
                        on_toggle_stats={on_toggle_stats} />
                </section>
                <aside class="panel">
                    <EmotionPanel report={shown} labels={state.labels.clone()} emoji={state.emoji.clone()} />
                    <Stats visible={state.stats_visible} timings={shown_timings}
                        figures={state.figures} model_load_ms={state.model_load_ms}
                        worker_wasm_bytes={state.worker_wasm_bytes} />
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
