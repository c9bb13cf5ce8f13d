"""Everything around training that is not training: pack the data, export a checkpoint, evaluate it, compare
int8 forms in the Rust evaluator. Run from the repository root with the venv's python:

    python training/tools.py pack --data ../shared/data/fer2013 --out fer2013.npz      # one file, decoded pixels
    python training/tools.py pack --jpeg --out .data/fer2013-jpeg.npz                   # the GPU carry (~47 MiB)
    python training/tools.py export --ckpt training/runs/cpu/best.pt --out-dir models   # ONNX + parity + int8
    python training/tools.py evaluate --ckpt training/runs/cpu/best.pt --split val --json out.json
    python training/tools.py posthoc --ckpt training/runs/cpu/best.pt                  # flip TTA, logit adjustment
    python training/tools.py speed                                                     # images/s, variants
    python training/tools.py campaign --minutes 150                                   # continue the CPU campaign
    python training/tools.py campaign --save                                          # its state into the repo
    python training/tools.py campaign --extract ema --to ema.pt                       # its newest EMA, to export
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
    s = sub.add_parser("posthoc", help="test-time flip and logit adjustment of a checkpoint, on val (PyTorch)")
    s.add_argument("--ckpt", required=True)
    s.add_argument("--data", default=Config.data)
    s.add_argument("--json", help="write the table here")
    s.add_argument("--write-adjusted", nargs=2, metavar=("TAU", "OUT_PT"),
                   help="write a checkpoint with logit adjustment TAU folded into the last bias")
    s = sub.add_parser("speed", help="training images/s of the recipe's step, in variants (training/SPEED.md)")
    s.add_argument("--steps", type=int, default=25)
    s.add_argument("--threads", type=int, default=2)
    s.add_argument("--rounds", type=int, default=2, help="variants alternate, so machine load hits them alike")
    s.add_argument("--compile", action="store_true", help="also torch.compile (minutes of compiling)")
    s = sub.add_parser("campaign", help="continue the CPU campaign from the cache or the committed state")
    s.add_argument("--minutes", type=float, default=0.0, help="stop after the epoch that passes this (0 = no limit)")
    s.add_argument("--preset", default="campaign", help="the recipe of a new campaign (its state fixes it after)")
    s.add_argument("--state", default="training/campaign", help="the committed state (state.pt, history.csv, config.json)")
    s.add_argument("--run", help="where it trains (default: the cache's <state folder's name>/run)")
    s.add_argument("--data", help="the data of a new campaign (default: the preset's)")
    s.add_argument("--save", action="store_true", help="only copy the run's state into --state (for a commit)")
    s.add_argument("--extract", choices=["model", "ema"],
                   help="only write the newest weights (the model's, or their moving average) as a checkpoint for "
                        "export/evaluate, to --to")
    s.add_argument("--to", help="where --extract writes (default: <run>/<model|ema>_latest.pt)")
    s = sub.add_parser("compare", help="ONNX files in the Rust evaluator and bench")
    s.add_argument("models", nargs="+", help="NAME=PATH.onnx pairs (or plain paths)")
    s.add_argument("--bin", default=os.environ.get("EMOJI_MIRROR_BIN"), help="the emoji-mirror CLI ($EMOJI_MIRROR_BIN)")
    s.add_argument("--data", default=Config.data)
    s.add_argument("--runs", type=int, default=50)
    s.add_argument("--json", help="write all the figures here")
    return p.parse_args(argv)


def posthoc(a: argparse.Namespace) -> None:
    from emoji_train import posthoc as P
    from emoji_train.evaluation import predict
    from emoji_train.models import load_checkpoint_model

    contract = load_contract(DEFAULT_CONTRACT)
    data = resolve_path(a.data)
    prior = P.class_prior(D.load_split(data, "train", contract).labels, contract.num_classes)
    val = D.load_split(data, "val", contract)
    model, ck = load_checkpoint_model(Path(a.ckpt))
    x = torch.from_numpy(contract.to_input(val.images))
    logits, flipped = predict(model, x, torch.device("cpu")), predict(model, x.flip(-1), torch.device("cpu"))
    rows = P.table(logits, flipped, val.labels, prior)
    print("flip  tau   accuracy  macro-F1  min recall   (PublicTest (val), PyTorch float)")
    for r in rows:
        print(f"{'yes' if r['flip'] else 'no ':4s}  {r['tau']:.2f}  {r['accuracy'] * 100:7.2f}%  {r['macro_f1']:.4f}  "
              f"{r['min_recall'] * 100:6.1f}%")
    if a.json:
        Path(a.json).write_text(json.dumps({"checkpoint": a.ckpt, "prior": prior.tolist(), "rows": rows}, indent=2))
    if a.write_adjusted:
        tau, out = float(a.write_adjusted[0]), Path(a.write_adjusted[1])
        adjusted = dict(ck, model=P.fold_into_bias(ck["model"], prior, tau), logit_adjustment_tau=tau)
        torch.save(adjusted, out)
        print(f"wrote {out} (logit adjustment τ={tau} in the last bias)")


def campaign(a: argparse.Namespace) -> None:
    import train
    from emoji_train import campaign as C

    state = resolve_path(a.state)
    run = Path(a.run) if a.run else D.cache_dir() / state.name / "run"
    if a.save:
        print(f"campaign: saved the state after epoch {C.save(run, state)} to {state}")
        return
    if a.extract:
        out = Path(a.to) if a.to else run / f"{a.extract}_latest.pt"
        print(f"campaign: wrote the {a.extract} weights after epoch {C.extract(state, run, a.extract, out)} to {out}")
        return
    where = C.prepare(state, run)
    budget = ["--max-minutes", str(a.minutes), "--no-progress"]
    if where == "new":
        print(f"campaign: a new run in {run} (--preset {a.preset})", flush=True)
        train.main(["--preset", a.preset, "--out", str(run), *(["--data", a.data] if a.data else []), *budget])
    else:
        print(f"campaign: continuing after epoch {C.finished_epoch(run)} ({where} state) in {run}", flush=True)
        train.main(["--resume", "--out", str(run), *budget])
    print(f"campaign: saved the state after epoch {C.save(run, state)} to {state} (commit it)")


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
    elif a.cmd == "posthoc":
        posthoc(a)
    elif a.cmd == "campaign":
        campaign(a)
    elif a.cmd == "speed":
        from emoji_train.speed import measure

        variants = {"baseline (NCHW)": {}, "channels-last": {"channels_last": True}}
        if a.compile:
            variants["channels-last + compile"] = {"channels_last": True, "compile": True}
        for _ in range(a.rounds):
            for name, kw in variants.items():
                r = measure(steps=a.steps, threads=a.threads, **kw)
                print(f"{name:26s} {r['images_per_s']:6.0f} images/s  (augment {r['augment_s']:.2f} s, "
                      f"forward+backward+step {r['step_s']:.2f} s)", flush=True)
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
