//! `emoji-mirror evaluate --data DIR`: runs the pipeline over a class-folder dataset (folder names
//! are labels or their aliases from the contract) and prints accuracy, macro and per-class
//! precision/recall/F1 and the confusion matrix. Images are taken as aligned face crops unless
//! `--detect` is given (the face is found in the image itself) or `--camera` (the full-path
//! benchmark: each face is pasted into a synthetic 640x480 camera frame, `synth::camera_frame`,
//! and the whole pipeline, `Pipeline::analyze`, reads the frame; the crop accuracy of the same
//! faces, the no-face rate and figures by face size are reported beside it). Decoding and cropping
//! run on every core; classification is batched.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Result;
use emoji_pipeline::synth::{
    benchmark_scene, camera_frame, BENCHMARK_FRAME, BENCHMARK_SIZE_BUCKETS,
};
use emoji_pipeline::{
    aligned_face, argmax, crop_grey, face_crop, CropRegion, Pipeline, LABELS_LEN,
};
use image::GrayImage;
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;

use emoji_mirror_cli::dataset::labelled_images;

use crate::common::{parallel, read_image, EmotionModel};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Dataset folder with one sub-folder per class (e.g. ../shared/data/fer2013/val).
    #[arg(long, value_name = "DIR")]
    pub data: PathBuf,
    /// Detect the face in each image and crop it, instead of taking images as aligned crops.
    #[arg(long, conflicts_with = "camera")]
    pub detect: bool,
    /// The full-path benchmark: paste each face into a synthetic 640x480 camera frame (face
    /// 60-300 px, place, tilt, background, tint, exposure, blur, grain, JPEG quality drawn from
    /// --seed) and read the frame with the whole pipeline; the crop accuracy of the same faces is
    /// reported beside it.
    #[arg(long)]
    pub camera: bool,
    /// Seed of the --camera frames (the same seed gives the same frames).
    #[arg(long, default_value_t = 1, requires = "camera")]
    pub seed: u64,
    /// Only every N-th image of each class (a quicker, smaller run).
    #[arg(long, default_value_t = 1, value_name = "N")]
    pub every: usize,
    #[command(flatten)]
    pub emotion: EmotionModel,
    /// Print exactly one JSON object.
    #[arg(long)]
    pub json: bool,
}

/// Per-class figures.
#[derive(Debug, Clone, Serialize)]
pub struct ClassMetrics {
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    pub support: usize,
}

/// Labels (rows: true class, columns: predicted class) and counts.
#[derive(Debug, Clone, Serialize)]
pub struct Confusion {
    pub labels: Vec<String>,
    pub matrix: Vec<Vec<usize>>,
}

/// The `--json` object.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub images: usize,
    pub accuracy: f64,
    pub macro_precision: f64,
    pub macro_recall: f64,
    pub macro_f1: f64,
    pub per_class: serde_json::Map<String, serde_json::Value>,
    pub confusion: Confusion,
    pub ms_per_image: f64,
    /// Files that could not be read (not counted in `images`).
    pub failed: usize,
    /// With `--detect` or `--camera`: images where no face was found (counted as wrong).
    pub no_face: usize,
    pub model: String,
    /// With `--camera`: the figures above are the full path's; these compare it with the crops.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub full_path: Option<FullPathReport>,
}

/// The full-path benchmark beside the crops of the same faces.
#[derive(Debug, Clone, Serialize)]
pub struct FullPathReport {
    pub frames: String,
    pub seed: u64,
    /// The same faces as aligned 48x48 crops (what `evaluate` without options measures).
    pub crop_accuracy: f64,
    pub crop_macro_f1: f64,
    /// The pasted face square cut out of the same frame (no detector): what the camera's changes
    /// (light, blur, grain, JPEG, tilt) cost before the pipeline's own detection and framing.
    pub square_accuracy: f64,
    /// Accuracy points lost on the way from the frame to the crop (crop − full path).
    pub gap_points: f64,
    /// Frames where no face was found, as a fraction of all frames.
    pub no_face_rate: f64,
    /// The same, over frames whose face square is at least 80 px.
    pub no_face_rate_80px_up: f64,
    /// Frames whose best face is not on the pasted face (its centre outside the square).
    pub wrong_place: usize,
    pub by_face_size: Vec<SizeBucket>,
}

/// Full path and crop figures for the frames whose face square is `min_px..max_px` wide.
#[derive(Debug, Clone, Serialize)]
pub struct SizeBucket {
    pub min_px: u32,
    pub max_px: u32,
    pub frames: usize,
    pub no_face: usize,
    pub accuracy: f64,
    pub crop_accuracy: f64,
    pub square_accuracy: f64,
    pub macro_f1: f64,
    pub crop_macro_f1: f64,
}

/// Face-size buckets of the --camera report.
const SIZE_BUCKETS: [(u32, u32); 5] = BENCHMARK_SIZE_BUCKETS;

/// The --camera frames: 640x480, face squares of 60..=300 px.
const CAMERA: (u32, u32, u32, u32) = BENCHMARK_FRAME;

pub fn run(args: &Args) -> Result<ExitCode> {
    let pipeline = args.emotion.load()?;
    let samples = labelled_images(&args.data, pipeline.contract(), args.every)?;
    let mode = if args.camera {
        Mode::Camera { seed: args.seed }
    } else if args.detect {
        Mode::Detect
    } else {
        Mode::Aligned
    };
    let start = Instant::now();
    let bar = if args.json {
        ProgressBar::hidden()
    } else {
        ProgressBar::new(samples.len() as u64)
    };
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} images {elapsed}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let outcomes = classify_all(&pipeline, &samples, mode, &bar)?;
    bar.finish_and_clear();
    let elapsed_ms = start.elapsed().as_secs_f64() * 1000.0;

    let mut failed = 0;
    let mut scored = Vec::new();
    for ((path, truth), outcome) in samples.iter().zip(outcomes) {
        match outcome {
            Outcome::Failed(e) => {
                failed += 1;
                eprintln!("emoji-mirror: {}: {e}", path.display());
            }
            Outcome::Scored(s) => scored.push((*truth, s)),
        }
    }
    if scored.is_empty() {
        anyhow::bail!(
            "none of the {} images in {} could be read",
            samples.len(),
            args.data.display()
        );
    }
    let pairs: Vec<(usize, Option<usize>)> =
        scored.iter().map(|(t, s)| (*t, s.predicted)).collect();
    let no_face = pairs.iter().filter(|(_, p)| p.is_none()).count();
    let mut report = metrics(
        &pairs,
        &pipeline,
        elapsed_ms,
        failed,
        no_face,
        args.emotion.name(),
    );
    if let Mode::Camera { seed } = mode {
        report.full_path = Some(full_path_report(&scored, seed));
    }
    let mut out = std::io::stdout().lock();
    if args.json {
        writeln!(out, "{}", serde_json::to_string(&report)?)?;
    } else {
        print_report(&mut out, &report, args)?;
    }
    Ok(if failed > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// The --camera figures from each frame's outcome.
fn full_path_report(scored: &[(usize, Scored)], seed: u64) -> FullPathReport {
    let summary = |rows: &[&(usize, Scored)]| {
        let full: Vec<_> = rows.iter().map(|(t, s)| (*t, s.predicted)).collect();
        let crop: Vec<_> = rows.iter().map(|(t, s)| (*t, s.crop)).collect();
        let square: Vec<_> = rows.iter().map(|(t, s)| (*t, s.square)).collect();
        let (a, f) = accuracy_and_macro_f1(&full);
        let (ca, cf) = accuracy_and_macro_f1(&crop);
        let (sa, _) = accuracy_and_macro_f1(&square);
        let no_face = rows.iter().filter(|(_, s)| s.predicted.is_none()).count();
        (a, f, ca, cf, sa, no_face)
    };
    let all: Vec<&(usize, Scored)> = scored.iter().collect();
    let (accuracy, _, crop_accuracy, crop_macro_f1, square_accuracy, no_face) = summary(&all);
    let large: Vec<&(usize, Scored)> = scored.iter().filter(|(_, s)| s.face_px >= 80).collect();
    let by_face_size = SIZE_BUCKETS
        .iter()
        .map(|&(min_px, max_px)| {
            let rows: Vec<&(usize, Scored)> = scored
                .iter()
                .filter(|(_, s)| (min_px..max_px).contains(&s.face_px))
                .collect();
            let (accuracy, macro_f1, crop_accuracy, crop_macro_f1, square_accuracy, no_face) =
                summary(&rows);
            SizeBucket {
                min_px,
                max_px,
                frames: rows.len(),
                no_face,
                accuracy,
                crop_accuracy,
                square_accuracy,
                macro_f1,
                crop_macro_f1,
            }
        })
        .collect();
    FullPathReport {
        frames: format!(
            "{}x{} synthetic camera frames, face squares {}-{} px (synth::Scene::random)",
            CAMERA.0, CAMERA.1, CAMERA.2, CAMERA.3
        ),
        seed,
        crop_accuracy,
        crop_macro_f1,
        square_accuracy,
        gap_points: 100.0 * (crop_accuracy - accuracy),
        no_face_rate: ratio(no_face, scored.len()),
        no_face_rate_80px_up: ratio(
            large.iter().filter(|(_, s)| s.predicted.is_none()).count(),
            large.len(),
        ),
        wrong_place: scored.iter().filter(|(_, s)| s.wrong_place).count(),
        by_face_size,
    }
}

/// How each image is turned into a face for the classifier.
#[derive(Debug, Clone, Copy)]
enum Mode {
    /// The image is an aligned face crop.
    Aligned,
    /// The face is found in the image itself.
    Detect,
    /// The image is pasted into a synthetic camera frame, which the whole pipeline reads.
    Camera { seed: u64 },
}

/// One image's result.
struct Scored {
    /// The label read (None: no face found).
    predicted: Option<usize>,
    /// With --camera: the label read from the same face as an aligned crop.
    crop: Option<usize>,
    /// With --camera: the label read from the pasted square cut out of the frame.
    square: Option<usize>,
    /// With --camera: the side of the pasted face square, pixels.
    face_px: u32,
    /// With --camera: the best face found is not on the pasted face.
    wrong_place: bool,
}

enum Outcome {
    Failed(String),
    Scored(Scored),
}

/// What one image gives before the batched classification: the faces to classify (none when no
/// face was found; with --camera the aligned crop, then the pasted square cut out of the frame) and,
/// with --camera, the full path's own result.
struct Prepared {
    faces: Vec<GrayImage>,
    camera: Option<Scored>,
}

/// Images decoded per work item (classified in runs of `emoji_pipeline::classify::MAX_BATCH`).
const BATCH: usize = 32;

/// Decodes, crops and classifies every sample on all cores, in batches.
fn classify_all(
    pipeline: &Pipeline,
    samples: &[(PathBuf, usize)],
    mode: Mode,
    bar: &ProgressBar,
) -> Result<Vec<Outcome>> {
    let batches: Vec<&[(PathBuf, usize)]> = samples.chunks(BATCH).collect();
    let per_batch = parallel(&batches, |b, batch| {
        let mut outcomes: Vec<Option<Outcome>> = (0..batch.len()).map(|_| None).collect();
        let mut faces: Vec<GrayImage> = Vec::new();
        let mut owners = Vec::new();
        for (k, (path, _)) in batch.iter().enumerate() {
            match prepare(pipeline, path, b * BATCH + k, mode) {
                Ok(p) => {
                    owners.push((k, p.faces.len(), p.camera));
                    faces.extend(p.faces);
                }
                Err(e) => outcomes[k] = Some(Outcome::Failed(format!("{e:#}"))),
            }
        }
        let mut labels = pipeline
            .classifier()
            .classify(&faces)?
            .iter()
            .map(argmax)
            .collect::<Vec<usize>>()
            .into_iter();
        for (k, n, camera) in owners {
            let mine: Vec<usize> = labels.by_ref().take(n).collect();
            let scored = match camera {
                Some(full) => Scored {
                    crop: mine.first().copied(),
                    square: mine.get(1).copied(),
                    ..full
                },
                None => Scored {
                    predicted: mine.first().copied(),
                    crop: None,
                    square: None,
                    face_px: 0,
                    wrong_place: false,
                },
            };
            outcomes[k] = Some(Outcome::Scored(scored));
        }
        bar.inc(batch.len() as u64);
        Ok(outcomes)
    })?;
    Ok(per_batch
        .into_iter()
        .flatten()
        .map(|o| o.expect("every sample of a batch is failed or scored"))
        .collect())
}

/// One image as `mode` wants it; `index` (the image's place in the dataset) picks its frame.
fn prepare(pipeline: &Pipeline, path: &Path, index: usize, mode: Mode) -> Result<Prepared> {
    let img = read_image(path)?;
    let contract = pipeline.contract();
    match mode {
        Mode::Aligned => Ok(Prepared {
            faces: vec![aligned_face(&img, contract)],
            camera: None,
        }),
        Mode::Detect => {
            let dets = pipeline.detector().detect(&img)?;
            Ok(Prepared {
                faces: dets
                    .first()
                    .map(|d| face_crop(&img, d, contract))
                    .into_iter()
                    .collect(),
                camera: None,
            })
        }
        Mode::Camera { seed } => {
            let face = aligned_face(&img, contract);
            let scene = benchmark_scene(seed, index);
            let (frame, square) = camera_frame(&face, &scene)?;
            let (cx, cy) = square.center();
            let cut = CropRegion {
                cx,
                cy,
                side: square.w,
                angle: 0.0,
            };
            let square_face = crop_grey(&frame, &cut, contract.input_size, contract);
            let analysis = pipeline.analyze(&frame)?;
            let best = analysis.faces.first();
            let wrong_place = best.is_some_and(|f| {
                let (fx, fy) = f.detection.bbox.center();
                !(square.x..square.x + square.w).contains(&fx)
                    || !(square.y..square.y + square.h).contains(&fy)
            });
            Ok(Prepared {
                faces: vec![face, square_face],
                camera: Some(Scored {
                    predicted: best.map(|f| f.top()),
                    crop: None,
                    square: None,
                    face_px: scene.side,
                    wrong_place,
                }),
            })
        }
    }
}

fn ratio(a: usize, b: usize) -> f64 {
    if b == 0 {
        0.0
    } else {
        a as f64 / b as f64
    }
}

/// Accuracy and macro-F1 of (true, predicted) pairs (no prediction counts as wrong).
fn accuracy_and_macro_f1(pairs: &[(usize, Option<usize>)]) -> (f64, f64) {
    let (matrix, support, correct) = confusion(pairs);
    let f1: f64 = (0..LABELS_LEN)
        .map(|k| class_metrics(&matrix, &support, k).f1)
        .sum();
    (ratio(correct, pairs.len()), f1 / LABELS_LEN as f64)
}

/// Confusion matrix (rows: truth), support per class and correct count.
fn confusion(pairs: &[(usize, Option<usize>)]) -> (Vec<Vec<usize>>, [usize; LABELS_LEN], usize) {
    let mut matrix = vec![vec![0usize; LABELS_LEN]; LABELS_LEN];
    let mut correct = 0;
    let mut support = [0usize; LABELS_LEN];
    for &(t, p) in pairs {
        support[t] += 1;
        if let Some(p) = p {
            matrix[t][p] += 1;
            if p == t {
                correct += 1;
            }
        }
    }
    (matrix, support, correct)
}

/// Precision, recall and F1 of class `k`.
fn class_metrics(matrix: &[Vec<usize>], support: &[usize; LABELS_LEN], k: usize) -> ClassMetrics {
    let tp = matrix[k][k];
    let predicted: usize = (0..LABELS_LEN).map(|t| matrix[t][k]).sum();
    let precision = ratio(tp, predicted);
    let recall = ratio(tp, support[k]);
    let f1 = if precision + recall > 0.0 {
        2.0 * precision * recall / (precision + recall)
    } else {
        0.0
    };
    ClassMetrics {
        precision,
        recall,
        f1,
        support: support[k],
    }
}

fn metrics(
    pairs: &[(usize, Option<usize>)],
    pipeline: &Pipeline,
    elapsed_ms: f64,
    failed: usize,
    no_face: usize,
    model: String,
) -> Report {
    let (matrix, support, correct) = confusion(pairs);
    let labels = pipeline.contract().labels.clone();
    let mut per_class = serde_json::Map::new();
    let (mut sp, mut sr, mut sf) = (0.0, 0.0, 0.0);
    for (k, label) in labels.iter().enumerate() {
        let m = class_metrics(&matrix, &support, k);
        sp += m.precision;
        sr += m.recall;
        sf += m.f1;
        per_class.insert(label.clone(), serde_json::to_value(m).unwrap_or_default());
    }
    let n = LABELS_LEN as f64;
    Report {
        images: pairs.len(),
        accuracy: ratio(correct, pairs.len()),
        macro_precision: sp / n,
        macro_recall: sr / n,
        macro_f1: sf / n,
        per_class,
        confusion: Confusion { labels, matrix },
        ms_per_image: elapsed_ms / pairs.len() as f64,
        failed,
        no_face,
        model,
        full_path: None,
    }
}

fn print_report(out: &mut impl Write, r: &Report, args: &Args) -> Result<()> {
    writeln!(out, "dataset   {}", args.data.display())?;
    writeln!(out, "model     {}", r.model)?;
    writeln!(
        out,
        "crops     {}",
        if args.camera {
            "the whole pipeline on synthetic camera frames (--camera)"
        } else if args.detect {
            "detected faces"
        } else {
            "images as aligned crops"
        }
    )?;
    writeln!(
        out,
        "images    {} ({} unreadable, {} without a face)",
        r.images, r.failed, r.no_face
    )?;
    writeln!(out, "accuracy  {:.2}%", 100.0 * r.accuracy)?;
    writeln!(
        out,
        "macro     precision {:.2}%  recall {:.2}%  F1 {:.2}%",
        100.0 * r.macro_precision,
        100.0 * r.macro_recall,
        100.0 * r.macro_f1
    )?;
    writeln!(out, "time      {:.3} ms per image", r.ms_per_image)?;
    if let Some(f) = &r.full_path {
        print_full_path(out, r, f)?;
    }
    writeln!(out)?;
    writeln!(
        out,
        "{:<10} {:>9} {:>9} {:>9} {:>8}",
        "class", "precision", "recall", "F1", "support"
    )?;
    for (label, v) in &r.per_class {
        let g = |k: &str| v.get(k).and_then(|x| x.as_f64()).unwrap_or(0.0);
        writeln!(
            out,
            "{:<10} {:>8.2}% {:>8.2}% {:>8.2}% {:>8}",
            label,
            100.0 * g("precision"),
            100.0 * g("recall"),
            100.0 * g("f1"),
            g("support") as u64
        )?;
    }
    writeln!(out)?;
    writeln!(out, "confusion (rows: true class, columns: predicted)")?;
    write!(out, "{:<10}", "")?;
    for l in &r.confusion.labels {
        write!(out, " {:>8}", truncate(l, 8))?;
    }
    writeln!(out)?;
    for (l, row) in r.confusion.labels.iter().zip(&r.confusion.matrix) {
        write!(out, "{:<10}", l)?;
        for v in row {
            write!(out, " {:>8}", v)?;
        }
        writeln!(out)?;
    }
    Ok(())
}

fn print_full_path(out: &mut impl Write, r: &Report, f: &FullPathReport) -> Result<()> {
    writeln!(out)?;
    writeln!(out, "frames    {}, seed {}", f.frames, f.seed)?;
    writeln!(
        out,
        "full path {:.2}% (macro-F1 {:.2}%)  crops {:.2}% (macro-F1 {:.2}%)  gap {:.2} points",
        100.0 * r.accuracy,
        100.0 * r.macro_f1,
        100.0 * f.crop_accuracy,
        100.0 * f.crop_macro_f1,
        f.gap_points
    )?;
    writeln!(
        out,
        "square    {:.2}% (the pasted square cut out of the frame, no detector)",
        100.0 * f.square_accuracy
    )?;
    writeln!(
        out,
        "no face   {:.2}% of frames, {:.2}% of frames with faces >= 80 px; best face elsewhere in {}",
        100.0 * f.no_face_rate,
        100.0 * f.no_face_rate_80px_up,
        f.wrong_place
    )?;
    writeln!(
        out,
        "{:<12} {:>6} {:>8} {:>10} {:>8} {:>8} {:>10} {:>8}",
        "face px", "frames", "no face", "full path", "square", "crops", "F1 full", "F1 crop"
    )?;
    for b in &f.by_face_size {
        writeln!(
            out,
            "{:<12} {:>6} {:>7.2}% {:>9.2}% {:>7.2}% {:>7.2}% {:>9.2}% {:>7.2}%",
            format!("{}-{}", b.min_px, b.max_px - 1),
            b.frames,
            100.0 * ratio(b.no_face, b.frames),
            100.0 * b.accuracy,
            100.0 * b.square_accuracy,
            100.0 * b.crop_accuracy,
            100.0 * b.macro_f1,
            100.0 * b.crop_macro_f1
        )?;
    }
    Ok(())
}

fn truncate(s: &str, n: usize) -> &str {
    s.char_indices().nth(n).map(|(i, _)| &s[..i]).unwrap_or(s)
}
