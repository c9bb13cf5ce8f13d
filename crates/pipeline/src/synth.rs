//! Synthetic frames for tests, benchmarks and the crop measurement: a dataset face (a tight 48x48
//! grey crop) scaled up and pasted into a larger frame, so the true face square is known exactly.
//! [`camera_frame`] varies what a webcam varies ([`Scene`]: face size, place and tilt, background,
//! tint, exposure, blur, grain, JPEG quality), deterministically from a seed, for the full-path
//! benchmark (`emoji-mirror evaluate --camera`).

use image::codecs::jpeg::JpegEncoder;
use image::{imageops, GrayImage, Rgb, RgbImage};
use serde::{Deserialize, Serialize};

use crate::decode::{decode_image, DecodeLimits};
use crate::error::{PipelineError, Result};
use crate::geometry::{fit_within, BoxF};

/// A `width` x `height` frame with a soft, deterministic background (a diagonal gradient with
/// mild texture), not a flat colour that would make detection trivially easy.
pub fn background(width: u32, height: u32, seed: u32) -> RgbImage {
    RgbImage::from_fn(width, height, |x, y| {
        let h = (x.wrapping_mul(73_856_093)
            ^ y.wrapping_mul(19_349_663)
            ^ seed.wrapping_mul(83_492_791))
            % 23;
        let base = 60 + (x * 90 / width.max(1)) + (y * 60 / height.max(1));
        let v = (base + h) as u8;
        Rgb([v, v.saturating_add(8), v.saturating_sub(6)])
    })
}

/// A [`background`] frame of `width` x `height` (texture from `seed`) with `face` pasted into it
/// as [`paste_face`] does: the frame and the pasted square.
pub fn frame_with_face(
    face: &GrayImage,
    width: u32,
    height: u32,
    x: i64,
    y: i64,
    side: u32,
    seed: u32,
) -> (RgbImage, BoxF) {
    let mut frame = background(width, height, seed);
    let square = paste_face(&mut frame, face, x, y, side);
    (frame, square)
}

/// Pastes `face` scaled to `side` x `side` (Catmull-Rom) with its top-left corner at (`x`, `y`)
/// and returns the pasted square in frame pixels (clipped parts are simply not drawn).
pub fn paste_face(frame: &mut RgbImage, face: &GrayImage, x: i64, y: i64, side: u32) -> BoxF {
    let scaled = imageops::resize(face, side, side, imageops::FilterType::CatmullRom);
    let rgb = RgbImage::from_fn(side, side, |i, j| {
        let v = scaled.get_pixel(i, j)[0];
        Rgb([v, v, v])
    });
    imageops::overlay(frame, &rgb, x, y);
    BoxF {
        x: x as f32,
        y: y as f32,
        w: side as f32,
        h: side as f32,
    }
}

/// A `width` x `height` frame of deterministic noise from `seed`: every pixel independent, so that a resize or a
/// conversion that mixes up rows, columns or channels gives other bytes (the resize's tests, natively and in wasm).
pub fn noise(width: u32, height: u32, seed: u64) -> RgbImage {
    let mut rng = Rng::new(seed);
    RgbImage::from_fn(width, height, |_, _| {
        let bits = rng.next_u64();
        Rgb([bits as u8, (bits >> 8) as u8, (bits >> 16) as u8])
    })
}

/// A small deterministic random source (SplitMix64): the same seed gives the same frames on every
/// machine, without a dependency.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `lo..hi`.
    pub fn uniform(&mut self, lo: f32, hi: f32) -> f32 {
        let unit = (self.next_u64() >> 40) as f32 / (1u64 << 24) as f32;
        lo + (hi - lo) * unit
    }

    /// Uniform integer in `lo..=hi`.
    pub fn range(&mut self, lo: i64, hi: i64) -> i64 {
        if hi <= lo {
            return lo;
        }
        lo + (self.next_u64() % (hi - lo + 1) as u64) as i64
    }
}

/// What is behind the face in a [`Scene`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum Background {
    /// One colour.
    Flat([u8; 3]),
    /// A gradient between two colours, at an angle (radians).
    Colour([u8; 3], [u8; 3], f32),
    /// Stripes, blobs and grain in two colours (a room, a shelf, a patterned wall).
    Textured([u8; 3], [u8; 3], u32),
}

/// One synthetic camera frame around a dataset face: what a webcam varies, drawn from a seed by
/// [`Scene::random`] and rendered by [`camera_frame`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Scene {
    pub width: u32,
    pub height: u32,
    /// Side of the pasted face square (the dataset crop, scaled), pixels.
    pub side: u32,
    /// Top-left corner of the (unrotated) face square.
    pub x: i64,
    pub y: i64,
    /// Rotation of the face about its centre, degrees (positive: clockwise on screen).
    pub tilt_deg: f32,
    pub background: Background,
    /// Skin tint multiplied into the grey face (r, g, b), 0..1.
    pub tint: [f32; 3],
    /// Exposure: v' = (v - 128)·contrast + 128 + brightness, on the whole frame.
    pub brightness: f32,
    pub contrast: f32,
    /// Gaussian blur of the whole frame (sigma, pixels; 0 = none).
    pub blur: f32,
    /// Sensor grain (standard deviation, grey levels).
    pub noise: f32,
    /// JPEG quality the frame goes through (1..=100).
    pub jpeg_quality: u8,
}

/// The full-path benchmark's frames (`emoji-mirror evaluate --camera`, and the browser's in
/// `tests/browser_fullpath.rs`): width, height, and the face square's smallest and largest side.
pub const BENCHMARK_FRAME: (u32, u32, u32, u32) = (640, 480, 60, 300);

/// The full-path benchmark's face-size buckets (square side in the frame, pixels, from..to; the last
/// includes 300), as both benchmarks report them.
pub const BENCHMARK_SIZE_BUCKETS: [(u32, u32); 5] =
    [(60, 80), (80, 120), (120, 180), (180, 240), (240, 301)];

/// The scene of the `index`-th face of a full-path benchmark run with `seed`: the same seed and
/// index give the same frame wherever the benchmark runs.
pub fn benchmark_scene(seed: u64, index: usize) -> Scene {
    let (w, h, min_side, max_side) = BENCHMARK_FRAME;
    let frame_seed = seed
        .wrapping_mul(0x9E37_79B9_7F4A_7C15)
        .wrapping_add(index as u64);
    Scene::random(frame_seed, w, h, min_side, max_side)
}

impl Scene {
    /// A `width` x `height` frame with a face square of `min_side..=max_side` pixels (log-uniform,
    /// so small faces are as common as large ones per octave), anywhere inside the frame, tilted
    /// by up to ±10°, on a flat, colour-gradient or textured background, with exposure, blur, grain
    /// and JPEG quality drawn from `seed`.
    pub fn random(seed: u64, width: u32, height: u32, min_side: u32, max_side: u32) -> Scene {
        let mut r = Rng::new(seed);
        let max_side = max_side.min(width).min(height).max(1);
        let min_side = min_side.clamp(1, max_side);
        let side = (r.uniform((min_side as f32).ln(), (max_side as f32 + 1.0).ln()))
            .exp()
            .floor()
            .clamp(min_side as f32, max_side as f32) as u32;
        let x = r.range(0, i64::from(width - side));
        let y = r.range(0, i64::from(height - side));
        let colour = |r: &mut Rng| [0; 3].map(|_: u8| r.range(20, 235) as u8);
        let background = match r.range(0, 2) {
            0 => Background::Flat(colour(&mut r)),
            1 => {
                let (a, b) = (colour(&mut r), colour(&mut r));
                Background::Colour(a, b, r.uniform(0.0, std::f32::consts::TAU))
            }
            _ => {
                let (a, b) = (colour(&mut r), colour(&mut r));
                Background::Textured(a, b, r.next_u64() as u32)
            }
        };
        const TINTS: [[f32; 3]; 4] = [
            [1.0, 1.0, 1.0],
            [1.0, 0.86, 0.74],
            [1.0, 0.8, 0.66],
            [0.92, 0.78, 0.7],
        ];
        let tint = TINTS[r.range(0, TINTS.len() as i64 - 1) as usize];
        let blur = if r.uniform(0.0, 1.0) < 0.5 {
            r.uniform(0.4, 1.6)
        } else {
            0.0
        };
        Scene {
            width,
            height,
            side,
            x,
            y,
            tilt_deg: r.uniform(-10.0, 10.0),
            background,
            tint,
            brightness: r.uniform(-40.0, 40.0),
            contrast: r.uniform(0.6, 1.25),
            blur,
            noise: r.uniform(0.0, 5.0),
            jpeg_quality: r.range(40, 95) as u8,
        }
    }

    /// The pasted face square in frame pixels (before the tilt).
    pub fn face_square(&self) -> BoxF {
        BoxF {
            x: self.x as f32,
            y: self.y as f32,
            w: self.side as f32,
            h: self.side as f32,
        }
    }
}

fn mix(a: [u8; 3], b: [u8; 3], t: f32) -> Rgb<u8> {
    let t = t.clamp(0.0, 1.0);
    Rgb([0, 1, 2].map(|c| (f32::from(a[c]) * (1.0 - t) + f32::from(b[c]) * t).round() as u8))
}

fn hash(x: u32, y: u32, seed: u32) -> u32 {
    let mut h = x.wrapping_mul(0x27D4_EB2D) ^ y.wrapping_mul(0x1656_67B1) ^ seed;
    h ^= h >> 15;
    h = h.wrapping_mul(0x85EB_CA6B);
    h ^ (h >> 13)
}

/// The background of a [`Scene`], without the face.
pub fn scene_background(width: u32, height: u32, bg: &Background) -> RgbImage {
    match *bg {
        Background::Flat(c) => RgbImage::from_pixel(width, height, Rgb(c)),
        Background::Colour(a, b, angle) => {
            let (s, c) = angle.sin_cos();
            let reach = (width as f32 * c.abs() + height as f32 * s.abs()).max(1.0);
            RgbImage::from_fn(width, height, |x, y| {
                let d = (x as f32 - width as f32 / 2.0) * c + (y as f32 - height as f32 / 2.0) * s;
                mix(a, b, d / reach + 0.5)
            })
        }
        Background::Textured(a, b, seed) => {
            let mut r = Rng::new(u64::from(seed));
            // A few slanted stripe patterns and soft blobs, plus per-pixel grain.
            let waves: Vec<(f32, f32, f32)> = (0..3)
                .map(|_| {
                    let angle = r.uniform(0.0, std::f32::consts::PI);
                    let period = r.uniform(6.0, 60.0);
                    (angle, std::f32::consts::TAU / period, r.uniform(0.0, 6.3))
                })
                .collect();
            RgbImage::from_fn(width, height, |x, y| {
                let (xf, yf) = (x as f32, y as f32);
                let mut v = 0.0;
                for &(angle, freq, phase) in &waves {
                    let (s, c) = angle.sin_cos();
                    v += ((xf * c + yf * s) * freq + phase).sin();
                }
                let grain = (hash(x, y, seed) % 64) as f32 / 64.0 - 0.5;
                mix(a, b, 0.5 + v / 6.0 + 0.3 * grain)
            })
        }
    }
}

/// Renders `scene` around `face` (a grey dataset crop): background, the face scaled, tinted and
/// tilted, then exposure, blur, grain, and a JPEG round trip through [`decode_image`]. Returns the
/// decoded frame and the pasted face square ([`Scene::face_square`]).
pub fn camera_frame(face: &GrayImage, scene: &Scene) -> Result<(RgbImage, BoxF)> {
    let mut frame = scene_background(scene.width, scene.height, &scene.background);
    let side = scene.side.max(1);
    let scaled = imageops::resize(face, side, side, imageops::FilterType::CatmullRom);
    let half = side as f32 / 2.0;
    let (cx, cy) = (scene.x as f32 + half, scene.y as f32 + half);
    let (sin, cos) = scene.tilt_deg.to_radians().sin_cos();
    let reach = (half * std::f32::consts::SQRT_2).ceil() as i64 + 1;
    let (fw, fh) = (i64::from(scene.width), i64::from(scene.height));
    for py in (cy as i64 - reach).max(0)..(cy as i64 + reach).min(fh) {
        for px in (cx as i64 - reach).max(0)..(cx as i64 + reach).min(fw) {
            let (dx, dy) = (px as f32 + 0.5 - cx, py as f32 + 0.5 - cy);
            // Frame → face: undo the tilt.
            let u = dx * cos + dy * sin + half;
            let v = -dx * sin + dy * cos + half;
            if u < 0.0 || v < 0.0 || u >= side as f32 || v >= side as f32 {
                continue;
            }
            let g = bilinear_grey(&scaled, u, v);
            let p = Rgb(scene.tint.map(|t| (g * t).round().clamp(0.0, 255.0) as u8));
            frame.put_pixel(px as u32, py as u32, p);
        }
    }
    let mut grain = Rng::new(u64::from(side) ^ (scene.x as u64) << 20 ^ (scene.y as u64) << 40);
    for p in frame.pixels_mut() {
        let n = scene.noise * (grain.uniform(-1.0, 1.0) + grain.uniform(-1.0, 1.0)) * 1.22;
        for c in p.0.iter_mut() {
            let v = (f32::from(*c) - 128.0) * scene.contrast + 128.0 + scene.brightness + n;
            *c = v.round().clamp(0.0, 255.0) as u8;
        }
    }
    if scene.blur > 0.0 {
        frame = imageops::blur(&frame, scene.blur);
    }
    let mut jpeg = Vec::new();
    JpegEncoder::new_with_quality(&mut jpeg, scene.jpeg_quality.clamp(1, 100))
        .encode_image(&frame)
        .map_err(|e| PipelineError::Encode(format!("a synthetic frame as JPEG: {e}")))?;
    let frame = decode_image(&jpeg, &DecodeLimits::default())?;
    Ok((frame, scene.face_square()))
}

/// The longer side of the live frames the page hands its worker (the site's `camera::LIVE_MAX_SIDE`, tested equal:
/// the page does not link the pipeline).
pub const LIVE_FRAME_MAX_SIDE: u32 = 320;

/// A camera frame as the page hands it to its worker: scaled down to [`LIVE_FRAME_MAX_SIDE`] on its longer side
/// with the page's size rule (the site's `draw::fit_within`, tested alike), a triangle filter standing in for the
/// browser canvas's.
pub fn as_live_frame(frame: &RgbImage) -> RgbImage {
    let (w, h) = frame.dimensions();
    let (sw, sh) = fit_within(w, h, LIVE_FRAME_MAX_SIDE);
    imageops::resize(frame, sw, sh, imageops::FilterType::Triangle)
}

/// Distinct frames of a face held in front of a camera ([`held_scene`]); they repeat after this many (1 s at 30 fps).
pub const HELD_VARIANTS: u32 = 30;

/// The `k`-th frame's scene of a face held still in `scene`: what changes from one camera frame to the next when
/// nothing moves on purpose — the place by ±2 px on a circle and the exposure by ±3 grey levels, cycling every
/// [`HELD_VARIANTS`] frames (the grain and JPEG noise of each rendering come on top).
pub fn held_scene(scene: &Scene, k: u32) -> Scene {
    let phase = (k % HELD_VARIANTS) as f32 / HELD_VARIANTS as f32 * std::f32::consts::TAU;
    Scene {
        x: scene.x + (2.0 * phase.sin()).round() as i64,
        y: scene.y + (2.0 * phase.cos()).round() as i64,
        brightness: scene.brightness + 3.0 * (2.0 * phase).sin(),
        ..*scene
    }
}

/// How the labelled benchmarks (`emoji-mirror live`, the browser's labelled faces) pick their faces: `per_class`
/// items spread evenly over each class's list (the lists sorted by the caller), then interleaved class by class —
/// every class's first, then every class's second… — so that any prefix is balanced. Each with its class index; a
/// class with fewer items gives all it has.
pub fn evenly_spaced<T: Clone>(by_class: &[Vec<T>], per_class: usize) -> Vec<(usize, T)> {
    let chosen: Vec<Vec<&T>> = by_class
        .iter()
        .map(|items| {
            let n = per_class.min(items.len());
            let step = items.len() as f64 / n.max(1) as f64;
            (0..n).map(|k| &items[(k as f64 * step) as usize]).collect()
        })
        .collect();
    (0..per_class)
        .flat_map(|k| {
            chosen
                .iter()
                .enumerate()
                .filter_map(move |(class, items)| items.get(k).map(|item| (class, (*item).clone())))
        })
        .collect()
}

/// Bilinear sample of a grey image at (`x`, `y`) (pixel centres at +0.5), edges repeated.
fn bilinear_grey(img: &GrayImage, x: f32, y: f32) -> f32 {
    let (w, h) = (img.width() as i64, img.height() as i64);
    let at = |i: i64, j: i64| {
        f32::from(img.get_pixel(i.clamp(0, w - 1) as u32, j.clamp(0, h - 1) as u32)[0])
    };
    let (fx, fy) = (x - 0.5, y - 0.5);
    let (ix, iy) = (fx.floor(), fy.floor());
    let (tx, ty) = (fx - ix, fy - iy);
    let (ix, iy) = (ix as i64, iy as i64);
    let top = at(ix, iy) * (1.0 - tx) + at(ix + 1, iy) * tx;
    let bottom = at(ix, iy + 1) * (1.0 - tx) + at(ix + 1, iy + 1) * tx;
    top * (1.0 - ty) + bottom * ty
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_seed_gives_the_same_scene_inside_its_frame() {
        for seed in 0..200 {
            let s = Scene::random(seed, 640, 480, 60, 300);
            assert_eq!(s, Scene::random(seed, 640, 480, 60, 300));
            assert!((60..=300).contains(&s.side), "{s:?}");
            assert!(s.x >= 0 && s.x + i64::from(s.side) <= 640, "{s:?}");
            assert!(s.y >= 0 && s.y + i64::from(s.side) <= 480, "{s:?}");
            assert!(s.tilt_deg.abs() <= 10.0 && (40..=95).contains(&s.jpeg_quality));
        }
        assert_ne!(
            Scene::random(1, 640, 480, 60, 300),
            Scene::random(2, 640, 480, 60, 300)
        );
    }

    #[test]
    fn faces_are_picked_evenly_and_interleaved_by_class() {
        let by_class = vec![(0..10).collect::<Vec<u32>>(), vec![100, 101], vec![]];
        assert_eq!(
            evenly_spaced(&by_class, 3),
            [(0, 0), (1, 100), (0, 3), (1, 101), (0, 6)]
        );
        assert!(evenly_spaced(&by_class, 0).is_empty());
    }

    #[test]
    fn the_face_is_drawn_where_the_scene_puts_it() {
        // A white face on a flat black background, no tilt, exposure or grain: the square is white.
        let face = GrayImage::from_pixel(48, 48, image::Luma([255]));
        let scene = Scene {
            width: 200,
            height: 100,
            side: 40,
            x: 120,
            y: 30,
            tilt_deg: 0.0,
            background: Background::Flat([0, 0, 0]),
            tint: [1.0, 1.0, 1.0],
            brightness: 0.0,
            contrast: 1.0,
            blur: 0.0,
            noise: 0.0,
            jpeg_quality: 95,
        };
        let (frame, square) = camera_frame(&face, &scene).expect("renders");
        assert_eq!(frame.dimensions(), (200, 100));
        assert_eq!(
            (square.x, square.y, square.w, square.h),
            (120.0, 30.0, 40.0, 40.0)
        );
        assert!(frame.get_pixel(140, 50)[0] > 240);
        assert!(frame.get_pixel(60, 50)[0] < 15);
        assert!(frame.get_pixel(140, 20)[0] < 15);
    }
}
