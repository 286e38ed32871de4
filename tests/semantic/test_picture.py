"""The README's picture of the edit (docs/edit_picture.png) is what
benchmarks/semantic/picture.py draws now from the committed weights."""

from __future__ import annotations

import numpy as np
from PIL import Image

from benchmarks.semantic import picture

REDRAW = "python -m benchmarks.semantic.picture"


def test_committed_picture_is_what_the_script_draws() -> None:
    drawn = picture.draw()
    committed = np.asarray(Image.open(picture.PICTURE).convert("RGB"))
    assert drawn.shape == committed.shape, f"layout changed: redraw with `{REDRAW}`"
    diff = np.abs(drawn.astype(np.int16) - committed.astype(np.int16))
    # One level of 255: a float sum rounded on the other side of .5 on another CPU. Any
    # change of the edit, the weights, the seeds or the labels moves pixels much further.
    changed = int((diff > 1).sum())
    assert changed == 0, (
        f"{changed} pixel values differ by more than 1/255 (max {int(diff.max())}): "
        f"redraw with `{REDRAW}` and commit docs/edit_picture.png"
    )
