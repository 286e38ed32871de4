"""What the analysis nodes share: socket types, the category, error wording, image previews."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import torch
from comfy_api.latest import io, ui

from ...svd_core import LatentSVD

CATEGORY = "latent/singular value edit/analysis"

# The io_type strings are what ComfyUI matches sockets on; the core nodes declare the same.
LatentSVDType = io.Custom("LATENT_SVD")
AttributeType = io.Custom("SVD_ATTRIBUTE")

T = TypeVar("T")


def run_or_explain(node: str, fn: Callable[[], T]) -> T:
    """Run ``fn``; a ValueError (bad input) comes back naming the node, so the user knows
    which box in the graph to fix. Other exceptions (including Cancel) pass unchanged."""
    try:
        return fn()
    except ValueError as exc:
        raise ValueError(f"{node}: {exc}") from exc


def as_latent_svd(node: str, value: object, what: str = "latent_svd") -> LatentSVD:
    """The decomposition carried on a LATENT_SVD socket."""
    if isinstance(value, LatentSVD):
        return value
    inner = getattr(value, "svd", None)
    if isinstance(inner, LatentSVD):
        return inner
    raise ValueError(
        f"{node}: input '{what}' is not a singular value decomposition "
        f"(got {type(value).__name__}); connect the output of 'Latent Singular Value Decompose'."
    )


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
            tooltip="Video latents [B, C, T, H, W] only: which frame t to draw. "
            "Ignored for image latents.",
        ),
    ]
