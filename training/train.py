"""Train Emoji Mirror's emotion classifier (the AlexNet family on FER2013) — one readable file.

Run from the repository root with the venv's python:

    python training/train.py --preset cpu --out training/runs/cpu20        # the shipped CPU recipe (2 cores)
    python training/train.py --preset gpu --out training/runs/gpu          # the best recipe (one GPU, AMP)
    python training/train.py --preset baseline --out training/runs/base    # the user's baseline: Adam 1e-3, batch 32
    python training/train.py --preset cpu --out training/runs/cpu --resume # continue after a kill, same final metrics
    torchrun --nproc_per_node 4 training/train.py --preset gpu --out ...   # several GPUs (DDP); gloo on a CPU
    python training/train.py pack --data ../shared/data/fer2013 --out fer2013.npz   # one compact file to carry
    python training/train.py export --ckpt training/runs/cpu/best.pt --out-dir models   # ONNX + parity + int8
    python training/train.py evaluate --ckpt training/runs/cpu/best.pt --split val --json out.json
    python training/train.py compare fp32=models/emotion_fp32.onnx int8=models/emotion_int8.onnx --bin target/release/emoji-mirror
    python training/report.py --run training/runs/cpu --out models          # redraw every plot

Any config field is a flag (--epochs 30, --lr 0.002, --aug light ...). Precedence: the defaults below, then the
preset, then the flags. The data path is a folder of train/ val/ (test/) class folders, a fer2013.csv, or a packed
.npz. Everything written goes to --out: history.csv (one row after every epoch), ckpt.pt (every epoch, atomic),
best.pt (best PublicTest (val) accuracy), config.json, data_report.json, eval_val.json (best model at the end).
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import json
import math
import os
import random
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data.distributed import DistributedSampler

sys.path.insert(0, str(Path(__file__).resolve().parent))
from emoji_train import data as D  # noqa: E402
from emoji_train.contract import DEFAULT_CONTRACT, REPO_ROOT, load_contract  # noqa: E402
from emoji_train.metrics import classification_metrics, confusion_matrix, from_confusion  # noqa: E402
from emoji_train.models import build_model, count_macs, count_params, load_checkpoint_model  # noqa: E402


# ----------------------------------------------------------------------------- config: defaults = the gpu recipe
@dataclass
class Config:
    preset: str = "gpu"
    data: str = "../shared/data/fer2013"  # relative paths: to the current folder, else to the repository root
    out: str = "training/runs/default"
    contract: str = str(DEFAULT_CONTRACT.relative_to(REPO_ROOT))
    arch: str = "alexnet-48"
    epochs: int = 80
    batch_size: int = 128  # global batch (split across DDP processes)
    optimizer: str = "sgd"  # sgd | adam | adamw
    lr: float = 0.05  # peak lr of onecycle / start lr of cosine / the lr of constant
    momentum: float = 0.9
    weight_decay: float = 5e-4
    schedule: str = "onecycle"  # onecycle | cosine | constant
    warmup_pct: float = 0.2  # onecycle's rising part
    label_smoothing: float = 0.1
    dropout: float = 0.5
    aug: str = "full"  # full | medium (no noise, less erasing) | light (flips only) | none
    amp: bool = True  # mixed precision (CUDA only)
    device: str = "auto"  # auto | cpu | cuda
    threads: int = 0  # torch.set_num_threads; 0 leaves torch's default
    seed: int = 1337
    limit_train: int = 0  # use a random subset of this many training images (0 = all)
    limit_val: int = 0
    stop_after: int = 0  # stop after this epoch (simulates a kill, for the resume test); 0 = never
    progress: bool = True  # tqdm bar with ETA


PRESETS: dict[str, dict] = {
    # the default best recipe for a GPU: SGD + OneCycle, 80 epochs, AMP
    "gpu": {},
    # what reaches a useful model in ~75 min on 2 busy CPU cores (20 epochs measured: 76 min on this machine)
    "cpu": dict(epochs=20, batch_size=128, optimizer="adamw", lr=3e-3, weight_decay=5e-2, schedule="onecycle", dropout=0.3,
                warmup_pct=0.25, label_smoothing=0.1, aug="full", threads=2, amp=False),
    # the user's original setup: Adam, lr 1e-3, batch 32, constant lr, flips only
    "baseline": dict(epochs=30, batch_size=32, optimizer="adam", lr=1e-3, weight_decay=0.0, schedule="constant",
                     label_smoothing=0.0, aug="light"),
    # seconds, for tests
    "tiny": dict(epochs=2, batch_size=32, optimizer="adamw", lr=3e-3, weight_decay=1e-4, schedule="onecycle",
                 aug="full", threads=1, limit_train=320, limit_val=160, progress=False),
}

AUGS = {
    "full": D.AugConfig(flip=0.5, rotate_deg=10.0, shift=0.08, scale=(0.9, 1.1), noise=0.05, erase=0.25),
    "medium": D.AugConfig(flip=0.5, rotate_deg=10.0, shift=0.08, scale=(0.9, 1.1), noise=0.0, erase=0.1),
    "light": D.AugConfig(flip=0.5, rotate_deg=0.0, shift=0.0, scale=(1.0, 1.0)),
    "none": D.AugConfig(flip=0.0, rotate_deg=0.0, shift=0.0, scale=(1.0, 1.0)),
}

HISTORY_FIELDS = ["epoch", "train_loss", "train_acc", "train_precision", "train_recall", "train_f1",
                  "val_loss", "val_acc", "val_precision", "val_recall", "val_f1", "lr", "seconds"]


def resolve_path(p: str) -> Path:
    """A relative path: to the current folder when it exists there, else to the repository root."""
    q = Path(p)
    if q.is_absolute() or q.exists():
        return q
    return REPO_ROOT / q


# ----------------------------------------------------------------------------- distributed helpers
def ddp_setup(cfg: Config) -> tuple[int, int, torch.device]:
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    want_cuda = cfg.device == "cuda" or (cfg.device == "auto" and torch.cuda.is_available())
    if world > 1:
        dist.init_process_group(backend="nccl" if want_cuda else "gloo")
    if want_cuda:
        local = int(os.environ.get("LOCAL_RANK", "0"))
        torch.cuda.set_device(local)
        return rank, world, torch.device("cuda", local)
    return rank, world, torch.device("cpu")


def all_sum(t: torch.Tensor, world: int) -> torch.Tensor:
    if world > 1:
        dist.all_reduce(t, op=dist.ReduceOp.SUM)
    return t


# ----------------------------------------------------------------------------- checkpoints
def atomic_save(obj, path: Path) -> None:
    tmp = path.with_name(path.name + ".tmp")
    torch.save(obj, tmp)
    os.replace(tmp, path)


def rng_state() -> dict:
    s = {"torch": torch.get_rng_state(), "numpy": np.random.get_state(), "python": random.getstate()}
    if torch.cuda.is_available():
        s["cuda"] = torch.cuda.get_rng_state_all()
    return s


def set_rng_state(s: dict) -> None:
    torch.set_rng_state(s["torch"])
    np.random.set_state(s["numpy"])
    random.setstate(s["python"])
    if "cuda" in s and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(s["cuda"])


def read_history(path: Path) -> list[dict]:
    if not path.exists():
        return []
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def write_history(path: Path, rows: list[dict]) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=HISTORY_FIELDS)
        w.writeheader()
        w.writerows(rows)
    os.replace(tmp, path)


# ----------------------------------------------------------------------------- training pieces
def make_optimizer(cfg: Config, model: nn.Module) -> torch.optim.Optimizer:
    decay = [p for n, p in model.named_parameters() if p.ndim > 1]
    no_decay = [p for n, p in model.named_parameters() if p.ndim <= 1]  # biases and batch-norm
    groups = [{"params": decay, "weight_decay": cfg.weight_decay}, {"params": no_decay, "weight_decay": 0.0}]
    if cfg.optimizer == "sgd":
        return torch.optim.SGD(groups, lr=cfg.lr, momentum=cfg.momentum, nesterov=True)
    fused = {"fused": True}  # one kernel per step, on the CPU too (torch >= 2.4)
    if cfg.optimizer == "adam":
        return torch.optim.Adam(groups, lr=cfg.lr, **fused)
    if cfg.optimizer == "adamw":
        return torch.optim.AdamW(groups, lr=cfg.lr, **fused)
    raise ValueError(f"unknown optimizer {cfg.optimizer!r}")


def make_scheduler(cfg: Config, opt: torch.optim.Optimizer, steps_per_epoch: int):
    total = cfg.epochs * steps_per_epoch
    if cfg.schedule == "onecycle":
        return torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=cfg.lr, total_steps=total, pct_start=cfg.warmup_pct,
                                                   div_factor=20.0, final_div_factor=200.0)
    if cfg.schedule == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=total)
    if cfg.schedule == "constant":
        return torch.optim.lr_scheduler.LambdaLR(opt, lambda _s: 1.0)
    raise ValueError(f"unknown schedule {cfg.schedule!r}")


@torch.no_grad()
def predict(model: nn.Module, x: torch.Tensor, device: torch.device, batch: int = 512) -> torch.Tensor:
    """Logits (float32, CPU) of a normalised input tensor [N, 1, S, S]."""
    model.eval()
    out = []
    for i in range(0, len(x), batch):
        out.append(model(x[i:i + batch].to(device, non_blocking=True)).float().cpu())
    return torch.cat(out) if out else torch.zeros(0, 0)


def evaluate_logits(logits: torch.Tensor, y: torch.Tensor, num_classes: int) -> dict:
    m = classification_metrics(y.numpy(), logits.argmax(1).numpy(), num_classes)
    m["loss"] = float(F.cross_entropy(logits, y).item()) if len(y) else 0.0
    return m


def load_data(cfg: Config, contract, rank: int):
    data = resolve_path(cfg.data)
    train = D.load_split(data, "train", contract).subset(cfg.limit_train, cfg.seed)
    val = D.load_split(data, "val", contract).subset(cfg.limit_val, cfg.seed)
    if rank == 0:
        print(D.format_report("train", train))
        print(D.format_report("val", val))
    if len(train) == 0 or len(val) == 0:
        raise SystemExit(f"no training or validation images under {data}")
    # the contract's contrast + equalise + normalise, once, on every image (train and eval alike)
    to_t = lambda s: torch.from_numpy(contract.to_input(s.images))  # noqa: E731
    return (to_t(train), torch.from_numpy(train.labels)), (to_t(val), torch.from_numpy(val.labels)), {
        "train": train.report, "val": val.report}


# ----------------------------------------------------------------------------- train
def train(cfg: Config, resume: bool) -> dict:
    rank, world, device = ddp_setup(cfg)
    out = resolve_path(cfg.out)
    if cfg.threads > 0:
        torch.set_num_threads(cfg.threads)
    master = rank == 0
    ckpt_path = out / "ckpt.pt"
    ckpt = None
    if resume:
        if not ckpt_path.exists():
            raise SystemExit(f"--resume: no checkpoint at {ckpt_path}")
        ckpt = torch.load(ckpt_path, map_location="cpu", weights_only=False)
        stop_after = cfg.stop_after
        cfg = Config(**ckpt["config"])  # the run continues with the config it started with
        cfg.stop_after = stop_after
    if master:
        out.mkdir(parents=True, exist_ok=True)
        (out / "config.json").write_text(json.dumps(dataclasses.asdict(cfg), indent=2) + "\n")

    contract = load_contract(resolve_path(cfg.contract))
    (xtr, ytr), (xva, yva), reports = load_data(cfg, contract, rank)
    if master:
        (out / "data_report.json").write_text(json.dumps(reports, indent=2) + "\n")

    torch.manual_seed(cfg.seed)
    model = build_model(cfg.arch, contract.num_classes, cfg.dropout).to(device)
    if master:
        print(f"model {cfg.arch}: {count_params(model):,} params, {count_macs(model, contract.input_size):,} MACs; "
              f"device {device}, world {world}, threads {torch.get_num_threads()}")
    ddp_model = nn.parallel.DistributedDataParallel(model) if world > 1 else model
    opt = make_optimizer(cfg, model)
    per_rank_batch = max(1, cfg.batch_size // world)
    sampler = DistributedSampler(range(len(ytr)), num_replicas=world, rank=rank, shuffle=True, seed=cfg.seed,
                                 drop_last=True)
    steps = len(sampler) // per_rank_batch
    if steps == 0:
        raise SystemExit(f"{len(ytr)} training images are fewer than one batch of {cfg.batch_size}")
    sched = make_scheduler(cfg, opt, steps)
    use_amp = cfg.amp and device.type == "cuda"
    scaler = torch.amp.GradScaler("cuda", enabled=use_amp)
    crit = nn.CrossEntropyLoss(label_smoothing=cfg.label_smoothing)
    aug = AUGS[cfg.aug]

    start, best = 1, {"val_acc": -1.0, "epoch": 0}
    if ckpt is not None:
        model.load_state_dict(ckpt["model"])
        opt.load_state_dict(ckpt["optimizer"])
        sched.load_state_dict(ckpt["scheduler"])
        scaler.load_state_dict(ckpt["scaler"])
        set_rng_state(ckpt["rng"])
        start, best = ckpt["epoch"] + 1, ckpt["best"]
        if master:
            print(f"resumed from {ckpt_path} after epoch {ckpt['epoch']} (best val acc {best['val_acc']:.4f})")
    history = [r for r in read_history(out / "history.csv") if int(r["epoch"]) < start] if master else []
    if master:
        write_history(out / "history.csv", history)  # drops rows of epochs the checkpoint does not hold

    epoch_times = []
    for epoch in range(start, cfg.epochs + 1):
        t0 = time.time()
        # everything random in this epoch derives from (seed, epoch, rank): an interrupted run resumes exactly
        sampler.set_epoch(epoch)
        torch.manual_seed(cfg.seed * 1000 + epoch * 10 + rank)  # dropout
        gen = torch.Generator().manual_seed(cfg.seed * 7919 + epoch * 104729 + rank)
        order = torch.tensor(list(sampler), dtype=torch.long)
        ddp_model.train()
        loss_sum = torch.zeros(2, dtype=torch.float64)
        cm = torch.zeros(contract.num_classes, contract.num_classes, dtype=torch.long)
        bar = None
        if master and cfg.progress:
            from tqdm import tqdm

            bar = tqdm(total=steps, desc=f"epoch {epoch}/{cfg.epochs}", unit="batch", dynamic_ncols=True,
                       mininterval=1.0 if sys.stderr.isatty() else 30.0, file=sys.stderr)
        for b in range(steps):
            idx = order[b * per_rank_batch:(b + 1) * per_rank_batch]
            xb = D.augment(xtr[idx].to(device, non_blocking=True), aug, gen)  # augmented on the device
            yb = ytr[idx].to(device, non_blocking=True)
            with torch.autocast(device_type=device.type, dtype=torch.float16, enabled=use_amp):
                logits = ddp_model(xb)
                loss = crit(logits, yb)
            opt.zero_grad(set_to_none=True)
            scaler.scale(loss).backward()
            scaler.step(opt)
            scaler.update()
            sched.step()
            loss_sum += torch.tensor([loss.item() * len(yb), len(yb)], dtype=torch.float64)
            cm += torch.from_numpy(confusion_matrix(yb.cpu().numpy(), logits.argmax(1).cpu().numpy(),
                                                    contract.num_classes))
            if bar is not None:
                bar.update(1)
                if b % 20 == 0:
                    bar.set_postfix(loss=f"{loss_sum[0] / loss_sum[1]:.3f}", lr=f"{sched.get_last_lr()[0]:.2e}")
        if bar is not None:
            bar.close()
        loss_sum, cm = all_sum(loss_sum, world), all_sum(cm, world)
        tr = from_confusion(cm.numpy())

        if master:
            va = evaluate_logits(predict(model, xva, device), yva, contract.num_classes)
            secs = time.time() - t0
            epoch_times.append(secs)
            row = {"epoch": epoch, "train_loss": loss_sum[0].item() / loss_sum[1].item(), "train_acc": tr["accuracy"],
                   "train_precision": tr["macro_precision"], "train_recall": tr["macro_recall"],
                   "train_f1": tr["macro_f1"], "val_loss": va["loss"], "val_acc": va["accuracy"],
                   "val_precision": va["macro_precision"], "val_recall": va["macro_recall"], "val_f1": va["macro_f1"],
                   "lr": sched.get_last_lr()[0], "seconds": round(secs, 2)}
            row = {k: (f"{v:.6f}" if isinstance(v, float) else v) for k, v in row.items()}
            history.append(row)
            write_history(out / "history.csv", history)  # after every epoch
            if va["accuracy"] > best["val_acc"]:
                best = {"val_acc": va["accuracy"], "val_f1": va["macro_f1"], "epoch": epoch}
                atomic_save({"model": model.state_dict(), "config": dataclasses.asdict(cfg), "epoch": epoch,
                             "metrics": va, "labels": list(contract.labels)}, out / "best.pt")
            atomic_save({"model": model.state_dict(), "optimizer": opt.state_dict(), "scheduler": sched.state_dict(),
                         "scaler": scaler.state_dict(), "epoch": epoch, "best": best,
                         "config": dataclasses.asdict(cfg), "rng": rng_state()}, ckpt_path)
            eta = (cfg.epochs - epoch) * sum(epoch_times) / len(epoch_times)
            print(f"epoch {epoch:3d}/{cfg.epochs} train loss {row['train_loss']} acc {tr['accuracy']:.4f} | "
                  f"val loss {va['loss']:.4f} acc {va['accuracy']:.4f} macro-F1 {va['macro_f1']:.4f} | "
                  f"lr {sched.get_last_lr()[0]:.2e} | {secs:.0f}s, ETA {eta / 60:.1f} min", flush=True)
        if world > 1:
            dist.barrier()
        if cfg.stop_after and epoch >= cfg.stop_after:
            if master:
                print(f"stopping after epoch {epoch} (--stop-after)")
            break
    else:
        if master:
            final = evaluate_checkpoint(out / "best.pt", resolve_path(cfg.data), "val", device, contract)
            (out / "eval_val.json").write_text(json.dumps(final, indent=2) + "\n")
            print(f"best epoch {best['epoch']}: PublicTest (val) acc {final['accuracy']:.4f}, "
                  f"macro-F1 {final['macro_f1']:.4f}")
    if world > 1:
        dist.destroy_process_group()
    return best


# ----------------------------------------------------------------------------- evaluate / export / pack
def evaluate_checkpoint(ckpt: Path, data: Path, split: str, device: torch.device, contract=None) -> dict:
    model, ck = load_checkpoint_model(ckpt)
    contract = contract or load_contract(DEFAULT_CONTRACT)
    s = D.load_split(data, split, contract)
    x = torch.from_numpy(contract.to_input(s.images))
    m = evaluate_logits(predict(model.to(device), x, device), torch.from_numpy(s.labels), contract.num_classes)
    m.update({"labels": list(contract.labels), "split": split, "data": str(data), "images": len(s),
              "checkpoint": str(ckpt), "epoch": ck.get("epoch"), "evaluator": "pytorch (float)"})
    return m


def parse_args(argv: list[str]):
    cmds = {"train", "pack", "export", "evaluate", "compare"}
    cmd = argv[0] if argv and argv[0] in cmds else "train"
    rest = argv[1:] if argv and argv[0] in cmds else argv
    p = argparse.ArgumentParser(prog=f"train.py {cmd}", description=__doc__.split("\n")[0])
    if cmd == "train":
        p.add_argument("--resume", action="store_true", help="continue the run in --out from its ckpt.pt")
        for f in dataclasses.fields(Config):
            if f.type in ("bool", bool):
                p.add_argument(f"--{f.name.replace('_', '-')}", dest=f.name, default=None,
                               action=argparse.BooleanOptionalAction)
            else:
                conv = {"int": int, "float": float, "str": str}[f.type if isinstance(f.type, str) else f.type.__name__]
                p.add_argument(f"--{f.name.replace('_', '-')}", dest=f.name, type=conv, default=None)
    elif cmd == "pack":
        p.add_argument("--data", default=Config.data)
        p.add_argument("--out", required=True, help="the .npz to write")
    elif cmd == "evaluate":
        p.add_argument("--ckpt", required=True)
        p.add_argument("--data", default=Config.data)
        p.add_argument("--split", default="val")
        p.add_argument("--json", help="write the metrics here")
    elif cmd == "export":
        p.add_argument("--ckpt", required=True)
        p.add_argument("--out-dir", default="models")
        p.add_argument("--data", default=Config.data, help="calibration (train split) and comparison (val) data")
        p.add_argument("--quant-dir", help="where the three int8 forms go (default: beside the checkpoint)")
        p.add_argument("--ship", default="weight_only", choices=["weight_only", "qdq", "dynamic"],
                       help="the int8 form copied to <out-dir>/emotion_int8.onnx")
        p.add_argument("--calib", type=int, default=500, help="calibration images for static QDQ")
        p.add_argument("--compare-limit", type=int, default=0, help="val images for the onnxruntime comparison (0=all)")
    elif cmd == "compare":
        p.add_argument("models", nargs="+", help="NAME=PATH.onnx pairs (or plain paths)")
        p.add_argument("--bin", default=os.environ.get("EMOJI_MIRROR_BIN"), help="the emoji-mirror CLI ($EMOJI_MIRROR_BIN)")
        p.add_argument("--data", default=Config.data)
        p.add_argument("--runs", type=int, default=50)
        p.add_argument("--json", help="write all the figures here")
    return cmd, p.parse_args(rest)


def main(argv: list[str]) -> int:
    cmd, a = parse_args(argv)
    if cmd == "train":
        given = {k: v for k, v in vars(a).items() if k != "resume" and v is not None}
        preset = given.get("preset", Config.preset)
        if preset not in PRESETS:
            raise SystemExit(f"unknown preset {preset!r}; choose one of {sorted(PRESETS)}")
        cfg = Config(**{**PRESETS[preset], **given, "preset": preset})
        if cfg.aug not in AUGS:
            raise SystemExit(f"unknown aug {cfg.aug!r}; choose one of {sorted(AUGS)}")
        train(cfg, a.resume)
    elif cmd == "pack":
        counts = D.pack(resolve_path(a.data), a.out, load_contract(DEFAULT_CONTRACT))
        print(f"wrote {a.out}: {counts}, {os.path.getsize(a.out) / 1e6:.1f} MB")
    elif cmd == "evaluate":
        m = evaluate_checkpoint(Path(a.ckpt), resolve_path(a.data), a.split, torch.device("cpu"))
        print(f"{a.split}: {m['images']} images, accuracy {m['accuracy']:.4f}, macro-F1 {m['macro_f1']:.4f}")
        if a.json:
            Path(a.json).write_text(json.dumps(m, indent=2) + "\n")
    elif cmd == "compare":
        from emoji_train.quantize import compare_rust

        if not a.bin:
            raise SystemExit("compare: give --bin or set EMOJI_MIRROR_BIN to the emoji-mirror CLI")
        models = dict(m.split("=", 1) if "=" in m else (Path(m).stem, m) for m in a.models)
        data = resolve_path(a.data)
        res = compare_rust(Path(a.bin), {k: Path(v) for k, v in models.items()}, data / "val", data, a.runs)
        if a.json:
            Path(a.json).write_text(json.dumps(res, indent=2) + "\n")
    elif cmd == "export":
        from emoji_train.export import export_all

        export_all(Path(a.ckpt), resolve_path(a.out_dir), resolve_path(a.data),
                   Path(a.quant_dir) if a.quant_dir else Path(a.ckpt).parent / "int8", a.ship, a.calib,
                   a.compare_limit)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
