//! `emoji-mirror live --data DIR`: what the live page shows, natively, on many faces. Val faces are pasted into the
//! full-path benchmark's camera frames (`synth::benchmark_scene`), held still with a camera's frame-to-frame changes
//! (`synth::held_scene`) or switched between two emotions, and read as the page's worker reads its camera: frames
//! scaled to the page's 320 px (`synth::as_live_frame`), the detector's search carried across frames, a face and its
//! mirror on alternate frames (`Pipeline::analyze_in_stream`), the `Tracker`'s smoothing at 30 frames a second. It
//! reports how often the emoji changes on a face that does not (spurious changes per 5 s), how long it takes to
//! follow a face that does, and how often what it shows at the end is the face's label — the browser benchmark's
//! figures (`tests/browser_fullpath.rs`) on 140 faces instead of 7, in a minute or two, to tune the tracker on.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use emoji_pipeline::synth::{
    as_live_frame, benchmark_scene, camera_frame, evenly_spaced, held_scene, HELD_VARIANTS,
};
use emoji_pipeline::{
    aligned_face, label, FaceResult, Pipeline, Stream, TrackedFace, Tracker, TrackerConfig,
    LABELS_LEN,
};
use image::{GrayImage, RgbImage};
use serde::Serialize;

use emoji_mirror_cli::dataset::labelled_images;

use crate::common::{parallel, read_image, EmotionModel};

/// The page's camera: frames per second.
const FPS: f64 = 30.0;
/// How long each face of a pair is shown before the other takes its place (the browser benchmark's 2 s).
const SWITCH_FRAMES: usize = 60;
/// A held face's changes are counted after this long (the tracker's first readings settle).
const SETTLE_FRAMES: usize = 30;
/// A face reads "clearly" (and may be one of a pair) when the page ends up showing its label at this confidence.
const CLEAR_CONFIDENCE: f32 = 0.6;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Dataset folder with one sub-folder per class (e.g. ../shared/data/fer2013/val).
    #[arg(long, value_name = "DIR")]
    pub data: PathBuf,
    /// Faces per emotion, evenly spaced by file name (the browser benchmark takes 20).
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..=500))]
    pub faces_per_class: u32,
    /// Seconds each face is held still (its first second is not counted).
    #[arg(long, default_value_t = 8.0)]
    pub hold_seconds: f64,
    /// Pairs of clearly read faces of two emotions, each shown A, B, A, B for 2 s in one place.
    #[arg(long, default_value_t = 20)]
    pub pairs: usize,
    /// Seed of the scenes (the browser benchmark's faces are held in seed + 2, its pairs switch in seed + 1).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// The tracker's probability time constants to try, ms (comma-separated), instead of `TrackerConfig`'s: every
    /// combination with --hysteresis is reported, from one reading of the frames (the tracker only follows it).
    #[arg(long, value_name = "MS,...", value_delimiter = ',')]
    pub tau_ms: Vec<f64>,
    /// The tracker's hysteresis bands to try (comma-separated) instead of `TrackerConfig`'s.
    #[arg(long, value_name = "P,...", value_delimiter = ',')]
    pub hysteresis: Vec<f32>,
    #[command(flatten)]
    pub emotion: EmotionModel,
    /// Print exactly one JSON object.
    #[arg(long)]
    pub json: bool,
}

/// What the page shows for a frame's faces (the largest one's): an emotion, "not sure", or no face.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shown {
    Emotion(usize),
    NotSure,
    NoFace,
}

impl Shown {
    fn of(faces: &[TrackedFace]) -> (Shown, f32) {
        let largest = faces
            .iter()
            .max_by(|a, b| (a.bbox.w * a.bbox.h).total_cmp(&(b.bbox.w * b.bbox.h)));
        match largest {
            None => (Shown::NoFace, 0.0),
            Some(f) if f.uncertain => (Shown::NotSure, f.confidence),
            Some(f) => (Shown::Emotion(f.top), f.confidence),
        }
    }

    fn name(self) -> String {
        match self {
            Shown::Emotion(l) => label(l).to_string(),
            Shown::NotSure => "not-sure".into(),
            Shown::NoFace => "none".into(),
        }
    }
}

/// One held face's run.
#[derive(Debug, Clone, Serialize)]
pub struct HeldFace {
    pub file: String,
    pub label: String,
    /// What the page shows at the end of the hold.
    pub shown: String,
    /// Changes of what is shown after the first second.
    pub changes: usize,
    #[serde(skip)]
    clear: bool,
}

/// One switch inside a pair (A → B or B → A) that ends on another emoji.
#[derive(Debug, Clone, Serialize)]
pub struct Switch {
    pub from: String,
    pub to: String,
    /// From the new face's first frame until the emoji it settles on is first shown.
    pub follow_ms: f64,
    /// Changes after that, until the segment ends.
    pub changes_after: usize,
    #[serde(skip)]
    after_ms: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub what: String,
    pub model: String,
    pub tracker: TrackerConfig,
    pub held_faces: usize,
    pub held_seconds_counted: f64,
    /// Changes of the shown emoji on held faces after their first second, per 5 s.
    pub steady_changes_per_5_s: f64,
    /// Held faces with any change after their first second.
    pub faces_that_changed: usize,
    /// Held faces whose emoji at the end is their label; "not sure" at the end.
    pub shown_at_the_end_right: f64,
    pub not_sure_at_the_end: f64,
    pub switches_measured: usize,
    pub switches_to_the_same_emoji: usize,
    pub switches_not_followed: usize,
    pub follow_ms_median: Option<f64>,
    pub follow_ms_p90: Option<f64>,
    pub follow_ms_max: Option<f64>,
    pub follow_within_400_ms: usize,
    /// The steady changes and the changes after a switch was followed, per 5 s of both.
    pub spurious_changes_per_5_s: f64,
    pub held: Vec<HeldFace>,
    pub switches: Vec<Switch>,
}

pub fn run(args: &Args) -> Result<ExitCode> {
    anyhow::ensure!(
        args.hold_seconds.is_finite() && (2.0..=600.0).contains(&args.hold_seconds),
        "--hold-seconds {}: expected 2 to 600",
        args.hold_seconds
    );
    let configs = tracker_configs(args)?;
    let pipeline = args.emotion.load()?;
    let faces = chosen_faces(&args.data, &pipeline, args.faces_per_class as usize)?;
    let hold_frames = (args.hold_seconds * FPS).round() as usize;

    // The pipeline reads every frame once; each tracker configuration replays its readings.
    let held_readings = parallel(&faces, |i, (_, _, face)| {
        read(
            &pipeline,
            &[(&held_frames(face, args.seed + 2, i)?, hold_frames)],
        )
    })?;
    let mut runs = Vec::new();
    for &tracker in &configs {
        let held: Vec<HeldFace> = faces
            .iter()
            .zip(&held_readings)
            .map(|((label_index, file, _), readings)| {
                let shown = track(tracker, readings);
                let (end, confidence) = *shown.last().expect("--hold-seconds ≥ 2 gives frames");
                HeldFace {
                    file: file.clone(),
                    label: label(*label_index).to_string(),
                    shown: end.name(),
                    changes: changes(&shown[SETTLE_FRAMES..]).len(),
                    clear: end == Shown::Emotion(*label_index) && confidence >= CLEAR_CONFIDENCE,
                }
            })
            .collect();
        runs.push(held);
    }

    // Pairs of faces read clearly (with the default tracker, or the first configuration), as the browser benchmark
    // builds them: the same pairs for every configuration.
    let mut clear: Vec<Vec<&GrayImage>> = vec![Vec::new(); LABELS_LEN];
    for (h, (label_index, _, face)) in runs[0].iter().zip(&faces) {
        if h.clear {
            clear[*label_index].push(face);
        }
    }
    let with_faces: Vec<usize> = (0..LABELS_LEN).filter(|&l| !clear[l].is_empty()).collect();
    let pairs: Vec<(&GrayImage, &GrayImage)> = if with_faces.len() < 2 {
        Vec::new()
    } else {
        let n = with_faces.len();
        (0..args.pairs)
            .map(|p| {
                let (a, b) = (with_faces[p % n], with_faces[(p + 1 + p / n) % n]);
                let pick = |l: usize, k: usize| clear[l][k % clear[l].len()];
                (pick(a, p / n), pick(b, p / n + 1))
            })
            .collect()
    };
    let pair_readings = parallel(&pairs, |p, (a, b)| {
        let (fa, fb) = (
            held_frames(a, args.seed + 1, p)?,
            held_frames(b, args.seed + 1, p)?,
        );
        read(
            &pipeline,
            &[
                (&fa, SWITCH_FRAMES),
                (&fb, SWITCH_FRAMES),
                (&fa, SWITCH_FRAMES),
                (&fb, SWITCH_FRAMES),
            ],
        )
    })?;

    let reports: Vec<Report> = configs
        .iter()
        .zip(runs)
        .map(|(&tracker, held)| {
            let switches = pair_readings
                .iter()
                .flat_map(|readings| switches(&track(tracker, readings)))
                .collect();
            summarise(args, tracker, held, switches)
        })
        .collect();
    let mut out = std::io::stdout().lock();
    if args.json {
        writeln!(
            out,
            "{}",
            serde_json::to_string(&serde_json::json!({ "runs": reports }))?
        )?;
    } else {
        print_report(&mut out, &reports)?;
    }
    Ok(ExitCode::SUCCESS)
}

/// Every combination of --tau-ms and --hysteresis (the default tracker's value where a list is empty).
fn tracker_configs(args: &Args) -> Result<Vec<TrackerConfig>> {
    let base = TrackerConfig::default();
    let taus = if args.tau_ms.is_empty() {
        vec![base.probability_tau_ms]
    } else {
        args.tau_ms.clone()
    };
    let bands = if args.hysteresis.is_empty() {
        vec![base.hysteresis]
    } else {
        args.hysteresis.clone()
    };
    let mut configs = Vec::new();
    for &tau in &taus {
        anyhow::ensure!(tau.is_finite() && tau > 0.0, "--tau-ms {tau}: expected > 0");
        for &band in &bands {
            anyhow::ensure!(
                (0.0..0.5).contains(&band),
                "--hysteresis {band}: expected 0 to 0.5"
            );
            configs.push(TrackerConfig {
                probability_tau_ms: tau,
                hysteresis: band,
                ..base
            });
        }
    }
    Ok(configs)
}

/// `per_class` faces of each class, evenly spaced by file name, classes interleaved: (label, file name, face).
fn chosen_faces(
    data: &std::path::Path,
    pipeline: &Pipeline,
    per_class: usize,
) -> Result<Vec<(usize, String, GrayImage)>> {
    let samples = labelled_images(data, pipeline.contract(), 1)?;
    let mut by_class: Vec<Vec<PathBuf>> = vec![Vec::new(); LABELS_LEN];
    for (path, class) in samples {
        by_class[class].push(path);
    }
    for files in &mut by_class {
        files.sort();
    }
    let mut out = Vec::new();
    for (class, path) in evenly_spaced(&by_class, per_class) {
        let img = read_image(&path)?;
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        out.push((class, name, aligned_face(&img, pipeline.contract())));
    }
    anyhow::ensure!(!out.is_empty(), "no faces under {}", data.display());
    Ok(out)
}

/// The `HELD_VARIANTS` live frames of `face` held still in the `index`-th scene of `seed`.
fn held_frames(face: &GrayImage, seed: u64, index: usize) -> Result<Vec<RgbImage>> {
    let scene = benchmark_scene(seed, index);
    (0..HELD_VARIANTS)
        .map(|k| {
            Ok(as_live_frame(
                &camera_frame(face, &held_scene(&scene, k))?.0,
            ))
        })
        .collect()
}

/// Plays `segments` (frames cycled, how many) to one stream: the faces the pipeline reads in each frame.
fn read(pipeline: &Pipeline, segments: &[(&Vec<RgbImage>, usize)]) -> Result<Vec<Vec<FaceResult>>> {
    let mut stream = Stream::new();
    let mut readings = Vec::new();
    for (frames, count) in segments {
        for k in 0..*count {
            readings.push(
                pipeline
                    .analyze_in_stream(&frames[k % frames.len()], &mut stream)?
                    .faces,
            );
        }
    }
    Ok(readings)
}

/// What the page shows after each frame's readings (30 fps), with the shown face's confidence.
fn track(config: TrackerConfig, readings: &[Vec<FaceResult>]) -> Vec<(Shown, f32)> {
    let mut tracker = Tracker::new(config);
    readings
        .iter()
        .enumerate()
        .map(|(k, faces)| Shown::of(&tracker.update(faces, k as f64 * 1000.0 / FPS)))
        .collect()
}

/// The frames (indices) at which what is shown changes.
fn changes(shown: &[(Shown, f32)]) -> Vec<usize> {
    (1..shown.len())
        .filter(|&k| shown[k].0 != shown[k - 1].0)
        .collect()
}

/// A pair's A, B, A, B: each switch after the first segment, scored as the browser benchmark scores it. `None` for
/// a switch that ends on the same emoji as before or on "not sure"/no face; `Some(None)` for one never followed.
fn switches(shown: &[(Shown, f32)]) -> Vec<Option<Option<Switch>>> {
    (1..shown.len() / SWITCH_FRAMES)
        .map(|s| {
            let (start, end) = (s * SWITCH_FRAMES, (s + 1) * SWITCH_FRAMES);
            let before = shown[start - 1].0;
            let settled = shown[end - 1].0;
            if settled == before || !matches!(settled, Shown::Emotion(_)) {
                return None;
            }
            let segment = &shown[start..end];
            let Some(first) = segment.iter().position(|(s, _)| *s == settled) else {
                return Some(None);
            };
            let after = changes(&segment[first..]).len();
            Some(Some(Switch {
                from: before.name(),
                to: settled.name(),
                follow_ms: (first + 1) as f64 * 1000.0 / FPS,
                changes_after: after,
                after_ms: (SWITCH_FRAMES - first - 1) as f64 * 1000.0 / FPS,
            }))
        })
        .collect()
}

fn summarise(
    args: &Args,
    tracker: TrackerConfig,
    held: Vec<HeldFace>,
    switches: Vec<Option<Option<Switch>>>,
) -> Report {
    let counted_s = (args.hold_seconds - SETTLE_FRAMES as f64 / FPS) * held.len() as f64;
    let steady: usize = held.iter().map(|h| h.changes).sum();
    let same = switches.iter().filter(|s| s.is_none()).count();
    let not_followed = switches.iter().filter(|s| matches!(s, Some(None))).count();
    let followed: Vec<Switch> = switches.into_iter().flatten().flatten().collect();
    let mut follow: Vec<f64> = followed.iter().map(|s| s.follow_ms).collect();
    follow.sort_by(f64::total_cmp);
    let pct = |q: f64| {
        follow
            .get(((follow.len() as f64 - 1.0) * q).round() as usize)
            .copied()
    };
    let after: usize = followed.iter().map(|s| s.changes_after).sum();
    let after_s: f64 = followed.iter().map(|s| s.after_ms / 1000.0).sum();
    let n = held.len().max(1) as f64;
    Report {
        what: format!(
            "val faces in the full-path benchmark's frames, read as the page reads its camera ({} fps, 320 px \
             frames, stream search, face and mirror in turn, the tracker): {} held {} s each (changes counted after \
             the first {} s), {} pairs switched A, B, A, B every {} s",
            FPS,
            held.len(),
            args.hold_seconds,
            SETTLE_FRAMES as f64 / FPS,
            args.pairs,
            SWITCH_FRAMES as f64 / FPS
        ),
        model: args.emotion.name(),
        tracker,
        held_faces: held.len(),
        held_seconds_counted: counted_s,
        steady_changes_per_5_s: steady as f64 / (counted_s / 5.0).max(1e-9),
        faces_that_changed: held.iter().filter(|h| h.changes > 0).count(),
        shown_at_the_end_right: held.iter().filter(|h| h.shown == h.label).count() as f64 / n,
        not_sure_at_the_end: held.iter().filter(|h| h.shown == "not-sure").count() as f64 / n,
        switches_measured: followed.len(),
        switches_to_the_same_emoji: same,
        switches_not_followed: not_followed,
        follow_ms_median: pct(0.5),
        follow_ms_p90: pct(0.9),
        follow_ms_max: follow.last().copied(),
        follow_within_400_ms: follow.iter().filter(|&&ms| ms <= 400.0).count(),
        spurious_changes_per_5_s: (steady + after) as f64 / ((counted_s + after_s) / 5.0).max(1e-9),
        held,
        switches: followed,
    }
}

fn print_report(out: &mut impl Write, reports: &[Report]) -> Result<()> {
    let Some(first) = reports.first() else {
        return Ok(());
    };
    writeln!(out, "{}", first.what)?;
    writeln!(
        out,
        "model {}; {} held faces, {:.0} s counted; {} switches between clearly read faces",
        first.model,
        first.held_faces,
        first.held_seconds_counted,
        first.switches_measured + first.switches_to_the_same_emoji + first.switches_not_followed
    )?;
    writeln!(
        out,
        "τ ms  band   steady/5s  faces changed  right at end  not sure  follow median  p90     max     ≤400 ms  spurious/5s"
    )?;
    let ms = |v: Option<f64>| v.map_or("-".into(), |v| format!("{v:.0} ms"));
    for r in reports {
        writeln!(
            out,
            "{:<5} {:<6} {:<10.2} {:<14} {:<13} {:<9} {:<14} {:<7} {:<7} {:<8} {:.2}",
            r.tracker.probability_tau_ms,
            r.tracker.hysteresis,
            r.steady_changes_per_5_s,
            r.faces_that_changed,
            format!("{:.1}%", 100.0 * r.shown_at_the_end_right),
            format!("{:.1}%", 100.0 * r.not_sure_at_the_end),
            ms(r.follow_ms_median),
            ms(r.follow_ms_p90),
            ms(r.follow_ms_max),
            format!("{}/{}", r.follow_within_400_ms, r.switches_measured),
            r.spurious_changes_per_5_s
        )?;
    }
    writeln!(
        out,
        "(spurious: steady changes and changes after a switch was followed; target ≤ 1 per 5 s)"
    )?;
    Ok(())
}
