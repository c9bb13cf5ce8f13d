//! What the `emoji-mirror` binary shares with the measuring examples (`crates/cli/examples`): walking folders of
//! images. Everything that reads pixels is in the `emoji-pipeline` crate.

pub mod dataset;
