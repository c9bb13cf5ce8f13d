"""Levers that need no training, measured on a checkpoint: test-time horizontal flip (average the face's and its
mirror's probabilities) and post-hoc logit adjustment (Menon et al. 2021: logits − τ·log prior, which lifts rare
classes such as disgust and fear). An adjustment ships at no cost at all: it folds into the last layer's bias."""

from __future__ import annotations

import numpy as np
import torch

from .metrics import classification_metrics


def class_prior(labels: np.ndarray, num_classes: int) -> np.ndarray:
    counts = np.bincount(labels, minlength=num_classes).astype(np.float64)
    return counts / counts.sum()


def scores(logits: torch.Tensor, flipped: torch.Tensor | None, log_prior: np.ndarray, tau: float) -> np.ndarray:
    """Class scores (argmax = prediction): softmax of the adjusted logits, averaged with the mirror's when given."""
    adjust = torch.from_numpy(tau * log_prior).float()
    p = torch.softmax(logits - adjust, 1)
    if flipped is not None:
        p = (p + torch.softmax(flipped - adjust, 1)) / 2
    return p.numpy()


def table(logits, flipped, y: np.ndarray, prior: np.ndarray, taus=(0.0, 0.25, 0.5, 0.75, 1.0)) -> list[dict]:
    rows = []
    for flip in (False, True):
        for tau in taus:
            m = classification_metrics(y, scores(logits, flipped if flip else None, np.log(prior), tau).argmax(1),
                                       len(prior))
            rows.append({"flip": flip, "tau": tau, "accuracy": m["accuracy"], "macro_f1": m["macro_f1"],
                         "min_recall": min(m["recall"]), "recall": m["recall"]})
    return rows


def fold_into_bias(state: dict, prior: np.ndarray, tau: float, bias_key: str = "classifier.7.bias") -> dict:
    """A state dict whose last layer computes logits − τ·log prior."""
    out = dict(state)
    out[bias_key] = state[bias_key] - torch.from_numpy(tau * np.log(prior)).to(state[bias_key].dtype)
    return out
