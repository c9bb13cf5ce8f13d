"""The CPU campaign's state across sessions: one long training run that any session can continue.

A session's processes end with it and the next session may be on a new machine, so the run lives in two places:
the cache (`~/.cache/emoji-mirror/campaign/run`: the fast path when the same machine comes back) and the
repository (`training/campaign/`: ckpt.pt with model, optimizer, schedule, EMA and RNG state after the last
finished epoch, history.csv, config.json — committed at the end of every session). `prepare` puts the newer of
the two in the run folder; `save` copies the run's state into the repository.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import torch

STATE_FILES = ("ckpt.pt", "history.csv", "config.json")


def finished_epoch(folder: Path) -> int:
    """The last finished epoch whose checkpoint is in folder (0 when there is none)."""
    path = folder / "ckpt.pt"
    if not path.exists():
        return 0
    return int(torch.load(path, map_location="cpu", weights_only=False)["epoch"])


def _copy_state(src: Path, dst: Path) -> None:
    dst.mkdir(parents=True, exist_ok=True)
    for name in STATE_FILES:
        if (src / name).exists():
            tmp = dst / (name + ".tmp")
            shutil.copyfile(src / name, tmp)
            os.replace(tmp, dst / name)


def prepare(state: Path, run: Path) -> str:
    """Make run hold the newest state: 'cache' (run is ahead or level), 'committed' (copied in) or 'new'."""
    cached, committed = finished_epoch(run), finished_epoch(state)
    if cached == 0 and committed == 0:
        return "new"
    if committed > cached:
        _copy_state(state, run)
        # best.pt/best_ema.pt of the cache belong to the older state: train.py re-saves them from the next epoch
        for name in ("best.pt", "best_ema.pt"):
            (run / name).unlink(missing_ok=True)
        return "committed"
    return "cache"


def save(run: Path, state: Path) -> int:
    """Copy the run's state into the repository folder; returns its epoch."""
    epoch = finished_epoch(run)
    if epoch == 0:
        raise SystemExit(f"campaign save: no checkpoint in {run}")
    _copy_state(run, state)
    return epoch
