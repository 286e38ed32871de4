"""Where the test worlds come from: ``benchmarks/semantic/`` of a git checkout of this pack.

The worlds' code and weights (``benchmarks/semantic/models.py``, ``weights/*.safetensors``,
3.6 MB and 8.1 MB) are not in the Comfy Registry archive, which holds only the nodes; a pack
installed from the Registry finds neither and says how to get them.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from types import ModuleType
from typing import Any

PACK_ROOT = Path(__file__).resolve().parents[2]
WORLDS = ("faces", "placed")
CLONE_HINT = (
    "the test worlds live in the pack's git repository (benchmarks/semantic/), which the "
    "Comfy Registry archive leaves out; install the pack with `git clone "
    "https://github.com/latent-svd-edit/latent-svd-edit` into ComfyUI/custom_nodes instead"
)


def world_models() -> ModuleType:
    """``benchmarks.semantic.models`` of this checkout, imported as part of the pack."""
    package = __name__.rsplit(".", 3)[0]  # the pack's package, whatever ComfyUI named it
    try:
        return importlib.import_module(f"{package}.benchmarks.semantic.models")
    except ImportError as exc:
        raise FileNotFoundError(f"{CLONE_HINT} (missing: {exc.name})") from exc


def load(name: str) -> Any:
    """The benchmark's ``World`` of ``name`` ("faces" or "placed"), weights loaded, eval mode."""
    if name not in WORLDS:
        raise ValueError(f"unknown test world '{name}'; choose one of {', '.join(WORLDS)}")
    models = world_models()
    path = models.KINDS[name].weights
    if not Path(path).is_file():
        raise FileNotFoundError(f"{CLONE_HINT} (missing: {path})")
    return models.load_world(name)
