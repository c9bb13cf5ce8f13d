"""Everything around training that is not training: pack the data, export a checkpoint, evaluate it, compare
int8 forms in the Rust evaluator. Run from the repository root with the venv's python:

    python training/tools.py pack --data ../shared/data/fer2013 --out fer2013.npz      # one file, decoded pixels
    python training/tools.py pack --jpeg --out .data/fer2013-jpeg.npz                   # the GPU carry (~47 MiB)
    python training/tools.py export --ckpt training/runs/cpu/best.pt --out-dir models   # ONNX + parity + int8
    python training/tools.py evaluate --ckpt training/runs/cpu/best.pt --split val --json out.json
    python training/tools.py compare fp32=models/emotion_fp32.onnx int8=models/emotion_int8.onnx --bin target/release/emoji-mirror
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from emoji_train import data as D  # noqa: E402
from emoji_train.contract import DEFAULT_CONTRACT, load_contract  # noqa: E402
from emoji_train.evaluation import evaluate_checkpoint  # noqa: E402
from train import Config, resolve_path  # noqa: E402


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="tools.py", description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("pack", help="all splits in one .npz (to carry to a GPU machine)")
    s.add_argument("--data", default=Config.data)
    s.add_argument("--out", required=True, help="the .npz to write")
    s.add_argument("--jpeg", action="store_true", help="the JPEG files' own bytes (lossless, smallest: for a GPU carry)")
    s = sub.add_parser("evaluate", help="a checkpoint on a split, in PyTorch (float)")
    s.add_argument("--ckpt", required=True)
    s.add_argument("--data", default=Config.data)
    s.add_argument("--split", default="val")
    s.add_argument("--json", help="write the metrics here")
    s = sub.add_parser("export", help="ONNX fp32 + parity files + three int8 forms")
    s.add_argument("--ckpt", required=True)
    s.add_argument("--out-dir", default="models")
    s.add_argument("--data", default=Config.data, help="calibration (train split) and comparison (val) data")
    s.add_argument("--quant-dir", help="where the three int8 forms go (default: beside the checkpoint)")
    s.add_argument("--ship", default="weight_only", choices=["weight_only", "qdq", "dynamic"],
                   help="the int8 form copied to <out-dir>/emotion_int8.onnx")
    s.add_argument("--calib", type=int, default=500, help="calibration images for static QDQ")
    s.add_argument("--compare-limit", type=int, default=0, help="val images for the onnxruntime comparison (0=all)")
    s = sub.add_parser("compare", help="ONNX files in the Rust evaluator and bench")
    s.add_argument("models", nargs="+", help="NAME=PATH.onnx pairs (or plain paths)")
    s.add_argument("--bin", default=os.environ.get("EMOJI_MIRROR_BIN"), help="the emoji-mirror CLI ($EMOJI_MIRROR_BIN)")
    s.add_argument("--data", default=Config.data)
    s.add_argument("--runs", type=int, default=50)
    s.add_argument("--json", help="write all the figures here")
    return p.parse_args(argv)


def main(argv: list[str]) -> int:
    a = parse_args(argv)
    if a.cmd == "pack":
        packer = D.pack_jpeg if a.jpeg else D.pack
        counts = packer(resolve_path(a.data), a.out, load_contract(DEFAULT_CONTRACT))
        print(f"wrote {a.out}: {counts}, {os.path.getsize(a.out) / 1e6:.1f} MB")
    elif a.cmd == "evaluate":
        m = evaluate_checkpoint(Path(a.ckpt), resolve_path(a.data), a.split, torch.device("cpu"))
        print(f"{a.split}: {m['images']} images, accuracy {m['accuracy']:.4f}, macro-F1 {m['macro_f1']:.4f}")
        if a.json:
            Path(a.json).write_text(json.dumps(m, indent=2) + "\n")
    elif a.cmd == "compare":
        from emoji_train.quantize import compare_rust

        if not a.bin:
            raise SystemExit("compare: give --bin or set EMOJI_MIRROR_BIN to the emoji-mirror CLI")
        models = dict(m.split("=", 1) if "=" in m else (Path(m).stem, m) for m in a.models)
        data = resolve_path(a.data)
        res = compare_rust(Path(a.bin), {k: Path(v) for k, v in models.items()}, data / "val", data, a.runs)
        if a.json:
            Path(a.json).write_text(json.dumps(res, indent=2) + "\n")
    elif a.cmd == "export":
        from emoji_train.export import export_all

        export_all(Path(a.ckpt), resolve_path(a.out_dir), resolve_path(a.data),
                   Path(a.quant_dir) if a.quant_dir else Path(a.ckpt).parent / "int8", a.ship, a.calib,
                   a.compare_limit)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
