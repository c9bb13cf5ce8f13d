//! The preprocessing contract, models/preprocess.json, parsed once from the copy compiled into the
//! library. The training code reads the same file: label order, emoji, grey weights, contrast,
//! normalisation and crop parameters are never written down anywhere else.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

use crate::error::{PipelineError, Result};

/// Number of emotion classes the model predicts (the length of `labels` in the contract; checked at parse time).
pub const LABELS_LEN: usize = 7;

const CONTRACT_JSON: &str = include_str!("../../../models/preprocess.json");

/// Square face crop parameters (see the `crop._doc` field of the contract).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct CropParams {
    /// Crop side as a multiple of max(box width, box height).
    pub scale: f32,
    /// Downward shift of the crop centre, as a fraction of the crop side.
    pub shift_y: f32,
    /// Level the eyes using the detector's eye keypoints.
    pub rotate: bool,
}

/// The parsed contract.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Contract {
    /// Class names, in the model's output order.
    pub labels: Vec<String>,
    /// One emoji per label, same order.
    pub emoji: Vec<String>,
    /// Other spellings of the class names (dataset folder names) → canonical label.
    pub label_aliases: BTreeMap<String, String>,
    /// Side of the square grey model input, in pixels.
    pub input_size: u32,
    /// BT.601 luma weights for R, G, B.
    pub grey_weights_bt601: [f64; 3],
    /// Contrast factor applied before equalisation.
    pub contrast_alpha: f64,
    /// Whether to equalise the histogram.
    pub equalize_histogram: bool,
    /// Normalisation: (x/255 - mean) / std.
    pub mean: f32,
    /// Normalisation: (x/255 - mean) / std.
    pub std: f32,
    /// Face crop parameters.
    pub crop: CropParams,
    /// Classify the face and its mirror image and average their probabilities (test-time flip).
    #[serde(default)]
    pub test_time_flip: bool,
    /// Name of the model's input tensor.
    pub model_input_name: String,
    /// Name of the model's output tensor (raw logits).
    pub model_output_name: String,
}

impl Contract {
    /// Parses a contract from JSON text and checks that it is usable.
    pub fn from_json(text: &str) -> Result<Self> {
        let c: Contract =
            serde_json::from_str(text).map_err(|e| PipelineError::Contract(e.to_string()))?;
        c.validate()?;
        Ok(c)
    }

    /// The contract compiled into this library (models/preprocess.json), parsed once.
    pub fn shipped() -> &'static Contract {
        static SHIPPED: OnceLock<Contract> = OnceLock::new();
        SHIPPED.get_or_init(|| {
            // The file is part of the build: a malformed copy is a build defect caught by the unit
            // tests (`shipped_contract_parses`), never a user input.
            Contract::from_json(CONTRACT_JSON)
                .expect("models/preprocess.json compiled into the library is valid")
        })
    }

    fn validate(&self) -> Result<()> {
        let bad = |m: String| Err(PipelineError::Contract(m));
        if self.labels.len() != LABELS_LEN {
            return bad(format!(
                "{} labels, the pipeline is built for {LABELS_LEN}",
                self.labels.len()
            ));
        }
        if self.emoji.len() != self.labels.len() {
            return bad(format!(
                "{} emoji for {} labels",
                self.emoji.len(),
                self.labels.len()
            ));
        }
        if self.input_size == 0 {
            return bad("input_size is 0".into());
        }
        if !(self.std.is_finite() && self.std > 0.0) {
            return bad(format!("std must be positive, got {}", self.std));
        }
        if !(self.crop.scale.is_finite() && self.crop.scale > 0.0) {
            return bad(format!(
                "crop.scale must be positive, got {}",
                self.crop.scale
            ));
        }
        for (alias, target) in &self.label_aliases {
            if !self.labels.contains(target) {
                return bad(format!(
                    "alias {alias:?} points to unknown label {target:?}"
                ));
            }
        }
        Ok(())
    }

    /// Index of a class name or one of its aliases (case-insensitive), e.g. a dataset folder name.
    pub fn label_index(&self, name: &str) -> Option<usize> {
        let name = name.to_ascii_lowercase();
        let canonical = self
            .label_aliases
            .get(&name)
            .map(String::as_str)
            .unwrap_or(&name);
        self.labels.iter().position(|l| l == canonical)
    }

    /// Grey value of one RGB pixel: floor(wr·R + wg·G + wb·B + 0.5).
    #[inline]
    pub fn grey(&self, r: u8, g: u8, b: u8) -> u8 {
        let [wr, wg, wb] = self.grey_weights_bt601;
        let v = (wr * f64::from(r) + wg * f64::from(g) + wb * f64::from(b) + 0.5).floor();
        v.clamp(0.0, 255.0) as u8
    }
}

/// Label of class `i` in the shipped contract ("?" when out of range).
pub fn label(i: usize) -> &'static str {
    Contract::shipped()
        .labels
        .get(i)
        .map(String::as_str)
        .unwrap_or("?")
}

/// Emoji of class `i` in the shipped contract ("?" when out of range).
pub fn emoji(i: usize) -> &'static str {
    Contract::shipped()
        .emoji
        .get(i)
        .map(String::as_str)
        .unwrap_or("?")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_contract_parses() {
        let c = Contract::shipped();
        assert_eq!(c.labels.len(), LABELS_LEN);
        assert_eq!(c.emoji.len(), LABELS_LEN);
        assert!(c.input_size > 0);
    }

    #[test]
    fn aliases_and_case_resolve_to_labels() {
        let c = Contract::shipped();
        for (i, l) in c.labels.iter().enumerate() {
            assert_eq!(c.label_index(l), Some(i));
            assert_eq!(c.label_index(&l.to_uppercase()), Some(i));
        }
        for (alias, target) in &c.label_aliases {
            assert_eq!(c.label_index(alias), c.label_index(target));
        }
        assert_eq!(c.label_index("not-a-class"), None);
    }

    #[test]
    fn grey_of_pure_channels_follows_the_weights() {
        let c = Contract::shipped();
        let [wr, wg, wb] = c.grey_weights_bt601;
        assert_eq!(c.grey(255, 0, 0), (255.0 * wr + 0.5).floor() as u8);
        assert_eq!(c.grey(0, 255, 0), (255.0 * wg + 0.5).floor() as u8);
        assert_eq!(c.grey(0, 0, 255), (255.0 * wb + 0.5).floor() as u8);
        // A grey pixel stays itself (weights sum to 1).
        for v in [0u8, 1, 77, 128, 254, 255] {
            assert_eq!(c.grey(v, v, v), v);
        }
    }

    #[test]
    fn a_broken_contract_is_rejected_with_a_reason() {
        let mut v: serde_json::Value = serde_json::from_str(CONTRACT_JSON).unwrap();
        v["labels"] = serde_json::json!(["a", "b"]);
        let err = Contract::from_json(&v.to_string()).unwrap_err().to_string();
        assert!(err.contains("labels"), "{err}");
        assert!(Contract::from_json("{").is_err());
    }
}
