#!/usr/bin/env bash
# Command 1: set everything up, then start ComfyUI with this pack at http://127.0.0.1:8188.
# Extra arguments go to ComfyUI's main.py (e.g. --port 8190). Uses the GPU when torch sees one.
# LSE_COMFYUI picks the ComfyUI (see setup.sh; default 0.3.75).
set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
env_file=$(bash "$REPO/scripts/setup.sh")
# shellcheck disable=SC1090
source "$env_file"
PYBIN="$LSE_VENV/bin/python"
device_args=()
if ! "$PYBIN" -c 'import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)' 2>/dev/null; then
  device_args=(--cpu)
fi
cd "$COMFYUI_PATH"
exec "$PYBIN" main.py "${device_args[@]}" --listen 127.0.0.1 --port 8188 "$@"
