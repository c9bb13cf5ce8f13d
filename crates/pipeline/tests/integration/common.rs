//! Shared by the integration tests: the repository's files and the FER2013 data (the workspace's
//! `test_support`), and the face detector as the site runs it.

use std::sync::OnceLock;

use emoji_pipeline::{
    aligned_face, decode_image, Contract, DecodeLimits, FaceDetector, SHIPPED_DETECTOR,
};
use image::GrayImage;

pub use test_support::{load_grey, model_bytes, val_sample};

/// BlazeFace from the shipped archive (models/blazeface_short_range.nnef.tar, what the site fetches), loaded once.
pub fn detector() -> &'static FaceDetector {
    static DETECTOR: OnceLock<FaceDetector> = OnceLock::new();
    DETECTOR.get_or_init(|| FaceDetector::from_bytes(SHIPPED_DETECTOR).expect("BlazeFace loads"))
}

/// An image that already is a face crop (a dataset or parity image, as bytes), as the classifier's grey input:
/// decoded with the library's limits, its centred square at the contract's size.
pub fn aligned(bytes: &[u8]) -> GrayImage {
    let rgb = decode_image(bytes, &DecodeLimits::default()).expect("the face image decodes");
    aligned_face(&rgb, Contract::shipped())
}
