//! Where a network's time goes, op by op: its plan run node by node with a clock around each node (`web-time`, so
//! the same code measures natively and in the site's worker). A measurement for benchmarks, never on a frame's path.

use std::collections::BTreeMap;
use std::sync::Arc;

use tract_nnef::prelude::*;
use web_time::Instant;

use crate::error::{PipelineError, Result};

/// The time one kind of op takes in one run of a network: the sum over its nodes, averaged over the runs.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct OpTime {
    /// tract's name for the op after optimisation (e.g. `OptMatMul`, `DepthWiseConv`, `OptMaxPool`).
    pub op: String,
    /// How many nodes of the plan run it.
    pub nodes: usize,
    /// Milliseconds per run, all its nodes together.
    pub ms: f64,
}

/// Runs `plan` `warmup + runs` times on an input of `shape` filled with zeros (the normalised mid-grey: the cost of
/// these networks does not depend on the pixels) and returns the mean time of each kind of op over the last `runs`,
/// the costliest first.
pub(crate) fn op_times(
    plan: &Arc<TypedRunnableModel>,
    shape: &[usize],
    warmup: usize,
    runs: usize,
    model: &'static str,
) -> Result<Vec<OpTime>> {
    let fail = |e: TractError| PipelineError::Inference {
        model,
        message: format!("{e:#}"),
    };
    let input = Tensor::zero::<f32>(shape).map_err(fail)?;
    let mut state = TypedSimpleState::new(plan).map_err(fail)?;
    let mut per_node = vec![0.0f64; plan.model().nodes().len()];
    for run in 0..warmup + runs {
        let timed = run >= warmup;
        state
            .run_plan_with_eval(
                tvec!(input.clone().into()),
                |ctx, op_state, node, inputs| {
                    let start = Instant::now();
                    let outputs = tract_nnef::tract_core::plan::eval(ctx, op_state, node, inputs);
                    if timed {
                        per_node[node.id] += start.elapsed().as_secs_f64() * 1e3;
                    }
                    outputs
                },
            )
            .map_err(fail)?;
    }
    let mut by_op: BTreeMap<String, (usize, f64)> = BTreeMap::new();
    for node in plan.model().nodes() {
        let entry = by_op.entry(node.op().name().to_string()).or_default();
        entry.0 += 1;
        entry.1 += per_node[node.id] / runs.max(1) as f64;
    }
    let mut times: Vec<OpTime> = by_op
        .into_iter()
        .map(|(op, (nodes, ms))| OpTime { op, nodes, ms })
        .collect();
    times.sort_by(|a, b| b.ms.total_cmp(&a.ms));
    Ok(times)
}

/// `ops` as a text table under `title`, one line a kind of op with its share of the run, leaving out the kinds below
/// `min_share` of it (what `emoji-mirror bench` and the worker's benchmark print).
pub fn table(title: &str, ops: &[OpTime], min_share: f64) -> String {
    let total: f64 = ops.iter().map(|o| o.ms).sum();
    let mut text = format!("{title}: {total:.3} ms a run, by op\n");
    for o in ops.iter().filter(|o| o.ms >= min_share * total) {
        text += &format!(
            "  {:<24} {:>3} nodes {:>8.3} ms {:>5.1}%\n",
            o.op,
            o.nodes,
            o.ms,
            100.0 * o.ms / total
        );
    }
    text
}
