//! The page's state in one reducer: what the camera is doing, what the worker last saw, what is shown.
//!
//! Components read [`AppState`]; the engine's parts (camera, worker client, photo) and the components change it only
//! through [`Action`]s.

use std::rc::Rc;

use yew::Reducible;

use crate::announce::{Announcer, Reading};
use crate::protocol::{Face, Timings};
use crate::timing::{LiveFigures, LiveTiming};

/// The panels (emotion bars, statistics) show a live answer at most this often, unless the reading changes (another
/// emotion, "not sure", a face found or lost), which they show at once: every frame is analysed and drawn on the
/// overlay, but re-rendering the page's text 30 times a second costs a slow phone's main thread frames (issue 12's
/// bench: `crates/cli/BENCH.md`) and nobody reads bars that fast.
pub const PANEL_REFRESH_MS: f64 = 100.0;

/// The camera and model lifecycle. `data_state` is the stable test contract (`#app[data-state]`).
#[derive(Clone, Debug, PartialEq)]
pub enum Phase {
    /// Fetching the models and starting the worker.
    Loading,
    /// Models loaded; the camera is off.
    Ready,
    /// Waiting for the browser (and the user) to grant the camera.
    Starting,
    Running,
    Denied,
    /// No camera at all, or (`lost`) the camera went away while running; it restarts when one comes back.
    NoCamera {
        lost: bool,
    },
    Error(String),
}

impl Phase {
    pub fn data_state(&self) -> &'static str {
        match self {
            Phase::Loading => "loading",
            Phase::Ready | Phase::Starting => "ready",
            Phase::Running => "running",
            Phase::Denied => "denied",
            Phase::NoCamera { .. } => "no-camera",
            Phase::Error(_) => "error",
        }
    }
}

/// Why the camera could not start.
#[derive(Clone, Debug, PartialEq)]
pub enum CameraFailure {
    Denied,
    NoCamera,
    Other(String),
}

/// A camera the user can pick.
#[derive(Clone, Debug, PartialEq)]
pub struct Camera {
    pub id: String,
    pub label: String,
}

/// What is on the stage.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum View {
    Live,
    Photo,
}

/// One analysed frame (live) or photo.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Report {
    pub faces: Vec<Face>,
    pub width: u32,
    pub height: u32,
    pub timings: Timings,
}

impl Report {
    /// The face the big emoji describes: the largest one.
    pub fn main_face(&self) -> Option<&Face> {
        self.faces
            .iter()
            .max_by(|a, b| a.area().total_cmp(&b.area()))
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct AppState {
    pub phase: Phase,
    pub view: View,
    /// The labels and their emoji, in the order of the probabilities (sent by the worker once it is ready).
    pub labels: Vec<String>,
    pub emoji: Vec<String>,
    pub cameras: Vec<Camera>,
    pub active_camera: Option<String>,
    /// The live answer the panels show (see [`PANEL_REFRESH_MS`]; the overlay draws every answer).
    pub live: Report,
    /// When `live` was last refreshed (the page's clock).
    pub live_shown_ms: f64,
    pub photo: Option<Report>,
    pub photo_busy: bool,
    pub photo_error: Option<String>,
    pub stats_visible: bool,
    /// Frames analysed per second and the time to the first emoji, counted at every answer...
    pub timing: LiveTiming,
    /// ...and as the stats panel shows them, taken with `live`.
    pub figures: LiveFigures,
    /// The worker's milliseconds per stage, the mean over the live answers between the last two refreshes (so that
    /// frames that differ in cost, such as those that carry the detector's last search, all count).
    pub stage_ms: Timings,
    /// Summed over the live answers since the last refresh, and how many.
    stage_sum: (Timings, u32),
    pub model_load_ms: Option<f64>,
    pub worker_wasm_bytes: f64,
    /// The polite live region's text.
    pub announcer: Announcer,
}

impl Default for AppState {
    fn default() -> Self {
        Self {
            phase: Phase::Loading,
            view: View::Live,
            labels: Vec::new(),
            emoji: Vec::new(),
            cameras: Vec::new(),
            active_camera: None,
            live: Report::default(),
            live_shown_ms: f64::NEG_INFINITY,
            photo: None,
            photo_busy: false,
            photo_error: None,
            stats_visible: false,
            timing: LiveTiming::default(),
            figures: LiveFigures::default(),
            stage_ms: Timings::default(),
            stage_sum: (Timings::default(), 0),
            model_load_ms: None,
            worker_wasm_bytes: 0.0,
            announcer: Announcer::default(),
        }
    }
}

impl AppState {
    /// The report the emotion panel shows: the photo in photo view, else the live frame.
    pub fn shown(&self) -> Option<&Report> {
        match self.view {
            View::Photo => self.photo.as_ref(),
            View::Live => Some(&self.live),
        }
    }
}

pub enum Action {
    ModelsReady {
        load_ms: f64,
        labels: Vec<String>,
        emoji: Vec<String>,
    },
    ModelsFailed(String),
    CameraStarting,
    CameraRunning {
        cameras: Vec<Camera>,
        active: Option<String>,
        started_ms: f64,
    },
    CameraFailed(CameraFailure),
    CameraLost,
    CameraStopped,
    /// A live frame's analysis, arrived at `now_ms` (the page's clock), and the worker's wasm memory size.
    LiveAnalysed {
        report: Report,
        now_ms: f64,
        wasm_bytes: f64,
    },
    PhotoChosen,
    PhotoAnalysed(Report),
    PhotoFailed(String),
    ShowLive,
    ToggleStats,
}

impl Reducible for AppState {
    type Action = Action;

    fn reduce(self: Rc<Self>, action: Action) -> Rc<Self> {
        let mut s = (*self).clone();
        match action {
            Action::ModelsReady {
                load_ms,
                labels,
                emoji,
            } => {
                s.model_load_ms = Some(load_ms);
                s.labels = labels;
                s.emoji = emoji;
                if s.phase == Phase::Loading {
                    s.phase = Phase::Ready;
                }
            }
            Action::ModelsFailed(message) => s.phase = Phase::Error(message),
            Action::CameraStarting => {
                s.phase = Phase::Starting;
                s.view = View::Live;
            }
            Action::CameraRunning {
                cameras,
                active,
                started_ms,
            } => {
                s.phase = Phase::Running;
                s.view = View::Live;
                s.cameras = cameras;
                s.active_camera = active;
                s.timing = LiveTiming::started(started_ms);
                s.figures = s.timing.figures();
                s.live = Report::default();
                s.live_shown_ms = f64::NEG_INFINITY;
            }
            Action::CameraFailed(failure) => {
                s.phase = match failure {
                    CameraFailure::Denied => Phase::Denied,
                    CameraFailure::NoCamera => Phase::NoCamera { lost: false },
                    CameraFailure::Other(message) => Phase::Error(message),
                }
            }
            Action::CameraLost => {
                s.phase = Phase::NoCamera { lost: true };
                s.live = Report::default();
                s.timing.stopped();
                s.figures = s.timing.figures();
            }
            Action::CameraStopped => {
                if matches!(
                    s.phase,
                    Phase::Running | Phase::Starting | Phase::NoCamera { lost: true }
                ) {
                    s.phase = Phase::Ready;
                }
                s.live = Report::default();
                s.timing.stopped();
                s.figures = s.timing.figures();
            }
            Action::LiveAnalysed {
                report,
                now_ms,
                wasm_bytes,
            } => {
                s.timing.answered(now_ms, !report.faces.is_empty());
                s.stage_sum = (add(s.stage_sum.0, report.timings), s.stage_sum.1 + 1);
                let reading = Reading::of(&report);
                if s.view == View::Live {
                    s.announcer.live(reading.clone(), now_ms);
                }
                if reading != Reading::of(&s.live)
                    || report.faces.len() != s.live.faces.len()
                    || now_ms - s.live_shown_ms >= PANEL_REFRESH_MS
                {
                    s.live = report;
                    s.live_shown_ms = now_ms;
                    s.figures = s.timing.figures();
                    s.worker_wasm_bytes = wasm_bytes;
                    s.stage_ms = mean(std::mem::take(&mut s.stage_sum));
                }
            }
            Action::PhotoChosen => {
                s.view = View::Photo;
                s.photo_busy = true;
                s.photo_error = None;
            }
            Action::PhotoAnalysed(report) => {
                s.photo_busy = false;
                s.view = View::Photo;
                s.announcer.photo(Reading::of(&report));
                s.photo = Some(report);
            }
            Action::PhotoFailed(message) => {
                s.photo_busy = false;
                s.photo_error = Some(message);
            }
            Action::ShowLive => s.view = View::Live,
            Action::ToggleStats => s.stats_visible = !s.stats_visible,
        }
        Rc::new(s)
    }
}

fn add(a: Timings, b: Timings) -> Timings {
    Timings {
        detect_ms: a.detect_ms + b.detect_ms,
        crop_ms: a.crop_ms + b.crop_ms,
        classify_ms: a.classify_ms + b.classify_ms,
        worker_ms: a.worker_ms + b.worker_ms,
    }
}

fn mean((sum, n): (Timings, u32)) -> Timings {
    let n = f64::from(n.max(1));
    Timings {
        detect_ms: sum.detect_ms / n,
        crop_ms: sum.crop_ms / n,
        classify_ms: sum.classify_ms / n,
        worker_ms: sum.worker_ms / n,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LABELS: [&str; 7] = [
        "angry", "disgust", "fear", "happy", "neutral", "sad", "surprise",
    ];

    fn face(top: usize, uncertain: bool, side: f32) -> Face {
        Face {
            id: 1,
            label: LABELS[top].to_string(),
            emoji: "E".to_string(),
            x: 0.0,
            y: 0.0,
            w: side,
            h: side,
            probabilities: vec![0.0; 7],
            top,
            confidence: 0.9,
            uncertain,
        }
    }

    /// A live answer at `now_ms`; its detection took `now_ms` modulo 10 ms (a figure that varies).
    fn live(state: Rc<AppState>, faces: Vec<Face>, now_ms: f64) -> Rc<AppState> {
        let report = Report {
            faces,
            width: 320,
            height: 240,
            timings: Timings {
                detect_ms: now_ms % 10.0,
                ..Timings::default()
            },
        };
        state.reduce(Action::LiveAnalysed {
            report,
            now_ms,
            wasm_bytes: 0.0,
        })
    }

    #[test]
    fn the_largest_face_is_the_main_face() {
        let report = Report {
            faces: vec![face(1, false, 10.0), face(3, false, 50.0)],
            ..Report::default()
        };
        assert_eq!(report.main_face().map(|f| f.top), Some(3));
    }

    #[test]
    fn a_reading_is_announced_once_after_it_holds() {
        let mut s = Rc::new(AppState::default());
        s = live(s, vec![face(3, false, 40.0)], 0.0);
        assert_eq!(s.announcer.text(), "");
        s = live(s, vec![face(3, false, 40.0)], 500.0);
        assert_eq!(s.announcer.text(), "");
        s = live(s, vec![face(3, false, 40.0)], 1000.0);
        assert_eq!(s.announcer.text(), "Happy E");
        // A flicker shorter than the hold time is not announced.
        s = live(s, vec![face(5, false, 40.0)], 1100.0);
        s = live(s, vec![face(3, false, 40.0)], 1200.0);
        s = live(s, vec![face(3, false, 40.0)], 5000.0);
        assert_eq!(s.announcer.text(), "Happy E");
        s = live(s, vec![face(0, true, 40.0)], 6000.0);
        s = live(s, vec![face(0, true, 40.0)], 7000.0);
        assert_eq!(s.announcer.text(), "Not sure which emotion.");
    }

    #[test]
    fn the_panels_refresh_at_most_every_100_ms_but_show_a_new_reading_at_once() {
        let happy = |confidence: f32| {
            let mut f = face(3, false, 40.0);
            f.confidence = confidence;
            f
        };
        let mut s = Rc::new(AppState::default());
        s = live(s, vec![happy(0.5)], 1000.0);
        assert_eq!(s.live.faces[0].confidence, 0.5, "the first answer is shown");
        s = live(s, vec![happy(0.6)], 1033.0);
        s = live(s, vec![happy(0.7)], 1066.0);
        assert_eq!(
            s.live.faces[0].confidence, 0.5,
            "the same reading waits for the refresh"
        );
        assert_eq!(s.timing.frames(), 3, "every answer is counted");
        assert_eq!(s.figures.frames, 1, "the shown figures wait too");
        s = live(s, vec![happy(0.8)], 1100.0);
        assert_eq!(s.live.faces[0].confidence, 0.8, "refreshed after 100 ms");
        assert_eq!(s.figures.frames, 4);
        assert_eq!(
            s.stage_ms.detect_ms,
            (3.0 + 6.0 + 0.0) / 3.0,
            "the stages' mean over the answers since the last refresh"
        );
        s = live(s, vec![face(5, false, 40.0)], 1110.0);
        assert_eq!(
            s.live.faces[0].label, "sad",
            "another emotion is shown at once"
        );
        s = live(s, vec![face(5, true, 40.0)], 1120.0);
        assert!(s.live.faces[0].uncertain, "so is \"not sure\"");
        s = live(s, vec![], 1130.0);
        assert!(s.live.faces.is_empty(), "and a face lost");
        s = live(s, vec![face(5, true, 40.0), face(5, true, 20.0)], 1140.0);
        assert_eq!(s.live.faces.len(), 2, "and a second face");
    }

    #[test]
    fn data_state_follows_the_contract() {
        let states = [
            Phase::Loading,
            Phase::Ready,
            Phase::Starting,
            Phase::Running,
            Phase::Denied,
            Phase::NoCamera { lost: true },
            Phase::Error("x".into()),
        ];
        let names: Vec<_> = states.iter().map(Phase::data_state).collect();
        assert_eq!(
            names,
            [
                "loading",
                "ready",
                "ready",
                "running",
                "denied",
                "no-camera",
                "error"
            ]
        );
    }

    #[test]
    fn first_emoji_time_counts_from_the_camera_start() {
        let s = Rc::new(AppState::default()).reduce(Action::CameraRunning {
            cameras: vec![],
            active: None,
            started_ms: 100.0,
        });
        let s = live(s, vec![], 200.0);
        assert_eq!(s.timing.first_emoji_ms(), None);
        let s = live(s, vec![face(3, false, 40.0)], 900.0);
        assert_eq!(s.timing.first_emoji_ms(), Some(800.0));
        let s = s.reduce(Action::CameraStopped);
        assert_eq!(s.timing.fps(), 0.0);
        assert_eq!(s.timing.first_emoji_ms(), Some(800.0));
    }
}
