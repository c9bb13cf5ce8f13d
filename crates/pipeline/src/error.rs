//! The library's one error type: every failure names the stage (and, where there is one, the file or
//! model) it came from, so the CLI and the site can print a single clear line.

use thiserror::Error;

/// What can go wrong in the pipeline. Binaries add their own context (the file name) with `anyhow`.
#[derive(Debug, Error)]
pub enum PipelineError {
    /// The embedded preprocessing contract (models/preprocess.json) is malformed.
    #[error("preprocessing contract models/preprocess.json: {0}")]
    Contract(String),

    /// The bytes are not an image we can read (unknown format, truncated, corrupt).
    #[error("decode: {0}")]
    Decode(String),

    /// The image is larger than the configured limits (possible decompression bomb).
    #[error("decode: image rejected by the size limits ({0})")]
    TooLarge(String),

    /// The input is empty (0 bytes, or an image with a zero dimension).
    #[error("decode: empty input")]
    Empty,

    /// A raw RGBA frame whose buffer does not match its stated size.
    #[error("frame: {width}x{height} RGBA needs {expected} bytes, got {actual}")]
    FrameSize {
        width: u32,
        height: u32,
        expected: usize,
        actual: usize,
    },

    /// An image could not be encoded (a synthetic frame's JPEG round trip).
    #[error("encode: {0}")]
    Encode(String),

    /// A model could not be loaded, typed or optimised by tract.
    #[error("loading the {model} model: {message}")]
    ModelLoad {
        model: &'static str,
        message: String,
    },

    /// A model failed at run time, or returned tensors of an unexpected shape.
    #[error("running the {model} model: {message}")]
    Inference {
        model: &'static str,
        message: String,
    },

    /// A face image given to the classifier does not have the contract's input size.
    #[error("classify: face {index} is {width}x{height}, the model takes {expected}x{expected}")]
    FaceSize {
        index: usize,
        width: u32,
        height: u32,
        expected: u32,
    },
}

/// The library's result type.
pub type Result<T, E = PipelineError> = std::result::Result<T, E>;
