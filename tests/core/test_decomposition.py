"""decompose, recompose, scale_singular_values, subspace_distance (docs/method.md 1-2)."""

from __future__ import annotations

import dataclasses
import math

import pytest
import torch

from svd_core import (
    LatentSVD,
    SVDEditError,
    decompose,
    recompose,
    scale_singular_values,
    subspace_distance,
    validate_latent,
)


def assert_close(a: torch.Tensor, b: torch.Tensor, rtol: float = 1e-5, atol: float = 1e-6) -> None:
    # Not torch.testing.assert_close: its first call imports torch.distributed (~4 s).
    assert a.shape == b.shape, (a.shape, b.shape)
    assert torch.allclose(a, b, rtol=rtol, atol=atol), f"max abs diff {(a - b).abs().max()}"


@pytest.mark.parametrize("batch", [1, 2, 8])
@pytest.mark.parametrize("channels", [4, 16])
@pytest.mark.parametrize("hw", [(32, 32), (24, 40), (40, 24)])
@pytest.mark.parametrize("video", [False, True])
def test_round_trip_float32(batch, channels, hw, video, gen):
    shape = (batch, channels, 3, *hw) if video else (batch, channels, *hw)
    x = torch.randn(*shape, generator=gen) * 3.0
    svd = decompose(x)
    assert svd.rank == min(hw)
    assert svd.U.shape == (*shape[:-2], hw[0], min(hw))
    assert svd.S.dtype == torch.float32
    y = recompose(svd)
    assert y.shape == x.shape and y.dtype == x.dtype
    assert (y - x).abs().max() <= 1e-5 * x.abs().max()
    # Singular values come out descending and non-negative.
    assert bool((svd.S[..., :-1] >= svd.S[..., 1:]).all()) and bool((svd.S >= 0).all())


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16, torch.float64])
def test_round_trip_preserves_dtype(dtype, gen):
    x = torch.randn(2, 4, 16, 24, generator=gen).to(dtype)
    svd = decompose(x)
    assert svd.dtype == dtype and svd.U.dtype == torch.float32
    y = recompose(svd)
    assert y.dtype == dtype and y.shape == x.shape
    eps = torch.finfo(dtype).eps if dtype != torch.float64 else 1e-5
    err = (y.double() - x.double()).abs().max()
    assert err <= eps * x.double().abs().max()


def test_channelwise_not_flattened(gen):
    # Each (b, c) matrix must be decomposed alone: singular values of channel 1 equal the
    # SVD of that slice by itself.
    x = torch.randn(2, 3, 12, 10, generator=gen)
    svd = decompose(x)
    for b in range(2):
        for c in range(3):
            ref = torch.linalg.svdvals(x[b, c])
            assert_close(svd.S[b, c], ref, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("k", [1, 3, 8, 15])
def test_rank_k_is_eckart_young(k, gen):
    x = torch.randn(2, 4, 16, 20, generator=gen)
    full = decompose(x)
    trunc = decompose(x, rank=k)
    assert trunc.rank == k and trunc.is_truncated
    approx = recompose(trunc)
    err = torch.linalg.matrix_norm(x - approx)  # Frobenius per matrix, [2, 4]
    expected = full.S[..., k:].pow(2).sum(-1).sqrt()
    assert_close(err, expected, rtol=1e-4, atol=1e-5 * x.norm().item())


def test_rank_zero_and_none_are_full(gen):
    x = torch.randn(1, 4, 8, 6, generator=gen)
    assert decompose(x, rank=0).rank == 6
    assert decompose(x, rank=None).rank == 6


@pytest.mark.parametrize(
    "bad, match",
    [
        (torch.randn(4, 8, 8), "4-D"),
        (torch.randn(1, 1, 1, 1, 4, 4), "4-D"),
        (torch.zeros(1, 0, 4, 4), "empty"),
        (torch.randint(0, 5, (1, 4, 8, 8)), "dtype"),
        (torch.full((1, 4, 8, 8), float("nan")), "NaN"),
        (torch.tensor([float("inf")]).expand(1, 4, 8, 8).clone(), "NaN or Inf"),
    ],
)
def test_decompose_rejects_bad_latents(bad, match):
    with pytest.raises(SVDEditError, match=match):
        decompose(bad)


def test_errors_are_value_errors():
    with pytest.raises(ValueError):
        decompose(torch.randn(3, 3))
    with pytest.raises(SVDEditError, match="samples"):
        validate_latent("not a tensor", what="samples")


@pytest.mark.parametrize("rank", [-1, 9, 100])
def test_decompose_rejects_bad_rank(rank, gen):
    with pytest.raises(SVDEditError, match="rank"):
        decompose(torch.randn(1, 4, 8, 12, generator=gen), rank=rank)


def test_decompose_device_argument(gen):
    x = torch.randn(1, 4, 8, 8, generator=gen)
    assert decompose(x, device="cpu").device.type == "cpu"


def test_latent_svd_checks_its_factors(gen):
    svd = decompose(torch.randn(1, 2, 6, 5, generator=gen))
    with pytest.raises(SVDEditError, match="do not match"):
        LatentSVD(U=svd.U, S=svd.S, Vh=svd.Vh, shape=(1, 2, 6, 6), dtype=torch.float32)
    with pytest.raises(dataclasses.FrozenInstanceError):
        svd.S = svd.S  # type: ignore[misc]


def test_decompose_does_not_mutate_input(gen):
    x = torch.randn(1, 4, 8, 8, generator=gen)
    before = x.clone()
    svd = decompose(x)
    recompose(scale_singular_values(svd, 3.0, [0]))
    assert torch.equal(x, before)


def test_scale_singular_values(gen):
    x = torch.randn(2, 4, 10, 10, generator=gen)
    svd = decompose(x)
    out = scale_singular_values(svd, 2.5, [0, 2], channels=[1, 3])
    ratio = out.S / svd.S
    expected = torch.ones_like(ratio)
    expected[:, [1, 3][0], [0, 2]] = 2.5
    expected[:, 3, 0] = 2.5
    expected[:, 3, 2] = 2.5
    assert_close(ratio, expected)
    assert torch.equal(svd.S, decompose(x).S)  # input untouched
    # Scaling s_1 of every channel changes x by (f - 1) s_1 u_1 v_1^T exactly.
    y = recompose(scale_singular_values(svd, 0.0, [0]))
    rank1 = svd.S[..., :1, None] * svd.U[..., :, :1] @ svd.Vh[..., :1, :]
    assert_close(y, x - rank1, rtol=1e-4, atol=1e-4)


def test_scale_singular_values_video_and_errors(gen):
    svd = decompose(torch.randn(1, 4, 3, 8, 8, generator=gen))
    out = scale_singular_values(svd, 0.5, [1], channels=[0])
    assert_close(out.S[0, 0, :, 1], svd.S[0, 0, :, 1] * 0.5)
    assert_close(out.S[0, 1], svd.S[0, 1])
    with pytest.raises(SVDEditError, match="out of range"):
        scale_singular_values(svd, 2.0, [8])
    with pytest.raises(SVDEditError, match="out of range"):
        scale_singular_values(svd, 2.0, [0], channels=[4])
    with pytest.raises(SVDEditError, match="finite"):
        scale_singular_values(svd, float("nan"), [0])


def test_subspace_distance_identical_is_zero(gen):
    svd = decompose(torch.randn(2, 4, 16, 16, generator=gen))
    d = subspace_distance(svd, svd, 5)
    assert d.shape == (2, 4) and d.dtype == torch.float32
    assert d.abs().max() < 1e-2  # arccos near 1 amplifies float32 rounding


def test_subspace_distance_known_angle():
    # Left subspaces span{e1} and span{cos t e1 + sin t e2}: distance exactly t.
    h = 6
    t = 0.3
    u1 = torch.zeros(h)
    u1[0] = 1.0
    u2 = torch.zeros(h)
    u2[0], u2[1] = math.cos(t), math.sin(t)
    v = torch.zeros(h)
    v[0] = 1.0
    a = decompose((5 * torch.outer(u1, v) + 0.01 * torch.eye(h)).view(1, 1, h, h))
    b = decompose((5 * torch.outer(u2, v) + 0.01 * torch.eye(h)).view(1, 1, h, h))
    d = subspace_distance(a, b, 1, side="left")
    assert abs(d.item() - t) < 5e-3
    # Right subspaces are the same (v), up to the small identity term.
    assert subspace_distance(a, b, 1, side="right").item() < 5e-3


def test_subspace_distance_range_symmetry_and_broadcast(gen):
    a = decompose(torch.randn(3, 4, 12, 12, generator=gen))
    b = decompose(torch.randn(1, 4, 12, 12, generator=gen))
    d = subspace_distance(a, b, 4)
    assert d.shape == (3, 4)
    assert bool((d >= 0).all()) and bool((d <= 2 * math.pi / 2 + 1e-5).all())
    d_ab = subspace_distance(a.select_batch(0), b, 4)
    d_ba = subspace_distance(b, a.select_batch(0), 4)
    assert_close(d_ab, d_ba, rtol=1e-4, atol=1e-4)
    with pytest.raises(SVDEditError, match="k must be between"):
        subspace_distance(a, b, 13)
    with pytest.raises(SVDEditError, match="side"):
        subspace_distance(a, b, 2, side="up")
    other = decompose(torch.randn(2, 4, 12, 12, generator=gen))
    with pytest.raises(SVDEditError, match="batch"):
        subspace_distance(a, other, 2)
