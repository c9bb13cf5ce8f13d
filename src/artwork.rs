//! The emoji pictures on the page and on its canvases: the pictures of `emoji_artwork` (the one table, which the
//! pipeline re-exports for the CLI's `--annotate`), compiled into the page's wasm and shown from `data:` URLs, so that
//! every screen shows the same faces, with or without a colour emoji font, and nothing is fetched after load.
//!
//! The page's `<img>`s take [`data_url`]; the canvases (the overlay, the photo, the snapshot) draw the [`Pictures`],
//! made once by the engine, and fall back to the text emoji while a picture is not yet decoded.

use std::sync::OnceLock;

use emoji_artwork::{Artwork, ALL, NOT_SURE};
use web_sys::HtmlImageElement;

use crate::dom::describe;
use crate::protocol::Face;

pub use emoji_artwork::{find, NO_FACE};

/// The name of the picture for a face: its label, or "not sure" when no emotion is clearly ahead.
pub fn of_face(face: &Face) -> &str {
    if face.uncertain {
        NOT_SURE
    } else {
        &face.label
    }
}

/// The picture called `name` as a `data:` URL (made once, on first use); `None` for a name without a picture.
pub fn data_url(name: &str) -> Option<&'static str> {
    static URLS: OnceLock<Vec<String>> = OnceLock::new();
    let urls = URLS.get_or_init(|| ALL.iter().map(Artwork::data_url).collect());
    let i = ALL.iter().position(|a| a.name == name)?;
    urls.get(i).map(String::as_str)
}

/// The pictures as images for drawing on canvases, one per name, loaded from their `data:` URLs when made.
pub struct Pictures(Vec<(&'static str, HtmlImageElement)>);

impl Pictures {
    /// Starts loading every picture (from the page's own memory: no request).
    pub fn load() -> Result<Self, String> {
        ALL.iter()
            .filter_map(|a| Some((a.name, data_url(a.name)?)))
            .map(|(name, url)| {
                let image = HtmlImageElement::new().map_err(|e| describe(&e))?;
                image.set_src(url);
                Ok((name, image))
            })
            .collect::<Result<_, String>>()
            .map(Self)
    }

    /// The picture called `name`, once the browser has loaded it (`None` before, or for an unknown name).
    pub fn ready(&self, name: &str) -> Option<&HtmlImageElement> {
        self.0
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, image)| image)
            .filter(|image| image.complete() && image.natural_width() > 0)
    }
}

/// The text emoji of the picture called `name`, where a picture cannot be shown; `otherwise` for an unknown name.
pub fn text<'a>(name: &str, otherwise: &'a str) -> &'a str {
    find(name).map_or(otherwise, |a| a.emoji)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_picture_has_a_data_url_and_unknown_names_have_none() {
        for a in &ALL {
            let url = data_url(a.name).expect("a data URL");
            assert!(url.starts_with("data:image/png;base64,"), "{}", a.name);
            assert!(
                std::ptr::eq(url, data_url(a.name).unwrap_or_default()),
                "made once"
            );
        }
        assert!(data_url("not-a-label").is_none());
        assert_eq!(text(NOT_SURE, "?"), "🤔");
        assert_eq!(text("not-a-label", "?"), "?");
    }
}
