"""Schema features that depend on the ComfyUI version, decided once for every node.

ComfyUI 0.33's V3 API takes keywords that 0.3.75 rejects with a TypeError at import
(``advanced=`` on inputs, ``search_aliases=`` on schemas). Nodes spread these dicts into their
calls, so one pack runs on both. (A seed's control-after-generate default is set in the browser,
web/js/fixed_seed.js: neither frontend reads a default mode from the schema as a mode.)
"""

from __future__ import annotations

import dataclasses
import inspect
from typing import Any

from comfy_api.latest import io

_INPUT_KEYWORDS = inspect.signature(io.Int.Input.__init__).parameters
_SCHEMA_FIELDS = {f.name for f in dataclasses.fields(io.Schema)}

#: Words the node search matches besides display names: ComfyUI says "SVD" for Stable Video
#: Diffusion, so people who know the method look for these.
PACK_ALIASES = (
    "singular value decomposition",
    "SVD",
    "attribute vector integration",
    "AVI",
    "latent edit",
)


def advanced() -> dict[str, Any]:
    """``advanced=True`` where the version can tuck an input away under 'advanced'."""
    return {"advanced": True} if "advanced" in _INPUT_KEYWORDS else {}


def search_aliases(*extra: str) -> dict[str, Any]:
    """The schema keyword that lets the node search find a node by the pack's words."""
    if "search_aliases" not in _SCHEMA_FIELDS:
        return {}
    return {"search_aliases": [*PACK_ALIASES, *extra]}
