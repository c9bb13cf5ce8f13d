//! Measures the face-crop parameters of models/preprocess.json (`crop.scale`, `crop.shift_y`,
//! `crop.rotate`): FER2013 val faces (tight 48x48 crops) are pasted into 640x480 frames, BlazeFace
//! finds them, and each candidate crop is scored by (a) how close its framing is to the original
//! FER crop (mean absolute grey difference after the contract's equalisation) and (b) the emotion
//! model's accuracy on it. Results go to crates/pipeline/CROP.md by hand.
//!
//!     cargo run --release -p emoji-mirror-cli --example measure_crop -- ../shared/data/fer2013 [every] [model.onnx]

mod common;

use std::path::Path;

use anyhow::{Context, Result};
use emoji_pipeline::synth::frame_with_face;
use emoji_pipeline::{
    argmax, crop_grey, crop_region, decode_image, CropParams, DecodeLimits, Detection,
    EmotionClassifier, Pipeline,
};
use image::GrayImage;

struct Case {
    frame: image::RgbImage,
    face: GrayImage,
    det: Detection,
    label: usize,
    ratio: f32,
    offset: f32,
    angle: f32,
}

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let (data, every) = common::data_and_every(&args, 5)?;
    let mut pipeline = Pipeline::shipped()?;
    if let Some(m) = args.get(3) {
        let bytes = std::fs::read(m).with_context(|| format!("reading {m}"))?;
        pipeline = pipeline
            .clone()
            .with_classifier(EmotionClassifier::from_bytes(&bytes, pipeline.contract())?);
    }
    let contract = pipeline.contract().clone();
    let cases = build_cases(&pipeline, &data, every)?;
    let n = cases.len();
    let median = |mut v: Vec<f32>| {
        v.sort_by(f32::total_cmp);
        (v[v.len() / 4], v[v.len() / 2], v[3 * v.len() / 4])
    };
    let (r1, r2, r3) = median(cases.iter().map(|c| c.ratio).collect());
    let (o1, o2, o3) = median(cases.iter().map(|c| c.offset).collect());
    let (a1, a2, a3) = median(cases.iter().map(|c| c.angle.to_degrees().abs()).collect());
    println!("faces detected: {n}");
    println!("FER side / max(box w, h): quartiles {r1:.3} {r2:.3} {r3:.3}");
    println!("(FER centre y - box centre y) / FER side: quartiles {o1:.3} {o2:.3} {o3:.3}");
    println!("|eye-line angle| degrees: quartiles {a1:.1} {a2:.1} {a3:.1}");

    // Reference accuracy: the original FER crops, as evaluate sees them.
    let originals: Vec<GrayImage> = cases.iter().map(|c| c.face.clone()).collect();
    let acc0 = accuracy(&pipeline, &originals, &cases)?;
    println!("accuracy on the original 48x48 crops: {:.2}%", 100.0 * acc0);
    println!();
    println!("| scale | shift_y | rotate | framing MAD (grey levels) | accuracy |");
    println!("|---|---|---|---|---|");
    for rotate in [false, true] {
        for scale in [1.0f32, 1.1, 1.2, 1.3, 1.4, 1.5] {
            for shift in [-0.05f32, 0.0, 0.05, 0.1] {
                let p = CropParams {
                    scale,
                    shift_y: shift,
                    rotate,
                };
                let crops: Vec<GrayImage> = cases
                    .iter()
                    .map(|c| {
                        crop_grey(
                            &c.frame,
                            &crop_region(&c.det, &p),
                            contract.input_size,
                            &contract,
                        )
                    })
                    .collect();
                let mad = framing_mad(&crops, &cases, &contract);
                let acc = accuracy(&pipeline, &crops, &cases)?;
                println!(
                    "| {scale:.2} | {shift:.2} | {rotate} | {mad:.2} | {:.2}% |",
                    100.0 * acc
                );
            }
        }
    }
    Ok(())
}

fn build_cases(pipeline: &Pipeline, data: &Path, every: usize) -> Result<Vec<Case>> {
    let val = data.join("val");
    let mut cases = Vec::new();
    let mut k = 0usize;
    let mut missed = 0;
    for (f, label) in emoji_mirror_cli::dataset::labelled_images(&val, pipeline.contract(), every)?
    {
        let rgb = decode_image(&std::fs::read(&f)?, &DecodeLimits::default())?;
        let face = image::DynamicImage::ImageRgb8(rgb).to_luma8();
        let side = [120u32, 180, 240][k % 3];
        let x = ((k * 131) as u32 % (640 - side)) as i64;
        let y = ((k * 71) as u32 % (480 - side)) as i64;
        let (frame, truth) = frame_with_face(&face, 640, 480, x, y, side, k as u32);
        k += 1;
        let dets = pipeline.detector().detect(&frame)?;
        let Some(det) = dets
            .into_iter()
            .filter(|d| d.bbox.iou(&truth) > 0.3)
            .max_by(|a, b| a.score.total_cmp(&b.score))
        else {
            missed += 1;
            continue;
        };
        let (_, dcy) = det.bbox.center();
        let (_, tcy) = truth.center();
        let (rx, ry) = det.keypoints[0];
        let (lx, ly) = det.keypoints[1];
        cases.push(Case {
            ratio: truth.w / det.bbox.w.max(det.bbox.h),
            offset: (tcy - dcy) / truth.w,
            angle: (ly - ry).atan2(lx - rx),
            frame,
            face,
            det,
            label,
        });
    }
    println!("faces pasted: {k}, not found: {missed}");
    Ok(cases)
}

fn accuracy(pipeline: &Pipeline, crops: &[GrayImage], cases: &[Case]) -> Result<f64> {
    let probs = pipeline.classifier().classify(crops)?;
    let ok = probs
        .iter()
        .zip(cases)
        .filter(|(p, c)| argmax(p) == c.label)
        .count();
    Ok(ok as f64 / cases.len() as f64)
}

fn framing_mad(crops: &[GrayImage], cases: &[Case], contract: &emoji_pipeline::Contract) -> f64 {
    let mut sum = 0.0;
    let mut n = 0usize;
    for (crop, c) in crops.iter().zip(cases) {
        let a = emoji_pipeline::enhance(crop, contract);
        let b = emoji_pipeline::enhance(&c.face, contract);
        for (x, y) in a.iter().zip(b.iter()) {
            sum += (f64::from(*x) - f64::from(*y)).abs();
            n += 1;
        }
    }
    sum / n.max(1) as f64
}
