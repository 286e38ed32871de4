"""Draw docs/icon.png, the pack's registry icon: a latent channel as a heat map beside the
bars of its largest singular values.

    python docs/draw_icon.py

Deterministic (seeded latent, Agg canvas, no file metadata beyond matplotlib's defaults);
400 x 400 pixels.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

SIZE = 400
DPI = 100
OUT = Path(__file__).resolve().parent / "icon.png"


def latent_channel(seed: int = 7, n: int = 32) -> np.ndarray:
    """A smooth, low-rank-looking 'latent channel': a few rank-1 waves plus a little noise."""
    rng = np.random.default_rng(seed)
    t = np.linspace(0.0, np.pi, n)
    waves = [(3.0, 1, 1), (1.8, 2, 1), (1.1, 1, 3), (0.7, 3, 2)]
    x = sum(s * np.outer(np.sin(a * t), np.cos(b * t)) for s, a, b in waves)
    return x + 0.15 * rng.standard_normal((n, n))


def draw(path: Path = OUT) -> Path:
    x = latent_channel()
    s = np.linalg.svd(x, compute_uv=False)[:6]
    fig = Figure(figsize=(SIZE / DPI, SIZE / DPI), dpi=DPI, facecolor="#101820")
    FigureCanvasAgg(fig)
    heat = fig.add_axes((0.06, 0.30, 0.62, 0.64))
    heat.imshow(x, cmap="RdBu_r", vmin=-np.abs(x).max(), vmax=np.abs(x).max())
    heat.set_axis_off()
    bars = fig.add_axes((0.72, 0.30, 0.24, 0.64), facecolor="#101820")
    bars.barh(np.arange(len(s)), s / s[0], color=["#f2a541", *["#5fa8d3"] * (len(s) - 1)])
    bars.invert_yaxis()
    bars.set_xlim(0, 1.05)
    bars.set_axis_off()
    fig.text(
        0.5,
        0.14,
        "latent  =  U diag(s) Vᵀ",
        color="white",
        ha="center",
        va="center",
        fontsize=17,
        family="DejaVu Sans",
    )
    fig.savefig(path, dpi=DPI, facecolor=fig.get_facecolor())
    return path


if __name__ == "__main__":
    print(draw())
