"""The AVI loss as a quadratic form in the coefficients, precomputed once per matrix.

With the bases fixed, ``y = R + sum_i a_i E_i + sum_j b_j F_j = R + G c`` is linear in
``c = (a, b)``, so for every target ``t``:

    ||y - t||^2 = c^T K c + 2 c^T G^T (R - t) + ||R - t||^2,

with the Gram matrix ``K = G^T G``, whose entries ``<E_i, F_j> = (u_i . u_j)(v_i . v_j)``
make it ``(P^T P) * (Q^T Q)`` for ``P = [Ux | Uz]``, ``Q = [Vx | Vz]``.  Hence the whole loss
of one matrix is ``c^T A c + 2 g^T c + e``: training never builds ``y``, and the exact
minimiser is one small linear solve (:func:`QuadraticLoss.solve`).

Everything here is float64 on CPU: the tensors are tiny (``[M, k, k]`` with
``k = ks + kt``), and float64 makes the trained loss and the exact optimum comparable to far
below the 1 % convergence margin.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from .decomposition import reconstruct
from .predictor import TINY

_F64 = torch.float64


def _cpu64(t: torch.Tensor) -> torch.Tensor:
    # A copy: inputs may be inference-mode tensors, which autograd code must not touch.
    return t.detach().to(device="cpu", dtype=_F64, copy=True)


def _project(P: torch.Tensor, M: torch.Tensor, Q: torch.Tensor) -> torch.Tensor:
    """``<p_i q_i^T, M>_F = p_i^T M q_i`` for every column ``i``: ``[n, k]``.

    P ``[n, H, k]``, M ``[n, H, W]``, Q ``[n, W, k]``.
    """
    return ((P.transpose(-1, -2) @ M) * Q.transpose(-1, -2)).sum(-1)


@dataclass(frozen=True)
class QuadraticLoss:
    """Per-matrix AVI loss ``L_m(c) = c^T A_m c + 2 g_m^T c + e_m`` and its pieces.

    Shapes (``M`` matrices, ``k = ks + kt``): ``K, A`` ``[M, k, k]``; ``hx, hz, g, sx_sz``
    ``[M, k]``; the rest ``[M]``.  ``c`` is ordered ``(a_1..a_ks, b_1..b_kt)``.
    """

    ks: int
    kt: int
    weights: tuple[float, float, float, float]
    K: torch.Tensor  # Gram matrix of [E; F]
    hx: torch.Tensor  # G^T (R - x)
    hz: torch.Tensor  # G^T (R - z)
    nx: torch.Tensor  # ||R - x||^2
    nz: torch.Tensor  # ||R - z||^2
    x2: torch.Tensor  # ||x||^2 (floored at TINY)
    z2: torch.Tensor  # ||z||^2 (floored)
    sx: torch.Tensor  # [M, ks] source singular values
    sz: torch.Tensor  # [M, kt] target singular values
    A: torch.Tensor
    g: torch.Tensor
    e: torch.Tensor

    @property
    def num_matrices(self) -> int:
        return int(self.K.shape[0])

    def per_matrix(self, c: torch.Tensor) -> torch.Tensor:
        """``[M]`` total loss of each matrix for coefficients ``c`` ``[M, k]``."""
        Ac = (self.A @ c.unsqueeze(-1)).squeeze(-1)
        return ((Ac + 2.0 * self.g) * c).sum(-1) + self.e

    def loss(self, c: torch.Tensor) -> torch.Tensor:
        """Scalar loss averaged over matrices (what training minimises)."""
        return self.per_matrix(c).mean()

    def terms(self, c: torch.Tensor) -> torch.Tensor:
        """``[M, 4]`` unweighted ``(L1, L2, L3, L4)`` per matrix (for inspection and tests)."""
        Kc = (self.K @ c.unsqueeze(-1)).squeeze(-1)
        cKc = (Kc * c).sum(-1)
        l1 = (cKc + 2.0 * (c * self.hz).sum(-1) + self.nz) / self.z2
        l2 = (cKc + 2.0 * (c * self.hx).sum(-1) + self.nx) / self.x2
        a, b = c[:, : self.ks], c[:, self.ks :]
        l3 = ((b - self.sz) ** 2).sum(-1) / (self.sz**2).sum(-1).clamp_min(TINY)
        l4 = ((a - self.sx) ** 2).sum(-1) / (self.sx**2).sum(-1).clamp_min(TINY)
        return torch.stack([l1, l2, l3, l4], dim=-1)

    def solve(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Exact minimiser ``c* [M, k]`` and the minimum ``[M]`` of every matrix's loss.

        ``A`` is positive semi-definite; ``gelsd`` (SVD-based least squares) also handles the
        singular case (zero singular-value weights and coinciding components), where it
        returns the minimum-norm minimiser.
        """
        sol = torch.linalg.lstsq(self.A, -self.g.unsqueeze(-1), driver="gelsd").solution
        c = sol.squeeze(-1)
        return c, self.per_matrix(c)


def build_quadratic(
    Ux: torch.Tensor,
    Sx: torch.Tensor,
    Vhx: torch.Tensor,
    Uz: torch.Tensor,
    Sz: torch.Tensor,
    Vhz: torch.Tensor,
    ks: int,
    kt: int,
    keep_tail: bool,
    weights: tuple[float, float, float, float],
) -> QuadraticLoss:
    """Precompute the quadratic form for ``M`` matrix pairs.

    Args:
        Ux, Sx, Vhx: source factors ``[M, H, rx]``, ``[M, rx]``, ``[M, rx, W]``, rx >= ks.
        Uz, Sz, Vhz: target factors ``[M, H, rz]``, ``[M, rz]``, ``[M, rz, W]``, rz >= kt.
        ks, kt: component counts.
        keep_tail: whether ``R`` is the source's tail (else ``R = 0``).
        weights: ``(w_target, w_source, w_target_sv, w_source_sv)``.
    """
    Ux, Sx, Vhx, Uz, Sz, Vhz = (_cpu64(t) for t in (Ux, Sx, Vhx, Uz, Sz, Vhz))
    w1, w2, w3, w4 = weights
    x = reconstruct(Ux, Sx, Vhx)
    z = reconstruct(Uz, Sz, Vhz)
    sx, sz = Sx[:, :ks], Sz[:, :kt]
    P = torch.cat([Ux[:, :, :ks], Uz[:, :, :kt]], dim=-1)
    Q = torch.cat([Vhx[:, :ks, :], Vhz[:, :kt, :]], dim=-2).transpose(-1, -2)
    K = (P.transpose(-1, -2) @ P) * (Q.transpose(-1, -2) @ Q)

    if keep_tail:
        x_top = reconstruct(Ux[:, :, :ks], sx, Vhx[:, :ks, :])
        d_x = -x_top  # R - x
        d_z = (x - x_top) - z  # R - z
    else:
        d_x, d_z = -x, -z
    hx, hz = _project(P, d_x, Q), _project(P, d_z, Q)
    nx = (d_x**2).sum((-2, -1))
    nz = (d_z**2).sum((-2, -1))
    x2 = (x**2).sum((-2, -1)).clamp_min(TINY)
    z2 = (z**2).sum((-2, -1)).clamp_min(TINY)
    sx2 = (sx**2).sum(-1)
    sz2 = (sz**2).sum(-1)
    sx2c, sz2c = sx2.clamp_min(TINY), sz2.clamp_min(TINY)

    wk = (w1 / z2 + w2 / x2).view(-1, 1, 1)
    diag = torch.cat(
        [(w4 / sx2c).unsqueeze(-1).expand_as(sx), (w3 / sz2c).unsqueeze(-1).expand_as(sz)], dim=-1
    )
    A = wk * K + torch.diag_embed(diag)
    # Exactly symmetric, so the gradient 2 (A c + g) used in training is exact.
    A = 0.5 * (A + A.transpose(-1, -2))
    g = (
        (w1 / z2).unsqueeze(-1) * hz
        + (w2 / x2).unsqueeze(-1) * hx
        - torch.cat([(w4 / sx2c).unsqueeze(-1) * sx, (w3 / sz2c).unsqueeze(-1) * sz], dim=-1)
    )
    e = w1 * nz / z2 + w2 * nx / x2 + w3 * sz2 / sz2c + w4 * sx2 / sx2c
    return QuadraticLoss(
        ks=ks,
        kt=kt,
        weights=weights,
        K=K,
        hx=hx,
        hz=hz,
        nx=nx,
        nz=nz,
        x2=x2,
        z2=z2,
        sx=sx,
        sz=sz,
        A=A,
        g=g,
        e=e,
    )
