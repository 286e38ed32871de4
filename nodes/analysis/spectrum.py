"""LatentSingularSpectrum: the singular values of every channel, one latent or two overlaid."""

from __future__ import annotations

from comfy_api.latest import io

from ...svd_core import item_spectra, parse_index_list
from ..common import PackNode
from ..compat import search_aliases
from ..types import LatentSVDType, SingularLatent
from .common import CATEGORY, item_inputs, size_inputs, with_preview
from .figures import render, spectrum_figure

NODE = "Latent Singular Value Spectrum"


class LatentSingularSpectrum(PackNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id="LatentSingularSpectrum",
            display_name=NODE,
            category=CATEGORY,
            **search_aliases("spectrum", "singular value plot"),
            # An output node: it draws its preview even when its IMAGE is not connected.
            is_output_node=True,
            description="Plots the singular values s_1 >= s_2 >= ... of every channel of a "
            "latent on a log scale, one panel per channel. Connect a second decomposition to "
            "overlay it (source vs target, before vs after an edit).",
            inputs=[
                LatentSVDType.Input(
                    "latent_svd",
                    tooltip="The decomposition to plot (from 'Latent Singular Value Decompose').",
                ),
                io.String.Input(
                    "label",
                    default="source",
                    tooltip="Legend label of the first decomposition.",
                ),
                io.Int.Input(
                    "max_index",
                    default=0,
                    min=0,
                    max=4096,
                    tooltip="Plot only the largest max_index singular values (0 = all of them).",
                ),
                io.String.Input(
                    "channels",
                    default="",
                    tooltip="0-based channels to plot: numbers or ranges separated by commas "
                    "(e.g. '0, 2' or '0-15'); empty = every channel (at most 64 panels).",
                ),
                *item_inputs(),
                *size_inputs(1024, 768),
                io.String.Input(
                    "title",
                    default="",
                    tooltip="Figure title; empty = 'Singular value spectrum per channel'.",
                ),
                io.String.Input(
                    "second_label",
                    default="target",
                    tooltip="Legend label of the second decomposition (used only when it is "
                    "connected).",
                ),
                LatentSVDType.Input(
                    "second_latent_svd",
                    optional=True,
                    tooltip="Optional second decomposition, drawn dashed over the first (same "
                    "channel count; batch 1 or the same batch size).",
                ),
            ],
            outputs=[
                io.Image.Output(
                    "spectrum",
                    display_name="spectrum",
                    tooltip="The plot as an IMAGE of exactly width x height pixels.",
                ),
            ],
        )

    @classmethod
    def execute(
        cls,
        latent_svd: SingularLatent,
        label: str,
        max_index: int,
        channels: str,
        batch_index: int,
        frame: int,
        width: int,
        height: int,
        title: str,
        second_label: str,
        second_latent_svd: SingularLatent | None = None,
    ) -> io.NodeOutput:
        first = latent_svd.svd
        pairs = [(first, label or "first")]
        if second_latent_svd is not None:
            pairs.append((second_latent_svd.svd, second_label or "second"))
        chosen = parse_index_list(channels, first.channels, "channels", empty_means_all=True)
        spectra = item_spectra([s for s, _ in pairs], batch_index, frame, max_index)
        spectra = [s[chosen].detach().cpu() for s in spectra]
        where = f"batch item {batch_index}" + (f", frame {frame}" if first.frames else "")
        heading = title or f"Singular value spectrum per channel ({where})"
        names = [n for _, n in pairs]
        fig = spectrum_figure(spectra, names, width, height, heading, channel_numbers=chosen)
        image = render(fig, width, height)
        return with_preview(cls, image, image)
