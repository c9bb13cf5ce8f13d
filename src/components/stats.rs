use js_sys::Reflect;
use yew::prelude::*;

use crate::state::AppState;

#[derive(Properties, PartialEq)]
pub struct Props {
    pub state: UseReducerHandle<AppState>,
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
    let s = &props.state;
    let t = s.shown().map(|r| r.timings).unwrap_or_default();
    let heap = js_heap_bytes();
    let page_wasm = crate::wasm_memory_bytes();
    let fps = s.timing.fps();
    html! {
        <section id="stats" class="stats" hidden={!s.stats_visible} aria-label="Statistics"
            data-detect-ms={format!("{:.2}", t.detect_ms)}
            data-crop-ms={format!("{:.2}", t.crop_ms)}
            data-classify-ms={format!("{:.2}", t.classify_ms)}
            data-worker-ms={format!("{:.2}", t.worker_ms)}
            data-frames={s.timing.frames().to_string()}
            data-model-load-ms={s.model_load_ms.map(|v| format!("{v:.1}")).unwrap_or_default()}
            data-first-emoji-ms={s.timing.first_emoji_ms().map(|v| format!("{v:.1}")).unwrap_or_default()}
            data-js-heap={heap.map(|v| format!("{v:.0}")).unwrap_or_default()}
            data-wasm-page={format!("{page_wasm:.0}")}
            data-wasm-worker={format!("{:.0}", s.worker_wasm_bytes)}>
            <h2>{ "Statistics" }</h2>
            <dl>
                <dt>{ "Frames analysed" }</dt>
                <dd id="fps" data-fps={format!("{fps:.1}")}>{ format!("{fps:.1} per second") }</dd>
                <dt>{ "Detect" }</dt><dd>{ ms(Some(t.detect_ms)) }</dd>
                <dt>{ "Crop" }</dt><dd>{ ms(Some(t.crop_ms)) }</dd>
                <dt>{ "Classify" }</dt><dd>{ ms(Some(t.classify_ms)) }</dd>
                <dt>{ "Worker, in all" }</dt><dd>{ ms(Some(t.worker_ms)) }</dd>
                <dt>{ "Models loaded in" }</dt><dd>{ ms(s.model_load_ms) }</dd>
                <dt>{ "First emoji after" }</dt><dd>{ ms(s.timing.first_emoji_ms()) }</dd>
                <dt>{ "Memory" }</dt>
                <dd>{ format!("JS {} · wasm {} + worker {}", heap.map_or("–".into(), mib), mib(page_wasm), mib(s.worker_wasm_bytes)) }</dd>
            </dl>
        </section>
    }
}
