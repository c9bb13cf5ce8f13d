"""ONNX export of a trained checkpoint, its check against onnxruntime, and the parity files for the Rust side.

The model is exported with the legacy TorchScript exporter (dynamo=False: one file, no onnxscript needed) at
opset 17, input "input" [batch, 1, 48, 48] and output "logits" [batch, 7] with a dynamic axis named "batch"
(names from the contract). models/parity/ gets a handful of 48x48 grey PNGs drawn here (synthetic faces and
patterns, no FER image) and emotion_parity.json with, for each, the uint8 image after the contract's contrast +
equalise step, the float input tensor's checksums and the float model's logits, so a Rust test can check that
the Rust pipeline builds the same tensor from the same file and gets the same outputs within tolerance.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn

from .contract import Contract, load_contract

OPSET = 17


def export_onnx(model: nn.Module, path: Path, contract: Contract) -> Path:
    import onnx

    model = model.eval().cpu()
    s = contract.input_size
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.onnx.export(
        model, (torch.zeros(1, 1, s, s),), str(path), dynamo=False, opset_version=OPSET, do_constant_folding=True,
        input_names=[contract.input_name], output_names=[contract.output_name],
        dynamic_axes={contract.input_name: {0: "batch"}, contract.output_name: {0: "batch"}},
    )
    for extra in path.parent.glob(path.name + ".data"):
        raise RuntimeError(f"export wrote external data {extra}; the model must be a single file")
    m = onnx.load(str(path))
    onnx.checker.check_model(m)
    if any(t.data_location == onnx.TensorProto.EXTERNAL for t in m.graph.initializer):
        raise RuntimeError(f"{path}: initializers stored outside the file")
    if m.opset_import[0].version != OPSET:
        raise RuntimeError(f"{path}: opset {m.opset_import[0].version}, expected {OPSET}")
    return path


def ort_logits(path: Path, x: np.ndarray, batch: int = 256) -> np.ndarray:
    import onnxruntime as ort

    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    sess = ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])
    name = sess.get_inputs()[0].name
    return np.concatenate([sess.run(None, {name: x[i:i + batch]})[0] for i in range(0, len(x), batch)])


def verify_against_torch(model: nn.Module, path: Path, x: np.ndarray) -> float:
    """Max |onnxruntime - torch| over the logits of x (batch > 1 also exercises the dynamic axis)."""
    with torch.no_grad():
        ref = model.eval()(torch.from_numpy(x)).numpy()
    got = ort_logits(path, x)
    diff = float(np.abs(ref - got).max())
    if diff > 1e-3:
        raise RuntimeError(f"{path}: onnxruntime differs from torch by {diff:.2e}")
    return diff


# ---------------------------------------------------------------- parity inputs, drawn here (no dataset image)


def synthetic_images(size: int, seed: int = 7) -> dict[str, np.ndarray]:
    """Face-like drawings and patterns that exercise the contrast/equalise step (incl. the all-equal case)."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float64) / (size - 1)  # 0..1

    def face(smile: float, brow: float, light: float) -> np.ndarray:
        img = 70 + 40 * xx * light  # background with a light gradient
        head = ((xx - 0.5) / 0.36) ** 2 + ((yy - 0.52) / 0.46) ** 2 < 1
        img = np.where(head, 150 + 30 * (1 - yy) + 15 * light * (xx - 0.5), img)
        for cx in (0.35, 0.65):
            eye = ((xx - cx) / 0.07) ** 2 + ((yy - 0.42) / 0.04) ** 2 < 1
            img = np.where(eye, 40, img)
            brow_y = 0.32 - brow * (xx - cx) * (1 if cx < 0.5 else -1)
            img = np.where((np.abs(yy - brow_y) < 0.02) & (np.abs(xx - cx) < 0.09), 60, img)
        mouth_y = 0.74 + smile * ((xx - 0.5) / 0.18) ** 2 * 0.08 - smile * 0.04
        img = np.where((np.abs(yy - mouth_y) < 0.025) & (np.abs(xx - 0.5) < 0.18), 50, img)
        img = np.where((np.abs(xx - 0.5) < 0.02) & (yy > 0.45) & (yy < 0.62), img - 25, img)  # nose
        return np.clip(img + rng.normal(0, 4, img.shape), 0, 255)

    imgs = {
        "face_smile": face(smile=-1.0, brow=0.0, light=1.0),
        "face_frown": face(smile=1.0, brow=0.4, light=-0.5),
        "face_open": face(smile=0.0, brow=-0.3, light=0.3),
        "noise": rng.integers(0, 256, (size, size)),
        "ramp_low_contrast": 90 + 40 * xx,
        "two_levels": np.where((np.floor(xx * 6) + np.floor(yy * 6)) % 2 == 0, 100, 180),
        "flat": np.full((size, size), 128),
    }
    return {k: np.floor(v + 0.5).clip(0, 255).astype(np.uint8) if v.dtype.kind == "f" else v.astype(np.uint8)
            for k, v in imgs.items()}


def write_parity(model: nn.Module, onnx_path: Path, out_dir: Path, contract: Contract) -> Path:
    from PIL import Image

    out_dir.mkdir(parents=True, exist_ok=True)
    imgs = synthetic_images(contract.input_size)
    names = list(imgs)
    raw = np.stack([imgs[n] for n in names])
    pre = contract.preprocess_u8(raw)
    x = contract.normalize(pre)[:, None]
    with torch.no_grad():
        logits = model.eval()(torch.from_numpy(x)).numpy()
        # test-time flip, as the Rust pipeline does it: the mean of the softmax of the face and of its mirror
        flip_p = ((torch.softmax(torch.from_numpy(logits), 1)
                   + torch.softmax(model(torch.from_numpy(x[..., ::-1].copy())), 1)) / 2).numpy()
    ort = ort_logits(onnx_path, x)
    cases = []
    for i, n in enumerate(names):
        Image.fromarray(raw[i], mode="L").save(out_dir / f"emotion_{n}.png")
        xi = x[i, 0].astype(np.float64)
        p = np.exp(logits[i] - logits[i].max())
        p /= p.sum()
        cases.append({
            "image": f"emotion_{n}.png",
            "grey_u8_sha256": hashlib.sha256(raw[i].tobytes()).hexdigest(),
            "preprocessed_u8": pre[i].ravel().tolist(),
            "preprocessed_u8_sha256": hashlib.sha256(pre[i].tobytes()).hexdigest(),
            "input_sum": float(xi.sum()),
            "input_abs_sum": float(np.abs(xi).sum()),
            "input_first": [float(v) for v in x[i, 0].ravel()[:16]],
            "logits": [float(v) for v in logits[i]],
            "logits_onnxruntime": [float(v) for v in ort[i]],
            "probabilities": [float(v) for v in p],
            "flip_probabilities": [float(v) for v in flip_p[i]],
            "top": contract.labels[int(logits[i].argmax())],
        })
    doc = {
        "_doc": "Written by training/tools.py export. Each case: a 48x48 grey PNG drawn by the exporter (no dataset "
                "image); preprocessed_u8 = the image after the contract's contrast x alpha + histogram equalisation "
                "(row-major); the model input is (preprocessed_u8/255 - mean)/std as [1,1,48,48]; logits = the float "
                "PyTorch model's raw outputs (logits_onnxruntime: the exported emotion_fp32.onnx in onnxruntime); "
                "flip_probabilities = the mean of the softmax of the image and of its mirror image (test-time flip).",
        "model": onnx_path.name,
        "model_sha256": hashlib.sha256(onnx_path.read_bytes()).hexdigest(),
        "labels": list(contract.labels),
        "input_shape": [1, 1, contract.input_size, contract.input_size],
        "tolerance": {"preprocessed_u8": 0, "input_abs": 1e-5, "logits_abs": 2e-3, "probabilities_abs": 1e-3},
        "cases": cases,
    }
    path = out_dir / "emotion_parity.json"
    path.write_text(json.dumps(doc) + "\n")
    return path


def export_all(ckpt: Path, out_dir: Path, data: Path, quant_dir: Path, ship: str, calib: int, compare_limit: int,
               contract_path: Path | None = None) -> dict:
    """ckpt → out_dir/emotion_fp32.onnx (+ checks) → out_dir/parity/ → three int8 forms in quant_dir →
    the `ship` form copied to out_dir/emotion_int8.onnx; returns (and writes) the onnxruntime comparison."""
    from . import data as D
    from .models import load_checkpoint_model
    from .quantize import compare_forms, quantize_all

    model, ck = load_checkpoint_model(ckpt)
    contract = load_contract(contract_path) if contract_path else load_contract()
    fp32 = export_onnx(model, out_dir / "emotion_fp32.onnx", contract)
    val = D.load_split(data, "val", contract).subset(compare_limit, 0)
    xv = contract.to_input(val.images)
    diff = verify_against_torch(model, fp32, xv[:64])
    print(f"wrote {fp32} ({fp32.stat().st_size / 1e6:.2f} MB), onnxruntime vs torch max |diff| {diff:.2e}")
    parity = write_parity(model, fp32, out_dir / "parity", contract)
    print(f"wrote {parity}")
    train = D.load_split(data, "train", contract).subset(calib, 1)
    forms = quantize_all(fp32, quant_dir, contract.to_input(train.images))
    shipped = out_dir / "emotion_int8.onnx"
    shutil.copyfile(forms[ship], shipped)
    result = compare_forms({"fp32": fp32, **forms}, xv, val.labels, contract)
    result["shipped_int8_form"] = ship
    result["checkpoint"] = str(ckpt)
    result["checkpoint_epoch"] = ck.get("epoch")
    (quant_dir / "compare.json").write_text(json.dumps(result, indent=2) + "\n")
    print(f"shipped {ship} as {shipped} ({shipped.stat().st_size / 1e6:.2f} MB); comparison in {quant_dir / 'compare.json'}")
    return result
