//! Custom hooks.
mod use_engine;

pub use use_engine::use_engine;
