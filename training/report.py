"""Redraw every plot of a training run from its saved files, at any time (even while it trains).

    python training/report.py --run training/runs/cpu --out models
    python training/report.py --history training/runs/cpu/history.csv --eval eval.json --out models

--run DIR uses DIR/history.csv and, for the confusion matrix and per-class accuracy, --eval if given, else
DIR/eval_val.json (written by train.py at the end of a run). --eval takes train.py's JSON or the Rust
evaluator's (`emoji-mirror evaluate --data ../shared/data/fer2013/val --model M --json > eval.json`).
"""

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from emoji_train.report import markdown, redraw  # noqa: E402


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    p.add_argument("--run", type=Path, help="a run folder written by train.py")
    p.add_argument("--history", type=Path, help="history.csv (default: RUN/history.csv)")
    p.add_argument("--eval", type=Path, help="evaluation JSON (default: RUN/eval_val.json when it exists)")
    p.add_argument("--out", type=Path, help="where the PNGs go (default: the run folder)")
    p.add_argument("--prefix", default="", help="file name prefix, e.g. 'emotion_'")
    p.add_argument("--markdown", action="store_true", help="also print the evaluation's tables as Markdown")
    a = p.parse_args()
    history = a.history or (a.run / "history.csv" if a.run else None)
    evaluation = a.eval or (a.run / "eval_val.json" if a.run and (a.run / "eval_val.json").exists() else None)
    out = a.out or a.run or Path(".")
    if history is None and evaluation is None:
        p.error("give --run, --history or --eval")
    for f in redraw(history, evaluation, out, a.prefix):
        print(f"wrote {f}")
    if a.markdown and evaluation is not None:
        print(markdown(evaluation))
    return 0


if __name__ == "__main__":
    sys.exit(main())
