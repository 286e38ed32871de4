"""Quantities the analysis views show: rank-1 components and the spectra of one batch item.

Pure torch; complements :mod:`svd_core.subspace` (distances) for the analysis nodes.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from .decomposition import LatentSVD, check_batch_index
from .errors import SVDEditError
from .validation import is_integer


def _check_count(n: int, svd: LatentSVD) -> None:
    if not 1 <= n <= svd.rank:
        what = f"is more than the {svd.rank} components this decomposition keeps"
        raise SVDEditError(
            f"count {n} {what if n > 1 else 'shows no component'}: use 1..{svd.rank}."
        )


def _outer(u: torch.Tensor, s: torch.Tensor, vh: torch.Tensor, weighted: bool) -> torch.Tensor:
    """``u_i v_i^T`` (times ``s_i`` when weighted) from ``[..., H, n]``, ``[..., n]``,
    ``[..., n, W]``; returns ``[..., n, H, W]``."""
    comps = u.transpose(-1, -2).unsqueeze(-1) * vh.unsqueeze(-2)
    return comps * s[..., None, None] if weighted else comps


def rank_one_components(svd: LatentSVD, n: int, weighted: bool = False) -> torch.Tensor:
    """The top-``n`` rank-1 components ``E_i = u_i v_i^T`` of every matrix.

    Each ``E_i`` has unit Frobenius norm and does not depend on the SVD's sign ambiguity;
    with ``weighted`` the result is ``s_i E_i``, the component's share of the latent
    (summing all ``r`` weighted components gives the matrix back).

    Returns:
        ``[..., n, H, W]`` float32 (``...`` = ``B, C`` or ``B, C, T``) on ``svd.device``.
    """
    _check_count(n, svd)
    return _outer(svd.U[..., :n], svd.S[..., :n], svd.Vh[..., :n, :], weighted)


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
    check_batch_index(batch, svd.batch)
    out = values[batch]
    if svd.frames is not None:
        if not is_integer(frame) or not 0 <= frame < svd.frames:
            raise SVDEditError(
                f"frame {frame} is out of range: this video latent has {svd.frames} frames "
                f"(use 0..{svd.frames - 1})."
            )
        out = out[:, frame]
    return out


def item_components(
    svd: LatentSVD, n: int, batch: int, frame: int = 0, weighted: bool = False
) -> tuple[torch.Tensor, torch.Tensor]:
    """The top-``n`` rank-1 components of one batch item (and frame) and their singular values.

    Only the drawn item's components are materialised. Returns ``[C, n, H, W]`` (as
    :func:`rank_one_components`) and ``[C, n]``.
    """
    _check_count(n, svd)
    u = select_matrices(svd.U[..., :n], svd, batch, frame)
    s = select_matrices(svd.S[..., :n], svd, batch, frame)
    vh = select_matrices(svd.Vh[..., :n, :], svd, batch, frame)
    return _outer(u, s, vh, weighted), s


def item_spectra(
    svds: Sequence[LatentSVD], batch: int, frame: int = 0, max_index: int = 0
) -> list[torch.Tensor]:
    """The singular values ``[C, r']`` of one batch item (and frame) of each decomposition.

    A later decomposition with batch 1 gives its only item (it is compared with every item of
    the first). ``r'`` is the kept rank, or ``max_index`` when that is smaller and positive.
    """
    channels = [s.channels for s in svds]
    if len(set(channels)) > 1:
        raise SVDEditError(
            f"the two latents have different channel counts ({' and '.join(map(str, channels))})"
            ": compare latents of one family"
        )
    out = []
    for i, svd in enumerate(svds):
        s = select_matrices(svd.S, svd, batch if i == 0 or svd.batch > 1 else 0, frame)
        out.append(s[:, :max_index] if max_index > 0 else s)
    return out
