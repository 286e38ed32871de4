"""LatentSubspaceDistance: Grassmann distance between the top-k singular subspaces of 2 latents."""

from __future__ import annotations

import math

import torch
from comfy_api.latest import io

from ...svd_core import subspace_distance
from ..common import PackNode
from ..compat import search_aliases
from ..types import LatentSVDType, SingularLatent
from .common import CATEGORY, size_inputs, with_preview
from .figures import distance_figure, render

NODE = "Latent Subspace Distance"


def per_channel_rows(distances: torch.Tensor) -> torch.Tensor:
    """[B, C] or [B, C, T] distances -> [rows, C] with one row per (batch item, frame)."""
    if distances.ndim == 3:
        distances = distances.permute(0, 2, 1)
    return distances.reshape(-1, distances.shape[-1])


def describe(rows: torch.Tensor, k: int) -> str:
    """Per-channel means as text (one line per channel) plus the overall mean."""
    maximum = (math.pi / 2.0) * math.sqrt(k)
    means = rows.mean(dim=0)
    lines = [f"Grassmann distance of the top-{k} subspaces (maximum {maximum:.4f})"]
    lines += [f"channel {c}: {float(d):.6f}" for c, d in enumerate(means)]
    lines.append(f"mean: {float(rows.mean()):.6f}")
    return "\n".join(lines)


class LatentSubspaceDistance(PackNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id="LatentSubspaceDistance",
            display_name=NODE,
            category=CATEGORY,
            **search_aliases("grassmann distance", "subspace"),
            # An output node: it draws its preview even when its IMAGE is not connected.
            is_output_node=True,
            description="Grassmann distance between the spans of the top-k singular vectors "
            "of two latents, per channel: 0 = the same subspace, (pi/2) sqrt(k) = orthogonal. "
            "Small values between neighbouring denoising steps are the paper's 'small "
            "neighbourhood' observation.",
            inputs=[
                LatentSVDType.Input(
                    "latent_svd_a",
                    tooltip="First decomposition (e.g. the latent at step k).",
                ),
                LatentSVDType.Input(
                    "latent_svd_b",
                    tooltip="Second decomposition (e.g. the latent at step k + delta), the "
                    "same shape as the first or batch 1.",
                ),
                io.Int.Input(
                    "k",
                    default=16,
                    min=1,
                    max=4096,
                    tooltip="Dimension of the compared subspaces, the top-k singular vectors "
                    "(clipped to the rank both decompositions keep).",
                ),
                io.Combo.Input(
                    "side",
                    options=["left", "right"],
                    default="left",
                    tooltip="left: column spaces (U, along the height); right: row spaces "
                    "(V, along the width).",
                ),
                *size_inputs(768, 512),
                io.String.Input(
                    "title",
                    default="",
                    tooltip="Chart title; empty = 'Subspace distance per channel'.",
                ),
            ],
            outputs=[
                io.Float.Output(
                    "mean_distance",
                    display_name="mean_distance",
                    tooltip="Mean distance over every channel, batch item (and frame), radians.",
                ),
                io.Image.Output(
                    "chart",
                    display_name="chart",
                    tooltip="Bar chart per channel (exactly width x height pixels), with the "
                    "orthogonal maximum as a dashed line.",
                ),
                io.String.Output(
                    "per_channel",
                    display_name="per_channel",
                    tooltip="The per-channel mean distances as text, one line per channel.",
                ),
            ],
        )

    @classmethod
    def execute(
        cls,
        latent_svd_a: SingularLatent,
        latent_svd_b: SingularLatent,
        k: int,
        side: str,
        width: int,
        height: int,
        title: str,
    ) -> io.NodeOutput:
        a, b = latent_svd_a.svd, latent_svd_b.svd
        # Clipped like the method's k_source/k_target, so one workflow fits every size.
        used = min(k, a.rank, b.rank)
        rows = per_channel_rows(subspace_distance(a, b, used, side).detach().cpu())
        image = render(distance_figure(rows, used, width, height, title), width, height)
        return with_preview(cls, image, float(rows.mean()), image, describe(rows, used))
