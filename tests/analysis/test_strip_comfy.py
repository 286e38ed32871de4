"""The strength strip inside a real ComfyUI 0.3.75: sample, learn, sweep, one sampler run.

The edit graph of harness.graphs (tiny random-weight SD1.5-architecture model) plus an
'Attribute Strength Sweep' whose LATENT batch one KSamplerAdvanced continues from step k.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
import torch
from harness.graphs import IDS, EditSettings, edit_workflow, node

SETTINGS = EditSettings(steps=6, k=2, delta=1, learn_steps=15)
SHAPE = (3, 4, SETTINGS.height // 8, SETTINGS.width // 8)  # three strengths, SD latents
SWEEP, STRIP, PLAIN = "54", "55", "56"
STRENGTHS = "0, 0.5, 1"


def _prompt(strengths: str = STRENGTHS) -> dict[str, Any]:
    p = edit_workflow(SETTINGS)
    p[SWEEP] = node(
        "AttributeStrengthSweep",
        latent_svd=[IDS.decompose_source, 0],
        attribute=[IDS.learn, 0],
        strengths=strengths,
        target_latent_svd=[IDS.decompose_target, 0],
    )
    strip = dict(p[IDS.final])
    strip["inputs"] = {**strip["inputs"], "latent_image": [SWEEP, 0]}
    p[STRIP] = strip
    p[PLAIN] = node("LatentRecompose", latent_svd=[IDS.decompose_source, 0])
    return p


@pytest.fixture(scope="module")
def run(comfy_runtime):
    outputs = [IDS.recompose, IDS.reference, SWEEP, STRIP, PLAIN]
    result = comfy_runtime.run_prompt(_prompt(), outputs=outputs, fresh_cache=True)
    assert result.success, result.error_message()
    return result


def test_sweep_is_apply_at_every_strength(run) -> None:
    latent, count = run.output(SWEEP)
    samples = latent["samples"]
    assert count == 3
    assert samples.shape == SHAPE and samples.dtype == torch.float32
    assert samples.device == torch.device("cpu")
    plain = run.output(PLAIN)[0]["samples"]
    assert torch.equal(samples[0], plain[0])  # strength 0 is the input, exactly
    applied = run.output(IDS.recompose)[0]["samples"]  # ApplySingularEdit at strength 1
    # Apply decomposes its result again (one float32 SVD round trip); the sweep does not.
    assert float((samples[2] - applied[0]).norm() / applied[0].norm()) < 1e-5
    assert not torch.allclose(samples[2], samples[0])
    # Linear in the strength: one edit y - x serves every strength.
    mid = (samples[0] + samples[2]) / 2
    assert float((samples[1] - mid).norm() / mid.norm()) < 1e-6


def test_one_sampler_run_gives_the_strip(run) -> None:
    strip = run.output(STRIP)[0]["samples"]
    assert strip.shape == SHAPE and bool(torch.isfinite(strip).all())
    reference = run.output(IDS.reference)[0]["samples"][0]  # the unedited continuation
    assert float((strip[0] - reference).norm() / reference.norm()) < 1e-4
    assert float((strip[2] - reference).norm() / reference.norm()) > 1e-3


def test_bad_strengths_name_the_node_and_the_culprit(comfy_runtime) -> None:
    result = comfy_runtime.run_prompt(_prompt("0, lots"), outputs=[SWEEP])
    assert not result.success and result.error() is not None
    message = result.error()["exception_message"]
    assert re.match(
        r'Attribute Strength Sweep: "lots" in the strengths list is not a number', message
    ), message
