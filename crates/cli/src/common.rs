//! What the subcommands share: loading the pipeline (optionally with another emotion model),
//! reading image files with the library's limits, and walking folders.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use emoji_pipeline::{decode_image, DecodeLimits, EmotionClassifier, Pipeline};
use image::RgbImage;

/// File extensions picked up when walking a folder (named files are always tried).
pub const IMAGE_EXTENSIONS: &[&str] = &["jpg", "jpeg", "png", "webp", "gif", "bmp"];

/// Files larger than this are refused before reading (a photo is far smaller).
pub const MAX_FILE_BYTES: u64 = 256 << 20;

/// The shipped pipeline, with the emotion model replaced by `model` when given.
pub fn load_pipeline(model: Option<&Path>) -> Result<Pipeline> {
    let pipeline = Pipeline::shipped().context("loading the shipped models")?;
    match model {
        None => Ok(pipeline),
        Some(path) => {
            let bytes =
                std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
            let classifier = EmotionClassifier::from_bytes(&bytes, pipeline.contract())
                .with_context(|| format!("loading {}", path.display()))?;
            Ok(pipeline.with_classifier(classifier))
        }
    }
}

/// Human name of the emotion model in use.
pub fn model_name(model: Option<&Path>) -> String {
    match model {
        None => "shipped (models/emotion_int8.nnef.tar)".into(),
        Some(p) => p.display().to_string(),
    }
}

/// Reads and decodes one image file; the error says why, not which file (callers add the name).
pub fn read_image(path: &Path) -> Result<RgbImage> {
    let meta = std::fs::metadata(path).context("cannot read")?;
    if !meta.is_file() {
        anyhow::bail!("not a regular file");
    }
    if meta.len() > MAX_FILE_BYTES {
        anyhow::bail!(
            "{} bytes, more than the {} byte limit",
            meta.len(),
            MAX_FILE_BYTES
        );
    }
    let bytes = std::fs::read(path).context("cannot read")?;
    Ok(decode_image(&bytes, &DecodeLimits::default())?)
}

fn has_image_extension(p: &Path) -> bool {
    p.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| IMAGE_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
}

/// The files named by `inputs`: files as given, folders walked recursively (image extensions
/// only, hidden entries and symlinked folders skipped), in sorted order. Paths that do not exist
/// are returned too, so that they are reported as failures by name.
pub fn collect_inputs(inputs: &[PathBuf]) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for p in inputs {
        if p.is_dir() {
            walk(p, &mut out);
        } else {
            out.push(p.clone());
        }
    }
    out
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        out.push(dir.to_path_buf()); // reported as unreadable
        return;
    };
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    for p in paths {
        let hidden = p
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with('.'));
        if hidden {
            continue;
        }
        let Ok(meta) = std::fs::symlink_metadata(&p) else {
            continue;
        };
        if meta.is_dir() {
            walk(&p, out);
        } else if has_image_extension(&p) {
            out.push(p);
        }
    }
}

/// Worker threads for data-parallel loops.
pub fn threads() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .clamp(1, 16)
}
