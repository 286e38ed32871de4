"""Carry edits learned on other seeds to where the subject sits in a new latent.

A stored per-position mean edit only works where every seed puts the subject in the same
place.  Here each training pair's edit is moved by the displacement that best lines its source
latent up with the new latent (cross-correlation over all channels), and the moved edits are
averaged, weighted by how well each pair lines up.  The new latent may be larger or smaller
than the training latents: an edit is then placed where its reference matches best.
"""

from __future__ import annotations

import torch


def displacements(
    latents: torch.Tensor, references: torch.Tensor, max_shift: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """For every latent and reference, the shift ``(dy, dx)`` that moves the reference onto the
    latent, and the normalised cross-correlation there.

    latents ``[B, C, H, W]``, references ``[P, C, h, w]`` -> shifts ``[B, P, 2]`` long (within
    ``max_shift`` of the centred placement ``((H - h) // 2, (W - w) // 2)``), scores ``[B, P]``.

    ``r(d) = sum_c sum_y a_c(y + d) b_c(y) / (|a| |b|)``, means removed per channel.
    """
    (h, w), (rh, rw) = latents.shape[-2:], references.shape[-2:]
    a = latents.double() - latents.double().mean((-2, -1), keepdim=True)
    b = references.double() - references.double().mean((-2, -1), keepdim=True)
    size = (h + rh, w + rw)  # zero padding: a linear, not circular, correlation
    fa = torch.fft.rfft2(a, s=size)
    fb = torch.fft.rfft2(b, s=size)
    corr = torch.fft.irfft2((fa[:, None] * fb[None].conj()).sum(2), s=size)  # [B, P, *size]
    norm = a.flatten(1).norm(dim=1)[:, None] * b.flatten(1).norm(dim=1)[None]
    corr = corr / norm.clamp_min(1e-12)[..., None, None]
    iy, ix = torch.arange(size[0]), torch.arange(size[1])
    dy, dx = iy.where(iy < h, iy - size[0]), ix.where(ix < w, ix - size[1])
    near_y = (dy - (h - rh) // 2).abs() <= max_shift
    near_x = (dx - (w - rw) // 2).abs() <= max_shift
    corr = corr.masked_fill(~(near_y[:, None] & near_x[None]), float("-inf"))
    score, flat = corr.flatten(2).max(2)
    shifts = torch.stack([dy[flat // size[1]], dx[flat % size[1]]], -1)
    return shifts, score.float()


def shifted(t: torch.Tensor, dy: int, dx: int, size: tuple[int, int] | None = None) -> torch.Tensor:
    """``t`` ``[..., h, w]`` moved by ``(dy, dx)`` onto a canvas ``[..., *size]`` (default
    ``h, w``), zeros where nothing moves in."""
    h, w = t.shape[-2:]
    out_h, out_w = (h, w) if size is None else size
    out = t.new_zeros(*t.shape[:-2], out_h, out_w)
    y0, y1 = max(0, dy), min(out_h, h + dy)
    x0, x1 = max(0, dx), min(out_w, w + dx)
    if y0 < y1 and x0 < x1:
        out[..., y0:y1, x0:x1] = t[..., y0 - dy : y1 - dy, x0 - dx : x1 - dx]
    return out


def aligned_mean_edit(
    latents: torch.Tensor,
    sources: torch.Tensor,
    edits: torch.Tensor,
    top: int | None = None,
    max_shift: int | None = None,
) -> torch.Tensor:
    """The training edits moved onto each latent's subject and averaged.

    latents ``[B, C, H, W]``; sources ``[P, C, h, w]`` (the training pairs' source latents)
    and edits ``[P, C, h, w]`` (their edits, target - source); ``top``: average only the best
    lined-up pairs (default all), weighted by their correlation; ``max_shift`` defaults to half
    the larger side.  Returns ``[B, C, H, W]`` float32 on ``latents``' device.

    ``e(x) = sum_i w_i shift(e_i, d_i(x)) / sum_i w_i``, ``w_i = max(r_i, 0)``
    """
    size = tuple(latents.shape[-2:])
    limit = max(*size, *sources.shape[-2:]) // 2 if max_shift is None else max_shift
    shifts, score = displacements(latents.cpu(), sources.cpu(), limit)
    p = sources.shape[0]
    keep = torch.zeros_like(score, dtype=torch.bool)
    keep.scatter_(1, score.topk(min(top or p, p), dim=1).indices, True)
    weight = score.clamp_min(0) * keep
    out = torch.zeros(latents.shape, dtype=torch.float32)
    for i in range(latents.shape[0]):
        for j in range(p):
            if weight[i, j] > 0:
                dy, dx = (int(v) for v in shifts[i, j])
                out[i] += weight[i, j] * shifted(edits[j].float().cpu(), dy, dx, size)
    out = out / weight.sum(1).clamp_min(1e-12).reshape(-1, 1, 1, 1)
    return out.to(latents.device)
