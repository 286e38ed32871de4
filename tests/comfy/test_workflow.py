"""Must-show 2: the README's graph runs through ComfyUI's PromptExecutor with a real (tiny,
random-weight) SD1.5-architecture model, and the wiring loses nothing."""

from __future__ import annotations

import dataclasses
import sys
from typing import Any

import pytest
import torch
from harness.comfy_runtime import ComfyRuntime, PromptResult
from harness.graphs import IDS, EditSettings, _sampler, edit_workflow, node
from harness.tensors import rel_error

pytestmark = pytest.mark.comfy

SETTINGS = EditSettings()


def _run(rt: ComfyRuntime, settings: EditSettings, *extra: str) -> PromptResult:
    outputs = [IDS.final, IDS.reference, IDS.learn, IDS.source_sampler, IDS.target_sampler, *extra]
    result = rt.run_prompt(edit_workflow(settings), outputs=outputs)
    assert result.success, result.error_message()
    return result


@pytest.fixture(scope="module")
def strength_zero(comfy_runtime: ComfyRuntime) -> PromptResult:
    return _run(comfy_runtime, dataclasses.replace(SETTINGS, strength=0.0), IDS.recompose)


@pytest.fixture(scope="module")
def strength_one(comfy_runtime: ComfyRuntime) -> PromptResult:
    return _run(comfy_runtime, dataclasses.replace(SETTINGS, strength=1.0), IDS.recompose)


def test_strength_zero_equals_unedited_split_generation(strength_zero: PromptResult) -> None:
    final = strength_zero.output(IDS.final)[0]["samples"]
    reference = strength_zero.output(IDS.reference)[0]["samples"]
    assert final.shape == (1, 4, 24, 24)
    assert torch.isfinite(final).all()
    assert rel_error(final, reference) < 1e-4
    # Decompose -> apply(0) -> recompose hands the sampler the source latent itself.
    source = strength_zero.output(IDS.source_sampler)[0]["samples"]
    recomposed = strength_zero.output(IDS.recompose)[0]["samples"]
    assert recomposed.dtype == torch.float32
    assert rel_error(recomposed, source) < 1e-5


def test_strength_one_changes_the_generation(
    strength_zero: PromptResult, strength_one: PromptResult
) -> None:
    final = strength_one.output(IDS.final)[0]["samples"]
    reference = strength_one.output(IDS.reference)[0]["samples"]
    assert torch.isfinite(final).all()
    assert rel_error(final, reference) > 1e-2
    # The unedited branch is the same in both runs (same seed, same graph above the edit).
    assert torch.equal(reference, strength_zero.output(IDS.reference)[0]["samples"])
    # The edit moves the step-k latent towards the target latent (what L1 trains for).
    source = strength_one.output(IDS.source_sampler)[0]["samples"]
    target = strength_one.output(IDS.target_sampler)[0]["samples"]
    edited = strength_one.output(IDS.recompose)[0]["samples"]
    assert rel_error(edited, target) < rel_error(source, target)


def test_learn_reports_progress_and_a_loss_curve(comfy_runtime: ComfyRuntime) -> None:
    # Its own training settings, so the learn node runs here (not served from the cache).
    # Long enough (a second or more) that a ComfyUI which throttles progress messages (0.33 sends
    # at most one per 0.1 s besides the first and the last) still reports several.
    settings = dataclasses.replace(SETTINGS, learn_steps=3000, attribute_name="progress check")
    result = _run(comfy_runtime, settings)
    attribute, loss_curve = result.output(IDS.learn)
    assert attribute.name == settings.attribute_name
    assert attribute.loss_history.shape == (settings.learn_steps,)
    assert attribute.final_loss >= attribute.optimum_loss * (1 - 1e-6)
    # Training reaches close to the exact optimum even in this short run.
    assert attribute.final_loss < attribute.loss_history[0].item()
    # Loss-curve IMAGE: [1, H, W, 3] in 0..1, not blank, and shown as the node's preview.
    assert loss_curve.ndim == 4 and loss_curve.shape[0] == 1 and loss_curve.shape[-1] == 3
    assert 0.0 <= float(loss_curve.min()) and float(loss_curve.max()) <= 1.0
    assert float(loss_curve.std()) > 0.01
    images = result.ui[IDS.learn]["images"]
    assert len(images) == 1 and images[0]["type"] == "temp"
    # The progress bar of the learn node went from 0 to the number of steps.
    learn_events = [e for e in result.progress if e.node_id == IDS.learn]
    assert learn_events, "the learn node reported no progress"
    assert learn_events[0].value == 0
    assert learn_events[-1].value == learn_events[-1].total == settings.learn_steps
    assert len(learn_events) >= 5


def test_apply_without_target_adds_the_mean_edit(
    comfy_runtime: ComfyRuntime, strength_one: PromptResult
) -> None:
    settings = dataclasses.replace(SETTINGS, use_target_when_applying=False)
    result = _run(comfy_runtime, settings, IDS.recompose)
    edited = result.output(IDS.recompose)[0]["samples"]
    source = result.output(IDS.source_sampler)[0]["samples"]
    assert torch.isfinite(edited).all()
    assert rel_error(edited, source) > 1e-3
    # Same image as the one training pair: the mean edit is this image's own learned edit.
    with_target = strength_one.output(IDS.recompose)[0]["samples"]
    assert rel_error(edited, with_target) < 1e-4


def _branched_prompt(s: EditSettings) -> dict[str, Any]:
    """The edit graph with noise-matched pairs: source and target prompt each continued from
    the step-k latent for delta steps, learned from and applied between (ids "sb", "tb")."""
    prompt = edit_workflow(s, reference=False)
    x_k = [IDS.source_sampler, 0]
    prompt["sb"] = _sampler(
        s, IDS.source_text, x_k, s.k, s.k + s.delta, add_noise=False, leftover=True
    )
    prompt["tb"] = _sampler(
        s, IDS.target_text, x_k, s.k, s.k + s.delta, add_noise=False, leftover=True
    )
    prompt["dsb"] = node("LatentSVDDecompose", latent=["sb", 0], rank=0)
    prompt["dtb"] = node("LatentSVDDecompose", latent=["tb", 0], rank=0)
    prompt[IDS.learn]["inputs"].update(source=["dsb", 0], target=["dtb", 0])
    prompt[IDS.apply]["inputs"].update(target=["dtb", 0], source_branch=["dsb", 0])
    return prompt


def test_branched_pair_learns_and_applies_between_the_branches(comfy_runtime: ComfyRuntime) -> None:
    """Source and target prompt continued from the same step-k latent; the edit is taken
    between the branches, kept where they differ (local, the default) and added to the latent
    Apply decomposes, here the step-k latent (ApplySingularEdit.source_branch)."""
    s = dataclasses.replace(SETTINGS, strength=1.5)
    prompt = _branched_prompt(s)
    result = comfy_runtime.run_prompt(
        prompt, outputs=[IDS.recompose, IDS.learn, IDS.source_sampler, "sb", "tb"]
    )
    assert result.success, result.error_message()
    edited = result.output(IDS.recompose)[0]["samples"]
    x = result.output(IDS.source_sampler)[0]["samples"]
    xs = result.output("sb")[0]["samples"]
    zt = result.output("tb")[0]["samples"]
    attribute = result.output(IDS.learn)[0]
    # The pack's own svd_core as ComfyUI loaded it (a plain import would be a second copy).
    svd_core = sys.modules[type(attribute).__module__.rsplit(".", 1)[0]]
    # The branches differ from x (delta more steps) and from each other (the prompts).
    assert rel_error(xs, x) > 1e-2 and rel_error(zt, xs) > 1e-3
    edit = svd_core.edit_delta(svd_core.decompose(xs), attribute, svd_core.decompose(zt))
    # Local by default: kept where the branches differ.
    mask = svd_core.branch_mask(zt - xs)
    assert 0.1 < float(mask.mean()) < 0.9
    assert rel_error(edited, x + 1.5 * mask * edit) < 1e-4
    # Not the paper's edit of x itself: the source branch changed what was applied.
    paper = svd_core.edit_delta(svd_core.decompose(x), attribute, svd_core.decompose(zt))
    assert rel_error(edit, paper) > 1e-2
    # The learn node read the pairing, k and delta off the branch samplers.
    assert attribute.pair_mode == "branched"
    assert (attribute.step, attribute.delta) == (s.k, s.delta)


def test_apply_refuses_a_target_wired_unlike_the_attributes_pairs(
    comfy_runtime: ComfyRuntime,
) -> None:
    """A branched attribute with a target but no source_branch, and one learned from the
    paper's pairs with a source_branch: refused in words naming the node and the fix."""
    s = dataclasses.replace(SETTINGS, strength=1.5)
    branched = _branched_prompt(s)
    del branched[IDS.apply]["inputs"]["source_branch"]
    paper = edit_workflow(s, reference=False)
    paper["sb"] = _sampler(
        s, IDS.source_text, [IDS.source_sampler, 0], s.k, s.k + s.delta, False, True
    )
    paper["dsb"] = node("LatentSVDDecompose", latent=["sb", 0], rank=0)
    paper[IDS.apply]["inputs"]["source_branch"] = ["dsb", 0]
    for prompt, needle in (
        (branched, "learned from branched pairs"),
        (paper, "learned from the paper's independent pairs"),
    ):
        result = comfy_runtime.run_prompt(prompt, outputs=[IDS.recompose])
        assert not result.success
        err = result.error()
        assert err is not None and err["node_type"] == "ApplySingularEdit"
        message = err["exception_message"]
        assert message.startswith("Apply Singular Value Edit:"), message
        assert needle in message and "source_branch" in message, message


def test_batch_of_two_seeds_trains_one_attribute(comfy_runtime: ComfyRuntime) -> None:
    settings = dataclasses.replace(SETTINGS, batch_size=2, learn_steps=30, strength=0.5)
    result = _run(comfy_runtime, settings, IDS.recompose)
    attribute = result.output(IDS.learn)[0]
    assert attribute.num_pairs == 2
    final = result.output(IDS.final)[0]["samples"]
    reference = result.output(IDS.reference)[0]["samples"]
    assert final.shape == (2, 4, 24, 24)
    assert torch.isfinite(final).all()
    for b in range(2):
        assert rel_error(final[b], reference[b]) > 1e-3


def _mask_graph() -> dict[str, Any]:
    return {
        "1": node("EmptyLatentImage", width=128, height=96, batch_size=3),
        "2": node("LatentFromBatch", samples=["1", 0], batch_index=1, length=2),
        "3": node("SolidMask", value=0.5, width=128, height=96),
        "4": node("SetLatentNoiseMask", samples=["2", 0], mask=["3", 0]),
        "5": node("LatentSVDDecompose", latent=["4", 0], rank=0),
        "6": node(
            "ScaleSingularValues", latent_svd=["5", 0], indices="0-2", channels="", factor=1.0
        ),
        "7": node("LatentRecompose", latent_svd=["6", 0]),
        # An output node so the prompt validates; it consumes the recomposed latent.
        "8": node("SaveLatent", samples=["7", 0], filename_prefix="latents/lse_test"),
    }


def test_recompose_keeps_the_latent_fields(comfy_runtime: ComfyRuntime) -> None:
    result = comfy_runtime.run_prompt(_mask_graph(), outputs=["4", "7"])
    assert result.success, result.error_message()
    before = result.output("4")[0]
    after = result.output("7")[0]
    assert set(after) == set(before) and {"noise_mask", "batch_index"} <= set(after)
    assert after["batch_index"] == before["batch_index"] == [1, 2]
    assert after["noise_mask"] is before["noise_mask"]
    assert after is not before and after["samples"] is not before["samples"]
    assert after["samples"].shape == before["samples"].shape == (2, 4, 12, 16)
    assert after["samples"].dtype == torch.float32
    assert after["samples"].device == comfy_runtime.model_management.intermediate_device()
    assert torch.allclose(after["samples"], before["samples"], atol=1e-6)


def test_scale_singular_values_through_nodes(comfy_runtime: ComfyRuntime) -> None:
    graph = edit_workflow(SETTINGS, reference=True)
    graph["50"] = node("LatentSVDDecompose", latent=[IDS.source_sampler, 0], rank=0)
    graph["51"] = node(
        "ScaleSingularValues", latent_svd=["50", 0], indices="0", channels="1", factor=2.0
    )
    graph["52"] = node("LatentRecompose", latent_svd=["51", 0])
    graph[IDS.final]["inputs"]["latent_image"] = ["52", 0]
    result = comfy_runtime.run_prompt(
        graph, outputs=["50", "52", IDS.source_sampler, IDS.final, IDS.reference]
    )
    assert result.success, result.error_message()
    source = result.output(IDS.source_sampler)[0]["samples"]
    scaled = result.output("52")[0]["samples"]
    svd = result.output("50")[0].svd
    u, s, vh = svd.U[0, 1, :, :1].cpu(), svd.S[0, 1, :1].cpu(), svd.Vh[0, 1, :1].cpu()
    expected = source.clone()
    expected[0, 1] += (u * s) @ vh  # s_0 -> 2 s_0 adds one more s_0 u_0 v_0^T
    assert rel_error(scaled, expected) < 1e-5
    # Only channel 1 changed.
    for c in (0, 2, 3):
        assert rel_error(scaled[0, c], source[0, c]) < 1e-5
    final = result.output(IDS.final)[0]["samples"]
    assert torch.isfinite(final).all()
    assert rel_error(final, result.output(IDS.reference)[0]["samples"]) > 1e-3


def test_nodes_never_modify_their_inputs(comfy_runtime: ComfyRuntime) -> None:
    # Run the graph, then recompute the sampler outputs without the edit branch from a
    # fresh cache: the cached tensors the edit nodes received must be bit-identical.
    settings = dataclasses.replace(SETTINGS, strength=1.0, learn_steps=20)
    result = _run(comfy_runtime, settings)
    source = result.output(IDS.source_sampler)[0]["samples"].clone()
    target = result.output(IDS.target_sampler)[0]["samples"].clone()
    graph = edit_workflow(settings, reference=True)
    for key in (
        IDS.decompose_source,
        IDS.decompose_target,
        IDS.learn,
        IDS.apply,
        IDS.recompose,
        IDS.final,
        IDS.save_final,
    ):
        del graph[key]
    fresh = comfy_runtime.run_prompt(
        graph, outputs=[IDS.source_sampler, IDS.target_sampler], fresh_cache=True
    )
    assert fresh.success, fresh.error_message()
    assert torch.equal(fresh.output(IDS.source_sampler)[0]["samples"], source)
    assert torch.equal(fresh.output(IDS.target_sampler)[0]["samples"], target)
