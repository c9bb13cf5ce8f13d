//! The full path in the browser (issue 11): two benchmarks, `#[ignore]`d and run by `scripts/bench-browser.sh
//! fullpath`. They record, never assert (the tests in browser.rs check the behaviour):
//! - `labelled_faces`: 20 val faces per emotion (140), each pasted into the full-path benchmark's synthetic 640x480
//!   camera frame (`synth::benchmark_scene`, the frames of `emoji-mirror evaluate --camera`) and shown for 1.5 s by
//!   a 30 fps fake camera. The page's reading at the end of each face is scored against the label, beside the
//!   native pipeline on the very same frames (at the page's 320 px and at 640 px) and the aligned crops.
//! - `follow_and_steady`: pairs of faces of two emotions in one place, switching every 2 s (how long until the
//!   emoji follows), then one face per emotion held for 8 s with a camera's frame-to-frame changes (how often the
//!   emoji changes on a face that does not).
//!
//! Each video frame carries its segment's number in a strip of black and white blocks in its top-left corner. A
//! recorder in the page reads that strip from the `<video>`'s own frames (`VideoFrame.copyTo` of the strip only,
//! at each `requestVideoFrameCallback`) and logs every change of `#emotion`'s hooks (a `MutationObserver`), both
//! on the page's clock: the page's readings are matched to what the camera showed, to the frame.
//!
//!   cargo test -p emoji-mirror-site --release --test browser_fullpath -- --ignored --test-threads=1 --nocapture
#![cfg(not(target_arch = "wasm32"))]

mod common;

use std::time::Duration;

use anyhow::{ensure, Context, Result};
use common::*;
use emoji_pipeline::synth::{
    benchmark_scene, camera_frame, evenly_spaced, held_scene, Scene, BENCHMARK_SIZE_BUCKETS,
    HELD_VARIANTS,
};
use emoji_pipeline::{label, Pipeline, LABELS_LEN};
use image::{GrayImage, Rgb, RgbImage};
use serde_json::{json, Value};

/// Frames per second of the fake camera: a webcam's.
const FPS: u32 = 30;
/// Val faces per emotion in `labelled_faces` (disgust, the smallest class, has 56).
const FACES_PER_EMOTION: usize = 20;
/// How long each labelled face is shown, in frames (1.5 s).
const LABELLED_FRAMES: u32 = 45;
/// Seed of the labelled faces' scenes (`evaluate --camera --seed 1` draws its frames from the same function).
const SCENE_SEED: u64 = 1;
/// Blank frames before the first face, so that the page is running when it appears.
const LEAD_FRAMES: u32 = 60;
/// Pairs of faces in `follow_and_steady`, each shown A, B, A, B for `SWITCH_FRAMES` each.
const PAIRS: usize = 6;
const SWITCH_FRAMES: u32 = 60;
/// Frames each face is held in the steady part (8 s), and how long after it appears changes are not counted yet.
const STEADY_FRAMES: u32 = 240;
const SETTLE_MS: f64 = 1000.0;
/// Faces of each emotion held in the steady part (the native `emoji-mirror live` holds 20 of each).
const HELD_PER_EMOTION: usize = 2;

/// The segment strip: a white and a black guard block, then the number's bits, most significant first.
const MARK_BLOCK: u32 = 8;
const MARK_BITS: u32 = 14;
const BLANK: u32 = (1 << MARK_BITS) - 1;

/// Paints segment `number`'s strip over the frame's top-left corner (exact in the y4m: blocks on the chroma grid).
fn mark(frame: &mut RgbImage, number: u32) {
    let bit = |k: u32| match k {
        0 => true,
        1 => false,
        _ => (number >> (MARK_BITS - 1 - (k - 2))) & 1 == 1,
    };
    for k in 0..MARK_BITS + 2 {
        let v = if bit(k) { 255 } else { 0 };
        for y in 0..MARK_BLOCK {
            for x in k * MARK_BLOCK..(k + 1) * MARK_BLOCK {
                frame.put_pixel(x, y, Rgb([v, v, v]));
            }
        }
    }
}

/// The page-side recorder: `window.__fullpath.frames` ([page ms, segment number or -1]) and `.changes` ([page ms,
/// data-emotion, uncertain, faces], the state at install first).
fn recorder_script() -> String {
    format!(
        "const v = document.querySelector('video'); const e = document.querySelector('#emotion'); \
         const rec = window.__fullpath = {{ frames: [], changes: [] }}; \
         const state = () => [performance.now(), e.dataset.emotion, e.dataset.uncertain === 'true', parseInt(e.dataset.faces)]; \
         rec.changes.push(state()); \
         new MutationObserver(() => rec.changes.push(state())).observe(e, \
           {{ attributes: true, attributeFilter: ['data-emotion', 'data-uncertain', 'data-faces'] }}); \
         const block = {MARK_BLOCK}, blocks = {MARK_BITS} + 2; \
         const rect = {{ x: 0, y: 0, width: block * blocks, height: block }}; \
         const tick = (now) => {{ \
           v.requestVideoFrameCallback(tick); \
           let f; try {{ f = new VideoFrame(v, {{ timestamp: 0 }}); }} catch (_) {{ return; }} \
           const buf = new Uint8Array(f.allocationSize({{ rect }})); \
           f.copyTo(buf, {{ rect }}).then(layout => {{ \
             const row = layout[0].offset + (block / 2) * layout[0].stride; \
             const bit = k => buf[row + k * block + block / 2] > 128 ? 1 : 0; \
             let n = -1; \
             if (bit(0) === 1 && bit(1) === 0) {{ n = 0; for (let k = 2; k < blocks; k++) n = n * 2 + bit(k); }} \
             rec.frames.push([now, n]); \
           }}).catch(() => {{}}).finally(() => f.close()); \
         }}; \
         v.requestVideoFrameCallback(tick); return true;"
    )
}

/// What the page showed at one moment (`#emotion`'s hooks).
#[derive(Clone, Debug, PartialEq)]
struct Shown {
    t: f64,
    emotion: String,
    uncertain: bool,
    faces: usize,
}

impl Shown {
    /// The emoji picture the page shows: the emotion's, "not sure" or "no face".
    fn emoji(&self) -> String {
        if self.faces == 0 || self.emotion == "none" {
            "none".into()
        } else if self.uncertain {
            "not-sure".into()
        } else {
            self.emotion.clone()
        }
    }
}

/// One run of frames with the same segment number, as the page's `<video>` presented them.
#[derive(Clone, Debug)]
struct Run {
    number: i64,
    start: f64,
    /// The first frame of the next run.
    end: f64,
    frames: usize,
}

/// The recorder's log, frames in time order and collapsed into runs.
struct Recording {
    runs: Vec<Run>,
    changes: Vec<Shown>,
}

impl Recording {
    async fn fetch(browser: &Browser) -> Result<Self> {
        let v = browser.js("return window.__fullpath;").await?;
        let mut frames: Vec<(f64, i64)> = v["frames"]
            .as_array()
            .context("the recorder's frames")?
            .iter()
            .map(|f| (f[0].as_f64().unwrap_or(0.0), f[1].as_i64().unwrap_or(-1)))
            .collect();
        frames.sort_by(|a, b| a.0.total_cmp(&b.0));
        let mut runs: Vec<Run> = Vec::new();
        for (t, n) in frames {
            match runs.last_mut() {
                Some(r) if r.number == n => {
                    r.frames += 1;
                    r.end = t;
                }
                _ => {
                    if let Some(r) = runs.last_mut() {
                        r.end = t;
                    }
                    runs.push(Run {
                        number: n,
                        start: t,
                        end: t,
                        frames: 1,
                    });
                }
            }
        }
        runs.pop(); // still running: its end is unknown
        let changes = v["changes"]
            .as_array()
            .context("the recorder's changes")?
            .iter()
            .map(|c| Shown {
                t: c[0].as_f64().unwrap_or(0.0),
                emotion: c[1].as_str().unwrap_or("").to_string(),
                uncertain: c[2].as_bool().unwrap_or(false),
                faces: c[3].as_u64().unwrap_or(0) as usize,
            })
            .collect();
        Ok(Self { runs, changes })
    }

    /// The first run of segment `number` shown whole (at least `min_frames` frames).
    fn segment(&self, number: u32, min_frames: usize) -> Option<&Run> {
        self.runs
            .iter()
            .find(|r| r.number == i64::from(number) && r.frames >= min_frames)
    }

    /// What the page showed at page time `t`.
    fn at(&self, t: f64) -> Option<&Shown> {
        self.changes.iter().take_while(|c| c.t <= t).last()
    }

    /// The changes of the shown emoji within (`from`, `to`).
    fn emoji_changes(&self, from: f64, to: f64) -> Vec<(f64, String)> {
        let mut last = self.at(from).map(Shown::emoji);
        let mut out = Vec::new();
        for c in self.changes.iter().filter(|c| c.t > from && c.t < to) {
            let e = c.emoji();
            if last.as_ref() != Some(&e) {
                out.push((c.t, e.clone()));
                last = Some(e);
            }
        }
        out
    }
}

/// Starts the camera, installs the recorder, waits `seconds` of video and fetches the log; waits one more loop
/// if `complete` says a segment was missed (the fake camera started before the page's first frame).
async fn record(
    browser: &Browser,
    seconds: f64,
    complete: impl Fn(&Recording) -> bool,
) -> Result<Recording> {
    start_camera(browser).await?;
    ensure!(
        browser.js(&recorder_script()).await?.as_bool() == Some(true),
        "installing the recorder"
    );
    tokio::time::sleep(Duration::from_secs_f64(seconds + 3.0)).await;
    let recording = Recording::fetch(browser).await?;
    if complete(&recording) {
        return Ok(recording);
    }
    eprintln!("a segment was not seen whole: one more loop");
    tokio::time::sleep(Duration::from_secs_f64(seconds)).await;
    Recording::fetch(browser).await
}

/// Evenly spaced val faces of each emotion (by file name), emotions interleaved: (label, file name, face).
fn labelled_faces() -> Vec<(usize, String, GrayImage)> {
    let by_class: Vec<Vec<_>> = (0..LABELS_LEN).map(|l| val_faces(label(l))).collect();
    let faces = evenly_spaced(&by_class, FACES_PER_EMOTION);
    assert_eq!(
        faces.len(),
        FACES_PER_EMOTION * LABELS_LEN,
        "val faces missing"
    );
    faces
        .into_iter()
        .map(|(l, path)| {
            let name = path
                .file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .to_string();
            (l, name, load_grey(&path))
        })
        .collect()
}

fn blank_frame() -> RgbImage {
    let mut blank = emoji_pipeline::synth::background(WIDTH, HEIGHT, 7);
    mark(&mut blank, BLANK);
    blank
}

/// The native pipeline's reading of `frame`: the top label and probability of the largest face (the page's main
/// face), the top label of the face found with the highest score (what `evaluate --camera` scores), and how many
/// faces it found.
struct NativeReading {
    largest: Option<(usize, f32)>,
    best_scored: Option<usize>,
    faces: usize,
}

fn native(pipeline: &Pipeline, frame: &RgbImage) -> NativeReading {
    let analysis = pipeline.analyze(frame).expect("native analysis");
    NativeReading {
        largest: largest_face(&analysis).map(|f| (f.top(), f.probabilities[f.top()])),
        best_scored: analysis.faces.first().map(|f| f.top()),
        faces: analysis.faces.len(),
    }
}

fn native_top(pipeline: &Pipeline, frame: &RgbImage) -> Option<(usize, f32)> {
    native(pipeline, frame).largest
}

/// Accuracy, macro-F1 and per-emotion recall of (label, reading) pairs; no reading counts as wrong.
fn scores(pairs: &[(usize, Option<usize>)]) -> Value {
    let mut confusion = [[0usize; LABELS_LEN]; LABELS_LEN];
    let mut missed = [0usize; LABELS_LEN];
    for &(truth, read) in pairs {
        match read {
            Some(r) => confusion[truth][r] += 1,
            None => missed[truth] += 1,
        }
    }
    let right: usize = (0..LABELS_LEN).map(|l| confusion[l][l]).sum();
    let mut f1s = Vec::new();
    let mut recall = serde_json::Map::new();
    for l in 0..LABELS_LEN {
        let truths = confusion[l].iter().sum::<usize>() + missed[l];
        let reads: usize = (0..LABELS_LEN).map(|t| confusion[t][l]).sum();
        let (tp, r, p) = (confusion[l][l] as f64, truths as f64, reads as f64);
        let (rec, prec) = (
            if r > 0.0 { tp / r } else { 0.0 },
            if p > 0.0 { tp / p } else { 0.0 },
        );
        f1s.push(if rec + prec > 0.0 {
            2.0 * rec * prec / (rec + prec)
        } else {
            0.0
        });
        recall.insert(label(l).to_string(), json!(round(rec)));
    }
    json!({
        "faces": pairs.len(),
        "accuracy": round(right as f64 / pairs.len().max(1) as f64),
        "macro_f1": round(f1s.iter().sum::<f64>() / LABELS_LEN as f64),
        "no_face": round(missed.iter().sum::<usize>() as f64 / pairs.len().max(1) as f64),
        "recall": recall,
    })
}

fn round(x: f64) -> f64 {
    (x * 10_000.0).round() / 10_000.0
}

fn label_index(name: &str) -> Option<usize> {
    (0..LABELS_LEN).find(|&l| label(l) == name)
}

fn write_result(name: &str, results: &Value) -> Result<()> {
    let out = std::env::var_os("EMOJI_MIRROR_BENCH_DIR")
        .map_or_else(|| repo_root().join("bench"), std::path::PathBuf::from)
        .join(name);
    std::fs::create_dir_all(out.parent().context("bench folder")?)?;
    std::fs::write(&out, serde_json::to_string_pretty(results)? + "\n")
        .with_context(|| format!("writing {}", out.display()))?;
    println!("{}", serde_json::to_string_pretty(results)?);
    Ok(())
}

fn camera(video: std::path::PathBuf) -> BrowserOptions {
    BrowserOptions {
        allow_camera: true,
        fake_camera: Some(video),
        ..Default::default()
    }
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "a benchmark (about 5 minutes); run by scripts/bench-browser.sh fullpath"]
async fn labelled_faces_in_the_browser() -> Result<()> {
    let pipeline = native_pipeline();
    let scratch = Scratch::new("fullpath-labelled");
    let video = scratch.join("labelled.y4m");
    let mut y4m = Y4mWriter::create(&video, FPS)?;
    y4m.frame(&blank_frame(), LEAD_FRAMES)?;
    struct Face {
        label: usize,
        file: String,
        side: u32,
        crop: Option<usize>,
        native_320: Option<usize>,
        native_640: Option<usize>,
        native_640_best_scored: Option<usize>,
        native_faces: usize,
    }
    let mut faces = Vec::new();
    for (i, (l, file, face)) in labelled_faces().into_iter().enumerate() {
        let scene = benchmark_scene(SCENE_SEED, i);
        let (mut frame, _) = camera_frame(&face, &scene)?;
        mark(&mut frame, i as u32);
        let crop = pipeline
            .classifier()
            .classify(std::slice::from_ref(&face))?;
        let at_640 = native(&pipeline, &frame);
        faces.push(Face {
            label: l,
            file,
            side: scene.side,
            crop: crop.first().map(emoji_pipeline::argmax),
            native_320: native_top(&pipeline, &as_the_page_sees(&frame)).map(|(t, _)| t),
            native_640: at_640.largest.map(|(t, _)| t),
            native_640_best_scored: at_640.best_scored,
            native_faces: at_640.faces,
        });
        y4m.frame(&frame, LABELLED_FRAMES)?;
    }
    y4m.finish()?;
    let seconds = f64::from(LEAD_FRAMES + LABELLED_FRAMES * faces.len() as u32) / f64::from(FPS);
    let min_frames = (LABELLED_FRAMES * 4 / 5) as usize;
    let n = faces.len() as u32;
    on_site(camera(video), async |browser, server| {
        open_site(browser, server).await?;
        let rec = record(browser, seconds, |r| (0..n).all(|i| r.segment(i, min_frames).is_some())).await?;
        let stats = stats(browser).await?;
        let mut rows = Vec::new();
        let (mut browser_pairs, mut n320, mut n640, mut crops) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        let mut n640_best = Vec::new();
        let (mut agree, mut not_sure, mut unseen) = (0, 0, 0);
        let mut by_size = vec![(0usize, 0usize, 0usize); BENCHMARK_SIZE_BUCKETS.len()];
        for (i, f) in faces.iter().enumerate() {
            let Some(run) = rec.segment(i as u32, min_frames) else {
                unseen += 1;
                continue;
            };
            let shown = rec.at(run.end);
            let read = shown.filter(|s| s.faces > 0).and_then(|s| label_index(&s.emotion));
            not_sure += usize::from(shown.is_some_and(|s| s.faces > 0 && s.uncertain));
            agree += usize::from(read == f.native_320);
            browser_pairs.push((f.label, read));
            n320.push((f.label, f.native_320));
            n640.push((f.label, f.native_640));
            n640_best.push((f.label, f.native_640_best_scored));
            crops.push((f.label, f.crop));
            if let Some(b) = BENCHMARK_SIZE_BUCKETS.iter().position(|(lo, hi)| (*lo..*hi).contains(&f.side)) {
                by_size[b].0 += 1;
                by_size[b].1 += usize::from(read == Some(f.label));
                by_size[b].2 += usize::from(f.native_320 == Some(f.label));
            }
            rows.push(json!({
                "segment": i, "file": f.file, "label": label(f.label), "face_px": f.side,
                "crop": f.crop.map(label), "native_320": f.native_320.map(label), "native_640": f.native_640.map(label),
                "native_640_best_scored": f.native_640_best_scored.map(label), "native_faces": f.native_faces,
                "browser": read.map(label), "browser_uncertain": shown.is_some_and(|s| s.uncertain),
                "frames_seen": run.frames,
            }));
        }
        let seen = browser_pairs.len().max(1) as f64;
        let results = json!({
            "what": format!("{} val faces ({FACES_PER_EMOTION} per emotion, evenly spaced by file name), each in the full-path \
                     benchmark's 640x480 frame (synth::benchmark_scene, seed {SCENE_SEED}), shown {:.1} s by a {FPS} fps fake \
                     camera; the page's reading (#emotion) when the face's last frame leaves the video, against the label",
                     faces.len(), f64::from(LABELLED_FRAMES) / f64::from(FPS)),
            "browser": scores(&browser_pairs),
            "browser_not_sure_share": round(not_sure as f64 / seen),
            "native_page_size_320": scores(&n320),
            "native_640": scores(&n640),
            "native_640_best_scored_face": scores(&n640_best),
            "crops": scores(&crops),
            "browser_agrees_with_native_320": round(agree as f64 / seen),
            "segments_not_seen_whole": unseen,
            "by_face_px": BENCHMARK_SIZE_BUCKETS.iter().zip(&by_size).map(|((lo, hi), (n, b, nat))| json!({
                "face_px": format!("{lo}-{}", hi - 1), "faces": n,
                "browser": round(*b as f64 / (*n).max(1) as f64), "native_320": round(*nat as f64 / (*n).max(1) as f64),
            })).collect::<Vec<_>>(),
            "fps_analysed": stats["fps"],
            "segments": rows,
        });
        write_result("browser-fullpath.json", &results)
    })
    .await
}

/// One face of `follow_and_steady`, rendered in `HELD_VARIANTS` camera frames that differ as a camera's do.
fn held(face: &GrayImage, scene: &Scene, number: u32) -> Result<Vec<RgbImage>> {
    (0..HELD_VARIANTS)
        .map(|k| {
            let (mut frame, _) = camera_frame(face, &held_scene(scene, k))?;
            mark(&mut frame, number);
            Ok(frame)
        })
        .collect()
}

fn write_held(y4m: &mut Y4mWriter, frames: &[RgbImage], count: u32) -> Result<()> {
    for k in 0..count {
        y4m.frame(&frames[k as usize % frames.len()], 1)?;
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "a benchmark (about 2 minutes); run by scripts/bench-browser.sh fullpath"]
async fn follow_and_steady() -> Result<()> {
    let pipeline = native_pipeline();
    let faces = labelled_faces();
    // Faces the native pipeline reads as their label with some confidence: an expression the page should show.
    let mut clear: Vec<Vec<&GrayImage>> = vec![Vec::new(); LABELS_LEN];
    for (i, (l, _, face)) in faces.iter().enumerate() {
        let (frame, _) = camera_frame(face, &benchmark_scene(SCENE_SEED, i))?;
        if native_top(&pipeline, &as_the_page_sees(&frame))
            .is_some_and(|(t, p)| t == *l && p >= 0.6)
        {
            clear[*l].push(face);
        }
    }
    let with_faces: Vec<usize> = (0..LABELS_LEN).filter(|&l| !clear[l].is_empty()).collect();
    ensure!(
        with_faces.len() >= 3,
        "too few emotions read clearly natively: {with_faces:?}"
    );

    let scratch = Scratch::new("fullpath-follow");
    let video = scratch.join("follow.y4m");
    let mut y4m = Y4mWriter::create(&video, FPS)?;
    y4m.frame(&blank_frame(), LEAD_FRAMES)?;
    let mut number = 0u32;
    // (segment number, the pair's index, whether it is the pair's first segment)
    let mut switch_segments = Vec::new();
    for p in 0..PAIRS {
        let a = with_faces[p % with_faces.len()];
        let b = with_faces[(p + 1 + p / with_faces.len()) % with_faces.len()];
        let (fa, fb) = (clear[a][p / with_faces.len() % clear[a].len()], clear[b][0]);
        let scene = benchmark_scene(SCENE_SEED + 1, p);
        for (k, face) in [fa, fb, fa, fb].into_iter().enumerate() {
            write_held(&mut y4m, &held(face, &scene, number)?, SWITCH_FRAMES)?;
            switch_segments.push((number, p, k == 0));
            number += 1;
        }
    }
    let mut steady_segments = Vec::new();
    for (l, (_, file, face)) in faces.iter().take(HELD_PER_EMOTION * LABELS_LEN).enumerate() {
        let scene = benchmark_scene(SCENE_SEED + 2, l);
        write_held(&mut y4m, &held(face, &scene, number)?, STEADY_FRAMES)?;
        steady_segments.push((number, file.clone()));
        number += 1;
    }
    y4m.finish()?;
    let total_frames = LEAD_FRAMES
        + SWITCH_FRAMES * 4 * PAIRS as u32
        + STEADY_FRAMES * (HELD_PER_EMOTION * LABELS_LEN) as u32;
    let seconds = f64::from(total_frames) / f64::from(FPS);
    let whole = |frames: u32| (frames * 4 / 5) as usize;

    on_site(camera(video), async |browser, server| {
        open_site(browser, server).await?;
        let rec = record(browser, seconds, |r| (0..number).all(|i| {
            let frames = if i < (PAIRS * 4) as u32 { SWITCH_FRAMES } else { STEADY_FRAMES };
            r.segment(i, whole(frames)).is_some()
        }))
        .await?;
        let fps = stats(browser).await?["fps"].clone();

        // Follow: at each switch inside a pair, from the new face's first frame until the page shows the emoji it
        // settles on for that face (its reading at the segment's end), when that differs from the one before.
        let mut switches = Vec::new();
        let (mut same, mut not_followed) = (0, 0);
        // Spurious changes: after a switch was followed, and on the held faces after their first second.
        let (mut spurious, mut spurious_ms) = (0usize, 0.0);
        for &(n, pair, first) in &switch_segments {
            let Some(run) = rec.segment(n, whole(SWITCH_FRAMES)) else { continue };
            let settled = rec.at(run.end).map(Shown::emoji);
            let before = rec.at(run.start).map(Shown::emoji);
            let changes = rec.emoji_changes(run.start, run.end);
            if first {
                continue;
            }
            if settled == before || settled.as_deref() == Some("not-sure") || settled.as_deref() == Some("none") {
                same += 1;
                continue;
            }
            let Some(&(t, _)) = changes.iter().find(|(_, e)| Some(e) == settled.as_ref()) else {
                not_followed += 1;
                continue;
            };
            let after = changes.iter().filter(|(tc, _)| *tc > t).count();
            spurious += after;
            spurious_ms += run.end - t;
            switches.push(json!({
                "pair": pair, "segment": n, "from": before, "to": settled,
                "follow_ms": round(t - run.start), "changes_on_the_way": changes.iter().filter(|(tc, _)| *tc < t).count(),
                "changes_after": after,
            }));
        }
        let mut follow: Vec<f64> = switches.iter().filter_map(|s| s["follow_ms"].as_f64()).collect();
        follow.sort_by(f64::total_cmp);
        let pct = |q: f64| follow.get(((follow.len() as f64 - 1.0) * q).round() as usize).copied();

        // Steady: changes of the shown emoji on a held face after its first second.
        let mut steady = Vec::new();
        let (mut steady_changes, mut steady_ms) = (0usize, 0.0);
        for (n, file) in &steady_segments {
            let Some(run) = rec.segment(*n, whole(STEADY_FRAMES)) else { continue };
            let from = run.start + SETTLE_MS;
            let changes = rec.emoji_changes(from, run.end);
            steady_changes += changes.len();
            steady_ms += run.end - from;
            steady.push(json!({
                "file": file, "segment": n, "shown": rec.at(run.end).map(Shown::emoji),
                "changes": changes.iter().map(|(t, e)| json!([round(t - run.start), e])).collect::<Vec<_>>(),
                "seconds": round((run.end - from) / 1000.0),
            }));
        }
        let results = json!({
            "what": format!("follow: {PAIRS} pairs of val faces of two emotions (read clearly natively) in one place, shown \
                     A, B, A, B for {} s each by a {FPS} fps fake camera with a camera's frame-to-frame changes; the time from \
                     the new face's first frame to the page showing the emoji it settles on. steady: {HELD_PER_EMOTION} val faces per emotion \
                     held {} s, changes of the shown emoji (an emotion, not sure, no face) after its first {} s; spurious: \
                     those and the changes after a switch was followed",
                     f64::from(SWITCH_FRAMES) / f64::from(FPS), f64::from(STEADY_FRAMES) / f64::from(FPS), SETTLE_MS / 1000.0),
            "follow_ms_median": pct(0.5),
            "follow_ms_max": follow.last(),
            "switches_measured": follow.len(),
            "switches_to_the_same_emoji": same,
            "switches_not_followed": not_followed,
            "steady_changes_per_5_s": round(steady_changes as f64 / (steady_ms / 5000.0).max(1e-9)),
            "steady_seconds": round(steady_ms / 1000.0),
            "spurious_changes_per_5_s": round((steady_changes + spurious) as f64 / ((steady_ms + spurious_ms) / 5000.0).max(1e-9)),
            "spurious_changes": steady_changes + spurious,
            "spurious_seconds": round((steady_ms + spurious_ms) / 1000.0),
            "fps_analysed": fps,
            "switches": switches,
            "steady": steady,
        });
        write_result("browser-follow.json", &results)
    })
    .await
}
