//! `emoji-mirror bench`: median wall time of each pipeline stage (decode, detect, crop, classify,
//! whole frame) on a 640x480 JPEG frame holding one validation face, natively. `--model` times
//! another emotion model (e.g. the float form against the shipped int8 one). Beside the stages, where each network's
//! time goes op by op (`emoji_pipeline::profile`; the site's worker measures the same in wasm: tests/worker_ops.rs).

use std::io::{Cursor, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, Result};
use emoji_pipeline::synth::frame_with_face;
use emoji_pipeline::{
    decode_image, face_crop, DecodeLimits, EmotionClassifier, FaceDetector, OpTime, Pipeline,
    SearchCounts, Stream,
};
use serde::Serialize;

use crate::common::{read_image, EmotionModel};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// FER2013 folder (its val/happy images give the bench face).
    #[arg(long, value_name = "DIR", default_value = "../shared/data/fer2013")]
    pub data: PathBuf,
    /// Timed runs per stage (after 3 warm-up runs).
    #[arg(long, default_value_t = 50)]
    pub runs: usize,
    #[command(flatten)]
    pub emotion: EmotionModel,
    /// Print one JSON object.
    #[arg(long)]
    pub json: bool,
}

/// Median, spread and mean of one stage, milliseconds (the mean matters where runs differ by design: a live
/// stream's searched and carried frames).
#[derive(Debug, Clone, Serialize)]
pub struct Stat {
    pub median_ms: f64,
    pub mean_ms: f64,
    pub p10_ms: f64,
    pub p90_ms: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct BenchReport {
    pub model: String,
    /// Whether each face was classified with its mirror image.
    pub test_time_flip: bool,
    pub frame: String,
    pub runs: usize,
    pub threads: usize,
    pub load_detector_ms: f64,
    pub load_classifier_ms: f64,
    pub decode: Stat,
    pub detect: Stat,
    pub crop: Stat,
    pub classify: Stat,
    /// One face per image, 64 per call: time per face.
    pub classify_batch64_per_face: Stat,
    /// decode + detect + crop + classify of the whole JPEG frame.
    pub whole_frame: Stat,
    /// The same frame as one of a live stream's consecutive frames (`Pipeline::analyze_in_stream`, what the
    /// site's worker runs): the detector searches every few frames and carries its faces between, and with the
    /// test-time flip each frame reads the face or its mirror in turn. No decode (the site's frames are pixels).
    pub live_frame: Stat,
    /// How the live frames were read: the whole frame, windows around the face, or carried (`StreamSearch`).
    pub live_frame_reads: SearchCounts,
    pub faces_found: usize,
    /// BlazeFace's time by kind of op (one run, mean of `runs`), the costliest first.
    pub detector_ops: Vec<OpTime>,
    /// BlazeFace at the window side a stream re-finds followed faces at (`Follow::side`), the same way; none where
    /// following is off.
    pub detector_window_ops: Option<Vec<OpTime>>,
    /// The emotion net's one-face plan (what a live frame runs), the same way.
    pub classifier_ops: Vec<OpTime>,
}

fn stat(mut v: Vec<f64>) -> Stat {
    v.sort_by(f64::total_cmp);
    let at = |q: f64| v[((v.len() - 1) as f64 * q).round() as usize];
    Stat {
        median_ms: at(0.5),
        mean_ms: v.iter().sum::<f64>() / v.len() as f64,
        p10_ms: at(0.1),
        p90_ms: at(0.9),
    }
}

fn time<T>(runs: usize, mut f: impl FnMut() -> Result<T>) -> Result<Vec<f64>> {
    for _ in 0..3 {
        f()?;
    }
    let mut out = Vec::with_capacity(runs);
    for _ in 0..runs {
        let t = Instant::now();
        std::hint::black_box(f()?);
        out.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    Ok(out)
}

/// The first image (by name) of val/happy, or of any val class folder.
fn bench_face(data: &Path) -> Result<PathBuf> {
    let val = data.join("val");
    let mut dirs = vec![val.join("happy")];
    if let Ok(entries) = std::fs::read_dir(&val) {
        let mut more: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
        more.sort();
        dirs.extend(more);
    }
    for d in dirs {
        let found = emoji_mirror_cli::dataset::collect_inputs(std::slice::from_ref(&d));
        if let Some(first) = found.into_iter().find(|p| p.is_file()) {
            return Ok(first);
        }
    }
    anyhow::bail!(
        "no validation image under {} (pass --data DIR)",
        val.display()
    )
}

pub fn run(args: &Args) -> Result<ExitCode> {
    let runs = args.runs.max(1);
    let face_path = bench_face(&args.data)?;
    let face =
        read_image(&face_path).with_context(|| format!("reading {}", face_path.display()))?;
    let grey = image::DynamicImage::ImageRgb8(face).to_luma8();
    let (frame, _) = frame_with_face(&grey, 640, 480, 220, 120, 200, 7);
    let mut jpeg = Cursor::new(Vec::new());
    frame
        .write_to(&mut jpeg, image::ImageFormat::Jpeg)
        .context("encoding the bench frame")?;
    let jpeg = jpeg.into_inner();

    let pipeline: Pipeline = args.emotion.load()?;
    let model_bytes = args.emotion.bytes()?;
    let load_detector = stat(time(5, || {
        Ok(FaceDetector::from_bytes(emoji_pipeline::SHIPPED_DETECTOR)?)
    })?);
    let load_classifier = stat(time(5, || {
        Ok(EmotionClassifier::from_bytes(
            &model_bytes,
            pipeline.contract(),
        )?)
    })?);

    let limits = DecodeLimits::default();
    let decode = time(runs, || Ok(decode_image(&jpeg, &limits)?))?;
    let img = decode_image(&jpeg, &limits)?;
    let detect = time(runs, || Ok(pipeline.detector().detect(&img)?))?;
    let dets = pipeline.detector().detect(&img)?;
    let det = *dets
        .first()
        .context("the detector found no face in the bench frame")?;
    let crop = time(runs, || Ok(face_crop(&img, &det, pipeline.contract())))?;
    let crop_img = face_crop(&img, &det, pipeline.contract());
    let classify = time(runs, || {
        Ok(pipeline
            .classifier()
            .classify(std::slice::from_ref(&crop_img))?)
    })?;
    let batch = vec![crop_img.clone(); 64];
    let batch_runs = (runs / 8).max(3);
    let classify64: Vec<f64> = time(batch_runs, || Ok(pipeline.classifier().classify(&batch)?))?
        .into_iter()
        .map(|t| t / 64.0)
        .collect();
    let whole = time(runs, || {
        Ok(pipeline.analyze(&decode_image(&jpeg, &limits)?)?)
    })?;
    let mut stream = Stream::new();
    let live = time(runs, || Ok(pipeline.analyze_in_stream(&img, &mut stream)?))?;
    let detector_ops = pipeline.detector().op_profile(3, runs)?;
    let detector_window_ops = pipeline.detector().window_op_profile(3, runs)?;
    let classifier_ops = pipeline.classifier().op_profile(3, runs)?;

    let report = BenchReport {
        model: args.emotion.name(),
        test_time_flip: pipeline.classifier().contract().test_time_flip,
        frame: format!(
            "640x480 JPEG, {} scaled to 200x200 at (220,120)",
            face_path.display()
        ),
        runs,
        threads: 1,
        load_detector_ms: load_detector.median_ms,
        load_classifier_ms: load_classifier.median_ms,
        decode: stat(decode),
        detect: stat(detect),
        crop: stat(crop),
        classify: stat(classify),
        classify_batch64_per_face: stat(classify64),
        whole_frame: stat(whole),
        live_frame: stat(live),
        live_frame_reads: stream.search_counts(),
        faces_found: dets.len(),
        detector_ops,
        detector_window_ops,
        classifier_ops,
    };
    let mut out = std::io::stdout().lock();
    if args.json {
        writeln!(out, "{}", serde_json::to_string_pretty(&report)?)?;
    } else {
        writeln!(out, "model   {}", report.model)?;
        writeln!(out, "frame   {}", report.frame)?;
        writeln!(
            out,
            "load    detector {:.1} ms, classifier {:.1} ms",
            report.load_detector_ms, report.load_classifier_ms
        )?;
        writeln!(
            out,
            "{:<26} {:>10} {:>10} {:>10} {:>10}   ({} runs)",
            "stage", "median ms", "p10 ms", "p90 ms", "mean ms", runs
        )?;
        for (name, s) in [
            ("decode (JPEG 640x480)", &report.decode),
            ("detect", &report.detect),
            ("crop", &report.crop),
            ("classify (1 face)", &report.classify),
            (
                "classify (per face, x64)",
                &report.classify_batch64_per_face,
            ),
            ("whole frame", &report.whole_frame),
            ("live frame (stream)", &report.live_frame),
        ] {
            writeln!(
                out,
                "{:<26} {:>10.3} {:>10.3} {:>10.3} {:>10.3}",
                name, s.median_ms, s.p10_ms, s.p90_ms, s.mean_ms
            )?;
        }
        let reads = report.live_frame_reads;
        writeln!(
            out,
            "live frames read: {} whole, {} in windows, {} carried",
            reads.whole, reads.windows, reads.carried
        )?;
        let window = report.detector_window_ops.as_deref().unwrap_or_default();
        for (net, ops) in [
            ("detector", &report.detector_ops[..]),
            ("detector, a followed face's window", window),
            ("classifier (one face)", &report.classifier_ops[..]),
        ] {
            if ops.is_empty() {
                continue; // following off: no window pass
            }
            // Kinds of op under 1% of the run are left out of the text (the JSON has them all).
            write!(out, "{}", emoji_pipeline::profile::table(net, ops, 0.01))?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
