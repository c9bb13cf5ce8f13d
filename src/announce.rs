//! What the page says to screen readers about the main face: a polite announcement of the reading, only once it has
//! held for [`ANNOUNCE_AFTER_MS`] and only when it changed; a photo's reading at once.

use crate::state::Report;

/// How long a new reading must hold before screen readers are told about it.
pub const ANNOUNCE_AFTER_MS: f64 = 1000.0;

/// What the page says about the main face, in words, for screen readers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reading {
    NoFace,
    NotSure,
    /// Label and emoji.
    Emotion(String, String),
}

impl Reading {
    pub fn of(report: &Report) -> Self {
        match report.main_face() {
            None => Reading::NoFace,
            Some(face) if face.uncertain => Reading::NotSure,
            Some(face) => Reading::Emotion(face.label.clone(), face.emoji.clone()),
        }
    }

    pub fn sentence(&self) -> String {
        match self {
            Reading::NoFace => "No face in view.".to_string(),
            Reading::NotSure => "Not sure which emotion.".to_string(),
            Reading::Emotion(label, emoji) => format!("{} {emoji}", capitalised(label)),
        }
    }
}

pub fn capitalised(word: &str) -> String {
    let mut chars = word.chars();
    chars
        .next()
        .map_or_else(String::new, |c| c.to_uppercase().chain(chars).collect())
}

/// The polite live region's text and the reading it describes.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Announcer {
    text: String,
    announced: Option<Reading>,
    candidate: Option<(Reading, f64)>,
}

impl Announcer {
    /// What the live region says.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// A live frame's reading at `now_ms`: announced once it has held for [`ANNOUNCE_AFTER_MS`], if it changed.
    pub fn live(&mut self, reading: Reading, now_ms: f64) {
        match &self.candidate {
            Some((r, _)) if *r == reading => {}
            _ => self.candidate = Some((reading, now_ms)),
        }
        if let Some((r, since)) = &self.candidate {
            if now_ms - since >= ANNOUNCE_AFTER_MS && self.announced.as_ref() != Some(r) {
                self.text = r.sentence();
                self.announced = Some(r.clone());
            }
        }
    }

    /// A photo's reading, announced at once.
    pub fn photo(&mut self, reading: Reading) {
        self.text = format!("Photo: {}", reading.sentence());
        self.announced = Some(reading);
        self.candidate = None;
    }
}
