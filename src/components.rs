//! The page's components: small and stateless, rendering [`crate::state::AppState`].
mod controls;
mod emotion;
mod stage;
mod stats;
mod status;

pub use controls::Controls;
pub use emotion::EmotionPanel;
pub use stage::Stage;
pub use stats::Stats;
pub use status::Status;
