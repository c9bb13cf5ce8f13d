//! The one home of the site's test support (tests/browser.rs, tests/browser_bench.rs): a static server for `dist/`
//! under a sub-path, chromedriver + headless Chromium (Debian's `/usr/bin/chromium` and `/usr/bin/chromedriver`, or
//! `$CHROME_BIN` / `$CHROMEDRIVER`), scratch folders, fake-camera videos written at test time from val faces, the
//! frame as the page hands it to the worker, and helpers that read the page's test hooks and wait for its states.
//!
//! Needs `trunk build --release` first (dist/, or `$EMOJI_MIRROR_DIST`) and the FER-2013 data
//! (`$EMOJI_MIRROR_DATA`, default `../shared/data/fer2013` from the repo root). What the crates' tests share too (the
//! repository, the data, the models, scratch folders) comes from the workspace's `test_support`.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use emoji_mirror_site::camera::LIVE_MAX_SIDE;
use emoji_mirror_site::draw::fit_within;
use emoji_pipeline::synth::{background, paste_face};
use emoji_pipeline::{Analysis, BoxF, FaceResult, Pipeline};
use fantoccini::{Client, ClientBuilder, Locator};
use image::{GrayImage, RgbImage};
use serde_json::{json, Value};
use test_support::model_bytes;

pub use test_support::{load_grey, repo_root, val_faces};

/// The sub-path the site is served under, as on GitHub Pages (`/<repo>/`).
pub const SUB_PATH: &str = "/emoji-mirror/";
/// Frame size of the fake camera.
pub const WIDTH: u32 = 640;
pub const HEIGHT: u32 = 480;

/// One browser test at a time: each drives its own Chromium, and two would fight over two cores.
pub static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// The built site; fails with the command to run when it is missing.
pub fn dist_dir() -> PathBuf {
    let dist = std::env::var_os("EMOJI_MIRROR_DIST")
        .map_or_else(|| repo_root().join("dist"), PathBuf::from);
    assert!(
        dist.join("index.html").is_file() && dist.join("worker_bg.wasm").is_file(),
        "no built site in {} — run `trunk build --release` in the repo root first (or set EMOJI_MIRROR_DIST)",
        dist.display()
    );
    dist
}

/// A scratch folder for one test (`test_support::scratch`), removed when dropped.
pub struct Scratch(PathBuf);

impl Scratch {
    pub fn new(name: &str) -> Self {
        Self(test_support::scratch(name))
    }

    pub fn path(&self) -> &Path {
        &self.0
    }

    pub fn join(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The native pipeline with the model files the site serves (index.html copies them from models/).
pub fn native_pipeline() -> Pipeline {
    let detector = model_bytes("blazeface_short_range.nnef.tar");
    let emotion = model_bytes("emotion_int8.nnef.tar");
    Pipeline::from_bytes(&detector, &emotion).expect("the site's models load natively")
}

/// A 640x480 frame with the given faces (face, x, y, side) pasted on the pipeline's synthetic background.
pub fn compose(faces: &[(&GrayImage, i64, i64, u32)], seed: u32) -> (RgbImage, Vec<BoxF>) {
    let mut frame = background(WIDTH, HEIGHT, seed);
    let boxes = faces
        .iter()
        .map(|(face, x, y, side)| paste_face(&mut frame, face, *x, *y, *side))
        .collect();
    (frame, boxes)
}

/// The frame as the page hands it to the worker: scaled down to `camera::LIVE_MAX_SIDE` on its longer side, with the
/// page's own size rule (`draw::fit_within`).
pub fn as_the_page_sees(frame: &RgbImage) -> RgbImage {
    let (w, h) = frame.dimensions();
    let (sw, sh) = fit_within(w, h, LIVE_MAX_SIDE);
    image::imageops::resize(frame, sw, sh, image::imageops::FilterType::Triangle)
}

/// The colour the page draws face boxes in (`#ffd23f`, `draw::faces`), with room for anti-aliasing: red at least,
/// green within, blue at most. The synthetic background and the grey faces never come near it.
const BOX_RED_MIN: u8 = 225;
const BOX_GREEN: std::ops::RangeInclusive<u8> = 180..=240;
const BOX_BLUE_MAX: u8 = 110;

/// How many pixels of `image` are box-coloured.
pub fn box_pixels(image: &RgbImage) -> usize {
    image
        .pixels()
        .filter(|p| p[0] >= BOX_RED_MIN && BOX_GREEN.contains(&p[1]) && p[2] <= BOX_BLUE_MAX)
        .count()
}

/// The colours that make up the emoji pictures (`assets/emoji`): the three commonest opaque colours of each, with
/// none near the box colours, so that a canvas or a snapshot with a picture drawn on it has many pixels of them (the
/// flat areas of a picture keep their colour when it is scaled), and one with a text emoji in a font without colour,
/// a box or the grey test frames has none.
pub fn picture_palette() -> Vec<[u8; 3]> {
    use emoji_pipeline::artwork;
    let near = |a: [u8; 3], b: [u8; 3], d: u8| a.iter().zip(b).all(|(x, y)| x.abs_diff(y) <= d);
    let box_colours = [[255, 210, 63], [0, 0, 0]];
    let mut palette = Vec::new();
    for a in &artwork::ALL {
        let image = artwork::image(a.name).expect("every picture decodes");
        let mut counts = std::collections::HashMap::<[u8; 3], usize>::new();
        for p in image.pixels().filter(|p| p[3] == 255) {
            *counts.entry([p[0], p[1], p[2]]).or_default() += 1;
        }
        let mut commonest: Vec<_> = counts.into_iter().collect();
        commonest.sort_by(|x, y| y.1.cmp(&x.1).then(x.0.cmp(&y.0)));
        palette.extend(
            commonest
                .into_iter()
                .map(|(c, _)| c)
                .filter(|c| {
                    box_colours
                        .iter()
                        .all(|b| !near(*c, *b, 2 * PICTURE_TOLERANCE))
                })
                .take(3),
        );
    }
    palette
}

/// How far (per channel) a pixel may be from a colour of [`picture_palette`] and still count.
const PICTURE_TOLERANCE: u8 = 8;

/// How many pixels of `image` have a colour of the emoji pictures ([`picture_palette`]).
pub fn picture_pixels(image: &RgbImage) -> usize {
    let palette = picture_palette();
    image
        .pixels()
        .filter(|p| {
            palette.iter().any(|c| {
                c.iter()
                    .zip(p.0)
                    .all(|(a, b)| a.abs_diff(b) <= PICTURE_TOLERANCE)
            })
        })
        .count()
}

/// A JS function `(canvas) => count`: [`picture_pixels`] of a canvas in the page (its opaque pixels only).
pub fn js_picture_pixels() -> String {
    let palette = serde_json::to_string(&picture_palette()).unwrap_or_else(|_| "[]".into());
    format!(
        "((c) => {{ const p = {palette}, t = {PICTURE_TOLERANCE}; if (!c || !c.width || !c.height) return 0; \
           const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data; let n = 0; \
           for (let i = 0; i < d.length; i += 4) {{ \
             if (d[i + 3] >= 250 && p.some(q => Math.abs(d[i] - q[0]) <= t && Math.abs(d[i + 1] - q[1]) <= t \
                                               && Math.abs(d[i + 2] - q[2]) <= t)) n++; \
           }} \
           return n; }})"
    )
}

/// The label the native pipeline gives the largest face of `frame`, and how many faces it finds.
pub fn native_reading(pipeline: &Pipeline, frame: &RgbImage) -> (Option<usize>, usize) {
    let analysis = pipeline.analyze(frame).expect("native analysis");
    (
        largest_face(&analysis).map(|f| f.top()),
        analysis.faces.len(),
    )
}

/// The largest face of an analysis: the one the page shows as its main face (`Report::main_face`).
pub fn largest_face(analysis: &Analysis) -> Option<&FaceResult> {
    analysis.faces.iter().max_by(|a, b| {
        (a.detection.bbox.w * a.detection.bbox.h)
            .total_cmp(&(b.detection.bbox.w * b.detection.bbox.h))
    })
}

/// Writes frames as a YUV4MPEG2 4:2:0 file, the format Chromium's fake camera plays (looped). Chromium reads it as
/// limited-range BT.601, so that is what is written.
pub struct Y4mWriter {
    out: std::io::BufWriter<std::fs::File>,
    y: Vec<u8>,
    u: Vec<u8>,
    v: Vec<u8>,
}

impl Y4mWriter {
    pub fn create(path: &Path, fps: u32) -> Result<Self> {
        let file =
            std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?;
        let mut out = std::io::BufWriter::with_capacity(1 << 20, file);
        writeln!(
            out,
            "YUV4MPEG2 W{WIDTH} H{HEIGHT} F{fps}:1 Ip A1:1 C420jpeg"
        )?;
        Ok(Self {
            out,
            y: Vec::new(),
            u: Vec::new(),
            v: Vec::new(),
        })
    }

    pub fn frame(&mut self, img: &RgbImage, repeat: u32) -> Result<()> {
        assert_eq!(img.dimensions(), (WIDTH, HEIGHT));
        let (w, h) = (WIDTH as usize, HEIGHT as usize);
        self.y.clear();
        self.u.clear();
        self.v.clear();
        let rgb = |x: usize, y: usize| {
            let p = img.get_pixel(x as u32, y as u32).0;
            (f64::from(p[0]), f64::from(p[1]), f64::from(p[2]))
        };
        for yy in 0..h {
            for xx in 0..w {
                let (r, g, b) = rgb(xx, yy);
                self.y.push(
                    (16.0 + (65.481 * r + 128.553 * g + 24.966 * b) / 255.0)
                        .round()
                        .clamp(0.0, 255.0) as u8,
                );
            }
        }
        for yy in (0..h).step_by(2) {
            for xx in (0..w).step_by(2) {
                let mut acc = (0.0, 0.0, 0.0);
                for (dx, dy) in [(0, 0), (1, 0), (0, 1), (1, 1)] {
                    let (r, g, b) = rgb(xx + dx, yy + dy);
                    acc = (acc.0 + r / 4.0, acc.1 + g / 4.0, acc.2 + b / 4.0);
                }
                let (r, g, b) = acc;
                self.u.push(
                    (128.0 + (-37.797 * r - 74.203 * g + 112.0 * b) / 255.0)
                        .round()
                        .clamp(0.0, 255.0) as u8,
                );
                self.v.push(
                    (128.0 + (112.0 * r - 93.786 * g - 18.214 * b) / 255.0)
                        .round()
                        .clamp(0.0, 255.0) as u8,
                );
            }
        }
        for _ in 0..repeat {
            self.out.write_all(b"FRAME\n")?;
            self.out.write_all(&self.y)?;
            self.out.write_all(&self.u)?;
            self.out.write_all(&self.v)?;
        }
        Ok(())
    }

    pub fn finish(mut self) -> Result<()> {
        self.out.flush()?;
        Ok(())
    }
}

/// A tiny HTTP/1.1 server for a folder, mounted at [`SUB_PATH`]. Every request is logged with its time.
pub struct StaticServer {
    pub port: u16,
    pub log: Arc<Mutex<Vec<(Instant, String)>>>,
}

fn content_type(path: &Path) -> &'static str {
    match path.extension().and_then(|e| e.to_str()).unwrap_or("") {
        "html" => "text/html; charset=utf-8",
        "js" => "text/javascript",
        "css" => "text/css",
        "wasm" => "application/wasm",
        "json" | "webmanifest" => "application/manifest+json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        _ => "application/octet-stream",
    }
}

impl StaticServer {
    pub fn start(root: PathBuf) -> Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let port = listener.local_addr()?.port();
        let log = Arc::new(Mutex::new(Vec::new()));
        let server_log = log.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let root = root.clone();
                let log = server_log.clone();
                std::thread::spawn(move || {
                    let _ = serve(stream, &root, &log);
                });
            }
        });
        Ok(Self { port, log })
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}{SUB_PATH}", self.port)
    }

    /// The paths requested so far.
    pub fn requests(&self) -> Vec<String> {
        self.log
            .lock()
            .map(|l| l.iter().map(|(_, p)| p.clone()).collect())
            .unwrap_or_default()
    }
}

fn serve(stream: TcpStream, root: &Path, log: &Mutex<Vec<(Instant, String)>>) -> Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    loop {
        let mut request_line = String::new();
        if reader.read_line(&mut request_line)? == 0 {
            return Ok(());
        }
        let mut content_length = 0usize;
        loop {
            let mut header = String::new();
            if reader.read_line(&mut header)? == 0 || header == "\r\n" || header == "\n" {
                break;
            }
            if let Some(v) = header.to_ascii_lowercase().strip_prefix("content-length:") {
                content_length = v.trim().parse().unwrap_or(0);
            }
        }
        let mut body = vec![0; content_length];
        reader.read_exact(&mut body)?;
        let mut parts = request_line.split_whitespace();
        let (method, target) = (parts.next().unwrap_or(""), parts.next().unwrap_or("/"));
        let path = target.split(['?', '#']).next().unwrap_or("/").to_string();
        if let Ok(mut l) = log.lock() {
            l.push((Instant::now(), path.clone()));
        }
        let mut out = stream.try_clone()?;
        let file = path.strip_prefix(SUB_PATH).map(|rest| {
            let rest = if rest.is_empty() { "index.html" } else { rest };
            root.join(rest)
        });
        if path == SUB_PATH.trim_end_matches('/') {
            write!(out, "HTTP/1.1 301 Moved Permanently\r\nLocation: {SUB_PATH}\r\nContent-Length: 0\r\n\r\n")?;
            continue;
        }
        match file.filter(|f| !path.contains("..") && f.is_file()) {
            Some(file) if method == "GET" || method == "HEAD" => {
                let bytes = std::fs::read(&file)?;
                write!(
                    out,
                    "HTTP/1.1 200 OK\r\nContent-Type: {}\r\nContent-Length: {}\r\nCache-Control: no-cache\r\n\r\n",
                    content_type(&file),
                    bytes.len()
                )?;
                if method == "GET" {
                    out.write_all(&bytes)?;
                }
            }
            _ => write!(out, "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")?,
        }
        out.flush()?;
    }
}

/// How Chromium is started.
#[derive(Clone, Debug, Default)]
pub struct BrowserOptions {
    /// Grant the camera without a prompt (`--use-fake-ui-for-media-stream`); without it prompts are denied.
    pub allow_camera: bool,
    /// A fake camera device; `Some(file)` plays that y4m file, `Some("")` the built-in test pattern.
    pub fake_camera: Option<PathBuf>,
    /// More Chromium switches.
    pub extra_args: Vec<String>,
    /// Where downloads (snapshots, annotated photos) are saved.
    pub downloads: Option<PathBuf>,
    /// More environment for chromedriver and the Chromium it starts (e.g. [`without_colour_fonts`]).
    pub env: Vec<(String, String)>,
}

/// The environment of a Chromium without colour fonts, as on machines without `fonts-noto-color-emoji` (CI, most
/// headless servers): a fontconfig file in `scratch` that takes the system's fonts and rejects every colour font. Text
/// emoji then show as monochrome glyphs or empty boxes, whatever this machine has installed.
pub fn without_colour_fonts(scratch: &Scratch) -> Result<(String, String)> {
    let conf = scratch.join("fonts-without-colour.conf");
    std::fs::write(
        &conf,
        r#"<?xml version="1.0"?>
<!DOCTYPE fontconfig SYSTEM "urn:fontconfig:fonts.dtd">
<fontconfig>
  <include ignore_missing="yes">/etc/fonts/fonts.conf</include>
  <selectfont><rejectfont><pattern><patelt name="color"><bool>true</bool></patelt></pattern></rejectfont></selectfont>
</fontconfig>
"#,
    )?;
    Ok(("FONTCONFIG_FILE".into(), conf.display().to_string()))
}

/// A Chrome DevTools Protocol command sent through chromedriver (`goog/cdp/execute`).
#[derive(Debug)]
struct Cdp {
    cmd: &'static str,
    params: Value,
}

impl fantoccini::wd::WebDriverCompatibleCommand for Cdp {
    fn endpoint(
        &self,
        base: &url::Url,
        session: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base.join(&format!(
            "session/{}/goog/cdp/execute",
            session.unwrap_or_default()
        ))
    }

    fn method_and_body(&self, _url: &url::Url) -> (http::Method, Option<String>) {
        let body = json!({"cmd": self.cmd, "params": self.params});
        (http::Method::POST, Some(body.to_string()))
    }
}

/// chromedriver (killed on drop) and a WebDriver session.
pub struct Browser {
    pub client: Client,
    driver: Child,
}

fn free_port() -> Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

impl Browser {
    pub async fn launch(options: &BrowserOptions) -> Result<Self> {
        let chromedriver =
            std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "/usr/bin/chromedriver".into());
        let chrome = std::env::var("CHROME_BIN").unwrap_or_else(|_| "/usr/bin/chromium".into());
        let port = free_port()?;
        let mut driver = Command::new(&chromedriver)
            .arg(format!("--port={port}"))
            .envs(options.env.iter().map(|(k, v)| (k, v)))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .with_context(|| {
                format!("starting {chromedriver} (install chromium-driver or set CHROMEDRIVER)")
            })?;
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if Instant::now() > deadline {
                let _ = driver.kill();
                bail!("chromedriver did not listen on port {port}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let mut args = vec![
            "--headless=new".to_string(),
            "--no-sandbox".into(),
            "--disable-gpu".into(),
            "--disable-dev-shm-usage".into(),
            "--disable-background-networking".into(),
            "--disable-component-update".into(),
            "--disable-sync".into(),
            "--no-first-run".into(),
            "--no-default-browser-check".into(),
            "--enable-precise-memory-info".into(),
            "--autoplay-policy=no-user-gesture-required".into(),
            "--window-size=1280,900".into(),
        ];
        if options.allow_camera {
            args.push("--use-fake-ui-for-media-stream".into());
        } else {
            args.push("--deny-permission-prompts".into());
        }
        if let Some(file) = &options.fake_camera {
            args.push("--use-fake-device-for-media-stream".into());
            if !file.as_os_str().is_empty() {
                args.push(format!(
                    "--use-file-for-fake-video-capture={}",
                    file.display()
                ));
            }
        }
        args.extend(options.extra_args.iter().cloned());
        let mut chrome_options = json!({ "binary": chrome, "args": args });
        if let Some(dir) = &options.downloads {
            chrome_options["prefs"] = json!({
                "download.default_directory": dir,
                "download.prompt_for_download": false,
            });
        }
        let capabilities = json!({
            "browserName": "chrome",
            "goog:chromeOptions": chrome_options,
        });
        let capabilities = match capabilities {
            Value::Object(map) => map,
            _ => unreachable!("a JSON object literal"),
        };
        let client = ClientBuilder::native()
            .capabilities(capabilities)
            .connect(&format!("http://127.0.0.1:{port}"))
            .await;
        match client {
            Ok(client) => Ok(Self { client, driver }),
            Err(e) => {
                let _ = driver.kill();
                Err(e).context("starting a Chromium session")
            }
        }
    }

    /// Ends the session and chromedriver.
    pub async fn close(mut self) {
        let _ = self.client.clone().close().await;
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }

    /// Sends a DevTools command to the page and returns its reply.
    pub async fn cdp(&self, cmd: &'static str, params: Value) -> Result<Value> {
        self.client
            .issue_cmd(Cdp { cmd, params })
            .await
            .with_context(|| format!("DevTools' {cmd}"))
    }

    /// One of DevTools' `Performance.getMetrics` counters or times (seconds) since `Performance.enable`.
    pub async fn performance_metric(&self, name: &str) -> Result<f64> {
        let reply = self.cdp("Performance.getMetrics", json!({})).await?;
        reply["metrics"]
            .as_array()
            .and_then(|m| m.iter().find(|m| m["name"] == name))
            .and_then(|m| m["value"].as_f64())
            .with_context(|| format!("DevTools' Performance.getMetrics has no {name}: {reply}"))
    }

    pub async fn js(&self, script: &str) -> Result<Value> {
        self.client
            .execute(script, vec![])
            .await
            .with_context(|| format!("running {script}"))
    }

    pub async fn attr(&self, css: &str, name: &str) -> Result<Option<String>> {
        let element = self
            .client
            .find(Locator::Css(css))
            .await
            .with_context(|| format!("finding {css}"))?;
        Ok(element.attr(name).await?)
    }

    pub async fn click(&self, css: &str) -> Result<()> {
        self.client
            .find(Locator::Css(css))
            .await
            .with_context(|| format!("finding {css}"))?
            .click()
            .await?;
        Ok(())
    }

    /// Chooses `file` in the page's photo input, as a user does.
    pub async fn choose_photo(&self, file: &Path) -> Result<()> {
        self.client
            .find(Locator::Css("input[type=file]#photo"))
            .await
            .context("finding the photo input")?
            .send_keys(&file.display().to_string())
            .await?;
        Ok(())
    }

    /// Polls `probe` every 100 ms until it gives `Some`; fails after `timeout`, naming `what` was awaited.
    pub async fn wait_for<T>(
        &self,
        what: &str,
        timeout: Duration,
        mut probe: impl AsyncFnMut() -> Result<Option<T>>,
    ) -> Result<T> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(value) = probe().await? {
                return Ok(value);
            }
            if Instant::now() > deadline {
                bail!("waited {timeout:?} for {what}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits until `#app[data-state]` is one of `states`; returns it.
    pub async fn wait_state(&self, states: &[&str], timeout: Duration) -> Result<String> {
        let deadline = Instant::now() + timeout;
        let mut last = None;
        loop {
            let state = self.attr("#app", "data-state").await.ok().flatten();
            if let Some(s) = &state {
                if states.contains(&s.as_str()) {
                    return Ok(s.clone());
                }
            }
            last = state.or(last);
            if Instant::now() > deadline {
                let message = self
                    .attr(".status", "textContent")
                    .await
                    .ok()
                    .flatten()
                    .unwrap_or_default();
                bail!("#app[data-state] is {last:?} after {timeout:?}, wanted one of {states:?}; status: {message}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// What the page shows in photo view: `#app[data-view]`, `#emotion`'s hooks, the big emoji picture, and the
/// annotated photo canvas (`#photo-result`): its size and how many of its pixels are box-coloured or of the emoji
/// pictures.
#[derive(Clone, Debug, Default)]
pub struct PhotoResult {
    pub view: String,
    pub emotion: String,
    pub faces: usize,
    pub uncertain: bool,
    pub big_picture: Picture,
    pub width: u32,
    pub height: u32,
    pub box_pixels: usize,
    pub picture_pixels: usize,
}

/// An `<img>` of the page: its alt text, whether its `src` is a `data:` URL of a PNG (no request), and its width as
/// decoded (0 while not loaded, or broken).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Picture {
    pub alt: String,
    pub data_url: bool,
    pub natural_width: u32,
}

/// A JS function `(img) => ({ alt, data, w })` for [`Picture`]; `null` for no element.
const JS_PICTURE: &str = "((i) => i && { alt: i.alt, data: i.src.startsWith('data:image/png;base64,'), w: i.naturalWidth })";

impl Picture {
    fn from_js(v: &Value) -> Option<Self> {
        Some(Self {
            alt: v.get("alt")?.as_str()?.to_string(),
            data_url: v["data"].as_bool().unwrap_or(false),
            natural_width: v["w"].as_u64().unwrap_or(0) as u32,
        })
    }
}

impl Browser {
    /// The big emoji picture of `#emotion` (`None` if it is not an `<img>`), and, read at the same time from
    /// `#emotion`'s hooks, the name of the picture it should be: the label, "not-sure" or "no-face".
    pub async fn big_picture(&self) -> Result<(String, Option<Picture>)> {
        let v = self
            .js(&format!(
                "const e = document.querySelector('#emotion').dataset; \
                 return [e.emotion === 'none' ? 'no-face' : e.uncertain === 'true' ? 'not-sure' : e.emotion, \
                         {JS_PICTURE}(document.querySelector('#emotion .big-emoji img'))];"
            ))
            .await?;
        Ok((
            v[0].as_str().unwrap_or_default().to_string(),
            Picture::from_js(&v[1]),
        ))
    }

    /// The pictures of `#emotion`'s bars, in order.
    pub async fn bar_pictures(&self) -> Result<Vec<Picture>> {
        let v = self
            .js(&format!(
                "return [...document.querySelectorAll('#emotion .bar img')].map({JS_PICTURE});"
            ))
            .await?;
        Ok(v.as_array()
            .map(|a| a.iter().filter_map(Picture::from_js).collect())
            .unwrap_or_default())
    }

    /// [`picture_pixels`] of the canvas `css`.
    pub async fn canvas_picture_pixels(&self, css: &str) -> Result<usize> {
        let v = self
            .js(&format!(
                "return {}(document.querySelector({css:?}));",
                js_picture_pixels()
            ))
            .await?;
        Ok(v.as_u64().unwrap_or(0) as usize)
    }
}

impl Browser {
    pub async fn photo_result(&self) -> Result<PhotoResult> {
        let (r, g, b) = (BOX_RED_MIN, BOX_GREEN, BOX_BLUE_MAX);
        let (g0, g1) = (g.start(), g.end());
        let script = format!(
            "const c = document.querySelector('#photo-result'); \
             const e = document.querySelector('#emotion'); \
             let n = 0; \
             if (c.width && c.height) {{ \
               const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data; \
               for (let i = 0; i < d.length; i += 4) {{ \
                 if (d[i] >= {r} && d[i + 1] >= {g0} && d[i + 1] <= {g1} && d[i + 2] <= {b}) n++; \
               }} \
             }} \
             return {{ view: document.querySelector('#app').dataset.view, emotion: e.dataset.emotion, \
                      faces: parseInt(e.dataset.faces), uncertain: e.dataset.uncertain === 'true', \
                      big: {JS_PICTURE}(document.querySelector('#emotion .big-emoji img')), w: c.width, h: c.height, n, \
                      pictures: {}(c) }};",
            js_picture_pixels()
        );
        let v = self.js(&script).await?;
        let text = |k: &str| v[k].as_str().unwrap_or_default().to_string();
        let number = |k: &str| v[k].as_u64().unwrap_or(0);
        Ok(PhotoResult {
            view: text("view"),
            emotion: text("emotion"),
            faces: number("faces") as usize,
            uncertain: v["uncertain"].as_bool().unwrap_or(false),
            big_picture: Picture::from_js(&v["big"]).unwrap_or_default(),
            width: number("w") as u32,
            height: number("h") as u32,
            box_pixels: number("n") as usize,
            picture_pixels: number("pictures") as usize,
        })
    }
}

impl Browser {
    /// The `#emotion` hooks: (data-emotion, data-confidence, data-faces).
    pub async fn emotion(&self) -> Result<(String, f64, usize)> {
        let v = self
            .js("const e = document.querySelector('#emotion'); \
                 return e ? [e.dataset.emotion, e.dataset.confidence, e.dataset.faces] : null;")
            .await?;
        let get = |i: usize| v.get(i).and_then(Value::as_str).unwrap_or("").to_string();
        Ok((
            get(0),
            get(1).parse().unwrap_or(f64::NAN),
            get(2).parse().unwrap_or(0),
        ))
    }
}

/// Saves a screenshot as `$EMOJI_MIRROR_SCREENSHOTS/<name>.png` when that variable is set (for looking at the page).
pub async fn screenshot(browser: &Browser, name: &str) {
    let Some(dir) = std::env::var_os("EMOJI_MIRROR_SCREENSHOTS") else {
        return;
    };
    let dir = PathBuf::from(dir);
    match browser.client.screenshot().await {
        Ok(png) => {
            let _ = std::fs::create_dir_all(&dir);
            let _ = std::fs::write(dir.join(format!("{name}.png")), png);
        }
        Err(e) => eprintln!("screenshot {name}: {e}"),
    }
}

/// Runs `test` against the built site (served under [`SUB_PATH`]) in a fresh Chromium started with `options`, one
/// browser test at a time, and closes the browser whatever the outcome.
pub async fn on_site(
    options: BrowserOptions,
    test: impl AsyncFnOnce(&Browser, &StaticServer) -> Result<()>,
) -> Result<()> {
    let _serial = SERIAL.lock().await;
    let server = StaticServer::start(dist_dir())?;
    let browser = Browser::launch(&options).await?;
    let result = test(&browser, &server).await;
    browser.close().await;
    result
}

/// A 2-second, 30 fps loop of one happy val face (slightly moving so that frames differ): the benchmark's and the
/// memory soak's camera.
pub fn one_face_video(path: &Path) -> Result<()> {
    let face = load_grey(&val_faces("happy")[0]);
    let mut y4m = Y4mWriter::create(path, 30)?;
    for i in 0..60 {
        let dx = (i as i64 % 20) - 10;
        let (frame, _) = compose(&[(&face, 200 + dx, 100, 220)], 5);
        y4m.frame(&frame, 1)?;
    }
    y4m.finish()
}

/// A browser whose fake camera plays [`one_face_video`] (written into `scratch`): the benchmark's, the profile's
/// and the memory soak's.
pub fn one_face_camera(scratch: &Scratch) -> Result<BrowserOptions> {
    let video = scratch.join("one-face.y4m");
    one_face_video(&video)?;
    Ok(BrowserOptions {
        allow_camera: true,
        fake_camera: Some(video),
        ..Default::default()
    })
}

/// Presses "Start camera" and waits until the camera runs.
pub async fn start_camera(browser: &Browser) -> Result<()> {
    browser.click("#start").await?;
    browser
        .wait_state(&["running"], Duration::from_secs(20))
        .await
        .map(|_| ())
}

/// The stats panel's hooks (`#fps[data-fps]`, `#stats[data-*]`): frames per second, ms per stage, memory.
pub async fn stats(browser: &Browser) -> Result<Value> {
    browser
        .js("const s = document.querySelector('#stats').dataset; \
             return { fps: parseFloat(document.querySelector('#fps').dataset.fps), \
                      detect_ms: parseFloat(s.detectMs), crop_ms: parseFloat(s.cropMs), \
                      classify_ms: parseFloat(s.classifyMs), worker_ms: parseFloat(s.workerMs), \
                      model_load_ms: parseFloat(s.modelLoadMs), first_emoji_ms: parseFloat(s.firstEmojiMs), \
                      frames: parseInt(s.frames), js_heap: parseFloat(s.jsHeap), wasm_page: parseFloat(s.wasmPage), \
                      wasm_worker: parseFloat(s.wasmWorker) };")
        .await
}

/// Waits until the server has had no request for half a second (the page has finished loading).
pub async fn network_quiet(server: &StaticServer) -> Result<()> {
    let quiet = Duration::from_millis(500);
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let last = server
            .log
            .lock()
            .ok()
            .and_then(|l| l.last().map(|(t, _)| *t));
        if last.is_none_or(|t| t.elapsed() >= quiet) {
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!("the page kept loading files for 30 s");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Opens the site and waits for the models (`ready`).
pub async fn open_site(browser: &Browser, server: &StaticServer) -> Result<()> {
    browser.client.goto(&server.url()).await?;
    browser
        .wait_state(&["ready"], Duration::from_secs(90))
        .await
        .map(|_| ())
}
