//! Face detection with MediaPipe's BlazeFace short-range model (models/blazeface_short_range.nnef.tar, converted from
//! the .onnx): letterbox the frame to 128x128, run the network, decode the 896 SSD anchors into boxes and six
//! keypoints, keep confident ones, map them back through the letterbox into frame pixels, and merge overlapping
//! ones with MediaPipe's weighted NMS.
//!
//! The network sees the whole image at 128x128, so it misses faces smaller than about a quarter of the image's
//! longer side. Images are therefore also searched in overlapping square tiles at a few scales ([`tile_plan`]),
//! each tile read at 128x128, and every detection goes through the one NMS: photos (larger than
//! [`Tiling::whole_image_up_to`]) always, down to [`Tiling::min_face`]; camera frames only when the whole-image
//! pass found no face, down to [`Tiling::frame_min_face`] of the frame, so that a frame with a face costs one
//! pass (the live path) and a face far from the camera is still found.

use std::sync::Arc;

use image::RgbImage;
use serde::{Deserialize, Serialize};
use tract_nnef::prelude::*;

use crate::error::{PipelineError, Result};
use crate::geometry::BoxF;
use crate::model::{load_error, load_typed, runnable, InputShape};
use crate::resample::{resize_triangle, Rect};

const MODEL: &str = "face detector (BlazeFace)";

/// Number of BlazeFace keypoints: right eye, left eye, nose tip, mouth centre, right ear, left ear
/// ("right"/"left" of the person, so the right eye is on the image's left in a selfie).
pub const NUM_KEYPOINTS: usize = 6;

/// One detected face, in frame pixels.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Detection {
    pub bbox: BoxF,
    /// Sigmoid of the detector's logit, 0..1.
    pub score: f32,
    /// See [`NUM_KEYPOINTS`] for the order.
    pub keypoints: [(f32, f32); NUM_KEYPOINTS],
}

/// MediaPipe's decoding constants for the short-range model (face_detection_short_range.pbtxt of
/// mediapipe 0.10.21: SsdAnchorsCalculator, TensorsToDetectionsCalculator, NonMaxSuppression).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DetectorConfig {
    /// Side of the square network input.
    pub input_size: u32,
    /// Strides of the anchor layers; consecutive equal strides share one feature map.
    pub strides: Vec<u32>,
    /// Anchor centre offset within a cell.
    pub anchor_offset: f32,
    /// Scale of the raw box/keypoint regressors (x, y, w, h all use the same).
    pub coord_scale: f32,
    /// Raw scores are clipped to ±this before the sigmoid.
    pub score_clipping: f32,
    /// Detections below this sigmoid score are dropped.
    pub min_score: f32,
    /// Weighted NMS merges detections whose IoU with the best one exceeds this.
    pub nms_iou: f32,
    /// Where large images are also searched in tiles.
    pub tiling: Tiling,
    /// How a stream re-finds the faces it follows between whole-frame passes.
    #[serde(default)]
    pub follow: Follow,
}

/// How a camera stream re-finds the faces it follows: most searches read only a small window around each face
/// of the search before, at a smaller network input ([`Follow::side`]; the network is fully convolutional up to its
/// heads, `heads::at_side`): at 80 against 128, 0.4 of a whole-frame pass's time natively. Every
/// [`Follow::whole_every`]-th search, and any search whose window loses a face, reads the whole frame (and its tiles)
/// as before, so a face that enters is found within that many searches.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Follow {
    /// Side of the network input a window is read at; 0 turns following off (every search reads the whole frame).
    pub side: u32,
    /// The followed face's box side is at most this share of its window's side, so that it may move by a third of
    /// its size between searches; windows are otherwise as large as to read the face at the whole-frame pass's
    /// scale (a 200 px window read at 80 in the site's 320 px frames, read whole at 128).
    pub face_fill: f32,
    /// One search in this many reads the whole frame.
    pub whole_every: u32,
    /// Frames with more faces than this read the whole frame: a window each would cost more than one pass.
    pub max_faces: usize,
}

impl Default for Follow {
    fn default() -> Self {
        Follow {
            side: 80,
            face_fill: 0.6,
            whole_every: 4,
            max_faces: 2,
        }
    }
}

/// How an image is searched for faces that the whole-image pass is too coarse to see: square tiles at scales a
/// factor 2 apart, the smallest sized so that the smallest face sought fills [`Tiling::face_fraction`] of the
/// network input, neighbours overlapping by twice that fraction (so the largest face a scale is meant for lies
/// whole inside some tile), up to the scale the whole-image pass covers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tiling {
    /// Images whose longer side is at most this are camera frames (the site's live frames are 320 px, a webcam's
    /// 640x480): tiled only when the whole-image pass finds no face. Larger images (photos) are always tiled.
    pub whole_image_up_to: u32,
    /// A stream's frame whose whole-image pass finds no face reads this many tiles of the plan ([`StreamSearch`]).
    #[serde(default = "default_stream_tiles_per_frame")]
    pub stream_tiles_per_frame: u32,
    /// A stream searches every this many frames while it sees faces; the frames between carry the faces of the
    /// last search (a face moves a few pixels in a frame's time, well inside its crop's margin) and are still
    /// classified. 1 searches every frame. A frame without faces always searches.
    #[serde(default = "default_stream_search_every")]
    pub stream_search_every: u32,
    /// The smallest face (box side, image pixels) sought in a photo...
    pub min_face: f32,
    /// ...but at least this fraction of its longer side, so that a large photo is read in a bounded number of
    /// tiles (about 1,400 at most; 675 in 1280x720).
    pub photo_min_face: f32,
    /// The smallest face sought in a camera frame, as a fraction of its longer side.
    pub frame_min_face: f32,
    /// The smallest face the network finds reliably, as a fraction of its input side (measured:
    /// crates/cli/FULLPATH.md).
    pub face_fraction: f32,
}

impl Default for Tiling {
    fn default() -> Self {
        Tiling {
            whole_image_up_to: 640,
            stream_tiles_per_frame: default_stream_tiles_per_frame(),
            stream_search_every: default_stream_search_every(),
            min_face: 20.0,
            photo_min_face: 1.0 / 64.0,
            frame_min_face: 0.075,
            face_fraction: 0.25,
        }
    }
}

/// What a stream of camera frames carries from one frame to the next. A frame whose whole-image pass finds no
/// face (nobody there, or a face too small for it) does not read the whole [`tile_plan`] (24 network runs in the
/// site's 320x240 frames, which would drop a phone to a few frames a second while nobody is in view). While faces
/// are followed it reads the tiles that found them in the frame before and a tile around each ([`tile_around`]);
/// otherwise the next [`Tiling::stream_tiles_per_frame`] tiles of the plan in turn. A small face that stays costs
/// two extra runs a frame; a new one is found within `plan / stream_tiles_per_frame` frames (12 at 320x240, 0.4 s
/// at 30 fps).
///
/// While faces are in view, only every [`Tiling::stream_search_every`]-th frame is searched; the frames between
/// carry its faces. Most of those searches read only a window around each face ([`Follow`]).
#[derive(Debug, Clone, Default)]
pub struct StreamSearch {
    next_tile: usize,
    followed: Vec<Tile>,
    carried: Vec<Detection>,
    frames_to_carry: u32,
    /// Searches that may read windows before the next whole-frame one.
    windows_left: u32,
    counts: SearchCounts,
}

/// How a stream's frames were read so far: for benchmarks and tests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct SearchCounts {
    /// Frames that read the whole frame (and tiles where it found no face).
    pub whole: u64,
    /// Frames that re-found their faces in windows.
    pub windows: u64,
    /// Frames that carried the faces of the search before.
    pub carried: u64,
}

/// At most this many tiles follow faces from one frame to the next.
const MAX_FOLLOWED_TILES: usize = 6;

impl StreamSearch {
    pub fn new() -> Self {
        Self::default()
    }

    /// How the frames so far were read.
    pub fn counts(&self) -> SearchCounts {
        self.counts
    }

    /// The tiles this frame reads: those following faces, or else the plan's next few.
    fn next_tiles(&mut self, plan: &[Tile], t: &Tiling) -> Vec<Tile> {
        if !self.followed.is_empty() || plan.is_empty() {
            return self.followed.clone();
        }
        let k = (t.stream_tiles_per_frame as usize).min(plan.len());
        let tiles = (0..k)
            .map(|i| plan[(self.next_tile + i) % plan.len()])
            .collect();
        self.next_tile = (self.next_tile + k) % plan.len();
        tiles
    }

    /// The faces of the last search, for a frame that is not searched; `None` when this frame is searched.
    fn carry(&mut self) -> Option<Vec<Detection>> {
        if self.frames_to_carry == 0 || self.carried.is_empty() {
            return None;
        }
        self.frames_to_carry -= 1;
        Some(self.carried.clone())
    }

    /// The faces the next search may re-find in a window each: those of the search before, unless the whole frame
    /// is due or there are more than `f.max_faces`.
    fn to_refind(&self, f: &Follow) -> Option<&[Detection]> {
        let due = f.side == 0 || self.windows_left == 0;
        (!due && !self.carried.is_empty() && self.carried.len() <= f.max_faces)
            .then_some(&self.carried[..])
    }

    /// Remembers what the next frames follow: the faces found (carried by frames not searched), the tiles that
    /// found them, a tile around each face, and how many searches may read windows before the whole frame is due.
    fn follow(
        &mut self,
        finders: Vec<Tile>,
        faces: &[Detection],
        img: &RgbImage,
        t: &Tiling,
        windows_left: u32,
    ) {
        self.carried = faces.to_vec();
        self.frames_to_carry = t.stream_search_every.saturating_sub(1);
        self.windows_left = windows_left;
        let fill = t.face_fraction.clamp(0.05, 0.45) * std::f32::consts::SQRT_2;
        let around = faces
            .iter()
            .filter_map(|d| tile_around(&d.bbox, img.width(), img.height(), fill, 0.0));
        self.followed.clear();
        for tile in finders.into_iter().chain(around) {
            if self.followed.len() < MAX_FOLLOWED_TILES && !self.followed.contains(&tile) {
                self.followed.push(tile);
            }
        }
    }
}

/// The square tile centred on `face`, moved inside the image, whose side the face's fills `fill` of (for a plan's
/// tiles √2·`face_fraction`, the middle (geometric) of the range a plan's scale covers, where the network finds it
/// most reliably), but at least `min_side`; none when the image is thinner than [`MIN_TILE`].
fn tile_around(face: &BoxF, width: u32, height: u32, fill: f32, min_side: f32) -> Option<Tile> {
    let shorter = width.min(height);
    if shorter < MIN_TILE || fill.is_nan() || fill <= 0.0 {
        return None;
    }
    let want = (face.w.max(face.h) / fill).max(min_side);
    let side = (want.round() as u32).clamp(MIN_TILE, shorter);
    let place = |centre: f32, total: u32| {
        let start = (centre - side as f32 / 2.0).round().max(0.0) as u32;
        start.min(total - side)
    };
    Some(Tile {
        x: place(face.x + face.w / 2.0, width),
        y: place(face.y + face.h / 2.0, height),
        side,
    })
}

fn default_stream_tiles_per_frame() -> u32 {
    2
}

fn default_stream_search_every() -> u32 {
    2
}

/// A square part of an image read by the network on its own: top-left corner and side, image pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tile {
    pub x: u32,
    pub y: u32,
    pub side: u32,
}

/// Positions `0, stride, 2·stride, …` of a window of `len` in `total`, the last one flush with the end.
fn tile_starts(total: u32, len: u32, stride: u32) -> Vec<u32> {
    if len >= total {
        return vec![0];
    }
    let last = total - len;
    let mut starts: Vec<u32> = (0..=last).step_by(stride.max(1) as usize).collect();
    if starts.last() != Some(&last) {
        starts.push(last);
    }
    starts
}

/// Tiles smaller than this are not read: a patch that small, stretched to the network's input, holds no face the
/// network finds.
pub const MIN_TILE: u32 = 32;

/// The tiles (besides the whole image) that look for faces down to `min_face` pixels in a `width` x `height`
/// image, for a network that finds faces down to `face_fraction` of its input.
pub fn tile_plan(width: u32, height: u32, min_face: f32, face_fraction: f32) -> Vec<Tile> {
    let longer = width.max(height);
    let shorter = width.min(height);
    let fraction = face_fraction.clamp(0.05, 0.45);
    let mut tiles = Vec::new();
    if shorter < MIN_TILE || min_face.is_nan() || min_face <= 0.0 {
        return tiles;
    }
    let mut side = (min_face / fraction).max(MIN_TILE as f32);
    // A scale covers faces of fraction..2·fraction of its tile; the whole-image pass covers fraction·longer up.
    while side < longer as f32 / 2.0 {
        let s = (side.round() as u32).clamp(1, shorter);
        let stride = ((s as f32 * (1.0 - 2.0 * fraction)).round() as u32).max(1);
        for y in tile_starts(height, s, stride) {
            for x in tile_starts(width, s, stride) {
                tiles.push(Tile { x, y, side: s });
            }
        }
        if s == shorter {
            break;
        }
        side *= 2.0;
    }
    tiles
}

impl Default for DetectorConfig {
    fn default() -> Self {
        DetectorConfig {
            input_size: 128,
            strides: vec![8, 16, 16, 16],
            anchor_offset: 0.5,
            coord_scale: 128.0,
            score_clipping: 100.0,
            min_score: 0.5,
            nms_iou: 0.3,
            tiling: Tiling::default(),
            follow: Follow::default(),
        }
    }
}

/// An SSD anchor centre, normalised to 0..1 (the short-range model uses fixed unit-size anchors).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Anchor {
    pub cx: f32,
    pub cy: f32,
}

/// MediaPipe's SsdAnchorsCalculator with one aspect ratio, an interpolated scale, and fixed anchor
/// size: every layer gives 2 anchors per cell, and layers with the same stride are stacked on one
/// feature map (so 16x16x2 for stride 8 and 8x8x6 for the three stride-16 layers = 896).
pub fn ssd_anchors(cfg: &DetectorConfig) -> Vec<Anchor> {
    let mut anchors = Vec::new();
    let mut layer = 0;
    while layer < cfg.strides.len() {
        let stride = cfg.strides[layer];
        let mut same = 0;
        while layer + same < cfg.strides.len() && cfg.strides[layer + same] == stride {
            same += 1;
        }
        let per_cell = 2 * same;
        let fm = cfg.input_size.div_ceil(stride.max(1));
        for y in 0..fm {
            for x in 0..fm {
                let cx = (x as f32 + cfg.anchor_offset) / fm as f32;
                let cy = (y as f32 + cfg.anchor_offset) / fm as f32;
                anchors.extend(std::iter::repeat_n(Anchor { cx, cy }, per_cell));
            }
        }
        layer += same;
    }
    anchors
}

/// How a frame was fitted into the square network input: resized by (`sx`, `sy`) and padded by
/// (`pad_x`, `pad_y`) pixels on the left/top (the same on the right/bottom, up to one pixel).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Letterbox {
    pub sx: f32,
    pub sy: f32,
    pub pad_x: f32,
    pub pad_y: f32,
    pub inner_w: u32,
    pub inner_h: u32,
}

impl Letterbox {
    /// Fits `width` x `height` into `size` x `size`, keeping the aspect ratio.
    pub fn fit(width: u32, height: u32, size: u32) -> Self {
        let s = (size as f32 / width as f32).min(size as f32 / height as f32);
        let inner_w = ((width as f32 * s).round() as u32).clamp(1, size);
        let inner_h = ((height as f32 * s).round() as u32).clamp(1, size);
        Letterbox {
            sx: inner_w as f32 / width as f32,
            sy: inner_h as f32 / height as f32,
            pad_x: ((size - inner_w) / 2) as f32,
            pad_y: ((size - inner_h) / 2) as f32,
            inner_w,
            inner_h,
        }
    }

    /// A point of the network input (pixels of the `size` x `size` square) in frame pixels.
    pub fn to_frame(&self, x: f32, y: f32) -> (f32, f32) {
        ((x - self.pad_x) / self.sx, (y - self.pad_y) / self.sy)
    }

    /// A box of the network input in frame pixels.
    pub fn box_to_frame(&self, b: &BoxF) -> BoxF {
        let (x0, y0) = self.to_frame(b.x, b.y);
        let (x1, y1) = self.to_frame(b.x + b.w, b.y + b.h);
        BoxF::from_corners(x0, y0, x1, y1)
    }
}

/// Resizes `img` into the letterbox and returns the NCHW float tensor data (values x/127.5 - 1,
/// padding black) and the mapping.
pub fn letterbox_tensor(img: &RgbImage, size: u32) -> (Vec<f32>, Letterbox) {
    letterbox_rect(img, Rect::whole(img), size)
}

/// [`letterbox_tensor`] of a rectangle of `img`, read in place.
fn letterbox_rect(img: &RgbImage, rect: Rect, size: u32) -> (Vec<f32>, Letterbox) {
    let rect = rect.within(img);
    let lb = Letterbox::fit(rect.width, rect.height, size);
    let plane = (size * size) as usize;
    let mut data = vec![-1.0f32; 3 * plane];
    let (px, py) = (lb.pad_x as u32, lb.pad_y as u32);
    resize_triangle(img, rect, lb.inner_w, lb.inner_h, |x, y, p| {
        let i = ((y + py) * size + (x + px)) as usize;
        for c in 0..3 {
            data[c * plane + i] = f32::from(p[c]) / 127.5 - 1.0;
        }
    });
    (data, lb)
}

fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + (-x).exp())
}

/// Decodes raw network outputs (regressors `[896*16]`, logits `[896]`) into detections in the
/// coordinates of the network input (0..input_size pixels), keeping scores ≥ `min_score`.
pub fn decode_raw(
    regressors: &[f32],
    logits: &[f32],
    anchors: &[Anchor],
    cfg: &DetectorConfig,
) -> Vec<Detection> {
    let coords = 4 + 2 * NUM_KEYPOINTS;
    let size = cfg.input_size as f32;
    let mut out = Vec::new();
    for (i, a) in anchors.iter().enumerate() {
        let (Some(&logit), Some(r)) = (logits.get(i), regressors.get(i * coords..(i + 1) * coords))
        else {
            break;
        };
        let score = sigmoid(logit.clamp(-cfg.score_clipping, cfg.score_clipping));
        if score.is_nan() || score < cfg.min_score {
            continue;
        }
        // Box: centre offset and size relative to the (unit-size) anchor, in normalised coords.
        let cx = r[0] / cfg.coord_scale + a.cx;
        let cy = r[1] / cfg.coord_scale + a.cy;
        let w = r[2] / cfg.coord_scale;
        let h = r[3] / cfg.coord_scale;
        let bbox = BoxF {
            x: (cx - w / 2.0) * size,
            y: (cy - h / 2.0) * size,
            w: w * size,
            h: h * size,
        };
        let mut keypoints = [(0.0, 0.0); NUM_KEYPOINTS];
        for (k, kp) in keypoints.iter_mut().enumerate() {
            let kx = r[4 + 2 * k] / cfg.coord_scale + a.cx;
            let ky = r[5 + 2 * k] / cfg.coord_scale + a.cy;
            *kp = (kx * size, ky * size);
        }
        out.push(Detection {
            bbox,
            score,
            keypoints,
        });
    }
    out
}

/// MediaPipe's weighted non-maximum suppression: take the best remaining detection, gather every
/// remaining one whose IoU with it exceeds `iou_threshold` (itself included), and replace the group
/// by the score-weighted mean of their corners and keypoints, keeping the best score.
pub fn weighted_nms(mut dets: Vec<Detection>, iou_threshold: f32) -> Vec<Detection> {
    dets.sort_by(|a, b| b.score.total_cmp(&a.score));
    let mut out = Vec::new();
    while !dets.is_empty() {
        let best = dets.remove(0);
        let (mut group, rest): (Vec<Detection>, Vec<Detection>) = dets
            .into_iter()
            .partition(|d| d.bbox.iou(&best.bbox) > iou_threshold);
        group.insert(0, best);
        let total: f32 = group.iter().map(|d| d.score).sum();
        let mut merged = best;
        if total > 0.0 {
            let (mut x0, mut y0, mut x1, mut y1) = (0.0, 0.0, 0.0, 0.0);
            let mut kps = [(0.0f32, 0.0f32); NUM_KEYPOINTS];
            for d in &group {
                let s = d.score;
                x0 += d.bbox.x * s;
                y0 += d.bbox.y * s;
                x1 += (d.bbox.x + d.bbox.w) * s;
                y1 += (d.bbox.y + d.bbox.h) * s;
                for (k, kp) in kps.iter_mut().enumerate() {
                    kp.0 += d.keypoints[k].0 * s;
                    kp.1 += d.keypoints[k].1 * s;
                }
            }
            merged.bbox = BoxF::from_corners(x0 / total, y0 / total, x1 / total, y1 / total);
            for kp in kps.iter_mut() {
                *kp = (kp.0 / total, kp.1 / total);
            }
            merged.keypoints = kps;
        }
        out.push(merged);
        dets = rest;
    }
    out
}

/// Raw BlazeFace outputs for one input, as the network gives them.
#[derive(Debug, Clone)]
pub struct RawDetections {
    /// `[anchors * 16]`: per anchor x, y, w, h and six keypoints (x, y).
    pub regressors: Vec<f32>,
    /// `[anchors]`: score logits.
    pub logits: Vec<f32>,
}

/// The network planned for one input side, with the anchors and decoding constants of that side.
#[derive(Debug, Clone)]
struct Pass {
    plan: Arc<TypedRunnableModel>,
    anchors: Vec<Anchor>,
    decoding: DetectorConfig,
    /// How many of the plan's outputs make each of the network's outputs, end to end (the cut graph's heads).
    parts: Vec<usize>,
}

impl Pass {
    /// The shipped graph as it is, at its own input side.
    fn whole(typed: TypedModel, config: &DetectorConfig) -> Result<Self> {
        let parts = vec![1; typed.output_outlets().map_err(load_error(MODEL))?.len()];
        Ok(Pass {
            plan: runnable(typed, MODEL)?,
            anchors: ssd_anchors(config),
            decoding: config.clone(),
            parts,
        })
    }

    /// The graph cut at its heads for a `side` x `side` input; the raw outputs are in input pixels, so the decoding
    /// scale follows the side.
    fn at_side(typed: &TypedModel, config: &DetectorConfig, side: u32) -> Result<Self> {
        let heads = crate::heads::at_side(typed, side as usize).map_err(load_error(MODEL))?;
        let decoding = DetectorConfig {
            input_size: side,
            coord_scale: config.coord_scale * side as f32 / config.input_size as f32,
            ..config.clone()
        };
        Ok(Pass {
            plan: runnable(heads.model, MODEL)?,
            anchors: ssd_anchors(&decoding),
            decoding,
            parts: heads.parts,
        })
    }

    fn side(&self) -> usize {
        self.decoding.input_size as usize
    }

    fn raw(&self, input: &[f32]) -> Result<RawDetections> {
        let fail = |m: String| PipelineError::Inference {
            model: MODEL,
            message: m,
        };
        let s = self.side();
        let tensor =
            Tensor::from_shape(&[1, 3, s, s], input).map_err(|e| fail(format!("{e:#}")))?;
        let outputs = self
            .plan
            .run(tvec!(tensor.into()))
            .map_err(|e| fail(format!("{e:#}")))?;
        let n = self.anchors.len();
        let mut regressors = None;
        let mut logits = None;
        // Each network output is its parts end to end; tell the two apart by size ([n, 16] and [n, 1]), not order.
        let mut parts = outputs.iter();
        for &count in &self.parts {
            let mut data = Vec::new();
            for t in parts.by_ref().take(count) {
                let view = t
                    .to_plain_array_view::<f32>()
                    .map_err(|e| fail(format!("{e:#}")))?;
                data.extend(view.iter().copied());
            }
            if data.len() == n * (4 + 2 * NUM_KEYPOINTS) {
                regressors = Some(data);
            } else if data.len() == n {
                logits = Some(data);
            }
        }
        match (regressors, logits) {
            (Some(regressors), Some(logits)) => Ok(RawDetections { regressors, logits }),
            _ => Err(fail(format!(
                "expected outputs of {n}x16 and {n}x1 values, got shapes {:?}",
                outputs
                    .iter()
                    .map(|t| t.shape().to_vec())
                    .collect::<Vec<_>>()
            ))),
        }
    }

    /// Runs the network on one input and decodes its confident detections, mapped to image pixels by `to_image`.
    fn detections(
        &self,
        input: &[f32],
        to_image: impl Fn(f32, f32) -> (f32, f32),
    ) -> Result<Vec<Detection>> {
        let raw = self.raw(input)?;
        let mut dets = decode_raw(&raw.regressors, &raw.logits, &self.anchors, &self.decoding);
        for d in dets.iter_mut() {
            let (x0, y0) = to_image(d.bbox.x, d.bbox.y);
            let (x1, y1) = to_image(d.bbox.x + d.bbox.w, d.bbox.y + d.bbox.h);
            d.bbox = BoxF::from_corners(x0, y0, x1, y1);
            for kp in d.keypoints.iter_mut() {
                *kp = to_image(kp.0, kp.1);
            }
        }
        Ok(dets)
    }

    /// The detections of `tile` read at this pass's side, in image pixels, less those cut by an inner tile edge.
    fn in_tile(&self, img: &RgbImage, tile: &Tile) -> Result<Vec<Detection>> {
        let (input, scale) = tile_tensor(img, tile, self.decoding.input_size);
        let (tx, ty) = (tile.x as f32, tile.y as f32);
        let found = self.detections(&input, |x, y| (tx + x * scale, ty + y * scale))?;
        Ok(found
            .into_iter()
            .filter(|d| whole_in_tile(d, tile, img))
            .collect())
    }
}

/// BlazeFace short-range, loaded once and reused for every frame: planned for the whole frame's input and, where
/// a stream follows faces ([`Follow`]), for the windows' smaller one.
#[derive(Debug, Clone)]
pub struct FaceDetector {
    whole: Pass,
    window: Option<Pass>,
    config: DetectorConfig,
}

impl FaceDetector {
    /// Loads the model (NNEF archive, or ONNX with the `onnx` feature) with MediaPipe's default decoding constants.
    pub fn from_bytes(model: &[u8]) -> Result<Self> {
        Self::with_config(model, DetectorConfig::default())
    }

    /// Loads the model with explicit decoding constants.
    pub fn with_config(model: &[u8], config: DetectorConfig) -> Result<Self> {
        let typed = load_typed(model, MODEL, &Self::input_shape(&config))?;
        let window = match config.follow.side {
            0 => None,
            side => Some(Pass::at_side(&typed, &config, side)?),
        };
        Ok(FaceDetector {
            whole: Pass::whole(typed, &config)?,
            window,
            config,
        })
    }

    /// The network's input for these constants: one RGB square, NCHW `[1, 3, size, size]`.
    pub fn input_shape(config: &DetectorConfig) -> InputShape {
        let s = config.input_size as usize;
        InputShape::Fixed(vec![1, 3, s, s])
    }

    /// The decoding constants in use.
    pub fn config(&self) -> &DetectorConfig {
        &self.config
    }

    /// The whole-frame network's time op by op ([`crate::profile`]): for benchmarks.
    pub fn op_profile(&self, warmup: usize, runs: usize) -> Result<Vec<crate::OpTime>> {
        let s = self.whole.side();
        crate::profile::op_times(&self.whole.plan, &[1, 3, s, s], warmup, runs, MODEL)
    }

    /// The window network's time op by op (none where following is off): for benchmarks.
    pub fn window_op_profile(
        &self,
        warmup: usize,
        runs: usize,
    ) -> Result<Option<Vec<crate::OpTime>>> {
        self.window
            .as_ref()
            .map(|w| {
                let s = w.side();
                crate::profile::op_times(&w.plan, &[1, 3, s, s], warmup, runs, MODEL)
            })
            .transpose()
    }

    /// Runs the network on an NCHW `[1, 3, size, size]` input (values in -1..1).
    pub fn raw(&self, input: &[f32]) -> Result<RawDetections> {
        self.whole.raw(input)
    }

    /// Finds the faces in an RGB image; boxes and keypoints in the image's pixels, best first. Large images are
    /// also read in tiles ([`tile_plan`]); so is a camera frame whose whole-image pass finds no face, with the
    /// whole plan (a still frame judged alone: `evaluate --camera`, `predict`).
    pub fn detect(&self, img: &RgbImage) -> Result<Vec<Detection>> {
        Ok(self.search(img, None)?.0)
    }

    /// [`FaceDetector::detect`] on one frame of a stream (the site's camera): a frame whose whole-image pass finds
    /// no face reads only a few tiles ([`StreamSearch`]), so that a frame costs at most
    /// `1 + Tiling::stream_tiles_per_frame` network runs, or two more per small face followed; while faces are
    /// followed, most searches read only a window around each ([`Follow`]).
    pub fn detect_in_stream(
        &self,
        img: &RgbImage,
        stream: &mut StreamSearch,
    ) -> Result<Vec<Detection>> {
        if let Some(carried) = stream.carry() {
            stream.counts.carried += 1;
            return Ok(carried);
        }
        let t = &self.config.tiling;
        if let Some(found) = self.refind(img, stream)? {
            let windows_left = stream.windows_left - 1;
            stream.follow(Vec::new(), &found, img, t, windows_left);
            stream.counts.windows += 1;
            return Ok(found);
        }
        stream.counts.whole += 1;
        let (found, finders) = self.search(img, Some(&mut *stream))?;
        let windows_left = self.config.follow.whole_every.saturating_sub(1);
        stream.follow(finders, &found, img, t, windows_left);
        Ok(found)
    }

    /// The faces of the stream's last search, each re-found in a window around it at the window pass's side;
    /// `None` where this search reads the whole frame (following off or the whole frame due, too many faces, or a
    /// window that lost its face).
    fn refind(&self, img: &RgbImage, stream: &StreamSearch) -> Result<Option<Vec<Detection>>> {
        let (Some(pass), Some(faces)) = (&self.window, stream.to_refind(&self.config.follow))
        else {
            return Ok(None);
        };
        // A window is never read at a finer scale than the whole-frame pass read the face at: the boxes of both
        // passes then come from the same pixels, and the crops cut from them frame the face alike.
        let whole_scale = self.config.input_size as f32 / img.width().max(img.height()) as f32;
        let min_side = pass.side() as f32 / whole_scale;
        let mut found = Vec::new();
        for face in faces {
            let Some(window) = tile_around(
                &face.bbox,
                img.width(),
                img.height(),
                self.config.follow.face_fill,
                min_side,
            ) else {
                return Ok(None);
            };
            let refound = pass.in_tile(img, &window)?;
            if refound.is_empty() {
                return Ok(None);
            }
            found.extend(refound);
        }
        Ok(Some(weighted_nms(found, self.config.nms_iou)))
    }

    /// The faces found, and the tiles that found any.
    fn search(
        &self,
        img: &RgbImage,
        stream: Option<&mut StreamSearch>,
    ) -> Result<(Vec<Detection>, Vec<Tile>)> {
        if img.width() == 0 || img.height() == 0 {
            return Ok((Vec::new(), Vec::new()));
        }
        let (input, lb) = letterbox_tensor(img, self.config.input_size);
        let mut dets = self.whole.detections(&input, |x, y| lb.to_frame(x, y))?;
        let t = &self.config.tiling;
        let longer = img.width().max(img.height());
        let tiles = if longer > t.whole_image_up_to {
            let min_face = t.min_face.max(t.photo_min_face * longer as f32);
            tile_plan(img.width(), img.height(), min_face, t.face_fraction)
        } else if dets.is_empty() {
            let plan = tile_plan(
                img.width(),
                img.height(),
                t.frame_min_face * longer as f32,
                t.face_fraction,
            );
            match stream {
                None => plan,
                Some(stream) => stream.next_tiles(&plan, t),
            }
        } else {
            Vec::new()
        };
        let mut finders = Vec::new();
        for tile in tiles {
            let found = self.whole.in_tile(img, &tile)?;
            if !found.is_empty() {
                dets.extend(found);
                finders.push(tile);
            }
        }
        Ok((weighted_nms(dets, self.config.nms_iou), finders))
    }
}

/// A tile of `img` resized to the network's `size` x `size` input (NCHW, x/127.5 - 1) and the tile pixels per
/// input pixel.
pub fn tile_tensor(img: &RgbImage, tile: &Tile, size: u32) -> (Vec<f32>, f32) {
    let rect = Rect {
        x: tile.x,
        y: tile.y,
        width: tile.side,
        height: tile.side,
    };
    let (data, _) = letterbox_rect(img, rect, size);
    (data, tile.side as f32 / size as f32)
}

/// Whether a detection made in `tile` lies inside it, except across the image's own borders: a face cut by an
/// inner tile edge is left to the neighbouring tile that holds it whole.
fn whole_in_tile(d: &Detection, tile: &Tile, img: &RgbImage) -> bool {
    let slack = 0.1 * d.bbox.w.max(d.bbox.h);
    let (x0, y0) = (tile.x as f32, tile.y as f32);
    let (x1, y1) = (x0 + tile.side as f32, y0 + tile.side as f32);
    let b = d.bbox;
    (tile.x == 0 || b.x >= x0 - slack)
        && (tile.y == 0 || b.y >= y0 - slack)
        && (tile.x + tile.side >= img.width() || b.x + b.w <= x1 + slack)
        && (tile.y + tile.side >= img.height() || b.y + b.h <= y1 + slack)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn det(x: f32, y: f32, w: f32, h: f32, score: f32) -> Detection {
        Detection {
            bbox: BoxF { x, y, w, h },
            score,
            keypoints: [(x, y); NUM_KEYPOINTS],
        }
    }

    #[test]
    fn anchors_are_the_896_of_the_short_range_model() {
        let a = ssd_anchors(&DetectorConfig::default());
        assert_eq!(a.len(), 16 * 16 * 2 + 8 * 8 * 6);
        assert_eq!(a.len(), 896);
        // Stride 8: 16x16 cells, 2 anchors each, row-major.
        assert_eq!(
            a[0],
            Anchor {
                cx: 0.03125,
                cy: 0.03125
            }
        );
        assert_eq!(a[1], a[0]);
        assert_eq!(
            a[2],
            Anchor {
                cx: 0.09375,
                cy: 0.03125
            }
        );
        assert_eq!(
            a[32],
            Anchor {
                cx: 0.03125,
                cy: 0.09375
            }
        );
        assert_eq!(
            a[511],
            Anchor {
                cx: 0.96875,
                cy: 0.96875
            }
        );
        // Stride 16: 8x8 cells, 6 anchors each.
        for anchor in &a[512..518] {
            assert_eq!(
                *anchor,
                Anchor {
                    cx: 0.0625,
                    cy: 0.0625
                }
            );
        }
        assert_eq!(
            a[518],
            Anchor {
                cx: 0.1875,
                cy: 0.0625
            }
        );
        assert_eq!(
            a[895],
            Anchor {
                cx: 0.9375,
                cy: 0.9375
            }
        );
    }

    #[test]
    fn letterbox_of_a_landscape_frame_pads_top_and_bottom() {
        let lb = Letterbox::fit(640, 480, 128);
        assert_eq!((lb.inner_w, lb.inner_h), (128, 96));
        assert_eq!((lb.pad_x, lb.pad_y), (0.0, 16.0));
        assert_eq!((lb.sx, lb.sy), (0.2, 0.2));
        assert_eq!(lb.to_frame(0.0, 16.0), (0.0, 0.0));
        assert_eq!(lb.to_frame(128.0, 112.0), (640.0, 480.0));
        assert_eq!(lb.to_frame(64.0, 64.0), (320.0, 240.0));
        let b = lb.box_to_frame(&BoxF {
            x: 32.0,
            y: 26.0,
            w: 12.8,
            h: 20.0,
        });
        assert!((b.x - 160.0).abs() < 1e-4 && (b.y - 50.0).abs() < 1e-4);
        assert!((b.w - 64.0).abs() < 1e-4 && (b.h - 100.0).abs() < 1e-4);
    }

    #[test]
    fn tiles_cover_the_image_at_scales_a_factor_two_apart() {
        // Faces down to 32 px at a quarter of the input: tiles of 128 px, overlapping by half (stride 64), then
        // 256 px (stride 128); 512 would be the whole-image pass's scale (longer side 640 / 2 = 320 < 512).
        let tiles = tile_plan(640, 480, 32.0, 0.25);
        let at = |side: u32| tiles.iter().filter(|t| t.side == side).collect::<Vec<_>>();
        let small = at(128);
        // x: 0, 64, …, 512 (9 starts, the last flush with 640); y: 0, 64, …, 320, then 352 (7).
        assert_eq!(small.len(), 9 * 7);
        assert_eq!(
            small[0],
            &Tile {
                x: 0,
                y: 0,
                side: 128
            }
        );
        assert_eq!(
            small[8],
            &Tile {
                x: 512,
                y: 0,
                side: 128
            }
        );
        assert_eq!(
            small.last().unwrap(),
            &&Tile {
                x: 512,
                y: 352,
                side: 128
            }
        );
        // x: 0, 128, 256, 384 (flush: 640 - 256); y: 0, 128, 224.
        let large = at(256);
        assert_eq!(large.len(), 4 * 3);
        assert_eq!(
            large.last().unwrap(),
            &&Tile {
                x: 384,
                y: 224,
                side: 256
            }
        );
        assert_eq!(tiles.len(), 63 + 12);
        // Every tile lies inside the image.
        assert!(tiles
            .iter()
            .all(|t| t.x + t.side <= 640 && t.y + t.side <= 480));
    }

    #[test]
    fn no_tiles_where_the_whole_image_pass_sees_the_smallest_face() {
        // 160 px faces are a quarter of a 640 px frame: the whole-image pass covers them.
        assert!(tile_plan(640, 480, 160.0, 0.25).is_empty());
        assert!(tile_plan(0, 480, 20.0, 0.25).is_empty());
        assert!(tile_plan(640, 480, 0.0, 0.25).is_empty());
        // Nor in an image thinner than the smallest tile; tiles are at least 32 px.
        assert!(tile_plan(500, 20, 5.0, 0.25).is_empty());
        let sides: Vec<u32> = tile_plan(200, 150, 4.0, 0.25)
            .iter()
            .map(|t| t.side)
            .collect();
        assert_eq!((sides.first(), sides.last()), (Some(&32), Some(&64)));
        // A tile never exceeds the shorter side: a 2000x100 strip is read in 100 px squares.
        let strip = tile_plan(2000, 100, 40.0, 0.25);
        assert!(!strip.is_empty() && strip.iter().all(|t| t.side == 100 && t.y == 0));
    }

    #[test]
    fn a_stream_reads_the_plan_a_few_tiles_a_frame_in_turn() {
        let t = Tiling::default();
        let plan = tile_plan(320, 240, t.frame_min_face * 320.0, t.face_fraction);
        assert!(plan.len() > 2 * t.stream_tiles_per_frame as usize);
        let mut stream = StreamSearch::new();
        let mut seen = Vec::new();
        let frames = plan.len().div_ceil(t.stream_tiles_per_frame as usize);
        for _ in 0..frames {
            let tiles = stream.next_tiles(&plan, &t);
            assert_eq!(tiles.len(), t.stream_tiles_per_frame as usize);
            seen.extend(tiles);
        }
        // Every tile of the plan within plan/k frames.
        assert!(plan.iter().all(|tile| seen.contains(tile)));
    }

    #[test]
    fn a_stream_searches_every_few_frames_while_it_sees_faces() {
        let t = Tiling {
            stream_search_every: 3,
            ..Tiling::default()
        };
        let img = RgbImage::new(320, 240);
        let face = det(100.0, 60.0, 90.0, 90.0, 0.9);
        let mut stream = StreamSearch::new();
        assert_eq!(stream.carry(), None, "the first frame is searched");
        stream.follow(Vec::new(), &[face], &img, &t, 0);
        // two frames carry the face found, the third is searched again
        assert_eq!(stream.carry(), Some(vec![face]));
        assert_eq!(stream.carry(), Some(vec![face]));
        assert_eq!(stream.carry(), None);
        // a search that finds nobody is not carried: the next frame searches
        stream.follow(Vec::new(), &[], &img, &t, 0);
        assert_eq!(stream.carry(), None);
        // every frame searched at 1
        let every = Tiling {
            stream_search_every: 1,
            ..t
        };
        stream.follow(Vec::new(), &[face], &img, &every, 0);
        assert_eq!(stream.carry(), None);
    }

    #[test]
    fn a_stream_follows_the_faces_of_the_frame_before() {
        let t = Tiling::default();
        let img = RgbImage::new(320, 240);
        let plan = tile_plan(320, 240, t.frame_min_face * 320.0, t.face_fraction);
        let face = |x, y, w, h| Detection {
            bbox: BoxF { x, y, w, h },
            score: 0.9,
            keypoints: [(0.0, 0.0); NUM_KEYPOINTS],
        };
        let finder = Tile {
            x: 96,
            y: 48,
            side: 96,
        };
        let mut stream = StreamSearch::new();
        // A 20 px face in the middle, found by `finder`, and one at the bottom-right corner.
        let faces = [
            face(150.0, 110.0, 20.0, 20.0),
            face(300.0, 225.0, 20.0, 15.0),
        ];
        stream.follow(vec![finder], &faces, &img, &t, 0);
        // The finder, then a tile around each face: centred where it can be, moved inside the frame where it
        // cannot; the face fills √2·face_fraction of it. No tile of the plan while faces are followed.
        let expected = vec![
            finder,
            Tile {
                x: 132,
                y: 92,
                side: 57,
            },
            Tile {
                x: 263,
                y: 183,
                side: 57,
            },
        ];
        assert_eq!(stream.next_tiles(&plan, &t), expected);
        assert_eq!(stream.next_tiles(&plan, &t), expected);
        // Nobody found: back to the plan's turn.
        stream.follow(Vec::new(), &[], &img, &t, 0);
        assert_eq!(stream.next_tiles(&plan, &t), plan[..2].to_vec());
    }

    #[test]
    fn a_face_cut_by_an_inner_tile_edge_is_left_to_its_neighbour() {
        let img = RgbImage::new(400, 300);
        let tile = Tile {
            x: 100,
            y: 0,
            side: 200,
        };
        // Inside the tile: kept. Past the tile's right edge (an inner edge): dropped. Past its top, which is the
        // image's border: kept.
        assert!(whole_in_tile(
            &det(150.0, 50.0, 40.0, 40.0, 0.9),
            &tile,
            &img
        ));
        assert!(!whole_in_tile(
            &det(280.0, 50.0, 40.0, 40.0, 0.9),
            &tile,
            &img
        ));
        assert!(whole_in_tile(
            &det(150.0, -10.0, 40.0, 40.0, 0.9),
            &tile,
            &img
        ));
        // Within 10% of its size past the edge: kept.
        assert!(whole_in_tile(
            &det(263.0, 50.0, 40.0, 40.0, 0.9),
            &tile,
            &img
        ));
    }

    #[test]
    fn letterbox_of_a_portrait_frame_pads_left_and_right() {
        let lb = Letterbox::fit(480, 640, 128);
        assert_eq!((lb.inner_w, lb.inner_h), (96, 128));
        assert_eq!((lb.pad_x, lb.pad_y), (16.0, 0.0));
        assert_eq!(lb.to_frame(16.0, 0.0), (0.0, 0.0));
        assert_eq!(lb.to_frame(112.0, 128.0), (480.0, 640.0));
        // A square frame is only scaled.
        let sq = Letterbox::fit(256, 256, 128);
        assert_eq!((sq.pad_x, sq.pad_y, sq.sx), (0.0, 0.0, 0.5));
        assert_eq!(sq.to_frame(10.0, 20.0), (20.0, 40.0));
    }

    #[test]
    fn letterbox_tensor_places_pixels_and_black_padding() {
        let img = RgbImage::from_pixel(256, 128, image::Rgb([255, 0, 255]));
        let (t, lb) = letterbox_tensor(&img, 128);
        assert_eq!(t.len(), 3 * 128 * 128);
        assert_eq!((lb.pad_x, lb.pad_y), (0.0, 32.0));
        // Padding row 0 is black (-1); row 64 holds the image: R=1, G=-1, B=1.
        assert_eq!(t[0], -1.0);
        let i = 64 * 128 + 5;
        assert_eq!(
            (t[i], t[128 * 128 + i], t[2 * 128 * 128 + i]),
            (1.0, -1.0, 1.0)
        );
        assert_eq!(t[31 * 128], -1.0);
        assert_eq!(t[32 * 128], 1.0);
        assert_eq!(t[96 * 128], -1.0);
    }

    #[test]
    fn decoding_a_raw_regressor_by_hand() {
        let cfg = DetectorConfig::default();
        let anchors = ssd_anchors(&cfg);
        let n = anchors.len();
        let mut reg = vec![0.0f32; n * 16];
        let mut logits = vec![-10.0f32; n];
        // Anchor 518 sits at (0.1875, 0.0625) = (24, 8) px. Shift by (+6.4, -3.2) px, size 25.6 x 12.8.
        let i = 518;
        reg[i * 16..i * 16 + 4].copy_from_slice(&[6.4, -3.2, 25.6, 12.8]);
        reg[i * 16 + 4] = 1.0; // right eye x += 1 px
        logits[i] = 0.0; // sigmoid 0.5: exactly the threshold, kept
        logits[0] = 1000.0; // clipped to 100 → score 1
        let dets = decode_raw(&reg, &logits, &anchors, &cfg);
        assert_eq!(dets.len(), 2);
        assert_eq!(dets[0].score, 1.0);
        assert_eq!(
            dets[0].bbox,
            BoxF {
                x: 4.0,
                y: 4.0,
                w: 0.0,
                h: 0.0
            }
        );
        let d = dets[1];
        assert_eq!(d.score, 0.5);
        let close = |a: f32, b: f32| (a - b).abs() < 1e-4;
        assert!(close(d.bbox.x, 24.0 + 6.4 - 12.8), "{:?}", d.bbox);
        assert!(close(d.bbox.y, 8.0 - 3.2 - 6.4));
        assert!(close(d.bbox.w, 25.6) && close(d.bbox.h, 12.8));
        assert!(close(d.keypoints[0].0, 25.0) && close(d.keypoints[0].1, 8.0));
        assert!(close(d.keypoints[5].0, 24.0) && close(d.keypoints[5].1, 8.0));
    }

    #[test]
    fn weighted_nms_merges_overlaps_and_keeps_the_rest() {
        // Two overlapping boxes (IoU 0.8181..) with scores 0.9 and 0.6, and a distant one.
        let a = det(0.0, 0.0, 10.0, 10.0, 0.9);
        let b = det(1.0, 0.0, 10.0, 10.0, 0.6);
        let c = det(50.0, 50.0, 10.0, 10.0, 0.7);
        let out = weighted_nms(vec![b, c, a], 0.3);
        assert_eq!(out.len(), 2);
        // Best first; merged corners: x0 = (0*0.9 + 1*0.6)/1.5 = 0.4, x1 = (10*0.9 + 11*0.6)/1.5 = 10.4.
        assert_eq!(out[0].score, 0.9);
        assert!((out[0].bbox.x - 0.4).abs() < 1e-5);
        assert!((out[0].bbox.w - 10.0).abs() < 1e-5);
        assert!((out[0].keypoints[0].0 - 0.4).abs() < 1e-5);
        assert_eq!(out[1], c);
    }

    #[test]
    fn weighted_nms_keeps_boxes_below_the_overlap_threshold() {
        // IoU 50/150 = 0.333 > 0.3 merges; shifting to 6 gives IoU 40/160 = 0.25, kept apart.
        let a = det(0.0, 0.0, 10.0, 10.0, 0.9);
        assert_eq!(
            weighted_nms(vec![a, det(5.0, 0.0, 10.0, 10.0, 0.8)], 0.3).len(),
            1
        );
        assert_eq!(
            weighted_nms(vec![a, det(6.0, 0.0, 10.0, 10.0, 0.8)], 0.3).len(),
            2
        );
        assert!(weighted_nms(Vec::new(), 0.3).is_empty());
        // A degenerate box does not loop forever.
        assert_eq!(
            weighted_nms(vec![det(1.0, 1.0, 0.0, 0.0, 0.9), a], 0.3).len(),
            2
        );
    }

    #[test]
    fn a_stream_reads_windows_between_whole_frame_searches() {
        let f = Follow::default();
        let t = Tiling::default();
        let img = RgbImage::new(320, 240);
        let face = det(100.0, 60.0, 90.0, 90.0, 0.9);
        let mut stream = StreamSearch::new();
        assert_eq!(stream.to_refind(&f), None, "nobody followed yet");
        stream.follow(Vec::new(), &[face], &img, &t, f.whole_every - 1);
        for _ in 1..f.whole_every {
            assert_eq!(stream.to_refind(&f), Some(&[face][..]));
            let left = stream.windows_left - 1;
            stream.follow(Vec::new(), &[face], &img, &t, left);
        }
        assert_eq!(stream.to_refind(&f), None, "the whole frame is due");
        stream.follow(Vec::new(), &[face; 3], &img, &t, f.whole_every - 1);
        assert_eq!(
            stream.to_refind(&f),
            None,
            "three faces cost more in windows"
        );
        stream.follow(Vec::new(), &[face], &img, &t, f.whole_every - 1);
        let off = Follow { side: 0, ..f };
        assert_eq!(stream.to_refind(&off), None, "following off");
    }

    /// The graph cut at its heads gives the shipped graph's rows bit for bit at 128, and the anchors of its own side
    /// elsewhere.
    #[test]
    fn the_window_pass_reads_the_shipped_rows_at_128_and_its_own_anchors_at_80() {
        let bytes = test_support::model_bytes("blazeface_short_range.nnef.tar");
        let cfg = DetectorConfig::default();
        let typed = load_typed(&bytes, MODEL, &FaceDetector::input_shape(&cfg)).unwrap();
        let whole = Pass::whole(typed.clone(), &cfg).unwrap();
        let cut = Pass::at_side(&typed, &cfg, 128).unwrap();
        let input: Vec<f32> = (0..3 * 128 * 128)
            .map(|i| (i * 37 % 255) as f32 / 127.5 - 1.0)
            .collect();
        let (a, b) = (whole.raw(&input).unwrap(), cut.raw(&input).unwrap());
        assert_eq!(a.regressors, b.regressors);
        assert_eq!(a.logits, b.logits);
        let small = Pass::at_side(&typed, &cfg, 80).unwrap();
        assert_eq!(small.anchors.len(), 10 * 10 * 2 + 5 * 5 * 6);
        assert_eq!(small.decoding.coord_scale, 80.0);
        let raw = small.raw(&vec![0.0; 3 * 80 * 80]).unwrap();
        assert_eq!(raw.logits.len(), small.anchors.len());
        assert_eq!(raw.regressors.len(), 16 * small.anchors.len());
    }
}
