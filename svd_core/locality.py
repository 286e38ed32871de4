"""Where two branches differ: a soft spatial mask that keeps an edit on the subject."""

from __future__ import annotations

import torch
import torch.nn.functional as F

QUANTILE = 0.9


def branch_mask(difference: torch.Tensor) -> torch.Tensor:
    """A weight in [0, 1] per position from the difference of two branches ``z_t - x_s``:
    its channel-summed magnitude, averaged over 3 x 3 neighbours, divided by its 90th
    percentile in each item and clipped, so the largest tenth of the latent is kept whole
    and the rest fades with the difference.  ``[B, C, (T,) H, W] -> [B, 1, (T,) H, W]``.

    ``m = clip(pool3(sum_c |d_c|) / q90, 0, 1)``
    """
    with torch.no_grad():
        a = difference.float().abs().sum(1, keepdim=True)
        flat = a.reshape(-1, 1, *a.shape[-2:])
        a = F.avg_pool2d(flat, 3, 1, 1, count_include_pad=True).reshape(a.shape)
        q = torch.quantile(a.flatten(1), QUANTILE, dim=1)
        q = q.reshape(-1, *([1] * (a.dim() - 1)))
        return (a / q.clamp_min(1e-12)).clamp(0, 1)
