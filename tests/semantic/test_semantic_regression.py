"""Regression guard: the learned smile edit on both trained semantic worlds keeps its figures.

Runs the pack's pipeline end to end (svd_core.learn_attribute on 8 training pairs, then
apply_attribute on 16 held-out seeds, denoise, read the attributes back from pixels) on the
first world (FiLM, 4x16x16) and the second (cross-attention, faces placed on 4x32x32), and
compares edit success and identity with the values recorded in
benchmarks/semantic/regression.json and regression_placed.json (rewrite them with
``python -m benchmarks.semantic.regression [--world placed] --record`` after an intended change).
"""

from __future__ import annotations

import json

import pytest

from benchmarks.semantic import regression


@pytest.fixture(scope="module", params=sorted(regression.RECORDS))
def kind(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture(scope="module")
def measured(kind: str) -> dict[str, float]:
    return regression.measure(kind)


@pytest.fixture(scope="module")
def recorded(kind: str) -> dict:
    return json.loads(regression.RECORDS[kind].read_text())


def test_edit_success_stays_at_recorded_level(measured: dict, recorded: dict) -> None:
    floor = recorded["measured"]["success"] - recorded["tolerance"]
    assert measured["success"] >= floor, (
        f"smile edit success fell to {measured['success']:.3f} (recorded "
        f"{recorded['measured']['success']:.3f})"
    )


def test_identity_stays_at_recorded_level(measured: dict, recorded: dict) -> None:
    floor = recorded["measured"]["identity"] - recorded["tolerance"]
    assert measured["identity"] >= floor, (
        f"identity kept fell to {measured['identity']:.3f} (recorded "
        f"{recorded['measured']['identity']:.3f})"
    )


def test_edit_changes_the_attribute(measured: dict) -> None:
    # The unedited source images rarely smile; the edit must move that, or the test above
    # would also pass for an apply_attribute that returned its input.
    assert measured["success"] >= measured["source_success"] + 0.25
