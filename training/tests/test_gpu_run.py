"""training/gpu_run.sh, the one-call GPU run, on the CPU with the tiny preset and a JPEG pack of a FER sample."""

import json
import os
import subprocess
import sys

from conftest import REPO, TRAINING
from emoji_train import data as D


def test_gpu_run_script_trains_from_the_jpeg_pack(tiny_fer, tmp_path, contract):
    pack = tmp_path / "fer-jpeg.npz"
    D.pack_jpeg(tiny_fer, pack, contract)
    out = tmp_path / "out"
    env = dict(os.environ, OUT=str(out), PRESET="tiny", DATA=str(pack), OMP_NUM_THREADS="1",
               PYTHON=sys.executable)
    p = subprocess.run(["bash", str(TRAINING / "gpu_run.sh"), "--epochs", "1"], cwd=REPO, env=env,
                       capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stdout + p.stderr
    assert "torch" in (out / "env.txt").read_text()
    assert "best epoch 1" in (out / "teacher.log").read_text()  # stage 1: the teacher
    assert (out / "teacher" / "best.pt").exists()
    log = (out / "train.log").read_text()  # stage 2: the shipped net, distilled from it
    assert "distilling from" in log and "vgg-48" in log and "best epoch 1" in log
    ev = json.loads((out / "run" / "eval_val.json").read_text())
    assert ev["images"] == 280 and 0.0 <= ev["accuracy"] <= 1.0


def test_gpu_run_script_says_what_is_missing(tmp_path):
    env = dict(os.environ, OUT=str(tmp_path / "out"), DATA=str(tmp_path / "none.npz"))
    p = subprocess.run(["bash", str(TRAINING / "gpu_run.sh")], cwd=REPO, env=env, capture_output=True, text=True,
                       timeout=60)
    assert p.returncode == 2 and "pack --jpeg" in p.stderr


def test_gpu_finetune_recipe_brings_back_two_runs_from_the_shipped_weights(tiny_fer, tmp_path, contract):
    pack = tmp_path / "fer-jpeg.npz"
    D.pack_jpeg(tiny_fer, pack, contract)
    out = tmp_path / "out"
    env = dict(os.environ, OUT=str(out), RECIPE="finetune", PRESET="tiny", DATA=str(pack), OMP_NUM_THREADS="1",
               PYTHON=sys.executable)
    p = subprocess.run(["bash", str(TRAINING / "gpu_run.sh"), "--epochs", "1"], cwd=REPO, env=env,
                       capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stdout + p.stderr
    assert sorted(f.name for f in out.iterdir()) == [
        "camera.log", "camera_best.pt", "camera_last.pt", "control.log", "control_best.pt", "control_last.pt"]
    assert "warm start from models/emotion_fp32.onnx" in (out / "camera.log").read_text()
    import torch

    augs = {n: torch.load(out / f"{n}_last.pt", weights_only=False)["config"]["aug"] for n in ("camera", "control")}
    assert augs == {"camera": "camera", "control": "full"}
