"""'Edit Steps (singular value edit)': the step numbers every sampler of the method takes, from
one place, inside a real ComfyUI; out-of-range steps are refused in words."""

from __future__ import annotations

import pytest
from harness.comfy_runtime import ComfyRuntime
from harness.graphs import node

pytestmark = pytest.mark.comfy


def _prompt(steps: int, edit_step: int, delta: int) -> dict[str, dict]:
    return {
        "1": node("SingularEditSteps", steps=steps, edit_step=edit_step, delta=delta),
        "2": node("PreviewAny", source=["1", 2]),
    }


@pytest.mark.parametrize(
    ("steps", "k", "delta", "want"),
    [
        (30, 9, 3, (30, 9, 12, 18)),
        (20, 6, -2, (20, 6, 4, 12)),
        (20, 9, 5, (20, 9, 14, 14)),
        (3, 1, 2, (3, 1, 3, 3)),
    ],
)
def test_plan_is_steps_k_k_plus_delta_and_the_reuse_step(
    comfy_runtime: ComfyRuntime, steps: int, k: int, delta: int, want: tuple[int, ...]
) -> None:
    """The reuse step is 0.6 N (12 of 20, where the aligned edit was measured), never before
    the branches stop."""
    result = comfy_runtime.run_prompt(_prompt(steps, k, delta), outputs=["1"])
    assert result.success, result.error_message()
    assert result.output("1") == want


@pytest.mark.parametrize(
    ("steps", "k", "delta", "needle"),
    [
        (30, 30, 3, "strictly between 0 and steps (30)"),
        (30, 9, 22, "9 + 22 = 31 must lie in 1..30"),
        (30, 9, -9, "9 + -9 = 0 must lie in 1..30"),
    ],
)
def test_out_of_range_steps_are_refused_in_words(
    comfy_runtime: ComfyRuntime, steps: int, k: int, delta: int, needle: str
) -> None:
    result = comfy_runtime.run_prompt(_prompt(steps, k, delta), outputs=["1"], fresh_cache=True)
    assert not result.success
    err = result.error()
    assert err is not None and err["node_type"] == "SingularEditSteps"
    assert err["exception_message"].startswith("Edit Steps (singular value edit):")
    assert needle in err["exception_message"]
