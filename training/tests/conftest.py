"""Shared fixtures: a tiny FER2013 sample copied to a temporary folder at test time (never into the repo).

The source is $EMOJI_MIRROR_DATA, else ../shared/data/fer2013 relative to the repository root; tests that
need it are skipped with a clear reason when it is missing.
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

TRAINING = Path(__file__).resolve().parents[1]
REPO = TRAINING.parent
sys.path.insert(0, str(TRAINING))

from emoji_train.contract import load_contract  # noqa: E402


def fer_root() -> Path:
    return Path(os.environ.get("EMOJI_MIRROR_DATA", REPO.parent / "shared" / "data" / "fer2013"))


@pytest.fixture(scope="session")
def contract():
    return load_contract()


@pytest.fixture(autouse=True, scope="session")
def _private_cache(tmp_path_factory):
    """Decoded-data cache in a temporary folder, so tests neither read nor write the user's cache."""
    old = os.environ.get("EMOJI_MIRROR_CACHE")
    os.environ["EMOJI_MIRROR_CACHE"] = str(tmp_path_factory.mktemp("cache"))
    yield
    if old is None:
        os.environ.pop("EMOJI_MIRROR_CACHE", None)
    else:
        os.environ["EMOJI_MIRROR_CACHE"] = old


def sample_fer(dst: Path, per_class: dict, splits=("train", "val"), seed: int = 0) -> Path:
    """Copy per_class[name] random images of each class of each split into dst/<split>/<class>/."""
    src = fer_root()
    if not (src / "train").is_dir():
        pytest.skip(f"FER2013 not found at {src} (set EMOJI_MIRROR_DATA)")
    rng = np.random.default_rng(seed)
    for split in splits:
        for cls, n in per_class.items():
            files = sorted((src / split / cls).iterdir())
            pick = rng.choice(len(files), size=min(n, len(files)), replace=False)
            out = dst / split / cls
            out.mkdir(parents=True, exist_ok=True)
            for i in pick:
                shutil.copyfile(files[i], out / files[i].name)
    return dst


@pytest.fixture(scope="session")
def tiny_fer(tmp_path_factory, contract):
    """~40 train and 12 val images per class, all seven classes."""
    return sample_fer(tmp_path_factory.mktemp("fer_tiny"), {c: 40 for c in contract.labels} | {}, seed=1)


def run_script(script, args, env=None, timeout=600, check=True):
    """Run training/<script> in a subprocess (1 thread), return the completed process; fail with its output."""
    e = dict(os.environ, OMP_NUM_THREADS="1", **(env or {}))
    p = subprocess.run([sys.executable, str(TRAINING / script), *map(str, args)], cwd=REPO, env=e,
                       capture_output=True, text=True, timeout=timeout)
    if check and p.returncode != 0:
        raise AssertionError(f"{script} {' '.join(map(str, args))} failed ({p.returncode}):\n{p.stdout}\n{p.stderr}")
    return p


def run_train(args, **kw):
    return run_script("train.py", args, **kw)


def run_tool(args, **kw):
    return run_script("tools.py", args, **kw)
