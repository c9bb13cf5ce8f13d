//! A camera frame as the browser holds it (the bytes of a WebCodecs `VideoFrame.copyTo`: YUV 4:2:0 planes or packed
//! RGB), turned into the RGB the pipeline reads, scaled down on the way by averaging each output pixel's block.
//!
//! Why here and not on a canvas: drawing the `<video>` onto a canvas and reading it back took the page's thread
//! ~2 ms a frame, ~8 ms at 4x CPU throttling (`crates/cli/BENCH.md`), while copying the frame's planes is a memcpy
//! and this conversion runs in the worker. The colour maths is the standard one (ITU-R BT.601 / BT.709, limited or
//! full range, as the frame's `colorSpace` says), so the pixels match what a canvas would show within rounding.

use serde::{Deserialize, Serialize};

/// The `VideoFrame` pixel formats read here (WebCodecs names; the alpha of `I420A` and the padding of `RGBX`/`BGRX`
/// are ignored).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum PixelFormat {
    /// Y plane, then U and V at half width and height.
    I420,
    /// Y plane, then interleaved UV at half width and height.
    Nv12,
    Rgba,
    Bgra,
}

impl PixelFormat {
    /// The format of a `VideoFrame.format` string, if it is read here.
    pub fn parse(webcodecs: &str) -> Option<Self> {
        match webcodecs {
            "I420" | "I420A" => Some(Self::I420),
            "NV12" => Some(Self::Nv12),
            "RGBA" | "RGBX" => Some(Self::Rgba),
            "BGRA" | "BGRX" => Some(Self::Bgra),
            _ => None,
        }
    }

    fn planes(self) -> usize {
        match self {
            Self::I420 => 3,
            Self::Nv12 => 2,
            Self::Rgba | Self::Bgra => 1,
        }
    }
}

/// Where a plane starts in the bytes and how many bytes a row of it takes (`copyTo`'s `PlaneLayout`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plane {
    pub offset: u32,
    pub stride: u32,
}

/// The YUV → RGB matrix (`VideoColorSpace.matrix`: "bt709" → BT.709; "smpte170m", "bt470bg" and unknown →
/// BT.601).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Matrix {
    Bt601,
    Bt709,
}

impl Matrix {
    pub fn parse(webcodecs: Option<&str>) -> Self {
        match webcodecs {
            Some("bt709") => Self::Bt709,
            _ => Self::Bt601,
        }
    }

    /// (Cr → R, Cb → G, Cr → G, Cb → B) for Y, Cb, Cr in 0..255 units.
    fn coefficients(self) -> (f32, f32, f32, f32) {
        match self {
            Self::Bt601 => (1.402, 0.344_136, 0.714_136, 1.772),
            Self::Bt709 => (1.5748, 0.187_324, 0.468_124, 1.8556),
        }
    }
}

/// How the bytes of a frame are laid out.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RawLayout {
    pub format: PixelFormat,
    pub width: u32,
    pub height: u32,
    pub planes: Vec<Plane>,
    pub matrix: Matrix,
    /// YUV in 0–255 (JPEG style) rather than 16–235 / 16–240 (video style, the default).
    pub full_range: bool,
}

/// What is wrong with a frame's bytes or the size asked for.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum RawFrameError {
    #[error("a {format:?} frame needs {needed} planes, got {got}")]
    Planes {
        format: PixelFormat,
        needed: usize,
        got: usize,
    },
    #[error("plane {plane} runs past the frame's {len} bytes")]
    PlaneOutside { plane: usize, len: usize },
    #[error("cannot scale a {from_w}x{from_h} frame to {to_w}x{to_h}")]
    Size {
        from_w: u32,
        from_h: u32,
        to_w: u32,
        to_h: u32,
    },
}

/// `bytes` (laid out as `layout`) scaled to `out_w` x `out_h` (no larger than the frame), as RGB in `out` (the
/// pipeline's pixels: no alpha to write and drop again).
pub fn to_rgb(
    layout: &RawLayout,
    bytes: &[u8],
    out_w: u32,
    out_h: u32,
    out: &mut Vec<u8>,
) -> Result<(), RawFrameError> {
    let (w, h) = (layout.width, layout.height);
    if out_w == 0 || out_h == 0 || out_w > w || out_h > h {
        return Err(RawFrameError::Size {
            from_w: w,
            from_h: h,
            to_w: out_w,
            to_h: out_h,
        });
    }
    check_planes(layout, bytes.len())?;
    out.clear();
    out.resize(out_w as usize * out_h as usize * 3, 0);
    let yuv = matches!(layout.format, PixelFormat::I420 | PixelFormat::Nv12);
    if yuv && w == out_w * 2 && h == out_h * 2 {
        halve_yuv(layout, bytes, out_w as usize, out, VECTOR);
    } else {
        scale_blocks(layout, bytes, out_w, out_h, out);
    }
    Ok(())
}

/// Any scale: each output pixel the mean of the block it covers.
fn scale_blocks(layout: &RawLayout, bytes: &[u8], out_w: u32, out_h: u32, out: &mut [u8]) {
    let (w, h) = (layout.width, layout.height);
    let cols: Vec<(usize, usize)> = (0..out_w).map(|x| span(x, out_w, w)).collect();
    for (oy, out_row) in out.chunks_exact_mut(out_w as usize * 3).enumerate() {
        let rows = span(oy as u32, out_h, h);
        match layout.format {
            PixelFormat::Rgba => packed_row(layout, bytes, rows, &cols, [0, 1, 2], out_row),
            PixelFormat::Bgra => packed_row(layout, bytes, rows, &cols, [2, 1, 0], out_row),
            PixelFormat::I420 | PixelFormat::Nv12 => yuv_row(layout, bytes, rows, &cols, out_row),
        }
    }
}

/// The source pixels [start, end) that output pixel `i` of `n` covers in a line of `len`.
fn span(i: u32, n: u32, len: u32) -> (usize, usize) {
    let start = (u64::from(i) * u64::from(len) / u64::from(n)) as usize;
    let end = (u64::from(i + 1) * u64::from(len) / u64::from(n)) as usize;
    (start, end.max(start + 1))
}

/// Each plane's rows, as the format needs them, lie inside the bytes.
fn check_planes(layout: &RawLayout, len: usize) -> Result<(), RawFrameError> {
    let needed = layout.format.planes();
    if layout.planes.len() < needed {
        return Err(RawFrameError::Planes {
            format: layout.format,
            needed,
            got: layout.planes.len(),
        });
    }
    let (w, h) = (layout.width as usize, layout.height as usize);
    let (cw, ch) = (w.div_ceil(2), h.div_ceil(2));
    for (i, plane) in layout.planes.iter().take(needed).enumerate() {
        let (row_bytes, rows) = match (layout.format, i) {
            (PixelFormat::Rgba | PixelFormat::Bgra, _) => (w * 4, h),
            (_, 0) => (w, h),
            (PixelFormat::Nv12, _) => (cw * 2, ch),
            _ => (cw, ch),
        };
        let end =
            plane.offset as usize + plane.stride as usize * rows.saturating_sub(1) + row_bytes;
        if (plane.stride as usize) < row_bytes || end > len {
            return Err(RawFrameError::PlaneOutside { plane: i, len });
        }
    }
    Ok(())
}

/// One output row from packed 4-byte pixels: the mean of each block; `order`: where R, G and B sit in a pixel.
fn packed_row(
    layout: &RawLayout,
    bytes: &[u8],
    (y0, y1): (usize, usize),
    cols: &[(usize, usize)],
    order: [usize; 3],
    out_row: &mut [u8],
) {
    let plane = layout.planes[0];
    for (&(x0, x1), px) in cols.iter().zip(out_row.chunks_exact_mut(3)) {
        let mut sum = [0u32; 3];
        for y in y0..y1 {
            let row = plane.offset as usize + y * plane.stride as usize;
            for p in bytes[row + x0 * 4..row + x1 * 4].chunks_exact(4) {
                for (s, &c) in sum.iter_mut().zip(&order) {
                    *s += u32::from(p[c]);
                }
            }
        }
        let n = ((y1 - y0) * (x1 - x0)) as u32;
        for (o, s) in px.iter_mut().zip(sum) {
            *o = ((s + n / 2) / n) as u8;
        }
    }
}

/// One output row from YUV 4:2:0: each block's mean luma with the mean of the chroma samples under it, as RGB.
fn yuv_row(
    layout: &RawLayout,
    bytes: &[u8],
    (y0, y1): (usize, usize),
    cols: &[(usize, usize)],
    out_row: &mut [u8],
) {
    let luma = layout.planes[0];
    let luma_rows: Vec<&[u8]> = (y0..y1)
        .map(|y| &bytes[luma.offset as usize + y * luma.stride as usize..])
        .collect();
    let chroma_rows = y0 / 2..y1.div_ceil(2);
    // (U row, V row, step between samples): NV12 interleaves U and V in one plane.
    let chroma: Vec<(&[u8], &[u8], usize)> = chroma_rows
        .map(|cy| match layout.format {
            PixelFormat::Nv12 => {
                let p = layout.planes[1];
                let row = &bytes[p.offset as usize + cy * p.stride as usize..];
                (row, &row[1..], 2)
            }
            _ => {
                let (pu, pv) = (layout.planes[1], layout.planes[2]);
                (
                    &bytes[pu.offset as usize + cy * pu.stride as usize..],
                    &bytes[pv.offset as usize + cy * pv.stride as usize..],
                    1,
                )
            }
        })
        .collect();
    let convert = Converter::new(layout);
    for (&(x0, x1), px) in cols.iter().zip(out_row.chunks_exact_mut(3)) {
        let sum_y: u32 = luma_rows
            .iter()
            .map(|row| row[x0..x1].iter().map(|&v| u32::from(v)).sum::<u32>())
            .sum();
        let (cx0, cx1) = (x0 / 2, x1.div_ceil(2));
        let (mut sum_u, mut sum_v) = (0u32, 0u32);
        for &(u_row, v_row, step) in &chroma {
            for cx in cx0..cx1 {
                sum_u += u32::from(u_row[cx * step]);
                sum_v += u32::from(v_row[cx * step]);
            }
        }
        let n_y = ((y1 - y0) * (x1 - x0)) as f32;
        let n_c = (chroma.len() * (cx1 - cx0)) as f32;
        let rgb = convert.rgb(sum_y as f32 / n_y, sum_u as f32 / n_c, sum_v as f32 / n_c);
        px.copy_from_slice(&rgb);
    }
}

/// Whether the halving runs eight pixels at a time (wasm built with SIMD, as the site is).
const VECTOR: bool = cfg!(all(target_arch = "wasm32", target_feature = "simd128"));

/// The common case, a camera frame at exactly twice the size asked for (640x480 → 320x240): each output pixel is the
/// mean of 2x2 luma samples and the one chroma sample under them, converted in fixed point. ~10x the general path.
/// `vector`: eight pixels at a time with wasm's SIMD where the build has it (the same integer maths, the same bytes).
fn halve_yuv(layout: &RawLayout, bytes: &[u8], out_w: usize, out: &mut [u8], vector: bool) {
    let fixed = Fixed::new(layout);
    let luma = layout.planes[0];
    let row = |plane: Plane, y: usize, len: usize| {
        let start = plane.offset as usize + y * plane.stride as usize;
        &bytes[start..start + len]
    };
    for (oy, out_row) in out.chunks_exact_mut(out_w * 3).enumerate() {
        let (top, bottom) = (
            row(luma, 2 * oy, 2 * out_w),
            row(luma, 2 * oy + 1, 2 * out_w),
        );
        let chroma = if layout.format == PixelFormat::Nv12 {
            Chroma::Interleaved(row(layout.planes[1], oy, 2 * out_w))
        } else {
            Chroma::Planar(
                row(layout.planes[1], oy, out_w),
                row(layout.planes[2], oy, out_w),
            )
        };
        let done = if vector {
            simd::halve_row(top, bottom, chroma, &fixed, out_row)
        } else {
            0
        };
        halve_row(top, bottom, chroma, &fixed, done, out_row);
    }
}

/// One output row's chroma samples: I420's U and V rows, or NV12's row of U, V pairs.
#[derive(Clone, Copy)]
enum Chroma<'a> {
    Planar(&'a [u8], &'a [u8]),
    Interleaved(&'a [u8]),
}

/// A frame's conversion in 16.16 fixed point, on the sum of four luma samples: the offset counts four times, the
/// scale a quarter.
struct Fixed {
    y_offset: i32,
    k_y: i32,
    k_r_cr: i32,
    k_g_cb: i32,
    k_g_cr: i32,
    k_b_cb: i32,
}

impl Fixed {
    fn new(layout: &RawLayout) -> Self {
        const ONE: f32 = 65536.0;
        let Converter {
            y_offset,
            y_scale,
            c_scale,
            coefficients: (r_cr, g_cb, g_cr, b_cb),
        } = Converter::new(layout);
        let [k_r_cr, k_g_cb, k_g_cr, k_b_cb] =
            [r_cr, g_cb, g_cr, b_cb].map(|k| (k * c_scale * ONE).round() as i32);
        Self {
            y_offset: (y_offset * 4.0) as i32,
            k_y: (y_scale / 4.0 * ONE).round() as i32,
            k_r_cr,
            k_g_cb,
            k_g_cr,
            k_b_cb,
        }
    }
}

/// Output pixels `from..` of a row, one at a time.
fn halve_row(
    top: &[u8],
    bottom: &[u8],
    chroma: Chroma,
    k: &Fixed,
    from: usize,
    out_row: &mut [u8],
) {
    // (U row, V row, step between samples): NV12 interleaves U and V in one plane.
    let (u_row, v_row, step) = match chroma {
        Chroma::Planar(u, v) => (u, v, 1),
        Chroma::Interleaved(uv) => (uv, &uv[1..], 2),
    };
    // A plain indexed loop over rows cut to the length they are read at: the worker is built size-optimised,
    // where iterator adapters are not always inlined (measured in wasm: tests/worker_ops.rs).
    for x in from..out_row.len() / 3 {
        let sum = u32::from(top[2 * x])
            + u32::from(top[2 * x + 1])
            + u32::from(bottom[2 * x])
            + u32::from(bottom[2 * x + 1]);
        let y = (sum as i32 - k.y_offset) * k.k_y;
        let cb = i32::from(u_row[x * step]) - 128;
        let cr = i32::from(v_row[x * step]) - 128;
        out_row[3 * x] = channel(y + k.k_r_cr * cr);
        out_row[3 * x + 1] = channel(y - k.k_g_cb * cb - k.k_g_cr * cr);
        out_row[3 * x + 2] = channel(y + k.k_b_cb * cb);
    }
}

/// The halving row eight pixels at a time in wasm's 128-bit SIMD: the scalar loop's integer operations lane by lane
/// (sums of four luma bytes, 16.16 products, the rounding shift; the two saturating narrowings are its clamp to
/// 0..=255), so the bytes are the scalar loop's. Returns how many pixels it wrote (a multiple of 8).
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod simd {
    use super::{Chroma, Fixed};
    use core::arch::wasm32::*;

    // The helpers are inlined by hand: the worker is size-optimised, where a call passing vectors goes through memory.

    /// 16 bytes of `s` from `at` as a vector (bounds-checked by the slice).
    #[inline(always)]
    fn load16(s: &[u8], at: usize) -> v128 {
        let s = &s[at..at + 16];
        // SAFETY: `s` holds 16 bytes; v128_load has no alignment requirement.
        unsafe { v128_load(s.as_ptr().cast()) }
    }

    /// 8 bytes of `s` from `at`, widened to u16 lanes.
    #[inline(always)]
    fn load8_wide(s: &[u8], at: usize) -> v128 {
        let s = &s[at..at + 8];
        // SAFETY: `s` holds 8 bytes.
        unsafe { u16x8_load_extend_u8x8(s.as_ptr()) }
    }

    /// A 16.16 value rounded to an integer (the clamp comes with the narrowing to bytes).
    #[inline(always)]
    fn channel(v: v128) -> v128 {
        i32x4_shr(i32x4_add(v, i32x4_splat(1 << 15)), 16)
    }

    /// Four pixels' (R, G, B) as i32 lanes before the clamp, from the sums of their four luma samples and their
    /// chroma samples (i32 lanes).
    #[inline(always)]
    fn rgb4(sum: v128, u: v128, v: v128, k: &Fixed) -> [v128; 3] {
        let splat = i32x4_splat;
        let y = i32x4_mul(i32x4_sub(sum, splat(k.y_offset)), splat(k.k_y));
        let cb = i32x4_sub(u, splat(128));
        let cr = i32x4_sub(v, splat(128));
        [
            channel(i32x4_add(y, i32x4_mul(splat(k.k_r_cr), cr))),
            channel(i32x4_sub(
                i32x4_sub(y, i32x4_mul(splat(k.k_g_cb), cb)),
                i32x4_mul(splat(k.k_g_cr), cr),
            )),
            channel(i32x4_add(y, i32x4_mul(splat(k.k_b_cb), cb))),
        ]
    }

    pub(super) fn halve_row(
        top: &[u8],
        bottom: &[u8],
        chroma: Chroma,
        k: &Fixed,
        out_row: &mut [u8],
    ) -> usize {
        let blocks = out_row.len() / 3 / 8;
        for block in 0..blocks {
            let x = 8 * block;
            // Eight sums of 2x2 luma samples (u16 lanes: at most 1020).
            let sums = u16x8_add(
                u16x8_extadd_pairwise_u8x16(load16(top, 2 * x)),
                u16x8_extadd_pairwise_u8x16(load16(bottom, 2 * x)),
            );
            let (u, v) = match chroma {
                Chroma::Planar(u, v) => (load8_wide(u, x), load8_wide(v, x)),
                // U, V byte pairs read as little-endian u16 lanes: U is the low byte, V the high one.
                Chroma::Interleaved(uv) => {
                    let pairs = load16(uv, 2 * x);
                    (v128_and(pairs, u16x8_splat(0xff)), u16x8_shr(pairs, 8))
                }
            };
            let low = rgb4(
                i32x4_extend_low_u16x8(sums),
                i32x4_extend_low_u16x8(u),
                i32x4_extend_low_u16x8(v),
                k,
            );
            let high = rgb4(
                i32x4_extend_high_u16x8(sums),
                i32x4_extend_high_u16x8(u),
                i32x4_extend_high_u16x8(v),
                k,
            );
            let r = i16x8_narrow_i32x4(low[0], high[0]);
            let g = i16x8_narrow_i32x4(low[1], high[1]);
            let b = i16x8_narrow_i32x4(low[2], high[2]);
            // R0..R7 G0..G7 and B0..B7 (twice), clamped to bytes; then interleaved as R G B R G B ...
            let (rg, bb) = (u8x16_narrow_i16x8(r, g), u8x16_narrow_i16x8(b, b));
            let first =
                i8x16_shuffle::<0, 8, 16, 1, 9, 17, 2, 10, 18, 3, 11, 19, 4, 12, 20, 5>(rg, bb);
            let last =
                i8x16_shuffle::<13, 21, 6, 14, 22, 7, 15, 23, 0, 0, 0, 0, 0, 0, 0, 0>(rg, bb);
            let out = &mut out_row[3 * x..3 * x + 24];
            // SAFETY: `out` holds 24 bytes: 16 for the first vector, 8 for the last one's low half; no alignment
            // is required.
            unsafe {
                v128_store(out.as_mut_ptr().cast(), first);
                v128_store64_lane::<0>(last, out[16..].as_mut_ptr().cast());
            }
        }
        8 * blocks
    }
}

/// Without wasm's SIMD every pixel takes the scalar loop.
#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
mod simd {
    use super::{Chroma, Fixed};

    pub(super) fn halve_row(_: &[u8], _: &[u8], _: Chroma, _: &Fixed, _: &mut [u8]) -> usize {
        0
    }
}

/// A 16.16 fixed-point value rounded and clamped to a byte.
#[inline(always)]
fn channel(v: i32) -> u8 {
    ((v + (1 << 15)) >> 16).clamp(0, 255) as u8
}

/// YUV (mean sample values) → RGB for one frame's matrix and range.
struct Converter {
    y_offset: f32,
    y_scale: f32,
    c_scale: f32,
    coefficients: (f32, f32, f32, f32),
}

impl Converter {
    fn new(layout: &RawLayout) -> Self {
        let (y_offset, y_scale, c_scale) = if layout.full_range {
            (0.0, 1.0, 1.0)
        } else {
            (16.0, 255.0 / 219.0, 255.0 / 224.0)
        };
        Self {
            y_offset,
            y_scale,
            c_scale,
            coefficients: layout.matrix.coefficients(),
        }
    }

    fn rgb(&self, y: f32, u: f32, v: f32) -> [u8; 3] {
        let y = (y - self.y_offset) * self.y_scale;
        let (cb, cr) = ((u - 128.0) * self.c_scale, (v - 128.0) * self.c_scale);
        let (r_cr, g_cb, g_cr, b_cb) = self.coefficients;
        let channel = |v: f32| v.round().clamp(0.0, 255.0) as u8;
        [
            channel(y + r_cr * cr),
            channel(y - g_cb * cb - g_cr * cr),
            channel(y + b_cb * cb),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(target_arch = "wasm32")]
    wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

    /// A `w` x `h` I420 frame, tightly packed, every pixel (y, u, v).
    fn i420(w: u32, h: u32, yuv: (u8, u8, u8)) -> (RawLayout, Vec<u8>) {
        let (wu, hu) = (w as usize, h as usize);
        let (cw, ch) = (wu.div_ceil(2), hu.div_ceil(2));
        let mut bytes = vec![yuv.0; wu * hu];
        bytes.extend(std::iter::repeat_n(yuv.1, cw * ch));
        bytes.extend(std::iter::repeat_n(yuv.2, cw * ch));
        let layout = RawLayout {
            format: PixelFormat::I420,
            width: w,
            height: h,
            planes: vec![
                Plane {
                    offset: 0,
                    stride: w,
                },
                Plane {
                    offset: (wu * hu) as u32,
                    stride: cw as u32,
                },
                Plane {
                    offset: (wu * hu + cw * ch) as u32,
                    stride: cw as u32,
                },
            ],
            matrix: Matrix::Bt601,
            full_range: false,
        };
        (layout, bytes)
    }

    fn first_pixel(layout: &RawLayout, bytes: &[u8]) -> [u8; 3] {
        let mut out = Vec::new();
        to_rgb(layout, bytes, 2, 2, &mut out).expect("converts");
        [out[0], out[1], out[2]]
    }

    #[test]
    fn limited_range_grey_becomes_full_range_grey() {
        // Black, white and the fake camera's Y=90 (which Chromium shows as RGB ≈ 86, TOOLCHAIN.md).
        for (y, rgb) in [(16, 0), (235, 255), (90, 86)] {
            let (layout, bytes) = i420(4, 4, (y, 128, 128));
            assert_eq!(first_pixel(&layout, &bytes), [rgb, rgb, rgb], "Y={y}");
        }
    }

    #[test]
    fn colours_follow_the_matrix_and_the_range() {
        // Pure red in BT.601 limited range: Y 81, Cb 90, Cr 240.
        let (layout, bytes) = i420(4, 4, (81, 90, 240));
        let [r, g, b] = first_pixel(&layout, &bytes);
        assert!(r >= 253 && g <= 2 && b <= 2, "{r} {g} {b}");
        // Full range, BT.709: Y 54, Cb 99, Cr 255 is red too.
        let (mut layout, bytes) = i420(4, 4, (54, 99, 255));
        layout.matrix = Matrix::Bt709;
        layout.full_range = true;
        let [r, g, b] = first_pixel(&layout, &bytes);
        assert!(r >= 253 && g <= 3 && b <= 3, "{r} {g} {b}");
    }

    #[test]
    fn scaling_averages_each_output_pixels_block() {
        // A 4x2 frame, left half black, right half white, scaled to 2x1: one black and one white pixel.
        let (layout, mut bytes) = i420(4, 2, (16, 128, 128));
        for row in 0..2 {
            bytes[row * 4 + 2] = 235;
            bytes[row * 4 + 3] = 235;
        }
        let mut out = Vec::new();
        to_rgb(&layout, &bytes, 2, 1, &mut out).expect("converts");
        assert_eq!(out, vec![0, 0, 0, 255, 255, 255]);
        // Down to one pixel: the mean.
        to_rgb(&layout, &bytes, 1, 1, &mut out).expect("converts");
        assert_eq!(out, vec![128, 128, 128]);
    }

    #[test]
    fn nv12_and_packed_rgb_read_like_i420() {
        let (i420_layout, i420_bytes) = i420(4, 4, (81, 90, 240));
        let mut nv12 = i420_bytes[..16].to_vec();
        nv12.extend([90, 240].repeat(4));
        let nv12_layout = RawLayout {
            format: PixelFormat::Nv12,
            planes: vec![
                Plane {
                    offset: 0,
                    stride: 4,
                },
                Plane {
                    offset: 16,
                    stride: 4,
                },
            ],
            ..i420_layout.clone()
        };
        assert_eq!(
            first_pixel(&nv12_layout, &nv12),
            first_pixel(&i420_layout, &i420_bytes)
        );
        let bgra = RawLayout {
            format: PixelFormat::Bgra,
            planes: vec![Plane {
                offset: 0,
                stride: 16,
            }],
            ..i420_layout.clone()
        };
        assert_eq!(
            first_pixel(&bgra, &[10, 20, 30, 255].repeat(16)),
            [30, 20, 10]
        );
        assert_eq!(PixelFormat::parse("RGBX"), Some(PixelFormat::Rgba));
        assert_eq!(PixelFormat::parse("I444"), None);
    }

    #[test]
    fn the_halving_fast_path_matches_the_general_one() {
        let (i420_layout, mut bytes) = i420(16, 12, (0, 0, 0));
        for (i, b) in bytes.iter_mut().enumerate() {
            *b = (i * 37 % 256) as u8;
        }
        // The same frame as NV12: the luma plane, then U and V interleaved.
        let (luma, chroma) = bytes.split_at(16 * 12);
        let (u, v) = chroma.split_at(chroma.len() / 2);
        let mut nv12_bytes = luma.to_vec();
        nv12_bytes.extend(u.iter().zip(v).flat_map(|(&u, &v)| [u, v]));
        let nv12_layout = RawLayout {
            format: PixelFormat::Nv12,
            planes: vec![
                i420_layout.planes[0],
                Plane {
                    offset: 16 * 12,
                    stride: 16,
                },
            ],
            ..i420_layout.clone()
        };
        for (layout, bytes) in [(&i420_layout, &bytes), (&nv12_layout, &nv12_bytes)] {
            for (matrix, full_range) in [(Matrix::Bt601, false), (Matrix::Bt709, true)] {
                let layout = RawLayout {
                    matrix,
                    full_range,
                    ..layout.clone()
                };
                let mut fast = Vec::new();
                to_rgb(&layout, bytes, 8, 6, &mut fast).expect("converts");
                let mut general = vec![0; fast.len()];
                scale_blocks(&layout, bytes, 8, 6, &mut general);
                let worst = fast.iter().zip(&general).map(|(a, b)| a.abs_diff(*b)).max();
                assert!(
                    worst <= Some(1),
                    "{:?} {matrix:?}: off by {worst:?}",
                    layout.format
                );
            }
        }
    }

    /// The SIMD halving writes the scalar loop's bytes: random frames, both chroma layouts, both matrices and
    /// ranges, padded strides and a width that leaves a tail for the scalar loop. Natively both are the scalar loop;
    /// `scripts/test.sh` also runs it in wasm, with SIMD, in headless Chromium.
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    fn the_vector_halving_writes_the_scalar_bytes() {
        let (out_w, out_h) = (43usize, 5usize);
        let (w, h) = (2 * out_w, 2 * out_h);
        let (luma_stride, chroma_stride) = (w + 6, out_w + 3);
        let mut seed = 0x2545_f491u32;
        let bytes: Vec<u8> = (0..luma_stride * h + 2 * (2 * chroma_stride) * out_h)
            .map(|_| {
                seed ^= seed << 13;
                seed ^= seed >> 17;
                seed ^= seed << 5;
                (seed >> 24) as u8
            })
            .collect();
        let chroma_start = luma_stride * h;
        let plane = |offset: usize, stride: usize| Plane {
            offset: offset as u32,
            stride: stride as u32,
        };
        let i420 = vec![
            plane(0, luma_stride),
            plane(chroma_start, chroma_stride),
            plane(chroma_start + chroma_stride * out_h, chroma_stride),
        ];
        let nv12 = vec![
            plane(0, luma_stride),
            plane(chroma_start, 2 * chroma_stride),
        ];
        for (format, planes) in [(PixelFormat::I420, i420), (PixelFormat::Nv12, nv12)] {
            for (matrix, full_range) in [(Matrix::Bt601, false), (Matrix::Bt709, true)] {
                let layout = RawLayout {
                    format,
                    width: w as u32,
                    height: h as u32,
                    planes: planes.clone(),
                    matrix,
                    full_range,
                };
                let [mut vector, mut scalar] =
                    [vec![0; out_w * out_h * 3], vec![0; out_w * out_h * 3]];
                halve_yuv(&layout, &bytes, out_w, &mut vector, true);
                halve_yuv(&layout, &bytes, out_w, &mut scalar, false);
                assert_eq!(
                    vector, scalar,
                    "{format:?} {matrix:?} full range {full_range}"
                );
            }
        }
    }

    #[test]
    fn bad_layouts_and_sizes_are_errors_not_panics() {
        let (layout, bytes) = i420(4, 4, (16, 128, 128));
        let mut out = Vec::new();
        assert!(matches!(
            to_rgb(&layout, &bytes[..20], 2, 2, &mut out),
            Err(RawFrameError::PlaneOutside { .. })
        ));
        assert!(matches!(
            to_rgb(&layout, &bytes, 8, 8, &mut out),
            Err(RawFrameError::Size { .. })
        ));
        assert!(matches!(
            to_rgb(&layout, &bytes, 0, 2, &mut out),
            Err(RawFrameError::Size { .. })
        ));
        let one_plane = RawLayout {
            planes: layout.planes[..1].to_vec(),
            ..layout
        };
        assert!(matches!(
            to_rgb(&one_plane, &bytes, 2, 2, &mut out),
            Err(RawFrameError::Planes { .. })
        ));
    }
}
