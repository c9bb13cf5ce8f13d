//! The emoji artwork, compiled in: one picture per emotion plus "not sure" and "no face" (assets/emoji: Noto Emoji,
//! Apache-2.0, see its README), so that Emoji Mirror shows the same faces on every screen, with or without a colour
//! emoji font. This is the one table from a label to its picture: the pipeline re-exports it as
//! `emoji_pipeline::artwork` (where the CLI's `--annotate` draws it), and the site's page, which must not link the
//! pipeline (tract would come with it), uses it from here and shows each picture from a `data:` URL
//! ([`Artwork::data_url`]), so that nothing is fetched after the page has loaded.
//!
//! No dependencies: whatever links this crate gets the table, the nine small PNG files and nothing else.

/// Name of the picture shown when no emotion is clearly ahead.
pub const NOT_SURE: &str = "not-sure";
/// Name of the picture shown when there is no face.
pub const NO_FACE: &str = "no-face";

/// One picture of assets/emoji.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Artwork {
    /// A label of the contract, [`NOT_SURE`] or [`NO_FACE`]; the file is `<name>.png`.
    pub name: &'static str,
    /// The emoji it pictures (for an emotion, the contract's emoji of that label).
    pub emoji: &'static str,
    /// The PNG file.
    pub png: &'static [u8],
}

macro_rules! artwork {
    ($name:literal, $emoji:literal) => {
        Artwork {
            name: $name,
            emoji: $emoji,
            png: include_bytes!(concat!("../../../assets/emoji/", $name, ".png")),
        }
    };
}

/// Every picture: the seven emotions, then "not sure" and "no face".
pub const ALL: [Artwork; 9] = [
    artwork!("angry", "😠"),
    artwork!("disgust", "🤢"),
    artwork!("fear", "😨"),
    artwork!("happy", "😄"),
    artwork!("neutral", "😐"),
    artwork!("sad", "😢"),
    artwork!("surprise", "😮"),
    artwork!("not-sure", "🤔"),
    artwork!("no-face", "🫥"),
];

/// The picture called `name` (a label, [`NOT_SURE`] or [`NO_FACE`]).
pub fn find(name: &str) -> Option<&'static Artwork> {
    ALL.iter().find(|a| a.name == name)
}

impl Artwork {
    /// The picture as a `data:image/png;base64,…` URL: shown by a page without a request for it.
    pub fn data_url(&self) -> String {
        format!("data:image/png;base64,{}", base64(self.png))
    }

    /// What the picture shows, in words (alt text): the label, "not sure" or "no face".
    pub fn words(&self) -> String {
        self.name.replace('-', " ")
    }
}

/// Standard base64 (RFC 4648, with padding): all a `data:` URL needs, without a crate for it.
pub fn base64(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        // The chunk's bytes as the top 24 bits, then one digit per 6 bits it covers, '=' for the rest.
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, &b)| n | u32::from(b) << (16 - 8 * i));
        for i in 0..4 {
            out.push(if i <= chunk.len() {
                char::from(DIGITS[(n >> (18 - 6 * i) & 63) as usize])
            } else {
                '='
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_the_rfc_4648_examples() {
        let cases = [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ];
        for (plain, encoded) in cases {
            assert_eq!(base64(plain.as_bytes()), encoded, "{plain:?}");
        }
        assert_eq!(base64(&[0xfb, 0xff, 0xfe]), "+//+");
    }

    #[test]
    fn every_picture_is_a_png_data_url_named_in_words() {
        for a in &ALL {
            let url = a.data_url();
            // The PNG signature, 89 50 4E 47 0D 0A 1A 0A, begins "iVBORw0KGgo" in base64.
            assert!(
                url.starts_with("data:image/png;base64,iVBORw0KGgo"),
                "{}",
                a.name
            );
            assert_eq!(
                url.len(),
                "data:image/png;base64,".len() + a.png.len().div_ceil(3) * 4
            );
            assert!(!a.words().contains('-'), "{}", a.name);
        }
        assert_eq!(
            find(NOT_SURE).map(Artwork::words).as_deref(),
            Some("not sure")
        );
        assert_eq!(find("happy").map(Artwork::words).as_deref(), Some("happy"));
        assert!(find("not-a-label").is_none());
    }

    #[test]
    fn the_assets_folder_holds_exactly_these_pictures() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../assets/emoji");
        let mut pngs: Vec<String> = std::fs::read_dir(dir)
            .expect("assets/emoji")
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .filter_map(|n| n.strip_suffix(".png").map(str::to_string))
            .collect();
        pngs.sort();
        let mut names: Vec<&str> = ALL.iter().map(|a| a.name).collect();
        names.sort();
        assert_eq!(pngs, names);
    }
}
