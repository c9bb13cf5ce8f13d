//! BlazeFace at any input side. The shipped graph ends in reshapes that fix its input to 128x128 (each head's
//! `[1, h, w, c]` map flattened to `[h·w·c/16, 16]` rows and concatenated); everything before them is convolutions,
//! pooling and element-wise ops that read any side. [`at_side`] rebuilds the graph up to its heads for another side,
//! so that a tracked face can be re-found in a small window at a fraction of a whole-frame pass's cost, with the same
//! weights. Reading the heads in order and end to end gives the rows the shipped graph's outputs hold.

use std::collections::HashSet;

use tract_nnef::internal::*;

/// The graph, cut at its heads, for an NCHW `[1, 3, side, side]` input. Its outputs are the heads of the original
/// outputs in order (each head `[1, h, w, c]`, as the original graph's reshapes read it); `parts[i]` of them belong
/// to the original output `i`.
pub(crate) struct Heads {
    pub model: TypedModel,
    pub parts: Vec<usize>,
}

pub(crate) fn at_side(typed: &TypedModel, side: usize) -> TractResult<Heads> {
    let mut heads = Vec::new();
    let mut parts = Vec::new();
    for &output in typed.output_outlets()? {
        let node = typed.node(output.node);
        // A concatenation of the heads' reshaped maps, or one reshaped map alone.
        let inputs = if node.op_is::<tract_nnef::tract_core::ops::array::TypedConcat>() {
            node.inputs.clone()
        } else {
            vec![output]
        };
        for input in &inputs {
            heads.push(last_map_before(typed, *input)?);
        }
        parts.push(inputs.len());
    }

    let needed = ancestors(typed, &heads);
    let source = *typed
        .input_outlets()?
        .first()
        .context("the detector has no input")?;
    let mut model = TypedModel::default();
    let mut mapping = std::collections::HashMap::new();
    for id in typed.eval_order()? {
        if !needed.contains(&id) {
            continue;
        }
        let node = typed.node(id);
        let outlets = if id == source.node {
            tvec!(model.add_source(&node.name, f32::fact([1, 3, side, side]))?)
        } else {
            let inputs: TVec<OutletId> = node.inputs.iter().map(|i| mapping[i]).collect();
            model
                .wire_node(&node.name, node.op.clone(), &inputs)
                .with_context(|| format!("rewiring {} for a {side}x{side} input", node.name))?
        };
        for (slot, outlet) in outlets.into_iter().enumerate() {
            mapping.insert(OutletId::new(id, slot), outlet);
        }
    }
    let outputs: Vec<OutletId> = heads.iter().map(|h| mapping[h]).collect();
    model.select_output_outlets(&outputs)?;
    Ok(Heads { model, parts })
}

/// The last four-dimensional tensor on the way to `outlet` (walking back through the ops that only reshape it): a
/// head's `[1, h, w, c]` map.
fn last_map_before(typed: &TypedModel, mut outlet: OutletId) -> TractResult<OutletId> {
    loop {
        if typed.outlet_fact(outlet)?.rank() == 4 {
            return Ok(outlet);
        }
        let node = typed.node(outlet.node);
        ensure!(
            node.inputs.len() == 1,
            "expected the detector's outputs to be reshaped maps, met {node}"
        );
        outlet = node.inputs[0];
    }
}

/// The nodes `outlets` depend on, themselves included.
fn ancestors(typed: &TypedModel, outlets: &[OutletId]) -> HashSet<usize> {
    let mut seen = HashSet::new();
    let mut todo: Vec<usize> = outlets.iter().map(|o| o.node).collect();
    while let Some(id) = todo.pop() {
        if seen.insert(id) {
            todo.extend(typed.node(id).inputs.iter().map(|i| i.node));
        }
    }
    seen
}
