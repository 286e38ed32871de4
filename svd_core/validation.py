"""Input checks where untrusted input enters: latent tensors (:func:`svd_core.decompose`),
numbers and index lists a caller types.

Every input is checked once, where it enters; the node layer only prefixes the node's display
name (``nodes/common.py``, ``PackNode``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TypeGuard

import torch

from .errors import SVDEditError

#: Input dtypes a latent may have; all of them are computed in float32.
SUPPORTED_DTYPES: tuple[torch.dtype, ...] = (
    torch.float16,
    torch.bfloat16,
    torch.float32,
    torch.float64,
)


def validate_latent(t: object, what: str = "latent") -> torch.Tensor:
    """Check that ``t`` is a usable latent tensor and return it unchanged.

    Accepts ``[B, C, H, W]`` (images) or ``[B, C, T, H, W]`` (video), every dim >= 1,
    a floating dtype from :data:`SUPPORTED_DTYPES`, and only finite values.

    Raises:
        SVDEditError: with a message naming ``what`` and the fix.
    """
    if getattr(t, "is_nested", False):
        # comfy.nested_tensor.NestedTensor (or a torch nested tensor): several streams in one.
        raise SVDEditError(
            f"{what} is a nested (multi-stream) latent, e.g. video plus audio; the singular "
            "value nodes edit a single image or video latent. Connect a single-stream LATENT "
            "(from an image or video model's sampler or empty latent)."
        )
    if not isinstance(t, torch.Tensor):
        raise SVDEditError(
            f"{what} is not a latent tensor (got {type(t).__name__}); connect a LATENT output "
            "such as a KSampler's or 'Empty Latent Image'."
        )
    if t.ndim not in (4, 5):
        raise SVDEditError(
            f"{what} must be a 4-D image latent [B, C, H, W] or a 5-D video latent "
            f"[B, C, T, H, W]; got shape {tuple(t.shape)}. Pass the 'samples' of a LATENT."
        )
    if t.numel() == 0 or min(t.shape) < 1:
        raise SVDEditError(
            f"{what} is empty (shape {tuple(t.shape)}); every dimension must be >= 1."
        )
    if t.dtype not in SUPPORTED_DTYPES:
        raise SVDEditError(
            f"{what} has dtype {t.dtype}; expected a floating dtype "
            "(float16, bfloat16, float32 or float64)."
        )
    if not bool(torch.isfinite(t).all()):
        raise SVDEditError(
            f"{what} contains NaN or Inf values; the sampler or a previous node diverged. "
            "Check the upstream nodes (for example lower the CFG or fix the model) and retry."
        )
    return t


def is_integer(value: object) -> TypeGuard[int]:
    """``value`` is an ``int`` and not a ``bool`` (which Python counts as an int)."""
    return isinstance(value, int) and not isinstance(value, bool)


def is_number(value: object) -> TypeGuard[int | float]:
    """``value`` is an ``int`` or ``float`` and not a ``bool`` (finite or not)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def is_finite_number(value: object) -> TypeGuard[int | float]:
    """``value`` is a real number (not a ``bool``) and finite."""
    return is_number(value) and math.isfinite(value)


def check_finite_number(value: object, what: str) -> float:
    """Return ``value`` as a float, raising SVDEditError if it is not a finite real number."""
    if not is_finite_number(value):
        raise SVDEditError(
            f"{what} is not finite or not a number ({value!r}): use an ordinary number."
        )
    return float(value)


def check_indices(values: Sequence[int], limit: int, what: str) -> list[int]:
    """``values`` sorted without repeats, each an integer in ``0..limit-1``, or SVDEditError."""
    for v in values:
        if not is_integer(v) or not 0 <= v < limit:
            raise SVDEditError(f"{what}: {v!r} is out of range; valid values are 0..{limit - 1}.")
    return sorted(set(values))
