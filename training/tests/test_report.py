"""report.py redraws every plot from a history file and either evaluation JSON shape."""

import json
import subprocess
import sys

from conftest import REPO, TRAINING

HEADER = "epoch,train_loss,train_acc,train_precision,train_recall,train_f1,val_loss,val_acc,val_precision,val_recall,val_f1,lr,seconds\n"


def test_redraw_from_history_and_rust_or_python_evaluation(tmp_path):
    (tmp_path / "history.csv").write_text(HEADER + "1,1.8,0.3,0.2,0.2,0.2,1.5,0.4,0.3,0.3,0.3,0.001,10\n"
                                          "2,1.6,0.4,0.3,0.3,0.3,1.4,0.5,0.4,0.4,0.4,0.0005,10\n")
    labels = ["a", "b", "c"]
    matrix = [[5, 1, 0], [2, 3, 1], [0, 0, 4]]
    rust = {"images": 16, "accuracy": 0.75, "confusion": {"labels": labels, "matrix": matrix}, "model": "m.onnx"}
    py = {"labels": labels, "confusion": matrix, "accuracy": 0.75}
    for name, doc in (("rust", rust), ("py", py)):
        (tmp_path / f"{name}.json").write_text(json.dumps(doc))
        out = tmp_path / f"out_{name}"
        p = subprocess.run([sys.executable, str(TRAINING / "report.py"), "--history", str(tmp_path / "history.csv"),
                            "--eval", str(tmp_path / f"{name}.json"), "--out", str(out), "--markdown"],
                           cwd=REPO, capture_output=True, text=True, timeout=120)
        assert p.returncode == 0, p.stderr
        for png in ("curves.png", "confusion.png", "per_class.png"):
            assert (out / png).stat().st_size > 1000
        assert "accuracy 75.00% on 16 images" in p.stdout
        assert "| **b** | 2 | 3 | 1 |" in p.stdout
