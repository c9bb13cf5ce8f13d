//! Emoji Mirror's pipeline, the one implementation of every step that the site (wasm), the CLI and
//! the tests call, a module a stage: [`decode`] → [`detect`] (BlazeFace) → [`crop`] (48x48 grey) →
//! [`normalize`] (contrast, histogram equalisation, (x/255 - mean)/std) → [`classify`] (emotion
//! CNN) → [`smooth`] (tracker). [`Pipeline::analyze`] runs them in that order on one image.
//!
//! The preprocessing constants and label order come from models/preprocess.json ([`Contract`]);
//! the models are loaded from bytes ([`Pipeline::from_bytes`], [`model`]) or, with the
//! `embedded-models` feature, compiled in ([`Pipeline::shipped`]). Around them: [`annotate`] draws
//! results onto a picture with the emoji pictures of [`artwork`], [`synth`] builds frames with a
//! known face for tests and benchmarks, and with the `onnx` feature `convert` turns training's ONNX
//! exports into the shipped NNEF archives.

pub mod annotate;
pub mod artwork;
pub mod classify;
pub mod contract;
#[cfg(feature = "onnx")]
pub mod convert;
pub mod crop;
pub mod decode;
pub mod detect;
pub mod error;
pub mod geometry;
mod heads;
pub mod model;
pub mod normalize;
pub mod profile;
pub mod resample;
pub mod smooth;
pub mod synth;

use serde::{Deserialize, Serialize};
use web_time::Instant;

pub use annotate::{annotate, Annotation};
pub use classify::{argmax, softmax, EmotionClassifier, Probabilities, Views};
pub use contract::{emoji, label, Contract, CropParams, LABELS_LEN};
#[cfg(feature = "onnx")]
pub use convert::onnx_to_nnef;
pub use crop::{aligned_face, crop_grey, crop_region, face_crop, CropRegion};
pub use decode::{decode_image, DecodeLimits, Frame};
pub use detect::{
    tile_plan, Detection, DetectorConfig, FaceDetector, Follow, SearchCounts, StreamSearch, Tile,
    Tiling,
};
pub use error::{PipelineError, Result};
pub use geometry::BoxF;
/// The pixels the pipeline reads (`image`'s 8-bit RGB), for callers that make their own.
pub use image::RgbImage;
pub use model::{InputShape, ModelFormat};
pub use normalize::{enhance, face_tensor_input};
pub use profile::OpTime;
pub use smooth::{TrackedFace, Tracker, TrackerConfig};

/// One analysed face: where it is and how it feels.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct FaceResult {
    pub detection: Detection,
    /// Softmax probabilities in the contract's label order.
    pub probabilities: Probabilities,
}

impl FaceResult {
    /// Index of the most probable label.
    pub fn top(&self) -> usize {
        argmax(&self.probabilities)
    }
}

/// Wall-clock time spent in each stage of [`Pipeline::analyze`], milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct StageTimings {
    pub detect_ms: f64,
    pub crop_ms: f64,
    pub classify_ms: f64,
    pub total_ms: f64,
}

/// The faces found in one image.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Analysis {
    pub faces: Vec<FaceResult>,
    pub timings: StageTimings,
}

/// A live stream's state from one frame to the next: the detector's search ([`StreamSearch`]) and, with the
/// contract's test-time flip, which view of the faces the classifier reads next. A stream reads each face and its
/// mirror on alternate frames and the tracker's smoothing (a time constant of several frames) averages them: the
/// flip's benefit at one classification a frame, not two. A photo or a dataset image, judged alone, still averages
/// both views at once.
#[derive(Debug, Clone, Default)]
pub struct Stream {
    search: StreamSearch,
    mirror_next: bool,
}

impl Stream {
    pub fn new() -> Self {
        Self::default()
    }

    /// How the detector read the stream's frames so far.
    pub fn search_counts(&self) -> SearchCounts {
        self.search.counts()
    }
}

/// Detector + classifier + contract, loaded once.
#[derive(Debug, Clone)]
pub struct Pipeline {
    detector: FaceDetector,
    classifier: EmotionClassifier,
    contract: Contract,
}

/// models/blazeface_short_range.nnef.tar (what the site fetches), compiled in.
#[cfg(feature = "embedded-models")]
pub const SHIPPED_DETECTOR: &[u8] =
    include_bytes!("../../../models/blazeface_short_range.nnef.tar");
/// models/emotion_int8.nnef.tar (the shipped int8 form, what the site fetches), compiled in.
#[cfg(feature = "embedded-models")]
pub const SHIPPED_EMOTION: &[u8] = include_bytes!("../../../models/emotion_int8.nnef.tar");

fn ms_since(t: Instant) -> f64 {
    t.elapsed().as_secs_f64() * 1000.0
}

impl Pipeline {
    /// Loads both models from their bytes (NNEF archives; ONNX too with the `onnx` feature), with the shipped
    /// contract.
    pub fn from_bytes(detector: &[u8], emotion: &[u8]) -> Result<Self> {
        let contract = Contract::shipped().clone();
        Ok(Pipeline {
            detector: FaceDetector::from_bytes(detector)?,
            classifier: EmotionClassifier::from_bytes(emotion, &contract)?,
            contract,
        })
    }

    /// The models compiled into the binary (BlazeFace and the int8 emotion model).
    #[cfg(feature = "embedded-models")]
    pub fn shipped() -> Result<Self> {
        Self::from_bytes(SHIPPED_DETECTOR, SHIPPED_EMOTION)
    }

    /// The same pipeline with another emotion model (e.g. the float form), and that model's contract (which the
    /// crop and the test-time flip follow too).
    pub fn with_classifier(mut self, classifier: EmotionClassifier) -> Self {
        self.contract = classifier.contract().clone();
        self.classifier = classifier;
        self
    }

    /// The same pipeline with another face detector (e.g. the shipped one with another search cadence).
    pub fn with_detector(mut self, detector: FaceDetector) -> Self {
        self.detector = detector;
        self
    }

    pub fn detector(&self) -> &FaceDetector {
        &self.detector
    }

    pub fn classifier(&self) -> &EmotionClassifier {
        &self.classifier
    }

    pub fn contract(&self) -> &Contract {
        &self.contract
    }

    /// Detects every face in the image and classifies them in one batch.
    pub fn analyze(&self, img: &RgbImage) -> Result<Analysis> {
        self.analyze_with(img, None)
    }

    /// [`Pipeline::analyze`] on one frame of a camera stream ([`Stream`]): the detector's search carries over from
    /// the frame before, so that a frame without a face found costs a few network runs, not a photo's; with the
    /// contract's test-time flip, the frames read a face and its mirror in turn.
    pub fn analyze_in_stream(&self, img: &RgbImage, stream: &mut Stream) -> Result<Analysis> {
        self.analyze_with(img, Some(stream))
    }

    fn analyze_with(&self, img: &RgbImage, stream: Option<&mut Stream>) -> Result<Analysis> {
        let start = Instant::now();
        let flip = self.contract.test_time_flip;
        let (detections, views) = match stream {
            Some(stream) => {
                let views = if stream.mirror_next {
                    Views::Mirror
                } else {
                    Views::Face
                };
                // Without the flip the stream never turns to the mirror.
                stream.mirror_next = flip && !stream.mirror_next;
                (
                    self.detector.detect_in_stream(img, &mut stream.search)?,
                    views,
                )
            }
            None => (
                self.detector.detect(img)?,
                if flip { Views::Both } else { Views::Face },
            ),
        };
        let detect_ms = ms_since(start);

        let t = Instant::now();
        let crops: Vec<_> = detections
            .iter()
            .map(|d| face_crop(img, d, &self.contract))
            .collect();
        let crop_ms = ms_since(t);

        let t = Instant::now();
        let probabilities = self.classifier.classify_views(&crops, views)?;
        let classify_ms = ms_since(t);

        let faces = detections
            .into_iter()
            .zip(probabilities)
            .map(|(detection, probabilities)| FaceResult {
                detection,
                probabilities,
            })
            .collect();
        Ok(Analysis {
            faces,
            timings: StageTimings {
                detect_ms,
                crop_ms,
                classify_ms,
                total_ms: ms_since(start),
            },
        })
    }

    /// Classifies an image that already is an aligned face crop (no detection): its centred
    /// square, grey, at the model's input size.
    pub fn classify_aligned(&self, img: &RgbImage) -> Result<Probabilities> {
        let face = aligned_face(img, &self.contract);
        let mut p = self.classifier.classify(std::slice::from_ref(&face))?;
        p.pop().ok_or(PipelineError::Inference {
            model: "emotion classifier",
            message: "no output for one face".into(),
        })
    }
}
