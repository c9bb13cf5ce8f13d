//! Whatever bytes arrive (a random file, a corrupted or truncated photo, a forged header), decode
//! and detect return a result or an error: never a panic, never a hang. Property tests with a
//! bounded number of cases so the file runs in about a minute.

use std::io::Cursor;
use std::sync::OnceLock;

use emoji_pipeline::{decode_image, DecodeLimits, Frame};
use image::{ImageFormat, Rgb, RgbImage};
use proptest::prelude::*;

use super::common::detector;

/// Small limits keep the worst case (a forged header decoding into noise) quick.
fn limits() -> DecodeLimits {
    DecodeLimits {
        max_width: 2048,
        max_height: 2048,
        max_pixels: 2_000_000,
        max_alloc_bytes: 64 << 20,
    }
}

fn seeds() -> &'static Vec<Vec<u8>> {
    static S: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    S.get_or_init(|| {
        let img = RgbImage::from_fn(40, 30, |x, y| {
            Rgb([(x * 6) as u8, (y * 8) as u8, ((x + y) * 3) as u8])
        });
        [
            ImageFormat::Png,
            ImageFormat::Jpeg,
            ImageFormat::Gif,
            ImageFormat::Bmp,
            ImageFormat::WebP,
        ]
        .iter()
        .map(|f| {
            let mut c = Cursor::new(Vec::new());
            img.write_to(&mut c, *f).expect("encoding a seed image");
            c.into_inner()
        })
        .collect()
    })
}

fn decode_and_detect(bytes: &[u8]) {
    if let Ok(img) = decode_image(bytes, &limits()) {
        assert!(img.width() > 0 && img.height() > 0);
        assert!(img.width() <= 2048 && img.height() <= 2048);
        let dets = detector()
            .detect(&img)
            .expect("detection on a decoded image succeeds");
        for d in dets {
            assert!(d.score.is_finite() && d.bbox.x.is_finite() && d.bbox.w.is_finite());
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        decode_and_detect(&bytes);
    }

    #[test]
    fn corrupted_real_images_never_panic(
        which in 0usize..5,
        flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..12),
        cut in any::<prop::sample::Index>(),
        truncate in any::<bool>(),
    ) {
        let mut bytes = seeds()[which].clone();
        for (at, v) in flips {
            let i = at.index(bytes.len());
            bytes[i] = v;
        }
        if truncate {
            let n = cut.index(bytes.len());
            bytes.truncate(n);
        }
        decode_and_detect(&bytes);
    }

    #[test]
    fn arbitrary_frames_never_panic(w in 0u32..300, h in 0u32..300, fill in any::<u8>(), extra in 0usize..3) {
        let len = (w * h * 4) as usize + extra;
        let rgba = vec![fill; len];
        match (Frame { width: w, height: h, rgba: &rgba }).to_rgb() {
            Ok(img) => {
                prop_assert!(extra == 0 && w > 0 && h > 0);
                detector().detect(&img).expect("detect");
            }
            Err(_) => prop_assert!(extra != 0 || w == 0 || h == 0),
        }
    }
}

#[test]
fn the_seed_images_decode() {
    for s in seeds() {
        decode_image(s, &limits()).expect("seed decodes");
    }
}
