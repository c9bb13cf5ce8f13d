use web_sys::HtmlInputElement;
use yew::prelude::*;

use crate::state::{Camera, Phase, View};

#[derive(Properties, PartialEq)]
pub struct Props {
    pub phase: Phase,
    pub view: View,
    pub cameras: Vec<Camera>,
    pub active_camera: Option<String>,
    pub has_photo: bool,
    pub stats_visible: bool,
    pub file_input: NodeRef,
    pub on_start: Callback<Option<String>>,
    pub on_stop: Callback<()>,
    pub on_snapshot: Callback<()>,
    pub on_photo: Callback<web_sys::File>,
    pub on_download: Callback<()>,
    pub on_show_live: Callback<()>,
    pub on_toggle_stats: Callback<()>,
}

/// Start/stop, the camera picker, snapshot, photo mode and the statistics toggle; every one a native control.
#[function_component]
pub fn Controls(p: &Props) -> Html {
    let running = p.phase == Phase::Running;
    let busy = matches!(p.phase, Phase::Loading | Phase::Starting);
    let live = p.view == View::Live;

    let camera_button = if running {
        let stop = p.on_stop.reform(|_: MouseEvent| ());
        html! { <button type="button" id="stop" onclick={stop}>{ "Stop camera" }</button> }
    } else {
        let on_start = p.on_start.clone();
        let active = p.active_camera.clone();
        let start = Callback::from(move |_: MouseEvent| on_start.emit(active.clone()));
        html! { <button type="button" id="start" class="primary" disabled={busy} onclick={start}>{ "Start camera" }</button> }
    };

    let picker = (p.cameras.len() > 1).then(|| {
        let on_start = p.on_start.clone();
        let on_change = Callback::from(move |e: Event| {
            let select: web_sys::HtmlSelectElement = e.target_unchecked_into();
            on_start.emit(Some(select.value()));
        });
        html! {
            <label class="picker">{ "Camera " }
                <select id="camera-select" onchange={on_change} disabled={busy}>
                    { for p.cameras.iter().map(|c| html! {
                        <option value={c.id.clone()} selected={p.active_camera.as_ref() == Some(&c.id)}>{ c.label.clone() }</option>
                    }) }
                </select>
            </label>
        }
    });

    let on_file = {
        let on_photo = p.on_photo.clone();
        Callback::from(move |e: Event| {
            let input: HtmlInputElement = e.target_unchecked_into();
            if let Some(file) = input.files().and_then(|f| f.get(0)) {
                on_photo.emit(file);
            }
            // Choosing the same file again must fire `change` again.
            input.set_value("");
        })
    };

    let snapshot = p.on_snapshot.reform(|_: MouseEvent| ());
    let download = p.on_download.reform(|_: MouseEvent| ());
    let show_live = p.on_show_live.reform(|_: MouseEvent| ());
    let toggle_stats = p.on_toggle_stats.reform(|_: MouseEvent| ());

    html! {
        <div class="controls" role="toolbar" aria-label="Controls">
            { camera_button }
            { for picker }
            if live {
                <button type="button" id="snapshot" disabled={!running} onclick={snapshot}>{ "Snapshot" }</button>
            } else {
                <button type="button" id="show-live" onclick={show_live}>{ "Back to camera" }</button>
                <button type="button" id="download" disabled={!p.has_photo} onclick={download}>{ "⬇ Download" }</button>
            }
            <label class="file-button" for="photo">{ "Choose a photo" }</label>
            <input ref={p.file_input.clone()} type="file" id="photo" accept="image/*" class="visually-hidden-input"
                onchange={on_file} disabled={p.phase == Phase::Loading} />
            <button type="button" id="stats-toggle" aria-pressed={p.stats_visible.to_string()} aria-controls="stats"
                onclick={toggle_stats}>{ "Stats" }</button>
        </div>
    }
}
