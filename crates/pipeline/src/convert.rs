//! ONNX → NNEF: training's ONNX exports turned into the archives that ship (`emoji-mirror convert`), with the same
//! weights (int8 stays int8). Native tools only: the module exists with the `onnx` feature, which the site leaves off.

use tract_nnef::internal::{ensure, TractErrorContext};
use tract_nnef::prelude::*;
use tract_onnx::prelude::{Framework, InferenceModelExt};

use crate::error::Result;
use crate::model::{load_error, set_input, InputShape};

/// Converts an ONNX model into the shipped NNEF form (an uncompressed tar: the web server compresses it).
///
/// Both tract's ONNX reader and its NNEF writer fold constant subgraphs, so the int8 weights of a weight-only
/// quantized model (`DequantizeLinear` on int8 initializers) would be written as float, four times larger. They are
/// put back into the archive as the original int8 tensors and their per-channel scales, followed by the same cast
/// and multiplication that tract computes when it reads the ONNX file; tract folds them again when it loads the
/// archive, into bit-identical float weights. The archive is deterministic (fixed timestamps).
pub fn onnx_to_nnef(onnx: &[u8], input: &InputShape) -> Result<Vec<u8>> {
    const MODEL: &str = "model to convert";
    let err = load_error(MODEL);
    let framework = tract_onnx::onnx();
    let proto = framework
        .proto_model_for_read(&mut std::io::Cursor::new(onnx))
        .map_err(&err)?;
    let mut inference = framework.model_for_proto_model(&proto).map_err(&err)?;
    set_input(&mut inference, input).map_err(&err)?;
    let weights = int8_weights(&inference, &proto).map_err(&err)?;
    let typed = inference.into_typed().map_err(&err)?;
    let mut folded = Vec::new();
    tract_nnef::nnef()
        .write_to_tar(&typed, &mut folded)
        .map_err(&err)?;
    restore_int8(&folded, &weights).map_err(err)
}

/// Rewrites tract's archive: each folded float weight becomes `<label>.int8` and `<label>.scale` variables, cast and
/// multiplied back in the graph.
fn restore_int8(folded: &[u8], weights: &[Int8Weight]) -> TractResult<Vec<u8>> {
    use std::io::Read;
    let mut files: Vec<(String, Vec<u8>)> = Vec::new();
    let mut archive = tar::Archive::new(folded);
    for entry in archive.entries()? {
        let mut entry = entry?;
        let path = entry.path()?.to_string_lossy().into_owned();
        let mut bytes = Vec::new();
        entry.read_to_end(&mut bytes)?;
        files.push((path, bytes));
    }
    let (_, graph) = files
        .iter()
        .find(|(p, _)| p == "graph.nnef")
        .context("tract's archive has no graph.nnef")?;
    let mut graph = String::from_utf8(graph.clone())?;
    for w in weights {
        // `into_typed` names the constant it folds out of a node after the node's first output.
        let label = format!("{}.0", w.node);
        let needle = format!("variable<scalar>(label = \"{label}\", shape = ");
        let at = graph
            .find(&needle)
            .with_context(|| format!("no folded weights labelled {label} in graph.nnef"))?;
        let line_start = graph[..at].rfind('\n').map_or(0, |i| i + 1);
        let line_end = at + graph[at..].find('\n').context("unterminated graph line")?;
        let line = &graph[line_start..line_end];
        let id = line
            .trim()
            .split(' ')
            .next()
            .context("a graph line without an identifier")?
            .to_string();
        let shape = |t: &Tensor| {
            t.shape()
                .iter()
                .map(|d| d.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        };
        ensure!(
            line.ends_with(&format!("shape = [{}]);", shape(&w.quantized))),
            "{label} was written with another shape than its int8 weights: {line}"
        );
        let replacement = format!(
            "  {id}_int8 = variable<integer>(label = \"{label}.int8\", shape = [{}]);\n  \
             {id}_scale = variable<scalar>(label = \"{label}.scale\", shape = [{}]);\n  \
             {id}_float = tract_core_cast({id}_int8, to = \"f32\");\n  \
             {id} = mul({id}_float, {id}_scale);",
            shape(&w.quantized),
            shape(&w.scale)
        );
        graph.replace_range(line_start..line_end, &replacement);
        let dat = format!("{}.dat", label.trim_start_matches('/'));
        let before = files.len();
        files.retain(|(p, _)| *p != dat);
        ensure!(files.len() + 1 == before, "no {dat} in tract's archive");
        for (suffix, tensor) in [("int8", &w.quantized), ("scale", &w.scale)] {
            let mut bytes = Vec::new();
            tract_nnef::tensors::write_tensor(&mut bytes, tensor)?;
            files.push((
                format!("{}.{suffix}.dat", label.trim_start_matches('/')),
                bytes,
            ));
        }
    }
    if let Some(file) = files.iter_mut().find(|(p, _)| p == "graph.nnef") {
        file.1 = graph.into_bytes();
    }
    let mut out = tar::Builder::new(Vec::new());
    for (path, bytes) in &files {
        let mut header = tar::Header::new_gnu();
        header.set_size(bytes.len() as u64);
        header.set_mode(0o644);
        // A fixed time (1980-01-01, as tract's deterministic mode) so that a conversion is reproducible byte for byte.
        header.set_mtime(315_532_800);
        header.set_cksum();
        out.append_data(&mut header, path, bytes.as_slice())?;
    }
    Ok(out.into_inner()?)
}

/// One `DequantizeLinear` of constant int8 weights (symmetric: no zero point): its node name and what it computes.
struct Int8Weight {
    node: String,
    quantized: Tensor,
    /// Shaped to broadcast against `quantized` (the channel axis kept, the others 1).
    scale: Tensor,
}

fn int8_weights(
    model: &tract_onnx::prelude::InferenceModel,
    proto: &tract_onnx::pb::ModelProto,
) -> TractResult<Vec<Int8Weight>> {
    let graph = proto.graph.as_ref().context("ONNX model without a graph")?;
    let mut found = Vec::new();
    for node in model.nodes() {
        if node.op.name() != "DequantizeLinear" {
            continue;
        }
        let konst = |i: usize| -> TractResult<Option<Arc<Tensor>>> {
            let Some(outlet) = node.inputs.get(i) else {
                return Ok(None);
            };
            use tract_onnx::tract_hir::infer::Factoid;
            Ok(model.outlet_fact(*outlet)?.value.concretize())
        };
        let (Some(quantized), Some(scale)) = (konst(0)?, konst(1)?) else {
            continue; // activations: not weights
        };
        let quantized = quantized.into_tensor();
        if quantized.datum_type() != i8::datum_type() && quantized.datum_type() != u8::datum_type()
        {
            continue;
        }
        let axis = graph
            .node
            .iter()
            .find(|n| n.name == node.name)
            .and_then(|n| n.attribute.iter().find(|a| a.name == "axis"))
            .map_or(1, |a| a.i);
        let rank = quantized.rank();
        let axis = if axis < 0 { axis + rank as i64 } else { axis } as usize;
        let per_axis = |t: Tensor| -> TractResult<Tensor> {
            if t.len() == 1 {
                return t.broadcast_into_rank(rank);
            }
            let mut shape = vec![1; rank];
            shape[axis] = t.len();
            t.into_shape(&shape)
        };
        if let Some(z) = konst(2)? {
            let z = z.cast_to::<f32>()?;
            ensure!(
                z.try_as_plain_ram()?.as_slice::<f32>()?.iter().all(|v| *v == 0.0),
                "{}: int8 weights with a non-zero zero point (only symmetric quantization is converted)",
                node.name
            );
        }
        ensure!(
            quantized.datum_type() == i8::datum_type(),
            "{}: uint8 weights (only int8 is converted)",
            node.name
        );
        found.push(Int8Weight {
            node: node.name.clone(),
            quantized,
            scale: per_axis(scale.into_tensor())?,
        });
    }
    Ok(found)
}
