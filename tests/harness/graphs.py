"""API-format prompts (what ``POST /prompt`` and ``PromptExecutor`` take) for the edit workflow.

The graph is the one the README documents: two ``KSamplerAdvanced`` runs from the same seed,
the source prompt to step ``k`` and the target prompt to step ``k + delta`` (leftover noise
kept), decompose both, learn, apply, recompose, and a third ``KSamplerAdvanced`` that continues
from step ``k`` to the end with the source prompt and ``add_noise`` disabled. Node ids are fixed
(see :class:`Ids`) so tests can ask for any node's outputs.

The model comes from the test-only ``LSETestTinySD`` node (random weights, see tiny_sd.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

Prompt = dict[str, dict[str, Any]]


@dataclass(frozen=True)
class Ids:
    """Node ids of :func:`edit_workflow`."""

    model: str = "1"
    source_text: str = "2"
    target_text: str = "3"
    negative_text: str = "4"
    empty_latent: str = "5"
    source_sampler: str = "10"  # steps 0..k, source prompt
    target_sampler: str = "11"  # steps 0..k+delta, target prompt
    decompose_source: str = "20"
    decompose_target: str = "21"
    learn: str = "30"
    apply: str = "31"
    recompose: str = "32"
    final: str = "40"  # edited: k..end
    reference: str = "41"  # unedited split generation: k..end from the source latent
    save_final: str = "42"  # SaveLatent: every prompt needs an output node
    save_reference: str = "43"


IDS = Ids()


@dataclass(frozen=True)
class EditSettings:
    """Knobs of :func:`edit_workflow` (defaults: small and fast on CPU)."""

    source_prompt: str = "a photo of a person"
    target_prompt: str = "a photo of a smiling person"
    negative_prompt: str = ""
    model_seed: int = 0
    seed: int = 42
    width: int = 192  # 24 x 24 latent: rank 24 > k_source = k_target = 16
    height: int = 192
    batch_size: int = 1
    steps: int = 10
    k: int = 3
    delta: int = 2
    cfg: float = 5.0
    sampler_name: str = "euler"
    scheduler: str = "normal"
    learn_steps: int = 60
    learning_rate: float = 3e-3
    k_source: int = 16
    k_target: int = 16
    keep_tail: bool = True
    strength: float = 1.0
    use_target_when_applying: bool = True
    attribute_name: str = "smile"
    train_seed: int = 0


def _sampler(
    s: EditSettings,
    positive: str,
    latent: list[Any],
    start: int,
    end: int,
    add_noise: bool,
    leftover: bool,
) -> dict[str, Any]:
    return {
        "class_type": "KSamplerAdvanced",
        "inputs": {
            "model": [IDS.model, 0],
            "add_noise": "enable" if add_noise else "disable",
            "noise_seed": s.seed,
            "steps": s.steps,
            "cfg": s.cfg,
            "sampler_name": s.sampler_name,
            "scheduler": s.scheduler,
            "positive": [positive, 0],
            "negative": [IDS.negative_text, 0],
            "latent_image": latent,
            "start_at_step": start,
            "end_at_step": end,
            "return_with_leftover_noise": "enable" if leftover else "disable",
        },
    }


def edit_workflow(s: EditSettings = EditSettings(), reference: bool = True) -> Prompt:
    """The full learn-and-apply graph; with ``reference`` also the unedited continuation."""
    prompt: Prompt = {
        IDS.model: {"class_type": "LSETestTinySD", "inputs": {"seed": s.model_seed}},
        IDS.source_text: {
            "class_type": "CLIPTextEncode",
            "inputs": {"text": s.source_prompt, "clip": [IDS.model, 1]},
        },
        IDS.target_text: {
            "class_type": "CLIPTextEncode",
            "inputs": {"text": s.target_prompt, "clip": [IDS.model, 1]},
        },
        IDS.negative_text: {
            "class_type": "CLIPTextEncode",
            "inputs": {"text": s.negative_prompt, "clip": [IDS.model, 1]},
        },
        IDS.empty_latent: {
            "class_type": "EmptyLatentImage",
            "inputs": {"width": s.width, "height": s.height, "batch_size": s.batch_size},
        },
        IDS.source_sampler: _sampler(
            s, IDS.source_text, [IDS.empty_latent, 0], 0, s.k, add_noise=True, leftover=True
        ),
        IDS.target_sampler: _sampler(
            s,
            IDS.target_text,
            [IDS.empty_latent, 0],
            0,
            s.k + s.delta,
            add_noise=True,
            leftover=True,
        ),
        IDS.decompose_source: {
            "class_type": "LatentSVDDecompose",
            "inputs": {"latent": [IDS.source_sampler, 0], "rank": 0},
        },
        IDS.decompose_target: {
            "class_type": "LatentSVDDecompose",
            "inputs": {"latent": [IDS.target_sampler, 0], "rank": 0},
        },
        IDS.learn: {
            "class_type": "LearnAttributeFromPair",
            "inputs": {
                "source": [IDS.decompose_source, 0],
                "target": [IDS.decompose_target, 0],
                "k_source": s.k_source,
                "k_target": s.k_target,
                "keep_tail": s.keep_tail,
                "steps": s.learn_steps,
                "learning_rate": s.learning_rate,
                "w_target": 1.0,
                "w_source": 1.0,
                "w_target_sv": 0.1,
                "w_source_sv": 0.1,
                "seed": s.train_seed,
                "hidden": 128,
                "name": s.attribute_name,
            },
        },
        IDS.apply: {
            "class_type": "ApplySingularEdit",
            "inputs": {
                "latent_svd": [IDS.decompose_source, 0],
                "attribute": [IDS.learn, 0],
                "strength": s.strength,
                **({"target": [IDS.decompose_target, 0]} if s.use_target_when_applying else {}),
            },
        },
        IDS.recompose: {"class_type": "LatentRecompose", "inputs": {"latent_svd": [IDS.apply, 0]}},
        IDS.final: _sampler(
            s, IDS.source_text, [IDS.recompose, 0], s.k, 10000, add_noise=False, leftover=False
        ),
    }
    prompt[IDS.save_final] = node(
        "SaveLatent", samples=[IDS.final, 0], filename_prefix="latents/edited"
    )
    if reference:
        prompt[IDS.reference] = _sampler(
            s, IDS.source_text, [IDS.source_sampler, 0], s.k, 10000, add_noise=False, leftover=False
        )
        prompt[IDS.save_reference] = node(
            "SaveLatent", samples=[IDS.reference, 0], filename_prefix="latents/reference"
        )
    return prompt


def node(class_type: str, **inputs: Any) -> dict[str, Any]:
    """One API-format node entry."""
    return {"class_type": class_type, "inputs": inputs}
