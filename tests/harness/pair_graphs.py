"""Graphs of learning pairs through ComfyUI's executor: the edit graph of harness.graphs with
its samplers replaced by the two pairings, wired with KSamplerAdvanced (tests add the
SamplerCustomAdvanced variants and what they check)."""

from __future__ import annotations

from typing import Any

from harness.graphs import IDS, EditSettings, _sampler, edit_workflow, node

#: Node ids of the pair's samplers and decompositions (the text, latent, decompose, learn and
#: apply nodes keep the ids of harness.graphs.IDS); STEPS is an Edit Steps node where used.
X, SOURCE_BRANCH, TARGET_BRANCH = "60", "61", "62"
DECOMPOSE_SOURCE_BRANCH, DECOMPOSE_TARGET_BRANCH, STEPS = "63", "64", "66"


def learn_and_apply(prompt: dict[str, Any], source: str, target: str) -> None:
    """Decompose the ``source`` and ``target`` samplers' latents into Learn, and apply to the
    source's with the target (the wiring of the paper's pairs)."""
    prompt[DECOMPOSE_SOURCE_BRANCH] = node("LatentSVDDecompose", latent=[source, 0], rank=0)
    prompt[DECOMPOSE_TARGET_BRANCH] = node("LatentSVDDecompose", latent=[target, 0], rank=0)
    prompt[IDS.learn]["inputs"].update(
        source=[DECOMPOSE_SOURCE_BRANCH, 0], target=[DECOMPOSE_TARGET_BRANCH, 0]
    )
    prompt[IDS.apply]["inputs"].update(
        latent_svd=[DECOMPOSE_SOURCE_BRANCH, 0], target=[DECOMPOSE_TARGET_BRANCH, 0]
    )


def base(s: EditSettings) -> dict[str, Any]:
    """harness.graphs' edit graph without its samplers: text encoders, empty latent, learn,
    apply, recompose; the tests add the samplers and a final output."""
    prompt = edit_workflow(s, reference=False)
    for key in (IDS.source_sampler, IDS.target_sampler, IDS.final, IDS.save_final):
        del prompt[key]
    del prompt[IDS.decompose_source], prompt[IDS.decompose_target]
    prompt["90"] = node("SaveLatent", samples=[IDS.recompose, 0], filename_prefix="latents/pair")
    return prompt


def ksampler_branched(s: EditSettings) -> dict[str, Any]:
    """Branched pairs with KSamplerAdvanced: x to step k, both prompts from x for delta steps."""
    prompt = base(s)
    prompt[X] = _sampler(s, IDS.source_text, [IDS.empty_latent, 0], 0, s.k, True, True)
    for key, text in ((SOURCE_BRANCH, IDS.source_text), (TARGET_BRANCH, IDS.target_text)):
        prompt[key] = _sampler(s, text, [X, 0], s.k, s.k + s.delta, False, True)
    learn_and_apply(prompt, SOURCE_BRANCH, TARGET_BRANCH)
    prompt[IDS.apply]["inputs"]["source_branch"] = [DECOMPOSE_SOURCE_BRANCH, 0]
    return prompt


def ksampler_paper(s: EditSettings) -> dict[str, Any]:
    """The paper's pairs with KSamplerAdvanced: the source prompt to k, the target to
    k + delta, both from step 0 and the same seed."""
    prompt = base(s)
    prompt[X] = _sampler(s, IDS.source_text, [IDS.empty_latent, 0], 0, s.k, True, True)
    prompt[TARGET_BRANCH] = _sampler(
        s, IDS.target_text, [IDS.empty_latent, 0], 0, s.k + s.delta, True, True
    )
    learn_and_apply(prompt, X, TARGET_BRANCH)
    return prompt
