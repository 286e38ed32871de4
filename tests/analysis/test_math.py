"""The numbers behind the views: rank-1 components, item selection, Grassmann distances."""

from __future__ import annotations

import math

import pytest
import torch

from svd_core import (
    LatentSVD,
    SVDEditError,
    decompose,
    rank_one_components,
    select_matrices,
    subspace_distance,
)


def _latent(seed: int, shape: tuple[int, ...]) -> torch.Tensor:
    return torch.randn(shape, generator=torch.Generator().manual_seed(seed))


def test_components_are_orthonormal_sign_free_and_sum_back() -> None:
    x = _latent(0, (2, 3, 10, 7))
    svd = decompose(x)
    e = rank_one_components(svd, 7)  # [2, 3, 7, 10, 7]
    gram = torch.einsum("bcihw,bcjhw->bcij", e, e)
    torch.testing.assert_close(gram, torch.eye(7).expand_as(gram), atol=1e-5, rtol=0)
    flipped = LatentSVD(U=-svd.U, S=svd.S, Vh=-svd.Vh, shape=svd.shape, dtype=svd.dtype)
    torch.testing.assert_close(rank_one_components(flipped, 3), e[:, :, :3])
    torch.testing.assert_close(
        rank_one_components(svd, 7, weighted=True).sum(dim=2), x, atol=1e-5, rtol=0
    )
    with pytest.raises(SVDEditError, match="use 1..7"):
        rank_one_components(svd, 8)


def test_select_matrices_picks_the_item_and_frame() -> None:
    svd = decompose(_latent(1, (2, 4, 3, 6, 5)))  # video [B, C, T, H, W]
    assert torch.equal(select_matrices(svd.S, svd, 1, 2), svd.S[1, :, 2])
    with pytest.raises(SVDEditError, match="frame 3 is out of range"):
        select_matrices(svd.S, svd, 0, 3)
    with pytest.raises(SVDEditError, match="batch size 2"):
        select_matrices(svd.S, svd, 2, 0)


def _with_left_basis(basis: torch.Tensor, seed: int) -> torch.Tensor:
    """A [1, 1, H, W] latent whose top singular vectors (left) are the columns of `basis`."""
    h, k = basis.shape
    g = torch.Generator().manual_seed(seed)
    v, _ = torch.linalg.qr(torch.randn(h, k, generator=g))
    s = torch.linspace(10.0, 5.0, k)
    return ((basis * s) @ v.T)[None, None]


@pytest.mark.parametrize("k", [1, 3, 4])
def test_distance_is_zero_for_one_subspace_and_maximal_for_orthogonal_ones(k: int) -> None:
    q, _ = torch.linalg.qr(_latent(2, (1, 1, 8, 8))[0, 0])
    a = decompose(_with_left_basis(q[:, :k], 3))
    # Same span, other basis and other singular values: distance 0.
    rot, _ = torch.linalg.qr(_latent(6, (1, 1, k, k))[0, 0])
    same = decompose(_with_left_basis(q[:, :k] @ rot, 4) * 0.3)
    d_same = subspace_distance(a, same, k)
    assert d_same.shape == (1, 1) and float(d_same) == pytest.approx(0.0, abs=2e-3)
    other = decompose(_with_left_basis(q[:, k : 2 * k], 5))
    assert float(subspace_distance(a, other, k)) == pytest.approx(math.pi / 2 * math.sqrt(k))
