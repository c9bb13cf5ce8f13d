//! The worker's hand-written wasm SIMD gives the bytes of the plain code it replaces, run in wasm as the site's worker
//! is built (simd128) in headless Chromium, by `scripts/test.sh`:
//!   CHROMEDRIVER=/usr/bin/chromedriver CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner \
//!     cargo test --profile wasm-release -p emoji-mirror-site --features worker \
//!       --target wasm32-unknown-unknown --lib --test wasm_kernels
//! (the camera frame's conversion is checked by `raw_frame`'s own test in the same run).
#![cfg(all(target_arch = "wasm32", feature = "worker"))]

use emoji_pipeline::resample::{resized, Rect};
use emoji_pipeline::synth::noise;
use image::imageops;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

/// The detector's inputs (the whole frame letterboxed to 128, a followed face's window read at 80) and sizes whose
/// rows leave tails for the scalar loop, against `image`'s triangle resize of the same pixels.
#[wasm_bindgen_test]
fn the_detector_input_is_image_resize_byte_for_byte() {
    let img = noise(320, 240, 7);
    for (w, h) in [(128, 96), (97, 61), (400, 300), (7, 5)] {
        let expected = imageops::resize(&img, w, h, imageops::FilterType::Triangle);
        assert_eq!(resized(&img, Rect::whole(&img), w, h), expected, "{w}x{h}");
    }
    for rect in [
        Rect {
            x: 60,
            y: 20,
            width: 200,
            height: 200,
        },
        Rect {
            x: 251,
            y: 171,
            width: 69,
            height: 69,
        },
    ] {
        let copy = imageops::crop_imm(&img, rect.x, rect.y, rect.width, rect.height).to_image();
        let expected = imageops::resize(&copy, 80, 80, imageops::FilterType::Triangle);
        assert_eq!(resized(&img, rect, 80, 80), expected, "{rect:?}");
    }
}
