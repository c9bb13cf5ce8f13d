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
    let mut tall = vec![0.0f32; height as usize * columns];
    for (line, taps) in tall
        .chunks_exact_mut(columns)
        .zip(triangle_taps(rect.height, height))
    {
        for (i, w) in taps.weights.iter().enumerate() {
            for (t, &v) in line.iter_mut().zip(row(taps.first + i)) {
                *t += f32::from(v) * w;
            }
        }
    }
    // Horizontal pass, rounded to bytes as image rounds.
    let across = triangle_taps(rect.width, width);
    for (y, line) in tall.chunks_exact(columns).enumerate() {
        for (x, taps) in across.iter().enumerate() {
            let mut t = [0.0f32; 3];
            for (i, w) in taps.weights.iter().enumerate() {
                let p = &line[(taps.first + i) * 3..][..3];
                for c in 0..3 {
                    t[c] += p[c] * w;
                }
            }
            put(
                x as u32,
                y as u32,
                t.map(|v| v.clamp(0.0, 255.0).round() as u8),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{imageops, Rgb};

    fn noise(width: u32, height: u32) -> RgbImage {
        let mut state = 0x2545_f491_u32;
        RgbImage::from_fn(width, height, |_, _| {
            let mut next = || {
                state ^= state << 13;
                state ^= state >> 17;
                state ^= state << 5;
                (state >> 24) as u8
            };
            Rgb([next(), next(), next()])
        })
    }

    fn resized(img: &RgbImage, rect: Rect, width: u32, height: u32) -> RgbImage {
        let mut out = RgbImage::new(width, height);
        resize_triangle(img, rect, width, height, |x, y, p| {
            out.put_pixel(x, y, Rgb(p))
        });
        out
    }

    #[test]
    fn the_same_bytes_as_image_resize() {
        let img = noise(320, 240);
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
        let img = noise(300, 200);
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
    fn an_empty_rectangle_gives_no_pixels() {
        let img = noise(10, 10);
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
