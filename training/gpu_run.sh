#!/usr/bin/env bash
# A GPU run, as one call of the device tool (15 minutes of device time in all, start and transfers included).
#
#   here, once:   python training/tools.py pack --jpeg --out .data/fer2013-jpeg.npz      # 47 MiB, git-ignored
#   the device:   run(command="bash training/gpu_run.sh", carry=[".data"], timeout_s=600)
#                 run(command="RECIPE=finetune bash training/gpu_run.sh", carry=[".data"], timeout_s=300)
#   CPU check:    PRESET=tiny bash training/gpu_run.sh                                   # what the tests run
#
# RECIPE=distill (default), two stages, each with its own time budget (it stops the stage early, finishing with the
# best epoch):
#   1. teacher/  the `gpu-teacher` preset: vgg-48, 16x the shipped net's MACs, never shipped;
#   2. run/      the `gpu-student` preset: the shipped alexnet-48, distilled from the teacher's best.pt.
#   TEACHER=<a best.pt> skips stage 1. Everything lands under $OUT as it is written (history.csv, best.pt,
#   best_ema.pt, ckpt.pt, eval_val*.json, config.json; teacher.log, train.log, env.txt).
# RECIPE=finetune: two fine-tunes of the shipped float weights side by side on the one device (each is bound by
#   per-step overhead, not by the GPU): `camera` (the `gpu-camera` preset: wider framing jitter, tilt and blur) and
#   `control` (the same with the campaign's `full` augmentation), so that what the camera augmentation adds is
#   measured apart from what more training adds. Only weights and logs come back (the device returns a handful of
#   files): camera.log, control.log, camera_best.pt, camera_last.pt, control_best.pt, control_last.pt.
# Extra flags go to every training run. Then, back here: python training/tools.py export --ckpt <a .pt> --out-dir
# <somewhere> and the Rust evaluator decide whether it ships (training/README.md, "The campaign").
set -euo pipefail
cd "$(dirname "$0")/.."
OUT="${OUT:-$(mktemp -d)}"
RECIPE="${RECIPE:-distill}"
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

train() {  # out folder, flags...
  local out="$1"; shift
  "$PYTHON" training/train.py --data "$DATA" --out "$out" --no-progress "$@"
}

distill() {
  local teacher_flags=(--preset "$PRESET-teacher") student_flags=(--preset "$PRESET-student")
  [ "$PRESET" = tiny ] && teacher_flags=(--preset tiny --arch vgg-48) && student_flags=(--preset tiny)
  # The logs go to $OUT as they are written, so a run cut by the device's limit still brings back what it did.
  if [ -z "${TEACHER:-}" ]; then
    train "$OUT/teacher" "${teacher_flags[@]}" "$@" 2>&1 | tee "$OUT/teacher.log"
    # the better on PublicTest (val) of the teacher's best raw and best weight-averaged checkpoints
    TEACHER=$("$PYTHON" -c 'import os, sys, torch
have = [p for p in sys.argv[1:] if os.path.exists(p)]
print(max(have, key=lambda p: torch.load(p, map_location="cpu", weights_only=False)["metrics"]["accuracy"]))' \
      "$OUT/teacher/best.pt" "$OUT/teacher/best_ema.pt")
  fi
  train "$OUT/run" "${student_flags[@]}" --teacher "$TEACHER" "$@" 2>&1 | tee "$OUT/train.log"
}

finetune() {
  local flags=(--preset "$PRESET-camera") work status=0 name
  [ "$PRESET" = tiny ] && flags=(--preset tiny --init models/emotion_fp32.onnx --aug camera)
  work="$(mktemp -d)"
  rm -f "$OUT/env.txt"  # only the six files below come back from the device
  train "$work/camera" "${flags[@]}" "$@" >"$OUT/camera.log" 2>&1 & local camera=$!
  train "$work/control" "${flags[@]}" --aug full "$@" >"$OUT/control.log" 2>&1 & local control=$!
  wait "$camera" || status=$?
  wait "$control" || status=$?
  for name in camera control; do
    [ -f "$work/$name/best.pt" ] && cp "$work/$name/best.pt" "$OUT/${name}_best.pt"
    [ -f "$work/$name/ckpt.pt" ] && "$PYTHON" -c 'import sys, torch
ck = torch.load(sys.argv[1], map_location="cpu", weights_only=False)
torch.save({k: ck[k] for k in ("model", "config", "epoch")} | {"metrics": {}}, sys.argv[2])' \
      "$work/$name/ckpt.pt" "$OUT/${name}_last.pt"
    tail -n 3 "$OUT/$name.log"
  done
  return "$status"
}

case "$RECIPE" in
  distill | finetune) "$RECIPE" "$@" ;;
  *) echo "error: RECIPE=$RECIPE: choose distill or finetune" >&2; exit 2 ;;
esac
