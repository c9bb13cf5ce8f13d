//! `emoji-mirror evaluate --data DIR`: runs the pipeline over a class-folder dataset (folder names
//! are labels or their aliases from the contract) and prints accuracy, macro and per-class
//! precision/recall/F1 and the confusion matrix. Images are taken as aligned face crops unless
//! `--detect` is given. Decoding and cropping run on every core; classification is batched.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use anyhow::{Context, Result};
use emoji_pipeline::{aligned_face, argmax, face_crop, Pipeline, LABELS_LEN};
use image::GrayImage;
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;

use crate::common::{collect_inputs, load_pipeline, model_name, read_image, threads};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Dataset folder with one sub-folder per class (e.g. ../shared/data/fer2013/val).
    #[arg(long, value_name = "DIR")]
    pub data: PathBuf,
    /// Detect the face in each image and crop it, instead of taking images as aligned crops.
    #[arg(long)]
    pub detect: bool,
    /// Another emotion model (NNEF archive, or ONNX float or int8) instead of the shipped one.
    #[arg(long, value_name = "PATH")]
    pub model: Option<PathBuf>,
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
    /// With `--detect`: images where no face was found (counted as wrong).
    pub no_face: usize,
    pub model: String,
}

pub fn run(args: &Args) -> Result<ExitCode> {
    let pipeline = load_pipeline(args.model.as_deref())?;
    let samples = list_dataset(&args.data, &pipeline)?;
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
    let outcomes = classify_all(&pipeline, &samples, args.detect, &bar)?;
    bar.finish_and_clear();
    let elapsed_ms = start.elapsed().as_secs_f64() * 1000.0;

    let mut failed = 0;
    let mut no_face = 0;
    let mut pairs = Vec::new();
    for ((path, truth), outcome) in samples.iter().zip(outcomes) {
        match outcome {
            Outcome::Failed(e) => {
                failed += 1;
                eprintln!("emoji-mirror: {}: {e}", path.display());
            }
            Outcome::NoFace => {
                no_face += 1;
                pairs.push((*truth, None));
            }
            Outcome::Predicted(p) => pairs.push((*truth, Some(p))),
        }
    }
    if pairs.is_empty() {
        anyhow::bail!(
            "none of the {} images in {} could be read",
            samples.len(),
            args.data.display()
        );
    }
    let report = metrics(
        &pairs,
        &pipeline,
        elapsed_ms,
        failed,
        no_face,
        model_name(args.model.as_deref()),
    );
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

/// (path, class index) of every image under the class folders of `dir`.
fn list_dataset(dir: &Path, pipeline: &Pipeline) -> Result<Vec<(PathBuf, usize)>> {
    let entries = std::fs::read_dir(dir)
        .with_context(|| format!("reading the dataset folder {}", dir.display()))?;
    let mut classes = Vec::new();
    for e in entries {
        let path = e
            .with_context(|| format!("reading {}", dir.display()))?
            .path();
        if !path.is_dir() {
            continue;
        }
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        match pipeline.contract().label_index(&name) {
            Some(i) => classes.push((path, i)),
            None if !name.starts_with('.') => eprintln!(
                "emoji-mirror: skipping {}: not a class name",
                path.display()
            ),
            None => {}
        }
    }
    classes.sort();
    if classes.is_empty() {
        anyhow::bail!(
            "{} has no class folders (expected sub-folders named {})",
            dir.display(),
            pipeline.contract().labels.join(", ")
        );
    }
    let mut samples = Vec::new();
    for (folder, class) in classes {
        samples.extend(collect_inputs(&[folder]).into_iter().map(|p| (p, class)));
    }
    if samples.is_empty() {
        anyhow::bail!("no images in the class folders of {}", dir.display());
    }
    Ok(samples)
}

enum Outcome {
    Failed(String),
    NoFace,
    Predicted(usize),
}

/// Images decoded per work item (classified in runs of `emoji_pipeline::classify::MAX_BATCH`).
const BATCH: usize = 32;

/// Decodes, crops and classifies every sample on all cores, in batches.
fn classify_all(
    pipeline: &Pipeline,
    samples: &[(PathBuf, usize)],
    detect: bool,
    bar: &ProgressBar,
) -> Result<Vec<Outcome>> {
    let next = AtomicUsize::new(0);
    let results: Vec<Result<Vec<(usize, Outcome)>>> = std::thread::scope(|s| {
        let workers: Vec<_> = (0..threads())
            .map(|_| {
                s.spawn(|| -> Result<Vec<(usize, Outcome)>> {
                    let mut done = Vec::new();
                    loop {
                        let first = next.fetch_add(BATCH, Ordering::Relaxed);
                        if first >= samples.len() {
                            break;
                        }
                        let last = (first + BATCH).min(samples.len());
                        let mut faces: Vec<GrayImage> = Vec::new();
                        let mut owners = Vec::new();
                        for (i, (path, _)) in samples.iter().enumerate().take(last).skip(first) {
                            match face_of(pipeline, path, detect) {
                                Ok(Some(face)) => {
                                    faces.push(face);
                                    owners.push(i);
                                }
                                Ok(None) => done.push((i, Outcome::NoFace)),
                                Err(e) => done.push((i, Outcome::Failed(format!("{e:#}")))),
                            }
                        }
                        let probs = pipeline.classifier().classify(&faces)?;
                        for (i, p) in owners.into_iter().zip(probs) {
                            done.push((i, Outcome::Predicted(argmax(&p))));
                        }
                        bar.inc((last - first) as u64);
                    }
                    Ok(done)
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|w| {
                w.join()
                    .unwrap_or_else(|_| Err(anyhow::anyhow!("a worker thread panicked")))
            })
            .collect()
    });
    let mut outcomes: Vec<Option<Outcome>> = (0..samples.len()).map(|_| None).collect();
    for r in results {
        for (i, o) in r? {
            outcomes[i] = Some(o);
        }
    }
    Ok(outcomes
        .into_iter()
        .map(|o| o.unwrap_or(Outcome::Failed("not processed".into())))
        .collect())
}

fn face_of(pipeline: &Pipeline, path: &Path, detect: bool) -> Result<Option<GrayImage>> {
    let img = read_image(path)?;
    if !detect {
        return Ok(Some(aligned_face(&img, pipeline.contract())));
    }
    let dets = pipeline.detector().detect(&img)?;
    Ok(dets
        .first()
        .map(|d| face_crop(&img, d, pipeline.contract())))
}

fn ratio(a: usize, b: usize) -> f64 {
    if b == 0 {
        0.0
    } else {
        a as f64 / b as f64
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
    let labels = pipeline.contract().labels.clone();
    let mut per_class = serde_json::Map::new();
    let (mut sp, mut sr, mut sf) = (0.0, 0.0, 0.0);
    for (k, label) in labels.iter().enumerate() {
        let tp = matrix[k][k];
        let predicted: usize = (0..LABELS_LEN).map(|t| matrix[t][k]).sum();
        let precision = ratio(tp, predicted);
        let recall = ratio(tp, support[k]);
        let f1 = if precision + recall > 0.0 {
            2.0 * precision * recall / (precision + recall)
        } else {
            0.0
        };
        sp += precision;
        sr += recall;
        sf += f1;
        let m = ClassMetrics {
            precision,
            recall,
            f1,
            support: support[k],
        };
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
    }
}

fn print_report(out: &mut impl Write, r: &Report, args: &Args) -> Result<()> {
    writeln!(out, "dataset   {}", args.data.display())?;
    writeln!(out, "model     {}", r.model)?;
    writeln!(
        out,
        "crops     {}",
        if args.detect {
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

fn truncate(s: &str, n: usize) -> &str {
    s.char_indices().nth(n).map(|(i, _)| &s[..i]).unwrap_or(s)
}
