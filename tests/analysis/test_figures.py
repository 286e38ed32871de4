"""The figures: documented size, not blank, deterministic, and the drawn numbers are the data."""

from __future__ import annotations

import math

import matplotlib
import numpy as np
import pytest
import torch

from svd_core import decompose, rank_one_components


def _latent(seed: int, shape: tuple[int, ...] = (1, 4, 16, 12), scale: float = 1.0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(shape, generator=g) * scale


def _assert_not_blank(image: torch.Tensor) -> None:
    pixels = image[0].reshape(-1, 3)
    assert float(pixels.min()) < 0.2 and float(pixels.max()) > 0.9  # dark ink on light paper
    assert len(torch.unique(pixels, dim=0)) > 50  # lines, text, colours: not a flat fill


@pytest.mark.parametrize(("width", "height"), [(333, 211), (517, 389)])
def test_render_has_the_requested_size(figures, width: int, height: int) -> None:
    s = decompose(_latent(0)).S[0]
    image = figures.render(figures.spectrum_figure([s], ["a"], width, height), width, height)
    assert image.shape == (1, height, width, 3) and image.dtype == torch.float32
    assert 0.0 <= float(image.min()) and float(image.max()) <= 1.0
    _assert_not_blank(image)


def test_size_limits_are_explained(figures) -> None:
    with pytest.raises(ValueError, match="width must be between 128 and 4096"):
        figures.new_figure(64, 512)


def test_spectrum_draws_exactly_s_on_a_log_axis(figures) -> None:
    a, b = decompose(_latent(1)), decompose(_latent(2, scale=3.0))
    fig = figures.spectrum_figure([a.S[0], b.S[0]], ["before", "after"], 800, 600, "t")
    panels = [ax for ax in fig.axes if ax.lines]
    assert len(panels) == 4  # one per channel
    for c, ax in enumerate(panels):
        assert ax.get_yscale() == "log" and ax.get_title() == f"channel {c}"
        for j, svd in enumerate((a, b)):
            x, y = ax.lines[j].get_data()
            np.testing.assert_array_equal(np.asarray(y), svd.S[0, c].double().numpy())
            np.testing.assert_array_equal(np.asarray(x), np.arange(1, svd.rank + 1))
    legend = panels[0].get_legend()
    assert [t.get_text() for t in legend.get_texts()] == ["before", "after"]
    assert panels[0].get_ylabel() and panels[-1].get_xlabel() == "index $i$"


def test_spectrum_grid_fits_sixteen_channels_and_refuses_mixed_families(figures) -> None:
    s16 = decompose(_latent(3, (1, 16, 8, 8))).S[0]
    fig = figures.spectrum_figure([s16], ["flux"], 1024, 768)
    assert sum(1 for ax in fig.axes if ax.lines) == 16
    s4 = decompose(_latent(3, (1, 4, 8, 8))).S[0]
    with pytest.raises(ValueError, match="different channel counts"):
        figures.spectrum_figure([s16, s4], ["a", "b"], 1024, 768)


def test_identical_inputs_give_identical_pixels_whatever_the_user_style(figures) -> None:
    s = decompose(_latent(4)).S[0]
    first = figures.render(figures.spectrum_figure([s], ["x"], 400, 300), 400, 300)
    # A user's style must not leak into our figures.
    with matplotlib.rc_context({"lines.linewidth": 5.0, "axes.facecolor": "black"}):
        second = figures.render(figures.spectrum_figure([s], ["x"], 400, 300), 400, 300)
    assert torch.equal(first, second)
    other = figures.render(figures.spectrum_figure([s * 2], ["x"], 400, 300), 400, 300)
    assert not torch.equal(first, other)


def test_components_tiles_are_the_rank_one_components(figures) -> None:
    svd = decompose(_latent(5))
    comps = rank_one_components(svd, 3)[0]  # [C, 3, H, W]
    chosen = [2, 0]
    fig = figures.components_figure(comps[chosen], svd.S[0, chosen, :3], chosen, 900, 600)
    grid = fig.axes[0]
    assert len(grid.images) == 6
    vmax = float(comps[chosen].abs().max())
    for idx, tile in enumerate(grid.images):
        r, i = divmod(idx, 3)
        np.testing.assert_allclose(tile.get_array(), comps[chosen[r], i].double().numpy())
        assert tile.get_clim() == pytest.approx((-vmax, vmax))  # one shared scale
    texts = [t.get_text() for t in grid.texts]
    assert [t.split()[0] for t in texts if t.startswith("i=")] == ["i=1", "i=2", "i=3"] * 2
    assert [t for t in texts if t.startswith("channel")] == ["channel 2", "channel 0"]
    image = figures.render(fig, 900, 600)
    assert image.shape == (1, 600, 900, 3)
    _assert_not_blank(image)


def test_distance_bars_are_per_channel_means_with_the_orthogonal_maximum(figures) -> None:
    d = torch.tensor([[0.5, 1.0, 2.0, 0.0], [1.5, 1.0, 0.0, 0.0]])
    fig = figures.distance_figure(d, 4, 768, 512)
    ax = fig.axes[0]
    heights = [p.get_height() for p in ax.patches]
    np.testing.assert_allclose(heights, [1.0, 1.0, 1.0, 0.0])
    ref = [ln for ln in ax.lines if ln.get_linestyle() == "--"]
    assert ref and ref[0].get_ydata()[0] == pytest.approx(math.pi / 2 * 2)
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert any("maximum" in t for t in labels) and any("single items" in t for t in labels)
    assert ax.get_xlabel() == "channel" and "distance" in ax.get_ylabel()
    _assert_not_blank(figures.render(fig, 768, 512))


def test_an_all_zero_channel_gets_a_linear_axis_and_a_note(figures, recwarn) -> None:
    s = decompose(_latent(6, (1, 2, 8, 8))).S[0]
    s[1] = 0.0  # e.g. an empty latent's channel
    fig = figures.spectrum_figure([s], ["empty"], 400, 300)
    figures.render(fig, 400, 300)
    assert [ax.get_yscale() for ax in fig.axes if ax.lines] == ["log", "linear"]
    assert "all singular values are 0" in [t.get_text() for t in fig.axes[1].texts]
    assert not [w for w in recwarn if "log" in str(w.message)]


def test_panel_titles_follow_the_chosen_channels_and_sizes_are_bounded(figures) -> None:
    s = decompose(_latent(7, (1, 3, 8, 8))).S[0]
    fig = figures.spectrum_figure([s], ["x"], 400, 300, channel_numbers=[4, 9, 11])
    assert [ax.get_title() for ax in fig.axes if ax.lines] == [
        "channel 4",
        "channel 9",
        "channel 11",
    ]
    many = torch.ones(figures.MAX_PANELS + 1, 4)
    with pytest.raises(ValueError, match="pick channels with the 'channels' input"):
        figures.spectrum_figure([many], ["x"], 400, 300)
    tiles = torch.zeros(17, 16, 2, 2)
    with pytest.raises(ValueError, match="17 channels x 16 components = 272 heat maps"):
        figures.components_figure(tiles, torch.zeros(17, 16), list(range(17)), 400, 300)
