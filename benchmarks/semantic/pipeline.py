"""The node pack's edit pipeline on the semantic world, step for step as in a ComfyUI graph.

source prompt -> step k (leftover noise kept)            = KSamplerAdvanced #1
target prompt -> step k + delta                          = KSamplerAdvanced #2
learn (svd_core.learn_attribute) / apply (apply_attribute) at step k
source prompt, step k -> end, from the edited latent     = KSamplerAdvanced #3 (add_noise off)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from types import ModuleType

import torch

import svd_core

from . import world
from .models import World


@dataclass(frozen=True)
class Edit:
    """One edit: the source prompt leaves ``attribute`` to the seed (``source_value`` ""),
    as the paper's "a photo of a person", or names ``source_value``; the target prompt names
    ``target_value`` ("a photo of a smiling person")."""

    key: str
    attribute: str
    source_value: str
    target_value: str

    @property
    def source_tokens(self) -> torch.Tensor:
        if not self.source_value:
            return world.tokens()
        return world.tokens(**{self.attribute: self.source_value})

    @property
    def target_tokens(self) -> torch.Tensor:
        return world.tokens(**{self.attribute: self.target_value})

    @property
    def index(self) -> int:
        return world.INDEX[self.attribute]

    @property
    def target_index(self) -> int:
        return world.ATTRIBUTES[self.index].values.index(self.target_value)


# Source prompt empty (the paper's "a photo of a person"): a source prompt that names the
# opposite value would fight the edit in every step after k, since denoising continues with it.
EDITS: tuple[Edit, ...] = (
    Edit("smile", "mouth", "", "smiling"),
    Edit("glasses", "glasses", "", "on"),
    Edit("hair", "hair", "", "blonde"),
)


@dataclass(frozen=True)
class Pairs:
    """Latents of one edit on a set of seeds. x: [B, 4, L, L] at step k; z: at step k + delta."""

    seeds: tuple[int, ...]
    x: torch.Tensor
    z: torch.Tensor


def sample_pairs(w: World, edit: Edit, seeds: Sequence[int], k: int, delta: int) -> Pairs:
    """Source to step k and target to step k + delta, from the same seeds."""
    x = w.run(edit.source_tokens, seeds, 0, k)
    z = w.run(edit.target_tokens, seeds, 0, k + delta)
    return Pairs(tuple(int(s) for s in seeds), x, z)


def finish(
    w: World, tok: torch.Tensor, seeds: Sequence[int], k: int, x_k: torch.Tensor, chunk: int = 256
) -> torch.Tensor:
    """Denoise from step k to the end and decode. Returns images [B, 3, S, S]."""
    out = []
    for i in range(0, x_k.shape[0], chunk):
        lat = w.run(tok, seeds[i : i + chunk], k, w.steps, x_start=x_k[i : i + chunk])
        out.append(w.decode(lat))
    return torch.cat(out)


def learn(pairs: Pairs, config: svd_core.AVIConfig, edit: Edit, k: int, delta: int):
    """svd_core.learn_attribute on the training pairs (several pairs, one predictor)."""
    return svd_core.learn_attribute(
        svd_core.decompose(pairs.x),
        svd_core.decompose(pairs.z),
        config,
        name=edit.key,
        source_prompt=world.caption(edit.source_tokens),
        target_prompt=world.caption(edit.target_tokens),
        step=k,
        delta=delta,
    )


def apply(attribute, pairs: Pairs, strength: float) -> torch.Tensor:
    """Edited latents at step k, each with its own target. [B, 4, L, L]."""
    target = svd_core.decompose(pairs.z)
    out = svd_core.apply_attribute(
        svd_core.decompose(pairs.x), attribute, target=target, strength=strength
    )
    return svd_core.recompose(out)


@dataclass(frozen=True)
class Score:
    """Metrics of edited images against the unedited source images of the same seeds."""

    success: float
    identity: float
    pixel_distance_outside: float
    readout_rms: float

    def as_dict(self) -> dict[str, float]:
        return {k: round(v, 4) for k, v in self.__dict__.items()}


def score(
    edit: Edit,
    edited: torch.Tensor,
    source_images: torch.Tensor,
    source_values: torch.Tensor,
    scene: ModuleType = world,
) -> Score:
    """success: target value read out; identity: every other read-out column (the other
    attributes, and in the second world the placement) equal to the source's; pixel distance:
    mean |edited - source| (0..1 scale) over pixels outside the edit region."""
    values, rms = scene.read_attributes(edited)
    i = edit.index
    others = [j for j in range(values.shape[1]) if j != i]
    success = (values[:, i] == edit.target_index).float().mean().item()
    identity = (values[:, others] == source_values[:, others]).all(1).float().mean().item()
    outside = ~scene.edit_region(edit.attribute)
    diff = (edited - source_images).abs().mean(1)[:, outside]
    return Score(success, identity, diff.mean().item(), rms.mean().item())
