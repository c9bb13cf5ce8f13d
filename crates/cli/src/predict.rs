//! `emoji-mirror predict IMAGE…`: the faces in each image with box, label, emoji and
//! probabilities; `--json` for machines, `--annotate` to draw the result, `--no-detect` for images
//! that already are aligned face crops. Bad files are reported by name and counted; the exit status
//! is non-zero when any input failed.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use emoji_pipeline::{annotate, Annotation, Detection, FaceResult, Pipeline, LABELS_LEN};
use image::RgbImage;
use serde_json::{json, Value};

use emoji_mirror_cli::dataset::collect_inputs;

use crate::common::{read_image, EmotionModel};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Image files or folders (walked recursively for .jpg .jpeg .png .webp .gif .bmp).
    #[arg(required = true)]
    pub inputs: Vec<PathBuf>,
    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
    /// Write the image with boxes and labels to this PNG (a folder when there are several inputs).
    #[arg(long, value_name = "OUT")]
    pub annotate: Option<PathBuf>,
    /// Treat each image as an aligned face crop (no face detection).
    #[arg(long)]
    pub no_detect: bool,
    #[command(flatten)]
    pub emotion: EmotionModel,
}

pub fn run(args: &Args) -> Result<ExitCode> {
    let pipeline = args.emotion.load()?;
    let files = collect_inputs(&args.inputs);
    if files.is_empty() {
        anyhow::bail!("no image files found in the given folders");
    }
    let several = files.len() > 1;
    if let (Some(out), true) = (&args.annotate, several) {
        std::fs::create_dir_all(out)
            .with_context(|| format!("creating the folder {}", out.display()))?;
    }
    let mut results = Vec::new();
    let mut failed = 0usize;
    let stdout = std::io::stdout();
    for path in &files {
        match predict_one(&pipeline, path, args, several) {
            Ok(r) => {
                if !args.json {
                    print_text(&mut stdout.lock(), path, &r)?;
                }
                results.push(to_json(path, &r));
            }
            Err(e) => {
                failed += 1;
                eprintln!("emoji-mirror: {}: {e:#}", path.display());
                results
                    .push(json!({ "path": path.display().to_string(), "error": format!("{e:#}") }));
            }
        }
    }
    if args.json {
        let doc = json!({ "images": results, "failed": failed });
        writeln!(stdout.lock(), "{}", serde_json::to_string_pretty(&doc)?)?;
    } else if failed > 0 {
        eprintln!(
            "emoji-mirror: {failed} of {} inputs could not be read",
            files.len()
        );
    }
    Ok(if failed > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

struct Prediction {
    width: u32,
    height: u32,
    faces: Vec<FaceResult>,
}

fn predict_one(pipeline: &Pipeline, path: &Path, args: &Args, several: bool) -> Result<Prediction> {
    let img = read_image(path)?;
    let faces = if args.no_detect {
        let probabilities = pipeline.classify_aligned(&img)?;
        let (w, h) = (img.width() as f32, img.height() as f32);
        let side = w.min(h);
        let bbox = emoji_pipeline::BoxF {
            x: (w - side) / 2.0,
            y: (h - side) / 2.0,
            w: side,
            h: side,
        };
        vec![FaceResult {
            detection: Detection {
                bbox,
                score: 1.0,
                keypoints: [(0.0, 0.0); 6],
            },
            probabilities,
        }]
    } else {
        pipeline.analyze(&img)?.faces
    };
    if let Some(out) = &args.annotate {
        let target = if several {
            out.join(annotated_name(path))
        } else {
            out.clone()
        };
        write_annotated(img.clone(), &faces, pipeline, &target)?;
    }
    Ok(Prediction {
        width: img.width(),
        height: img.height(),
        faces,
    })
}

fn annotated_name(path: &Path) -> PathBuf {
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "image".into());
    PathBuf::from(format!("{stem}.annotated.png"))
}

fn write_annotated(
    mut img: RgbImage,
    faces: &[FaceResult],
    pipeline: &Pipeline,
    target: &Path,
) -> Result<()> {
    let marks: Vec<Annotation> = faces.iter().map(Annotation::from).collect();
    annotate(&mut img, &marks, pipeline.contract());
    img.save_with_format(target, image::ImageFormat::Png)
        .with_context(|| format!("writing the annotated image {}", target.display()))
}

fn to_json(path: &Path, r: &Prediction) -> Value {
    let c = emoji_pipeline::Contract::shipped();
    let faces: Vec<Value> = r
        .faces
        .iter()
        .map(|f| {
            let top = f.top();
            let probs: serde_json::Map<String, Value> =
                (0..LABELS_LEN).map(|i| (c.labels[i].clone(), json!(f.probabilities[i]))).collect();
            json!({
                "box": { "x": f.detection.bbox.x, "y": f.detection.bbox.y, "w": f.detection.bbox.w, "h": f.detection.bbox.h },
                "score": f.detection.score,
                "label": c.labels[top],
                "emoji": c.emoji[top],
                "confidence": f.probabilities[top],
                "probabilities": probs,
            })
        })
        .collect();
    json!({ "path": path.display().to_string(), "width": r.width, "height": r.height, "faces": faces })
}

fn print_text(out: &mut impl Write, path: &Path, r: &Prediction) -> Result<()> {
    let c = emoji_pipeline::Contract::shipped();
    let n = r.faces.len();
    writeln!(
        out,
        "{}: {}x{}, {} face{}",
        path.display(),
        r.width,
        r.height,
        n,
        if n == 1 { "" } else { "s" }
    )?;
    for (i, f) in r.faces.iter().enumerate() {
        let top = f.top();
        let b = f.detection.bbox;
        writeln!(
            out,
            "  face {}: {} {} {:.1}%  box x={:.0} y={:.0} w={:.0} h={:.0}  detector score {:.2}",
            i + 1,
            c.emoji[top],
            c.labels[top],
            100.0 * f.probabilities[top],
            b.x,
            b.y,
            b.w,
            b.h,
            f.detection.score
        )?;
        let mut order: Vec<usize> = (0..LABELS_LEN).collect();
        order.sort_by(|&a, &b| f.probabilities[b].total_cmp(&f.probabilities[a]));
        let all: Vec<String> = order
            .iter()
            .map(|&k| format!("{} {:.1}%", c.labels[k], 100.0 * f.probabilities[k]))
            .collect();
        writeln!(out, "    {}", all.join(", "))?;
    }
    Ok(())
}
