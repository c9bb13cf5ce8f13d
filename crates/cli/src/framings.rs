//! `emoji-mirror framings`: where the pipeline's crop falls on each dataset face when the face is seen through the
//! full-path benchmark's camera frames. FER2013's crops were framed by another detector; the pipeline cuts at
//! BlazeFace's box (crates/cli/FULLPATH.md, "What the detector cannot know"), so the model meets its faces framed
//! differently from how it learned them. This table lets training cut its faces as the pipeline would
//! (`training/train.py --framings`).
//!
//! One CSV row per face and view: the crop square in the face's own coordinates — its centre's offset from the
//! face's centre and its side, in face sides, and its turn relative to the face (radians, clockwise on screen) —
//! or `found = 0` when the detector's best face in that frame is not this one.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use emoji_pipeline::synth::{benchmark_scene, camera_frame};
use emoji_pipeline::{aligned_face, crop_region, label, Pipeline};
use indicatif::{ProgressBar, ProgressStyle};

use emoji_mirror_cli::dataset::labelled_images;

use crate::common::{parallel, read_image};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Dataset folder with one sub-folder per class (e.g. ../shared/data/fer2013/train).
    #[arg(long, value_name = "DIR")]
    pub data: PathBuf,
    /// Camera frames per face, each another scene.
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u32).range(1..=16))]
    pub views: u32,
    /// Seed of the first view's scenes (view k takes seed + k). The full-path benchmark reads val with seeds 1 and
    /// 2; a table for training is better drawn from others.
    #[arg(long, default_value_t = 100)]
    pub seed: u64,
    /// Take every N-th image of each class.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..))]
    pub every: u64,
    /// The CSV file to write.
    #[arg(long, short, value_name = "FILE")]
    pub out: PathBuf,
}

/// The crop square of one view, in the face's coordinates.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Framing {
    pub centre_x: f32,
    pub centre_y: f32,
    pub side: f32,
    pub angle: f32,
}

pub fn run(args: &Args) -> Result<ExitCode> {
    let pipeline = Pipeline::shipped()?;
    let samples = labelled_images(&args.data, pipeline.contract(), args.every as usize)?;
    eprintln!(
        "emoji-mirror: framing {} faces in {} frames each",
        samples.len(),
        args.views
    );
    // Created first: a folder that cannot take it fails now, not after the frames.
    let mut out = std::io::BufWriter::new(
        std::fs::File::create(&args.out)
            .with_context(|| format!("creating {}", args.out.display()))?,
    );
    let bar = ProgressBar::new(samples.len() as u64);
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} faces {elapsed} (ETA {eta})")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let rows = parallel(&samples, |i, (path, _)| {
        let img = read_image(path).with_context(|| format!("reading {}", path.display()))?;
        let face = aligned_face(&img, pipeline.contract());
        let views = (0..args.views)
            .map(|view| framing(&pipeline, &face, args.seed + u64::from(view), i))
            .collect::<Result<Vec<_>>>();
        bar.inc(1);
        views
    })?;
    bar.finish_and_clear();

    writeln!(out, "class,file,view,found,centre_x,centre_y,side,angle")?;
    let mut found = 0usize;
    for ((path, class), views) in samples.iter().zip(&rows) {
        let file = path.file_name().unwrap_or_default().to_string_lossy();
        for (view, f) in views.iter().enumerate() {
            match f {
                Some(f) => {
                    found += 1;
                    writeln!(
                        out,
                        "{},{file},{view},1,{:.5},{:.5},{:.5},{:.5}",
                        label(*class),
                        f.centre_x,
                        f.centre_y,
                        f.side,
                        f.angle
                    )?;
                }
                None => writeln!(out, "{},{file},{view},0,,,,", label(*class))?,
            }
        }
    }
    out.flush()
        .with_context(|| format!("writing {}", args.out.display()))?;
    let total = rows.len() * args.views as usize;
    eprintln!(
        "emoji-mirror: {found} of {total} frames framed ({:.1}%), written to {}",
        100.0 * found as f64 / total.max(1) as f64,
        args.out.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// Where the pipeline crops `face` in the `index`-th frame of `seed`, in the face's own coordinates; `None` when the
/// detector's best face there is not this one.
pub fn framing(
    pipeline: &Pipeline,
    face: &image::GrayImage,
    seed: u64,
    index: usize,
) -> Result<Option<Framing>> {
    let scene = benchmark_scene(seed, index);
    let (frame, square) = camera_frame(face, &scene)?;
    let Some(det) = pipeline.detector().detect(&frame)?.into_iter().next() else {
        return Ok(None);
    };
    let (bx, by) = det.bbox.center();
    let (sx, sy) = square.center();
    if (bx - sx).abs() > square.w / 2.0 || (by - sy).abs() > square.h / 2.0 {
        return Ok(None);
    }
    let region = crop_region(&det, &pipeline.contract().crop);
    // The face was drawn turned by the tilt about its centre: frame offset = R(tilt) · face offset.
    let tilt = scene.tilt_deg.to_radians();
    let (sin, cos) = tilt.sin_cos();
    let (dx, dy) = (region.cx - sx, region.cy - sy);
    Ok(Some(Framing {
        centre_x: (dx * cos + dy * sin) / square.w,
        centre_y: (-dx * sin + dy * cos) / square.w,
        side: region.side / square.w,
        angle: region.angle - tilt,
    }))
}
