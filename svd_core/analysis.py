"""Quantities the analysis views show: rank-1 components and the spectra of one batch item.

Pure torch; complements :mod:`svd_core.subspace` (distances) for the analysis nodes.
"""

from __future__ import annotations

import torch

from .decomposition import LatentSVD
from .errors import SVDEditError
from .validation import is_integer


def _check_count(n: int, svd: LatentSVD) -> None:
    if not is_integer(n):
        raise SVDEditError(f"the number of components must be an integer, got {type(n).__name__}.")
    if n > svd.rank:
        raise SVDEditError(
            f"count {n} is more than the {svd.rank} components this decomposition keeps: "
            f"use 1..{svd.rank}."
        )
    if n < 1:
        raise SVDEditError(f"count {n} shows no component: use 1..{svd.rank}.")


def rank_one_components(svd: LatentSVD, n: int, weighted: bool = False) -> torch.Tensor:
    """The top-``n`` rank-1 components ``E_i = u_i v_i^T`` of every matrix.

    Each ``E_i`` has unit Frobenius norm and does not depend on the SVD's sign ambiguity;
    with ``weighted`` the result is ``s_i E_i``, the component's share of the latent
    (summing all ``r`` weighted components gives the matrix back).

    Returns:
        ``[..., n, H, W]`` float32 (``...`` = ``B, C`` or ``B, C, T``) on ``svd.device``.
    """
    _check_count(n, svd)
    u = svd.U[..., :, :n].transpose(-1, -2).unsqueeze(-1)  # [..., n, H, 1]
    vh = svd.Vh[..., :n, :].unsqueeze(-2)  # [..., n, 1, W]
    comps = u * vh
    if weighted:
        comps = comps * svd.S[..., :n, None, None]
    return comps


def select_matrices(values: torch.Tensor, svd: LatentSVD, batch: int, frame: int) -> torch.Tensor:
    """Rows of one batch item (and one frame of a video latent) of a per-matrix tensor.

    Args:
        values: ``[B, C, ...]`` or ``[B, C, T, ...]`` laid out like ``svd``'s matrices
            (for example ``svd.S`` or :func:`rank_one_components`).
        batch: 0-based batch item.
        frame: 0-based frame; used only for a video latent ``[B, C, T, H, W]``.

    Returns:
        ``[C, ...]``.
    """
    if not 0 <= batch < svd.batch:
        raise SVDEditError(
            f"batch index {batch} is out of range: this latent has batch size {svd.batch} "
            f"(use 0..{svd.batch - 1})."
        )
    out = values[batch]
    if svd.frames is not None:
        if not 0 <= frame < svd.frames:
            raise SVDEditError(
                f"frame {frame} is out of range: this video latent has {svd.frames} frames "
                f"(use 0..{svd.frames - 1})."
            )
        out = out[:, frame]
    return out
