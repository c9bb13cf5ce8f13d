#!/usr/bin/env bash
# The GPU run, as one call of the device tool (15 minutes of device time in all, start and transfers included).
#
#   here, once:   python training/tools.py pack --jpeg --out .data/fer2013-jpeg.npz      # 47 MiB, git-ignored
#   the device:   run(command="bash training/gpu_run.sh", carry=[".data"], timeout_s=570)
#   CPU check:    PRESET=tiny bash training/gpu_run.sh                                   # what the tests run
#
# Trains the `gpu` preset (its own 7-minute budget stops it early, finishing with the best epoch) and writes
# under $OUT: run/ (history.csv, best.pt, best_ema.pt, ckpt.pt, eval_val*.json, config.json), train.log,
# env.txt. Then, back here: python training/tools.py export --ckpt <files_at>/run/best.pt --out-dir models
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

# The log goes to $OUT as it is written, so a run cut by the device's limit still brings back what it did.
"$PYTHON" training/train.py --preset "$PRESET" --data "$DATA" --out "$OUT/run" --no-progress "$@" 2>&1 | tee "$OUT/train.log"
