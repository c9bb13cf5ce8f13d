//! The live figures of the stats panel, computed here only: frames analysed per second (over the last second) and
//! the time from the camera's start to the first answer with a face ("first emoji"). The reducer keeps one
//! [`LiveTiming`] and feeds it the times the worker's live answers arrive.

use std::collections::VecDeque;

/// Frames per second are counted over this window.
const WINDOW_MS: f64 = 1000.0;

/// The live figures as the stats panel shows them (taken at a refresh of the panels, not at every frame).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct LiveFigures {
    pub fps: f64,
    pub frames: u64,
    pub first_emoji_ms: Option<f64>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct LiveTiming {
    /// When the camera started (the page's clock), if it has.
    started_ms: Option<f64>,
    /// When the live answers of the last [`WINDOW_MS`] arrived.
    answers: VecDeque<f64>,
    first_emoji_ms: Option<f64>,
    /// Live answers since the camera started.
    frames: u64,
}

impl LiveTiming {
    /// The camera started at `now_ms`: everything is counted afresh.
    pub fn started(now_ms: f64) -> Self {
        Self {
            started_ms: Some(now_ms),
            ..Self::default()
        }
    }

    /// The camera stopped or went away: no more frames per second (the first-emoji time stays shown).
    pub fn stopped(&mut self) {
        self.answers.clear();
    }

    /// A live answer arrived at `now_ms`, with or without a face.
    pub fn answered(&mut self, now_ms: f64, with_face: bool) {
        self.frames += 1;
        self.answers.push_back(now_ms);
        while self
            .answers
            .front()
            .is_some_and(|&t| now_ms - t > WINDOW_MS)
        {
            self.answers.pop_front();
        }
        if self.first_emoji_ms.is_none() && with_face {
            self.first_emoji_ms = self.started_ms.map(|t| now_ms - t);
        }
    }

    /// Frames analysed per second over the last second (0 when none).
    pub fn fps(&self) -> f64 {
        match (self.answers.front(), self.answers.back()) {
            (Some(first), Some(last)) => {
                self.answers.len() as f64 * 1000.0 / (last - first).max(WINDOW_MS)
            }
            _ => 0.0,
        }
    }

    /// Live frames analysed since the camera started.
    pub fn frames(&self) -> u64 {
        self.frames
    }

    /// From the camera's start to the first answer with a face.
    pub fn first_emoji_ms(&self) -> Option<f64> {
        self.first_emoji_ms
    }

    /// The figures now.
    pub fn figures(&self) -> LiveFigures {
        LiveFigures {
            fps: self.fps(),
            frames: self.frames,
            first_emoji_ms: self.first_emoji_ms,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_per_second_count_the_answers_of_the_last_second() {
        let mut t = LiveTiming::started(0.0);
        assert_eq!(t.fps(), 0.0);
        for i in 0..=60 {
            t.answered(f64::from(i) * 50.0, false);
        }
        // 20 answers a second: the last 21 answer times span exactly one second.
        assert_eq!(t.fps(), 21.0);
        assert_eq!(t.frames(), 61);
        t.stopped();
        assert_eq!(t.fps(), 0.0);
    }

    #[test]
    fn the_first_emoji_counts_from_the_camera_start_and_only_once() {
        let mut t = LiveTiming::started(100.0);
        t.answered(200.0, false);
        assert_eq!(t.first_emoji_ms(), None);
        t.answered(900.0, true);
        t.answered(1500.0, true);
        assert_eq!(t.first_emoji_ms(), Some(800.0));
        assert_eq!(LiveTiming::default().first_emoji_ms(), None);
    }
}
