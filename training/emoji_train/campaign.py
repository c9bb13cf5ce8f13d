"""The CPU campaign's state across sessions: one long training run that any session can continue.

A session's processes end with it and the next session may be on a new machine, so the run lives in two places:
- the cache (`~/.cache/emoji-mirror/campaign/run`): the full ckpt.pt (model, AdamW moments, schedule, EMA, RNG)
  after every epoch — the exact continuation when the same machine comes back;
- the repository (`training/campaign/`): state.pt, the same checkpoint made light enough to commit every
  session (weights and EMA in fp16, the optimizer's settings without its per-weight moments: 4 MB, not 17),
  with history.csv and config.json. A new machine continues from it where the schedule stands; only AdamW's
  moments start again from zero (bias-corrected, they rebuild within the first few hundred of ~220 steps/epoch).

`prepare` puts the newer of the two in the run folder; `save` writes the run's state into the repository;
`extract` writes the newest weights (the model's or their moving average) as a checkpoint that `tools.py export`
and `evaluate` read, so that any machine can export the campaign's model from the committed state alone.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import torch

CHECKPOINT = "ckpt.pt"  # in the run folder (cache)
STATE = "state.pt"  # in the repository
TEXT_FILES = ("history.csv", "config.json")
MACHINE_KEYS = ("out",)  # config entries that name this machine's folders: never committed


def finished_epoch(folder: Path) -> int:
    """The last finished epoch whose checkpoint (ckpt.pt or state.pt) is in folder (0 when there is none)."""
    for name in (CHECKPOINT, STATE):
        if (folder / name).exists():
            return int(torch.load(folder / name, map_location="cpu", weights_only=False)["epoch"])
    return 0


def portable_config(config: dict) -> dict:
    return {k: v for k, v in config.items() if k not in MACHINE_KEYS}


def lighten(ckpt: dict) -> dict:
    """The checkpoint to commit: fp16 weights, the optimizer without per-weight state, no machine paths."""
    half = {k: v.half() if v.is_floating_point() else v for k, v in ckpt["model"].items()}
    ema = ckpt.get("ema")
    if ema is not None:
        ema = {k: v.half() if v.is_floating_point() else v for k, v in ema.items()}
    optimizer = dict(ckpt["optimizer"], state={})
    return dict(ckpt, model=half, ema=ema, optimizer=optimizer, config=portable_config(ckpt["config"]), light=True)


def _atomic_write(path: Path, write) -> None:
    tmp = path.with_name(path.name + ".tmp")
    write(tmp)
    os.replace(tmp, path)


def prepare(state: Path, run: Path) -> str:
    """Make run hold the newest state: 'cache' (run is ahead or level), 'committed' (copied in) or 'new'."""
    cached, committed = finished_epoch(run), finished_epoch(state)
    if cached == 0 and committed == 0:
        return "new"
    if committed > cached:
        run.mkdir(parents=True, exist_ok=True)
        _atomic_write(run / CHECKPOINT, lambda p: shutil.copyfile(state / STATE, p))
        for name in TEXT_FILES:
            if (state / name).exists():
                _atomic_write(run / name, lambda p, n=name: shutil.copyfile(state / n, p))
        # best.pt/best_ema.pt of the cache belong to the older state: train.py re-saves them from the next epoch
        for name in ("best.pt", "best_ema.pt"):
            (run / name).unlink(missing_ok=True)
        return "committed"
    return "cache"


def save(run: Path, state: Path) -> int:
    """Write the run's state into the repository folder; returns its epoch."""
    if not (run / CHECKPOINT).exists():
        raise SystemExit(f"campaign save: no checkpoint in {run}")
    ckpt = torch.load(run / CHECKPOINT, map_location="cpu", weights_only=False)
    state.mkdir(parents=True, exist_ok=True)
    _atomic_write(state / STATE, lambda p: torch.save(lighten(ckpt), p))
    _atomic_write(state / "history.csv", lambda p: shutil.copyfile(run / "history.csv", p))
    config = portable_config(json.loads((run / "config.json").read_text()))
    _atomic_write(state / "config.json", lambda p: p.write_text(json.dumps(config, indent=2) + "\n"))
    (state / CHECKPOINT).unlink(missing_ok=True)  # the heavy checkpoint of earlier versions
    return int(ckpt["epoch"])


def newest(state: Path, run: Path) -> Path:
    """The checkpoint further on: the run's ckpt.pt (cache) or the committed state.pt (the run's on a tie)."""
    if (run / CHECKPOINT).exists() and finished_epoch(run) >= finished_epoch(state):
        return run / CHECKPOINT
    if (state / STATE).exists():
        return state / STATE
    raise SystemExit(f"campaign: no checkpoint in {run} or {state}")


def extract(state: Path, run: Path, which: str, out: Path) -> int:
    """The newest checkpoint's `which` weights ('model' or 'ema'), in float32, written to out as a checkpoint like
    train.py's best.pt (model, config, epoch); returns its epoch."""
    source = newest(state, run)
    ckpt = torch.load(source, map_location="cpu", weights_only=False)
    weights = ckpt.get(which)
    if weights is None:
        raise SystemExit(f"campaign: {source} has no '{which}' weights (was the run started with --ema?)")
    weights = {k: v.float() if v.is_floating_point() else v for k, v in weights.items()}
    out.parent.mkdir(parents=True, exist_ok=True)
    extracted = {"model": weights, "config": portable_config(ckpt["config"]), "epoch": ckpt["epoch"],
                 "weights": which, "source": str(source)}
    _atomic_write(out, lambda p: torch.save(extracted, p))
    return int(ckpt["epoch"])
