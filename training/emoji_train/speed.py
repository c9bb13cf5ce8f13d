"""Images per second of one training step of the CPU recipe (augment, forward, backward, AdamW), for
comparing ways to run the same maths (training/SPEED.md). Random inputs: speed does not depend on pixels."""

from __future__ import annotations

import time

import torch
import torch.nn as nn

from . import data as D
from .models import build_model


def measure(steps: int = 25, threads: int = 2, batch: int = 128, channels_last: bool = False,
            compile: bool = False, warmup: int = 5) -> dict:
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    model = build_model("alexnet-48", 7, 0.3).to(memory_format=fmt)
    forward = torch.compile(model) if compile else model
    opt = torch.optim.AdamW(model.parameters(), 1e-3, fused=True)
    crit = nn.CrossEntropyLoss(label_smoothing=0.1)
    aug = D.AugConfig(flip=0.5, rotate_deg=10.0, shift=0.08, scale=(0.9, 1.1), noise=0.05, erase=0.25)
    gen = torch.Generator().manual_seed(0)
    x, y = torch.randn(batch, 1, 48, 48), torch.randint(0, 7, (batch,))
    augment_s = step_s = 0.0
    for i in range(warmup + steps):
        if i == warmup:
            augment_s = step_s = 0.0
        t0 = time.perf_counter()
        xb = D.augment(x, aug, gen).contiguous(memory_format=fmt)
        t1 = time.perf_counter()
        loss = crit(forward(xb), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        t2 = time.perf_counter()
        augment_s += t1 - t0
        step_s += t2 - t1
    return {"images_per_s": steps * batch / (augment_s + step_s), "augment_s": augment_s, "step_s": step_s}
