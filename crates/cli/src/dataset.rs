//! Finding images on disk: the files a command line names, and the labelled images of a dataset laid out as one
//! folder per class (`<split>/<label>/*.jpg`, as FER2013 is here). One walker for the CLI's subcommands and the
//! measuring examples, so that every figure counts the same files.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use emoji_pipeline::Contract;

/// File extensions picked up when walking a folder (named files are always tried).
pub const IMAGE_EXTENSIONS: &[&str] = &["jpg", "jpeg", "png", "webp", "gif", "bmp"];

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

/// (path, class index in the contract's label order) of every `every`-th image of each class folder of `dir`
/// (folders and files sorted by name). A folder whose name is not a label is skipped with a warning (hidden ones
/// silently); no class folder, or no image in them, is an error.
pub fn labelled_images(
    dir: &Path,
    contract: &Contract,
    every: usize,
) -> Result<Vec<(PathBuf, usize)>> {
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
        match contract.label_index(&name) {
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
            contract.labels.join(", ")
        );
    }
    let mut samples = Vec::new();
    for (folder, class) in classes {
        samples.extend(
            collect_inputs(&[folder])
                .into_iter()
                .step_by(every.max(1))
                .map(|p| (p, class)),
        );
    }
    if samples.is_empty() {
        anyhow::bail!("no images in the class folders of {}", dir.display());
    }
    Ok(samples)
}

fn has_image_extension(p: &Path) -> bool {
    p.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| IMAGE_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
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
