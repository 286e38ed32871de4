"""The README's picture of the edit, drawn from the second test world (faces placed on a 64x64
canvas by the seed, cross-attention UNet: the more Stable-Diffusion-like of the two).

    python -m benchmarks.semantic.picture        # writes docs/edit_picture.png

Rows: the first four held-out seeds of the sweeps, not picked for the result (none of them
smiles unedited). Columns: the unedited image; the pack's default edit (``default_edit``) at
several strengths; and the two native ComfyUI graphs a user would compare it with, the prompt
switch at step k and the prompt window. The edit is "smile": source prompt empty, target
prompt ``mouth=smiling`` (``pipeline.EDITS``).

``tests/semantic/test_picture.py`` checks that the committed PNG is what this draws now.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import torch  # noqa: E402
from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from PIL import Image  # noqa: E402

import svd_core  # noqa: E402

from . import world  # noqa: E402
from .models import World, load_world  # noqa: E402
from .sweeps import TEST_SEED0  # noqa: E402

PICTURE = Path(__file__).resolve().parents[2] / "docs" / "edit_picture.png"
SEEDS = tuple(range(TEST_SEED0, TEST_SEED0 + 4))
TRAIN_SEEDS = tuple(range(16))
STEPS = 20  # the worlds' sampler steps (load_world's default)
K = 6  # round(0.3 N), the pack's default edit step
DELTA = 2  # the branches' length: the edit goes on the source branch at K + DELTA
WINDOW = 2  # steps of target prompt in the native prompt window
STRENGTHS = (-1.0, 0.5, 1.0, 2.0)
SOURCE = world.tokens()
TARGET = world.tokens(mouth="smiling")

# Layout in pixels; the figure is drawn 1:1 (figimage, no resampling) so that the picture is
# the same bytes on every run.
SCALE = 2  # nearest-neighbour upscaling of the 64x64 images
GAP, GROUP_GAP = 6, 18
LEFT, TOP, BOTTOM, RIGHT = 92, 104, 64, 12
DPI = 100


def default_edit(w: World, seeds: Sequence[int], k: int, strengths: Sequence[float]):
    """The pack's default edit as the blueprints wire it: branched pairs, delta 2,
    ``ks = kt = 16``, the attribute learned once on ``TRAIN_SEEDS``; each seed's own source
    and target branch at apply time, the edit added to the source branch where the branches
    differ (local).

    Returns the edited latents at step k + DELTA, [len(strengths), len(seeds), 4, L, L]: one
    slice per strength, to be continued with the source prompt from step k + DELTA.
    """
    delta = DELTA

    def branches(s: Sequence[int]):
        x = w.run(SOURCE, s, 0, k)
        x_s = w.run(SOURCE, s, k, k + delta, x_start=x)
        z_t = w.run(TARGET, s, k, k + delta, x_start=x)
        return x, x_s, z_t

    _, xs_train, zt_train = branches(TRAIN_SEEDS)
    attribute = svd_core.learn_attribute(
        svd_core.decompose(xs_train),
        svd_core.decompose(zt_train),
        svd_core.AVIConfig(ks=16, kt=16),
        name="smile",
        pair_mode="branched",
        step=k,
        delta=delta,
    )
    _, x_s, z_t = (svd_core.decompose(t) for t in branches(seeds))
    return torch.stack(
        [
            svd_core.recompose(
                svd_core.apply_attribute(x_s, attribute, z_t, s, source_branch=x_s, local=True)
            )
            for s in strengths
        ]
    )


def columns(w: World) -> tuple[list[str], torch.Tensor]:
    """Column labels and the images, [columns, len(SEEDS), 3, S, S] in 0..1."""
    n = len(SEEDS)
    x = w.run(SOURCE, SEEDS, 0, K)
    edited = default_edit(w, SEEDS, K, STRENGTHS).flatten(0, 1)
    # Native prompt switch: the target prompt from step k to the end.
    switch = w.run(TARGET, SEEDS, K, w.steps, x_start=x)
    # Native prompt window: the target prompt from k for WINDOW steps, then the source again.
    window = w.run(TARGET, SEEDS, K, K + WINDOW, x_start=x)
    window = w.run(SOURCE, SEEDS, K + WINDOW, w.steps, x_start=window)
    # The unedited image, and every strength in one batch: the sampler treats rows apart.
    plain = w.run(SOURCE, SEEDS, K, w.steps, x_start=x)
    edited = w.run(SOURCE, SEEDS * len(STRENGTHS), K + DELTA, w.steps, x_start=edited)
    rest = torch.cat([plain, edited])
    images = w.decode(torch.cat([rest, switch, window])).clamp(0, 1)
    labels = [
        "unedited",
        *(f"strength {s:g}" for s in STRENGTHS),
        f"switch at step {K}",
        f"window, steps {K}-{K + WINDOW}",
    ]
    return labels, images.reshape(len(labels), n, *images.shape[1:])


def _x_positions(count: int, cell: int) -> list[int]:
    """Left edge of each column: unedited | the pack's edit | native graphs, groups apart."""
    xs, x = [], LEFT
    for i in range(count):
        xs.append(x)
        x += cell + (GROUP_GAP if i in (0, count - 3) else GAP)
    return xs


def render(labels: Sequence[str], images: torch.Tensor) -> np.ndarray:
    """The picture as uint8 RGB, [H, W, 3]. images: [columns, rows, 3, S, S] in 0..1."""
    n_col, n_row, _, size, _ = images.shape
    cell = size * SCALE
    xs = _x_positions(n_col, cell)
    width = xs[-1] + cell + RIGHT
    height = TOP + n_row * cell + (n_row - 1) * GAP + BOTTOM
    fig = Figure(figsize=(width / DPI, height / DPI), dpi=DPI, facecolor="white")
    canvas = FigureCanvasAgg(fig)
    pixels = (images * 255).round().to(torch.uint8)
    pixels = pixels.repeat_interleave(SCALE, -1).repeat_interleave(SCALE, -2)
    for c in range(n_col):
        for r in range(n_row):
            y_top = TOP + r * (cell + GAP)
            # figimage counts y from the bottom and draws row 0 of the array at the top.
            fig.figimage(pixels[c, r].permute(1, 2, 0).numpy(), xo=xs[c], yo=height - y_top - cell)

    def text(x: float, y: float, s: str, **kw) -> None:
        fig.text(x / width, 1 - y / height, s, fontsize=kw.pop("fontsize", 10), **kw)

    text(
        LEFT,
        10,
        "Smile edit on the pack's tiny TEST model, not Stable Diffusion",
        fontsize=12,
        weight="bold",
        va="top",
    )
    text(
        LEFT,
        30,
        f"Second test world: faces placed by the seed on 64x64 px; {STEPS} steps, edit at step {K}",
        fontsize=9,
        va="top",
    )
    mid = (xs[1] + xs[len(STRENGTHS)] + cell) / 2
    text(mid, 72, "this pack's default edit", ha="center", va="bottom", weight="bold")
    mid = (xs[-2] + xs[-1] + cell) / 2
    text(mid, 72, "native ComfyUI graphs", ha="center", va="bottom", weight="bold")
    for c, label in enumerate(labels):
        text(xs[c] + cell / 2, TOP - 8, label, ha="center", va="bottom", fontsize=9)
    for r, seed in enumerate(SEEDS):
        y = TOP + r * (cell + GAP) + cell / 2
        text(LEFT - 10, y, f"seed\n{seed}", ha="right", va="center", fontsize=9)
    text(
        LEFT,
        height - 8,
        'Source prompt empty, target prompt "mouth=smiling". The pack\'s edit: ks = kt = 16, '
        f"learned once on seeds 0-{TRAIN_SEEDS[-1]};\neach seed's own branches from step {K} to "
        f"{K + DELTA}, the edit added to the source branch where they differ (local).\n"
        f"Switch: the target prompt from step {K} to the end. Window: the target prompt for "
        f"{WINDOW} steps from step {K}, then the source prompt again.",
        fontsize=8,
        va="bottom",
    )
    canvas.draw()
    return np.asarray(canvas.buffer_rgba())[..., :3].copy()


def draw() -> np.ndarray:
    """The whole picture from the committed weights, computed on one torch thread (more
    threads may round the UNet's sums differently and move a pixel by a level)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return render(*columns(load_world("placed", steps=STEPS)))
    finally:
        torch.set_num_threads(threads)


def main() -> None:
    t0 = time.perf_counter()
    # PIL writes no date or software tag: the file changes only when the picture does.
    Image.fromarray(draw()).save(PICTURE, optimize=True)
    print(f"wrote {PICTURE} in {time.perf_counter() - t0:.1f} s")


if __name__ == "__main__":
    main()
