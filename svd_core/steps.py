"""The edit's step arithmetic: N steps, edit step k and offset delta (docs/method.md section 3)."""

from __future__ import annotations

from .errors import SVDEditError

#: Where a reused, aligned edit goes in, as a fraction of N: 12 of 20 on the test worlds (at
#: 6 or 8 of 20 the subject's place was found for far fewer seeds; semantic README, REUSE).
REUSE_FRACTION = 0.6


def plan_edit_steps(steps: int, edit_step: int, delta: int) -> tuple[int, int, int, int]:
    """(steps, k, k + delta, reuse step) after checking 0 < k < steps and 0 < k + delta <=
    steps; the reuse step is ``max(k + delta, round(0.6 N))`` (:func:`reuse_step`).

    Raises SVDEditError in words (what is wrong, what to change) otherwise.
    """
    if not 0 < edit_step < steps:
        raise SVDEditError(
            f"edit_step {edit_step} must lie strictly between 0 and steps ({steps}): the edit "
            f"happens after k denoising steps and sampling continues from there. The paper's "
            f"choice is about 0.3 x steps (here {max(1, round(0.3 * steps))})."
        )
    target = edit_step + delta
    if not 0 < target <= steps:
        raise SVDEditError(
            f"edit_step + delta = {edit_step} + {delta} = {target} must lie in 1..{steps} "
            "(the target sampler stops there); make delta smaller in size."
        )
    return steps, edit_step, target, reuse_step(steps, target)


def reuse_step(steps: int, target_step: int) -> int:
    """Where the aligned reuse edit goes in: ``max(k + delta, round(0.6 N))``."""
    return max(target_step, round(REUSE_FRACTION * steps))
