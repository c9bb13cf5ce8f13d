//! Synthetic frames for tests, benchmarks and the crop measurement: a dataset face (a tight 48x48
//! grey crop) scaled up and pasted into a larger frame, so the true face square is known exactly.

use image::{imageops, GrayImage, Rgb, RgbImage};

use crate::geometry::BoxF;

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
