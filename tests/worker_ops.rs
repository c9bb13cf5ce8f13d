//! Where the worker's time goes in wasm, op by op: both shipped networks run node by node with a clock around each
//! (`emoji_pipeline::profile`, what `emoji-mirror bench` prints natively), in a dedicated worker of headless
//! Chromium, built as the site's worker is (`wasm-release`: size-optimised, tract-linalg at opt-level 3, simd128;
//! only wasm-opt's pass is missing). A benchmark run by hand, not in the test run:
//!   CHROMEDRIVER=/usr/bin/chromedriver CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner \
//!     cargo test --profile wasm-release -p emoji-mirror-site --features worker \
//!       --target wasm32-unknown-unknown --test worker_ops -- --nocapture
#![cfg(all(target_arch = "wasm32", feature = "worker"))]

use emoji_mirror_site::dom::now_ms;
use emoji_mirror_site::raw_frame::{self, Matrix, PixelFormat, Plane, RawLayout};
use emoji_pipeline::profile::table;
use emoji_pipeline::Pipeline;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_dedicated_worker);

const WARMUP: usize = 10;
const RUNS: usize = 100;
// V8 moves a wasm function to its optimising tier only after enough calls and loop iterations.
const CONVERSION_WARMUP: usize = 300;

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

/// The camera's frame as the worker gets it (640x480 I420, the fake camera's format) made into the pipeline's
/// 320x240 RGB, the mean of RUNS runs.
#[wasm_bindgen_test]
fn what_a_camera_frame_costs_before_the_networks() {
    let (w, h) = (640u32, 480u32);
    let (luma, chroma) = ((w * h) as usize, (w * h / 4) as usize);
    let bytes: Vec<u8> = (0..luma + 2 * chroma)
        .map(|i| (i * 37 % 251) as u8)
        .collect();
    let plane = |offset: usize, stride: u32| Plane {
        offset: offset as u32,
        stride,
    };
    let layout = RawLayout {
        format: PixelFormat::I420,
        width: w,
        height: h,
        planes: vec![plane(0, w), plane(luma, w / 2), plane(luma + chroma, w / 2)],
        matrix: Matrix::Bt601,
        full_range: false,
    };
    let mut rgb = Vec::new();
    for _ in 0..CONVERSION_WARMUP {
        raw_frame::to_rgb(&layout, &bytes, w / 2, h / 2, &mut rgb).expect("converts");
    }
    let start = now_ms();
    for _ in 0..RUNS {
        raw_frame::to_rgb(&layout, &bytes, w / 2, h / 2, &mut rgb).expect("converts");
    }
    console_log!(
        "a {w}x{h} I420 frame to {}x{} RGB: {:.3} ms",
        w / 2,
        h / 2,
        (now_ms() - start) / RUNS as f64
    );
}

/// The work of a frame around the networks, each the mean of RUNS runs after CONVERSION_WARMUP: the detector's
/// whole-frame input (320x240 letterboxed to 128x128), a followed face's window (200 px read at 80), and a face's
/// crop (a 110 px square to 48x48 grey) with the contract's contrast, equalisation and normalisation.
#[wasm_bindgen_test]
fn what_a_frame_costs_around_the_networks() {
    let (w, h) = (320u32, 240u32);
    let pixels = (0..w * h * 3).map(|i| (i * 37 % 251) as u8).collect();
    let img = emoji_pipeline::RgbImage::from_raw(w, h, pixels).expect("320x240 RGB");
    let contract = emoji_pipeline::Contract::shipped();
    let region = emoji_pipeline::CropRegion {
        cx: 160.0,
        cy: 120.0,
        side: 110.0,
        angle: 0.0,
    };
    let window = emoji_pipeline::Tile {
        x: 60,
        y: 20,
        side: 200,
    };
    let time = |what: &str, run: &mut dyn FnMut() -> usize| {
        let mut sink = 0;
        for _ in 0..CONVERSION_WARMUP {
            sink += run();
        }
        let start = now_ms();
        for _ in 0..RUNS {
            sink += run();
        }
        let ms = (now_ms() - start) / RUNS as f64;
        console_log!("{what}: {ms:.3} ms ({sink})");
    };
    time("the whole frame's detector input", &mut || {
        emoji_pipeline::detect::letterbox_tensor(&img, 128).0.len()
    });
    time("a window's detector input", &mut || {
        emoji_pipeline::detect::tile_tensor(&img, &window, 80)
            .0
            .len()
    });
    time("a face's crop, enhanced and normalised", &mut || {
        let grey = emoji_pipeline::crop_grey(&img, &region, 48, contract);
        emoji_pipeline::face_tensor_input(&grey, contract).len()
    });
}
