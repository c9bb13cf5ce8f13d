use yew::prelude::*;

use crate::engine::{Elements, Engine};
use crate::state::{Action, AppState, View};

/// Creates the page's [`Engine`] once the stage's elements are mounted, tells it when the page shows another
/// [`View`] (after the page is drawn, so that the live loop sees the video shown or hidden), and shuts it down on
/// unmount.
///
/// `video`, `overlay` and `photo` must point at a `<video>` and two `<canvas>` elements that stay mounted for the
/// component's whole life. Returns `None` until the engine exists (the first render), or if it could not start, in
/// which case the failure is dispatched as [`Action::ModelsFailed`].
#[hook]
pub fn use_engine(
    dispatch: UseReducerDispatcher<AppState>,
    view: View,
    video: NodeRef,
    overlay: NodeRef,
    photo: NodeRef,
) -> Option<Engine> {
    let engine = use_state(|| None::<Engine>);
    {
        let engine = engine.clone();
        use_effect_with((), move |_| {
            let created = match (video.cast(), overlay.cast(), photo.cast()) {
                (Some(video), Some(overlay), Some(photo)) => Engine::new(
                    dispatch.clone(),
                    Elements {
                        video,
                        overlay,
                        photo,
                    },
                ),
                _ => Err("the page's video and canvas elements are missing".to_string()),
            };
            let created = match created {
                Ok(e) => {
                    engine.set(Some(e.clone()));
                    Some(e)
                }
                Err(message) => {
                    dispatch.dispatch(Action::ModelsFailed(message));
                    None
                }
            };
            move || {
                if let Some(e) = created {
                    e.shut_down();
                }
            }
        });
    }
    use_effect_with((view, (*engine).clone()), |(_, engine)| {
        if let Some(e) = engine {
            e.view_shown();
        }
    });
    (*engine).clone()
}
