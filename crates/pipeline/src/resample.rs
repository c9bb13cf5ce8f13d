//! The detector's input from a frame: a rectangle of an RGB image resized with the triangle (tent) filter.
//! It computes what `image::imageops::resize(.., FilterType::Triangle)` computes, in the same order (tested: the
//! same bytes), without its costs on a camera's path: no copy of the rectangle (a tile), the weights made once
//! per axis instead of once per output column, rows read contiguously, no per-pixel trait dispatch.

use image::RgbImage;

/// A rectangle of an image, in pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rect {
    pub x: u32,
    pub y: u32,
    pub width: u32,
    pub height: u32,
}

impl Rect {
    pub fn whole(img: &RgbImage) -> Self {
        Rect {
            x: 0,
            y: 0,
            width: img.width(),
            height: img.height(),
        }
    }

    /// This rectangle cut to the image, as `imageops::crop_imm` cuts it.
    pub fn within(self, img: &RgbImage) -> Self {
        let x = self.x.min(img.width());
        let y = self.y.min(img.height());
        Rect {
            x,
            y,
            width: self.width.min(img.width() - x),
            height: self.height.min(img.height() - y),
        }
    }
}

/// The input pixels one output pixel reads along an axis, and their normalised weights.
struct Taps {
    first: usize,
    weights: Vec<f32>,
}

/// image's triangle filter along one axis of `len` pixels resized to `new_len` (its `vertical_sample`).
fn triangle_taps(len: u32, new_len: u32) -> Vec<Taps> {
    let ratio = len as f32 / new_len as f32;
    let sratio = if ratio < 1.0 { 1.0 } else { ratio };
    let support = sratio; // the triangle's support is 1 input pixel, widened when shrinking
    (0..new_len)
        .map(|out| {
            let centre = (out as f32 + 0.5) * ratio;
            let left = ((centre - support).floor() as i64).clamp(0, i64::from(len) - 1);
            let right = ((centre + support).ceil() as i64).clamp(left + 1, i64::from(len));
            let centre = centre - 0.5;
            let mut weights: Vec<f32> = (left..right)
                .map(|i| {
                    let x = ((i as f32 - centre) / sratio).abs();
                    if x < 1.0 {
                        1.0 - x
                    } else {
                        0.0
                    }
                })
                .collect();
            let sum: f32 = weights.iter().sum();
            weights.iter_mut().for_each(|w| *w /= sum);
            Taps {
                first: left as usize,
                weights,
            }
        })
        .collect()
}

/// Resizes `rect` of `img` to `width` x `height` and hands each output pixel to `put(x, y, rgb)`. A rectangle
/// already of that size is passed through. An empty rectangle gives no pixels.
pub fn resize_triangle(
    img: &RgbImage,
    rect: Rect,
    width: u32,
    height: u32,
    mut put: impl FnMut(u32, u32, [u8; 3]),
) {
    let rect = rect.within(img);
    if rect.width == 0 || rect.height == 0 || width == 0 || height == 0 {
        return;
    }
    let stride = img.width() as usize * 3;
    let pixels = img.as_raw();
    let row = |y: usize| {
        &pixels[(rect.y as usize + y) * stride + rect.x as usize * 3..][..rect.width as usize * 3]
    };
    if (rect.width, rect.height) == (width, height) {
        for y in 0..height {
            for (x, p) in row(y as usize).chunks_exact(3).enumerate() {
                put(x as u32, y, [p[0], p[1], p[2]]);
            }
        }
        return;
    }
    // Vertical pass first, in f32, as image does: `height` rows of the rectangle's width.
    let columns = rect.width as usize * 3;
    // One float more than the rows hold: the horizontal pass reads a pixel's three as four.
    let mut tall = vec![0.0f32; height as usize * columns + 1];
    for (oy, taps) in triangle_taps(rect.height, height).iter().enumerate() {
        let line = &mut tall[oy * columns..(oy + 1) * columns];
        for (i, &w) in taps.weights.iter().enumerate() {
            add_scaled(line, row(taps.first + i), w);
        }
    }
    // Horizontal pass, rounded to bytes as image rounds.
    let across = triangle_taps(rect.width, width);
    for y in 0..height as usize {
        for (x, taps) in across.iter().enumerate() {
            let [r, g, b] =
                lanes::weighted_pixel(&tall, y * columns + taps.first * 3, &taps.weights);
            put(x as u32, y as u32, [byte(r), byte(g), byte(b)]);
        }
    }
}

/// [`resize_triangle`] into a new image.
pub fn resized(img: &RgbImage, rect: Rect, width: u32, height: u32) -> RgbImage {
    let mut out = RgbImage::new(width, height);
    resize_triangle(img, rect, width, height, |x, y, p| {
        out.put_pixel(x, y, image::Rgb(p))
    });
    out
}

/// `v` clamped to 0..=255 and rounded half away from zero, as `image` rounds (`f32::round`, which wasm has no
/// instruction for: a library call per channel in the worker; `trunc` is one instruction).
fn byte(v: f32) -> u8 {
    let v = v.clamp(0.0, 255.0);
    let whole = v.trunc();
    // exact: `whole` <= v < whole + 1 on non-negative floats below 2^23
    (if v - whole >= 0.5 { whole + 1.0 } else { whole }) as u8
}

/// `line[c] += source[c] · w` for every column: the leading blocks of 16 in SIMD where the build has it, the plain
/// loop for the rest.
fn add_scaled(line: &mut [f32], source: &[u8], w: f32) {
    let n = line.len().min(source.len());
    for c in lanes::add_scaled(line, source, w)..n {
        line[c] += f32::from(source[c]) * w;
    }
}

/// The two passes' inner loops. Natively the plain loops (the compiler vectorises them); in the site's worker, which
/// is size-optimised (no auto-vectorisation), wasm's 128-bit SIMD by hand. Each lane does the scalar loop's f32
/// multiply and add in the same order (no fused multiply-add), so both give the same bytes (tested in wasm by the
/// site's `tests/wasm_kernels.rs`).
#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
mod lanes {
    /// How many leading columns of [`super::add_scaled`] were done here: none, the plain loop does them all.
    pub(super) fn add_scaled(_: &mut [f32], _: &[u8], _: f32) -> usize {
        0
    }

    /// The weighted sum of the pixels (3 floats each) from `at` on, one weight a pixel.
    pub(super) fn weighted_pixel(tall: &[f32], at: usize, weights: &[f32]) -> [f32; 3] {
        let mut t = [0.0f32; 3];
        for (i, &w) in weights.iter().enumerate() {
            let p = &tall[at + 3 * i..][..3];
            for c in 0..3 {
                t[c] += p[c] * w;
            }
        }
        t
    }
}

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod lanes {
    use core::arch::wasm32::*;

    /// The columns in whole blocks of 16; returns how many it did.
    pub(super) fn add_scaled(line: &mut [f32], source: &[u8], w: f32) -> usize {
        let n = line.len().min(source.len());
        let weight = f32x4_splat(w);
        let blocks = n / 16;
        for block in 0..blocks {
            let c = 16 * block;
            let bytes = &source[c..c + 16];
            let out = &mut line[c..c + 16];
            // SAFETY: `bytes` holds 16 bytes and `out` 16 floats; none of these loads and stores needs alignment.
            unsafe {
                let v = v128_load(bytes.as_ptr().cast());
                let (low, high) = (u16x8_extend_low_u8x16(v), u16x8_extend_high_u8x16(v));
                let quads = [
                    u32x4_extend_low_u16x8(low),
                    u32x4_extend_high_u16x8(low),
                    u32x4_extend_low_u16x8(high),
                    u32x4_extend_high_u16x8(high),
                ];
                for (q, quad) in quads.into_iter().enumerate() {
                    let at = out.as_mut_ptr().add(4 * q).cast::<v128>();
                    let product = f32x4_mul(f32x4_convert_u32x4(quad), weight);
                    v128_store(at, f32x4_add(v128_load(at), product));
                }
            }
        }
        16 * blocks
    }

    pub(super) fn weighted_pixel(tall: &[f32], at: usize, weights: &[f32]) -> [f32; 3] {
        let mut t = f32x4_splat(0.0);
        for (i, &w) in weights.iter().enumerate() {
            // R, G, B and one float more (the next pixel's R, or the buffer's spare float), weighted and dropped.
            let p = &tall[at + 3 * i..at + 3 * i + 4];
            // SAFETY: `p` holds 4 floats; no alignment is needed.
            let v = unsafe { v128_load(p.as_ptr().cast()) };
            t = f32x4_add(t, f32x4_mul(v, f32x4_splat(w)));
        }
        [
            f32x4_extract_lane::<0>(t),
            f32x4_extract_lane::<1>(t),
            f32x4_extract_lane::<2>(t),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::synth::noise;
    use image::imageops;

    #[test]
    fn the_same_bytes_as_image_resize() {
        let img = noise(320, 240, 7);
        // the page's frame, a camera frame, odd ratios, an enlargement, one axis only
        for (w, h) in [
            (128, 96),
            (128, 72),
            (97, 61),
            (128, 128),
            (400, 300),
            (320, 100),
            (7, 5),
        ] {
            let expected = imageops::resize(&img, w, h, imageops::FilterType::Triangle);
            assert_eq!(resized(&img, Rect::whole(&img), w, h), expected, "{w}x{h}");
        }
    }

    #[test]
    fn a_rectangle_resizes_as_its_cropped_copy_does() {
        let img = noise(300, 200, 7);
        for rect in [
            Rect {
                x: 40,
                y: 30,
                width: 150,
                height: 150,
            },
            Rect {
                x: 250,
                y: 120,
                width: 150,
                height: 150,
            }, // cut by the image's corner
            Rect {
                x: 10,
                y: 10,
                width: 128,
                height: 128,
            }, // already the size: passed through
        ] {
            let copy = imageops::crop_imm(&img, rect.x, rect.y, rect.width, rect.height).to_image();
            let expected = imageops::resize(&copy, 128, 128, imageops::FilterType::Triangle);
            assert_eq!(resized(&img, rect, 128, 128), expected, "{rect:?}");
        }
    }

    #[test]
    fn bytes_round_as_f32_round_does() {
        for v in [
            -3.0,
            -0.5,
            0.0,
            0.49999997,
            0.5,
            1.5,
            2.5,
            126.49999,
            126.5,
            254.5,
            254.9,
            255.0,
            300.0,
            f32::NAN,
        ] {
            assert_eq!(byte(v), v.clamp(0.0, 255.0).round() as u8, "{v}");
        }
        for i in 0..=(256 * 64) {
            let v = i as f32 / 64.0;
            assert_eq!(byte(v), v.clamp(0.0, 255.0).round() as u8, "{v}");
        }
    }

    #[test]
    fn an_empty_rectangle_gives_no_pixels() {
        let img = noise(10, 10, 7);
        let mut calls = 0;
        resize_triangle(
            &img,
            Rect {
                x: 10,
                y: 0,
                width: 5,
                height: 5,
            },
            4,
            4,
            |_, _, _| calls += 1,
        );
        assert_eq!(calls, 0);
    }
}
