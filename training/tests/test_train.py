"""train.py end to end on a tiny FER sample: history/checkpoints, resume equivalence, DDP with two gloo processes."""

import csv
import os
import signal
import subprocess
import sys
import time

import pytest
import torch

from conftest import REPO, TRAINING, run_train

TINY = ["--preset", "tiny", "--limit-train", "0", "--limit-val", "0", "--batch-size", "32"]


def history(run):
    with open(run / "history.csv", newline="") as f:
        return list(csv.DictReader(f))


def same_metrics(a, b):
    assert [r["epoch"] for r in a] == [r["epoch"] for r in b]
    for ra, rb in zip(a, b):
        for k in ("train_acc", "train_f1", "val_acc", "val_precision", "val_recall", "val_f1", "ema_val_acc",
                  "ema_val_f1", "lr"):
            assert ra[k] == rb[k], (k, ra, rb)
        for k in ("train_loss", "val_loss"):
            assert float(ra[k]) == pytest.approx(float(rb[k]), abs=1e-4), (k, ra, rb)


def test_resume_after_stop_gives_the_same_run(tiny_fer, tmp_path):
    """With the moving average of the weights (--ema) too: its state is in the checkpoint."""
    full, cut = tmp_path / "full", tmp_path / "cut"
    run_train([*TINY, "--data", tiny_fer, "--epochs", 3, "--ema", 0.9, "--out", full])
    run_train([*TINY, "--data", tiny_fer, "--epochs", 3, "--ema", 0.9, "--out", cut, "--stop-after", 1])
    assert len(history(cut)) == 1 and (cut / "ckpt.pt").exists() and not (cut / "eval_val.json").exists()
    ck = torch.load(cut / "ckpt.pt", weights_only=False)
    assert ck["epoch"] == 1 and {"model", "optimizer", "scheduler", "rng", "config", "best"} <= set(ck)
    p = run_train(["--out", cut, "--resume"])
    assert "resumed from" in p.stdout
    same_metrics(history(full), history(cut))
    assert (cut / "eval_val.json").read_text() == (full / "eval_val.json").read_text().replace(str(full), str(cut))
    assert history(full)[-1]["ema_val_acc"] != "" and (cut / "best_ema.pt").exists()
    assert (cut / "eval_val_ema.json").read_text() == (full / "eval_val_ema.json").read_text().replace(str(full), str(cut))


def test_resume_refuses_flags_it_would_drop(tiny_fer, tmp_path):
    cut = tmp_path / "cut"
    run_train([*TINY, "--data", tiny_fer, "--epochs", 2, "--out", cut, "--stop-after", 1])
    p = run_train(["--out", cut, "--resume", "--epochs", 5, "--lr", 0.1], check=False)
    assert p.returncode != 0
    assert "--epochs" in p.stderr and "--lr" in p.stderr and "ignore" in p.stderr
    assert len(history(cut)) == 1, "a refused resume must not touch the run"


def test_old_subcommands_point_to_tools(tmp_path):
    p = run_train(["export", "--ckpt", tmp_path / "x.pt"], check=False)
    assert p.returncode != 0 and "tools.py" in p.stderr


def test_resume_after_kill_9_mid_epoch(tiny_fer, tmp_path):
    """kill -9 while epoch 2 trains; --resume redoes epoch 2 from the epoch-1 checkpoint."""
    full, cut = tmp_path / "full", tmp_path / "cut"
    args = [*TINY, "--data", tiny_fer, "--epochs", 3, "--batch-size", 8]
    run_train([*args, "--out", full])
    env = dict(os.environ, OMP_NUM_THREADS="1")
    proc = subprocess.Popen([sys.executable, str(TRAINING / "train.py"), *map(str, args), "--out", str(cut)],
                            cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        for line in proc.stdout:  # wait for the end of epoch 1, then kill at once
            if line.startswith("epoch   1/"):
                break
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL
    assert 1 <= len(history(cut)) <= 2
    run_train(["--out", cut, "--resume"])
    same_metrics(history(full), history(cut))


def test_ddp_two_gloo_processes(tiny_fer, tmp_path):
    out = tmp_path / "ddp"
    env = dict(os.environ, OMP_NUM_THREADS="1")
    t = time.time()
    p = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
                        str(TRAINING / "train.py"), *TINY, "--data", str(tiny_fer), "--epochs", "2", "--out", str(out)],
                       cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stdout + p.stderr
    assert "world 2" in p.stdout
    assert p.stdout.count("epoch   2/2") == 1  # only rank 0 reports and writes
    rows = history(out)
    assert [r["epoch"] for r in rows] == ["1", "2"]
    assert (out / "best.pt").exists() and (out / "eval_val.json").exists()
    assert not list(out.glob("*.tmp")), "a temporary file was left behind"
    assert time.time() - t < 300


def test_distillation_term_is_zero_only_when_the_student_matches_the_teacher():
    sys.path.insert(0, str(TRAINING))
    from train import distillation_loss

    teacher = torch.tensor([[2.0, 0.5, -1.0], [0.0, 3.0, 1.0]])
    assert distillation_loss(teacher.clone(), teacher, 4.0).item() == pytest.approx(0.0, abs=1e-6)
    student = torch.zeros(2, 3, requires_grad=True)
    loss = distillation_loss(student, teacher, 4.0)
    assert loss.item() > 0
    loss.backward()
    # a gradient step moves the student's logits towards the teacher's ranking
    assert (student.grad[0].argmin() == 0) and (student.grad[1].argmin() == 1)


def test_a_missing_teacher_is_refused_before_training(tiny_fer, tmp_path):
    p = subprocess.run([sys.executable, str(TRAINING / "train.py"), "--preset", "tiny", "--data", str(tiny_fer),
                        "--out", str(tmp_path / "run"), "--teacher", str(tmp_path / "none.pt")],
                       capture_output=True, text=True, timeout=300)
    assert p.returncode != 0 and "--teacher: no checkpoint at" in p.stderr


def test_several_teachers_are_averaged_and_ema_weights_are_taken_on_request(tiny_fer, tmp_path):
    """The distillation campaign's teacher: two finished runs' moving averages (`PATH#ema`), logits averaged."""
    sys.path.insert(0, str(TRAINING))
    from train import Config, load_teacher

    run = tmp_path / "teacher"
    run_train([*TINY, "--data", tiny_fer, "--epochs", 1, "--ema", 0.9, "--out", run])
    ck = torch.load(run / "ckpt.pt", weights_only=False)
    x = torch.randn(5, 1, 48, 48)
    ema = load_teacher(Config(teacher=f"{run / 'ckpt.pt'}#ema"), torch.device("cpu"), torch.contiguous_format, False)
    raw = load_teacher(Config(teacher=str(run / "ckpt.pt")), torch.device("cpu"), torch.contiguous_format, False)
    for name, value in ema.state_dict().items():
        assert torch.equal(value, ck["ema"][name].float()), name
    assert any(not torch.equal(a, b) for a, b in zip(ema.state_dict().values(), raw.state_dict().values()))
    both = load_teacher(Config(teacher=f"{run / 'ckpt.pt'}#ema, {run / 'ckpt.pt'}"), torch.device("cpu"),
                        torch.contiguous_format, False)
    assert torch.allclose(both(x), (ema(x) + raw(x)) / 2, atol=1e-5)
    assert not any(p.requires_grad for p in both.parameters())

    student = tmp_path / "student"
    p = run_train([*TINY, "--data", tiny_fer, "--epochs", 1, "--out", student,
                   "--teacher", f"{run / 'ckpt.pt'}#ema,{run / 'best.pt'}"])
    assert "2 teacher(s), logits averaged" in p.stdout and len(history(student)) == 1
    with pytest.raises(SystemExit, match="after '#' comes 'model' or 'ema'"):
        load_teacher(Config(teacher=f"{run / 'ckpt.pt'}#best"), torch.device("cpu"), torch.contiguous_format, False)


def test_a_run_cuts_faces_where_its_framings_table_says(tiny_fer, tmp_path):
    """`--aug framed` reads `emoji-mirror framings`' table for the train split, and is refused without one."""
    table = tmp_path / "framings.csv"
    rows, found = 0, 0
    with open(table, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["class", "file", "view", "found", "centre_x", "centre_y", "side", "angle"])
        for folder in sorted((tiny_fer / "train").iterdir()):
            for k, f in enumerate(sorted(folder.iterdir())):
                w.writerow([folder.name, f.name, 0, "1", 0.02, -0.03, 0.9, 0.05])
                w.writerow([folder.name, f.name, 1, *(["0", "", "", "", ""] if k % 3 == 0 else ["1", 0, 0, 1.1, 0])])
                rows, found = rows + 2, found + (1 if k % 3 == 0 else 2)
    run = tmp_path / "framed"
    p = run_train([*TINY, "--data", tiny_fer, "--epochs", 1, "--aug", "framed", "--framings", table, "--out", run])
    assert f"framings: 2 camera frames a face, {found / rows:.1%} found" in p.stdout and len(history(run)) == 1
    p = run_train([*TINY, "--data", tiny_fer, "--epochs", 1, "--aug", "framed", "--out", tmp_path / "no-table"],
                  check=False)
    assert p.returncode != 0 and "give --framings" in p.stderr
