//! The detector, as a user meets it: a face in a bigger picture is found where it is, at several
//! sizes and places, and blank or noisy pictures give no face. The faces are FER2013 val images
//! (tight 48x48 crops) scaled up and pasted into 640x480 frames built here.

use super::common;

use emoji_pipeline::synth::{background, paste_face};
use emoji_pipeline::{decode_image, DecodeLimits, FaceDetector};
use image::{GrayImage, Rgb, RgbImage};

fn detector() -> FaceDetector {
    FaceDetector::from_bytes(&common::model_bytes("blazeface_short_range.onnx"))
        .expect("BlazeFace loads")
}

fn grey(path: &std::path::Path) -> GrayImage {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    let rgb = decode_image(&bytes, &DecodeLimits::default()).expect("val image decodes");
    image::DynamicImage::ImageRgb8(rgb).to_luma8()
}

#[test]
fn faces_pasted_into_frames_are_found_where_they_are() {
    let det = detector();
    let sample = common::val_sample(25); // ~145 faces over all classes
    let sizes = [96u32, 160, 240];
    let mut total = 0;
    let mut found = 0;
    let mut ious = Vec::new();
    for (k, (path, _)) in sample.iter().enumerate() {
        let face = grey(path);
        for (s, &side) in sizes.iter().enumerate() {
            // Deterministic spread of positions over the frame.
            let x = ((k * 131 + s * 57) as u32 % (640 - side)) as i64;
            let y = ((k * 71 + s * 113) as u32 % (480 - side)) as i64;
            let mut frame = background(640, 480, k as u32);
            let truth = paste_face(&mut frame, &face, x, y, side);
            let dets = det.detect(&frame).expect("detect");
            let best = dets
                .iter()
                .map(|d| d.bbox.iou(&truth))
                .fold(0.0f32, f32::max);
            total += 1;
            ious.push(best);
            if best >= 0.5 {
                found += 1;
            }
        }
    }
    ious.sort_by(f32::total_cmp);
    let rate = found as f64 / total as f64;
    eprintln!(
        "found {found}/{total} = {:.1}%, median IoU {:.3}",
        100.0 * rate,
        ious[ious.len() / 2]
    );
    assert!(
        rate >= 0.95,
        "only {found} of {total} pasted faces found with IoU >= 0.5"
    );
}

#[test]
fn blank_and_noise_frames_have_no_face() {
    let det = detector();
    for v in [0u8, 128, 255] {
        let frame = RgbImage::from_pixel(640, 480, Rgb([v, v, v]));
        assert!(det.detect(&frame).expect("detect").is_empty(), "flat {v}");
    }
    assert!(
        det.detect(&background(640, 480, 3))
            .expect("detect")
            .is_empty(),
        "background"
    );
    let mut state = 0x2545_F491_4F6C_DD1Du64;
    for n in 0..5 {
        let frame = RgbImage::from_fn(640, 480, |_, _| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let b = state.to_le_bytes();
            Rgb([b[0], b[1], b[2]])
        });
        assert!(
            det.detect(&frame).expect("detect").is_empty(),
            "noise frame {n}"
        );
    }
}

#[test]
fn a_tiny_or_odd_shaped_image_is_fine() {
    let det = detector();
    for (w, h) in [(1, 1), (1, 500), (500, 1), (3, 2)] {
        let img = RgbImage::from_pixel(w, h, Rgb([10, 20, 30]));
        assert!(det.detect(&img).expect("detect").is_empty());
    }
}
