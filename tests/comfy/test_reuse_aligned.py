"""Reuse that follows the subject, inside a real ComfyUI: Learn with reuse_reference records
the references and their step off the graph, Apply without a target then adds the aligned
edit (also at another size), the file keeps it (format version 4), and the Load node says what
reuse the attribute does."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from harness.comfy_runtime import ComfyRuntime
from harness.graphs import IDS, EditSettings, _sampler, node
from harness.pair_graphs import (
    DECOMPOSE_SOURCE_BRANCH,
    SOURCE_BRANCH,
    STEPS,
    ksampler_branched,
    ksampler_paper,
)
from harness.tensors import rel_error
from safetensors import safe_open

pytestmark = pytest.mark.comfy

SETTINGS = dataclasses.replace(
    EditSettings(), steps=10, k=3, delta=2, batch_size=2, learn_steps=20, strength=2.0
)
REFERENCE, DECOMPOSE_REFERENCE = "70", "71"
NEW_LATENT, NEW_X, NEW_DECOMPOSE, NEW_APPLY, NEW_RECOMPOSE = "72", "73", "74", "75", "76"
SAVE, LOAD = "80", "81"
REUSE_STEP = 6  # 0.6 of 10 steps, what Edit Steps' reuse_step gives


def _with_reference(prompt: dict[str, Any], s: EditSettings) -> dict[str, Any]:
    """The source branch continued by the source prompt to the reuse step (linked from Edit
    Steps, as the blueprints wire it), decomposed into Learn's reuse_reference."""
    prompt[STEPS] = node("SingularEditSteps", steps=s.steps, edit_step=s.k, delta=s.delta)
    reference = _sampler(s, IDS.source_text, [SOURCE_BRANCH, 0], s.k + s.delta, 0, False, True)
    reference["inputs"].update(start_at_step=[STEPS, 2], end_at_step=[STEPS, 3])
    prompt[REFERENCE] = reference
    prompt[DECOMPOSE_REFERENCE] = node("LatentSVDDecompose", latent=[REFERENCE, 0], rank=0)
    prompt[IDS.learn]["inputs"]["reuse_reference"] = [DECOMPOSE_REFERENCE, 0]
    return prompt


def _new_seed(prompt: dict[str, Any], s: EditSettings, size: int) -> dict[str, Any]:
    """A new seed's source latent at the reuse step, edited without a target."""
    prompt[NEW_LATENT] = node("EmptyLatentImage", width=size, height=size, batch_size=1)
    new = dataclasses.replace(s, seed=s.seed + 100)
    prompt[NEW_X] = _sampler(new, IDS.source_text, [NEW_LATENT, 0], 0, REUSE_STEP, True, True)
    prompt[NEW_DECOMPOSE] = node("LatentSVDDecompose", latent=[NEW_X, 0], rank=0)
    prompt[NEW_APPLY] = node(
        "ApplySingularEdit",
        latent_svd=[NEW_DECOMPOSE, 0],
        attribute=[IDS.learn, 0],
        strength=s.strength,
        local=True,
    )
    prompt[NEW_RECOMPOSE] = node("LatentRecompose", latent_svd=[NEW_APPLY, 0])
    return prompt


@pytest.mark.parametrize("size", [SETTINGS.width, SETTINGS.width + 64])
def test_learned_references_make_apply_follow_the_subject_without_a_target(
    comfy_runtime: ComfyRuntime, size: int
) -> None:
    s = SETTINGS
    prompt = _new_seed(_with_reference(ksampler_branched(s), s), s, size)
    result = comfy_runtime.run_prompt(
        prompt, outputs=[IDS.learn, REFERENCE, NEW_X, NEW_RECOMPOSE, DECOMPOSE_SOURCE_BRANCH]
    )
    assert result.success, result.error_message()
    attribute = result.output(IDS.learn)[0]
    assert attribute.reuse_step == REUSE_STEP and attribute.num_pairs == 2
    references = result.output(REFERENCE)[0]["samples"]
    assert rel_error(attribute.reuse_references, references) < 1e-5  # stored as decomposed
    # Apply without a target adds exactly the aligned edit, also on a larger latent.
    core = comfy_runtime.pack_module("svd_core")
    x = result.output(NEW_X)[0]["samples"]
    edited = result.output(NEW_RECOMPOSE)[0]["samples"]
    assert edited.shape == x.shape == (1, 4, size // 8, size // 8)
    want = x + s.strength * core.reuse_aligned_edit(core.decompose(x), attribute)
    assert rel_error(edited, want) < 1e-5
    assert float((edited - x).abs().max()) > 1e-3
    assert NEW_APPLY not in result.ui  # the latent is at the reuse step: nothing to say


def test_apply_says_when_the_latent_is_not_at_the_reuse_step(comfy_runtime: ComfyRuntime) -> None:
    s = SETTINGS
    prompt = _new_seed(_with_reference(ksampler_branched(s), s), s, s.width)
    prompt[NEW_X]["inputs"]["end_at_step"] = s.k
    result = comfy_runtime.run_prompt(prompt, outputs=[NEW_RECOMPOSE])
    assert result.success, result.error_message()
    (note,) = result.ui[NEW_APPLY]["text"]
    assert note.startswith("Apply Singular Value Edit: this attribute's reuse edit follows")
    assert f"at step {REUSE_STEP}" in note and f"stops at step {s.k}" in note


def test_the_reuse_survives_save_and_load_and_the_load_node_says_so(
    comfy_runtime: ComfyRuntime,
) -> None:
    s = SETTINGS
    prompt = _with_reference(ksampler_branched(s), s)
    prompt[SAVE] = node(
        "SaveSingularAttribute", attribute=[IDS.learn, 0], filename="reuse", overwrite=True
    )
    assert comfy_runtime.run_prompt(prompt, outputs=[IDS.learn]).success
    path = comfy_runtime.model_folder("svd_attributes") / "reuse.safetensors"
    with safe_open(str(path), "pt") as f:
        assert f.metadata()["format_version"] == "4"
    loaded = comfy_runtime.run_prompt(
        {
            LOAD: node("LoadSingularAttribute", attribute_name=path.name),
            "82": node("PreviewAny", source=[LOAD, 1]),
        },
        outputs=[LOAD],
    )
    assert loaded.success, loaded.error_message()
    attribute, text = loaded.output(LOAD)
    assert attribute.reuse_step == REUSE_STEP and attribute.reuse_edits is not None
    assert f"the edit aligned to the subject, for a latent at step {REUSE_STEP}" in text


def test_a_reference_with_the_papers_pairs_is_refused_in_words(
    comfy_runtime: ComfyRuntime,
) -> None:
    s = dataclasses.replace(SETTINGS, batch_size=1)
    prompt = ksampler_paper(s)
    prompt[IDS.learn]["inputs"]["reuse_reference"] = [DECOMPOSE_SOURCE_BRANCH, 0]
    result = comfy_runtime.run_prompt(prompt, outputs=[IDS.learn], fresh_cache=True)
    assert not result.success
    err = result.error()
    assert err is not None and err["node_type"] == "LearnAttributeFromPair"
    message = err["exception_message"]
    assert message.startswith("Learn Attribute from Pair (singular values):")
    assert "reuse_reference needs branch pairs" in message
