"""PyTorch-side evaluation: logits of a normalised tensor, metrics of logits, a checkpoint on a split.

The figures that ship come from the Rust evaluator (`emoji-mirror evaluate`); these are for training's own
model selection and for the tests that check the two agree.
"""

from __future__ import annotations

from pathlib import Path

import torch
import torch.nn as nn
import torch.nn.functional as F

from . import data as D
from .contract import DEFAULT_CONTRACT, load_contract
from .metrics import classification_metrics
from .models import load_checkpoint_model


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


def evaluate_checkpoint(ckpt: Path, data: Path, split: str, device: torch.device, contract=None) -> dict:
    model, ck = load_checkpoint_model(ckpt)
    contract = contract or load_contract(DEFAULT_CONTRACT)
    s = D.load_split(data, split, contract)
    x = torch.from_numpy(contract.to_input(s.images))
    m = evaluate_logits(predict(model.to(device), x, device), torch.from_numpy(s.labels), contract.num_classes)
    m.update({"labels": list(contract.labels), "split": split, "data": str(data), "images": len(s),
              "checkpoint": str(ckpt), "epoch": ck.get("epoch"), "evaluator": "pytorch (float)"})
    return m
