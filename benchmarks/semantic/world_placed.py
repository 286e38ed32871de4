"""The second semantic world: the first world's faces at varying position and scale, 64x64.

The attributes, tokens and captions are the first world's (``world.ATTRIBUTES``); what changes
is where they sit. Each seed's face lands at one of ``PLACEMENTS`` (grid corner and scale), which
no prompt names, so a word has to find its place in the image, as in Stable Diffusion, rather
than move a fixed set of pixels. 1152 attribute combinations x 8 placements = 9216 images.

Read-out: nearest template over all 9216 images; it returns the seven attribute values and the
placement as an eighth column, so "identity kept" also requires the face to stay where it was.
"""

from __future__ import annotations

import torch

from .world import ATTRIBUTES, INDEX, N_VALUES, all_combinations, caption, draw, tokens

__all__ = ["ATTRIBUTES", "INDEX", "N_VALUES", "caption", "tokens"]

SIZE = 64
#: (x0, y0, scale): the 32x32 design grid's corner on the canvas and pixels per design pixel.
#: Six small faces on a 3x2 grid and two large ones; none leaves the canvas.
PLACEMENTS: tuple[tuple[float, float, float], ...] = (
    (0.0, 2.0, 1.0),
    (16.0, 2.0, 1.0),
    (32.0, 2.0, 1.0),
    (0.0, 30.0, 1.0),
    (16.0, 30.0, 1.0),
    (32.0, 30.0, 1.0),
    (0.0, 8.0, 1.5),
    (20.0, 8.0, 1.5),
)

_TEMPLATES: tuple[torch.Tensor, torch.Tensor] | None = None


def templates() -> tuple[torch.Tensor, torch.Tensor]:
    """(labels [9216, 8]: seven 0-based attribute values and the placement index,
    images [9216, 3, 64, 64]); built once and cached."""
    global _TEMPLATES
    if _TEMPLATES is None:
        combos = all_combinations()
        labels, images = [], []
        for p, placement in enumerate(PLACEMENTS):
            labels.append(torch.cat([combos, torch.full((len(combos), 1), p)], dim=1))
            images.extend(draw(tuple(int(v) for v in row), placement, SIZE) for row in combos)
        _TEMPLATES = (torch.cat(labels), torch.stack(images))
    return _TEMPLATES


def read_attributes(images: torch.Tensor, chunk: int = 256) -> tuple[torch.Tensor, torch.Tensor]:
    """Nearest-template read-out.

    images: [B, 3, 64, 64] in [0, 1]. Returns (values [B, 8]: seven attributes and the
    placement, rms distance [B]).
    """
    labels, tmpl = templates()
    flat_t = tmpl.flatten(1)
    t2 = (flat_t * flat_t).sum(1)
    best, best_d2 = [], []
    for i in range(0, images.shape[0], chunk):
        flat_i = images[i : i + chunk].detach().float().clamp(0, 1).flatten(1)
        d2 = ((flat_i * flat_i).sum(1, keepdim=True) - 2.0 * flat_i @ flat_t.T + t2).clamp_min(0)
        d, j = d2.min(1)
        best.append(j)
        best_d2.append(d)
    j, d = torch.cat(best), torch.cat(best_d2)
    return labels[j], (d / flat_t.shape[1]).sqrt()


def edit_region(attribute: str) -> torch.Tensor:
    """Pixels an edit of ``attribute`` may change at any placement. [64, 64] bool."""
    labels, tmpl = templates()
    i = INDEX[attribute]
    region = torch.zeros(SIZE, SIZE, dtype=torch.bool)
    n_combos = len(labels) // len(PLACEMENTS)
    for v in range(N_VALUES[i]):
        other = labels.clone()
        other[:, i] = v
        idx = _label_index(other, n_combos)
        region |= (tmpl[idx] - tmpl).abs().amax(dim=(0, 1)) > 1e-6
    return region


def _label_index(labels: torch.Tensor, n_combos: int) -> torch.Tensor:
    """Row index in ``templates()`` of each label row [N, 8] -> [N]."""
    idx = torch.zeros(labels.shape[0], dtype=torch.long)
    for i, n in enumerate(N_VALUES):
        idx = idx * n + labels[:, i]
    return labels[:, -1] * n_combos + idx
