"""The edit's step arithmetic in one place: N steps, edit step k and offset delta -> the step
numbers every sampler of the method needs (k, k + delta, N, and the reuse step). ComfyUI 0.3.75
has no integer math node, and three samplers whose step fields must agree by hand is the
method's most common wiring mistake; the blueprints enter the numbers once here."""

from __future__ import annotations

from comfy_api.latest import io

from ..svd_core import plan_edit_steps
from .common import PackNode
from .compat import search_aliases
from .types import CATEGORY

EDIT_STEPS = "Edit Steps (singular value edit)"
MAX_STEPS = 10_000
#: Branched pairs kept the most identity at 90 % edit success with 2 steps (semantic sweeps,
#: table 1: smile 69.3, hair 71.8; 3 is within the intervals, 1 needs strength 3.5-4).
DEFAULT_DELTA = 2


class SingularEditSteps(PackNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id="SingularEditSteps",
            display_name=EDIT_STEPS,
            category=CATEGORY,
            **search_aliases("edit step", "step arithmetic"),
            description="Enter the number of steps, the singular value edit's step k and "
            "the target offset delta once. Connect the outputs to the samplers' step fields "
            "and to SplitSigmas so they always agree.",
            inputs=[
                io.Int.Input(
                    "steps",
                    default=30,
                    min=2,
                    max=MAX_STEPS,
                    tooltip="Denoising steps of the whole generation (N).",
                ),
                io.Int.Input(
                    "edit_step",
                    default=9,
                    min=1,
                    max=MAX_STEPS,
                    tooltip="k: the edit happens after k of the N steps (about "
                    "0.3 N = 0.7T of forward time in the paper).",
                ),
                io.Int.Input(
                    "delta",
                    default=DEFAULT_DELTA,
                    min=-MAX_STEPS,
                    max=MAX_STEPS,
                    tooltip="How many steps both prompts run on from the step-k latent "
                    "(branched pairs: 2 measured best; the paper's pairs: the target's offset).",
                ),
            ],
            outputs=[
                io.Int.Output(
                    "steps_out",
                    display_name="steps",
                    tooltip="N, for every sampler's 'steps' and the scheduler.",
                ),
                io.Int.Output(
                    "edit_step_out",
                    display_name="edit_step",
                    tooltip="k: the source sampler's end_at_step, the "
                    "continuation's start_at_step, SplitSigmas' step.",
                ),
                io.Int.Output(
                    "target_step",
                    display_name="target_step",
                    tooltip="k + delta: the target sampler's end_at_step.",
                ),
                io.Int.Output(
                    "reuse_step",
                    display_name="reuse_step",
                    tooltip="Where an attribute's aligned reuse edit goes in and its "
                    "references stop (0.6 N, at least k + delta).",
                ),
            ],
        )

    @classmethod
    def execute(cls, steps: int, edit_step: int, delta: int) -> io.NodeOutput:
        return io.NodeOutput(*plan_edit_steps(steps, edit_step, delta))
