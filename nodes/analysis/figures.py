"""Matplotlib figures for the analysis nodes: pure (torch + matplotlib), no ComfyUI imports.

Every builder returns a `matplotlib.figure.Figure` drawn on its own Agg canvas (never pyplot:
pyplot keeps global state and would switch the backend for every other pack in the process).
`render` turns a figure into a ComfyUI IMAGE tensor [1, H, W, 3] of exactly the requested size.
Identical inputs give identical pixels: fixed DPI and size, matplotlib's default style with the
bundled DejaVu fonts (a user's matplotlibrc is ignored), and no file metadata (we read the raw
canvas buffer, not a saved PNG).
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import NamedTuple

import matplotlib
import matplotlib.style
import numpy as np
import torch
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import LineCollection
from matplotlib.colors import Normalize
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.ticker import NullLocator

DPI = 100
MIN_SIDE = 128
MAX_SIDE = 4096
# Beyond these a figure is unreadable and slow to draw (LTX-Video latents have 128 channels).
MAX_PANELS = 64
MAX_TILES = 256

# Overrides on top of matplotlib's defaults; the defaults themselves are re-applied by
# style "default" so that a user's matplotlibrc cannot change our pixels.
_STYLE: dict[str, object] = {
    "font.family": "DejaVu Sans",
    "font.size": 8.0,
    "axes.titlesize": 8.0,
    "axes.labelsize": 8.0,
    "xtick.labelsize": 7.0,
    "ytick.labelsize": 7.0,
    "legend.fontsize": 7.0,
    "figure.titlesize": 10.0,
    "figure.dpi": DPI,
    "savefig.dpi": DPI,
    "image.interpolation": "nearest",
}

# Line styles tell the overlaid latents apart in every channel's panel.
_SERIES_STYLES: tuple[dict[str, object], ...] = (
    {"color": "tab:blue", "linestyle": "-", "marker": "o"},
    {"color": "tab:orange", "linestyle": "--", "marker": "s"},
)


@contextmanager
def figure_style() -> Iterator[None]:
    """Matplotlib's default style plus our fixed sizes; wraps both building and drawing."""
    with matplotlib.style.context("default"), matplotlib.rc_context(_STYLE):
        yield


def check_size(width: int, height: int) -> None:
    """Refuse sizes that cannot hold a readable plot or that would exhaust memory."""
    for name, value in (("width", width), ("height", height)):
        if not MIN_SIDE <= int(value) <= MAX_SIDE:
            raise ValueError(
                f"the image {name} must be between {MIN_SIDE} and {MAX_SIDE} pixels, got {value}"
            )


def new_figure(width: int, height: int, constrained: bool = True) -> Figure:
    """A figure of exactly width x height pixels on its own Agg canvas.

    ``constrained``: matplotlib's constrained layout, right for a figure of one or two axes;
    panel grids place their axes with :func:`panel_grid` instead (constrained layout measures
    every tick label of every panel and cost seconds on a 16-channel grid).
    """
    check_size(width, height)
    layout = "constrained" if constrained else None
    fig = Figure(figsize=(width / DPI, height / DPI), dpi=DPI, layout=layout)
    FigureCanvasAgg(fig)
    return fig


class _Grid(NamedTuple):
    """Pixel geometry of a panel grid: outer margins, gaps between panels, panel size."""

    left: float
    right: float
    top: float
    bottom: float
    col_gap: float
    row_gap: float
    panel_w: float
    panel_h: float


def _grid_geometry(
    width: float,
    height: float,
    rows: int,
    cols: int,
    margins: tuple[int, int, int, int],
    gaps: tuple[int, int],
    square: bool,
) -> _Grid:
    """Where the panels of :func:`panel_grid` go, in pixels (see there)."""
    left, right, top, bottom = margins
    col_gap, row_gap = gaps
    left, right, col_gap, panel_w = _fit(width, left, right, col_gap, cols)
    top, bottom, row_gap, panel_h = _fit(height, top, bottom, row_gap, rows)
    if square:
        side = min(panel_w, panel_h)
        extra_x, extra_y = cols * (panel_w - side) / 2.0, rows * (panel_h - side) / 2.0
        left, right, top, bottom = left + extra_x, right + extra_x, top + extra_y, bottom + extra_y
        panel_w = panel_h = side
    return _Grid(left, right, top, bottom, col_gap, row_gap, panel_w, panel_h)


def panel_grid(
    fig: Figure,
    rows: int,
    cols: int,
    margins: tuple[int, int, int, int],
    gaps: tuple[int, int],
    square: bool = False,
) -> np.ndarray:
    """A ``rows x cols`` array of axes placed with fixed pixel margins and gaps.

    margins: ``(left, right, top, bottom)`` pixels around the grid (room for the outer
    labels, the title, a colour bar); gaps: ``(between columns, between rows)`` pixels (room
    for a panel's tick labels and the next panel's title). On figures too small for them the
    margins shrink to half of each side at most, and the gaps to half of what is left, so the
    panels always keep a quarter. ``square``: square panels (heat maps of square matrices),
    the grid centred in the space left over.
    """
    width, height = fig.bbox.width, fig.bbox.height
    g = _grid_geometry(width, height, rows, cols, margins, gaps, square)
    return fig.subplots(
        rows,
        cols,
        squeeze=False,
        gridspec_kw={
            "left": g.left / width,
            "right": 1.0 - g.right / width,
            "top": 1.0 - g.top / height,
            "bottom": g.bottom / height,
            "wspace": g.col_gap / g.panel_w,
            "hspace": g.row_gap / g.panel_h,
        },
    )


def _fit(
    size: float, before: float, after: float, gap: float, count: int
) -> tuple[float, float, float, float]:
    """Margins, gap and panel size in pixels along one side of :func:`panel_grid`."""
    shrink = min(1.0, 0.5 * size / ((before + after) or 1.0))
    before, after = before * shrink, after * shrink
    rest = size - before - after
    gap = gap * min(1.0, 0.5 * rest / ((gap * (count - 1)) or 1.0))
    return before, after, gap, (rest - gap * (count - 1)) / count


def render(fig: Figure, width: int, height: int) -> torch.Tensor:
    """Draw `fig` and return it as a ComfyUI IMAGE: float32 [1, height, width, 3] in 0..1."""
    with figure_style():
        canvas = fig.canvas
        if not isinstance(canvas, FigureCanvasAgg):
            canvas = FigureCanvasAgg(fig)
        canvas.draw()
        rgba = np.asarray(canvas.buffer_rgba())
    rgb = np.ascontiguousarray(rgba[..., :3])
    # figsize * dpi is float arithmetic: pin the exact documented size (white padding if short).
    out = np.full((height, width, 3), 255, dtype=np.uint8)
    h, w = min(height, rgb.shape[0]), min(width, rgb.shape[1])
    out[:h, :w] = rgb[:h, :w]
    return torch.from_numpy(out).to(torch.float32).div_(255.0).unsqueeze(0)


def _grid(count: int) -> tuple[int, int]:
    """Rows and columns of a near-square panel grid for `count` panels."""
    cols = max(1, math.ceil(math.sqrt(count)))
    rows = max(1, math.ceil(count / cols))
    return rows, cols


def spectrum_figure(
    spectra: Sequence[torch.Tensor],
    labels: Sequence[str],
    width: int,
    height: int,
    title: str = "",
    channel_numbers: Sequence[int] | None = None,
) -> Figure:
    """One log-scale panel per channel with every spectrum overlaid.

    spectra: one or two tensors [C, r] (the singular values of one batch item, descending);
    they must share C (r may differ, e.g. two truncation ranks). Line j of panel c is
    spectra[j][c] against the 1-based index i, so callers and tests can read the plotted
    numbers back from `fig.axes[c].lines[j]`. channel_numbers: the latent channel of each
    row (panel titles), default 0..C-1.
    """
    channels = int(spectra[0].shape[0])
    if any(s.ndim != 2 or int(s.shape[0]) != channels for s in spectra):
        raise ValueError(
            "the two latents have different channel counts "
            f"({', '.join(str(tuple(s.shape)) for s in spectra)}): compare latents of one family"
        )
    if channels > MAX_PANELS:
        raise ValueError(
            f"{channels} channel panels do not fit one figure (at most {MAX_PANELS}): pick "
            "channels with the 'channels' input, e.g. '0-15'."
        )
    numbers = list(range(channels)) if channel_numbers is None else list(channel_numbers)
    with figure_style():
        fig = new_figure(width, height, constrained=False)
        rows, cols = _grid(channels)
        axes = panel_grid(fig, rows, cols, margins=(62, 12, 44, 36), gaps=(44, 38))
        for c in range(rows * cols):
            ax = axes[c // cols][c % cols]
            if c >= channels:
                ax.set_axis_off()
                continue
            for j, (values, label) in enumerate(zip(spectra, labels, strict=True)):
                y = values[c].detach().to("cpu", torch.float64).numpy()
                x = np.arange(1, y.shape[0] + 1)
                ax.plot(x, y, label=label, markersize=2.5, linewidth=1.0, **_SERIES_STYLES[j])
            # A log axis needs a positive value (an empty latent's channels are all zero).
            if any(bool((values[c] > 0).any()) for values in spectra):
                ax.set_yscale("log")
                # Decades only: minor ticks on 16 log axes cost most of the drawing time.
                ax.yaxis.set_minor_locator(NullLocator())
            else:
                ax.text(
                    0.5,
                    0.5,
                    "all singular values are 0",
                    transform=ax.transAxes,
                    ha="center",
                    va="center",
                )
            # A fixed title height (y=1): automatic placement measures every tick label.
            ax.set_title(f"channel {numbers[c]}", y=1.0, pad=3.0)
            ax.grid(True, which="major", alpha=0.3)
            if c % cols == 0:
                ax.set_ylabel("singular value $s_i$")
            if c // cols == rows - 1 or c + cols >= channels:
                ax.set_xlabel("index $i$")
        axes[0][0].legend(loc="upper right")
        fig.suptitle(title or "Singular value spectrum per channel")
    return fig


def components_figure(
    components: torch.Tensor,
    singular_values: torch.Tensor,
    channels: Sequence[int],
    width: int,
    height: int,
    title: str = "",
    weighted: bool = False,
) -> Figure:
    """Heat maps of rank-1 components: one row per channel, one column per index.

    components: [len(channels), n, H, W] (u_i v_i^T, or s_i u_i v_i^T when weighted);
    singular_values: [len(channels), n]. One symmetric colour scale for the whole grid, so
    tiles compare; the colour bar is the legend. The tiles are images on one axes in pixel
    coordinates (``fig.axes[0]``; an axes per tile cost most of the drawing time):
    ``fig.axes[0].images[row * n + i]`` holds the tile's array, ``fig.axes[0].texts`` the
    tile titles ("i=..  s=..", row by row) and the channel labels.
    """
    rows, n = int(components.shape[0]), int(components.shape[1])
    if rows * n > MAX_TILES:
        raise ValueError(
            f"{rows} channels x {n} components = {rows * n} heat maps do not fit one figure "
            f"(at most {MAX_TILES}): pick fewer channels or a smaller count."
        )
    data = components.detach().to("cpu", torch.float64).numpy()
    values = singular_values.detach().to("cpu", torch.float64).numpy()
    vmax = float(np.abs(data).max()) or 1.0
    norm = Normalize(vmin=-vmax, vmax=vmax)
    with figure_style():
        fig = new_figure(width, height, constrained=False)
        w, h = fig.bbox.width, fig.bbox.height
        # Square tiles (most latents are square); the channel labels read horizontally.
        g = _grid_geometry(w, h, rows, n, (70, 100, 44, 8), (56, 16), square=True)
        side = g.panel_w
        ax = fig.add_axes((0.0, 0.0, 1.0, 1.0))
        ax.set_axis_off()
        # Built once: every text would otherwise resolve its font from the rc settings.
        heads = {"fontproperties": FontProperties(size=7.0), "ha": "center", "va": "bottom"}
        labels = {
            "fontproperties": FontProperties(size=matplotlib.rcParams["axes.labelsize"]),
            "ha": "right",
            "va": "center",
        }
        image = None
        frames = []
        for r in range(rows):
            y = g.top + r * (side + g.row_gap)
            for i in range(n):
                x = g.left + i * (side + g.col_gap)
                frames.append([(x, y), (x + side, y), (x + side, y + side), (x, y + side), (x, y)])
                image = ax.imshow(
                    data[r, i],
                    cmap="RdBu_r",
                    norm=norm,
                    extent=(x, x + side, y + side, y),
                    aspect="auto",
                )
                ax.text(x + side / 2.0, y - 2.0, f"i={i + 1}  s={values[r, i]:.3g}", **heads)
            ax.text(g.left - 6.0, y + side / 2.0, f"channel {channels[r]}", **labels)
        # Every tile's frame (an axes' spines) as one artist.
        lw = matplotlib.rcParams["axes.linewidth"]
        ax.add_collection(LineCollection(frames, colors="black", linewidths=lw))
        # Pixel coordinates, y downwards like the figure's rows.
        ax.set_xlim(0.0, w)
        ax.set_ylim(h, 0.0)
        label = "$s_i u_i v_i^T$" if weighted else "$u_i v_i^T$"
        # The colour bar sits in the grid's right margin (fixed pixels, like the grid).
        bar = fig.add_axes((1.0 - min(84.0 / w, 0.2), 0.1, min(12.0 / w, 0.03), 0.8))
        fig.colorbar(image, cax=bar, label=f"component value {label}")
        fig.suptitle(title or f"Top {n} rank-1 components {label} per channel")
    return fig


def distance_figure(
    distances: torch.Tensor,
    k: int,
    width: int,
    height: int,
    title: str = "",
) -> Figure:
    """Bar chart of Grassmann distances per channel with the orthogonal-subspace maximum.

    distances: [B, C] (one row per batch item, or per (batch item, frame) for video). The bar
    of channel c is the mean over rows; with more than one row the single values are drawn as
    points on top. `fig.axes[0].patches` are the bars.
    """
    data = distances.detach().to("cpu", torch.float64).numpy()
    channels = data.shape[1]
    x = np.arange(channels)
    maximum = (math.pi / 2.0) * math.sqrt(k)
    with figure_style():
        fig = new_figure(width, height, constrained=False)
        ax = panel_grid(fig, 1, 1, margins=(64, 16, 36, 44), gaps=(0, 0))[0][0]
        bars = ax.bar(x, data.mean(axis=0), color="tab:blue", label=f"distance, top-{k} subspaces")
        ax.bar_label(bars, fmt="%.3g", fontsize=7, padding=2)
        if data.shape[0] > 1:
            xs = np.broadcast_to(x, data.shape).ravel()
            ax.scatter(xs, data.ravel(), color="black", s=6, zorder=3, label="single items")
        ax.axhline(
            maximum,
            color="tab:red",
            linestyle="--",
            label=rf"orthogonal maximum $(\pi/2)\sqrt{{k}}$ = {maximum:.3g}",
        )
        ax.set_xticks(x, [str(c) for c in x])
        ax.set_xlabel("channel")
        ax.set_ylabel("Grassmann geodesic distance")
        # Headroom above the maximum line keeps the legend off the bars and the line.
        ax.set_ylim(0.0, maximum * 1.3)
        ax.legend(loc="upper center", ncols=3)
        ax.grid(True, axis="y", alpha=0.3)
        fig.suptitle(title or "Subspace distance per channel")
    return fig
