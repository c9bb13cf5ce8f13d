//! Live-video smoothing: follow faces from frame to frame by box overlap, smooth their boxes and
//! probabilities with an exponential filter whose time constant is in milliseconds (so it behaves
//! the same at 10 or 60 frames a second), drop faces that have left, and flag a face `uncertain`
//! when its top emotion is not clearly ahead. What a face shows (its label, sure or not) changes
//! only when the smoothed probabilities cross a band around each threshold (hysteresis), so that a
//! face sitting on a threshold does not make the emoji flicker.

use serde::{Deserialize, Serialize};

use crate::classify::{argmax, Probabilities};
use crate::geometry::BoxF;
use crate::FaceResult;

/// Every tracking threshold, in one place.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TrackerConfig {
    /// A new detection continues a track when their boxes overlap at least this much (IoU).
    pub match_iou: f32,
    /// Time constant of the probability smoothing, ms (63% of a step change after this long).
    pub probability_tau_ms: f64,
    /// Time constant of the box smoothing, ms (shorter: boxes should follow the head).
    pub box_tau_ms: f64,
    /// A track not matched for more than this many consecutive frames is dropped…
    pub max_missed_frames: u32,
    /// …or when it has not been seen for longer than this, ms.
    pub max_missed_ms: f64,
    /// Uncertain when the top probability is below this…
    pub min_confidence: f32,
    /// …or ahead of the runner-up by less than this.
    pub min_margin: f32,
    /// Half-width of the band around `min_confidence` and `min_margin` that a face must cross to
    /// change between sure and not sure, and the lead another label needs over the one shown to
    /// take its place.
    pub hysteresis: f32,
}

impl Default for TrackerConfig {
    fn default() -> Self {
        TrackerConfig {
            match_iou: 0.3,
            // 200 ms with a band of ±0.10: on 70 val faces held 6 s and 52 switches (`emoji-mirror live`,
            // crates/cli/FULLPATH.md) the widest band whose follow stays near 200 ms (median; 49 of 52 ≤ 400 ms)
            // and whose spurious changes fall under 1 per 5 s (0.80; ±0.04 gave 1.75, a longer τ follows later).
            probability_tau_ms: 200.0,
            box_tau_ms: 80.0,
            max_missed_frames: 5,
            max_missed_ms: 700.0,
            min_confidence: 0.4,
            min_margin: 0.1,
            hysteresis: 0.10,
        }
    }
}

/// A face followed over time.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TrackedFace {
    /// Stable across frames while the face stays in view.
    pub id: u32,
    /// Smoothed box, frame pixels.
    pub bbox: BoxF,
    /// Smoothed probabilities (sum 1).
    pub probabilities: Probabilities,
    /// Index of the top label.
    pub top: usize,
    /// Smoothed probability of the top label.
    pub confidence: f32,
    /// The top label is not clearly ahead (see [`TrackerConfig`]).
    pub uncertain: bool,
    /// Consecutive frames this face was not detected (0 = seen in the latest frame).
    pub missed_frames: u32,
}

#[derive(Debug, Clone)]
struct Track {
    id: u32,
    bbox: BoxF,
    probabilities: Probabilities,
    last_update_ms: f64,
    last_seen_ms: f64,
    missed: u32,
    /// What the face shows since the latest frame.
    shown: Shown,
}

/// The label a face shows and whether it is sure of it.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Shown {
    top: usize,
    uncertain: bool,
}

impl Shown {
    /// What probabilities `p` show, given what the face showed before (`None`: a new face).
    fn decide(p: &Probabilities, before: Option<Shown>, cfg: &TrackerConfig) -> Shown {
        let best = argmax(p);
        let top = match before {
            // The label shown stays until another leads it by the band.
            Some(b) if p[best] - p[b.top] < cfg.hysteresis => b.top,
            _ => best,
        };
        let runner_up = p
            .iter()
            .enumerate()
            .filter(|&(i, _)| i != top)
            .map(|(_, &v)| v)
            .fold(0.0f32, f32::max);
        // A sure face turns unsure below the band, an unsure one sure above it.
        let band = match before {
            None => 0.0,
            Some(b) if b.uncertain => cfg.hysteresis,
            Some(_) => -cfg.hysteresis,
        };
        let uncertain =
            p[top] < cfg.min_confidence + band || p[top] - runner_up < cfg.min_margin + band;
        Shown { top, uncertain }
    }
}

/// Follows faces across frames. Feed it every analysed frame in time order.
#[derive(Debug, Clone)]
pub struct Tracker {
    config: TrackerConfig,
    tracks: Vec<Track>,
    next_id: u32,
}

fn blend(tau_ms: f64, dt_ms: f64) -> f32 {
    if tau_ms <= 0.0 {
        1.0
    } else {
        (1.0 - (-dt_ms.max(0.0) / tau_ms).exp()) as f32
    }
}

impl Tracker {
    /// A tracker with no faces yet.
    pub fn new(config: TrackerConfig) -> Self {
        Tracker {
            config,
            tracks: Vec::new(),
            next_id: 1,
        }
    }

    /// The thresholds in use.
    pub fn config(&self) -> &TrackerConfig {
        &self.config
    }

    /// Forgets every face (e.g. when the camera restarts).
    pub fn reset(&mut self) {
        self.tracks.clear();
    }

    /// Takes the faces of the frame shown at `now_ms` and returns the faces being followed,
    /// smoothed, including ones missed for a few frames (see `missed_frames`).
    pub fn update(&mut self, faces: &[FaceResult], now_ms: f64) -> Vec<TrackedFace> {
        let cfg = self.config;
        // Greedy matching, best overlap first.
        let mut pairs = Vec::new();
        for (t, track) in self.tracks.iter().enumerate() {
            for (f, face) in faces.iter().enumerate() {
                let iou = track.bbox.iou(&face.detection.bbox);
                if iou >= cfg.match_iou {
                    pairs.push((iou, t, f));
                }
            }
        }
        pairs.sort_by(|a, b| b.0.total_cmp(&a.0));
        let mut track_used = vec![false; self.tracks.len()];
        let mut face_used = vec![false; faces.len()];
        for (_, t, f) in pairs {
            if track_used[t] || face_used[f] {
                continue;
            }
            track_used[t] = true;
            face_used[f] = true;
            let track = &mut self.tracks[t];
            let dt = now_ms - track.last_update_ms;
            let ap = blend(cfg.probability_tau_ms, dt);
            let ab = blend(cfg.box_tau_ms, dt);
            for (p, &n) in track.probabilities.iter_mut().zip(&faces[f].probabilities) {
                *p += ap * (n - *p);
            }
            let nb = faces[f].detection.bbox;
            track.bbox.x += ab * (nb.x - track.bbox.x);
            track.bbox.y += ab * (nb.y - track.bbox.y);
            track.bbox.w += ab * (nb.w - track.bbox.w);
            track.bbox.h += ab * (nb.h - track.bbox.h);
            track.last_update_ms = now_ms;
            track.last_seen_ms = now_ms;
            track.missed = 0;
            track.shown = Shown::decide(&track.probabilities, Some(track.shown), &cfg);
        }
        for (t, used) in track_used.iter().enumerate() {
            if !used {
                self.tracks[t].missed += 1;
            }
        }
        self.tracks.retain(|t| {
            t.missed == 0
                || (t.missed <= cfg.max_missed_frames
                    && now_ms - t.last_seen_ms <= cfg.max_missed_ms)
        });
        for (f, used) in face_used.iter().enumerate() {
            if !used {
                self.tracks.push(Track {
                    id: self.next_id,
                    bbox: faces[f].detection.bbox,
                    probabilities: faces[f].probabilities,
                    last_update_ms: now_ms,
                    last_seen_ms: now_ms,
                    missed: 0,
                    shown: Shown::decide(&faces[f].probabilities, None, &cfg),
                });
                self.next_id = self.next_id.wrapping_add(1).max(1);
            }
        }
        self.tracks.iter().map(|t| self.view(t)).collect()
    }

    fn view(&self, t: &Track) -> TrackedFace {
        TrackedFace {
            id: t.id,
            bbox: t.bbox,
            probabilities: t.probabilities,
            top: t.shown.top,
            confidence: t.probabilities[t.shown.top],
            uncertain: t.shown.uncertain,
            missed_frames: t.missed,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::Detection;

    fn face(x: f32, probs: Probabilities) -> FaceResult {
        FaceResult {
            detection: Detection {
                bbox: BoxF {
                    x,
                    y: 10.0,
                    w: 100.0,
                    h: 100.0,
                },
                score: 0.9,
                keypoints: [(0.0, 0.0); 6],
            },
            probabilities: probs,
        }
    }

    const HAPPY: Probabilities = [0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0];
    const SAD: Probabilities = [0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0];

    #[test]
    fn a_face_keeps_its_id_and_its_probabilities_are_smoothed_in_time() {
        let cfg = TrackerConfig {
            probability_tau_ms: 100.0,
            ..TrackerConfig::default()
        };
        let mut t = Tracker::new(cfg);
        let out = t.update(&[face(0.0, HAPPY)], 0.0);
        assert_eq!(out.len(), 1);
        let id = out[0].id;
        assert_eq!(out[0].top, 3);
        assert!(!out[0].uncertain);
        // One time constant later the face turned sad: 1 - e^-1 = 63.2% of the way.
        let out = t.update(&[face(5.0, SAD)], 100.0);
        assert_eq!(out[0].id, id);
        let k = 1.0 - (-1.0f32).exp();
        assert!((out[0].probabilities[5] - k).abs() < 1e-5);
        assert!((out[0].probabilities[3] - (1.0 - k)).abs() < 1e-5);
        assert_eq!(out[0].top, 5);
        // 0.632 vs 0.368: clearly ahead with the default margin.
        assert!(!out[0].uncertain);
        // The box moved towards x = 5 by 1 - e^(-100/80).
        let kb = 1.0 - (-100.0f32 / 80.0).exp();
        assert!((out[0].bbox.x - 5.0 * kb).abs() < 1e-4);
    }

    #[test]
    fn a_close_call_is_uncertain() {
        let mut t = Tracker::new(TrackerConfig::default());
        let out = t.update(&[face(0.0, [0.0, 0.0, 0.0, 0.45, 0.0, 0.4, 0.15])], 0.0);
        assert!(out[0].uncertain);
        let out = t.update(&[face(300.0, [0.0, 0.0, 0.0, 0.3, 0.2, 0.25, 0.25])], 0.0);
        assert!(out.iter().all(|f| f.uncertain));
    }

    /// Feeds one face's probabilities frame by frame, unsmoothed, and returns what it shows each frame.
    fn shown_over(frames: &[Probabilities]) -> Vec<(usize, bool)> {
        let mut t = Tracker::new(TrackerConfig {
            probability_tau_ms: 0.0,
            ..TrackerConfig::default()
        });
        frames
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let f = t.update(&[face(0.0, *p)], i as f64 * 33.0)[0];
                (f.top, f.uncertain)
            })
            .collect()
    }

    #[test]
    fn a_face_on_a_threshold_does_not_flicker() {
        let cfg = TrackerConfig::default();
        let (c, band) = (cfg.min_confidence, cfg.hysteresis);
        // The top probability on happy, the rest spread evenly (a lead well above min_margin).
        let p = |h: f32| {
            let r = (1.0 - h) / 6.0;
            [r, r, r, h, r, r, r]
        };
        // Half a band either side of min_confidence in turn: a sure face stays sure.
        let (edge, lower) = (c + band / 2.0, c - band / 2.0);
        let shown = shown_over(&[p(edge), p(lower), p(edge), p(lower), p(edge)]);
        assert!(shown.iter().all(|&s| s == (3, false)), "{shown:?}");
        // A drop below the band makes it unsure; back to half a band above it stays unsure; past the band, sure.
        let shown = shown_over(&[p(edge), p(c - 1.2 * band), p(edge), p(c + 1.5 * band)]);
        assert_eq!(shown, vec![(3, false), (3, true), (3, true), (3, false)]);
    }

    #[test]
    fn the_label_shown_changes_only_when_another_clearly_leads() {
        let band = TrackerConfig::default().hysteresis;
        let p = |h: f32, s: f32| [0.0, 0.0, 0.0, h, 0.0, s, 1.0 - h - s];
        let shown = shown_over(&[
            p(0.6, 0.3),
            p(0.45 - band / 4.0, 0.45 + band / 4.0),
            p(0.45 - 0.75 * band, 0.45 + 0.75 * band),
            p(0.3, 0.6),
        ]);
        // Sad leads by half the band: happy stays shown, unsure; by one and a half: sad, still unsure.
        assert_eq!(shown, vec![(3, false), (3, true), (5, true), (5, false)]);
    }

    #[test]
    fn two_faces_get_two_ids_and_a_face_that_leaves_is_dropped() {
        let cfg = TrackerConfig {
            max_missed_frames: 2,
            max_missed_ms: 1000.0,
            ..TrackerConfig::default()
        };
        let mut t = Tracker::new(cfg);
        let out = t.update(&[face(0.0, HAPPY), face(300.0, SAD)], 0.0);
        assert_eq!(out.len(), 2);
        assert_ne!(out[0].id, out[1].id);
        let right_id = out.iter().find(|f| f.top == 5).unwrap().id;
        // The left face leaves: kept through 2 missed frames, then dropped.
        for (i, now) in [33.0, 66.0].into_iter().enumerate() {
            let out = t.update(&[face(302.0, SAD)], now);
            assert_eq!(out.len(), 2, "frame {i}");
            let gone = out.iter().find(|f| f.id != right_id).unwrap();
            assert_eq!(gone.missed_frames, i as u32 + 1);
        }
        let out = t.update(&[face(304.0, SAD)], 99.0);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].id, right_id);
        // A face coming back later is a new track.
        let out = t.update(&[face(304.0, SAD), face(0.0, HAPPY)], 132.0);
        assert_eq!(out.len(), 2);
        assert!(out.iter().all(|f| f.id >= right_id));
    }

    #[test]
    fn a_long_gap_drops_a_face_even_within_the_frame_count() {
        let cfg = TrackerConfig {
            max_missed_frames: 10,
            max_missed_ms: 500.0,
            ..TrackerConfig::default()
        };
        let mut t = Tracker::new(cfg);
        t.update(&[face(0.0, HAPPY)], 0.0);
        assert_eq!(t.update(&[], 400.0).len(), 1);
        assert!(t.update(&[], 600.0).is_empty());
    }

    #[test]
    fn a_jump_across_the_frame_starts_a_new_track() {
        let mut t = Tracker::new(TrackerConfig::default());
        let a = t.update(&[face(0.0, HAPPY)], 0.0)[0].id;
        let out = t.update(&[face(500.0, HAPPY)], 33.0);
        assert_eq!(out.len(), 2);
        let new = out.iter().find(|f| f.missed_frames == 0).unwrap();
        assert_ne!(new.id, a);
    }
}
