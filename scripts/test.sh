#!/usr/bin/env bash
# Command 2: set everything up, then run the whole test suite (arguments go to pytest).
set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bash "$REPO/scripts/setup.sh"
CACHE=${LSE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/latent-svd-edit}
# shellcheck disable=SC1091
source "$CACHE/env.sh"
cd "$REPO"
exec "$LSE_VENV/bin/python" -m pytest "$@"
