//! wasm-bindgen tests of the browser-only glue, in headless Chromium:
//!   CHROMEDRIVER=/usr/bin/chromedriver CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner \
//!     cargo test -p emoji-mirror-site --target wasm32-unknown-unknown --test glue
//! (webdriver.json in the repo root names Chromium and its headless switches.)
#![cfg(target_arch = "wasm32")]

use emoji_mirror_site::artwork::Pictures;
use emoji_mirror_site::draw;
use emoji_mirror_site::protocol::{self, Face, Request, Response, Source, Timings};
use emoji_mirror_site::state::Report;
use emoji_mirror_site::{raw_frame, video_frame};
use js_sys::Uint8Array;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen_test]
fn a_frame_message_round_trips_and_transfers_its_pixels() {
    let pixels = Uint8Array::from(&[1u8, 2, 3, 4, 5, 6, 7, 8][..]);
    let request = Request::Frame {
        source: Source::Live,
        width: 2,
        height: 1,
        now_ms: 12.5,
    };
    let (message, transfer) = protocol::encode(&request, &[pixels]).expect("encodes");
    assert_eq!(
        transfer.length(),
        1,
        "the pixel buffer is transferred, not copied"
    );
    let (decoded, payloads): (Request, _) = protocol::decode(message).expect("decodes");
    assert_eq!(decoded, request);
    assert_eq!(payloads.len(), 1);
    assert_eq!(payloads[0].to_vec(), vec![1, 2, 3, 4, 5, 6, 7, 8]);
}

#[wasm_bindgen_test]
fn an_analysis_round_trips() {
    let response = Response::Analysed {
        source: Source::Photo,
        width: 640,
        height: 480,
        faces: vec![face(10.0, 20.0, 30.0, 40.0)],
        timings: Timings {
            detect_ms: 1.0,
            crop_ms: 0.5,
            classify_ms: 2.0,
            worker_ms: 4.0,
        },
        wasm_bytes: 1_048_576.0,
    };
    let (message, _) = protocol::encode(&response, &[]).expect("encodes");
    let (decoded, payloads): (Response, _) = protocol::decode(message).expect("decodes");
    assert_eq!(decoded, response);
    assert!(payloads.is_empty());
}

#[wasm_bindgen_test]
fn a_message_that_is_not_ours_is_an_error() {
    assert!(protocol::decode::<Request>(wasm_bindgen::JsValue::from_str("hello")).is_err());
}

fn face(x: f32, y: f32, w: f32, h: f32) -> Face {
    Face {
        id: 1,
        x,
        y,
        w,
        h,
        probabilities: vec![0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0],
        top: 3,
        label: "happy".into(),
        emoji: "😄".into(),
        confidence: 1.0,
        uncertain: false,
    }
}

fn new_canvas(w: u32, h: u32) -> web_sys::HtmlCanvasElement {
    let document = web_sys::window()
        .and_then(|w| w.document())
        .expect("a document");
    let canvas: web_sys::HtmlCanvasElement = document
        .create_element("canvas")
        .expect("canvas")
        .unchecked_into();
    canvas.set_width(w);
    canvas.set_height(h);
    canvas
}

fn alpha(ctx: &web_sys::CanvasRenderingContext2d, x: f64, y: f64) -> u8 {
    ctx.get_image_data(x, y, 1.0, 1.0).expect("pixels").data()[3]
}

/// The live path's capture as the page makes it (a `VideoFrame` wrapped, its planes copied out) and as the worker
/// reads it (RGBA, halved): a canvas red on the left and blue on the right comes back so.
#[wasm_bindgen_test]
async fn a_video_frame_is_copied_out_and_read_back_in_its_colours() {
    let Some(constructor) = video_frame::constructor() else {
        panic!("this Chromium has VideoFrame (WebCodecs)");
    };
    let canvas = new_canvas(8, 4);
    let ctx = draw::context_2d(&canvas, true).expect("2d");
    ctx.set_fill_style_str("#ff0000");
    ctx.fill_rect(0.0, 0.0, 4.0, 4.0);
    ctx.set_fill_style_str("#0000ff");
    ctx.fill_rect(4.0, 0.0, 4.0, 4.0);
    let (frame, layout) = video_frame::wrap(&constructor, &canvas)
        .expect("wraps")
        .expect("a format that is read");
    assert_eq!((layout.width, layout.height), (8, 4));
    let (layout, bytes) = video_frame::copy(frame.clone(), layout)
        .await
        .expect("copies");
    assert!(
        js_sys::Reflect::get(&frame, &"format".into())
            .expect("format")
            .is_null(),
        "the frame is closed after the copy"
    );
    let mut rgb = Vec::new();
    raw_frame::to_rgb(&layout, &bytes.to_vec(), 4, 2, &mut rgb).expect("converts");
    let (left, right) = (&rgb[0..3], &rgb[9..12]);
    assert!(left[0] > 240 && left[2] < 15, "left is red: {left:?}");
    assert!(right[2] > 240 && right[0] < 15, "right is blue: {right:?}");
}

#[wasm_bindgen_test]
fn boxes_are_mirrored_over_the_mirrored_video_and_scaled_to_the_canvas() {
    // A 100x100 frame drawn on a 200x200 canvas; the face spans x 10..30 of the frame.
    let canvas = new_canvas(200, 200);
    let ctx = draw::context_2d(&canvas, true).expect("2d");
    let report = Report {
        faces: vec![face(10.0, 60.0, 20.0, 20.0)],
        width: 100,
        height: 100,
        ..Report::default()
    };
    let pictures = Pictures::load().expect("pictures");
    draw::faces(&ctx, 200.0, 200.0, &report, &pictures, true);
    // Mirrored and doubled: the box's left edge is at 200 - (10 + 20) * 2 = 140, its right edge at 180.
    assert!(
        alpha(&ctx, 140.0, 150.0) > 0,
        "left edge of the mirrored box"
    );
    assert!(
        alpha(&ctx, 180.0, 150.0) > 0,
        "right edge of the mirrored box"
    );
    assert_eq!(
        alpha(&ctx, 20.0, 150.0),
        0,
        "nothing where the unmirrored box would be"
    );
    assert_eq!(alpha(&ctx, 160.0, 150.0), 0, "the box is an outline");

    let plain = new_canvas(200, 200);
    let ctx = draw::context_2d(&plain, true).expect("2d");
    draw::faces(&ctx, 200.0, 200.0, &report, &pictures, false);
    assert!(alpha(&ctx, 20.0, 150.0) > 0, "unmirrored box on a photo");
}

/// Waits `ms` milliseconds (the browser's timer).
async fn sleep(ms: i32) {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        let _ = web_sys::window()
            .expect("a window")
            .set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms);
    });
    let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
}

/// The RGBA pixels of a `side` x `side` square of `ctx` at (`x`, `y`).
fn square(ctx: &web_sys::CanvasRenderingContext2d, x: f64, y: f64, side: f64) -> Vec<u8> {
    ctx.get_image_data(x, y, side, side)
        .expect("pixels")
        .data()
        .to_vec()
}

#[wasm_bindgen_test]
async fn each_face_gets_the_picture_of_its_emotion_or_of_not_sure_above_its_box() {
    let pictures = Pictures::load().expect("pictures");
    for _ in 0..100 {
        if ["disgust", "not-sure"]
            .iter()
            .all(|n| pictures.ready(n).is_some())
        {
            break;
        }
        sleep(20).await;
    }
    assert!(pictures.ready("not-a-label").is_none());
    // A 100x100 frame on a 200x200 canvas; the face's box spans x 50..150, y 100..180. The picture is 0.42 of the
    // box wide (42 px), centred above it, 2 lines (2 px each) above its top edge: x 79..121, y 54..96.
    let mut face = face(25.0, 50.0, 50.0, 40.0);
    face.label = "disgust".into();
    for (uncertain, name) in [(false, "disgust"), (true, "not-sure")] {
        face.uncertain = uncertain;
        let report = Report {
            faces: vec![face.clone()],
            width: 100,
            height: 100,
            ..Report::default()
        };
        let canvas = new_canvas(200, 200);
        let ctx = draw::context_2d(&canvas, true).expect("2d");
        draw::faces(&ctx, 200.0, 200.0, &report, &pictures, false);
        let expected = new_canvas(200, 200);
        let expected_ctx = draw::context_2d(&expected, true).expect("2d");
        let picture = pictures.ready(name).expect("the picture is loaded");
        expected_ctx
            .draw_image_with_html_image_element_and_dw_and_dh(picture, 79.0, 54.0, 42.0, 42.0)
            .expect("drawn");
        assert_eq!(
            square(&ctx, 79.0, 54.0, 42.0),
            square(&expected_ctx, 79.0, 54.0, 42.0),
            "the picture of {name} above the box"
        );
    }
}

#[wasm_bindgen_test]
fn a_dom_exception_is_described_by_name_and_message() {
    let e =
        web_sys::DomException::new_with_message_and_name("Permission denied", "NotAllowedError")
            .expect("exception");
    assert_eq!(
        emoji_mirror_site::dom::describe(&e.into()),
        "NotAllowedError: Permission denied"
    );
}
