//! The detector, as a user meets it: a face in a bigger picture is found where it is, at several
//! sizes and places, and blank or noisy pictures give no face. The faces are FER2013 val images
//! (tight 48x48 crops) scaled up and pasted into 640x480 frames built here.

use super::common;

use emoji_pipeline::synth::{background, frame_with_face};
use emoji_pipeline::BoxF;
use image::{Rgb, RgbImage};

/// Moving or scaling a face in the picture moves or scales its box the same way. The reference
/// is the box found with the face at 240 px in the middle of a 640x480 frame; the face is then
/// pasted at 160–320 px all over landscape and portrait frames and must be found with IoU >= 0.5
/// against the reference box carried along (>= 95% of cases). This checks the letterbox, the
/// anchors and the mapping back to frame pixels at every scale and place.
#[test]
fn faces_pasted_into_frames_are_found_where_they_are() {
    let det = common::detector();
    let sample = common::val_sample(25); // ~145 faces over all classes
    let mut total = 0;
    let mut found = 0;
    let mut reference_missed = 0;
    let mut ious = Vec::new();
    for (k, (path, _)) in sample.iter().enumerate() {
        let face = common::load_grey(path);
        let (frame, square) = frame_with_face(&face, 640, 480, 200, 120, 240, k as u32);
        let Some(reference) = det
            .detect(&frame)
            .expect("detect")
            .into_iter()
            .find(|d| d.bbox.iou(&square) > 0.3)
        else {
            reference_missed += 1;
            continue;
        };
        // The reference box relative to its pasted square.
        let rel = |b: &BoxF, sq: &BoxF| BoxF {
            x: sq.x + (b.x - square.x) / square.w * sq.w,
            y: sq.y + (b.y - square.y) / square.h * sq.h,
            w: b.w / square.w * sq.w,
            h: b.h / square.h * sq.h,
        };
        for (s, &(w, h, side)) in [
            (640u32, 480u32, 160u32),
            (640, 480, 200),
            (640, 480, 320),
            (480, 640, 180),
            (480, 640, 280),
        ]
        .iter()
        .enumerate()
        {
            let x = ((k * 131 + s * 57) as u32 % (w - side)) as i64;
            let y = ((k * 71 + s * 113) as u32 % (h - side)) as i64;
            let (frame, sq) = frame_with_face(&face, w, h, x, y, side, (k * 7 + s) as u32);
            let truth = rel(&reference.bbox, &sq);
            let best = det
                .detect(&frame)
                .expect("detect")
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
        "reference placement: {} of {} faces found; moved/scaled: {found}/{total} = {:.1}% with IoU >= 0.5, median IoU {:.3}",
        sample.len() - reference_missed,
        sample.len(),
        100.0 * rate,
        ious[ious.len() / 2]
    );
    assert!(total >= 100, "too few reference detections: {total}");
    assert!(
        rate >= 0.95,
        "only {found} of {total} moved/scaled faces found with IoU >= 0.5"
    );
}

/// Recall on FER2013 faces: val faces pasted at 180–320 px into 640x480 frames are detected
/// (a detection overlapping the pasted square with IoU >= 0.3) in >= 93% of cases. FER2013 has
/// occluded, profile and drawn faces that BlazeFace does not take for faces; the rate measured
/// when this test was written is in crates/pipeline/CROP.md.
#[test]
fn most_val_faces_are_detected() {
    let det = common::detector();
    let sample = common::val_sample(25);
    let mut total = 0;
    let mut found = 0;
    for (k, (path, _)) in sample.iter().enumerate() {
        let face = common::load_grey(path);
        for (s, side) in [180u32, 240, 320].into_iter().enumerate() {
            let x = ((k * 97 + s * 41) as u32 % (640 - side)) as i64;
            let y = ((k * 53 + s * 89) as u32 % (480 - side)) as i64;
            let (frame, sq) = frame_with_face(&face, 640, 480, x, y, side, k as u32 + 1000);
            total += 1;
            if det
                .detect(&frame)
                .expect("detect")
                .iter()
                .any(|d| d.bbox.iou(&sq) >= 0.3)
            {
                found += 1;
            }
        }
    }
    let rate = found as f64 / total as f64;
    eprintln!("val faces detected: {found}/{total} = {:.1}%", 100.0 * rate);
    assert!(
        rate >= 0.93,
        "only {found} of {total} pasted val faces detected"
    );
}

#[test]
fn blank_and_noise_frames_have_no_face() {
    let det = common::detector();
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
    let det = common::detector();
    for (w, h) in [(1, 1), (1, 500), (500, 1), (3, 2)] {
        let img = RgbImage::from_pixel(w, h, Rgb([10, 20, 30]));
        assert!(det.detect(&img).expect("detect").is_empty());
    }
}

/// A face too small for the whole-frame pass in the site's 320x240 live frames (a 48 px FER square, a 40 px box) is
/// found by a stream of frames within the plan's turn, as a still frame finds it with the whole plan, and then in
/// every later frame (the tile around it); frames with nobody in them read no face.
#[test]
fn a_stream_of_frames_finds_a_small_face_and_keeps_it() {
    use emoji_pipeline::{tile_plan, StreamSearch, Tiling};
    let det = common::detector();
    let t = Tiling::default();
    let plan = tile_plan(320, 240, t.frame_min_face * 320.0, t.face_fraction);
    let turn = plan.len().div_ceil(t.stream_tiles_per_frame as usize);
    let sample = common::val_sample(200);
    let mut followed = 0;
    for (k, (path, _)) in sample.iter().enumerate() {
        let face = common::load_grey(path);
        let (x, y) = (40 + (k as i64 * 37) % 200, 30 + (k as i64 * 53) % 150);
        let (frame, square) = frame_with_face(&face, 320, 240, x, y, 48, k as u32);
        let on_face =
            |dets: &[emoji_pipeline::Detection]| dets.iter().any(|d| d.bbox.iou(&square) > 0.3);
        if !on_face(&det.detect(&frame).expect("detect")) {
            continue; // the still frame misses it too: not the stream's doing
        }
        let mut stream = StreamSearch::new();
        let first = (0..turn)
            .find(|_| on_face(&det.detect_in_stream(&frame, &mut stream).expect("detect")));
        assert!(
            first.is_some(),
            "{}: not found within {turn} frames",
            path.display()
        );
        for later in 0..5 {
            let dets = det.detect_in_stream(&frame, &mut stream).expect("detect");
            assert!(
                on_face(&dets),
                "{}: lost {later} frames after it was found",
                path.display()
            );
        }
        // The face leaves: a frame or so may still carry it (Tiling::stream_search_every), then none.
        let blank = background(320, 240, 7 + k as u32);
        for i in 0..turn {
            let dets = det.detect_in_stream(&blank, &mut stream).expect("detect");
            assert!(dets.is_empty() || i + 1 < t.stream_search_every as usize);
        }
        followed += 1;
    }
    assert!(
        followed >= sample.len() / 2,
        "only {followed} of {} faces found in a still frame",
        sample.len()
    );
}

/// A face moving across the site's 320x240 live frames (3 px a frame, a brisk head turn) is re-found in windows
/// around it ([`emoji_pipeline::Follow`]) where a whole-frame pass of the same frame finds it, and most searches
/// read only the windows.
#[test]
fn a_moving_face_is_re_found_in_windows_where_the_whole_frame_finds_it() {
    use emoji_pipeline::StreamSearch;
    let det = common::detector();
    let sample = common::val_sample(100);
    let (mut frames, mut agree) = (0, 0);
    let mut stream = StreamSearch::new();
    for (k, (path, _)) in sample.iter().enumerate() {
        let face = common::load_grey(path);
        let mut stream_of_face = StreamSearch::new();
        for i in 0..24i64 {
            let (x, y) = (60 + 3 * i, 50 + i + (k as i64 % 5) * 4);
            let (frame, _) = frame_with_face(&face, 320, 240, x, y, 110, k as u32);
            let Some(whole) = det.detect(&frame).expect("detect").first().copied() else {
                continue;
            };
            frames += 1;
            let followed = det
                .detect_in_stream(&frame, &mut stream_of_face)
                .expect("detect");
            if followed.iter().any(|d| d.bbox.iou(&whole.bbox) >= 0.6) {
                agree += 1;
            }
            // One stream over all faces too, to count how its frames were read.
            det.detect_in_stream(&frame, &mut stream).expect("detect");
        }
    }
    assert!(
        frames >= 24 * sample.len() / 2,
        "the whole frame found too few faces: {frames}"
    );
    assert!(
        agree * 100 >= frames * 95,
        "the stream's boxes agree with the whole frame's in only {agree} of {frames} frames"
    );
    let counts = stream.counts();
    let read = counts.whole + counts.windows + counts.carried;
    assert!(
        counts.windows * 4 >= read,
        "windows read only {} of {read} frames ({counts:?})",
        counts.windows
    );
}
