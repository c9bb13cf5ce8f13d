//! How small a face BlazeFace short-range finds, as a fraction of its 128 px input, and at which
//! score threshold: val faces pasted into 128x128 synthetic frames (synth::Scene, no blur/JPEG
//! variation beyond the scene's) at sizes 12..128 px. Prints recall and false detections per size
//! and threshold; `detect::Tiling::face_fraction` is read off it (crates/cli/FULLPATH.md).
//!
//!     cargo run --release -p emoji-mirror-cli --example measure_tiles -- ../shared/data/fer2013 [every]

mod common;

use anyhow::Result;
use emoji_pipeline::synth::{camera_frame, Scene};
use emoji_pipeline::{
    aligned_face, decode_image, DecodeLimits, DetectorConfig, FaceDetector, Pipeline,
};

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let (data, every) = common::data_and_every(&args, 10)?;
    let pipeline = Pipeline::shipped()?;
    // The whole 128x128 frame is one network input: no tiles.
    let mut cfg = DetectorConfig {
        min_score: 0.2,
        ..DetectorConfig::default()
    };
    cfg.tiling.frame_min_face = 1.0;
    let det = FaceDetector::with_config(emoji_pipeline::SHIPPED_DETECTOR, cfg)?;
    let mut faces = Vec::new();
    let val = data.join("val");
    for (f, _) in emoji_mirror_cli::dataset::labelled_images(&val, pipeline.contract(), every)? {
        let img = decode_image(&std::fs::read(&f)?, &DecodeLimits::default())?;
        faces.push(aligned_face(&img, pipeline.contract()));
    }
    let thresholds = [0.2f32, 0.3, 0.4, 0.5];
    println!("{} faces", faces.len());
    println!("| face/input | side px | recall@0.2 | @0.3 | @0.4 | @0.5 | false@0.2 | @0.3 | @0.4 | @0.5 |");
    println!("|---|---|---|---|---|---|---|---|---|---|");
    let size = 128u32;
    for side in [12u32, 16, 20, 24, 28, 32, 38, 44, 52, 64, 80, 96, 112, 128] {
        let mut found = [0usize; 4];
        let mut false_pos = [0usize; 4];
        for (i, face) in faces.iter().enumerate() {
            let mut scene =
                Scene::random(i as u64 * 7919 + u64::from(side), size, size, side, side);
            scene.side = side;
            let (frame, sq) = camera_frame(face, &scene)?;
            let dets = det.detect(&frame)?;
            for (k, &t) in thresholds.iter().enumerate() {
                let mut hit = false;
                for d in dets.iter().filter(|d| d.score >= t) {
                    let (cx, cy) = d.bbox.center();
                    if (sq.x..sq.x + sq.w).contains(&cx) && (sq.y..sq.y + sq.h).contains(&cy) {
                        hit = true;
                    } else {
                        false_pos[k] += 1;
                    }
                }
                if hit {
                    found[k] += 1;
                }
            }
        }
        let n = faces.len() as f64;
        let pct = |v: usize| format!("{:.1}%", 100.0 * v as f64 / n);
        println!(
            "| {:.2} | {side} | {} | {} | {} | {} | {} | {} | {} | {} |",
            side as f64 / size as f64,
            pct(found[0]),
            pct(found[1]),
            pct(found[2]),
            pct(found[3]),
            false_pos[0],
            false_pos[1],
            false_pos[2],
            false_pos[3]
        );
    }
    Ok(())
}
