//! Model files. The shipped models are NNEF archives (`models/*.nnef.tar`), loaded by tract-nnef alone: that is
//! the runtime the site carries, a third of the size of tract-onnx in wasm (crates/pipeline/MODELS.md). ONNX files
//! (what training exports) load too where the `onnx` feature is on (the CLI, the tests), and `convert` turns one
//! into the shipped form with the same weights, bit for bit.

use tract_nnef::prelude::*;

use crate::error::{PipelineError, Result};

/// The model's input, as an ONNX file cannot say it: NNEF archives carry their own.
#[derive(Debug, Clone)]
pub enum InputShape {
    /// A fixed shape.
    Fixed(Vec<usize>),
    /// A symbolic batch axis named `batch` first, then fixed axes.
    Batched(Vec<usize>),
}

/// What a model file is, from its first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModelFormat {
    /// A tar archive (`ustar` magic at byte 257): NNEF.
    Nnef,
    /// Anything else is read as an ONNX protobuf.
    Onnx,
}

impl ModelFormat {
    pub fn of(bytes: &[u8]) -> ModelFormat {
        if bytes.get(257..262) == Some(b"ustar".as_slice()) {
            ModelFormat::Nnef
        } else {
            ModelFormat::Onnx
        }
    }
}

pub(crate) fn load_error(model: &'static str) -> impl Fn(TractError) -> PipelineError {
    move |e| PipelineError::ModelLoad {
        model,
        message: format!("{e:#}"),
    }
}

/// Reads a model (NNEF, or ONNX with the `onnx` feature) as a typed graph, not yet optimised.
pub(crate) fn load_typed(
    bytes: &[u8],
    model: &'static str,
    input: &InputShape,
) -> Result<TypedModel> {
    match ModelFormat::of(bytes) {
        ModelFormat::Nnef => tract_nnef::nnef()
            .model_for_read(&mut std::io::Cursor::new(bytes))
            .map_err(load_error(model)),
        ModelFormat::Onnx => onnx_typed(bytes, model, input),
    }
}

/// Optimises a typed graph for this machine and makes it runnable.
pub(crate) fn runnable(typed: TypedModel, model: &'static str) -> Result<Arc<TypedRunnableModel>> {
    let err = load_error(model);
    typed
        .into_optimized()
        .map_err(&err)?
        .into_runnable()
        .map_err(err)
}

/// The graph with its symbolic batch axis (the first input's first axis) fixed to `batch`; `None` where that axis
/// is not symbolic.
pub(crate) fn with_fixed_batch(
    typed: &TypedModel,
    batch: i64,
    model: &'static str,
) -> Result<Option<TypedModel>> {
    let err = load_error(model);
    let fact = typed.input_fact(0).map_err(&err)?;
    let Some(TDim::Sym(symbol)) = fact.shape.iter().next().cloned() else {
        return Ok(None);
    };
    let fixed = std::collections::HashMap::from([(symbol, batch.to_dim())]);
    typed.set_symbols(&fixed).map(Some).map_err(err)
}

#[cfg(not(feature = "onnx"))]
fn onnx_typed(_bytes: &[u8], model: &'static str, _input: &InputShape) -> Result<TypedModel> {
    Err(PipelineError::ModelLoad {
        model,
        message:
            "not an NNEF archive (.nnef.tar); ONNX files load only where the `onnx` feature is on \
                  (the native CLI), and `emoji-mirror convert` turns one into NNEF"
                .into(),
    })
}

#[cfg(feature = "onnx")]
fn onnx_typed(bytes: &[u8], model: &'static str, input: &InputShape) -> Result<TypedModel> {
    use tract_onnx::prelude::InferenceModelExt;
    let err = load_error(model);
    let mut inference = tract_onnx::onnx()
        .model_for_read(&mut std::io::Cursor::new(bytes))
        .map_err(&err)?;
    set_input(&mut inference, input).map_err(&err)?;
    inference.into_typed().map_err(err)
}

#[cfg(feature = "onnx")]
pub(crate) fn set_input(
    model: &mut tract_onnx::prelude::InferenceModel,
    input: &InputShape,
) -> TractResult<()> {
    let fact: TypedFact = match input {
        InputShape::Fixed(dims) => f32::fact(dims),
        InputShape::Batched(rest) => {
            // Keep the batch axis symbolic (the exported graph names it "batch"); fixing it to 1 makes tract fail
            // to unify it with the output's symbolic axis.
            let batch = model.symbols.sym("batch");
            let dims: Vec<TDim> = std::iter::once(batch.to_dim())
                .chain(rest.iter().map(|d| d.to_dim()))
                .collect();
            f32::fact(&dims)
        }
    };
    model.set_input_fact(0, fact.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tar_is_nnef_and_anything_else_is_read_as_onnx() {
        let mut tar = vec![0u8; 512];
        tar[257..262].copy_from_slice(b"ustar");
        assert_eq!(ModelFormat::of(&tar), ModelFormat::Nnef);
        assert_eq!(ModelFormat::of(b"\x08\x07"), ModelFormat::Onnx);
        assert_eq!(ModelFormat::of(&[]), ModelFormat::Onnx);
    }

    #[test]
    fn garbage_is_a_load_error_not_a_panic() {
        let input = InputShape::Fixed(vec![1, 3, 8, 8]);
        let mut tar = vec![0u8; 1024];
        tar[257..262].copy_from_slice(b"ustar");
        for bytes in [&b"not a model"[..], &tar[..]] {
            let e = load_typed(bytes, "test model", &input)
                .and_then(|typed| runnable(typed, "test model"))
                .unwrap_err();
            assert!(matches!(e, PipelineError::ModelLoad { .. }), "{e}");
        }
    }
}
