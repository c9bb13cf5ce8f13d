"""int8 forms of the float ONNX model, and their comparison.

Three forms, because which one is best depends on the runtime (tract natively and in wasm, see TOOLCHAIN.md):

qdq          full static QDQ (onnxruntime quantize_static, QuantFormat.QDQ, per-channel int8 weights, int8
             activations calibrated with MinMax on ~500 training images) — the "real" int8 net.
dynamic      onnxruntime quantize_dynamic: int8 weights, activations quantised at run time.
weight_only  int8 weight initializers + per-output-channel DequantizeLinear feeding the float Conv/Gemm (biases stay
             float): 4x smaller on disk, and a runtime that folds the DequantizeLinear at load (tract does) runs it
             at float speed with the weights' rounding as the only loss.

compare_forms() runs each in onnxruntime on the same images: size, accuracy, macro-F1, top-1 agreement with the
float model, and batch-1 latency. The Rust evaluator (`emoji-mirror evaluate/bench`) gives the shipped figures.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from .contract import Contract
from .metrics import classification_metrics


def quantize_weight_only(src: Path, dst: Path) -> Path:
    """Replace each Conv/Gemm weight by int8 + per-output-channel scale and a DequantizeLinear (opset >= 13)."""
    import onnx
    from onnx import helper, numpy_helper

    m = onnx.load(str(src))
    g = m.graph
    inits = {t.name: t for t in g.initializer}
    new_nodes, done = [], set()
    for node in g.node:
        if node.op_type not in ("Conv", "Gemm") or len(node.input) < 2 or node.input[1] not in inits:
            continue
        wname = node.input[1]
        if wname in done:
            continue
        w = numpy_helper.to_array(inits[wname]).astype(np.float32)
        axis = 0  # Conv: [out, in, kh, kw]; Gemm from nn.Linear: [out, in] with transB=1
        if node.op_type == "Gemm":
            trans_b = next((a.i for a in node.attribute if a.name == "transB"), 0)
            axis = 0 if trans_b else 1
        red = tuple(i for i in range(w.ndim) if i != axis)
        scale = np.abs(w).max(axis=red) / 127.0
        scale = np.where(scale == 0, 1.0, scale).astype(np.float32)
        shape = [1] * w.ndim
        shape[axis] = -1
        q = np.clip(np.round(w / scale.reshape(shape)), -127, 127).astype(np.int8)
        g.initializer.remove(inits[wname])
        g.initializer.extend([
            numpy_helper.from_array(q, wname + "_int8"),
            numpy_helper.from_array(scale, wname + "_scale"),
            numpy_helper.from_array(np.zeros_like(scale, dtype=np.int8), wname + "_zero_point"),
        ])
        new_nodes.append(helper.make_node("DequantizeLinear", [wname + "_int8", wname + "_scale", wname + "_zero_point"],
                                          [wname], name=wname + "_dequantize", axis=axis))
        done.add(wname)
    # DequantizeLinear nodes first keeps the graph topologically sorted
    nodes = new_nodes + list(g.node)
    del g.node[:]
    g.node.extend(nodes)
    onnx.checker.check_model(m)
    onnx.save(m, str(dst))
    return dst


class _Calib:
    def __init__(self, name: str, x: np.ndarray, batch: int = 50):
        self.name, self.x, self.batch, self.i = name, x, batch, 0

    def get_next(self):
        if self.i >= len(self.x):
            return None
        b = self.x[self.i:self.i + self.batch]
        self.i += self.batch
        return {self.name: b}

    def rewind(self):
        self.i = 0


def quantize_qdq(src: Path, dst: Path, calib_x: np.ndarray) -> Path:
    import onnx
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static

    name = onnx.load(str(src)).graph.input[0].name
    pre = dst.with_name(dst.stem + ".pre.onnx")
    try:  # onnxruntime's recommended shape inference + graph clean-up before static quantisation
        from onnxruntime.quantization.shape_inference import quant_pre_process

        quant_pre_process(str(src), str(pre), skip_symbolic_shape=True)
        src_q = pre
    except Exception as e:  # noqa: BLE001 - optional step; quantise the original graph instead
        print(f"quant_pre_process skipped: {e}")
        src_q = src

    class Reader(_Calib, CalibrationDataReader):
        pass

    quantize_static(str(src_q), str(dst), Reader(name, calib_x), quant_format=QuantFormat.QDQ, per_channel=True,
                    activation_type=QuantType.QInt8, weight_type=QuantType.QInt8)
    pre.unlink(missing_ok=True)
    return dst


def quantize_dyn(src: Path, dst: Path) -> Path:
    from onnxruntime.quantization import QuantType, quantize_dynamic

    # uint8 weights: onnxruntime's ConvInteger kernel takes uint8 x uint8
    quantize_dynamic(str(src), str(dst), weight_type=QuantType.QUInt8, per_channel=True)
    return dst


def quantize_all(fp32: Path, out_dir: Path, calib_x: np.ndarray) -> dict[str, Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = fp32.stem.replace("_fp32", "")
    forms = {
        "weight_only": quantize_weight_only(fp32, out_dir / f"{stem}_int8_weight_only.onnx"),
        "qdq": quantize_qdq(fp32, out_dir / f"{stem}_int8_qdq.onnx", calib_x),
        "dynamic": quantize_dyn(fp32, out_dir / f"{stem}_int8_dynamic.onnx"),
    }
    for p in forms.values():
        for extra in p.parent.glob(p.name + ".data"):
            raise RuntimeError(f"quantisation wrote external data {extra}")
    return forms


def compare_forms(models: dict[str, Path], x: np.ndarray, y: np.ndarray, contract: Contract,
                  bench_runs: int = 200) -> dict:
    """onnxruntime (1 thread) figures for each form on the same images."""
    import onnxruntime as ort

    out, ref_pred = {"images": int(len(y)), "runtime": f"onnxruntime {ort.__version__}, 1 thread", "forms": {}}, None
    for name, path in models.items():
        so = ort.SessionOptions()
        so.intra_op_num_threads = 1
        sess = ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])
        iname = sess.get_inputs()[0].name
        logits = np.concatenate([sess.run(None, {iname: x[i:i + 256]})[0] for i in range(0, len(x), 256)])
        pred = logits.argmax(1)
        if ref_pred is None:
            ref_pred = pred
        m = classification_metrics(y, pred, contract.num_classes)
        one = x[:1]
        for _ in range(10):
            sess.run(None, {iname: one})
        t = time.perf_counter()
        for _ in range(bench_runs):
            sess.run(None, {iname: one})
        ms = (time.perf_counter() - t) / bench_runs * 1e3
        out["forms"][name] = {"file": str(path), "bytes": path.stat().st_size, "accuracy": m["accuracy"],
                              "macro_f1": m["macro_f1"], "agreement_with_fp32": float((pred == ref_pred).mean()),
                              "ort_ms_batch1": round(ms, 3)}
        f = out["forms"][name]
        print(f"{name:12s} {f['bytes'] / 1e6:6.2f} MB  acc {f['accuracy']:.4f}  macro-F1 {f['macro_f1']:.4f}  "
              f"agree {f['agreement_with_fp32']:.4f}  ort {ms:.3f} ms")
    return out


def compare_rust(exe: Path, models: dict[str, Path], val_dir: Path, data_root: Path, runs: int = 50) -> dict:
    """The Rust evaluator and bench (tract, natively) on each form: the figures the model card reports."""
    import json
    import subprocess

    def call(args):
        p = subprocess.run([str(exe), *map(str, args)], capture_output=True, text=True, timeout=1800)
        if p.returncode != 0:
            raise RuntimeError(f"{exe} {' '.join(map(str, args))} failed ({p.returncode}): {p.stderr[-2000:]}")
        return json.loads(p.stdout)

    out = {"val": str(val_dir), "forms": {}}
    for name, path in models.items():
        ev = call(["evaluate", "--data", val_dir, "--model", path, "--json"])
        be = call(["bench", "--data", data_root, "--model", path, "--runs", runs, "--json"])
        out["forms"][name] = {"file": str(path), "bytes": Path(path).stat().st_size, "evaluate": ev, "bench": be}
        print(f"{name:12s} {Path(path).stat().st_size / 1e6:5.2f} MB  acc {ev['accuracy'] * 100:.2f}%  "
              f"macro-F1 {ev['macro_f1']:.4f}  classify {be['classify']['median_ms']:.3f} ms  "
              f"batch64/face {be['classify_batch64_per_face']['median_ms']:.3f} ms  load {be['load_classifier_ms']:.1f} ms",
              flush=True)
    return out
