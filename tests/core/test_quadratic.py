"""The quadratic-form loss equals docs/method.md's dense formula; gradient and optimum are right."""

from __future__ import annotations

import pytest
import torch

from svd_core import AVIConfig, decompose, learn_attribute, solve_pair
from svd_core.avi import _pair_quadratic
from svd_core.pairs import channel_index
from svd_core.predictor import init_predictor, predictor_forward, predictor_inputs
from svd_core.training import FlatPredictor


def dense_terms(x, z, sx_svd, sz_svd, a, b, ks, kt, keep_tail):
    """docs/method.md section 3, literally: build E, F, R and y, then the four relative terms.

    x, z ``[H, W]``; a ``[ks]``; b ``[kt]``; all float64.
    """
    Ux, Sx, Vx = sx_svd
    Uz, Sz, Vz = sz_svd
    E = [torch.outer(Ux[:, i], Vx[i]) for i in range(ks)]
    F = [torch.outer(Uz[:, j], Vz[j]) for j in range(kt)]
    R = x - sum(Sx[i] * E[i] for i in range(ks)) if keep_tail else torch.zeros_like(x)
    y = R + sum(a[i] * E[i] for i in range(ks)) + sum(b[j] * F[j] for j in range(kt))
    l1 = (y - z).pow(2).sum() / z.pow(2).sum()
    l2 = (y - x).pow(2).sum() / x.pow(2).sum()
    l3 = (b - Sz[:kt]).pow(2).sum() / Sz[:kt].pow(2).sum()
    l4 = (a - Sx[:ks]).pow(2).sum() / Sx[:ks].pow(2).sum()
    return torch.stack([l1, l2, l3, l4])


def _factors(svd, b, c):
    return svd.U[b, c].double(), svd.S[b, c].double(), svd.Vh[b, c].double()


@pytest.mark.parametrize("keep_tail", [True, False])
def test_quadratic_terms_match_dense_formula(keep_tail, gen):
    x = torch.randn(2, 3, 10, 12, generator=gen)
    z = x[:1] + 0.5 * torch.randn(1, 3, 10, 12, generator=gen)  # batch-1 target, broadcast
    sx, sz = decompose(x), decompose(z)
    cfg = AVIConfig(
        ks=4,
        kt=3,
        keep_tail=keep_tail,
        w_target=0.7,
        w_source=1.3,
        w_target_sv=0.2,
        w_source_sv=0.05,
    )
    q, ks, kt = _pair_quadratic(sx, sz, cfg)
    c = torch.randn(q.num_matrices, ks + kt, generator=gen, dtype=torch.float64) * 2
    terms = q.terms(c)
    m = 0
    for bi in range(2):
        for ci in range(3):
            xs, zs = _factors(sx, bi, ci), _factors(sz, 0, ci)
            xd = xs[0] @ torch.diag(xs[1]) @ xs[2]
            zd = zs[0] @ torch.diag(zs[1]) @ zs[2]
            ref = dense_terms(xd, zd, xs, zs, c[m, :ks], c[m, ks:], ks, kt, keep_tail)
            assert torch.allclose(terms[m], ref, rtol=1e-9, atol=1e-10), (terms[m], ref)
            w = torch.tensor(cfg.weights, dtype=torch.float64)
            assert torch.allclose(q.per_matrix(c)[m], (w * ref).sum(), rtol=1e-9, atol=1e-10)
            m += 1
    assert torch.allclose(q.loss(c), q.per_matrix(c).mean())


def test_identity_coefficients_give_zero_source_loss(gen):
    x = torch.randn(1, 4, 12, 12, generator=gen)
    z = torch.randn(1, 4, 12, 12, generator=gen)
    q, ks, kt = _pair_quadratic(decompose(x), decompose(z), AVIConfig(ks=5, kt=5))
    c0 = torch.cat([q.sx, torch.zeros_like(q.sz)], dim=1)
    terms = q.terms(c0)
    # y == x: L2 = 0 and L4 = 0; L1 = ||x - z||^2 / ||z||^2; L3 = 1.
    assert terms[:, 1].abs().max() < 1e-10 and terms[:, 3].abs().max() < 1e-12
    ref = ((x - z).double().pow(2).sum((-2, -1)) / z.double().pow(2).sum((-2, -1))).flatten()
    assert torch.allclose(terms[:, 0], ref, rtol=1e-6)
    assert torch.allclose(terms[:, 2], torch.ones(4, dtype=torch.float64))


def test_hand_written_gradient_matches_autograd(gen):
    x = torch.randn(2, 4, 16, 16, generator=gen)
    z = x + 0.3 * torch.randn(2, 4, 16, 16, generator=gen)
    sx, sz = decompose(x), decompose(z)
    q, ks, kt = _pair_quadratic(sx, sz, AVIConfig(ks=6, kt=5, hidden=32))
    channel = channel_index(sx.lead_shape)
    inputs = predictor_inputs(q.sx, q.sz, channel, 4)
    base = torch.cat([q.sx, torch.zeros_like(q.sz)], dim=1)
    scale = q.sx[:, :1]
    params = init_predictor(ks, kt, 4, 32, seed=3, dtype=torch.float64)
    # A non-zero output layer, so every gradient path is exercised.
    params["l3.weight"] = 0.1 * torch.randn(params["l3.weight"].shape, generator=gen).double()
    params["l3.bias"] = 0.1 * torch.randn(params["l3.bias"].shape, generator=gen).double()
    net = FlatPredictor(params)
    loss, grad = net.loss_and_grad(q, inputs, base, scale)

    leaves = {k: v.clone().requires_grad_(True) for k, v in params.items()}
    ref = q.loss(base + scale * predictor_forward(leaves, inputs))
    ref.backward()
    ref_grad = torch.cat([leaves[k].grad.reshape(-1) for k in net.shapes])
    assert torch.allclose(loss, ref.detach(), rtol=1e-12)
    assert torch.allclose(grad, ref_grad, rtol=1e-8, atol=1e-12)


def test_solve_pair_is_the_minimum(gen):
    x = torch.randn(1, 4, 20, 20, generator=gen)
    z = torch.randn(1, 4, 20, 20, generator=gen)
    cfg = AVIConfig(ks=6, kt=6)
    sol = solve_pair(decompose(x), decompose(z), cfg)
    assert sol.a.shape == (1, 4, 6) and sol.b.shape == (1, 4, 6)
    q, ks, kt = _pair_quadratic(decompose(x), decompose(z), cfg)
    c = torch.cat([sol.a, sol.b], dim=-1).reshape(-1, 12).double()
    base = q.loss(c).item()
    assert abs(base - sol.loss) < 1e-5 * max(1.0, abs(sol.loss))
    c_star, _ = q.solve()
    best = q.loss(c_star).item()
    for _ in range(20):
        d = torch.randn(c_star.shape, generator=gen, dtype=torch.float64) * 1e-2
        assert q.loss(c_star + d).item() >= best - 1e-12


def test_solve_pair_handles_singular_system(gen):
    # x == z and no singular-value terms: E_i == F_i, so the Gram matrix is singular.
    x = torch.randn(1, 2, 10, 10, generator=gen)
    cfg = AVIConfig(ks=4, kt=4, w_target_sv=0.0, w_source_sv=0.0)
    sol = solve_pair(decompose(x), decompose(x), cfg)
    assert torch.isfinite(sol.a).all() and torch.isfinite(sol.b).all()
    assert abs(sol.loss) < 1e-6  # y = x = z is reachable
    att = learn_attribute(
        decompose(x),
        decompose(x),
        AVIConfig(ks=4, kt=4, steps=20, w_target_sv=0.0, w_source_sv=0.0),
    )
    # Adam's normalised steps jitter around a zero-loss optimum; it must stay there.
    assert 0 <= att.final_loss < 1e-3
