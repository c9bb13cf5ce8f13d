use js_sys::Reflect;
use yew::prelude::*;

use crate::protocol::Timings;
use crate::timing::LiveFigures;

/// What the panel shows; all of it changes only when the panels refresh (`state::PANEL_REFRESH_MS`), so that yew
/// skips the panel between.
#[derive(Properties, PartialEq)]
pub struct Props {
    pub visible: bool,
    /// The shown answer's milliseconds per stage.
    pub timings: Timings,
    pub figures: LiveFigures,
    pub model_load_ms: Option<f64>,
    pub worker_wasm_bytes: f64,
}

/// The page's own JS heap (Chromium's `performance.memory`) in bytes, when the browser tells.
fn js_heap_bytes() -> Option<f64> {
    let performance = web_sys::window()?.performance()?;
    let memory = Reflect::get(&performance, &"memory".into()).ok()?;
    Reflect::get(&memory, &"usedJSHeapSize".into())
        .ok()?
        .as_f64()
}

fn ms(v: Option<f64>) -> String {
    v.map_or_else(|| "–".to_string(), |v| format!("{v:.1} ms"))
}

fn mib(v: f64) -> String {
    format!("{:.1} MiB", v / (1024.0 * 1024.0))
}

/// Frames per second and milliseconds per stage (`#fps[data-fps]` and `#stats[data-*]` are test hooks). The
/// section stays in the page when hidden so that its numbers can be read.
#[function_component]
pub fn Stats(props: &Props) -> Html {
    let t = props.timings;
    let figures = props.figures;
    let heap = js_heap_bytes();
    let page_wasm = crate::wasm_memory_bytes();
    let fps = figures.fps;
    html! {
        <section id="stats" class="stats" hidden={!props.visible} aria-label="Statistics"
            data-detect-ms={format!("{:.2}", t.detect_ms)}
            data-crop-ms={format!("{:.2}", t.crop_ms)}
            data-classify-ms={format!("{:.2}", t.classify_ms)}
            data-worker-ms={format!("{:.2}", t.worker_ms)}
            data-frames={figures.frames.to_string()}
            data-model-load-ms={props.model_load_ms.map(|v| format!("{v:.1}")).unwrap_or_default()}
            data-first-emoji-ms={figures.first_emoji_ms.map(|v| format!("{v:.1}")).unwrap_or_default()}
            data-js-heap={heap.map(|v| format!("{v:.0}")).unwrap_or_default()}
            data-wasm-page={format!("{page_wasm:.0}")}
            data-wasm-worker={format!("{:.0}", props.worker_wasm_bytes)}>
            <h2>{ "Statistics" }</h2>
            <dl>
                <dt>{ "Frames analysed" }</dt>
                <dd id="fps" data-fps={format!("{fps:.1}")}>{ format!("{fps:.1} per second") }</dd>
                <dt>{ "Detect" }</dt><dd>{ ms(Some(t.detect_ms)) }</dd>
                <dt>{ "Crop" }</dt><dd>{ ms(Some(t.crop_ms)) }</dd>
                <dt>{ "Classify" }</dt><dd>{ ms(Some(t.classify_ms)) }</dd>
                <dt>{ "Worker, in all" }</dt><dd>{ ms(Some(t.worker_ms)) }</dd>
                <dt>{ "Models loaded in" }</dt><dd>{ ms(props.model_load_ms) }</dd>
                <dt>{ "First emoji after" }</dt><dd>{ ms(figures.first_emoji_ms) }</dd>
                <dt>{ "Memory" }</dt>
                <dd>{ format!("JS {} · wasm {} + worker {}", heap.map_or("–".into(), mib), mib(page_wasm), mib(props.worker_wasm_bytes)) }</dd>
            </dl>
        </section>
    }
}
