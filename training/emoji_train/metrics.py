"""Classification metrics from a confusion matrix: accuracy, macro precision / recall / F1, per-class recall.

Macro averages give every class the same weight, so a constant predictor scores its class share in accuracy
and about 1/num_classes of the F1 it would need — not the 85% that accuracy-only reports can suggest.
A class that is never predicted has precision 0 (not NaN); a class absent from the labels has recall 0.
"""

from __future__ import annotations

import numpy as np


def confusion_matrix(y_true, y_pred, num_classes: int) -> np.ndarray:
    """cm[t, p] = number of samples of true class t predicted as p."""
    t = np.asarray(y_true, dtype=np.int64)
    p = np.asarray(y_pred, dtype=np.int64)
    return np.bincount(t * num_classes + p, minlength=num_classes * num_classes).reshape(num_classes, num_classes)


def from_confusion(cm: np.ndarray) -> dict:
    cm = np.asarray(cm, dtype=np.float64)
    tp = np.diag(cm)
    support = cm.sum(1)
    predicted = cm.sum(0)
    precision = np.divide(tp, predicted, out=np.zeros_like(tp), where=predicted > 0)
    recall = np.divide(tp, support, out=np.zeros_like(tp), where=support > 0)
    pr = precision + recall
    f1 = np.divide(2 * precision * recall, pr, out=np.zeros_like(tp), where=pr > 0)
    total = cm.sum()
    return {
        "accuracy": float(tp.sum() / total) if total else 0.0,
        "macro_precision": float(precision.mean()),
        "macro_recall": float(recall.mean()),
        "macro_f1": float(f1.mean()),
        "precision": precision.tolist(),
        "recall": recall.tolist(),
        "f1": f1.tolist(),
        "support": support.astype(np.int64).tolist(),
        "confusion": cm.astype(np.int64).tolist(),
    }


def classification_metrics(y_true, y_pred, num_classes: int) -> dict:
    return from_confusion(confusion_matrix(y_true, y_pred, num_classes))
