"""SingularComponentsPreview: the top-n rank-1 components u_i v_i^T of each channel as heat maps."""

from __future__ import annotations

from comfy_api.latest import io

from ...svd_core import item_components, parse_index_list
from ..common import PackNode
from ..compat import search_aliases
from ..types import LatentSVDType, SingularLatent
from .common import CATEGORY, item_inputs, size_inputs, with_preview
from .figures import components_figure, render

NODE = "Singular Components Preview"


class SingularComponentsPreview(PackNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id="SingularComponentsPreview",
            display_name=NODE,
            category=CATEGORY,
            **search_aliases("components heatmap"),
            # An output node: it draws its preview even when its IMAGE is not connected.
            is_output_node=True,
            description="Draws the top rank-1 singular value components u_i v_i^T of each "
            "channel as heat maps (rows: channels, columns: i = 1..count). Run it on latents "
            "taken at two denoising steps to see the order of the components change.",
            inputs=[
                LatentSVDType.Input(
                    "latent_svd",
                    tooltip="The decomposition to draw (from 'Latent Singular Value Decompose').",
                ),
                io.Int.Input(
                    "count",
                    default=4,
                    min=1,
                    max=64,
                    tooltip="How many components per channel (the largest singular values first).",
                ),
                io.String.Input(
                    "channels",
                    default="",
                    tooltip="0-based channels to draw: numbers or ranges separated by commas "
                    "(e.g. '0, 2' or '0-3'); empty = every channel.",
                ),
                io.Boolean.Input(
                    "weighted",
                    default=False,
                    tooltip="Off: draw the unit-norm component u_i v_i^T (its shape); on: "
                    "draw s_i u_i v_i^T (its share of the latent).",
                ),
                *item_inputs(),
                *size_inputs(1024, 768),
                io.String.Input(
                    "title",
                    default="",
                    tooltip="Figure title, e.g. 'step 6 of 20 (0.7T)'; empty = a default title.",
                ),
            ],
            outputs=[
                io.Image.Output(
                    "components",
                    display_name="components",
                    tooltip="The grid as an IMAGE of exactly width x height pixels; one colour "
                    "scale (blue negative, red positive) for every tile.",
                ),
            ],
        )

    @classmethod
    def execute(
        cls,
        latent_svd: SingularLatent,
        count: int,
        channels: str,
        weighted: bool,
        batch_index: int,
        frame: int,
        width: int,
        height: int,
        title: str,
    ) -> io.NodeOutput:
        svd = latent_svd.svd
        chosen = parse_index_list(channels, svd.channels, "channels", empty_means_all=True)
        comps, values = item_components(svd, count, batch_index, frame, weighted)
        comps, values = comps[chosen].detach().cpu(), values[chosen].detach().cpu()
        fig = components_figure(comps, values, chosen, width, height, title, weighted)
        image = render(fig, width, height)
        return with_preview(cls, image, image)
