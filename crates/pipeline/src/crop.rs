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
///
/// An upright square (angle 0, the shipped contract) takes a separable path that gives the same
/// bytes as the general one (tested) in a fraction of the time: its samples share rows and columns.
pub fn crop_grey(img: &RgbImage, region: &CropRegion, out: u32, contract: &Contract) -> GrayImage {
    let mut result = GrayImage::new(out, out);
    if img.width() == 0 || img.height() == 0 || out == 0 {
        return result;
    }
    if !(region.side.is_finite() && region.side > 0.0) {
        return result;
    }
    let grey = GreyPatch::around(img, region, contract);
    let k = ((region.side / out as f32).ceil() as u32).clamp(1, 16);
    let means = if region.angle == 0.0 {
        upright_means(&grey, region, out, k)
    } else {
        rotated_means(&grey, region, out, k)
    };
    for (px, mean) in result.iter_mut().zip(means) {
        *px = (mean + 0.5).floor().clamp(0.0, 255.0) as u8;
    }
    result
}

/// The grey of the frame's part that a (rotated) square can touch, plus one pixel for bilinear;
/// reads outside it repeat the frame's edge.
struct GreyPatch {
    grey: Vec<f32>,
    x0: i64,
    y0: i64,
    width: i64,
    height: i64,
}

impl GreyPatch {
    fn around(img: &RgbImage, region: &CropRegion, contract: &Contract) -> Self {
        let (w, h) = (img.width() as i64, img.height() as i64);
        // half the extent of the turned square, plus the bilinear neighbour and rounding
        let (sin, cos) = region.angle.sin_cos();
        let reach = region.side / 2.0 * (sin.abs() + cos.abs()) + 2.0;
        let clampi = |v: f32, hi: i64| (v.floor() as i64).clamp(0, hi - 1);
        let (x0, x1) = (clampi(region.cx - reach, w), clampi(region.cx + reach, w));
        let (y0, y1) = (clampi(region.cy - reach, h), clampi(region.cy + reach, h));
        let (width, height) = (x1 - x0 + 1, y1 - y0 + 1);
        let mut grey = Vec::with_capacity((width * height) as usize);
        let row_bytes = img.width() as usize * 3;
        // Plain indexed loops here and in `upright_means`: the site's worker is size-optimised, where iterator
        // adapters and closures are not always inlined (measured in wasm: tests/worker_ops.rs).
        for y in y0..=y1 {
            let row =
                &img.as_raw()[y as usize * row_bytes..][x0 as usize * 3..(x1 as usize + 1) * 3];
            for p in 0..width as usize {
                let (r, g, b) = (row[3 * p], row[3 * p + 1], row[3 * p + 2]);
                grey.push(f32::from(contract.grey(r, g, b)));
            }
        }
        GreyPatch {
            grey,
            x0,
            y0,
            width,
            height,
        }
    }

    /// Grey at frame pixel (x, y), the edge repeated beyond the patch (which reaches the frame's
    /// edges wherever the square does).
    fn at(&self, x: i64, y: i64) -> f32 {
        self.grey[(self.row(y) * self.width + self.column(x)) as usize]
    }

    /// The patch column that frame column `x` reads (the edge repeated).
    fn column(&self, x: i64) -> i64 {
        (x - self.x0).clamp(0, self.width - 1)
    }

    /// The patch row that frame row `y` reads (the edge repeated).
    fn row(&self, y: i64) -> i64 {
        (y - self.y0).clamp(0, self.height - 1)
    }
}

/// Where a bilinear sample at frame coordinate `s` falls: the pixel at or left of it and the
/// weight of the next one (pixel i has its centre at i + 0.5).
fn bilinear_tap(s: f32) -> (i64, f32) {
    let f = s - 0.5;
    let i = f.floor();
    (i as i64, f - i)
}

/// Offset of sub-sample `b` of output pixel `j` from the square's centre, along one side.
fn sample_offset(j: u32, b: u32, k: u32, step: f32, side: f32) -> f32 {
    (j as f32 + (b as f32 + 0.5) / k as f32) * step - side / 2.0
}

/// Output pixel means, row by row, of a square turned by `region.angle`.
fn rotated_means(grey: &GreyPatch, region: &CropRegion, out: u32, k: u32) -> Vec<f32> {
    let bilinear = |sx: f32, sy: f32| -> f32 {
        let ((ix, tx), (iy, ty)) = (bilinear_tap(sx), bilinear_tap(sy));
        let top = grey.at(ix, iy) * (1.0 - tx) + grey.at(ix + 1, iy) * tx;
        let bottom = grey.at(ix, iy + 1) * (1.0 - tx) + grey.at(ix + 1, iy + 1) * tx;
        top * (1.0 - ty) + bottom * ty
    };
    let (sin, cos) = region.angle.sin_cos();
    let step = region.side / out as f32;
    let mut means = Vec::with_capacity((out * out) as usize);
    for j in 0..out {
        for i in 0..out {
            let mut acc = 0.0f32;
            for b in 0..k {
                let v = sample_offset(j, b, k, step, region.side);
                for a in 0..k {
                    let u = sample_offset(i, a, k, step, region.side);
                    acc += bilinear(region.cx + u * cos - v * sin, region.cy + u * sin + v * cos);
                }
            }
            means.push(acc / (k * k) as f32);
        }
    }
    means
}

/// [`rotated_means`] at angle 0 with the same arithmetic, sample for sample: the horizontal
/// interpolation of each frame row is computed once for all sample columns, not once per sample.
fn upright_means(grey: &GreyPatch, region: &CropRegion, out: u32, k: u32) -> Vec<f32> {
    let step = region.side / out as f32;
    let samples = (out * k) as usize;
    let taps = |centre: f32| -> Vec<(i64, f32)> {
        (0..out)
            .flat_map(|j| (0..k).map(move |b| (j, b)))
            .map(|(j, b)| bilinear_tap(centre + sample_offset(j, b, k, step, region.side)))
            .collect()
    };
    let (columns, rows) = (taps(region.cx), taps(region.cy));
    // Rows are sorted; the patch rows they read (edge repeated) span first ..= last.
    let first = grey.row(rows[0].0);
    let last = grey.row(rows[samples - 1].0 + 1);
    // Each sample column's two patch columns (edge repeated) and the weight of the right one.
    let columns: Vec<(usize, usize, f32)> = columns
        .iter()
        .map(|&(ix, tx)| (grey.column(ix) as usize, grey.column(ix + 1) as usize, tx))
        .collect();
    let width = grey.width as usize;
    let mut across = vec![0.0f32; (last - first + 1) as usize * samples];
    for r in 0..(last - first + 1) as usize {
        let source = &grey.grey[(first as usize + r) * width..][..width];
        let line = &mut across[r * samples..][..samples];
        for (s, &(left, right, tx)) in columns.iter().enumerate() {
            line[s] = source[left] * (1.0 - tx) + source[right] * tx;
        }
    }
    // Each sample row's two lines of `across` and the weight of the lower one.
    let line_start = |y: i64| (grey.row(y) - first) as usize * samples;
    let rows: Vec<(usize, usize, f32)> = rows
        .iter()
        .map(|&(iy, ty)| (line_start(iy), line_start(iy + 1), ty))
        .collect();
    let k = k as usize;
    let mut means = Vec::with_capacity(out as usize * out as usize);
    for row_block in rows.chunks_exact(k) {
        for i in 0..out as usize {
            let mut acc = 0.0f32;
            for &(top, bottom, ty) in row_block {
                for a in i * k..(i + 1) * k {
                    acc += across[top + a] * (1.0 - ty) + across[bottom + a] * ty;
                }
            }
            means.push(acc / (k * k) as f32);
        }
    }
    means
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
    fn the_upright_path_gives_the_general_paths_bytes() {
        let c = contract();
        let img = RgbImage::from_fn(160, 120, |x, y| {
            Rgb([(x * 7 + y * 3) as u8, (x * y % 251) as u8, (x ^ y) as u8])
        });
        // inside, across every edge, smaller than the output, larger than the frame, off-grid
        let regions = [
            (80.0, 60.0, 96.0),
            (5.0, 7.0, 61.3),
            (150.5, 115.25, 90.0),
            (80.0, 60.0, 30.0),
            (70.3, 40.9, 500.0),
            (-40.0, 200.0, 77.7),
        ];
        for (cx, cy, side) in regions {
            let region = CropRegion {
                cx,
                cy,
                side,
                angle: 0.0,
            };
            let grey = GreyPatch::around(&img, &region, &c);
            let k = ((side / 48.0).ceil() as u32).clamp(1, 16);
            let fast = upright_means(&grey, &region, 48, k);
            let general = rotated_means(&grey, &region, 48, k);
            assert!(
                fast.iter()
                    .zip(&general)
                    .all(|(a, b)| a.to_bits() == b.to_bits()),
                "region {cx},{cy} side {side}"
            );
        }
    }

    #[test]
    fn a_huge_crop_costs_no_more_than_the_frame() {
        let img = RgbImage::from_pixel(64, 48, Rgb([90, 90, 90]));
        let region = CropRegion {
            cx: 32.0,
            cy: 24.0,
            side: 1.0e9,
            angle: 0.0,
        };
        let g = crop_grey(&img, &region, 48, &contract());
        assert!(g.iter().all(|&v| v == 90));
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
