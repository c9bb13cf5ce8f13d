//! How much of FER2013's own framing the detector can know. Each face is pasted into a full-path benchmark
//! frame (`synth::benchmark_scene`), BlazeFace finds it, and the dataset's crop square (where the face was
//! pasted) is compared with the detector's box and six keypoints:
//!
//! 1. a linear rule from the box and keypoints to the square (centre offset and log side, in box sides) is
//!    fitted on train faces and scored on val faces (R², residual spread);
//! 2. the same val faces in frames of two seeds: how much of the square's spread around the box follows the
//!    face (the same in both frames: FER's framing of that image) and how much the frame (detector noise);
//! 3. the emotion model on val crops cut three ways: the contract's crop, the fitted rule's, the true square.
//!
//! Results go to crates/cli/FULLPATH.md by hand.
//!
//!     cargo run --release -p emoji-mirror-cli --example measure_framing -- ../shared/data/fer2013 [every val] [every train]

mod common;

use std::collections::HashMap;
use std::path::Path;

use anyhow::{Context, Result};
use emoji_pipeline::synth::{benchmark_scene, camera_frame};
use emoji_pipeline::{
    aligned_face, argmax, crop_grey, decode_image, face_crop, CropRegion, DecodeLimits, Detection,
    Pipeline,
};
use image::GrayImage;

/// Box aspect, then the six keypoints relative to the box centre, in box sides; a constant first.
const FEATURES: usize = 14;
/// Offset of the square's centre from the box centre (x, y, in box sides) and ln(square side / box side).
const TARGETS: [&str; 3] = ["centre x", "centre y", "ln side"];

struct Face {
    file: String,
    label: usize,
    features: [f64; FEATURES],
    target: [f64; 3],
    /// Crops cut by the contract and by the true square (with `--fitted`, also by the fitted rule).
    crops: Vec<GrayImage>,
}

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let (data, every_val) = common::data_and_every(&args, 2)?;
    let every_train: usize = args
        .get(3)
        .map_or(Ok(10), |n| n.parse())
        .context("every train")?;
    let pipeline = Pipeline::shipped()?;

    let train = collect(&pipeline, &data.join("train"), every_train, 7, None)?;
    let rule = fit(&train);
    let val = collect(&pipeline, &data.join("val"), every_val, 9, Some(&rule))?;
    let again = collect(&pipeline, &data.join("val"), every_val, 10, None)?;
    println!(
        "train faces found on their square: {}; val: {} (seed 9), {} (seed 10)\n",
        train.len(),
        val.len(),
        again.len()
    );

    println!("| quantity | spread (sd) | fitted on train: R² on val | residual sd on val | same face, two frames: sd | share that follows the face |");
    println!("|---|---|---|---|---|---|");
    let by_file: HashMap<&str, &Face> = again.iter().map(|f| (f.file.as_str(), f)).collect();
    for (t, name) in TARGETS.iter().enumerate() {
        let y: Vec<f64> = val.iter().map(|f| f.target[t]).collect();
        let residual: Vec<f64> = val
            .iter()
            .map(|f| f.target[t] - predict(&rule, &f.features)[t])
            .collect();
        let pairs: Vec<f64> = val
            .iter()
            .filter_map(|f| {
                by_file
                    .get(f.file.as_str())
                    .map(|g| f.target[t] - g.target[t])
            })
            .collect();
        let both: Vec<f64> = val.iter().chain(&again).map(|f| f.target[t]).collect();
        let (total, within) = (sd(&both), sd(&pairs) / 2f64.sqrt());
        println!(
            "| {name} | {:.3} | {:.2} | {:.3} | {within:.3} | {:.0}% |",
            sd(&y),
            1.0 - variance(&residual) / variance(&y),
            sd(&residual),
            100.0 * (1.0 - (within / total).powi(2)),
        );
    }

    println!("\n| val crops cut by | accuracy |\n|---|---|");
    for (k, name) in [
        "the contract (1.10x the box)",
        "the fitted rule",
        "the true square",
    ]
    .iter()
    .enumerate()
    {
        let crops: Vec<GrayImage> = val.iter().map(|f| f.crops[k].clone()).collect();
        let probs = pipeline.classifier().classify(&crops)?;
        let right = probs
            .iter()
            .zip(&val)
            .filter(|(p, f)| argmax(p) == f.label)
            .count();
        println!(
            "| {name} | {:.2}% |",
            100.0 * right as f64 / val.len() as f64
        );
    }
    Ok(())
}

/// Every `every`-th face of each class of `split`, pasted into the benchmark frame of `seed`, whose best detection
/// lies on the pasted square.
fn collect(
    pipeline: &Pipeline,
    split: &Path,
    every: usize,
    seed: u64,
    rule: Option<&[[f64; 3]; FEATURES]>,
) -> Result<Vec<Face>> {
    let contract = pipeline.contract();
    let mut faces = Vec::new();
    let mut index = 0;
    for (path, label) in emoji_mirror_cli::dataset::labelled_images(split, contract, every)? {
        index += 1;
        let bytes = std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
        let face = aligned_face(&decode_image(&bytes, &DecodeLimits::default())?, contract);
        let (frame, square) = camera_frame(&face, &benchmark_scene(seed, index))?;
        let Some(det) = pipeline.detector().detect(&frame)?.into_iter().next() else {
            continue;
        };
        let (bx, by) = det.bbox.center();
        let (tx, ty) = square.center();
        if (bx - tx).abs() > square.w / 2.0 || (by - ty).abs() > square.h / 2.0 {
            continue;
        }
        let side = f64::from(det.bbox.w.max(det.bbox.h));
        let features = features(&det);
        let target = [
            f64::from(tx - bx) / side,
            f64::from(ty - by) / side,
            (f64::from(square.w) / side).ln(),
        ];
        let cut = |offset: [f64; 3]| {
            let region = CropRegion {
                cx: bx + (offset[0] * side) as f32,
                cy: by + (offset[1] * side) as f32,
                side: (offset[2].exp() * side) as f32,
                angle: 0.0,
            };
            crop_grey(&frame, &region, contract.input_size, contract)
        };
        let mut crops = vec![face_crop(&frame, &det, contract), cut(target)];
        if let Some(rule) = rule {
            crops.insert(1, cut(predict(rule, &features)));
        }
        faces.push(Face {
            file: path
                .file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .into(),
            label,
            features,
            target,
            crops,
        });
    }
    Ok(faces)
}

fn features(det: &Detection) -> [f64; FEATURES] {
    let (cx, cy) = det.bbox.center();
    let side = det.bbox.w.max(det.bbox.h);
    let mut f = [0.0; FEATURES];
    f[0] = 1.0;
    f[1] = f64::from(det.bbox.w / det.bbox.h);
    for (k, (x, y)) in det.keypoints.iter().enumerate() {
        f[2 + 2 * k] = f64::from((x - cx) / side);
        f[3 + 2 * k] = f64::from((y - cy) / side);
    }
    f
}

fn predict(rule: &[[f64; 3]; FEATURES], f: &[f64; FEATURES]) -> [f64; 3] {
    let mut y = [0.0; 3];
    for (w, x) in rule.iter().zip(f) {
        for (yt, wt) in y.iter_mut().zip(w) {
            *yt += wt * x;
        }
    }
    y
}

/// Least squares with a little ridge (the keypoints are strongly correlated): the normal equations, each row
/// `[XᵀX | XᵀY]`, solved by Gauss-Jordan with partial pivoting.
fn fit(faces: &[Face]) -> [[f64; 3]; FEATURES] {
    let mut m = [[0.0; FEATURES + 3]; FEATURES];
    for face in faces {
        for (row, xi) in m.iter_mut().zip(&face.features) {
            for (cell, v) in row.iter_mut().zip(face.features.iter().chain(&face.target)) {
                *cell += xi * v;
            }
        }
    }
    for (i, row) in m.iter_mut().enumerate() {
        row[i] += 1e-3;
    }
    for col in 0..FEATURES {
        let pivot = (col..FEATURES)
            .max_by(|&i, &j| m[i][col].abs().total_cmp(&m[j][col].abs()))
            .unwrap_or(col);
        m.swap(col, pivot);
        let p = m[col];
        for (r, row) in m.iter_mut().enumerate() {
            if r != col {
                let k = row[col] / p[col];
                for (cell, pv) in row.iter_mut().zip(&p) {
                    *cell -= k * pv;
                }
            }
        }
    }
    let mut rule = [[0.0; 3]; FEATURES];
    for (i, (w, row)) in rule.iter_mut().zip(&m).enumerate() {
        for (wt, v) in w.iter_mut().zip(&row[FEATURES..]) {
            *wt = v / row[i];
        }
    }
    rule
}

fn variance(v: &[f64]) -> f64 {
    let mean = v.iter().sum::<f64>() / v.len().max(1) as f64;
    v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / v.len().max(1) as f64
}

fn sd(v: &[f64]) -> f64 {
    variance(v).sqrt()
}
