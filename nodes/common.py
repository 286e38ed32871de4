"""What every node of the pack shares: devices and the wording of errors.

The checks themselves are svd_core's, made once where untrusted input enters; `PackNode` is the
one place that words them for the node that raised.
"""

from __future__ import annotations

import functools
from typing import Any

import comfy.model_management
import torch
from comfy_api.latest import io


def compute_device() -> torch.device:
    """Where the SVDs run: ComfyUI's torch device (GPU when there is one)."""
    return comfy.model_management.get_torch_device()


def latent_device() -> torch.device:
    """Where LATENTs live between nodes (CPU on most setups)."""
    return comfy.model_management.intermediate_device()


class PackNode(io.ComfyNode):
    """A node of this pack: a ValueError from its ``execute`` (bad input, worded by svd_core)
    reaches the user prefixed with the node's display name, so they know which box to fix.
    Cancel and other exceptions pass unchanged."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        run = cls.__dict__.get("execute")
        # ComfyUI clones node classes (with their wrapped execute) for every run: wrap once.
        if run is None or getattr(run.__func__, "explains_errors", False):
            return
        func = run.__func__

        @functools.wraps(func)
        def execute(node: type[io.ComfyNode], *args: Any, **inputs: Any) -> io.NodeOutput:
            try:
                return func(node, *args, **inputs)
            except ValueError as exc:
                raise ValueError(f"{node.define_schema().display_name}: {exc}") from exc

        execute.explains_errors = True  # type: ignore[attr-defined]
        cls.execute = classmethod(execute)  # type: ignore[method-assign]
