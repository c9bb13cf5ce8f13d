//! Where the worker's time goes in wasm, op by op: both shipped networks run node by node with a clock around each
//! (`emoji_pipeline::profile`, what `emoji-mirror bench` prints natively), in a dedicated worker of headless
//! Chromium, built as the site's worker is (`wasm-release`: size-optimised, tract-linalg at opt-level 3, simd128;
//! only wasm-opt's pass is missing). A benchmark run by hand, not in the test run:
//!   CHROMEDRIVER=/usr/bin/chromedriver CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner \
//!     cargo test --profile wasm-release -p emoji-mirror-site --features worker \
//!       --target wasm32-unknown-unknown --test worker_ops -- --nocapture
#![cfg(all(target_arch = "wasm32", feature = "worker"))]

use emoji_pipeline::profile::table;
use emoji_pipeline::Pipeline;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_dedicated_worker);

const WARMUP: usize = 10;
const RUNS: usize = 100;

#[wasm_bindgen_test]
fn where_the_worker_spends_a_frame() {
    let pipeline = Pipeline::from_bytes(
        include_bytes!("../models/blazeface_short_range.nnef.tar"),
        include_bytes!("../models/emotion_int8.nnef.tar"),
    )
    .expect("the shipped models load");
    let detector = pipeline
        .detector()
        .op_profile(WARMUP, RUNS)
        .expect("BlazeFace runs");
    let window = pipeline
        .detector()
        .window_op_profile(WARMUP, RUNS)
        .expect("BlazeFace runs at the window side")
        .expect("the shipped detector follows faces in windows");
    let classifier = pipeline
        .classifier()
        .op_profile(WARMUP, RUNS)
        .expect("the emotion net runs");
    assert!(!detector.is_empty() && !window.is_empty() && !classifier.is_empty());
    // Every kind of op, each the mean of RUNS runs.
    console_log!("{}", table("detector (BlazeFace, 128x128)", &detector, 0.0));
    let side = pipeline.detector().config().follow.side;
    console_log!(
        "{}",
        table(
            &format!("detector, a followed face's window ({side}x{side})"),
            &window,
            0.0
        )
    );
    console_log!("{}", table("classifier (one 48x48 face)", &classifier, 0.0));
}
