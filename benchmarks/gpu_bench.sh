#!/usr/bin/env bash
# The core benchmarks (decompose + recompose sweep, learning, peak memory) on CUDA, prepared to
# run in ONE short call on a lent GPU machine (about 2-4 minutes on an H100; the numpy loop
# baseline runs on the host CPU there).
#
#   bash benchmarks/gpu_bench.sh                 # on a machine with a CUDA build of torch
#   DEVICE=cpu QUICK=1 bash benchmarks/gpu_bench.sh   # dry run of the script itself on CPU
#
# Writes all_cuda.json (all_quick.json for QUICK=1 on CPU) and gpu_bench.log into $OUT when
# that is set (the device tool brings $OUT back), else into benchmarks/results/.
# Needs python3 with torch, numpy, safetensors (and psutil, optional); no ComfyUI: the host
# section of run_all.py is CPU-only and is left out here.
set -euo pipefail
cd "$(dirname "$0")/.."

PY=${PYTHON:-python3}
DEVICE=${DEVICE:-cuda}
REPS=${REPS:-7}
OUT_DIR=${OUT:-benchmarks/results}
LIMIT=${GPU_BENCH_TIMEOUT:-480}
mkdir -p "$OUT_DIR"
export PYTHONUNBUFFERED=1

{
  echo "gpu_bench.sh $(date -u +%Y-%m-%dT%H:%M:%SZ) device=$DEVICE reps=$REPS"
  if command -v nvidia-smi >/dev/null; then
    nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv || true
  fi
  "$PY" - "$DEVICE" <<'EOF'
import sys

import torch

device = sys.argv[1]
print("torch", torch.__version__, "cuda", torch.version.cuda)
if device.startswith("cuda"):
    if not torch.cuda.is_available():
        sys.exit("gpu_bench.sh: torch sees no CUDA device; run it on the GPU machine "
                 "(or DEVICE=cpu QUICK=1 for a dry run)")
    print("device", torch.cuda.get_device_name(0))
EOF
  quick=()
  if [ "${QUICK:-0}" = "1" ]; then quick=(--quick); fi
  timeout "$LIMIT" "$PY" benchmarks/run_all.py --device "$DEVICE" --only core,learn,memory \
    --reps "$REPS" --out-dir "$OUT_DIR" "${quick[@]}" \
    --note "gpu_bench.sh on $(hostname); numpy loop baseline on the host CPU"
} 2>&1 | tee "$OUT_DIR/gpu_bench.log"
