//! What the measuring examples share: their command line, `<fer2013 folder> [every N-th image]`.

use std::path::PathBuf;

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
