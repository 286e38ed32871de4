"""Comparing tensors in tests."""

from __future__ import annotations

import torch


def rel_error(a: torch.Tensor, b: torch.Tensor) -> float:
    """``|a - b| / |b|`` (Frobenius norms), with ``|b|`` kept above 1e-12."""
    return float((a - b).norm() / b.norm().clamp_min(1e-12))
