"""Decompose a LATENT into singular values, recompose it, and scale singular values."""

from __future__ import annotations

import torch
from comfy_api.latest import io

from ..svd_core import decompose, parse_index_list, recompose, scale_singular_values
from .common import PackNode, compute_device, latent_device
from .compat import search_aliases
from .types import CATEGORY, LatentSVDType, SingularLatent

DECOMPOSE = "Latent Singular Value Decompose"
RECOMPOSE = "Latent Recompose (from singular values)"
SCALE = "Scale Singular Values"

MAX_RANK = 16384


class LatentSVDDecompose(PackNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id="LatentSVDDecompose",
            display_name=DECOMPOSE,
            category=CATEGORY,
            **search_aliases("decompose latent", "latent svd", "singular values"),
            description="Splits every channel of a latent into its singular value decomposition "
            "U diag(s) V^T, lossless at rank 0. Connect it to the learn, apply or scale nodes, "
            "then 'Latent Recompose' to continue sampling.",
            inputs=[
                io.Latent.Input(
                    "latent",
                    tooltip="The latent to decompose (image or video), e.g. from a "
                    "KSamplerAdvanced that stopped at step k with leftover noise.",
                ),
                io.Int.Input(
                    "rank",
                    default=0,
                    min=0,
                    max=MAX_RANK,
                    tooltip="Keep only the largest `rank` singular values of each matrix "
                    "(0 = keep all, lossless).",
                ),
            ],
            outputs=[
                LatentSVDType.Output(
                    "latent_svd",
                    display_name="latent_svd",
                    tooltip="The per-channel singular value decomposition, carrying the "
                    "latent's other fields (noise mask, batch index) for 'Latent Recompose'.",
                ),
            ],
        )

    @classmethod
    def execute(cls, latent: dict, rank: int) -> io.NodeOutput:
        # The LATENT dictionary enters here: its samples are checked by decompose.
        samples = latent.get("samples") if isinstance(latent, dict) else latent
        svd = decompose(samples, rank=rank, device=compute_device())
        extras = {k: v for k, v in latent.items() if k != "samples"}
        return io.NodeOutput(SingularLatent(svd=svd, extras=extras))


class LatentRecompose(PackNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id="LatentRecompose",
            display_name=RECOMPOSE,
            category=CATEGORY,
            **search_aliases("recompose latent", "inverse svd"),
            description="Multiplies a singular value decomposition back into a LATENT, "
            "keeping the original latent's noise mask and batch index. Feed it to a "
            "KSamplerAdvanced that starts at the edit step with add_noise disabled.",
            inputs=[
                LatentSVDType.Input(
                    "latent_svd",
                    tooltip="A decomposition from 'Latent Singular Value Decompose', "
                    "'Apply Singular Value Edit' or 'Scale Singular Values'.",
                ),
            ],
            outputs=[
                io.Latent.Output(
                    "LATENT",
                    display_name="LATENT",
                    tooltip="The recomposed latent (float32), same shape as the decomposed one.",
                ),
            ],
        )

    @classmethod
    def execute(cls, latent_svd: SingularLatent) -> io.NodeOutput:
        samples = recompose(latent_svd.svd).to(device=latent_device(), dtype=torch.float32)
        return io.NodeOutput(latent_svd.latent(samples))


class ScaleSingularValues(PackNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id="ScaleSingularValues",
            display_name=SCALE,
            category=CATEGORY,
            **search_aliases("scale singular value", "svd scale"),
            description="Multiplies the chosen singular values by a factor in the chosen "
            "channels, to explore what single components carry. Recompose and continue "
            "sampling to see which attribute changes.",
            inputs=[
                LatentSVDType.Input(
                    "latent_svd",
                    tooltip="The decomposition to change (a new one is returned).",
                ),
                io.String.Input(
                    "indices",
                    default="0",
                    tooltip="Which singular values to scale, 0 = the largest: a list such as "
                    '"0,1,2" or a range such as "0-3" (both ends included).',
                ),
                io.String.Input(
                    "channels",
                    default="",
                    tooltip='Which latent channels to change, 0-based, e.g. "0,2" or "0-1" '
                    "(empty = all channels).",
                ),
                io.Float.Input(
                    "factor",
                    default=1.5,
                    min=-100.0,
                    max=100.0,
                    step=0.05,
                    tooltip="Multiplier for the chosen singular values: 1 = unchanged, "
                    "0 = remove the components, >1 = amplify, negative flips them.",
                ),
            ],
            outputs=[
                LatentSVDType.Output(
                    "scaled",
                    display_name="latent_svd",
                    tooltip="The decomposition with the chosen singular values scaled.",
                ),
            ],
        )

    @classmethod
    def execute(
        cls, latent_svd: SingularLatent, indices: str, channels: str, factor: float
    ) -> io.NodeOutput:
        svd = latent_svd.svd
        what = "indices (0-based singular value positions)"
        idx = parse_index_list(indices, svd.rank, what, empty_means_all=False)
        ch = parse_index_list(channels, svd.channels, "channels (0-based)", empty_means_all=True)
        return io.NodeOutput(latent_svd.replace_svd(scale_singular_values(svd, factor, idx, ch)))
