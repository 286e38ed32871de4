#!/usr/bin/env bash
# Command 2: set everything up, then run the whole test suite (arguments go to pytest).
# LSE_COMFYUI picks the ComfyUI to test against and LSE_FRONTEND its web UI (see setup.sh), e.g.
#   LSE_COMFYUI=../shared/comfyui/comfyui-0.33.0.tar.gz bash scripts/test.sh tests/comfy
# The browser tests need Chromium and its driver: installed here with apt when this runs as
# root, otherwise named in one line; pytest's summary lists the browser tests it could not run.
set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "[test] installing chromium and chromium-driver (apt) for the browser tests" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null
  else
    echo "[test] browser tests will be skipped: install chromium and chromium-driver" \
      "(e.g. sudo apt-get install chromium chromium-driver)" >&2
  fi
fi
env_file=$(bash "$REPO/scripts/setup.sh")
# shellcheck disable=SC1090
source "$env_file"
cd "$REPO"
echo "[test] ComfyUI $LSE_COMFY_VERSION${LSE_FRONTEND:+ (frontend $LSE_FRONTEND)} at $COMFYUI_PATH" >&2
exec "$LSE_VENV/bin/python" -m pytest "$@"
