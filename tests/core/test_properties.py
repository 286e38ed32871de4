"""Property-based checks (hypothesis) of round trip, rank-k optimality and identity (point 9)."""

from __future__ import annotations

import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from svd_core import AVIConfig, apply_attribute, decompose, learn_attribute, recompose

SETTINGS = settings(max_examples=30, deadline=None, derandomize=True)

DTYPES = st.sampled_from([torch.float32, torch.float16, torch.bfloat16])


@st.composite
def latents(draw, max_hw: int = 33, dtypes=DTYPES):
    video = draw(st.booleans())
    b = draw(st.integers(1, 3))
    c = draw(st.sampled_from([1, 3, 4, 16]))
    h = draw(st.integers(1, max_hw))
    w = draw(st.integers(1, max_hw))
    shape = (b, c, draw(st.integers(1, 3)), h, w) if video else (b, c, h, w)
    scale = draw(st.sampled_from([1e-3, 1.0, 50.0]))
    seed = draw(st.integers(0, 2**31 - 1))
    x = torch.randn(*shape, generator=torch.Generator().manual_seed(seed)) * scale
    return x.to(draw(dtypes))


@SETTINGS
@given(x=latents())
def test_round_trip_any_shape_and_dtype(x):
    y = recompose(decompose(x))
    assert y.shape == x.shape and y.dtype == x.dtype
    tol = 1e-5 if x.dtype == torch.float32 else torch.finfo(x.dtype).eps
    err = (y.float() - x.float()).abs().max()
    assert err <= tol * x.float().abs().max() + 1e-30


@SETTINGS
@given(x=latents(dtypes=st.just(torch.float32)), data=st.data())
def test_rank_k_error_is_dropped_singular_values(x, data):
    full = decompose(x)
    k = data.draw(st.integers(1, full.rank))
    approx = recompose(decompose(x, rank=k))
    err = torch.linalg.matrix_norm((x - approx).double())
    expected = full.S[..., k:].double().pow(2).sum(-1).sqrt()
    scale = float(torch.linalg.matrix_norm(x.double()).max())
    assert torch.allclose(err, expected, rtol=1e-3, atol=2e-6 * scale)


@SETTINGS
@given(
    x=latents(max_hw=20),
    ks=st.integers(1, 24),
    kt=st.integers(1, 24),
    strength=st.floats(-10.0, 10.0, allow_nan=False),
    with_target=st.booleans(),
)
def test_untrained_attribute_is_identity(x, ks, kt, strength, with_target):
    z = torch.flip(x, dims=[-1]).contiguous()  # any target of the same shape
    sx, sz = decompose(x), decompose(z)
    att = learn_attribute(sx, sz, AVIConfig(ks=ks, kt=kt, steps=0))
    out = recompose(apply_attribute(sx, att, sz if with_target else None, strength))
    assert out.shape == x.shape and out.dtype == x.dtype
    tol = 2e-5 if x.dtype == torch.float32 else 2 * torch.finfo(x.dtype).eps
    ref = recompose(sx).float()
    assert (out.float() - ref).abs().max() <= tol * ref.abs().max() + 1e-30


@settings(max_examples=15, deadline=None, derandomize=True)
@given(x=latents(max_hw=16), steps=st.integers(1, 20))
def test_strength_zero_returns_the_input(x, steps):
    z = x.flip(0).contiguous() + 0.5
    sx, sz = decompose(x), decompose(z)
    att = learn_attribute(sx, sz, AVIConfig(steps=steps))
    assert apply_attribute(sx, att, sz, 0.0) is sx
    assert apply_attribute(sx, att, None, -0.0) is sx
