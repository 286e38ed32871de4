"""AttributeStrengthSweep: one latent edited at several strengths, as one LATENT batch."""

from __future__ import annotations

from typing import Any

import torch
from comfy_api.latest import io, ui

from ...svd_core import Attribute, parse_strengths, strength_sweep
from ..common import PackNode, latent_device
from ..compat import search_aliases
from ..provenance import apply_note
from ..types import AttributeType, LatentSVDType, SingularLatent
from .common import CATEGORY

NODE = "Attribute Strength Sweep"


def interleave(edits: list[torch.Tensor]) -> torch.Tensor:
    """Per-strength batches [B, ...] -> one batch [B * S, ...], item-major: item b's strip is
    rows b*S .. b*S + S - 1, in the order of the strengths list."""
    stacked = torch.stack(edits, dim=1)  # [B, S, ...]
    return stacked.reshape(-1, *stacked.shape[2:])


def sweep_latent(value: SingularLatent, samples: torch.Tensor, count: int) -> dict[str, Any]:
    """The output LATENT: ``samples`` [B * count, ...] plus the source's other keys, expanded
    item-major like the samples (a per-item noise_mask or batch_index repeats ``count`` times,
    so every strength of an item gets the item's mask and noise)."""
    out = value.latent(samples)
    batch = value.svd.batch
    mask = out.get("noise_mask")
    if isinstance(mask, torch.Tensor) and mask.ndim > 0 and mask.shape[0] == batch > 1:
        out["noise_mask"] = mask.repeat_interleave(count, dim=0)
    index = out.get("batch_index")
    if isinstance(index, (list, tuple)) and len(index) == batch:
        out["batch_index"] = [i for i in index for _ in range(count)]
    return out


class AttributeStrengthSweep(PackNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id="AttributeStrengthSweep",
            display_name=NODE,
            category=CATEGORY,
            **search_aliases("strength sweep", "interpolation strip"),
            description="Applies a learned singular value attribute at every strength of a "
            "list and returns the edited latents as one LATENT batch. One sampler run (from "
            "step k, add_noise disabled) then gives the whole interpolation strip.",
            inputs=[
                LatentSVDType.Input(
                    "latent_svd",
                    tooltip="Decomposition of the source latent x' at the edit step k.",
                ),
                AttributeType.Input(
                    "attribute",
                    tooltip="The learned attribute (from 'Learn Attribute from Pair' or "
                    "'Load Singular Value Attribute').",
                ),
                io.String.Input(
                    "strengths",
                    default="0, 0.25, 0.5, 0.75, 1",
                    tooltip="Strengths separated by commas, in output order (at most 64; "
                    "0 = unedited, 1 = the learned edit, negative = away from the target).",
                ),
                io.Boolean.Input(
                    "local",
                    default=True,
                    optional=True,
                    tooltip="With target and source_branch, keep the edit where the two "
                    "branches differ, as Apply does; the other modes ignore it.",
                ),
                LatentSVDType.Input(
                    "target_latent_svd",
                    optional=True,
                    tooltip="Optional decomposition of this image's own target latent (not "
                    "connected: the attribute's reuse edit is added, as by Apply).",
                ),
                LatentSVDType.Input(
                    "source_branch",
                    optional=True,
                    tooltip="Optional, with target_latent_svd: the source prompt continued "
                    "from this latent for the same delta steps (needed for branch-learned "
                    "attributes).",
                ),
            ],
            outputs=[
                io.Latent.Output(
                    "latents",
                    display_name="latents",
                    tooltip="float32 LATENT batch of B x (number of strengths): item b at "
                    "strength j is row b * count + j (each item's strip is contiguous).",
                ),
                io.Int.Output(
                    "count",
                    display_name="count",
                    tooltip="Number of strengths (the strip length; use it as the preview "
                    "grid's row length).",
                ),
            ],
        )

    @classmethod
    def execute(
        cls,
        latent_svd: SingularLatent,
        attribute: Attribute,
        strengths: str,
        local: bool = True,
        target_latent_svd: SingularLatent | None = None,
        source_branch: SingularLatent | None = None,
    ) -> io.NodeOutput:
        target = None if target_latent_svd is None else target_latent_svd.svd
        branch = None if source_branch is None else source_branch.svd
        values = parse_strengths(strengths)
        # One edit for every strength (the edit is linear in it); each result is in the
        # source dtype first: the same rounding as Apply + Recompose.
        edits = strength_sweep(latent_svd.svd, attribute, values, target, branch, local)
        samples = interleave([e.to(latent_device(), torch.float32) for e in edits])
        note = apply_note(attribute, target is not None, NODE, "target_latent_svd")
        return io.NodeOutput(
            sweep_latent(latent_svd, samples, len(values)),
            len(values),
            ui=None if note is None else ui.PreviewText(note),
        )
