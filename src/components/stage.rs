use yew::prelude::*;

use crate::state::View;

#[derive(Properties, PartialEq)]
pub struct Props {
    pub view: View,
    pub video: NodeRef,
    pub overlay: NodeRef,
    pub photo: NodeRef,
    /// A file dropped on the stage.
    pub on_drop: Callback<web_sys::File>,
    pub children: Html,
}

/// The mirrored live video with its overlay, or the annotated photo; a photo can be dropped on it.
#[function_component]
pub fn Stage(props: &Props) -> Html {
    let dragging = use_state(|| false);
    let on_drag_over = {
        let dragging = dragging.clone();
        Callback::from(move |e: DragEvent| {
            e.prevent_default();
            dragging.set(true);
        })
    };
    let on_drag_leave = {
        let dragging = dragging.clone();
        Callback::from(move |_: DragEvent| dragging.set(false))
    };
    let on_drop = {
        let dragging = dragging.clone();
        let on_drop = props.on_drop.clone();
        Callback::from(move |e: DragEvent| {
            e.prevent_default();
            dragging.set(false);
            let file = e
                .data_transfer()
                .and_then(|d| d.files())
                .and_then(|files| files.get(0));
            if let Some(file) = file {
                on_drop.emit(file);
            }
        })
    };
    let live = props.view == View::Live;
    html! {
        <div class={classes!("stage", dragging.then_some("dragging"))}
            ondragover={on_drag_over} ondragleave={on_drag_leave} ondrop={on_drop}>
            <video ref={props.video.clone()} class="live mirrored" hidden={!live} autoplay=true muted=true
                playsinline=true aria-label="Your camera, mirrored"></video>
            <canvas ref={props.overlay.clone()} class="overlay" hidden={!live} aria-hidden="true"></canvas>
            <canvas ref={props.photo.clone()} id="photo-result" class="photo" hidden={live} role="img"
                aria-label="The chosen photo with a box and an emoji on each face"></canvas>
            { props.children.clone() }
        </div>
    }
}
