"""The sweeps' scoring: identity read off a strength curve at matched success."""

from __future__ import annotations

import math

import torch

from benchmarks.semantic import world
from benchmarks.semantic.pipeline import EDITS
from benchmarks.semantic.sweeps import at_level, interpolate, judge_edit


def test_identity_is_interpolated_where_success_first_reaches_the_level() -> None:
    # strength 0 (source), 1, 2: success 0.5, 0.8, 1.0; identity 1.0, 0.6, 0.4.
    succ = torch.tensor([[0.5, 0.8, 1.0]], dtype=torch.float64)
    ident = torch.tensor([[1.0, 0.6, 0.4]], dtype=torch.float64)
    # 0.9 lies half-way between 0.8 and 1.0: identity half-way between 0.6 and 0.4.
    assert math.isclose(interpolate(succ, ident, 0.9)[0].item(), 0.5)
    assert math.isclose(interpolate(succ, ident, 0.8)[0].item(), 0.6)
    # Never reached: NaN, not the last point.
    assert math.isnan(interpolate(succ, ident, 1.01)[0].item())
    # Already reached by the source: the source's identity.
    assert math.isclose(interpolate(succ, ident, 0.4)[0].item(), 1.0)
    assert math.isclose(at_level([(0, 0.5, 1.0), (1, 0.8, 0.6), (2, 1.0, 0.4)], 0.9), 0.5)


def test_first_crossing_counts_when_success_is_not_monotone() -> None:
    succ = torch.tensor([[0.5, 0.95, 0.85, 1.0]], dtype=torch.float64)
    ident = torch.tensor([[1.0, 0.7, 0.5, 0.3]], dtype=torch.float64)
    # Between the source and the first point at or above 0.9; the later dip is ignored.
    expect = 1.0 + (0.9 - 0.5) / (0.95 - 0.5) * (0.7 - 1.0)
    assert math.isclose(interpolate(succ, ident, 0.9)[0].item(), expect)


def test_judge_success_identity_and_negation() -> None:
    smile = next(e for e in EDITS if e.key == "smile")
    src = torch.zeros(3, len(world.ATTRIBUTES), dtype=torch.long)
    src[:, world.INDEX["mouth"]] = 1  # neutral
    out = src.clone()
    out[0, world.INDEX["mouth"]] = smile.target_index  # smiling, rest kept
    out[1, world.INDEX["mouth"]] = smile.target_index
    out[1, world.INDEX["hair"]] = 2  # smiling, hair changed
    succ, ident = judge_edit([smile])(out, src)
    assert succ.tolist() == [True, True, False]
    assert ident.tolist() == [True, False, True]
    not_smiling, _ = judge_edit([smile], negate=True)(out, src)
    assert not_smiling.tolist() == [False, False, True]
