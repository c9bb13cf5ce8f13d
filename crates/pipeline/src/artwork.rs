//! The emoji artwork, compiled in: one picture per emotion plus "not sure" and "no face" (assets/emoji: Noto Emoji,
//! Apache-2.0, see its README), so that what [`crate::annotate`] draws shows the same faces on every machine, with or
//! without a colour emoji font. The one table from a label to its picture is the `emoji-artwork` crate (no
//! dependencies, so that the site's page shows the same pictures without linking this pipeline), re-exported here;
//! this module adds the pictures decoded, for drawing.

use std::sync::OnceLock;

use image::{ImageFormat, RgbaImage};

pub use emoji_artwork::{find, Artwork, ALL, NOT_SURE, NO_FACE};

/// The picture called `name`, decoded (all of them are decoded on the first call, once). `None` for an unknown name;
/// a test checks that every compiled-in file decodes.
pub fn image(name: &str) -> Option<&'static RgbaImage> {
    static DECODED: OnceLock<Vec<Option<RgbaImage>>> = OnceLock::new();
    let decoded = DECODED.get_or_init(|| {
        ALL.iter()
            .map(|a| {
                image::load_from_memory_with_format(a.png, ImageFormat::Png)
                    .ok()
                    .map(|i| i.to_rgba8())
            })
            .collect()
    });
    let i = ALL.iter().position(|a| a.name == name)?;
    decoded.get(i)?.as_ref()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contract::Contract;

    #[test]
    fn every_label_has_the_picture_of_its_contract_emoji() {
        let c = Contract::shipped();
        for (label, emoji) in c.labels.iter().zip(&c.emoji) {
            let a = find(label).unwrap_or_else(|| panic!("no artwork for {label}"));
            assert_eq!(a.emoji, emoji, "{label}");
        }
        assert_eq!(ALL.len(), c.labels.len() + 2);
        assert!(find(NOT_SURE).is_some() && find(NO_FACE).is_some());
        assert!(find("not-a-label").is_none() && image("not-a-label").is_none());
    }

    #[test]
    fn every_picture_decodes_to_a_64_px_face_on_a_transparent_square() {
        for a in &ALL {
            let img = image(a.name).unwrap_or_else(|| panic!("{} does not decode", a.name));
            assert_eq!(img.dimensions(), (64, 64), "{}", a.name);
            assert_eq!(
                img.get_pixel(0, 0)[3],
                0,
                "{}: corner not transparent",
                a.name
            );
            // The faces fill about 2,750 of the 4,096 pixels; "no face" is only a dotted outline,
            // eyes and mouth (about 700).
            let shown = img.pixels().filter(|p| p[3] > 0).count();
            let least = if a.name == NO_FACE { 600 } else { 2_500 };
            assert!(shown > least, "{}: {shown} pixels show", a.name);
        }
    }
}
