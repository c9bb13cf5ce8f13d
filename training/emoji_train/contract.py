"""The preprocessing contract, read from models/preprocess.json — the one copy shared with the Rust pipeline.

Nothing here copies the contract's numbers: labels, aliases, the CSV label order, the input size, the BT.601
grey weights, the contrast factor and the normalisation all come from the JSON file. The integer definitions of
the contrast and equalisation steps are the ones the Rust side implements (see crates/pipeline), so the two
sides build bit-identical input tensors from the same 8-bit grey image; models/parity/ checks it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_CONTRACT = REPO_ROOT / "models" / "preprocess.json"


@dataclass(frozen=True)
class Contract:
    labels: tuple[str, ...]
    aliases: dict[str, str]
    csv_label_order: tuple[str, ...]
    input_size: int
    grey_weights: tuple[float, float, float]
    contrast_alpha: float
    equalize: bool
    mean: float
    std: float
    input_name: str
    output_name: str
    test_time_flip: bool = False  # the pipeline averages the probabilities of a face and its mirror image

    @property
    def num_classes(self) -> int:
        return len(self.labels)

    def class_index(self, folder_name: str) -> int | None:
        """Index of a class folder name (any accepted spelling), or None for an unknown folder."""
        name = folder_name.strip().lower()
        name = self.aliases.get(name, name)
        return self.labels.index(name) if name in self.labels else None

    # -- the preprocessing steps, vectorised over a batch of uint8 images [N, H, W] --

    def grey_from_rgb(self, rgb: np.ndarray) -> np.ndarray:
        """floor(wR*R + wG*G + wB*B + 0.5) on uint8 [..., 3] → uint8 [...]."""
        w = np.asarray(self.grey_weights, dtype=np.float64)
        g = np.floor(rgb.astype(np.float64) @ w + 0.5)
        return np.clip(g, 0, 255).astype(np.uint8)

    def contrast(self, imgs: np.ndarray) -> np.ndarray:
        """v' = min(255, floor(v * alpha + 0.5)) through a 256-entry table."""
        lut = np.minimum(255, np.floor(np.arange(256, dtype=np.float64) * self.contrast_alpha + 0.5))
        return lut.astype(np.uint8)[imgs]

    @staticmethod
    def equalize_hist(imgs: np.ndarray) -> np.ndarray:
        """Histogram equalisation per image, the contract's integer definition (f64, round half up).

        hist → cdf; cdf_min = first non-zero count; all pixels equal → unchanged;
        else lut[v] = clamp(floor((cdf[v] - cdf_min) * 255 / (total - cdf_min) + 0.5), 0, 255).
        """
        imgs = np.ascontiguousarray(imgs, dtype=np.uint8)
        n = imgs.shape[0]
        flat = imgs.reshape(n, -1)
        total = flat.shape[1]
        offs = (np.arange(n, dtype=np.int64) * 256)[:, None]
        hist = np.bincount((flat.astype(np.int64) + offs).ravel(), minlength=n * 256).reshape(n, 256)
        cdf = np.cumsum(hist, axis=1)
        first = np.argmax(hist > 0, axis=1)
        cdf_min = hist[np.arange(n), first].astype(np.float64)[:, None]
        denom = total - cdf_min
        flat_img = denom[:, 0] == 0
        safe = np.where(denom == 0, 1.0, denom)
        lut = np.floor((cdf.astype(np.float64) - cdf_min) * 255.0 / safe + 0.5)
        lut = np.clip(lut, 0, 255).astype(np.uint8)
        out = np.take_along_axis(lut, flat.astype(np.int64), axis=1)
        out[flat_img] = flat[flat_img]
        return out.reshape(imgs.shape)

    def preprocess_u8(self, imgs: np.ndarray) -> np.ndarray:
        """Grey uint8 [N, S, S] → contrast → equalise, still uint8 (what the Rust pipeline builds before normalising)."""
        out = self.contrast(imgs)
        if self.equalize:
            out = self.equalize_hist(out)
        return out

    def normalize(self, imgs_u8: np.ndarray) -> np.ndarray:
        """uint8 → float32 (x/255 - mean) / std."""
        return ((imgs_u8.astype(np.float32) / np.float32(255.0) - np.float32(self.mean)) / np.float32(self.std)).astype(
            np.float32
        )

    def to_input(self, imgs: np.ndarray) -> np.ndarray:
        """Grey uint8 [N, S, S] → model input float32 [N, 1, S, S]: the whole contract."""
        return self.normalize(self.preprocess_u8(imgs))[:, None, :, :]


@lru_cache(maxsize=4)
def load_contract(path: str | Path = DEFAULT_CONTRACT) -> Contract:
    with open(path, encoding="utf-8") as f:
        c = json.load(f)
    labels = tuple(c["labels"])
    csv_order = tuple(c["fer2013_csv_label_order"])
    if sorted(csv_order) != sorted(labels):
        raise ValueError(f"{path}: fer2013_csv_label_order {csv_order} is not a permutation of labels {labels}")
    return Contract(
        labels=labels,
        aliases={k.lower(): v for k, v in c.get("label_aliases", {}).items()},
        csv_label_order=csv_order,
        input_size=int(c["input_size"]),
        grey_weights=tuple(c["grey_weights_bt601"]),
        contrast_alpha=float(c["contrast_alpha"]),
        equalize=bool(c.get("equalize_histogram", True)),
        mean=float(c["mean"]),
        std=float(c["std"]),
        input_name=c.get("model_input_name", "input"),
        output_name=c.get("model_output_name", "logits"),
        test_time_flip=bool(c.get("test_time_flip", False)),
    )
