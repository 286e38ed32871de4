"""Distances between singular subspaces (the paper's "small neighbourhood" observation)."""

from __future__ import annotations

import torch

from .decomposition import LatentSVD
from .errors import SVDEditError


def subspace_basis(svd: LatentSVD, k: int, side: str = "left") -> torch.Tensor:
    """Orthonormal basis of the top-``k`` singular subspace.

    Returns ``[..., H, k]`` (left: columns of U) or ``[..., W, k]`` (right: columns of V).
    """
    if side == "left":
        return svd.U[..., :k]
    if side == "right":
        return svd.Vh[..., :k, :].transpose(-1, -2)
    raise SVDEditError(f"side must be 'left' or 'right', got {side!r}.")


def subspace_distance(a: LatentSVD, b: LatentSVD, k: int, side: str = "left") -> torch.Tensor:
    """Grassmann geodesic distance between the top-``k`` singular subspaces of ``a`` and ``b``.

    ``d(A, B) = || arccos(clip(svals(A^T B), 0, 1)) ||_2`` per matrix, in radians, between
    0 and ``sqrt(k) * pi / 2``.  ``b`` may have batch 1 (broadcast over ``a``'s batch).

    Returns:
        ``[B, C]`` (or ``[B, C, T]``) float32 on ``a``'s device.
    """
    if a.shape[1:] != b.shape[1:] or b.batch not in (1, a.batch):
        raise SVDEditError(
            f"cannot compare subspaces of latents with shapes {a.shape} and {b.shape}: "
            "all dims but the batch must match, and the second batch must be 1 or equal."
        )
    kmax = min(a.rank, b.rank)
    if not 1 <= k <= kmax:
        raise SVDEditError(f"k must be between 1 and {kmax} for these decompositions, got {k}.")
    qa = subspace_basis(a, k, side).float()
    qb = subspace_basis(b, k, side).to(device=qa.device, dtype=torch.float32)
    cos = torch.linalg.svdvals(qa.transpose(-1, -2) @ qb).clamp(0.0, 1.0)
    return torch.linalg.vector_norm(torch.arccos(cos), dim=-1)
