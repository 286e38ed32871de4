"""Carry edits learned on other seeds to where the subject sits in a new latent.

A stored per-position mean edit only works where every seed puts the subject in the same
place.  Here each training pair's edit is moved by the displacement that best lines its source
latent up with the new latent (cross-correlation over all channels), and the moved edits are
averaged, weighted by how well each pair lines up.
"""

from __future__ import annotations

import torch


def displacements(
    latents: torch.Tensor, references: torch.Tensor, max_shift: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """For every latent and reference, the shift ``(dy, dx)`` that moves the reference onto the
    latent, and the normalised cross-correlation there.

    latents ``[B, C, H, W]``, references ``[P, C, H, W]`` -> shifts ``[B, P, 2]`` long (within
    ``max_shift``), scores ``[B, P]`` in [-1, 1].

    ``r(d) = sum_c sum_y a_c(y + d) b_c(y) / (|a| |b|)``, means removed per channel.
    """
    h, w = latents.shape[-2:]
    a = latents.double() - latents.double().mean((-2, -1), keepdim=True)
    b = references.double() - references.double().mean((-2, -1), keepdim=True)
    size = (2 * h, 2 * w)  # zero padding: a linear, not circular, correlation
    fa = torch.fft.rfft2(a, s=size)
    fb = torch.fft.rfft2(b, s=size)
    corr = torch.fft.irfft2((fa[:, None] * fb[None].conj()).sum(2), s=size)  # [B, P, 2H, 2W]
    norm = a.flatten(1).norm(dim=1)[:, None] * b.flatten(1).norm(dim=1)[None]
    corr = corr / norm.clamp_min(1e-12)[..., None, None]
    dy = torch.arange(2 * h).where(torch.arange(2 * h) < h, torch.arange(2 * h) - 2 * h)
    dx = torch.arange(2 * w).where(torch.arange(2 * w) < w, torch.arange(2 * w) - 2 * w)
    outside = (dy.abs() > max_shift)[:, None] | (dx.abs() > max_shift)[None]
    corr = corr.masked_fill(outside, float("-inf"))
    score, flat = corr.flatten(2).max(2)
    shifts = torch.stack([dy[flat // (2 * w)], dx[flat % (2 * w)]], -1)
    return shifts, score.float()


def shifted(t: torch.Tensor, dy: int, dx: int) -> torch.Tensor:
    """``t`` ``[..., H, W]`` moved by ``(dy, dx)`` positions, zeros where nothing moves in."""
    out = torch.zeros_like(t)
    h, w = t.shape[-2:]
    ys, yd = (slice(0, h - dy), slice(dy, h)) if dy >= 0 else (slice(-dy, h), slice(0, h + dy))
    xs, xd = (slice(0, w - dx), slice(dx, w)) if dx >= 0 else (slice(-dx, w), slice(0, w + dx))
    out[..., yd, xd] = t[..., ys, xs]
    return out


def aligned_mean_edit(
    latents: torch.Tensor,
    sources: torch.Tensor,
    edits: torch.Tensor,
    top: int | None = None,
    max_shift: int | None = None,
) -> torch.Tensor:
    """The training edits moved onto each latent's subject and averaged.

    latents ``[B, C, H, W]``; sources ``[P, C, H, W]`` (the training pairs' source latents)
    and edits ``[P, C, H, W]`` (their edits, target - source); ``top``: average only the best
    lined-up pairs (default all), weighted by their correlation. Returns ``[B, C, H, W]``.

    ``e(x) = sum_i w_i shift(e_i, d_i(x)) / sum_i w_i``, ``w_i = max(r_i, 0)``
    """
    h, w = latents.shape[-2:]
    limit = max(h, w) // 2 if max_shift is None else max_shift
    shifts, score = displacements(latents, sources, limit)
    p = sources.shape[0]
    keep = torch.zeros_like(score, dtype=torch.bool)
    keep.scatter_(1, score.topk(min(top or p, p), dim=1).indices, True)
    weight = score.clamp_min(0) * keep
    out = torch.zeros(latents.shape, dtype=edits.dtype)
    for i in range(latents.shape[0]):
        for j in range(p):
            if weight[i, j] > 0:
                dy, dx = (int(v) for v in shifts[i, j])
                out[i] += weight[i, j] * shifted(edits[j], dy, dx)
    return out / weight.sum(1).clamp_min(1e-12).reshape(-1, 1, 1, 1)
