//! What the measuring examples share: their command line, `<fer2013 folder> [every N-th image]`.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

/// The FER2013 folder (first argument, default `../shared/data/fer2013`) and the sampling step (second argument,
/// default `default_every`): one image in that many of each class is measured.
pub fn data_and_every(args: &[String], default_every: usize) -> Result<(PathBuf, usize)> {
    let data = PathBuf::from(args.get(1).map_or("../shared/data/fer2013", String::as_str));
    let every = match args.get(2) {
        Some(n) => n
            .parse()
            .with_context(|| format!("every: {n:?} is not a count"))?,
        None => default_every,
    };
    Ok((data, every))
}

/// Every `every`-th file of each class folder of `split` (folders and files sorted by name), with its label index
/// in the contract's order; folders that are not a class are skipped.
pub fn class_files(
    split: &Path,
    contract: &emoji_pipeline::Contract,
    every: usize,
) -> Result<Vec<(PathBuf, usize)>> {
    let mut classes: Vec<PathBuf> = std::fs::read_dir(split)
        .with_context(|| format!("reading {}", split.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    classes.sort();
    let mut out = Vec::new();
    for dir in classes {
        let Some(label) = dir
            .file_name()
            .and_then(|n| contract.label_index(&n.to_string_lossy()))
        else {
            continue;
        };
        let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .collect();
        files.sort();
        out.extend(files.into_iter().step_by(every.max(1)).map(|f| (f, label)));
    }
    Ok(out)
}
