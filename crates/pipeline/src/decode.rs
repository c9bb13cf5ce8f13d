//! Turning bytes into pixels: any image the `image` crate reads (JPEG, PNG, WebP, GIF's first frame,
//! BMP) with size limits against decompression bombs and EXIF orientation applied, and raw RGBA
//! frames from a canvas.

use std::io::Cursor;

use image::{DynamicImage, ImageDecoder, ImageError, ImageReader, RgbImage};
use serde::{Deserialize, Serialize};

use crate::error::{PipelineError, Result};

/// Raw canvas pixels: RGBA8, row-major, `width * height * 4` bytes.
#[derive(Debug, Clone, Copy)]
pub struct Frame<'a> {
    pub width: u32,
    pub height: u32,
    pub rgba: &'a [u8],
}

impl Frame<'_> {
    /// Drops the alpha channel. Fails when the buffer does not match the stated size.
    pub fn to_rgb(&self) -> Result<RgbImage> {
        let expected = (self.width as usize)
            .checked_mul(self.height as usize)
            .and_then(|n| n.checked_mul(4))
            .unwrap_or(usize::MAX);
        if self.width == 0 || self.height == 0 || self.rgba.len() != expected {
            return Err(PipelineError::FrameSize {
                width: self.width,
                height: self.height,
                expected,
                actual: self.rgba.len(),
            });
        }
        let mut rgb = vec![0; expected / 4 * 3];
        for (out, px) in rgb.chunks_exact_mut(3).zip(self.rgba.chunks_exact(4)) {
            out.copy_from_slice(&px[..3]);
        }
        RgbImage::from_raw(self.width, self.height, rgb).ok_or(PipelineError::FrameSize {
            width: self.width,
            height: self.height,
            expected,
            actual: self.rgba.len(),
        })
    }
}

/// Limits applied before any pixel buffer is allocated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DecodeLimits {
    /// Largest accepted width, in pixels.
    pub max_width: u32,
    /// Largest accepted height, in pixels.
    pub max_height: u32,
    /// Largest accepted width × height.
    pub max_pixels: u64,
    /// Largest buffer the decoder may allocate, in bytes.
    pub max_alloc_bytes: u64,
}

impl Default for DecodeLimits {
    /// 16384 px a side, 50 megapixels, 512 MiB: every camera photo passes, bombs do not.
    fn default() -> Self {
        DecodeLimits {
            max_width: 16_384,
            max_height: 16_384,
            max_pixels: 50_000_000,
            max_alloc_bytes: 512 << 20,
        }
    }
}

/// Decodes an image file's bytes into RGB8, honouring EXIF orientation.
///
/// Errors: [`PipelineError::Empty`] for no bytes or a zero-sized image, [`PipelineError::TooLarge`]
/// when the header announces more than `limits` allows (checked before decoding the pixels), and
/// [`PipelineError::Decode`] for unknown formats, truncated or corrupt data.
pub fn decode_image(bytes: &[u8], limits: &DecodeLimits) -> Result<RgbImage> {
    if bytes.is_empty() {
        return Err(PipelineError::Empty);
    }
    let reader = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| PipelineError::Decode(e.to_string()))?;
    if reader.format().is_none() {
        return Err(PipelineError::Decode(
            "unknown or unsupported image format".into(),
        ));
    }
    let mut reader = reader;
    let mut image_limits = image::Limits::default();
    image_limits.max_image_width = Some(limits.max_width);
    image_limits.max_image_height = Some(limits.max_height);
    image_limits.max_alloc = Some(limits.max_alloc_bytes);
    reader.limits(image_limits);

    let mut decoder = reader.into_decoder().map_err(map_image_error)?;
    let (w, h) = decoder.dimensions();
    if w == 0 || h == 0 {
        return Err(PipelineError::Empty);
    }
    if w > limits.max_width || h > limits.max_height {
        return Err(PipelineError::TooLarge(format!(
            "{w}x{h} exceeds {}x{}",
            limits.max_width, limits.max_height
        )));
    }
    let pixels = u64::from(w) * u64::from(h);
    if pixels > limits.max_pixels {
        return Err(PipelineError::TooLarge(format!(
            "{w}x{h} = {pixels} pixels exceeds {}",
            limits.max_pixels
        )));
    }
    // The decoded buffer plus our RGB8 copy must fit the allocation budget.
    let needed = decoder.total_bytes().saturating_add(pixels * 3);
    if needed > limits.max_alloc_bytes {
        return Err(PipelineError::TooLarge(format!(
            "{w}x{h} needs {needed} bytes, the limit is {}",
            limits.max_alloc_bytes
        )));
    }
    // A broken EXIF block should not make a good image unreadable: fall back to no rotation.
    let orientation = decoder
        .orientation()
        .unwrap_or(image::metadata::Orientation::NoTransforms);
    let mut img = DynamicImage::from_decoder(decoder).map_err(map_image_error)?;
    img.apply_orientation(orientation);
    Ok(match img {
        DynamicImage::ImageRgb8(rgb) => rgb,
        other => other.to_rgb8(),
    })
}

fn map_image_error(e: ImageError) -> PipelineError {
    match e {
        ImageError::Limits(l) => PipelineError::TooLarge(l.to_string()),
        other => PipelineError::Decode(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{ImageFormat, Rgb};

    fn encode(img: &RgbImage, format: ImageFormat) -> Vec<u8> {
        let mut out = Cursor::new(Vec::new());
        img.write_to(&mut out, format).unwrap();
        out.into_inner()
    }

    fn gradient(w: u32, h: u32) -> RgbImage {
        RgbImage::from_fn(w, h, |x, y| Rgb([(x * 7) as u8, (y * 5) as u8, 100]))
    }

    #[test]
    fn png_bmp_and_gif_round_trip() {
        let img = gradient(20, 10);
        for f in [ImageFormat::Png, ImageFormat::Bmp] {
            let back = decode_image(&encode(&img, f), &DecodeLimits::default()).unwrap();
            assert_eq!(back, img, "{f:?}");
        }
        let gif = decode_image(&encode(&img, ImageFormat::Gif), &DecodeLimits::default()).unwrap();
        assert_eq!(gif.dimensions(), (20, 10));
    }

    #[test]
    fn jpeg_and_webp_decode_to_the_right_size() {
        let img = gradient(33, 17);
        for f in [ImageFormat::Jpeg, ImageFormat::WebP] {
            let back = decode_image(&encode(&img, f), &DecodeLimits::default()).unwrap();
            assert_eq!(back.dimensions(), (33, 17), "{f:?}");
        }
    }

    #[test]
    fn empty_unknown_and_truncated_inputs_are_errors() {
        assert!(matches!(
            decode_image(&[], &DecodeLimits::default()),
            Err(PipelineError::Empty)
        ));
        assert!(matches!(
            decode_image(b"hello, not an image", &DecodeLimits::default()),
            Err(PipelineError::Decode(_))
        ));
        let png = encode(&gradient(64, 64), ImageFormat::Png);
        let cut = &png[..png.len() / 2];
        assert!(decode_image(cut, &DecodeLimits::default()).is_err());
    }

    #[test]
    fn an_image_over_the_limits_is_rejected_before_decoding() {
        let png = encode(&gradient(300, 200), ImageFormat::Png);
        let small = DecodeLimits {
            max_width: 100,
            ..DecodeLimits::default()
        };
        assert!(matches!(
            decode_image(&png, &small),
            Err(PipelineError::TooLarge(_))
        ));
        let few = DecodeLimits {
            max_pixels: 1000,
            ..DecodeLimits::default()
        };
        assert!(matches!(
            decode_image(&png, &few),
            Err(PipelineError::TooLarge(_))
        ));
    }

    #[test]
    fn a_png_header_claiming_a_huge_image_is_refused() {
        // A real PNG whose IHDR says 100000 x 100000 (CRC fixed up): a decompression bomb's header.
        let mut png = encode(&gradient(8, 8), ImageFormat::Png);
        png[16..20].copy_from_slice(&100_000u32.to_be_bytes());
        png[20..24].copy_from_slice(&100_000u32.to_be_bytes());
        let crc = crc32(&png[12..29]);
        png[29..33].copy_from_slice(&crc.to_be_bytes());
        let err = decode_image(&png, &DecodeLimits::default()).unwrap_err();
        assert!(matches!(err, PipelineError::TooLarge(_)), "{err}");
    }

    fn crc32(data: &[u8]) -> u32 {
        let mut crc = 0xFFFF_FFFFu32;
        for &b in data {
            crc ^= u32::from(b);
            for _ in 0..8 {
                crc = if crc & 1 != 0 {
                    (crc >> 1) ^ 0xEDB8_8320
                } else {
                    crc >> 1
                };
            }
        }
        !crc
    }

    #[test]
    fn exif_orientation_is_applied() {
        // A 4x2 JPEG with an APP1 EXIF block saying "rotate 90° clockwise" (orientation 6)
        // decodes as 2x4.
        let jpeg = encode(&gradient(4, 2), ImageFormat::Jpeg);
        let exif: Vec<u8> = {
            let mut tiff = vec![b'M', b'M', 0, 42, 0, 0, 0, 8];
            tiff.extend_from_slice(&1u16.to_be_bytes()); // one IFD entry
            tiff.extend_from_slice(&0x0112u16.to_be_bytes()); // Orientation
            tiff.extend_from_slice(&3u16.to_be_bytes()); // SHORT
            tiff.extend_from_slice(&1u32.to_be_bytes()); // count
            tiff.extend_from_slice(&[0, 6, 0, 0]); // value 6
            tiff.extend_from_slice(&0u32.to_be_bytes()); // no next IFD
            let mut app1 = b"Exif\0\0".to_vec();
            app1.extend_from_slice(&tiff);
            let mut seg = vec![0xFF, 0xE1];
            seg.extend_from_slice(&((app1.len() + 2) as u16).to_be_bytes());
            seg.extend_from_slice(&app1);
            seg
        };
        let mut with_exif = jpeg[..2].to_vec(); // SOI
        with_exif.extend_from_slice(&exif);
        with_exif.extend_from_slice(&jpeg[2..]);
        let img = decode_image(&with_exif, &DecodeLimits::default()).unwrap();
        assert_eq!(img.dimensions(), (2, 4));
    }

    #[test]
    fn frames_drop_alpha_and_check_their_size() {
        let rgba = [1u8, 2, 3, 255, 4, 5, 6, 0];
        let f = Frame {
            width: 2,
            height: 1,
            rgba: &rgba,
        };
        assert_eq!(f.to_rgb().unwrap().into_raw(), vec![1, 2, 3, 4, 5, 6]);
        let bad = Frame {
            width: 3,
            height: 1,
            rgba: &rgba,
        };
        assert!(matches!(bad.to_rgb(), Err(PipelineError::FrameSize { .. })));
        let zero = Frame {
            width: 0,
            height: 0,
            rgba: &[],
        };
        assert!(zero.to_rgb().is_err());
    }
}
