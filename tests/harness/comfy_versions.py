"""Every difference between the ComfyUI versions the suite runs on (0.3.75 and 0.33), in one place.

Tests never branch on a version themselves: they ask :data:`COMPAT`. The version is read from the
tree at ``$COMFYUI_PATH`` (``comfyui_version.py``) without importing ComfyUI, so server-only and
browser tests can use it too.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any


def _parse(text: str) -> tuple[int, ...]:
    return tuple(int(p) for p in re.findall(r"\d+", text)[:3])


def tree_version(comfyui: Path | None) -> tuple[int, ...]:
    """The ComfyUI version of a tree, e.g. (0, 33, 0); () when unknown."""
    if comfyui is None:
        return ()
    try:
        text = (comfyui / "comfyui_version.py").read_text()
    except OSError:
        return ()
    match = re.search(r'__version__\s*=\s*"([^"]+)"', text)
    return _parse(match.group(1)) if match else ()


@dataclass(frozen=True)
class ComfyCompat:
    """What the suite must know about the ComfyUI under test."""

    version: tuple[int, ...]

    @property
    def at_least_0_33(self) -> bool:
        return self.version >= (0, 33)

    @staticmethod
    def cache_args() -> dict[str, int]:
        """``PromptExecutor`` cache arguments: 0.33 reads ``ram_inactive``, 0.3.75 ignores it."""
        return {"lru": 0, "ram": 0, "ram_inactive": 0}

    @staticmethod
    def cached_output(cache: Any, node_id: str) -> Any:
        """An output-cache entry: 0.33's ``get`` is a coroutine, ``get_local`` the plain read."""
        getter = getattr(cache, "get_local", None) or cache.get
        return getter(node_id)


def _comfyui_path() -> Path | None:
    value = os.environ.get("COMFYUI_PATH")
    return Path(value) if value else None


COMPAT = ComfyCompat(tree_version(_comfyui_path()))
