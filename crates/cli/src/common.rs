//! What the subcommands share: loading the pipeline (optionally with another emotion model),
//! reading image files with the library's limits, and the threads of data-parallel loops.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use anyhow::{Context, Result};
use emoji_pipeline::{
    decode_image, Contract, DecodeLimits, DetectorConfig, EmotionClassifier, FaceDetector,
    Pipeline, SHIPPED_DETECTOR, SHIPPED_EMOTION,
};
use image::RgbImage;

/// Files larger than this are refused before reading (a photo is far smaller).
pub const MAX_FILE_BYTES: u64 = 256 << 20;

/// Which emotion model a subcommand runs, and how (the options `predict`, `evaluate` and `bench` share).
#[derive(Debug, Clone, clap::Args)]
pub struct EmotionModel {
    /// Another emotion model (NNEF archive, or ONNX float or int8) instead of the shipped one.
    #[arg(long, value_name = "PATH")]
    pub model: Option<PathBuf>,
    /// Classify each face and its mirror image and average them (test-time flip), even where the contract
    /// (models/preprocess.json) does not: to measure what the flip gives and costs.
    #[arg(long)]
    pub test_time_flip: bool,
    /// Classify each face alone, without its mirror image, even where the contract flips.
    #[arg(long, conflicts_with = "test_time_flip")]
    pub no_test_time_flip: bool,
    /// Cut faces as squares of this many times the detector's box instead of the contract's `crop.scale`: to
    /// measure the framing (crates/pipeline/CROP.md).
    #[arg(long, value_name = "X")]
    pub crop_scale: Option<f32>,
    /// Move the crop's centre down by this share of its side instead of the contract's `crop.shift_y` (negative:
    /// up): to measure the framing.
    #[arg(long, value_name = "Y", allow_hyphen_values = true)]
    pub crop_shift_y: Option<f32>,
    /// A camera stream (`live`, `bench`'s live frame) searches for faces every N frames while it sees one, instead
    /// of the detector's `Tiling::stream_search_every`; the frames between carry the faces found: to measure it.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=30))]
    pub search_every: Option<u32>,
    /// A stream re-finds the faces it follows in windows read at this network input side instead of the
    /// detector's `Follow::side` (0: every search reads the whole frame): to measure it.
    #[arg(long, value_name = "PX", value_parser = clap::value_parser!(u32).range(0..=128))]
    pub follow_side: Option<u32>,
    /// The followed face's share of its window's side instead of `Follow::face_fill`.
    #[arg(long, value_name = "F")]
    pub follow_fill: Option<f32>,
    /// One search in this many reads the whole frame, instead of `Follow::whole_every`.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=30))]
    pub whole_every: Option<u32>,
}

impl EmotionModel {
    /// The shipped pipeline with this emotion model (the contract's flip, or on when asked).
    pub fn load(&self) -> Result<Pipeline> {
        let mut pipeline = Pipeline::shipped().context("loading the shipped models")?;
        if let Some(config) = self.detector_config(pipeline.detector().config())? {
            let detector = FaceDetector::with_config(SHIPPED_DETECTOR, config)
                .context("loading the shipped face detector")?;
            pipeline = pipeline.with_detector(detector);
        }
        if self.model.is_none()
            && self.flip() == pipeline.contract().test_time_flip
            && self.crop_scale.is_none()
            && self.crop_shift_y.is_none()
        {
            return Ok(pipeline);
        }
        let mut contract = pipeline.contract().clone();
        contract.test_time_flip = self.flip();
        if let Some(scale) = self.crop_scale {
            anyhow::ensure!(
                scale.is_finite() && (0.5..=3.0).contains(&scale),
                "--crop-scale {scale}: expected 0.5 to 3.0 times the detector's box"
            );
            contract.crop.scale = scale;
        }
        if let Some(shift) = self.crop_shift_y {
            anyhow::ensure!(
                shift.is_finite() && (-0.5..=0.5).contains(&shift),
                "--crop-shift-y {shift}: expected -0.5 to 0.5 of the crop's side"
            );
            contract.crop.shift_y = shift;
        }
        let bytes = self.bytes()?;
        let classifier = EmotionClassifier::from_bytes(&bytes, &contract)
            .with_context(|| format!("loading {}", self.name()))?;
        Ok(pipeline.with_classifier(classifier))
    }

    /// The detector's constants with this command's stream settings, where it changes any.
    fn detector_config(&self, shipped: &DetectorConfig) -> Result<Option<DetectorConfig>> {
        let mut config = shipped.clone();
        if let Some(every) = self.search_every {
            config.tiling.stream_search_every = every;
        }
        if let Some(side) = self.follow_side {
            anyhow::ensure!(
                side == 0 || side >= 32,
                "--follow-side {side}: expected 0 (off) or 32 to 128 pixels"
            );
            config.follow.side = side;
        }
        if let Some(fill) = self.follow_fill {
            anyhow::ensure!(
                fill.is_finite() && (0.2..=0.9).contains(&fill),
                "--follow-fill {fill}: expected 0.2 to 0.9 of the window's side"
            );
            config.follow.face_fill = fill;
        }
        if let Some(every) = self.whole_every {
            config.follow.whole_every = every;
        }
        Ok((config != *shipped).then_some(config))
    }

    /// The model file's bytes (the compiled-in archive when none is named).
    pub fn bytes(&self) -> Result<Vec<u8>> {
        match &self.model {
            None => Ok(SHIPPED_EMOTION.to_vec()),
            Some(path) => {
                std::fs::read(path).with_context(|| format!("reading {}", path.display()))
            }
        }
    }

    /// Whether each face is read with its mirror: the contract's choice unless a flag overrides it.
    pub fn flip(&self) -> bool {
        (Contract::shipped().test_time_flip || self.test_time_flip) && !self.no_test_time_flip
    }

    /// Human name of the model in use, and whether it is read with its mirror.
    pub fn name(&self) -> String {
        let model = match &self.model {
            None => "shipped (models/emotion_int8.nnef.tar)".into(),
            Some(p) => p.display().to_string(),
        };
        let model = if self.flip() {
            model + ", test-time flip"
        } else {
            model
        };
        let model = match self.crop_scale {
            Some(scale) => format!("{model}, crops {scale}x the detector's box"),
            None => model,
        };
        let model = match self.crop_shift_y {
            Some(shift) => format!("{model}, crop centre moved by {shift} of its side"),
            None => model,
        };
        let model = match self.search_every {
            Some(every) => format!("{model}, a stream searches every {every} frames"),
            None => model,
        };
        let follow = DetectorConfig::default().follow;
        match (self.follow_side, self.follow_fill, self.whole_every) {
            (None, None, None) => model,
            (Some(0), ..) => format!("{model}, every search reads the whole frame"),
            (side, fill, every) => format!(
                "{model}, followed faces re-found at {} px ({} of the window), the whole frame every {} searches",
                side.unwrap_or(follow.side),
                fill.unwrap_or(follow.face_fill),
                every.unwrap_or(follow.whole_every)
            ),
        }
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

/// Worker threads for data-parallel loops.
pub fn threads() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .clamp(1, 16)
}

/// `f` over `items` on every core, results in order. Each worker takes the next item as it finishes one (items may
/// cost very different times); the first error stops the others at their next item and is returned.
pub fn parallel<T: Sync, R: Send>(
    items: &[T],
    f: impl Fn(usize, &T) -> Result<R> + Sync,
) -> Result<Vec<R>> {
    let next = AtomicUsize::new(0);
    let failed = AtomicBool::new(false);
    let work = || -> Result<Vec<(usize, R)>> {
        let mut done = Vec::new();
        while !failed.load(Ordering::Relaxed) {
            let i = next.fetch_add(1, Ordering::Relaxed);
            let Some(item) = items.get(i) else { break };
            match f(i, item) {
                Ok(r) => done.push((i, r)),
                Err(e) => {
                    failed.store(true, Ordering::Relaxed);
                    return Err(e);
                }
            }
        }
        Ok(done)
    };
    let per_worker: Vec<Result<Vec<(usize, R)>>> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads().min(items.len()).max(1))
            .map(|_| scope.spawn(work))
            .collect();
        workers
            .into_iter()
            .map(|w| {
                w.join()
                    .unwrap_or_else(|_| Err(anyhow::anyhow!("a worker thread panicked")))
            })
            .collect()
    });
    let mut slots: Vec<Option<R>> = (0..items.len()).map(|_| None).collect();
    for done in per_worker {
        for (i, r) in done? {
            slots[i] = Some(r);
        }
    }
    Ok(slots
        .into_iter()
        .map(|r| r.expect("with no error, every item was done"))
        .collect())
}
