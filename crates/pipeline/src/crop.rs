//! From a detection to a grey face: a square crop around the face (margin, vertical shift and
//! eye-levelling rotation from the contract), area-averaged down to the model's 48x48. The
//! contrast, equalisation and normalisation that follow are in [`crate::normalize`].

use image::{GrayImage, RgbImage};
use serde::{Deserialize, Serialize};

use crate::contract::{Contract, CropParams};
use crate::detect::Detection;

/// A square region of the frame: centre, side (pixels) and rotation (radians, the angle of the
/// crop's x axis in the frame: positive turns it clockwise on screen, as y points down).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct CropRegion {
    pub cx: f32,
    pub cy: f32,
    pub side: f32,
    pub angle: f32,
}

/// The crop square for a detection: side = scale·max(w, h), centre moved down (along the face's
/// own vertical axis) by shift_y·side, rotated so that the eyes are level when `rotate` is set.
pub fn crop_region(det: &Detection, params: &CropParams) -> CropRegion {
    let (bx, by) = det.bbox.center();
    let side = params.scale * det.bbox.w.max(det.bbox.h);
    let angle = if params.rotate {
        let (rx, ry) = det.keypoints[0];
        let (lx, ly) = det.keypoints[1];
        let a = (ly - ry).atan2(lx - rx);
        if a.is_finite() {
            a
        } else {
            0.0
        }
    } else {
        0.0
    };
    // "Down" in the face's frame is the crop's +y axis: (-sin a, cos a) in the image.
    let d = params.shift_y * side;
    CropRegion {
        cx: bx - d * angle.sin(),
        cy: by + d * angle.cos(),
        side,
        angle,
    }
}

/// Samples a square region of `img` into an `out` x `out` grey image. Grey is computed per source
/// pixel with the contract's BT.601 weights; each output pixel averages k x k bilinear samples
/// (k = ceil(side / out)), i.e. an area filter when shrinking. Outside the frame the edge pixels
/// are repeated.
pub fn crop_grey(img: &RgbImage, region: &CropRegion, out: u32, contract: &Contract) -> GrayImage {
    let (w, h) = (img.width() as i64, img.height() as i64);
    let mut result = GrayImage::new(out, out);
    if w == 0 || h == 0 || out == 0 || !(region.side.is_finite() && region.side > 0.0) {
        return result;
    }
    // Grey of the frame's part that the (rotated) square can touch, plus one pixel for bilinear.
    let reach = region.side * std::f32::consts::SQRT_2 / 2.0 + 2.0;
    let clampi = |v: f32, hi: i64| (v.floor() as i64).clamp(0, hi - 1);
    let (x0, x1) = (clampi(region.cx - reach, w), clampi(region.cx + reach, w));
    let (y0, y1) = (clampi(region.cy - reach, h), clampi(region.cy + reach, h));
    let gw = (x1 - x0 + 1) as usize;
    let gh = (y1 - y0 + 1) as usize;
    let mut grey = vec![0u8; gw * gh];
    for yy in 0..gh {
        for xx in 0..gw {
            let p = img.get_pixel((x0 + xx as i64) as u32, (y0 + yy as i64) as u32);
            grey[yy * gw + xx] = contract.grey(p[0], p[1], p[2]);
        }
    }
    let at = |x: i64, y: i64| -> f32 {
        let x = x.clamp(0, w - 1) - x0;
        let y = y.clamp(0, h - 1) - y0;
        f32::from(
            grey[(y.clamp(0, gh as i64 - 1) as usize) * gw + x.clamp(0, gw as i64 - 1) as usize],
        )
    };
    let bilinear = |sx: f32, sy: f32| -> f32 {
        // Pixel (i, j) has its centre at (i + 0.5, j + 0.5).
        let fx = sx - 0.5;
        let fy = sy - 0.5;
        let ix = fx.floor();
        let iy = fy.floor();
        let tx = fx - ix;
        let ty = fy - iy;
        let (ix, iy) = (ix as i64, iy as i64);
        let top = at(ix, iy) * (1.0 - tx) + at(ix + 1, iy) * tx;
        let bottom = at(ix, iy + 1) * (1.0 - tx) + at(ix + 1, iy + 1) * tx;
        top * (1.0 - ty) + bottom * ty
    };
    let k = ((region.side / out as f32).ceil() as u32).clamp(1, 16);
    let (sin, cos) = region.angle.sin_cos();
    let step = region.side / out as f32;
    for j in 0..out {
        for i in 0..out {
            let mut acc = 0.0f32;
            for b in 0..k {
                let v = (j as f32 + (b as f32 + 0.5) / k as f32) * step - region.side / 2.0;
                for a in 0..k {
                    let u = (i as f32 + (a as f32 + 0.5) / k as f32) * step - region.side / 2.0;
                    acc += bilinear(region.cx + u * cos - v * sin, region.cy + u * sin + v * cos);
                }
            }
            let mean = acc / (k * k) as f32;
            result.put_pixel(
                i,
                j,
                image::Luma([(mean + 0.5).floor().clamp(0.0, 255.0) as u8]),
            );
        }
    }
    result
}

/// The model-sized grey face crop for a detection (before contrast and equalisation).
pub fn face_crop(img: &RgbImage, det: &Detection, contract: &Contract) -> GrayImage {
    crop_grey(
        img,
        &crop_region(det, &contract.crop),
        contract.input_size,
        contract,
    )
}

/// An image that already is an aligned face crop (a dataset image, `--no-detect`): its centred
/// square, in grey, at the model's size. A 48x48 image passes through pixel for pixel.
pub fn aligned_face(img: &RgbImage, contract: &Contract) -> GrayImage {
    let (w, h) = (img.width() as f32, img.height() as f32);
    let region = CropRegion {
        cx: w / 2.0,
        cy: h / 2.0,
        side: w.min(h),
        angle: 0.0,
    };
    crop_grey(img, &region, contract.input_size, contract)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geometry::BoxF;
    use image::Rgb;

    fn contract() -> Contract {
        Contract::shipped().clone()
    }

    #[test]
    fn a_48px_image_passes_through_the_aligned_crop_unchanged() {
        let c = contract();
        let img = RgbImage::from_fn(48, 48, |x, y| {
            let v = ((x * 13 + y * 29) % 256) as u8;
            Rgb([v, v, v])
        });
        let g = aligned_face(&img, &c);
        for (x, y, p) in g.enumerate_pixels() {
            assert_eq!(p[0], img.get_pixel(x, y)[0], "at {x},{y}");
        }
    }

    #[test]
    fn shrinking_averages_areas() {
        // A 96x96 checkerboard of single pixels becomes flat mid-grey at 48x48 (2x2 → one pixel).
        let c = contract();
        let img = RgbImage::from_fn(96, 96, |x, y| {
            if (x + y) % 2 == 0 {
                Rgb([0, 0, 0])
            } else {
                Rgb([200, 200, 200])
            }
        });
        let g = aligned_face(&img, &c);
        assert!(g.iter().all(|&v| v == 100), "{:?}", &g.as_raw()[..8]);
        // A non-square image keeps its centred square: left half black, right white, 192x96.
        let img = RgbImage::from_fn(192, 96, |x, _| {
            if x < 96 {
                Rgb([0, 0, 0])
            } else {
                Rgb([255, 255, 255])
            }
        });
        let g = aligned_face(&img, &c);
        assert_eq!(g.get_pixel(0, 0)[0], 0);
        assert_eq!(g.get_pixel(47, 0)[0], 255);
    }

    #[test]
    fn the_crop_region_follows_the_contract_params() {
        let mut det = Detection {
            bbox: BoxF {
                x: 100.0,
                y: 50.0,
                w: 40.0,
                h: 60.0,
            },
            score: 0.9,
            keypoints: [(0.0, 0.0); 6],
        };
        det.keypoints[0] = (110.0, 70.0);
        det.keypoints[1] = (130.0, 70.0);
        let p = CropParams {
            scale: 1.5,
            shift_y: 0.1,
            rotate: true,
        };
        let r = crop_region(&det, &p);
        // side = 1.5 * 60 = 90; centre (120, 80) moved down by 9.
        assert_eq!(r.side, 90.0);
        assert_eq!((r.cx, r.cy), (120.0, 89.0));
        assert_eq!(r.angle, 0.0);
        // Eyes on a 45° line (left eye lower-right): the crop turns with them; the shift follows.
        det.keypoints[1] = (130.0, 90.0);
        let r = crop_region(&det, &p);
        assert!((r.angle - std::f32::consts::FRAC_PI_4).abs() < 1e-6);
        let d = 9.0 / std::f32::consts::SQRT_2;
        assert!((r.cx - (120.0 - d)).abs() < 1e-4 && (r.cy - (80.0 + d)).abs() < 1e-4);
        // rotate = false ignores the keypoints.
        let r = crop_region(&det, &CropParams { rotate: false, ..p });
        assert_eq!(r.angle, 0.0);
    }

    #[test]
    fn a_rotated_crop_levels_a_tilted_line() {
        // A frame with a bright line through the centre at +30°; a crop rotated by 30° sees it
        // as a horizontal line through its middle row.
        let c = contract();
        let a = 30f32.to_radians();
        let img = RgbImage::from_fn(200, 200, |x, y| {
            let (dx, dy) = (x as f32 + 0.5 - 100.0, y as f32 + 0.5 - 100.0);
            let dist = (dy * a.cos() - dx * a.sin()).abs();
            if dist < 4.0 {
                Rgb([255, 255, 255])
            } else {
                Rgb([0, 0, 0])
            }
        });
        let g = crop_grey(
            &img,
            &CropRegion {
                cx: 100.0,
                cy: 100.0,
                side: 96.0,
                angle: a,
            },
            48,
            &c,
        );
        let row = |j: u32| {
            (0..48)
                .map(|i| u32::from(g.get_pixel(i, j)[0]))
                .sum::<u32>()
                / 48
        };
        assert!(
            row(24) > 200 && row(23) > 200,
            "middle rows {} {}",
            row(23),
            row(24)
        );
        assert!(
            row(10) < 5 && row(38) < 5,
            "off rows {} {}",
            row(10),
            row(38)
        );
    }
}
