//! Browser tests: the built site (dist/) in headless Chromium, driven through chromedriver, served under a sub-path.
//!
//! Run (after `trunk build --release`):
//!   cargo test -p emoji-mirror-site --release --test browser -- --test-threads=1
//! The 5-minute memory soak is the longest of them (`EMOJI_MIRROR_SOAK_SECONDS` shortens it for a quick local run).
#![cfg(not(target_arch = "wasm32"))]

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{ensure, Result};
use common::*;
use emoji_pipeline::artwork::{self, NOT_SURE};
use emoji_pipeline::{label, LABELS_LEN};
use fantoccini::Locator;

/// Faces per emotion in the fake-camera video.
const FACES_PER_EMOTION: usize = 3;
/// Frames per second of the fake-camera video (the segment test needs every segment seen, not every frame).
const VIDEO_FPS: u32 = 10;
const FACE_SECONDS: u32 = 2;
const BLANK_SECONDS: u32 = 1;
/// Pixels of the pictures' colours (`common::picture_palette`) that an emoji picture drawn over a face of these tests
/// gives at least. Measured with a happy face 220–240 px wide: 2,565 on the live overlay, 2,671 in the snapshot,
/// 3,593 on the photo; the grey frames and the boxes have none, a text emoji in a font without colour none at all.
const PICTURE_PIXELS_MIN: usize = 500;

/// One segment of the fake-camera video: the faces pasted into its frame and what the page should say.
struct Segment {
    frame: image::RgbImage,
    label: usize,
    faces: usize,
}

/// The fake-camera script: for each emotion several val faces, chosen (first by file name) among those that the
/// *native* pipeline reads correctly in the very same frame at the size the page analyses, so that this test
/// measures whether the browser reproduces the pipeline end to end (camera, colour conversion, canvas, worker,
/// tracker), not the model's accuracy (reported as PublicTest (val) in models/MODEL_CARD.md); then two faces side
/// by side. Blank frames between.
fn segments() -> (Vec<Segment>, image::RgbImage) {
    let pipeline = native_pipeline();
    let positions = [(120, 100, 220), (300, 140, 200), (200, 60, 260)];
    let mut segments = Vec::new();
    let mut chosen: Vec<Vec<image::GrayImage>> = vec![Vec::new(); LABELS_LEN];
    for k in 0..FACES_PER_EMOTION {
        for (l, picked) in chosen.iter_mut().enumerate() {
            let (x, y, side) = positions[k % positions.len()];
            let files = val_faces(label(l));
            let found = files.iter().find_map(|path| {
                let face = load_grey(path);
                if picked.contains(&face) {
                    return None;
                }
                let (frame, _) = compose(&[(&face, x, y, side)], (k * 7 + l) as u32);
                (native_reading(&pipeline, &as_the_page_sees(&frame)) == (Some(l), 1))
                    .then_some((face, frame))
            });
            let Some((face, frame)) = found else {
                // A model that never says this emotion natively cannot be checked in the browser either.
                eprintln!(
                    "no val face of {} that the native pipeline reads correctly: skipped",
                    label(l)
                );
                continue;
            };
            picked.push(face);
            segments.push(Segment {
                frame,
                label: l,
                faces: 1,
            });
        }
    }
    let emotions = chosen.iter().filter(|c| !c.is_empty()).count();
    assert!(
        emotions >= 4,
        "the native pipeline reads only {emotions} emotions right: too few to test"
    );
    // Two faces side by side: the first chosen face of the first two emotions that have one.
    let mut firsts = chosen.iter().filter_map(|c| c.first());
    let (Some(left), Some(right)) = (firsts.next(), firsts.next()) else {
        unreachable!("at least four emotions have a face");
    };
    let (two, _) = compose(&[(left, 40, 150, 200), (right, 380, 150, 200)], 99);
    let (main, count) = native_reading(&pipeline, &as_the_page_sees(&two));
    assert_eq!(
        count, 2,
        "the native pipeline finds both faces of the side-by-side frame"
    );
    segments.push(Segment {
        frame: two,
        label: main.unwrap_or(0),
        faces: 2,
    });
    let (blank, _) = compose(&[], 1234);
    assert_eq!(
        native_reading(&pipeline, &as_the_page_sees(&blank)).1,
        0,
        "the blank frame has no face for the native pipeline"
    );
    (segments, blank)
}

/// One sample of the page's `#emotion` hooks.
#[derive(Clone, Debug)]
struct Sample {
    emotion: String,
    faces: usize,
}

/// Splits samples into runs of frames with faces, separated by at least `min_blank` samples without.
fn face_runs(samples: &[Sample], min_blank: usize) -> Vec<Vec<Sample>> {
    let mut runs: Vec<Vec<Sample>> = Vec::new();
    let mut current: Vec<Sample> = Vec::new();
    let mut blank = 0;
    // Start at the first blank so that the first run is complete.
    let start = samples
        .iter()
        .position(|s| s.faces == 0)
        .unwrap_or(samples.len());
    for s in &samples[start..] {
        if s.faces == 0 {
            blank += 1;
            if blank >= min_blank && !current.is_empty() {
                runs.push(std::mem::take(&mut current));
            }
        } else {
            // A dropout shorter than `min_blank` stays inside its segment.
            blank = 0;
            current.push(s.clone());
        }
    }
    runs
}

fn majority<T: Clone + PartialEq>(items: impl Iterator<Item = T>) -> Option<(T, usize)> {
    let mut counts: Vec<(T, usize)> = Vec::new();
    for item in items {
        match counts.iter_mut().find(|(t, _)| *t == item) {
            Some((_, n)) => *n += 1,
            None => counts.push((item, 1)),
        }
    }
    counts.into_iter().max_by_key(|(_, n)| *n)
}

/// How many of the video's segments the page read right, in the video's order, and a line per segment.
///
/// The page is sampled from an unknown point of the looping video, and a segment can be missed or split (a dropout
/// longer than the blank threshold), so runs are not matched to segments by position: for every rotation of the
/// loop, the longest common subsequence of the expected and the seen (emotion, faces) pairs counts the segments
/// read right in order, each at most once; the best rotation is the page's score.
fn read_in_order(expected: &[(String, usize)], seen: &[(String, usize)]) -> (usize, Vec<String>) {
    let n = expected.len();
    let mut best: (usize, Vec<bool>) = (0, vec![false; n]);
    for rotation in 0..n {
        let order: Vec<usize> = (0..n).map(|i| (rotation + i) % n).collect();
        // lcs[i][j]: matches between expected[order[i..]] and seen[j..].
        let mut lcs = vec![vec![0usize; seen.len() + 1]; n + 1];
        for i in (0..n).rev() {
            for j in (0..seen.len()).rev() {
                lcs[i][j] = if expected[order[i]] == seen[j] {
                    lcs[i + 1][j + 1] + 1
                } else {
                    lcs[i + 1][j].max(lcs[i][j + 1])
                };
            }
        }
        if lcs[0][0] > best.0 || rotation == 0 {
            // Walk the table to know which segments matched.
            let mut matched = vec![false; n];
            let (mut i, mut j) = (0, 0);
            while i < n && j < seen.len() {
                if expected[order[i]] == seen[j] {
                    matched[order[i]] = true;
                    i += 1;
                    j += 1;
                } else if lcs[i + 1][j] >= lcs[i][j + 1] {
                    i += 1;
                } else {
                    j += 1;
                }
            }
            best = (lcs[0][0], matched);
        }
    }
    let report = expected
        .iter()
        .zip(&best.1)
        .map(|((emotion, faces), ok)| format!("{emotion}x{faces}{}", if *ok { "" } else { " ✗" }))
        .collect();
    (best.0, report)
}

/// `emoji-mirror live` reads the frames the page would hand its worker: the pipeline's stand-in for the page's
/// scaling (`synth::as_live_frame`) follows the page's own size rule (`camera::LIVE_MAX_SIDE`, `draw::fit_within`).
#[test]
fn the_native_live_frames_are_the_size_the_page_sends() {
    assert_eq!(
        emoji_mirror_site::camera::LIVE_MAX_SIDE,
        emoji_pipeline::synth::LIVE_FRAME_MAX_SIDE
    );
    for (w, h) in [(640, 480), (480, 640), (1280, 720), (200, 100), (1001, 3)] {
        let frame = image::RgbImage::new(w, h);
        assert_eq!(
            emoji_pipeline::synth::as_live_frame(&frame).dimensions(),
            as_the_page_sees(&frame).dimensions(),
            "{w}x{h}"
        );
    }
}

#[test]
fn reading_in_order_survives_a_rotated_start_an_extra_run_and_a_miss() {
    let e = |s: &str, f: usize| (s.to_string(), f);
    let expected = [
        e("angry", 1),
        e("happy", 1),
        e("sad", 1),
        e("happy", 1),
        e("fear", 2),
    ];
    // Starts mid-loop, an extra "neutral" run (a split segment), the second "happy" missed.
    let seen = [
        e("sad", 1),
        e("neutral", 1),
        e("fear", 2),
        e("angry", 1),
        e("happy", 1),
        e("sad", 1),
        e("fear", 2),
    ];
    let (right, report) = read_in_order(&expected, &seen);
    assert_eq!(right, 4, "{report:?}");
    assert_eq!(
        report.iter().filter(|r| r.ends_with('✗')).count(),
        1,
        "{report:?}"
    );
    // Nothing in common: nothing read right.
    let (none, _) = read_in_order(&expected, &[e("surprise", 1), e("disgust", 1)]);
    assert_eq!(none, 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_fake_camera_shows_the_emoji_of_each_face_and_none_between() -> Result<()> {
    let (segments, blank) = segments();
    let scratch = Scratch::new("segments");
    let video = scratch.join("segments.y4m");
    let mut y4m = Y4mWriter::create(&video, VIDEO_FPS)?;
    for s in &segments {
        y4m.frame(&blank, BLANK_SECONDS * VIDEO_FPS)?;
        y4m.frame(&s.frame, FACE_SECONDS * VIDEO_FPS)?;
    }
    y4m.finish()?;
    let loop_seconds = segments.len() as u64 * u64::from(FACE_SECONDS + BLANK_SECONDS);

    let options = BrowserOptions {
        allow_camera: true,
        fake_camera: Some(video),
        ..Default::default()
    };
    on_site(options, async |browser, server| {
        open_site(browser, server).await?;
        start_camera(browser).await?;
        browser.cdp("Performance.enable", serde_json::json!({})).await?;
        let (layouts_before, started) = (browser.performance_metric("LayoutCount").await?, Instant::now());
        // One full loop after the first blank, and a segment more.
        let until = Instant::now() + Duration::from_secs(loop_seconds + 2 * u64::from(FACE_SECONDS + BLANK_SECONDS) + 2);
        let mut samples = Vec::new();
        let mut fps = Vec::new();
        while Instant::now() < until {
            let (emotion, _, faces) = browser.emotion().await?;
            if faces == 2 {
                screenshot(browser, "live-two-faces").await;
            }
            samples.push(Sample { emotion, faces });
            if let Some(f) = browser.attr("#fps", "data-fps").await?.and_then(|f| f.parse::<f64>().ok()) {
                fps.push(f);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let mean_fps = fps.iter().sum::<f64>() / fps.len().max(1) as f64;
        eprintln!("{} samples, mean analysed fps {mean_fps:.1}", samples.len());
        // The panels change at most every 100 ms (state::PANEL_REFRESH_MS) or when the reading does; nothing may lay
        // the page out at every animation frame in between (a bar's width transition did: half the main thread of a
        // throttled CPU, crates/cli/BENCH.md). A count, not a time: the same on a slow machine.
        let layouts = browser.performance_metric("LayoutCount").await? - layouts_before;
        let per_second = layouts / started.elapsed().as_secs_f64();
        eprintln!("{layouts} layouts, {per_second:.1} a second");
        ensure!(per_second <= 20.0, "the page was laid out {per_second:.1} times a second with the camera on");
        ensure!(
            samples.iter().filter(|s| s.faces == 0).all(|s| s.emotion == "none"),
            "a frame without faces must read `none`"
        );
        let runs = face_runs(&samples, 3);
        ensure!(
            runs.len() >= segments.len(),
            "saw {} face segments separated by blanks in one loop, expected {} (blank frames must read none)",
            runs.len(),
            segments.len()
        );
        let summary: Vec<(String, usize)> = runs
            .iter()
            .map(|run| {
                // The middle of a run: the tracker's smoothing settles at its start.
                let middle = &run[run.len() / 4..run.len() - run.len() / 4];
                let middle = if middle.is_empty() { &run[..] } else { middle };
                let emotion = majority(middle.iter().map(|s| s.emotion.clone())).map(|(e, _)| e).unwrap_or_default();
                let faces = majority(middle.iter().map(|s| s.faces)).map(|(f, _)| f).unwrap_or(0);
                (emotion, faces)
            })
            .collect();
        eprintln!("runs seen: {summary:?}");
        ensure!(summary.iter().any(|(_, f)| *f == 2), "no run with two faces: {summary:?}");
        let expected: Vec<(String, usize)> = segments.iter().map(|s| (label(s.label).to_string(), s.faces)).collect();
        let (right, report) = read_in_order(&expected, &summary);
        let n = expected.len();
        eprintln!("segments (emotion x faces; ✗ = not read in order): {}", report.join(", "));
        let share = right as f64 / n as f64;
        ensure!(share >= 2.0 / 3.0, "only {right} of {n} face segments read right: {}", report.join(", "));
        Ok(())
    })
    .await
}

/// A photo of `face` (640x480, on the synthetic background) in `scratch`, and what the native pipeline reads in it:
/// the label of the largest face, and how many faces.
fn photo_of(
    scratch: &Scratch,
    face: &Path,
    at: (i64, i64, u32),
) -> Result<(std::path::PathBuf, (Option<usize>, usize))> {
    let face = load_grey(face);
    let (frame, _) = compose(&[(&face, at.0, at.1, at.2)], 7);
    let expected = native_reading(&native_pipeline(), &frame);
    let path = scratch.join("photo.png");
    frame.save(&path)?;
    Ok((path, expected))
}

/// Browser options with the camera allowed, showing one face (`one_face_video`), and downloads saved to a folder of
/// `scratch`, returned beside them: the setup of the tests that use the camera, a photo and the snapshot together.
fn camera_and_downloads(scratch: &Scratch) -> Result<(BrowserOptions, std::path::PathBuf)> {
    let camera = scratch.join("one-face.y4m");
    one_face_video(&camera)?;
    let downloads = scratch.join("downloads");
    std::fs::create_dir_all(&downloads)?;
    let options = BrowserOptions {
        allow_camera: true,
        fake_camera: Some(camera),
        downloads: Some(downloads.clone()),
        ..Default::default()
    };
    Ok((options, downloads))
}

/// The `<img>` the page shows for the picture called `name`: loaded from a `data:` URL (64 px wide), its alt text
/// saying what it shows ("happy", "not sure").
fn picture_of(name: &str) -> Picture {
    Picture {
        alt: artwork::find(name).map(|a| a.words()).unwrap_or_default(),
        data_url: true,
        natural_width: 64,
    }
}

/// Waits for the page's photo result and checks it against the native reading: the same faces and emotion, the
/// emoji picture shown, and the photo drawn at its size with a box and an emoji picture on each face.
async fn check_photo(browser: &Browser, expected: (Option<usize>, usize)) -> Result<PhotoResult> {
    let shown = browser
        .wait_for("the photo's result", Duration::from_secs(30), async || {
            let r = browser.photo_result().await?;
            Ok((r.view == "photo" && r.faces > 0).then_some(r))
        })
        .await?;
    eprintln!("photo: {shown:?}; native: {expected:?}");
    ensure!(
        shown.faces == expected.1,
        "the page found {} faces, the native pipeline {}",
        shown.faces,
        expected.1
    );
    let label = expected.0.map(label);
    ensure!(
        Some(shown.emotion.as_str()) == label,
        "the page reads {}, the native pipeline {label:?}",
        shown.emotion
    );
    let picture = if shown.uncertain {
        Some(NOT_SURE)
    } else {
        label
    };
    ensure!(
        Some(&shown.big_picture) == picture.map(picture_of).as_ref(),
        "the big emoji picture is {:?}, expected that of {picture:?}",
        shown.big_picture
    );
    ensure!(
        (shown.width, shown.height) == (WIDTH, HEIGHT),
        "the photo is shown at {}x{}, not its own size",
        shown.width,
        shown.height
    );
    ensure!(
        shown.box_pixels > 200,
        "no box drawn on the photo ({} box-coloured pixels)",
        shown.box_pixels
    );
    ensure!(
        shown.picture_pixels > PICTURE_PIXELS_MIN,
        "no emoji picture drawn on the photo ({} pixels of the pictures' colours)",
        shown.picture_pixels
    );
    Ok(shown)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_chosen_photo_gets_the_same_reading_as_the_native_pipeline() -> Result<()> {
    let scratch = Scratch::new("photo");
    let (photo, expected) = photo_of(&scratch, &val_faces("happy")[0], (200, 90, 240))?;
    on_site(BrowserOptions::default(), async |browser, server| {
        open_site(browser, server).await?;
        browser.choose_photo(&photo).await?;
        check_photo(browser, expected).await?;
        screenshot(browser, "photo").await;
        let (_, confidence, _) = browser.emotion().await?;
        ensure!(
            (0.0..=1.0).contains(&confidence),
            "confidence {confidence} out of 0–1"
        );
        let download = browser.client.find(Locator::Css("#download")).await?;
        ensure!(
            download.attr("disabled").await?.is_none(),
            "the annotated photo can be downloaded"
        );
        Ok(())
    })
    .await
}

#[tokio::test(flavor = "multi_thread")]
async fn a_denied_camera_says_how_to_allow_it() -> Result<()> {
    let options = BrowserOptions {
        allow_camera: false,
        fake_camera: Some("".into()),
        ..Default::default()
    };
    on_site(options, async |browser, server| {
        open_site(browser, server).await?;
        browser.click("#start").await?;
        browser
            .wait_state(&["denied"], Duration::from_secs(20))
            .await?;
        screenshot(browser, "denied").await;
        let text = browser
            .js("return document.querySelector('.status').textContent")
            .await?;
        let text = text.as_str().unwrap_or_default();
        ensure!(
            text.contains("Allow") && text.contains("photo"),
            "the denied state explains the way forward: {text}"
        );
        Ok(())
    })
    .await
}

#[tokio::test(flavor = "multi_thread")]
async fn without_a_camera_the_page_says_so() -> Result<()> {
    // Allowed, but no fake device: a headless machine has no camera.
    let options = BrowserOptions {
        allow_camera: true,
        ..Default::default()
    };
    on_site(options, async |browser, server| {
        open_site(browser, server).await?;
        browser.click("#start").await?;
        browser
            .wait_state(&["no-camera"], Duration::from_secs(20))
            .await?;
        Ok(())
    })
    .await
}

/// The live frames analysed so far (`#stats[data-frames]`).
async fn frames(browser: &Browser) -> Result<u64> {
    Ok(stats(browser).await?["frames"].as_u64().unwrap_or(0))
}

/// Waits for the snapshot file in `dir` and decodes it.
async fn snapshot_file(browser: &Browser, dir: &Path) -> Result<image::RgbImage> {
    let file = dir.join("emoji-mirror-snapshot.png");
    browser
        .wait_for("the snapshot file", Duration::from_secs(20), async || {
            Ok(image::open(&file).ok().map(|i| i.to_rgb8()))
        })
        .await
}

#[tokio::test(flavor = "multi_thread")]
async fn after_loading_the_page_makes_no_request_and_works_under_a_sub_path() -> Result<()> {
    let scratch = Scratch::new("use-everything");
    let (options, downloads) = camera_and_downloads(&scratch)?;
    let (photo, expected) = photo_of(&scratch, &val_faces("surprise")[0], (220, 120, 200))?;
    on_site(options, async |browser, server| {
        open_site(browser, server).await?;
        // The service worker's first install copies the site into its cache: part of loading.
        browser
            .client
            .execute_async(
                "const done = arguments[arguments.length - 1]; \
                 navigator.serviceWorker.ready.then(() => done(true), () => done(false));",
                vec![],
            )
            .await?;
        network_quiet(server).await?;
        let before = server.requests();
        let resources_before = browser.js("return performance.getEntriesByType('resource').length").await?;

        // Use everything: camera, stats, snapshot, a photo, back to the camera.
        start_camera(browser).await?;
        browser.click("#stats-toggle").await?;
        let first_emoji = browser
            .wait_for("frames analysed and the face's emoji shown", Duration::from_secs(20), async || {
                let s = stats(browser).await?;
                let (fps, first) = (s["fps"].as_f64().unwrap_or(0.0), s["first_emoji_ms"].as_f64());
                let (_, _, faces) = browser.emotion().await?;
                Ok(first.filter(|_| fps > 0.0 && faces > 0))
            })
            .await?;
        eprintln!("first emoji after {first_emoji:.0} ms");

        // The snapshot: the mirrored camera frame, at the camera's size, with the face's box drawn in.
        browser.click("#snapshot").await?;
        let snapshot = snapshot_file(browser, &downloads).await?;
        ensure!(snapshot.dimensions() == (WIDTH, HEIGHT), "a snapshot of {:?}", snapshot.dimensions());
        let boxed = box_pixels(&snapshot);
        ensure!(boxed > 200, "no box in the snapshot ({boxed} box-coloured pixels)");
        // The background brightens from left to right in the camera's frame: mirrored, the left is the brighter.
        let strip_mean = |x0: u32| {
            let (mut sum, mut n) = (0.0, 0.0);
            for y in HEIGHT - 40..HEIGHT {
                for x in x0..x0 + 100 {
                    sum += f64::from(snapshot.get_pixel(x, y)[0]);
                    n += 1.0;
                }
            }
            sum / n
        };
        let (left, right) = (strip_mean(0), strip_mean(WIDTH - 100));
        ensure!(left > right + 30.0, "the snapshot is not mirrored (left {left:.0}, right {right:.0})");

        // A photo: the emoji of its face shown, the photo drawn with a box.
        browser.choose_photo(&photo).await?;
        check_photo(browser, expected).await?;

        // Back to the camera: live frames are analysed again.
        let seen = frames(browser).await?;
        browser.click("#show-live").await?;
        browser
            .wait_for("live frames after the photo", Duration::from_secs(20), async || {
                let view = browser.attr("#app", "data-view").await?;
                Ok((view.as_deref() == Some("live") && frames(browser).await? > seen + 5).then_some(()))
            })
            .await?;

        let after = server.requests();
        let resources_after = browser.js("return performance.getEntriesByType('resource').length").await?;
        ensure!(
            after.len() == before.len(),
            "requests after load: {:?}",
            &after[before.len().min(after.len())..]
        );
        ensure!(resources_after == resources_before, "the browser's resource log grew: {resources_before} → {resources_after}");
        ensure!(
            before.iter().all(|p| p.starts_with(SUB_PATH)),
            "every request stays under {SUB_PATH}: {before:?}"
        );
        let failed = browser
            .js("return performance.getEntriesByType('resource').filter(e => e.responseStatus >= 400).map(e => e.name)")
            .await?;
        ensure!(failed.as_array().is_some_and(Vec::is_empty), "failed loads: {failed}");

        // Stop: the stream the video played ends (the camera and its light go off), not a copy of it.
        browser.js("window.playedStream = document.querySelector('video').srcObject;").await?;
        browser.click("#stop").await?;
        browser.wait_state(&["ready"], Duration::from_secs(10)).await?;
        let tracks = browser
            .js("return window.playedStream ? window.playedStream.getTracks().map(t => t.readyState) : null;")
            .await?;
        ensure!(
            tracks.as_array().is_some_and(|t| !t.is_empty() && t.iter().all(|s| s == "ended")),
            "the camera's tracks after stop: {tracks}"
        );
        Ok(())
    })
    .await
}

/// A page in a Chromium without colour fonts (as on CI), where text emoji show as plain glyphs or empty boxes: the
/// panel, the live overlay, the snapshot and the photo all show the emoji pictures, compiled into the page.
#[tokio::test(flavor = "multi_thread")]
async fn the_emoji_are_pictures_on_every_screen_even_without_an_emoji_font() -> Result<()> {
    let scratch = Scratch::new("pictures");
    let (mut options, downloads) = camera_and_downloads(&scratch)?;
    options.env = vec![without_colour_fonts(&scratch)?];
    let (photo, expected) = photo_of(&scratch, &val_faces("happy")[0], (200, 90, 240))?;
    on_site(options, async |browser, server| {
        open_site(browser, server).await?;
        // This Chromium draws a text emoji in the page's emoji fonts without colour: what the pictures replace.
        let text_colours = browser
            .js("const c = document.createElement('canvas'); c.width = c.height = 160; const x = c.getContext('2d'); \
                 x.font = \"128px 'Noto Color Emoji', 'Apple Color Emoji', 'Segoe UI Emoji', system-ui, sans-serif\"; \
                 x.textBaseline = 'top'; x.fillText('😄', 0, 0); const d = x.getImageData(0, 0, 160, 160).data; \
                 let n = 0; for (let i = 0; i < d.length; i += 4) \
                   if (d[i + 3] > 128 && Math.max(d[i], d[i + 1], d[i + 2]) - Math.min(d[i], d[i + 1], d[i + 2]) > 60) n++; \
                 return n;")
            .await?;
        ensure!(text_colours == 0, "this Chromium still draws colour emoji ({text_colours} colourful pixels)");

        // Before the camera: the "no face" picture, and one picture per emotion beside its bar.
        let (name, none) = browser.big_picture().await?;
        ensure!(
            name == artwork::NO_FACE && none == Some(picture_of(&name)),
            "the picture without a face: {none:?}"
        );
        let bars = browser.bar_pictures().await?;
        ensure!(
            bars.len() == LABELS_LEN && bars.iter().all(|b| b.data_url && b.natural_width == 64 && b.alt.is_empty()),
            "the bars' pictures (decorative: the label is written beside each): {bars:?}"
        );

        // The live view: the picture of the emotion shown, in the panel and over the face.
        start_camera(browser).await?;
        let ((name, picture), drawn) = browser
            .wait_for("a face with its picture over the video", Duration::from_secs(20), async || {
                let shown = browser.big_picture().await?;
                let drawn = browser.canvas_picture_pixels("canvas.overlay").await?;
                Ok((shown.0 != artwork::NO_FACE && drawn > PICTURE_PIXELS_MIN).then_some((shown, drawn)))
            })
            .await?;
        eprintln!("live: {name} shown as {picture:?}, {drawn} pixels of the pictures' colours on the overlay");
        screenshot(browser, "pictures-live").await;
        ensure!(picture == Some(picture_of(&name)), "the big picture for {name}: {picture:?}");
        // No text emoji left anywhere on the page (headings, buttons, messages): each would be an empty box here.
        let stray = browser
            .js("return [...document.body.innerText.matchAll(/\\p{Extended_Pictographic}/gu)].map(m => m[0]).join(' ');")
            .await?;
        ensure!(stray.as_str() == Some(""), "text emoji on the page, shown as boxes without a font: {stray}");

        // The snapshot: the frame with the face's picture drawn in (the grey frame itself has none of its colours).
        browser.click("#snapshot").await?;
        let snapshot = snapshot_file(browser, &downloads).await?;
        let in_snapshot = picture_pixels(&snapshot);
        ensure!(in_snapshot > PICTURE_PIXELS_MIN, "no emoji picture in the snapshot ({in_snapshot} pixels)");

        // A photo: its picture in the panel and on the photo (check_photo).
        browser.choose_photo(&photo).await?;
        let shown = check_photo(browser, expected).await?;
        eprintln!("snapshot: {in_snapshot} pixels of the pictures' colours; photo: {}", shown.picture_pixels);
        Ok(())
    })
    .await
}

/// The fake camera runs for 5 minutes (`$EMOJI_MIRROR_SOAK_SECONDS`): the JS heap and both wasm memories (page and
/// worker) must not grow more than 10% over their value after the first minute. A fall is printed, not failed: the
/// small JS heap shrinks as V8 settles.
#[tokio::test(flavor = "multi_thread")]
async fn memory_stays_flat_with_the_camera_on() -> Result<()> {
    let seconds: u64 = std::env::var("EMOJI_MIRROR_SOAK_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(300);
    let scratch = Scratch::new("soak");
    let options = BrowserOptions {
        // A garbage collection before each reading makes the JS heap comparable.
        extra_args: vec!["--js-flags=--expose-gc".into()],
        ..one_face_camera(&scratch)?
    };
    on_site(options, async |browser, server| {
        open_site(browser, server).await?;
        start_camera(browser).await?;
        let started = Instant::now();
        let reading = || async {
            browser.js("if (window.gc) { window.gc(); }").await?;
            tokio::time::sleep(Duration::from_millis(300)).await;
            stats(browser).await
        };
        tokio::time::sleep(Duration::from_secs(60)).await;
        let first = reading().await?;
        while started.elapsed() < Duration::from_secs(seconds) {
            tokio::time::sleep(Duration::from_secs(10)).await;
        }
        let last = reading().await?;
        println!("after 1 min: {first}\nafter {seconds} s: {last}");
        for key in ["js_heap", "wasm_page", "wasm_worker"] {
            let (a, b) = (
                first[key].as_f64().unwrap_or(f64::NAN),
                last[key].as_f64().unwrap_or(f64::NAN),
            );
            ensure!(
                a > 0.0 && b.is_finite(),
                "{key} was not reported ({a}, {b})"
            );
            // A leak grows; the JS heap of ~1.5 MB also shrinks by a few hundred kB as V8 settles (seen: -19%),
            // which is not one, so only growth is held to 10%.
            println!("{key}: {a} -> {b} ({:+.1}%)", (b - a) / a * 100.0);
            ensure!(b <= 1.10 * a, "{key} grew from {a} to {b} (more than 10%)");
        }
        ensure!(
            last["fps"].as_f64().unwrap_or(0.0) > 0.0
                && last["frames"].as_u64() > first["frames"].as_u64(),
            "still analysing frames at the end"
        );
        Ok(())
    })
    .await
}
