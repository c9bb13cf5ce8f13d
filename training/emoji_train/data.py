"""Datasets: class folders (train/ val/ test/), the Kaggle fer2013.csv, or a packed .npz — decoded once and cached.

Every source becomes the same thing: raw grey uint8 images [N, S, S] (before the contract's contrast/equalise
step) with int64 labels in the contract's label order, plus a report of what was skipped and why. Unreadable
files, images of the wrong size and unknown folders are counted and reported; reading goes on.

Decoding 30k JPEGs takes a while on 2 cores, so a decoded split is cached as a compressed .npz under
$EMOJI_MIRROR_CACHE (default ~/.cache/emoji-mirror/data), keyed by the path and the modification times.
`pack` writes all splits to one compact .npz to carry to another machine.

Augmentation works on whole batches of normalised tensors with an explicit torch.Generator, so the
augmentation of epoch e is a function of (seed, epoch, rank) alone — what makes --resume exact.
"""

from __future__ import annotations

import csv
import hashlib
import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from .contract import Contract

IMAGE_EXTS = {".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp", ".pgm", ".tif", ".tiff"}
CSV_USAGE = {"training": "train", "publictest": "val", "privatetest": "test"}


def cache_dir() -> Path:
    return Path(os.environ.get("EMOJI_MIRROR_CACHE", Path.home() / ".cache" / "emoji-mirror" / "data"))


@dataclass
class Split:
    images: np.ndarray  # uint8 [N, S, S], raw grey (contract step not yet applied)
    labels: np.ndarray  # int64 [N], contract label order
    report: dict = field(default_factory=dict)
    # float32 [N, V, 4] or None: where the pipeline's crop fell on each face in V camera frames (read_framings)
    framings: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.labels)

    def subset(self, n: int, seed: int = 0) -> "Split":
        """A class-stratified random subset of about n images (all of them if n <= 0 or n >= len)."""
        if n <= 0 or n >= len(self):
            return self
        rng = np.random.default_rng(seed)
        idx = np.sort(rng.permutation(len(self))[:n])
        framings = None if self.framings is None else self.framings[idx]
        return Split(self.images[idx], self.labels[idx], dict(self.report, subset=n), framings)


# ---------------------------------------------------------------- readers


def _decode(path, contract: Contract) -> np.ndarray:
    from PIL import Image

    with Image.open(path) as im:
        im.load()
        if im.mode == "L":
            return np.asarray(im, dtype=np.uint8)
        if im.mode in ("I;16", "I", "F"):
            raise ValueError(f"unsupported image mode {im.mode}")
        return contract.grey_from_rgb(np.asarray(im.convert("RGB"), dtype=np.uint8))


def read_class_folders(root: Path, contract: Contract) -> Split:
    """Read root/<class>/* (any accepted spelling of the class names)."""
    size = contract.input_size
    images, labels = [], []
    report = {
        "source": str(root),
        "per_class": {c: 0 for c in contract.labels},
        "unreadable": 0,
        "wrong_size": 0,
        "unknown_folders": [],
        "examples": [],
    }
    for sub in sorted(p for p in root.iterdir() if p.is_dir()):
        idx = contract.class_index(sub.name)
        if idx is None:
            report["unknown_folders"].append(sub.name)
            continue
        for f in sorted(sub.iterdir()):
            if not f.is_file() or f.suffix.lower() not in IMAGE_EXTS:
                continue
            try:
                img = _decode(f, contract)
            except Exception as e:  # noqa: BLE001 - any decoder failure is "unreadable", counted and reported
                report["unreadable"] += 1
                if len(report["examples"]) < 10:
                    report["examples"].append(f"{f.name}: unreadable ({type(e).__name__}: {e})")
                continue
            if img.shape != (size, size):
                report["wrong_size"] += 1
                if len(report["examples"]) < 10:
                    report["examples"].append(f"{f.name}: {img.shape[1]}x{img.shape[0]}, expected {size}x{size}")
                continue
            images.append(img)
            labels.append(idx)
            report["per_class"][contract.labels[idx]] += 1
    x = np.stack(images) if images else np.zeros((0, size, size), np.uint8)
    return Split(x, np.asarray(labels, dtype=np.int64), report)


def read_fer_csv(path: Path, split: str, contract: Contract) -> Split:
    """Rows of the Kaggle fer2013.csv (emotion,pixels,Usage) whose Usage maps to `split` (train/val/test)."""
    size = contract.input_size
    images, labels = [], []
    report = {"source": str(path), "per_class": {c: 0 for c in contract.labels}, "unreadable": 0, "wrong_size": 0,
              "unknown_folders": [], "examples": []}
    with open(path, newline="", encoding="utf-8") as f:
        for lineno, row in enumerate(csv.DictReader(f), start=2):
            if CSV_USAGE.get(row.get("Usage", "").strip().lower()) != split:
                continue
            try:
                name = contract.csv_label_order[int(row["emotion"])]
                px = np.array(row["pixels"].split(), dtype=np.int64)
                if px.min(initial=0) < 0 or px.max(initial=0) > 255:
                    raise ValueError("pixel out of 0..255")
            except (ValueError, IndexError, KeyError, AttributeError) as e:
                report["unreadable"] += 1
                if len(report["examples"]) < 10:
                    report["examples"].append(f"line {lineno}: unreadable ({e})")
                continue
            if px.size != size * size:
                report["wrong_size"] += 1
                if len(report["examples"]) < 10:
                    report["examples"].append(f"line {lineno}: {px.size} pixels, expected {size * size}")
                continue
            images.append(px.astype(np.uint8).reshape(size, size))
            idx = contract.labels.index(name)
            labels.append(idx)
            report["per_class"][name] += 1
    x = np.stack(images) if images else np.zeros((0, size, size), np.uint8)
    return Split(x, np.asarray(labels, dtype=np.int64), report)


FRAMING_COLUMNS = ("centre_x", "centre_y", "side", "angle")


def read_framings(table: str | Path, root: Path, split: Split, contract: Contract) -> np.ndarray:
    """The table `emoji-mirror framings --data ROOT --out TABLE` wrote, aligned with `split` (read from ROOT's class
    folders): float32 [N, V, 4] — per face and camera frame, the pipeline's crop square in the face's coordinates
    (centre offset and side in face sides, turn in radians); NaN where the detector's best face was elsewhere.

    Rows are matched to images by class folder and file name, in read_class_folders' order; a table made from
    other data (a face without a row, or a row without a face) is refused rather than misaligned.
    """
    order: dict[tuple[str, str], int] = {}
    labels = []
    for sub in sorted(p for p in root.iterdir() if p.is_dir()):
        idx = contract.class_index(sub.name)
        if idx is None:
            continue
        for f in sorted(sub.iterdir()):
            if f.is_file() and f.suffix.lower() in IMAGE_EXTS:
                order[(contract.labels[idx], f.name)] = len(order)
                labels.append(idx)
    if len(order) != len(split) or not np.array_equal(np.asarray(labels), split.labels):
        raise ValueError(f"{table}: {root} lists {len(order)} faces, the split holds {len(split)}: "
                         "framings are read only for class folders whose every image decoded")
    rows = []
    with open(table, newline="") as fh:
        for r in csv.DictReader(fh):
            idx = contract.class_index(r["class"])
            key = (contract.labels[idx] if idx is not None else r["class"], r["file"])
            if key not in order:
                raise ValueError(f"{table}: {r['class']}/{r['file']} is not a face of {root}")
            found = r["found"] == "1"
            rows.append((order[key], int(r["view"]), [float(r[c]) if found else math.nan for c in FRAMING_COLUMNS]))
    if not rows:
        raise ValueError(f"{table}: no rows")
    views = 1 + max(v for _, v, _ in rows)
    out = np.full((len(split), views, len(FRAMING_COLUMNS)), np.nan, np.float32)
    seen = np.zeros((len(split), views), bool)
    for i, v, values in rows:
        out[i, v] = values
        seen[i, v] = True
    if not seen.all():
        missing = int((~seen).any(1).sum())
        raise ValueError(f"{table}: {missing} faces of {root} have no row for every view (made with --every?)")
    return out


def _fingerprint(path: Path) -> str:
    h = hashlib.sha1(str(path.resolve()).encode())
    if path.is_file():
        st = path.stat()
        h.update(f"{st.st_mtime_ns}:{st.st_size}".encode())
    else:
        for p in [path, *sorted(q for q in path.iterdir() if q.is_dir())]:
            st = p.stat()
            h.update(f"{p.name}:{st.st_mtime_ns}".encode())
    return h.hexdigest()[:16]


def _cached(path: Path, split: str, contract: Contract, read) -> Split:
    cdir = cache_dir()
    key = f"{path.name}-{split}-{_fingerprint(path)}-{contract.input_size}.npz"
    cfile = cdir / key
    if cfile.exists():
        try:
            z = np.load(cfile, allow_pickle=False)
            return Split(z["x"], z["y"], json.loads(str(z["report"])))
        except (OSError, ValueError, KeyError):
            pass  # a broken cache entry is rebuilt
    s = read()
    cdir.mkdir(parents=True, exist_ok=True)
    tmp = cfile.with_suffix(f".tmp{os.getpid()}.npz")
    np.savez_compressed(tmp, x=s.images, y=s.labels, report=json.dumps(s.report))
    os.replace(tmp, cfile)
    return s


def load_split(data: str | Path, split: str, contract: Contract, use_cache: bool = True) -> Split:
    """One split ("train", "val", "test") from a data path.

    data may be: a folder holding <split>/<class>/ folders; a folder of class folders itself (then `split` is
    ignored); a fer2013.csv (or a folder holding one); or a .npz written by `pack`.
    """
    p = Path(data)
    if not p.exists():
        raise FileNotFoundError(f"data path {p} does not exist")
    if p.suffix == ".npz":
        z = np.load(p, allow_pickle=False)
        if f"{split}_jpeg" in z:
            return _unpack_jpeg(z, split, contract, p)
        if f"{split}_x" not in z:
            raise KeyError(f"{p} has no split {split!r} (has {sorted(k[:-2] for k in z.files if k.endswith('_x'))})")
        return Split(z[f"{split}_x"], z[f"{split}_y"], {"source": str(p), "packed": True})
    if p.is_file():
        return _cached(p, split, contract, lambda: read_fer_csv(p, split, contract)) if use_cache else read_fer_csv(p, split, contract)
    if (p / split).is_dir():
        root = p / split
    elif any(contract.class_index(q.name) is not None for q in p.iterdir() if q.is_dir()):
        root = p
    elif (p / "fer2013.csv").is_file():
        return load_split(p / "fer2013.csv", split, contract, use_cache)
    else:
        raise FileNotFoundError(f"{p}: no {split}/ folder, no class folders and no fer2013.csv")
    reader = lambda: read_class_folders(root, contract)  # noqa: E731
    return _cached(root, split, contract, reader) if use_cache else reader()


def pack(data: str | Path, out: str | Path, contract: Contract, splits=("train", "val", "test")) -> dict:
    """Write the available splits as one compressed .npz (raw uint8) for carrying to a GPU machine."""
    arrays, counts = {}, {}
    for s in splits:
        try:
            sp = load_split(data, s, contract)
        except FileNotFoundError:
            continue
        if len(sp) == 0:
            continue
        arrays[f"{s}_x"], arrays[f"{s}_y"] = sp.images, sp.labels
        counts[s] = len(sp)
    if not arrays:
        raise FileNotFoundError(f"{data}: no split found")
    np.savez_compressed(out, labels=np.array(contract.labels), **arrays)
    return counts


def pack_jpeg(data: str | Path, out: str | Path, contract: Contract, splits=("train", "val", "test")) -> dict:
    """Write the JPEG files of <data>/<split>/<class>/ as they are (lossless, ~47 MiB for FER2013 against ~71 MB
    for the decoded, zlib-compressed pixels), for a machine that takes at most 64 MiB: the header every file
    shares (FER2013's 328 bytes up to the scan) once, then each file's remaining bytes."""
    root = Path(data)
    files: dict[str, list[tuple[bytes, int]]] = {}
    for s in splits:
        if not (root / s).is_dir():
            continue
        entries = []
        for sub in sorted(q for q in (root / s).iterdir() if q.is_dir()):
            idx = contract.class_index(sub.name)
            if idx is None:
                continue
            for f in sorted(sub.iterdir()):
                if f.is_file() and f.suffix.lower() in IMAGE_EXTS:
                    if f.suffix.lower() not in (".jpg", ".jpeg"):
                        raise ValueError(f"{f}: pack_jpeg takes JPEG files only (use pack)")
                    entries.append((f.read_bytes(), idx))
        if entries:
            files[s] = entries
    if not files:
        raise FileNotFoundError(f"{root}: no split folder with class folders")
    every = [b for entries in files.values() for b, _ in entries]
    header = os.path.commonprefix(every)
    arrays: dict[str, np.ndarray] = {"jpeg_header": np.frombuffer(header, np.uint8)}
    for s, entries in files.items():
        tails = [b[len(header):] for b, _ in entries]
        arrays[f"{s}_jpeg"] = np.frombuffer(b"".join(tails), np.uint8)
        arrays[f"{s}_offsets"] = np.cumsum([0] + [len(t) for t in tails]).astype(np.int64)
        arrays[f"{s}_y"] = np.asarray([i for _, i in entries], np.int64)
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    np.savez(out, **arrays)  # not compressed: JPEG data does not shrink
    return {s: len(e) for s, e in files.items()}


def _unpack_jpeg(z, split: str, contract: Contract, path: Path) -> Split:
    import io

    header, body, offsets = z["jpeg_header"].tobytes(), z[f"{split}_jpeg"], z[f"{split}_offsets"]
    blobs = (header + body[offsets[i]:offsets[i + 1]].tobytes() for i in range(len(offsets) - 1))
    try:
        import PIL  # noqa: F401

        images = [_decode(io.BytesIO(b), contract) for b in blobs]
    except ImportError:  # a bare GPU machine may have torch (and torchvision) only; both decode with libjpeg
        from torchvision.io import ImageReadMode, decode_jpeg

        images = [decode_jpeg(torch.frombuffer(bytearray(b), dtype=torch.uint8), ImageReadMode.GRAY)[0].numpy()
                  for b in blobs]
    size = contract.input_size
    x = np.stack(images) if images else np.zeros((0, size, size), np.uint8)
    if x.shape[1:] != (size, size):
        raise ValueError(f"{path}: {split} images are {x.shape[1:]}, expected {size}x{size}")
    return Split(x, z[f"{split}_y"], {"source": str(path), "packed": "jpeg"})


def format_report(name: str, s: Split) -> str:
    r = s.report
    line = f"{name}: {len(s)} images from {r.get('source', '?')}"
    if "per_class" in r:
        line += " (" + ", ".join(f"{k} {v}" for k, v in r["per_class"].items()) + ")"
    skipped = [f"{r[k]} {k.replace('_', ' ')}" for k in ("unreadable", "wrong_size") if r.get(k)]
    if r.get("unknown_folders"):
        skipped.append(f"unknown folders {r['unknown_folders']}")
    if skipped:
        line += "; skipped: " + ", ".join(skipped)
        for ex in r.get("examples", [])[:5]:
            line += f"\n    {ex}"
    return line


# ---------------------------------------------------------------- augmentation


@dataclass
class AugConfig:
    flip: float = 0.5  # probability of a horizontal flip
    rotate_deg: float = 10.0  # uniform in ±rotate_deg
    shift: float = 0.1  # translation, fraction of the side, uniform in ±shift
    scale: tuple[float, float] = (0.9, 1.1)  # resized crop: zoom factor range
    noise: float = 0.0  # gaussian noise std (normalised units), applied to half the batch
    erase: float = 0.0  # probability of random erasing (one rectangle, 2–20% of the area)
    blur: float = 0.0  # probability of a Gaussian blur, σ uniform in 0.4–1.5 px: a face from a soft or small camera image
    # probability that a face is cut where the pipeline cut it in one of its camera frames (Split.framings) instead
    # of the random rotation, shift and zoom: the detector's framing, which FER2013's own crops do not share
    framing: float = 0.0

    @property
    def geometric(self) -> bool:
        return self.rotate_deg > 0 or self.shift > 0 or self.scale != (1.0, 1.0)


def gaussian_blur(x: torch.Tensor, sigma: torch.Tensor, radius: int = 4) -> torch.Tensor:
    """Each image of [N, 1, S, S] blurred with its own σ (pixels; 0 leaves it unchanged): one separable grouped conv."""
    n = x.shape[0]
    t = torch.arange(-radius, radius + 1, device=x.device, dtype=x.dtype)
    s = sigma.to(x.dtype).clamp_min(1e-3)[:, None]
    k = torch.exp(-0.5 * (t[None, :] / s) ** 2)
    k = k / k.sum(1, keepdim=True)  # σ → 0 gives the identity kernel
    y = F.pad(x.reshape(1, n, *x.shape[2:]), (radius, radius, radius, radius), mode="replicate")
    y = F.conv2d(y, k.view(n, 1, 1, -1), groups=n)
    y = F.conv2d(y, k.view(n, 1, -1, 1), groups=n)
    return y.reshape(x.shape)


def augment(x: torch.Tensor, cfg: AugConfig, gen: torch.Generator, framings: torch.Tensor | None = None) -> torch.Tensor:
    """Augment a normalised batch [N, 1, S, S] with random draws from `gen` (a CPU generator) only.

    The draws are made on the CPU and moved to x's device, so a batch augments on the GPU with the same
    random numbers as on the CPU. `framings` [N, V, 4] (the batch's Split.framings) is used when cfg.framing > 0;
    without it the draws are exactly those of a run that has none.
    """
    n, dev = x.shape[0], x.device
    u = lambda *shape: torch.rand(*shape, generator=gen).to(dev)  # noqa: E731
    flip = (u(n) < cfg.flip).float() * -2 + 1  # -1 flips
    framed = None
    if cfg.framing > 0 and framings is not None:
        views = framings.shape[1]
        pick = framings.to(dev)[torch.arange(n, device=dev), (u(n) * views).long().clamp(max=views - 1)]
        framed = (u(n) < cfg.framing) & ~torch.isnan(pick).any(1)
        pick = torch.nan_to_num(pick)
    if cfg.geometric or framed is not None:
        ang = (u(n) * 2 - 1) * math.radians(cfg.rotate_deg)
        lo, hi = cfg.scale
        zoom = lo + u(n) * (hi - lo)
        tx, ty = (u(n) * 2 - 1) * cfg.shift * 2, (u(n) * 2 - 1) * cfg.shift * 2  # grid units span 2 per side
        cos, sin = torch.cos(ang) / zoom, torch.sin(ang) / zoom
        if framed is not None:
            # the crop square in the face's coordinates: output grid → input grid is side·R(angle), centre·2
            cx, cy, side, turn = pick.unbind(1)
            cos = torch.where(framed, side * torch.cos(turn), cos)
            sin = torch.where(framed, side * torch.sin(turn), sin)
            tx, ty = torch.where(framed, 2 * cx, tx), torch.where(framed, 2 * cy, ty)
        theta = torch.stack(
            [torch.stack([cos * flip, -sin, tx], 1), torch.stack([sin * flip, cos, ty], 1)], 1
        ).to(x.dtype)
        grid = F.affine_grid(theta, list(x.shape), align_corners=False)
        x = F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)
    elif cfg.flip > 0:
        x = torch.where((flip < 0).view(n, 1, 1, 1), x.flip(-1), x)
    if cfg.blur > 0:
        x = gaussian_blur(x, torch.where(u(n) < cfg.blur, 0.4 + u(n) * 1.1, torch.zeros(n, device=dev)))
    if cfg.noise > 0:
        sel = (u(n) < 0.5).float().view(n, 1, 1, 1)
        x = x + sel * cfg.noise * torch.randn(x.shape, generator=gen).to(dev)
    if cfg.erase > 0:
        s = x.shape[-1]
        area = (0.02 + u(n) * 0.18) * s * s
        aspect = torch.exp((u(n) * 2 - 1) * math.log(3.0))
        h = (area * aspect).sqrt().clamp(1, s).long()
        w = (area / aspect).sqrt().clamp(1, s).long()
        y0 = (u(n) * (s - h + 1).float()).long()
        x0 = (u(n) * (s - w + 1).float()).long()
        ar = torch.arange(s, device=dev)
        my = (ar[None, :] >= y0[:, None]) & (ar[None, :] < (y0 + h)[:, None])
        mx = (ar[None, :] >= x0[:, None]) & (ar[None, :] < (x0 + w)[:, None])
        mask = (my[:, :, None] & mx[:, None, :]) & (u(n) < cfg.erase).view(n, 1, 1)
        fill = torch.randn(x.shape, generator=gen).to(dev)
        x = torch.where(mask[:, None], fill, x)
    return x
