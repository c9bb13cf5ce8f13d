//! The emotion CNN: a batch of 48x48 grey faces in, softmax probabilities over the contract's
//! labels out. The model (float or int8 weights) is loaded from bytes with a symbolic batch axis,
//! optimised once and kept.

use std::sync::Arc;

use image::GrayImage;
use tract_nnef::prelude::*;

use crate::contract::{Contract, LABELS_LEN};
use crate::error::{PipelineError, Result};
use crate::model::{load_typed, runnable, with_fixed_batch, InputShape};
use crate::normalize::face_tensor_input;

const MODEL: &str = "emotion classifier";

/// Largest batch sent to the network in one run; larger calls are split. Small runs keep tract's
/// im2col buffers in cache: with the shipped model, 64 faces in one run cost 2.2 ms a face against
/// 1.1 ms for one face alone (`emoji-mirror bench`, crates/cli/BENCH.md).
pub const MAX_BATCH: usize = 8;

/// Probabilities for one face, in the contract's label order.
pub type Probabilities = [f32; LABELS_LEN];

/// Which views of each face the classifier reads ([`EmotionClassifier::classify_views`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Views {
    /// The face as it is.
    Face,
    /// Its mirror image.
    Mirror,
    /// Both, their probabilities averaged (the contract's `test_time_flip`).
    Both,
}

/// The emotion model, ready to run.
#[derive(Debug, Clone)]
pub struct EmotionClassifier {
    /// Any batch size (the graph's symbolic batch axis).
    plan: Arc<TypedRunnableModel>,
    /// The same graph optimised for one face, what a live frame sends: tract plans each layer for known shapes
    /// (11–13% less time a face in wasm, crates/cli/BENCH.md), and gives the same logits (tested).
    single: Arc<TypedRunnableModel>,
    contract: Contract,
}

impl EmotionClassifier {
    /// Loads an emotion model (NNEF archive, or ONNX with the `onnx` feature; input `[batch, 1, S, S]` float,
    /// output `[batch, 7]` logits).
    pub fn from_bytes(model: &[u8], contract: &Contract) -> Result<Self> {
        let typed = load_typed(model, MODEL, &Self::input_shape(contract))?;
        let single = with_fixed_batch(&typed, 1, MODEL)?
            .map(|one| runnable(one, MODEL))
            .transpose()?;
        let plan = runnable(typed, MODEL)?;
        Ok(EmotionClassifier {
            single: single.unwrap_or_else(|| plan.clone()),
            plan,
            contract: contract.clone(),
        })
    }

    /// The network's input: a batch of one-channel faces of the contract's size, `[batch, 1, S, S]`.
    pub fn input_shape(contract: &Contract) -> InputShape {
        let s = contract.input_size as usize;
        InputShape::Batched(vec![1, s, s])
    }

    /// The contract this classifier preprocesses with.
    pub fn contract(&self) -> &Contract {
        &self.contract
    }

    /// The one-face plan's time op by op (what a live frame runs; [`crate::profile`]): for benchmarks.
    pub fn op_profile(&self, warmup: usize, runs: usize) -> Result<Vec<crate::OpTime>> {
        let s = self.contract.input_size as usize;
        crate::profile::op_times(&self.single, &[1, 1, s, s], warmup, runs, MODEL)
    }

    /// Raw logits for already-normalised inputs: `data` holds `batch` faces of S·S floats.
    pub fn logits(&self, data: &[f32], batch: usize) -> Result<Vec<Probabilities>> {
        let fail = |m: String| PipelineError::Inference {
            model: MODEL,
            message: m,
        };
        let s = self.contract.input_size as usize;
        if batch == 0 {
            return Ok(Vec::new());
        }
        if data.len() != batch * s * s {
            return Err(fail(format!(
                "{} input values for a batch of {batch} faces of {s}x{s}",
                data.len()
            )));
        }
        let mut out = Vec::with_capacity(batch);
        for chunk in data.chunks(MAX_BATCH * s * s) {
            let n = chunk.len() / (s * s);
            let t = Tensor::from_shape(&[n, 1, s, s], chunk).map_err(|e| fail(format!("{e:#}")))?;
            let plan = if n == 1 { &self.single } else { &self.plan };
            let res = plan
                .run(tvec!(t.into()))
                .map_err(|e| fail(format!("{e:#}")))?;
            let first = res
                .first()
                .ok_or_else(|| fail("the model returned no output".into()))?;
            let view = first
                .to_plain_array_view::<f32>()
                .map_err(|e| fail(format!("{e:#}")))?;
            if view.len() != n * LABELS_LEN {
                return Err(fail(format!(
                    "output shape {:?}, expected [{n}, {LABELS_LEN}]",
                    view.shape()
                )));
            }
            let flat: Vec<f32> = view.iter().copied().collect();
            for row in flat.chunks_exact(LABELS_LEN) {
                let mut l = [0.0; LABELS_LEN];
                l.copy_from_slice(row);
                out.push(l);
            }
        }
        Ok(out)
    }

    /// Softmax probabilities for a batch of grey faces of the contract's input size (as
    /// [`crate::face_crop`] makes them): contrast, equalisation and normalisation happen here. With the
    /// contract's `test_time_flip`, each face's probabilities are the mean of its own and its mirror's.
    pub fn classify(&self, faces: &[GrayImage]) -> Result<Vec<Probabilities>> {
        let views = if self.contract.test_time_flip {
            Views::Both
        } else {
            Views::Face
        };
        self.classify_views(faces, views)
    }

    /// [`EmotionClassifier::classify`] of the chosen views of each face: the face, its mirror, or the
    /// mean of both.
    pub fn classify_views(&self, faces: &[GrayImage], which: Views) -> Result<Vec<Probabilities>> {
        let s = self.contract.input_size;
        let views = if which == Views::Both { 2 } else { 1 };
        let mut data = Vec::with_capacity(faces.len() * views * (s * s) as usize);
        for (index, f) in faces.iter().enumerate() {
            if f.dimensions() != (s, s) {
                return Err(PipelineError::FaceSize {
                    index,
                    width: f.width(),
                    height: f.height(),
                    expected: s,
                });
            }
            let start = data.len();
            data.extend(face_tensor_input(f, &self.contract));
            if which != Views::Face {
                // Contrast and equalisation do not depend on pixel positions: mirroring the input tensor
                // equals preprocessing the mirrored face (tested).
                let mirror: Vec<f32> = mirrored_rows(&data[start..], s as usize).collect();
                if which == Views::Mirror {
                    data.truncate(start);
                }
                data.extend(mirror);
            }
        }
        let probabilities: Vec<Probabilities> = self
            .logits(&data, faces.len() * views)?
            .iter()
            .map(softmax)
            .collect();
        Ok(probabilities.chunks_exact(views).map(mean).collect())
    }
}

/// Each row of a row-major `side`-wide image reversed: its mirror image.
fn mirrored_rows(pixels: &[f32], side: usize) -> impl Iterator<Item = f32> + '_ {
    pixels
        .chunks_exact(side)
        .flat_map(|row| row.iter().rev().copied())
}

/// The element-wise mean of a few probability vectors.
fn mean(ps: &[Probabilities]) -> Probabilities {
    let mut m = [0.0; LABELS_LEN];
    for p in ps {
        for (o, v) in m.iter_mut().zip(p) {
            *o += v;
        }
    }
    m.map(|v| v / ps.len() as f32)
}

/// Numerically stable softmax.
pub fn softmax(logits: &Probabilities) -> Probabilities {
    let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let mut p = [0.0; LABELS_LEN];
    let mut sum = 0.0;
    for (o, &l) in p.iter_mut().zip(logits) {
        *o = (l - max).exp();
        sum += *o;
    }
    for o in p.iter_mut() {
        *o /= sum;
    }
    p
}

/// Index of the largest value (the first one on ties).
pub fn argmax(p: &Probabilities) -> usize {
    let mut best = 0;
    for (i, &v) in p.iter().enumerate() {
        if v > p[best] {
            best = i;
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn softmax_by_hand() {
        let p = softmax(&[0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]);
        assert!(p.iter().all(|&v| (v - 1.0 / 7.0).abs() < 1e-6));
        // ln 2 vs 0: 2/(2+6) for the first.
        let p = softmax(&[2f32.ln(), 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]);
        assert!((p[0] - 0.25).abs() < 1e-6 && (p[1] - 0.125).abs() < 1e-6);
        // Huge logits do not overflow.
        let p = softmax(&[1000.0, 999.0, 0.0, 0.0, 0.0, 0.0, 0.0]);
        assert!(p.iter().all(|v| v.is_finite()));
        assert!((p.iter().sum::<f32>() - 1.0).abs() < 1e-6);
        assert_eq!(argmax(&p), 0);
        assert_eq!(argmax(&[0.1, 0.3, 0.3, 0.0, 0.0, 0.0, 0.0]), 1);
    }
}
