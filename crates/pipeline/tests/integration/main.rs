//! The pipeline's integration tests, in one binary (each test binary links tract, which is slow to
//! link on a small machine): BlazeFace parity with MediaPipe, emotion-model parity with training,
//! detection of pasted faces, and hostile inputs.

mod blazeface_parity;
mod common;
mod detect_faces;
mod emotion_parity;
mod hostile_input;
mod shipped_models;
