use yew::prelude::*;

use crate::state::Phase;

#[derive(Properties, PartialEq)]
pub struct Props {
    pub phase: Phase,
    /// Start (or retry) the camera.
    pub on_start: Callback<()>,
    /// Open the photo chooser.
    pub on_photo: Callback<()>,
}

/// What the page is doing and the way forward, shown over the stage whenever the camera is not running.
#[function_component]
pub fn Status(props: &Props) -> Html {
    let start = props.on_start.reform(|_: MouseEvent| ());
    let photo = props.on_photo.reform(|_: MouseEvent| ());
    let photo_button = html! { <button type="button" class="secondary" onclick={photo}>{ "Use a photo instead" }</button> };
    let (title, body, actions): (&str, Html, Html) = match &props.phase {
        Phase::Running => return html! {},
        Phase::Loading => (
            "Loading the models…",
            html! { <p>{ "The face detector and the emotion model are loading into this page. Nothing is uploaded." }</p> },
            html! { <span class="spinner" aria-hidden="true"></span> },
        ),
        Phase::Ready => (
            "Ready",
            html! { <p>{ "Start the camera to see the emoji of your expression, or choose a photo." }</p> },
            html! { <>
                <button type="button" id="start-big" class="primary" onclick={start}>{ "Start camera" }</button>
                { photo_button }
            </> },
        ),
        Phase::Starting => (
            "Asking for the camera…",
            html! { <p>{ "Your browser is asking whether this page may use the camera. Choose Allow." }</p> },
            html! { <span class="spinner" aria-hidden="true"></span> },
        ),
        Phase::Denied => (
            "The camera is blocked",
            html! { <>
                <p>{ "This page was not allowed to use the camera. To allow it, open the site settings (the camera \
                      or lock icon at the left of the address bar), set Camera to Allow, then try again." }</p>
                <p>{ "The picture would never leave your device. You can also analyse a photo instead." }</p>
            </> },
            html! { <>
                <button type="button" class="primary" onclick={start}>{ "Try again" }</button>
                { photo_button }
            </> },
        ),
        Phase::NoCamera { lost: false } => (
            "No camera found",
            html! { <p>{ "Connect a camera and try again, or analyse a photo instead." }</p> },
            html! { <>
                <button type="button" class="primary" onclick={start}>{ "Try again" }</button>
                { photo_button }
            </> },
        ),
        Phase::NoCamera { lost: true } => (
            "The camera went away",
            html! { <p>{ "The camera stopped sending pictures. The mirror resumes by itself when it comes back." }</p> },
            html! { <>
                <button type="button" class="primary" onclick={start}>{ "Try again now" }</button>
                { photo_button }
            </> },
        ),
        Phase::Error(message) => (
            "Something went wrong",
            html! { <p class="error-message">{ message.clone() }</p> },
            html! { <>
                <button type="button" class="primary" onclick={start}>{ "Try again" }</button>
                { photo_button }
            </> },
        ),
    };
    html! {
        <div class="status" role="status">
            <h2>{ title }</h2>
            { body }
            <div class="actions">{ actions }</div>
        </div>
    }
}
