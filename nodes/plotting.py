"""Figures of the core nodes (the training loss curve), rendered to ComfyUI IMAGE tensors.

Uses the Agg-only figure helpers of the analysis nodes (no pyplot, fixed style and size), so
every figure of the pack looks alike and identical inputs give identical pixels.
"""

from __future__ import annotations

import math

import torch

from .analysis.figures import figure_style, new_figure, render

LOSS_WIDTH = 640
LOSS_HEIGHT = 400


def loss_curve_image(
    history: torch.Tensor,
    optimum: float,
    final: float,
    title: str = "",
    width: int = LOSS_WIDTH,
    height: int = LOSS_HEIGHT,
) -> torch.Tensor:
    """Training loss against the Adam step, with the exact optimum as a dashed line.

    Args:
        history: ``[steps]`` loss before each step (may be empty when steps = 0).
        optimum: the exact minimum of the same loss (the yardstick of convergence).
        final: the loss of the predictor as stored after training.

    Returns:
        IMAGE ``[1, height, width, 3]`` float32 in 0..1.
    """
    values = history.detach().to("cpu", torch.float64).flatten()
    with figure_style():
        fig = new_figure(width, height)
        ax = fig.add_subplot(1, 1, 1)
        steps = torch.arange(values.numel())
        if values.numel() > 0:
            ax.plot(steps.numpy(), values.numpy(), color="tab:blue", label="training loss")
        ax.plot([values.numel()], [final], "o", color="tab:blue", label=f"final loss {final:.4g}")
        ax.axhline(optimum, color="tab:red", linestyle="--", label=f"exact optimum {optimum:.4g}")
        positive = [v for v in (*values.tolist(), final, optimum) if v > 0 and math.isfinite(v)]
        # A log axis shows the approach to the optimum; it needs positive values spanning >10x.
        if positive and max(positive) / min(positive) > 10:
            ax.set_yscale("log")
        ax.set_xlabel("Adam step")
        ax.set_ylabel("loss  w1 L1 + w2 L2 + w3 L3 + w4 L4")
        ratio = final / optimum if optimum > 0 else float("nan")
        head = f"{title}: " if title else ""
        ax.set_title(f"{head}final / optimum = {ratio:.4f}")
        ax.grid(True, alpha=0.3)
        ax.legend(loc="upper right")
        return render(fig, width, height)
