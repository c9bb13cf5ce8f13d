#!/usr/bin/env bash
# A GPU fine-tune of the shipped float weights for camera crops, as one call of the device tool:
#
#   the device:   run(command="bash training/gpu_finetune.sh", carry=[".data"], timeout_s=300)
#   CPU check:    PRESET=tiny bash training/gpu_finetune.sh                    # what the tests run
#
# Two runs side by side on the one device (each is bound by per-step overhead, not by the GPU): `camera` (the
# `gpu-camera` preset: wider framing jitter, tilt and blur) and `control` (the same fine-tune with the `full`
# augmentation of the campaign), so that what the camera augmentation adds is measured apart from what more
# training adds. Only the weights and the logs come back under $OUT (the device returns a handful of files):
# camera.log, control.log, camera_best.pt, camera_last.pt, control_best.pt, control_last.pt.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT="${OUT:-$(mktemp -d)}"
PRESET="${PRESET:-gpu-camera}"
DATA="${DATA:-.data/fer2013-jpeg.npz}"
PYTHON="${PYTHON:-$(command -v python3 || command -v python)}"
WORK="$(mktemp -d)"
mkdir -p "$OUT"
[ -f "$DATA" ] || { echo "error: $DATA not found: make it with 'python training/tools.py pack --jpeg --out $DATA' and carry .data" >&2; exit 2; }

FLAGS=(--preset "$PRESET")
[ "$PRESET" = tiny ] && FLAGS+=(--init models/emotion_fp32.onnx --aug camera)
train() {  # name, extra flags...
  local name="$1"; shift
  "$PYTHON" training/train.py "${FLAGS[@]}" --data "$DATA" --out "$WORK/$name" --no-progress "$@" >"$OUT/$name.log" 2>&1
}
train camera "$@" & camera=$!
train control --aug full "$@" & control=$!
status=0
wait "$camera" || status=$?
wait "$control" || status=$?
for name in camera control; do
  [ -f "$WORK/$name/best.pt" ] && cp "$WORK/$name/best.pt" "$OUT/${name}_best.pt"
  [ -f "$WORK/$name/ckpt.pt" ] && "$PYTHON" -c 'import sys, torch
ck = torch.load(sys.argv[1], map_location="cpu", weights_only=False)
torch.save({k: ck[k] for k in ("model", "config", "epoch")} | {"metrics": {}}, sys.argv[2])' \
    "$WORK/$name/ckpt.pt" "$OUT/${name}_last.pt"
  tail -n 3 "$OUT/$name.log"
done
exit "$status"
