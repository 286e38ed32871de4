"""The learn node reads the pairing off SamplerCustomAdvanced graphs (how Flux and SD3 are
usually wired) as it does off KSamplerAdvanced ones, and records a graph it cannot read as
such, which Apply then says. Every graph runs through ComfyUI's own executor."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest
import torch
from harness.comfy_runtime import ComfyRuntime, PromptResult
from harness.graphs import IDS, EditSettings, node
from harness.pair_graphs import (
    DECOMPOSE_SOURCE_BRANCH,
    SOURCE_BRANCH,
    STEPS,
    TARGET_BRANCH,
    X,
    base,
    ksampler_branched,
    ksampler_paper,
    learn_and_apply,
)
from harness.tensors import rel_error
from safetensors import safe_open

pytestmark = pytest.mark.comfy

#: Steps, k and delta unlike the default edit graph's, so the records cannot come from it.
SETTINGS = dataclasses.replace(
    EditSettings(), steps=12, k=4, delta=3, learn_steps=30, strength=1.5, attribute_name="pair"
)
#: Node ids of the custom-sampler parts (the text, latent, decompose, learn and apply nodes
#: keep the ids of harness.graphs.IDS).
SCHEDULE, SPLIT_K, SPLIT_DELTA, SPLIT_TARGET = "50", "51", "52", "53"
GUIDE_SOURCE, GUIDE_TARGET, SAMPLER, NOISE, NO_NOISE = "54", "55", "56", "57", "58"
SPLIT_REST = "65"
SWEEP = "95"


def _custom(guider: str, noise: str, sigmas: list[Any], latent: list[Any]) -> dict[str, Any]:
    return node(
        "SamplerCustomAdvanced",
        noise=[noise, 0],
        guider=[guider, 0],
        sampler=[SAMPLER, 0],
        sigmas=sigmas,
        latent_image=latent,
    )


def _custom_parts(s: EditSettings) -> dict[str, dict[str, Any]]:
    """Schedule, guiders, sampler and noise nodes, set like harness.graphs' KSamplerAdvanced."""
    guider = {"model": [IDS.model, 0], "negative": [IDS.negative_text, 0], "cfg": s.cfg}
    return {
        SCHEDULE: node(
            "BasicScheduler",
            model=[IDS.model, 0],
            scheduler=s.scheduler,
            steps=s.steps,
            denoise=1.0,
        ),
        SPLIT_K: node("SplitSigmas", sigmas=[SCHEDULE, 0], step=s.k),
        GUIDE_SOURCE: node("CFGGuider", positive=[IDS.source_text, 0], **guider),
        GUIDE_TARGET: node("CFGGuider", positive=[IDS.target_text, 0], **guider),
        SAMPLER: node("KSamplerSelect", sampler_name=s.sampler_name),
        NOISE: node("RandomNoise", noise_seed=s.seed),
        NO_NOISE: node("DisableNoise"),
    }


def custom_branched(s: EditSettings) -> dict[str, Any]:
    """The same pairs with SamplerCustomAdvanced: x over SplitSigmas(k)'s high sigmas, the
    branches without new noise over its low sigmas split again at delta (their high part)."""
    prompt = {**base(s), **_custom_parts(s)}
    prompt[SPLIT_DELTA] = node("SplitSigmas", sigmas=[SPLIT_K, 1], step=s.delta)
    prompt[X] = _custom(GUIDE_SOURCE, NOISE, [SPLIT_K, 0], [IDS.empty_latent, 0])
    for key, guider in ((SOURCE_BRANCH, GUIDE_SOURCE), (TARGET_BRANCH, GUIDE_TARGET)):
        prompt[key] = _custom(guider, NO_NOISE, [SPLIT_DELTA, 0], [X, 0])
    learn_and_apply(prompt, SOURCE_BRANCH, TARGET_BRANCH)
    prompt[IDS.apply]["inputs"]["source_branch"] = [DECOMPOSE_SOURCE_BRANCH, 0]
    return prompt


def custom_paper(s: EditSettings) -> dict[str, Any]:
    """The paper's pairs with SamplerCustomAdvanced, the steps wired from the pack's Edit Steps
    node (steps -> BasicScheduler, k and k + delta -> the two SplitSigmas' step)."""
    prompt = {**base(s), **_custom_parts(s)}
    prompt[STEPS] = node("SingularEditSteps", steps=s.steps, edit_step=s.k, delta=s.delta)
    prompt[SCHEDULE]["inputs"]["steps"] = [STEPS, 0]
    prompt[SPLIT_K]["inputs"]["step"] = [STEPS, 1]
    prompt[SPLIT_TARGET] = node("SplitSigmas", sigmas=[SCHEDULE, 0], step=[STEPS, 2])
    prompt[X] = _custom(GUIDE_SOURCE, NOISE, [SPLIT_K, 0], [IDS.empty_latent, 0])
    prompt[TARGET_BRANCH] = _custom(GUIDE_TARGET, NOISE, [SPLIT_TARGET, 0], [IDS.empty_latent, 0])
    learn_and_apply(prompt, X, TARGET_BRANCH)
    return prompt


def _run(rt: ComfyRuntime, prompt: dict[str, Any], *nodes: str) -> PromptResult:
    result = rt.run_prompt(prompt, outputs=[IDS.learn, IDS.apply, *nodes])
    assert result.success, result.error_message()
    return result


def _record(result: PromptResult) -> tuple[Any, ...]:
    a = result.output(IDS.learn)[0]
    return a.pair_mode, a.step, a.delta, a.source_prompt, a.target_prompt


def test_branched_pairs_read_the_same_from_either_sampler_family(
    comfy_runtime: ComfyRuntime,
) -> None:
    s = SETTINGS
    latents = (X, SOURCE_BRANCH, TARGET_BRANCH)
    ksampler = _run(comfy_runtime, ksampler_branched(s), *latents)
    custom = _run(comfy_runtime, custom_branched(s), *latents)
    record = ("branched", s.k, s.delta, s.source_prompt, s.target_prompt)
    assert _record(ksampler) == _record(custom) == record
    # What counts as the step is the same: both families sampled the same latents, and the
    # branches ran delta steps past x.
    for key in latents:
        got, want = custom.output(key)[0]["samples"], ksampler.output(key)[0]["samples"]
        assert rel_error(got, want) < 1e-4, key
    assert (
        rel_error(custom.output(SOURCE_BRANCH)[0]["samples"], custom.output(X)[0]["samples"]) > 1e-2
    )
    # A readable pairing: Apply has nothing to say.
    assert IDS.apply not in custom.ui


def test_the_papers_pairs_read_the_same_with_edit_steps_and_split_sigmas(
    comfy_runtime: ComfyRuntime,
) -> None:
    s = SETTINGS
    ksampler = _run(comfy_runtime, ksampler_paper(s), X, TARGET_BRANCH)
    custom = _run(comfy_runtime, custom_paper(s), X, TARGET_BRANCH)
    record = ("independent", s.k, s.delta, s.source_prompt, s.target_prompt)
    assert _record(ksampler) == _record(custom) == record
    for key in (X, TARGET_BRANCH):
        got, want = custom.output(key)[0]["samples"], ksampler.output(key)[0]["samples"]
        assert rel_error(got, want) < 1e-4, key


def unreadable(s: EditSettings) -> dict[str, Any]:
    """Branched pairs whose branch sigmas pass through ExtendIntermediateSigmas (more steps
    between the same sigmas): no step range to read off them."""
    prompt = custom_branched(s)
    prompt["67"] = node(
        "ExtendIntermediateSigmas",
        sigmas=[SPLIT_DELTA, 0],
        steps=2,
        start_at_sigma=-1.0,
        end_at_sigma=12.0,
        spacing="linear",
    )
    for key in (SOURCE_BRANCH, TARGET_BRANCH):
        prompt[key]["inputs"]["sigmas"] = ["67", 0]
    return prompt


def test_an_unreadable_graph_is_recorded_as_such_and_apply_says_so(
    comfy_runtime: ComfyRuntime, caplog: pytest.LogCaptureFixture
) -> None:
    s = SETTINGS
    result = _run(comfy_runtime, unreadable(s), IDS.recompose)
    attribute = result.output(IDS.learn)[0]
    assert (attribute.pair_mode, attribute.step, attribute.delta) == ("unreadable", None, None)
    assert (attribute.source_prompt, attribute.target_prompt) == (s.source_prompt, s.target_prompt)
    # The learn node logged why; Apply applied (nothing to check it against) and says so.
    assert "ExtendIntermediateSigmas" in caplog.text and "unreadable" in caplog.text
    (note,) = result.ui[IDS.apply]["text"]
    assert note.startswith("Apply Singular Value Edit: the pairing of this attribute could not")
    assert "source_branch" in note and "SplitSigmas" in note
    assert torch.isfinite(result.output(IDS.recompose)[0]["samples"]).all()
    # With a target only (what a branched attribute refuses) it applies and says so too; the
    # mean edit needs no pairing, so without a target it says nothing.
    prompt = unreadable(dataclasses.replace(s, strength=0.5))
    del prompt[IDS.apply]["inputs"]["source_branch"]
    assert IDS.apply in _run(comfy_runtime, prompt).ui
    del prompt[IDS.apply]["inputs"]["target"]
    assert IDS.apply not in _run(comfy_runtime, prompt).ui


def test_the_strength_sweep_says_so_too(comfy_runtime: ComfyRuntime) -> None:
    prompt = unreadable(SETTINGS)
    apply = prompt[IDS.apply]["inputs"]
    prompt[SWEEP] = node(
        "AttributeStrengthSweep",
        latent_svd=apply["latent_svd"],
        attribute=apply["attribute"],
        strengths="0, 1",
        target_latent_svd=apply["target"],
        source_branch=apply["source_branch"],
    )
    result = _run(comfy_runtime, prompt, SWEEP)
    (note,) = result.ui[SWEEP]["text"]
    assert note.startswith("Attribute Strength Sweep: the pairing of this attribute could not")
    assert "target_latent_svd and source_branch" in note
    assert result.output(SWEEP)[1] == 2


def test_an_unreadable_pairing_survives_save_and_load(comfy_runtime: ComfyRuntime) -> None:
    prompt = unreadable(dataclasses.replace(SETTINGS, strength=0.25))
    prompt["80"] = node(
        "SaveSingularAttribute", attribute=[IDS.learn, 0], filename="unreadable", overwrite=True
    )
    assert _run(comfy_runtime, prompt).success
    path: Path = comfy_runtime.model_folder("svd_attributes") / "unreadable.safetensors"
    loaded = comfy_runtime.run_prompt(
        {
            "1": node("LoadSingularAttribute", attribute_name=path.name),
            "2": node(
                "SaveSingularAttribute",
                attribute=["1", 0],
                filename="unreadable copy",
                overwrite=True,
            ),
        },
        outputs=["1"],
    )
    assert loaded.success, loaded.error_message()
    attribute, text = loaded.output("1")
    assert attribute.pair_mode == "unreadable"
    assert "pairs: unreadable (the learn node could not read the pairing" in text
    # Only such a file needs format version 3; older packs say to update instead of failing.
    with safe_open(str(path), "pt") as f:
        assert f.metadata()["format_version"] == "3"


def test_the_walk_reads_other_sigma_wirings(comfy_runtime: ComfyRuntime) -> None:
    """Other ways to cut the same step range: SplitSigmas at k + delta then at k (low part),
    SplitSigmasDenoise, a Karras schedule, and SamplerCustom's add_noise."""
    walk = comfy_runtime.pack_module("nodes.provenance").learn_provenance
    s = SETTINGS
    branched = {"pair_mode": "branched", "step": s.k, "delta": s.delta}
    prompt = custom_branched(s)
    prompt[SPLIT_TARGET] = node("SplitSigmas", sigmas=[SCHEDULE, 0], step=s.k + s.delta)
    prompt[SPLIT_REST] = node("SplitSigmas", sigmas=[SPLIT_TARGET, 0], step=s.k)
    for key in (SOURCE_BRANCH, TARGET_BRANCH):
        prompt[key]["inputs"]["sigmas"] = [SPLIT_REST, 1]
    assert walk(prompt, IDS.learn).items() >= branched.items()
    # SplitSigmasDenoise keeping the last steps - k of the schedule: its low sigmas run k..end.
    prompt[SPLIT_TARGET] = node(
        "SplitSigmasDenoise", sigmas=[SCHEDULE, 0], denoise=(s.steps - s.k) / s.steps
    )
    prompt[SPLIT_REST] = node("SplitSigmas", sigmas=[SPLIT_TARGET, 1], step=s.delta)
    for key in (SOURCE_BRANCH, TARGET_BRANCH):
        prompt[key]["inputs"]["sigmas"] = [SPLIT_REST, 0]
    assert walk(prompt, IDS.learn).items() >= branched.items()
    prompt[SCHEDULE] = node("KarrasScheduler", steps=s.steps, sigma_max=14.6, sigma_min=0.03, rho=7)
    assert walk(prompt, IDS.learn).items() >= branched.items()
    # New noise on one branch: not branched pairs.
    prompt[SOURCE_BRANCH]["inputs"]["noise"] = [NOISE, 0]
    assert walk(prompt, IDS.learn)["pair_mode"] == "unreadable"
    # SamplerCustom: positive, add_noise and sigmas on the sampler itself.
    paper = custom_paper(s)
    for key, split, text in (
        (X, SPLIT_K, IDS.source_text),
        (TARGET_BRANCH, SPLIT_TARGET, IDS.target_text),
    ):
        paper[key] = node(
            "SamplerCustom",
            model=[IDS.model, 0],
            add_noise=True,
            noise_seed=s.seed,
            cfg=s.cfg,
            positive=[text, 0],
            negative=[IDS.negative_text, 0],
            sampler=[SAMPLER, 0],
            sigmas=[split, 0],
            latent_image=[IDS.empty_latent, 0],
        )
    got = walk(paper, IDS.learn)
    assert got == {
        "source_prompt": s.source_prompt,
        "target_prompt": s.target_prompt,
        "pair_mode": "independent",
        "step": s.k,
        "delta": s.delta,
    }


def test_ksampler_steps_wired_from_edit_steps_are_read(comfy_runtime: ComfyRuntime) -> None:
    """The Learn blueprint's wiring: every sampler's steps, start_at_step and end_at_step
    linked from the Edit Steps node (outputs steps, k, k + delta)."""
    s = SETTINGS
    prompt = ksampler_branched(s)
    prompt[STEPS] = node("SingularEditSteps", steps=s.steps, edit_step=s.k, delta=s.delta)
    prompt[X]["inputs"].update(steps=[STEPS, 0], end_at_step=[STEPS, 1])
    for key in (SOURCE_BRANCH, TARGET_BRANCH):
        prompt[key]["inputs"].update(
            steps=[STEPS, 0], start_at_step=[STEPS, 1], end_at_step=[STEPS, 2]
        )
    result = _run(comfy_runtime, prompt)
    assert _record(result) == ("branched", s.k, s.delta, s.source_prompt, s.target_prompt)
