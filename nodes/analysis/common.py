"""What the analysis nodes share beyond nodes/common.py: category, widgets, image previews."""

from __future__ import annotations

import torch
from comfy_api.latest import io, ui

from ..types import CATEGORY as PACK_CATEGORY

CATEGORY = f"{PACK_CATEGORY}/analysis"


def with_preview(
    node_cls: type[io.ComfyNode], image: torch.Tensor, *outputs: object
) -> io.NodeOutput:
    """The node's ``outputs`` (in socket order), with ``image`` shown as a preview on the node."""
    return io.NodeOutput(*outputs, ui=ui.PreviewImage(image, cls=node_cls))


def size_inputs(width: int, height: int) -> list[io.Input]:
    """Width/height widgets: the IMAGE output is exactly this many pixels."""
    return [
        io.Int.Input(
            "width",
            default=width,
            min=128,
            max=4096,
            step=8,
            tooltip="Width of the output IMAGE in pixels (the figure is drawn at 100 dpi).",
        ),
        io.Int.Input(
            "height",
            default=height,
            min=128,
            max=4096,
            step=8,
            tooltip="Height of the output IMAGE in pixels.",
        ),
    ]


def item_inputs() -> list[io.Input]:
    """Which matrices of a batch (and of a video) to draw."""
    return [
        io.Int.Input(
            "batch_index",
            default=0,
            min=0,
            max=4095,
            tooltip="Which item of the latent batch to draw (0 = the first).",
        ),
        io.Int.Input(
            "frame",
            default=0,
            min=0,
            max=4095,
            tooltip="Video latents [B, C, T, H, W] only: which frame t to draw.",
        ),
    ]
