"""ONNX export, parity files and the three int8 forms, on a small (briefly trained) checkpoint."""

import json

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch
from PIL import Image

from conftest import run_tool, run_train
from emoji_train import posthoc as P
from emoji_train.export import OPSET


@pytest.fixture(scope="module")
def exported(tiny_fer, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("export")
    run_train(["--preset", "tiny", "--data", tiny_fer, "--epochs", 1, "--out", tmp / "run"])
    run_tool(["export", "--ckpt", tmp / "run" / "best.pt", "--out-dir", tmp / "models", "--data", tiny_fer,
               "--quant-dir", tmp / "int8", "--calib", 100])
    return tmp


def sess(path):
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    return ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])


def test_float_model_is_one_file_opset_17_with_a_dynamic_batch(exported, contract):
    path = exported / "models" / "emotion_fp32.onnx"
    assert not list(path.parent.glob("*.data"))
    m = onnx.load(str(path))
    assert m.opset_import[0].version == OPSET == 17
    (inp,), (out,) = m.graph.input, m.graph.output
    assert inp.name == contract.input_name and out.name == contract.output_name
    dims = [d.dim_param or d.dim_value for d in inp.type.tensor_type.shape.dim]
    assert dims == ["batch", 1, contract.input_size, contract.input_size]
    y = sess(path).run(None, {inp.name: np.zeros((3, 1, 48, 48), np.float32)})[0]
    assert y.shape == (3, contract.num_classes)


def test_parity_files_rebuild_from_the_pngs(exported, contract):
    d = exported / "models" / "parity"
    doc = json.loads((d / "emotion_parity.json").read_text())
    assert doc["labels"] == list(contract.labels) and len(doc["cases"]) >= 5
    s = sess(exported / "models" / "emotion_fp32.onnx")
    for case in doc["cases"]:
        grey = np.asarray(Image.open(d / case["image"]), dtype=np.uint8)
        assert grey.shape == (48, 48)
        pre = contract.preprocess_u8(grey[None])[0]
        assert pre.ravel().tolist() == case["preprocessed_u8"]
        x = contract.to_input(grey[None])
        assert float(x.astype(np.float64).sum()) == pytest.approx(case["input_sum"], abs=1e-3)
        logits = s.run(None, {contract.input_name: x})[0][0]
        assert np.abs(logits - np.array(case["logits"])).max() < doc["tolerance"]["logits_abs"]
        # test-time flip as the posthoc table and the Rust pipeline compute it, from the mirrored PNG
        mirrored = s.run(None, {contract.input_name: contract.to_input(grey[None, :, ::-1].copy())})[0]
        flip_p = P.scores(torch.from_numpy(logits[None]), torch.from_numpy(mirrored), np.zeros(len(logits)), 0.0)[0]
        assert np.abs(flip_p - np.array(case["flip_probabilities"])).max() < doc["tolerance"]["probabilities_abs"]
    flat = next(c for c in doc["cases"] if c["image"] == "emotion_flat.png")
    assert len(set(flat["preprocessed_u8"])) == 1  # all-equal image left unchanged by equalisation


def test_int8_forms(exported, contract):
    fp32 = exported / "models" / "emotion_fp32.onnx"
    forms = {k: exported / "int8" / f"emotion_int8_{k}.onnx" for k in ("weight_only", "qdq", "dynamic")}
    shipped = exported / "models" / "emotion_int8.onnx"
    assert shipped.read_bytes() == forms["weight_only"].read_bytes()  # the default --ship
    rng = np.random.default_rng(0)
    x = rng.normal(0, 1, (16, 1, 48, 48)).astype(np.float32)
    ref = sess(fp32).run(None, {"input": x})[0]
    for name, path in forms.items():
        assert path.stat().st_size < fp32.stat().st_size / 3, name
        y = sess(path).run(None, {"input": x})[0]
        assert y.shape == ref.shape and np.abs(y - ref).max() < 0.5 * np.abs(ref).max() + 0.1, name
    m = onnx.load(str(forms["weight_only"]))
    deq = [n for n in m.graph.node if n.op_type == "DequantizeLinear"]
    layers = [n for n in m.graph.node if n.op_type in ("Conv", "Gemm")]
    assert len(deq) == len(layers) == 8  # 5 conv + 3 fully connected: the 8-layer AlexNet
    int8 = {t.name for t in m.graph.initializer if t.data_type == onnx.TensorProto.INT8}
    assert all(n.input[0] in int8 for n in deq)
    y = sess(forms["weight_only"]).run(None, {"input": x})[0]
    assert np.abs(y - ref).max() < 0.05 * np.abs(ref).max() + 1e-3  # weight rounding only
    cmp = json.loads((exported / "int8" / "compare.json").read_text())
    assert set(cmp["forms"]) == {"fp32", *forms}
