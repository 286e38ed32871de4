"""Helpers every core node shares: devices, the error wording, unpacking the sockets.

The checks themselves are svd_core's; `run_or_explain` is the one place that words them
for the node that called.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import comfy.model_management
import torch

from ..svd_core import Attribute
from ..svd_core.attribute import require_attribute
from ..svd_core.decomposition import require_svd
from .types import SingularLatent

T = TypeVar("T")


def compute_device() -> torch.device:
    """Where the SVDs run: ComfyUI's torch device (GPU when there is one)."""
    return comfy.model_management.get_torch_device()


def latent_device() -> torch.device:
    """Where LATENTs live between nodes (CPU on most setups)."""
    return comfy.model_management.intermediate_device()


def run_or_explain(node: str, fn: Callable[[], T]) -> T:
    """Run ``fn``; a ValueError (bad input, from svd_core) comes back prefixed with the node's
    display name so the user knows which box to fix. Cancel and other exceptions pass."""
    try:
        return fn()
    except ValueError as exc:
        raise ValueError(f"{node}: {exc}") from exc


def as_singular(node: str, value: Any, what: str = "latent_svd") -> SingularLatent:
    """The SingularLatent on a LATENT_SVD input (a bare LatentSVD is accepted too)."""
    if isinstance(value, SingularLatent):
        return value
    return SingularLatent(svd=run_or_explain(node, lambda: require_svd(value, f"input '{what}'")))


def as_attribute(node: str, value: Any, what: str = "attribute") -> Attribute:
    """The Attribute on an SVD_ATTRIBUTE input."""
    return run_or_explain(node, lambda: require_attribute(value, f"input '{what}'"))
