"""Plots from saved files only — history.csv and an evaluation JSON — so they can be redrawn at any time.

Reads either evaluation JSON shape: the Rust evaluator's (`emoji-mirror evaluate --json`: confusion =
{labels, matrix}) or train.py's (labels + confusion as a list of rows). Writes small PNGs:
curves.png (loss, accuracy, macro precision, macro recall, macro-F1, lr per epoch), confusion.png (row-normalised,
with counts) and per_class.png (per-class accuracy = recall).
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np

from .metrics import from_confusion


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def load_eval(path: Path) -> tuple[list[str], np.ndarray, dict]:
    doc = json.loads(Path(path).read_text())
    conf = doc["confusion"]
    if isinstance(conf, dict):
        labels, matrix = conf["labels"], conf["matrix"]
    else:
        labels, matrix = doc["labels"], conf
    return list(labels), np.asarray(matrix, dtype=np.int64), doc


def plot_curves(history_csv: Path, out: Path, title: str = "") -> Path:
    plt = _plt()
    with open(history_csv, newline="") as f:
        rows = list(csv.DictReader(f))
    if not rows:
        raise ValueError(f"{history_csv} has no epochs yet")
    ep = [int(r["epoch"]) for r in rows]
    col = lambda k: [float(r[k]) for r in rows]  # noqa: E731
    panels = [("loss", "loss"), ("accuracy", "acc"), ("macro precision", "precision"), ("macro recall", "recall"),
              ("macro-F1", "f1")]
    fig, axes = plt.subplots(2, 3, figsize=(10, 5.5), dpi=80)
    for ax, (name, key) in zip(axes.flat, panels):
        ax.plot(ep, col(f"train_{key}"), label="train (augmented)")
        ax.plot(ep, col(f"val_{key}"), label="PublicTest (val)")
        ax.set_title(name)
        ax.set_xlabel("epoch")
        ax.grid(alpha=0.3)
    axes.flat[0].legend(fontsize=8)
    ax = axes.flat[5]
    ax.plot(ep, col("lr"))
    ax.set_title("learning rate (end of epoch)")
    ax.set_xlabel("epoch")
    ax.grid(alpha=0.3)
    fig.suptitle(title or str(history_csv))
    return _save(plt, fig, out)


def _save(plt, fig, out: Path) -> Path:
    """Lays out, writes and closes a figure (matplotlib keeps every open figure in memory)."""
    fig.tight_layout()
    fig.savefig(out)
    plt.close(fig)
    return out


def plot_confusion(labels: list[str], cm: np.ndarray, out: Path, title: str) -> Path:
    plt = _plt()
    norm = cm / np.maximum(cm.sum(1, keepdims=True), 1)
    fig, ax = plt.subplots(figsize=(6, 5.2), dpi=80)
    im = ax.imshow(norm, cmap="Blues", vmin=0, vmax=1)
    for i in range(len(labels)):
        for j in range(len(labels)):
            ax.text(j, i, f"{norm[i, j]:.2f}\n{cm[i, j]}", ha="center", va="center", fontsize=7,
                    color="white" if norm[i, j] > 0.5 else "black")
    ax.set_xticks(range(len(labels)), labels, rotation=45, ha="right")
    ax.set_yticks(range(len(labels)), labels)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title, fontsize=9)
    fig.colorbar(im, fraction=0.046)
    return _save(plt, fig, out)


def plot_per_class(labels: list[str], cm: np.ndarray, out: Path, title: str) -> Path:
    plt = _plt()
    recall = np.diag(cm) / np.maximum(cm.sum(1), 1)
    fig, ax = plt.subplots(figsize=(6, 3.2), dpi=80)
    bars = ax.bar(labels, recall * 100)
    for b, r in zip(bars, recall):
        ax.text(b.get_x() + b.get_width() / 2, r * 100 + 1, f"{r * 100:.0f}", ha="center", fontsize=8)
    acc = np.trace(cm) / max(cm.sum(), 1)
    ax.axhline(acc * 100, color="gray", ls="--", lw=1, label=f"overall accuracy {acc * 100:.1f}%")
    ax.set_ylim(0, 105)
    ax.set_ylabel("accuracy (recall), %")
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=8, loc="lower right")
    return _save(plt, fig, out)


def redraw(history: Path | None, evaluation: Path | None, out_dir: Path, prefix: str = "") -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    if history is not None:
        written.append(plot_curves(history, out_dir / f"{prefix}curves.png", f"training curves — {history.parent.name}"))
    if evaluation is not None:
        labels, cm, doc = load_eval(evaluation)
        what = doc.get("model") or doc.get("checkpoint") or evaluation.name
        title = f"{Path(str(what)).name}: {int(cm.sum())} images, accuracy {np.trace(cm) / max(cm.sum(), 1) * 100:.1f}%"
        written.append(plot_confusion(labels, cm, out_dir / f"{prefix}confusion.png", title))
        written.append(plot_per_class(labels, cm, out_dir / f"{prefix}per_class.png", title))
    return written


def markdown(evaluation: Path) -> str:
    """Per-class table and confusion matrix of an evaluation JSON, as Markdown (for the model card)."""
    labels, cm, _ = load_eval(evaluation)
    m = from_confusion(cm)
    prec, rec, f1, support = m["precision"], m["recall"], m["f1"], m["support"]
    lines = [f"accuracy {m['accuracy'] * 100:.2f}% on {int(cm.sum())} images, macro-F1 {m['macro_f1']:.4f}, "
             f"macro precision {m['macro_precision']:.4f}, macro recall {m['macro_recall']:.4f}", "",
             "| class | images | accuracy (recall) | precision | F1 | most often confused with |",
             "|---|---:|---:|---:|---:|---|"]
    for i, name in enumerate(labels):
        off = cm[i].copy()
        off[i] = -1
        j = int(off.argmax())
        conf = f"{labels[j]} ({cm[i, j] / max(support[i], 1) * 100:.0f}%)" if cm[i, j] > 0 else "-"
        lines.append(f"| {name} | {support[i]} | {rec[i] * 100:.1f}% | {prec[i] * 100:.1f}% | {f1[i]:.3f} | {conf} |")
    lines += ["", "| true \\ predicted | " + " | ".join(labels) + " |", "|---|" + "---:|" * len(labels)]
    for i, name in enumerate(labels):
        lines.append(f"| **{name}** | " + " | ".join(str(v) for v in cm[i]) + " |")
    return "\n".join(lines) + "\n"
