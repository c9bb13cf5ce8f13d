//! The browser benchmark, `#[ignore]`d and run by scripts/bench-browser.sh: it records (never asserts) frames
//! analysed per second with a 30 fps fake camera and one face, the time from the camera's start to the first emoji,
//! milliseconds per stage, model load time and the gzip size of dist/, into `bench/browser.json` (or
//! `$EMOJI_MIRROR_BENCH_OUT`). Frames and stages are measured twice in the same page: at full speed and with the
//! CPU throttled 4x (Chromium's `Emulation.setCPUThrottlingRate`, DevTools' stand-in for a mid-range phone).
//! The 5-minute memory soak is a test (tests/browser.rs).
//!
//!   cargo test -p emoji-mirror-site --release --test browser_bench -- --ignored --test-threads=1 --nocapture
#![cfg(not(target_arch = "wasm32"))]

mod common;

use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use common::*;
use serde_json::{json, Value};

/// CPU slowdowns measured, 1 = none.
const THROTTLING: [f64; 2] = [1.0, 4.0];

/// Throttles the page's CPU `rate` times (1 = full speed).
async fn throttle(browser: &Browser, rate: f64) -> Result<()> {
    browser
        .cdp("Emulation.setCPUThrottlingRate", json!({ "rate": rate }))
        .await
        .with_context(|| format!("throttling the CPU {rate}x"))?;
    Ok(())
}

/// The main-thread kinds of time recorded: (name in the results, DevTools' metric).
const MAIN_THREAD: [(&str, &str); 4] = [
    ("task", "TaskDuration"),
    ("script", "ScriptDuration"),
    ("style", "RecalcStyleDuration"),
    ("layout", "LayoutDuration"),
];

/// The page's main-thread time so far, in ms, by kind (DevTools' `Performance.getMetrics`: every task, and within
/// them script, style recalculation and layout): sampled before and after a run, they say what the page itself
/// spends per analysed frame beside the worker.
async fn main_thread_ms(browser: &Browser) -> Result<Value> {
    let mut ms = serde_json::Map::new();
    for (kind, name) in MAIN_THREAD {
        ms.insert(
            kind.to_string(),
            json!(browser.performance_metric(name).await? * 1000.0),
        );
    }
    Ok(ms.into())
}

/// Main-thread ms per analysed frame between two [`main_thread_ms`] samples, by kind.
fn per_frame(before: &Value, after: &Value, frames: f64) -> Value {
    let mut out = serde_json::Map::new();
    for (kind, _) in MAIN_THREAD {
        let spent = after[kind].as_f64().unwrap_or(0.0) - before[kind].as_f64().unwrap_or(0.0);
        out.insert(
            format!("{kind}_ms_per_frame"),
            json!(spent / frames.max(1.0)),
        );
    }
    Value::Object(out)
}

/// How many new video frames per second the page's `<video>` presents (its own `requestVideoFrameCallback` loop,
/// counted for 3 s): the most frames the page could analyse at this throttling, whatever the page and worker do.
async fn video_frames_per_second(browser: &Browser) -> Result<f64> {
    let script = "const done = arguments[arguments.length - 1]; const v = document.querySelector('video'); \
                  let n = 0; const t0 = performance.now(); \
                  const tick = () => { n++; const t = performance.now() - t0; \
                                       if (t < 3000) v.requestVideoFrameCallback(tick); else done(n * 1000 / t); }; \
                  v.requestVideoFrameCallback(tick);";
    let v = browser
        .client
        .execute_async(script, vec![])
        .await
        .context("counting the video's frames")?;
    Ok(v.as_f64().unwrap_or(0.0))
}

/// The frames the page has analysed so far (its stats panel's count) and the frames its camera track has produced
/// (`MediaStreamTrack.stats.totalFrames`: every frame the source made, delivered or not; `None` where the browser
/// does not count them), read together. Their growth over a run says whether the page analyses every frame of the
/// camera.
async fn frame_counts(browser: &Browser) -> Result<(f64, Option<f64>)> {
    let v = browser
        .js("const s = document.querySelector('video').srcObject; \
             const t = s && s.getVideoTracks()[0]; \
             return [parseInt(document.querySelector('#stats').dataset.frames), \
                     t && t.stats ? t.stats.totalFrames : null];")
        .await
        .context("counting the frames analysed and the camera's")?;
    Ok((v[0].as_f64().unwrap_or(0.0), v[1].as_f64()))
}

/// [`video_frames_per_second`] of a fresh stream of the (fake) camera in a video element of its own, stopped after.
async fn idle_video_frames_per_second(browser: &Browser) -> Result<f64> {
    let script = "const done = arguments[arguments.length - 1]; \
                  navigator.mediaDevices.getUserMedia({ video: { width: 640, height: 480 } }).then(stream => { \
                    const v = document.createElement('video'); v.muted = true; v.playsInline = true; \
                    v.srcObject = stream; document.body.appendChild(v); v.play(); \
                    let n = -1, t0 = 0; \
                    const tick = () => { const now = performance.now(); if (n < 0) { t0 = now; } n++; \
                      if (now - t0 < 3000) v.requestVideoFrameCallback(tick); \
                      else { stream.getTracks().forEach(t => t.stop()); v.remove(); done(n * 1000 / (now - t0)); } }; \
                    v.requestVideoFrameCallback(tick); \
                  }).catch(e => done(-1));";
    let v = browser
        .client
        .execute_async(script, vec![])
        .await
        .context("counting the camera's frames with the page idle")?;
    Ok(v.as_f64().unwrap_or(0.0))
}

/// Per file: name, bytes, gzip bytes.
type Sizes = Vec<(String, u64, u64)>;

/// Total bytes and gzip (-9) bytes of the files in `dir`, and each file's.
fn gzip_size(dir: &Path) -> Result<(u64, u64, Sizes)> {
    let mut total = (0, 0);
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if !path.is_file() {
            continue;
        }
        let bytes = std::fs::read(&path)?;
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        gz.write_all(&bytes)?;
        let packed = gz.finish()?.len() as u64;
        total.0 += bytes.len() as u64;
        total.1 += packed;
        files.push((
            path.file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned(),
            bytes.len() as u64,
            packed,
        ));
    }
    files.sort_by_key(|f| std::cmp::Reverse(f.2));
    Ok((total.0, total.1, files))
}

/// The machine's load average over 1, 5 and 15 minutes (`/proc/loadavg`; empty where there is none): the figures
/// are only comparable on an equally busy machine.
fn load_average() -> Vec<f64> {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| {
            s.split_whitespace()
                .take(3)
                .filter_map(|v| v.parse().ok())
                .collect()
        })
        .unwrap_or_default()
}

fn mean(values: &[f64]) -> f64 {
    values.iter().sum::<f64>() / values.len().max(1) as f64
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "a benchmark (about a minute); run by scripts/bench-browser.sh"]
async fn benchmark() -> Result<()> {
    let scratch = Scratch::new("bench");
    let dist = dist_dir();
    on_site(one_face_camera(&scratch)?, async |browser, server| {
        let opened = Instant::now();
        open_site(browser, server).await?;
        let ready_s = opened.elapsed().as_secs_f64();
        // What the camera alone delivers at each throttling, with the page idle: a second stream of the fake camera
        // in a video element of its own, its frames counted while nothing is analysed.
        let mut idle_video_fps = Vec::new();
        for rate in THROTTLING {
            throttle(browser, rate).await?;
            idle_video_fps.push(json!({ "cpu_throttling": rate, "video_frames_per_second": idle_video_frames_per_second(browser).await? }));
        }
        throttle(browser, 1.0).await?;
        browser.cdp("Performance.enable", json!({})).await?;
        start_camera(browser).await?;
        let mut first = Value::Null; // the 1x samples' last: model load and first emoji
        let mut runs = Vec::new();
        for rate in THROTTLING {
            throttle(browser, rate).await?;
            // Warm-up, then 20 s of samples.
            tokio::time::sleep(Duration::from_secs(5)).await;
            let load_before = load_average();
            let main_before = main_thread_ms(browser).await?;
            let (frames_before, camera_before) = frame_counts(browser).await?;
            let mut samples = Vec::new();
            for _ in 0..20 {
                tokio::time::sleep(Duration::from_secs(1)).await;
                samples.push(stats(browser).await?);
            }
            let (frames_after, camera_after) = frame_counts(browser).await?;
            let main_after = main_thread_ms(browser).await?;
            let frames = frames_after - frames_before;
            let camera = camera_after.zip(camera_before).map(|(after, before)| after - before);
            let video_fps = video_frames_per_second(browser).await?;
            let field = |k: &str| samples.iter().filter_map(|s| s[k].as_f64()).collect::<Vec<_>>();
            runs.push(json!({
                "video_frames_per_second": video_fps,
                "cpu_throttling": rate,
                "load_average_before": load_before,
                "load_average_after": load_average(),
                "fps_analysed_mean": mean(&field("fps")),
                "fps_analysed_min": field("fps").iter().copied().fold(f64::INFINITY, f64::min),
                // The 20 s as a whole: frames analysed against the frames the camera made (the page's frame count is
                // refreshed every 100 ms, so each end may lag by up to three frames).
                "frames_analysed": frames,
                "camera_frames": camera,
                "analysed_share_of_camera_frames": camera.map(|c| frames / c.max(1.0)),
                "detect_ms_mean": mean(&field("detect_ms")),
                "crop_ms_mean": mean(&field("crop_ms")),
                "classify_ms_mean": mean(&field("classify_ms")),
                "worker_ms_mean": mean(&field("worker_ms")),
                "main_thread": per_frame(&main_before, &main_after, frames),
            }));
            if rate == 1.0 {
                first = samples.last().cloned().unwrap_or_default();
            }
        }
        throttle(browser, 1.0).await?;
        let (raw, gz, files) = gzip_size(&dist)?;
        let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0);
        let chromium = std::process::Command::new(std::env::var("CHROME_BIN").unwrap_or("/usr/bin/chromium".into()))
            .arg("--version")
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
            .unwrap_or_default();
        let results = json!({
            "what": "headless Chromium, 30 fps fake camera (y4m, 640x480), one face; frames scaled to 320 px for the worker; measured at full speed and with the CPU throttled 4x",
            "chromium": chromium,
            "cores": cores,
            "page_ready_s": ready_s,
            "model_load_ms": first["model_load_ms"],
            "first_emoji_ms_after_camera_start": first["first_emoji_ms"],
            "runs": runs,
            "camera_alone": idle_video_fps,
            "dist_bytes": raw,
            "dist_gzip_bytes": gz,
            "dist_files_gzip": files.iter().map(|(n, r, g)| json!({"file": n, "bytes": r, "gzip": g})).collect::<Vec<_>>(),
        });
        let out = std::env::var_os("EMOJI_MIRROR_BENCH_OUT")
            .map_or_else(|| repo_root().join("bench").join("browser.json"), std::path::PathBuf::from);
        if let Some(parent) = out.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(&out, serde_json::to_string_pretty(&results)? + "\n")
            .with_context(|| format!("writing {}", out.display()))?;
        println!("{}", serde_json::to_string_pretty(&results)?);
        Ok(())
    })
    .await
}

/// Where the page's main thread goes at 4x throttling: a 3-second CPU profile (DevTools' `Profiler`), self time
/// summed by function. Printed, not written: a tool for finding what to cut.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "a profile (about 30 s); run by hand"]
async fn main_thread_profile() -> Result<()> {
    let scratch = Scratch::new("profile");
    on_site(one_face_camera(&scratch)?, async |browser, server| {
        open_site(browser, server).await?;
        start_camera(browser).await?;
        throttle(browser, 4.0).await?;
        tokio::time::sleep(Duration::from_secs(3)).await;
        browser.cdp("Profiler.enable", json!({})).await?;
        browser
            .cdp("Profiler.setSamplingInterval", json!({"interval": 200}))
            .await?;
        browser.cdp("Profiler.start", json!({})).await?;
        tokio::time::sleep(Duration::from_secs(3)).await;
        let reply = browser.cdp("Profiler.stop", json!({})).await?;
        throttle(browser, 1.0).await?;
        let profile = &reply["profile"];
        let nodes = profile["nodes"].as_array().cloned().unwrap_or_default();
        let name_of: std::collections::HashMap<i64, String> = nodes
            .iter()
            .map(|n| {
                let f = &n["callFrame"];
                let url = f["url"].as_str().unwrap_or_default();
                let file = url.rsplit('/').next().unwrap_or_default();
                (
                    n["id"].as_i64().unwrap_or(0),
                    format!("{} ({file})", f["functionName"].as_str().unwrap_or("")),
                )
            })
            .collect();
        let samples = profile["samples"].as_array().cloned().unwrap_or_default();
        let deltas = profile["timeDeltas"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let mut by_name: std::collections::HashMap<String, f64> = Default::default();
        for (s, d) in samples
            .iter()
            .zip(deltas.iter().skip(1).chain(std::iter::once(&json!(0))))
        {
            let name = name_of
                .get(&s.as_i64().unwrap_or(0))
                .cloned()
                .unwrap_or_default();
            *by_name.entry(name).or_default() += d.as_f64().unwrap_or(0.0) / 1000.0;
        }
        let mut rows: Vec<_> = by_name.into_iter().collect();
        rows.sort_by(|a, b| b.1.total_cmp(&a.1));
        for (name, ms) in rows.iter().take(40) {
            println!("{ms:9.1} ms  {name}");
        }
        Ok(())
    })
    .await
}
