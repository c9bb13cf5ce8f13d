#!/usr/bin/env bash
# The GPU run, as one call of the device tool (15 minutes of device time in all, start and transfers included).
#
#   here, once:   python training/tools.py pack --jpeg --out .data/fer2013-jpeg.npz      # 47 MiB, git-ignored
#   the device:   run(command="bash training/gpu_run.sh", carry=[".data"], timeout_s=600)
#   CPU check:    PRESET=tiny bash training/gpu_run.sh                                   # what the tests run
#
# Two stages, each with its own time budget (it stops the stage early, finishing with the best epoch):
#   1. teacher/  the `gpu-teacher` preset: vgg-48, 16x the shipped net's MACs, never shipped;
#   2. run/      the `gpu-student` preset: the shipped alexnet-48, distilled from the teacher's best.pt.
# TEACHER=<a best.pt> skips stage 1. Extra flags go to both stages. Everything lands under $OUT as it is written
# (history.csv, best.pt, best_ema.pt, ckpt.pt, eval_val*.json, config.json; teacher.log, train.log, env.txt).
# Then, back here: python training/tools.py export --ckpt <files_at>/run/best.pt --out-dir models
# and the Rust evaluator decide whether it ships (training/README.md, "The campaign").
set -euo pipefail
cd "$(dirname "$0")/.."
OUT="${OUT:-$(mktemp -d)}"
PRESET="${PRESET:-gpu}"
DATA="${DATA:-.data/fer2013-jpeg.npz}"
PYTHON="${PYTHON:-$(command -v python3 || command -v python)}"
mkdir -p "$OUT"

[ -f "$DATA" ] || { echo "error: $DATA not found: make it with 'python training/tools.py pack --jpeg --out $DATA' and carry .data" >&2; exit 2; }
{
  date -u
  "$PYTHON" -c 'import torch, sys; print("python", sys.version.split()[0], "torch", torch.__version__, "cuda", torch.cuda.is_available(), torch.cuda.get_device_name(0) if torch.cuda.is_available() else "-")' || true
  nvidia-smi --query-gpu=name,memory.total --format=csv 2>/dev/null || echo "no nvidia-smi"
} >"$OUT/env.txt" 2>&1
cat "$OUT/env.txt"

if [ "$PRESET" = tiny ]; then
  TEACHER_FLAGS=(--preset tiny --arch vgg-48); STUDENT_FLAGS=(--preset tiny)
else
  TEACHER_FLAGS=(--preset "$PRESET-teacher"); STUDENT_FLAGS=(--preset "$PRESET-student")
fi

# The logs go to $OUT as they are written, so a run cut by the device's limit still brings back what it did.
if [ -z "${TEACHER:-}" ]; then
  "$PYTHON" training/train.py "${TEACHER_FLAGS[@]}" --data "$DATA" --out "$OUT/teacher" --no-progress "$@" 2>&1 \
    | tee "$OUT/teacher.log"
  # the better on PublicTest (val) of the teacher's best raw and best weight-averaged checkpoints
  TEACHER=$("$PYTHON" -c 'import os, sys, torch
have = [p for p in sys.argv[1:] if os.path.exists(p)]
print(max(have, key=lambda p: torch.load(p, map_location="cpu", weights_only=False)["metrics"]["accuracy"]))' \
    "$OUT/teacher/best.pt" "$OUT/teacher/best_ema.pt")
fi
"$PYTHON" training/train.py "${STUDENT_FLAGS[@]}" --teacher "$TEACHER" --data "$DATA" --out "$OUT/run" --no-progress "$@" 2>&1 \
  | tee "$OUT/train.log"
