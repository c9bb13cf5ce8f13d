//! `emoji-mirror convert`: an ONNX model (training's export) into the NNEF archive that the site and the CLI ship,
//! with the same weights (int8 stays int8). The result is loaded back and run against the ONNX file on a few
//! inputs before it is written, so a conversion that changes what the model says never lands.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use clap::{Args as ClapArgs, ValueEnum};
use emoji_pipeline::{onnx_to_nnef, Contract, DetectorConfig, EmotionClassifier, FaceDetector};

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Kind {
    /// The emotion classifier (`[batch, 1, 48, 48]` in, 7 logits out).
    Emotion,
    /// BlazeFace short-range (`[1, 3, 128, 128]` in).
    Detector,
}

#[derive(Debug, ClapArgs)]
pub struct Args {
    /// Which model this is (its input shape).
    #[arg(long, value_enum)]
    pub kind: Kind,
    /// The ONNX file.
    pub onnx: PathBuf,
    /// Where to write the NNEF archive (conventionally `*.nnef.tar`).
    pub out: PathBuf,
}

pub fn run(args: &Args) -> Result<ExitCode> {
    let onnx =
        std::fs::read(&args.onnx).with_context(|| format!("reading {}", args.onnx.display()))?;
    let contract = Contract::shipped();
    let input = match args.kind {
        Kind::Emotion => EmotionClassifier::input_shape(contract),
        Kind::Detector => FaceDetector::input_shape(&DetectorConfig::default()),
    };
    let nnef = onnx_to_nnef(&onnx, &input)
        .with_context(|| format!("converting {}", args.onnx.display()))?;
    let worst = match args.kind {
        Kind::Emotion => {
            let (a, b) = (
                EmotionClassifier::from_bytes(&onnx, contract)?,
                EmotionClassifier::from_bytes(&nnef, contract)?,
            );
            let s = contract.input_size as usize;
            let data: Vec<f32> = (0..4 * s * s)
                .map(|i| ((i * 7919) % 255) as f32 / 127.0 - 1.0)
                .collect();
            max_difference(&flat(a.logits(&data, 4)?), &flat(b.logits(&data, 4)?))
        }
        Kind::Detector => {
            let (a, b) = (
                FaceDetector::from_bytes(&onnx)?,
                FaceDetector::from_bytes(&nnef)?,
            );
            let s = a.config().input_size as usize;
            let data: Vec<f32> = (0..3 * s * s)
                .map(|i| ((i * 7919) % 255) as f32 / 127.5 - 1.0)
                .collect();
            let (ra, rb) = (a.raw(&data)?, b.raw(&data)?);
            max_difference(&ra.regressors, &rb.regressors)
                .max(max_difference(&ra.logits, &rb.logits))
        }
    };
    if worst != 0.0 {
        bail!("the NNEF form's outputs differ from the ONNX file's by up to {worst}: not written");
    }
    std::fs::write(&args.out, &nnef).with_context(|| format!("writing {}", args.out.display()))?;
    println!(
        "{} ({} bytes) → {} ({} bytes), identical outputs",
        args.onnx.display(),
        onnx.len(),
        args.out.display(),
        nnef.len()
    );
    Ok(ExitCode::SUCCESS)
}

fn flat(rows: Vec<[f32; emoji_pipeline::LABELS_LEN]>) -> Vec<f32> {
    rows.into_iter().flatten().collect()
}

fn max_difference(a: &[f32], b: &[f32]) -> f32 {
    if a.len() != b.len() {
        return f32::INFINITY;
    }
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}
