"""Reading the test world's images back out of ComfyUI's saved PNGs (the world's own read-out)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from PIL import Image

from benchmarks.semantic import world

MOUTH = world.INDEX["mouth"]
SMILING = world.ATTRIBUTES[MOUTH].values.index("smiling")


def load_png(path: Path) -> torch.Tensor:
    """A saved PNG -> [3, H, W] float in 0..1."""
    with Image.open(path) as im:
        arr = np.asarray(im.convert("RGB"), dtype=np.float32) / 255.0
    return torch.from_numpy(arr).permute(2, 0, 1)


def split_row(image: torch.Tensor, scale: int, side: int, gap: int) -> list[torch.Tensor]:
    """A stitched, ``scale``-times enlarged row of faces -> the faces at their own size.

    image [3, side * scale, (n * side + (n - 1) * gap) * scale] -> n x [3, side, side].
    """
    small = image[:, scale // 2 :: scale, scale // 2 :: scale]  # nearest-exact enlargement
    n = (small.shape[2] + gap) // (side + gap)
    return [small[:, :, i * (side + gap) : i * (side + gap) + side] for i in range(n)]


def read_columns(paths: list[Path], scale: int = 4, side: int = 32, gap: int = 2) -> torch.Tensor:
    """Saved rows (one per seed) -> the read-out attribute values, [columns, seeds, 7]."""
    faces = [split_row(load_png(p), scale, side, gap) for p in paths]
    columns = torch.stack([torch.stack(row) for row in faces], dim=1)  # [n, seeds, 3, S, S]
    return torch.stack([world.read_attributes(col)[0] for col in columns])


def smiles(values: torch.Tensor) -> torch.Tensor:
    """[..., 7] read-out -> [...] bool: the mouth reads "smiling"."""
    return values[..., MOUTH] == SMILING


def identity_kept(edited: torch.Tensor, source: torch.Tensor) -> torch.Tensor:
    """[seeds, 7] each -> [seeds] bool: every attribute but the mouth unchanged."""
    others = [i for i in range(edited.shape[-1]) if i != MOUTH]
    return (edited[:, others] == source[:, others]).all(dim=1)
