"""Helpers every core node shares: devices, error wording, input checks."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import comfy.model_management
import torch

from ..svd_core import Attribute, LatentSVD
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


def as_latent(node: str, value: Any, what: str = "latent") -> dict[str, Any]:
    """The LATENT dict on an input, checked (a dict with a 'samples' tensor)."""
    if isinstance(value, dict) and getattr(value.get("samples"), "is_nested", False):
        # comfy.nested_tensor.NestedTensor: several streams (e.g. video + audio) in one LATENT.
        raise ValueError(
            f"{node}: input '{what}' is a nested (multi-stream) latent, e.g. video plus audio; "
            "the singular value nodes edit a single image or video latent. Connect a "
            "single-stream LATENT (from an image or video model's sampler or empty latent)."
        )
    if not isinstance(value, dict) or not isinstance(value.get("samples"), torch.Tensor):
        raise ValueError(
            f"{node}: input '{what}' is not a LATENT (a dict with a 'samples' tensor); "
            "connect a LATENT output such as a KSampler's or 'Empty Latent Image'."
        )
    return value


def as_singular(node: str, value: Any, what: str = "latent_svd") -> SingularLatent:
    """The SingularLatent on a LATENT_SVD input (a bare LatentSVD is accepted too)."""
    if isinstance(value, SingularLatent):
        return value
    if isinstance(value, LatentSVD):
        return SingularLatent(svd=value)
    raise ValueError(
        f"{node}: input '{what}' is not a singular value decomposition "
        f"(got {type(value).__name__}); connect the output of 'Latent Singular Value Decompose'."
    )


def as_attribute(node: str, value: Any, what: str = "attribute") -> Attribute:
    if not isinstance(value, Attribute):
        raise ValueError(
            f"{node}: input '{what}' is not a singular value attribute "
            f"(got {type(value).__name__}); connect 'Learn Attribute from Pair' or "
            "'Load Singular Value Attribute'."
        )
    return value
