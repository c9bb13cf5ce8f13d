"""Convert MediaPipe's BlazeFace short-range face detector to ONNX, and record parity data for Rust.

Why this exists: the browser pipeline (crates/pipeline, tract-onnx) needs the face detector as ONNX. The
only published copy of `face_detection_short_range.tflite` we can still fetch is inside the
`mediapipe==0.10.21` wheel on PyPI. This script makes the conversion reproducible and checks it:

  (a) `pip download --no-deps mediapipe==0.10.21` (cp311 manylinux wheel, 35.6 MB) into a temp dir,
  (b) extract the .tflite and check its size + sha256,
  (c) convert it with tflite2onnx 0.4.1 (opset 11, NCHW input [1,3,128,128] = x/127.5-1,
      outputs regressors [1,896,16] and classificators [1,896,1] = raw score logits),
  (d) compare ONNX (onnxruntime) against the TFLite interpreter of ai-edge-litert on a deterministic
      synthetic input and on a real FER2013 val face pasted into a 128x128 frame at run time,
  (e) write models/blazeface_short_range.onnx and models/parity/blazeface_reference.json (synthetic input
      recipe, reference raw outputs, the decoding constants read out of the graphs compiled into the wheel),
      and models/LICENSE-blazeface.txt (a provenance header + the wheel's own LICENSE file, verbatim).

Run (from the repository root, in a throwaway venv, never the project venv):

    python3.11 -m venv /tmp/blazeface-venv
    /tmp/blazeface-venv/bin/pip install -r training/requirements-convert.txt
    /tmp/blazeface-venv/bin/python training/convert_blazeface.py \
        [--data ../shared/data/fer2013] [--face-image PATH] [--wheel PATH_TO_ALREADY_DOWNLOADED.whl]

No FER2013 pixels are written anywhere: the face image is only read to check the conversion.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib
import json
import math
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import numpy as np

MEDIAPIPE_VERSION = "0.10.21"
WHEEL_NAME = f"mediapipe-{MEDIAPIPE_VERSION}-cp311-cp311-manylinux_2_28_x86_64.whl"
WHEEL_SHA256 = "05dc4a9e593655a79558d05d6227d31018c2537a4bd3362b51e230cf22aecfe3"
TFLITE_MEMBER = "mediapipe/modules/face_detection/face_detection_short_range.tflite"
TFLITE_SIZE = 229_714
TFLITE_SHA256 = "bbff11cebd1eb27a1e004cae0b0e63ec8c551cbf34a4451148b4908b8db3eca8"
# MediaPipe's graphs (.pbtxt) are not in the wheel: they are compiled into this library as binary
# CalculatorGraphConfig protos (mediapipe_simple_subgraph). We read them from there.
BINDINGS_MEMBER = "mediapipe/python/_framework_bindings.cpython-311-x86_64-linux-gnu.so"
LICENSE_MEMBER = f"mediapipe-{MEDIAPIPE_VERSION}.dist-info/LICENSE"

PINNED = {  # must match training/requirements-convert.txt
    "tflite2onnx": "0.4.1",
    "ai-edge-litert": "2.3.0",
    "onnx": "1.23.2",
    "onnxruntime": "1.32.0",
}

INPUT_SIZE = 128
NUM_ANCHORS = 896
NUM_COORDS = 16
OPSET = 11
INPUT_NAME = "input"
REGRESSORS_NAME = "regressors"
SCORES_NAME = "classificators"

# Parity tolerances (absolute). Measured differences are printed; see the JSON for the values of a run.
TOL_SCORES = 1e-3
TOL_REGRESSORS = 1e-3
TOL_REL_SUMS = 1e-5  # for the whole-output sums (896 or 14,336 terms), relative
TOP_K = 10

REPO_ROOT = Path(__file__).resolve().parent.parent
ONNX_OUT = Path("models/blazeface_short_range.onnx")
JSON_OUT = Path("models/parity/blazeface_reference.json")
LICENSE_OUT = Path("models/LICENSE-blazeface.txt")

LICENSE_HEADER = f"""\
This file covers models/blazeface_short_range.onnx (and the reference outputs derived from it in
models/parity/blazeface_reference.json).

models/blazeface_short_range.onnx is a format conversion of
  {TFLITE_MEMBER}
  ({TFLITE_SIZE:,} bytes, sha256 {TFLITE_SHA256})
taken from the mediapipe {MEDIAPIPE_VERSION} wheel on PyPI
  {WHEEL_NAME}
  (sha256 {WHEEL_SHA256}),
by The MediaPipe Authors, Google LLC (https://github.com/google/mediapipe), licensed under the
Apache License, Version 2.0.

Changes made (by training/convert_blazeface.py with tflite2onnx 0.4.1): converted from TFLite to ONNX
opset 11; float16 weights widened to float32; input transposed to NCHW; graph initializers sorted by
name; provenance metadata added. The network and its weight values are otherwise unchanged.

Below, verbatim, is the LICENSE file of that wheel ({LICENSE_MEMBER}): the Apache License,
Version 2.0, followed by a notice for other files of the wheel (tasks/cc/text/language_detector/...),
which does not concern this model.

===========================================================================
"""

SYNTHETIC_RECIPE = {
    "_doc": (
        "Deterministic input for the Rust parity test, computed with integer math. For pixel column x "
        "(0..127), row y (0..127) and channel c (0=R, 1=G, 2=B): p = (3*x + 5*y + 7*c + ((x*y) >> 4) "
        "+ ((x*x + 2*y*y) >> 6)) % 256, an integer in 0..255. The float32 tensor value is "
        "(p as f32) / 127.5f32 - 1.0f32 (f32 division, then f32 subtraction), stored NCHW at [0, c, y, x]."
    ),
    "formula": "p = (3*x + 5*y + 7*c + ((x*y) >> 4) + ((x*x + 2*y*y) >> 6)) % 256",
    "value": "f32(p) / 127.5 - 1.0 (float32 arithmetic)",
    "layout": "NCHW [1, 3, 128, 128], index [0, c, y, x]; x = column, y = row, c = 0 R, 1 G, 2 B",
}


def synthetic_pixels() -> np.ndarray:
    """The integer pattern of SYNTHETIC_RECIPE as uint8 HWC [128, 128, 3]."""
    y, x, c = np.meshgrid(
        np.arange(INPUT_SIZE, dtype=np.int64),
        np.arange(INPUT_SIZE, dtype=np.int64),
        np.arange(3, dtype=np.int64),
        indexing="ij",
    )
    p = (3 * x + 5 * y + 7 * c + ((x * y) >> 4) + ((x * x + 2 * y * y) >> 6)) % 256
    return p.astype(np.uint8)


def to_model_input(rgb_hwc_u8: np.ndarray) -> np.ndarray:
    """uint8 RGB HWC [128,128,3] -> float32 NHWC [1,128,128,3] in [-1, 1] (x/127.5 - 1 in float32)."""
    x = rgb_hwc_u8.astype(np.float32) / np.float32(127.5) - np.float32(1.0)
    return x[None, ...].astype(np.float32)


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def fail(msg: str) -> None:
    print(f"ERROR: {msg}", file=sys.stderr)
    sys.exit(1)


def check_versions() -> dict[str, str]:
    from importlib.metadata import version

    found = {}
    for name, want in PINNED.items():
        got = version(name)
        found[name] = got
        if got != want:
            fail(f"{name} {got} installed, {want} pinned: pip install -r training/requirements-convert.txt")
    return found


def get_wheel(tmp: Path, given: Path | None) -> Path:
    if given is not None:
        wheel = given
    else:
        cmd = [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--no-deps",
            "--only-binary=:all:",
            "--platform",
            "manylinux_2_28_x86_64",
            "--python-version",
            "3.11",
            "--implementation",
            "cp",
            "--abi",
            "cp311",
            f"mediapipe=={MEDIAPIPE_VERSION}",
            "-d",
            str(tmp),
        ]
        print("$", " ".join(cmd))
        subprocess.run(cmd, check=True)
        wheel = tmp / WHEEL_NAME
    if not wheel.is_file():
        fail(f"wheel not found: {wheel}")
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
    print(f"wheel {wheel.name}: {wheel.stat().st_size} B sha256 {digest}")
    if digest != WHEEL_SHA256:
        fail(f"wheel sha256 {digest} != pinned {WHEEL_SHA256}")
    return wheel


def extract_tflite(wheel: Path, tmp: Path) -> Path:
    with zipfile.ZipFile(wheel) as z:
        data = z.read(TFLITE_MEMBER)
    digest = sha256_bytes(data)
    print(f"tflite {TFLITE_MEMBER}: {len(data)} B sha256 {digest}")
    if len(data) != TFLITE_SIZE or digest != TFLITE_SHA256:
        fail(f"tflite size/sha256 mismatch: want {TFLITE_SIZE} B {TFLITE_SHA256}")
    out = tmp / "face_detection_short_range.tflite"
    out.write_bytes(data)
    return out


def convert(tflite_path: Path, onnx_path: Path, tflite_sha: str) -> bytes:
    import onnx
    import tflite2onnx

    # tflite2onnx logs "Data type float16 not supported/tested yet" for the model's fp16 weights (TFLite
    # Dequantize ops); they end up as float32 initializers. The parity checks below validate the result.
    tflite2onnx.convert(str(tflite_path), str(onnx_path))
    model = onnx.load(str(onnx_path))
    onnx.checker.check_model(model)
    opsets = {o.domain: o.version for o in model.opset_import}
    if opsets.get("", opsets.get("ai.onnx")) != OPSET:
        fail(f"expected opset {OPSET}, got {opsets}")
    shapes = {}
    for v in list(model.graph.input) + list(model.graph.output):
        dims = [d.dim_value if d.HasField("dim_value") else d.dim_param for d in v.type.tensor_type.shape.dim]
        shapes[v.name] = (dims, v.type.tensor_type.elem_type)
        print(
            f"onnx {'input ' if v in model.graph.input else 'output'} {v.name}: {dims} "
            f"{onnx.TensorProto.DataType.Name(v.type.tensor_type.elem_type)}"
        )
    want = {
        INPUT_NAME: [1, 3, INPUT_SIZE, INPUT_SIZE],
        REGRESSORS_NAME: [1, NUM_ANCHORS, NUM_COORDS],
        SCORES_NAME: [1, NUM_ANCHORS, 1],
    }
    if [i.name for i in model.graph.input] != [INPUT_NAME]:
        fail(f"unexpected inputs {[i.name for i in model.graph.input]}")
    if sorted(o.name for o in model.graph.output) != sorted([REGRESSORS_NAME, SCORES_NAME]):
        fail(f"unexpected outputs {[o.name for o in model.graph.output]}")
    for name, dims in want.items():
        if shapes[name] != (dims, onnx.TensorProto.FLOAT):
            fail(f"{name}: got {shapes[name]}, want {dims} float32")
    bad = [
        t.name
        for t in model.graph.initializer
        if t.data_type != onnx.TensorProto.FLOAT and t.data_type != onnx.TensorProto.INT64
    ]
    if bad:
        fail(f"initializers that are neither float32 nor int64: {bad[:5]}")
    # tflite2onnx emits initializers and value_info in set order (varies with hash randomisation): sort them
    # by name so that the same inputs give a byte-identical file.
    for field in (model.graph.initializer, model.graph.value_info):
        items = sorted(field, key=lambda t: t.name)
        copies = [type(t)() for t in items]
        for c, t in zip(copies, items):
            c.CopyFrom(t)
        del field[:]
        field.extend(copies)
    model.producer_name = "tflite2onnx 0.4.1 via training/convert_blazeface.py"
    model.doc_string = (
        f"BlazeFace short-range face detector, converted from {TFLITE_MEMBER} in the "
        f"mediapipe=={MEDIAPIPE_VERSION} wheel (Google LLC, Apache-2.0, see models/LICENSE-blazeface.txt)."
    )
    for key, value in {
        "source": f"PyPI mediapipe=={MEDIAPIPE_VERSION} {WHEEL_NAME}:{TFLITE_MEMBER}",
        "source_sha256": tflite_sha,
        "license": "Apache-2.0 (Google LLC); see models/LICENSE-blazeface.txt",
        "input": "NCHW [1,3,128,128] RGB, x/127.5-1",
        "outputs": "regressors [1,896,16] (box + 6 keypoints, pixels of the 128 input); "
        "classificators [1,896,1] (score logits)",
    }.items():
        entry = model.metadata_props.add()
        entry.key, entry.value = key, value
    onnx.checker.check_model(model)
    data = model.SerializeToString()
    onnx_path.write_bytes(data)
    return data


class Litert:
    """TFLite reference: ai-edge-litert's interpreter, NHWC input."""

    def __init__(self, tflite_path: Path):
        from ai_edge_litert.interpreter import Interpreter

        self.interp = Interpreter(model_path=str(tflite_path))
        self.interp.allocate_tensors()
        inputs = self.interp.get_input_details()
        if len(inputs) != 1 or list(inputs[0]["shape"]) != [1, INPUT_SIZE, INPUT_SIZE, 3]:
            fail(f"unexpected tflite input {inputs}")
        self.input_index = inputs[0]["index"]
        self.outputs = {d["name"]: d["index"] for d in self.interp.get_output_details()}
        print(
            f"tflite input {inputs[0]['name']}: {[int(v) for v in inputs[0]['shape']]}, outputs "
            + ", ".join(f"{d['name']}: {[int(v) for v in d['shape']]}" for d in self.interp.get_output_details())
        )
        for name in (REGRESSORS_NAME, SCORES_NAME):
            if name not in self.outputs:
                fail(f"tflite output {name} missing: {list(self.outputs)}")

    def run(self, nhwc: np.ndarray) -> dict[str, np.ndarray]:
        self.interp.set_tensor(self.input_index, nhwc)
        self.interp.invoke()
        return {n: self.interp.get_tensor(i).copy() for n, i in self.outputs.items()}


class Ort:
    """ONNX under test: onnxruntime, NCHW input."""

    def __init__(self, onnx_bytes: bytes):
        import onnxruntime as ort

        opts = ort.SessionOptions()
        opts.intra_op_num_threads = 1
        self.sess = ort.InferenceSession(onnx_bytes, opts, providers=["CPUExecutionProvider"])

    def run(self, nhwc: np.ndarray) -> dict[str, np.ndarray]:
        nchw = np.ascontiguousarray(nhwc.transpose(0, 3, 1, 2))
        names = [o.name for o in self.sess.get_outputs()]
        return dict(zip(names, self.sess.run(names, {INPUT_NAME: nchw})))


def compare(label: str, ref: dict[str, np.ndarray], got: dict[str, np.ndarray]) -> dict[str, float]:
    """Max abs difference per output; exits if one is above its tolerance."""
    diffs = {}
    for name, tol in ((REGRESSORS_NAME, TOL_REGRESSORS), (SCORES_NAME, TOL_SCORES)):
        if ref[name].shape != got[name].shape:
            fail(f"{label} {name}: shape {got[name].shape} != reference {ref[name].shape}")
        d = float(np.max(np.abs(ref[name].astype(np.float64) - got[name].astype(np.float64))))
        scale = float(np.max(np.abs(ref[name])))
        print(f"{label}: max |onnx - tflite| {name} = {d:.3e} (max |tflite| {scale:.3f}, tolerance {tol:g})")
        if not d <= tol:
            fail(f"{label}: {name} differs by {d:.3e} > {tol:g}")
        diffs[name] = d
    return diffs


def face_frame(path: Path) -> np.ndarray:
    """A FER2013 48x48 grey face, upscaled to 96x96 (bilinear), pasted at (16,16) in a grey 128x128 RGB frame."""
    from PIL import Image

    with Image.open(path) as im:
        face = im.convert("L").resize((96, 96), Image.Resampling.BILINEAR)
    frame = Image.new("L", (INPUT_SIZE, INPUT_SIZE), 128)
    frame.paste(face, (16, 16))
    return np.repeat(np.asarray(frame, dtype=np.uint8)[:, :, None], 3, axis=2)


# --- MediaPipe graph constants ----------------------------------------------------------------------------


def load_wheel_protos(wheel: Path, tmp: Path) -> None:
    """Make the wheel's *_pb2.py importable without importing mediapipe itself (empty __init__.py files)."""
    root = tmp / "pb"
    with zipfile.ZipFile(wheel) as z:
        for name in z.namelist():
            if name.endswith("_pb2.py") and name.startswith("mediapipe/"):
                dest = root / name
                dest.parent.mkdir(parents=True, exist_ok=True)
                dest.write_bytes(z.read(name))
    for d in [root / "mediapipe", *(p for p in (root / "mediapipe").rglob("*") if p.is_dir())]:
        (d / "__init__.py").touch()
    sys.path.insert(0, str(root))
    for mod in (
        "mediapipe.framework.calculator_pb2",
        "mediapipe.modules.face_detection.face_detection_pb2",
        "mediapipe.calculators.tflite.ssd_anchors_calculator_pb2",
        "mediapipe.calculators.tensor.tensors_to_detections_calculator_pb2",
        "mediapipe.calculators.tensor.image_to_tensor_calculator_pb2",
        "mediapipe.calculators.tensor.inference_calculator_pb2",
        "mediapipe.calculators.util.non_max_suppression_calculator_pb2",
    ):
        importlib.import_module(mod)


def _read_varint(data: bytes, pos: int) -> tuple[int, int]:
    value, shift = 0, 0
    while True:
        b = data[pos]
        pos += 1
        value |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            return value, pos


def find_graph(blob: bytes, graph_type: str):
    """Find the binary CalculatorGraphConfig whose `type` is graph_type inside the compiled library.

    The graph ends with field 20 (`type`) and optionally field 1002 (`graph_options`); its start is the
    furthest position back (after a NUL byte, at a `node` tag) from which the bytes parse as a graph with
    that type and without unknown fields.
    """
    from google.protobuf import unknown_fields
    from google.protobuf.message import DecodeError
    from mediapipe.framework import calculator_pb2

    name = graph_type.encode()
    marker = b"\xa2\x01" + bytes([len(name)]) + name
    found = []
    pos = blob.find(marker)
    while pos != -1:
        end = pos + len(marker)
        if blob[end : end + 2] == b"\xd2\x3e":  # field 1002, length-delimited
            length, after = _read_varint(blob, end + 2)
            end = after + length
        for start in range(max(0, pos - 16384), pos):
            if blob[start] != 0x0A or blob[start - 1] != 0:
                continue
            graph = calculator_pb2.CalculatorGraphConfig()
            try:
                graph.ParseFromString(blob[start:end])
            except DecodeError:  # most candidate offsets are not the start of a proto
                continue
            if (
                graph.type == graph_type
                and graph.node
                and all(n.calculator for n in graph.node)
                and len(unknown_fields.UnknownFieldSet(graph)) == 0
            ):
                found.append(graph)
                break
        pos = blob.find(marker, pos + 1)
    if not found:
        fail(f"graph {graph_type} not found in {BINDINGS_MEMBER}")
    if any(g.SerializeToString() != found[0].SerializeToString() for g in found):
        fail(f"several different graphs of type {graph_type}")
    return found[0]


def node_options(graph, calculator: str, ext):
    from google.protobuf import text_format

    nodes = [n for n in graph.node if n.calculator == calculator]
    if len(nodes) != 1:
        fail(f"{graph.type}: expected one {calculator}, found {len(nodes)}")
    node = nodes[0]
    opts = node.options.Extensions[ext]
    quote = text_format.MessageToString(node, as_one_line=True)
    return node, opts, quote


def decoding_constants(wheel: Path, tmp: Path) -> dict:
    load_wheel_protos(wheel, tmp)
    from google.protobuf import json_format, text_format
    from mediapipe.calculators.tensor import image_to_tensor_calculator_pb2 as itt
    from mediapipe.calculators.tensor import tensors_to_detections_calculator_pb2 as t2d
    from mediapipe.calculators.tflite import ssd_anchors_calculator_pb2 as ssd
    from mediapipe.calculators.util import non_max_suppression_calculator_pb2 as nms
    from mediapipe.modules.face_detection import face_detection_pb2 as fd

    with zipfile.ZipFile(wheel) as z:
        blob = z.read(BINDINGS_MEMBER)
    short = find_graph(blob, "FaceDetectionShortRange")
    det = find_graph(blob, "FaceDetection")

    fd_nodes = [n for n in short.node if n.calculator == "FaceDetection"]
    if len(fd_nodes) != 1:
        fail("FaceDetectionShortRange: expected one FaceDetection node")
    fdo = fd.FaceDetectionOptions()
    if not fd_nodes[0].node_options or not fd_nodes[0].node_options[0].Unpack(fdo):
        fail("FaceDetectionShortRange: FaceDetection node has no FaceDetectionOptions")
    _, itt_o, itt_q = node_options(det, "ImageToTensorCalculator", itt.ImageToTensorCalculatorOptions.ext)
    _, ssd_o, ssd_q = node_options(det, "SsdAnchorsCalculator", ssd.SsdAnchorsCalculatorOptions.ext)
    _, t2d_o, t2d_q = node_options(det, "TensorsToDetectionsCalculator", t2d.TensorsToDetectionsCalculatorOptions.ext)
    _, nms_o, nms_q = node_options(det, "NonMaxSuppressionCalculator", nms.NonMaxSuppressionCalculatorOptions.ext)
    fd_quote = text_format.MessageToString(fdo, as_one_line=True)
    print("FaceDetectionShortRange -> FaceDetection options:", fd_quote)
    for q in (itt_q, ssd_q, t2d_q, nms_q):
        print("FaceDetection node:", q)

    # Values as MediaPipe resolves them: the FaceDetectionOptions of the short-range graph override the
    # per-node values through `option_value:` (e.g. SsdAnchorsCalculator's num_layers: 1 becomes 4).
    anchors = {
        "input_size_width": fdo.tensor_width,
        "input_size_height": fdo.tensor_height,
        "num_layers": fdo.num_layers,
        "strides": list(fdo.strides),
        "min_scale": ssd_o.min_scale,
        "max_scale": ssd_o.max_scale,
        "anchor_offset_x": ssd_o.anchor_offset_x,
        "anchor_offset_y": ssd_o.anchor_offset_y,
        "aspect_ratios": list(ssd_o.aspect_ratios),
        "interpolated_scale_aspect_ratio": fdo.interpolated_scale_aspect_ratio,
        "fixed_anchor_size": ssd_o.fixed_anchor_size,
        "reduce_boxes_in_lowest_layer": ssd_o.reduce_boxes_in_lowest_layer,
    }
    decode = {
        "num_boxes": fdo.num_boxes,
        "num_classes": t2d_o.num_classes,
        "num_coords": t2d_o.num_coords,
        "box_coord_offset": t2d_o.box_coord_offset,
        "keypoint_coord_offset": t2d_o.keypoint_coord_offset,
        "num_keypoints": t2d_o.num_keypoints,
        "num_values_per_keypoint": t2d_o.num_values_per_keypoint,
        "reverse_output_order": t2d_o.reverse_output_order,
        "apply_exponential_on_box_size": t2d_o.apply_exponential_on_box_size,
        "sigmoid_score": t2d_o.sigmoid_score,
        "score_clipping_thresh": t2d_o.score_clipping_thresh,
        "x_scale": fdo.x_scale,
        "y_scale": fdo.y_scale,
        "w_scale": fdo.w_scale,
        "h_scale": fdo.h_scale,
        "min_score_thresh": fdo.min_score_thresh,
    }
    nms_d = json_format.MessageToDict(nms_o, preserving_proto_field_name=True)
    image_to_tensor = json_format.MessageToDict(itt_o, preserving_proto_field_name=True)
    image_to_tensor["output_tensor_width"] = fdo.tensor_width
    image_to_tensor["output_tensor_height"] = fdo.tensor_height
    # float32 protobuf fields come back as Python floats of the float32 value; round for readability.
    for d in (anchors, decode):
        for k, v in d.items():
            if isinstance(v, float):
                d[k] = float(np.float32(v))

    if decode["num_boxes"] != NUM_ANCHORS or decode["num_coords"] != NUM_COORDS:
        fail(f"graph num_boxes/num_coords {decode['num_boxes']}/{decode['num_coords']} != model outputs")
    if len(generate_anchors(anchors)) != NUM_ANCHORS:
        fail("anchor generation does not give 896 anchors")
    return {
        "_doc": (
            "Decoding constants of MediaPipe 0.10.21 for this model. The wheel ships no .pbtxt: the graphs are "
            "compiled into mediapipe/python/_framework_bindings.cpython-311-x86_64-linux-gnu.so as binary "
            "CalculatorGraphConfig protos; this script parses them with the wheel's *_pb2.py. Values in "
            "'anchors' and 'decode' are the resolved ones (FaceDetectionOptions of graph FaceDetectionShortRange "
            "fill the option_value: fields of subgraph FaceDetection; e.g. SsdAnchorsCalculator says num_layers: "
            "1 but gets num_layers: 4). The quotes are the text format of the parsed protos."
        ),
        "source": {
            "wheel": WHEEL_NAME,
            "wheel_sha256": WHEEL_SHA256,
            "member": BINDINGS_MEMBER,
            "graphs": ["FaceDetectionShortRange", "FaceDetection"],
        },
        "image_to_tensor": image_to_tensor,
        "anchors": anchors,
        "decode": decode,
        "non_max_suppression": nms_d,
        "quotes": {
            "FaceDetectionShortRange/FaceDetection.node_options": fd_quote,
            "FaceDetection/ImageToTensorCalculator": itt_q,
            "FaceDetection/SsdAnchorsCalculator": ssd_q,
            "FaceDetection/TensorsToDetectionsCalculator": t2d_q,
            "FaceDetection/NonMaxSuppressionCalculator": nms_q,
        },
    }


def generate_anchors(a: dict) -> list[tuple[float, float, float, float]]:
    """Port of SsdAnchorsCalculator::GenerateAnchors (single-scale path): (x_center, y_center, w, h)."""
    strides, n = a["strides"], a["num_layers"]
    out = []
    layer = 0
    while layer < n:
        per_cell = 0
        last = layer
        while last < len(strides) and strides[last] == strides[layer]:
            if last == 0 and a["reduce_boxes_in_lowest_layer"]:
                per_cell += 3
            else:
                per_cell += len(a["aspect_ratios"]) + (1 if a["interpolated_scale_aspect_ratio"] > 0 else 0)
            last += 1
        if not a["fixed_anchor_size"]:
            fail("only fixed_anchor_size anchors are ported")
        fm_h = math.ceil(a["input_size_height"] / strides[layer])
        fm_w = math.ceil(a["input_size_width"] / strides[layer])
        for y in range(fm_h):
            for x in range(fm_w):
                for _ in range(per_cell):
                    out.append(((x + a["anchor_offset_x"]) / fm_w, (y + a["anchor_offset_y"]) / fm_h, 1.0, 1.0))
        layer = last
    return out


def decode_one(raw: np.ndarray, logit: float, anchor, d: dict) -> dict:
    """Port of TensorsToDetectionsCalculator's box/keypoint decoding and score for one anchor (float64)."""
    ax, ay, aw, ah = anchor
    r = raw.astype(np.float64)
    o = d["box_coord_offset"]
    if d["reverse_output_order"]:
        xc, yc, w, h = r[o], r[o + 1], r[o + 2], r[o + 3]
    else:
        yc, xc, h, w = r[o], r[o + 1], r[o + 2], r[o + 3]
    xc = xc / d["x_scale"] * aw + ax
    yc = yc / d["y_scale"] * ah + ay
    w = w / d["w_scale"] * aw
    h = h / d["h_scale"] * ah
    kps = []
    for k in range(d["num_keypoints"]):
        ko = d["keypoint_coord_offset"] + k * d["num_values_per_keypoint"]
        kx, ky = (r[ko], r[ko + 1]) if d["reverse_output_order"] else (r[ko + 1], r[ko])
        kps.append([kx / d["x_scale"] * aw + ax, ky / d["y_scale"] * ah + ay])
    t = d["score_clipping_thresh"]
    s = min(max(float(logit), -t), t)
    return {
        "xmin": xc - w / 2,
        "ymin": yc - h / 2,
        "xmax": xc + w / 2,
        "ymax": yc + h / 2,
        "keypoints_xy": kps,
        "score": 1.0 / (1.0 + math.exp(-s)),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--data",
        type=Path,
        default=Path("../shared/data/fer2013"),
        help="FER2013 image-folder root (relative paths are relative to the repo root)",
    )
    ap.add_argument(
        "--face-image",
        type=Path,
        default=None,
        help="a val face for the real-image check (default: first sorted <data>/val/happy/*.jpg)",
    )
    ap.add_argument("--wheel", type=Path, default=None, help="use this already downloaded mediapipe wheel")
    ap.add_argument("--out", type=Path, default=REPO_ROOT, help="repository root to write models/ into")
    args = ap.parse_args()

    versions = check_versions()
    data_root = args.data if args.data.is_absolute() else REPO_ROOT / args.data
    face_path = args.face_image
    if face_path is None:
        candidates = sorted((data_root / "val" / "happy").glob("*.jpg"))
        if not candidates:
            fail(f"no val images under {data_root / 'val' / 'happy'}; pass --data or --face-image")
        face_path = candidates[0]
    if not face_path.is_file():
        fail(f"face image not found: {face_path}")

    with tempfile.TemporaryDirectory(prefix="blazeface-") as tmp_name:
        tmp = Path(tmp_name)
        wheel = get_wheel(tmp, args.wheel)
        tflite_path = extract_tflite(wheel, tmp)
        onnx_bytes = convert(tflite_path, tmp / "blazeface.onnx", TFLITE_SHA256)
        constants = decoding_constants(wheel, tmp)
        with zipfile.ZipFile(wheel) as z:
            license_bytes = z.read(LICENSE_MEMBER)
        license_sha = sha256_bytes(license_bytes)
        if not (
            license_bytes.lstrip().startswith(b"Apache License\n")
            and b"Version 2.0, January 2004" in license_bytes
            and b"END OF TERMS AND CONDITIONS" in license_bytes
        ):
            fail(f"{LICENSE_MEMBER} is not the Apache License 2.0 text")

        litert = Litert(tflite_path)
        ort = Ort(onnx_bytes)

        syn_in = to_model_input(synthetic_pixels())
        syn_ref = litert.run(syn_in)
        syn_ort = ort.run(syn_in)
        syn_diff = compare("synthetic", syn_ref, syn_ort)
        ort_sums = {
            "sum_score_logits": float(np.sum(syn_ort[SCORES_NAME], dtype=np.float64)),
            "sum_abs_regressors": float(np.sum(np.abs(syn_ort[REGRESSORS_NAME]), dtype=np.float64)),
        }

        face_in = to_model_input(face_frame(face_path))
        face_ref = litert.run(face_in)
        face_diff = compare(f"face {face_path.name}", face_ref, ort.run(face_in))
        face_scores = face_ref[SCORES_NAME][0, :, 0]
        best = int(np.argmax(face_scores))
        anchors = generate_anchors(constants["anchors"])
        face_det = decode_one(
            face_ref[REGRESSORS_NAME][0, best], float(face_scores[best]), anchors[best], constants["decode"]
        )
        print(
            f"face: best anchor {best}, logit {face_scores[best]:.3f}, score {face_det['score']:.3f}, box "
            f"x {face_det['xmin']:.3f}..{face_det['xmax']:.3f} y {face_det['ymin']:.3f}..{face_det['ymax']:.3f}"
        )
        if face_det["score"] < constants["decode"]["min_score_thresh"]:
            print("WARNING: no face above min_score_thresh in the face image; try another --face-image")

    for key, ref_sum in (
        ("sum_score_logits", float(np.sum(syn_ref[SCORES_NAME], dtype=np.float64))),
        ("sum_abs_regressors", float(np.sum(np.abs(syn_ref[REGRESSORS_NAME]), dtype=np.float64))),
    ):
        rel = abs(ort_sums[key] - ref_sum) / max(abs(ref_sum), 1e-12)
        print(f"synthetic: {key} tflite {ref_sum:.6f} onnx {ort_sums[key]:.6f} (relative diff {rel:.2e})")
        if not rel <= TOL_REL_SUMS:
            fail(f"synthetic: {key} differs by {rel:.2e} relative > {TOL_REL_SUMS:g}")

    scores = syn_ref[SCORES_NAME][0, :, 0]
    regs = syn_ref[REGRESSORS_NAME][0]
    order = np.argsort(-scores, kind="stable")[:TOP_K]
    top = []
    for i in order:
        i = int(i)
        top.append(
            {
                "anchor_index": i,
                "anchor_xywh": list(anchors[i]),
                "score_logit": float(scores[i]),
                "regressors": [float(v) for v in regs[i]],
                "decoded": decode_one(regs[i], float(scores[i]), anchors[i], constants["decode"]),
            }
        )
    onnx_sha = sha256_bytes(onnx_bytes)
    try:
        face_rel = face_path.resolve().relative_to(data_root.resolve()).as_posix()
    except ValueError:
        face_rel = face_path.name
    reference = {
        "_doc": (
            "Parity data for models/blazeface_short_range.onnx, written by training/convert_blazeface.py. "
            "Reference outputs come from ai-edge-litert's TFLite interpreter running the original "
            "mediapipe .tflite on the synthetic input below. A Rust test regenerates the input from the recipe, "
            "runs the ONNX model and compares: each listed anchor's score logit and 16 regressors, and the "
            "whole-output sums. 'decoded' is this script's port of MediaPipe's anchor + box decoding "
            "(TensorsToDetectionsCalculator formulas, coordinates normalised to the 128x128 input), "
            "for checking a Rust decoder; it is not MediaPipe's own output."
        ),
        "model": {
            "file": ONNX_OUT.as_posix(),
            "sha256": onnx_sha,
            "bytes": len(onnx_bytes),
            "opset": OPSET,
            "input": {
                "name": INPUT_NAME,
                "shape": [1, 3, INPUT_SIZE, INPUT_SIZE],
                "layout": "NCHW RGB",
                "value": "x/127.5 - 1 for 8-bit x",
            },
            "outputs": {
                REGRESSORS_NAME: {
                    "shape": [1, NUM_ANCHORS, NUM_COORDS],
                    "meaning": "per anchor: box x_center, y_center (offsets from the anchor centre), "
                    "w, h, then 6 keypoints (x, y) (offsets from the anchor centre); all "
                    "in pixels of the 128x128 input (x_scale etc. = 128)",
                },
                SCORES_NAME: {"shape": [1, NUM_ANCHORS, 1], "meaning": "per anchor: face score logit"},
            },
        },
        "source": {
            "package": f"mediapipe=={MEDIAPIPE_VERSION} (PyPI, Google LLC, Apache-2.0)",
            "wheel": WHEEL_NAME,
            "wheel_sha256": WHEEL_SHA256,
            "tflite": TFLITE_MEMBER,
            "tflite_bytes": TFLITE_SIZE,
            "tflite_sha256": TFLITE_SHA256,
            "license_member": LICENSE_MEMBER,
            "license_sha256": license_sha,
            "converter": f"tflite2onnx {versions['tflite2onnx']}",
            "reference_runtime": f"ai-edge-litert {versions['ai-edge-litert']}",
            "checked_with": f"onnxruntime {versions['onnxruntime']}",
        },
        "synthetic_input": SYNTHETIC_RECIPE,
        "synthetic_reference": {
            "tolerance_abs": {"score_logit": TOL_SCORES, "regressors": TOL_REGRESSORS},
            "tolerance_rel_sums": TOL_REL_SUMS,
            "sum_score_logits": float(np.sum(scores, dtype=np.float64)),
            "sum_abs_regressors": float(np.sum(np.abs(regs), dtype=np.float64)),
            "input_sum": float(np.sum(syn_in, dtype=np.float64)),
            "top_k_by_score": top,
        },
        "conversion_check": {
            "_doc": "max |onnxruntime - litert| over all outputs, measured when this file was written",
            "synthetic": syn_diff,
            "synthetic_sums_onnxruntime": ort_sums,
            "face": {
                "image": face_rel,
                "frame": "48x48 grey upscaled to 96x96 (PIL bilinear), pasted at (16,16) in a 128x128 frame of 128",
                "max_abs_diff": face_diff,
                "best_anchor": best,
                "best_score": face_det["score"],
            },
        },
        "mediapipe_decoding": constants,
    }
    out_onnx = args.out / ONNX_OUT
    out_json = args.out / JSON_OUT
    out_license = args.out / LICENSE_OUT
    out_json.parent.mkdir(parents=True, exist_ok=True)
    out_onnx.write_bytes(onnx_bytes)
    out_json.write_text(json.dumps(reference, indent=2) + "\n")
    out_license.write_bytes(LICENSE_HEADER.encode() + license_bytes)
    print(f"wrote {out_onnx} ({len(onnx_bytes)} B, sha256 {onnx_sha})")
    print(f"wrote {out_json} ({out_json.stat().st_size} B)")
    print(f"wrote {out_license} ({out_license.stat().st_size} B; wheel LICENSE sha256 {license_sha})")


if __name__ == "__main__":
    main()
