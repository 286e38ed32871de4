#!/usr/bin/env bash
# Command 2: set everything up, then run the whole test suite (arguments go to pytest).
# LSE_COMFYUI picks the ComfyUI to test against (see setup.sh), e.g.
#   LSE_COMFYUI=../shared/comfyui/comfyui-0.33.0.tar.gz bash scripts/test.sh tests/comfy
set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
env_file=$(bash "$REPO/scripts/setup.sh")
# shellcheck disable=SC1090
source "$env_file"
cd "$REPO"
echo "[test] ComfyUI $LSE_COMFY_VERSION at $COMFYUI_PATH" >&2
exec "$LSE_VENV/bin/python" -m pytest "$@"
