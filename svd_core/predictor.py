"""The AVI predictor: a small MLP that maps singular values to new coefficients.

Input per matrix: ``(sx_1..ks, sz_1..kt) / sx_1`` and a one-hot of the channel.
Two hidden layers of ``hidden`` units with SiLU, output ``ks + kt`` numbers ``o``.
Coefficients: ``(a, b) = sx_1 * ([sx / sx_1, 0] + o)``; the last layer starts at zero so
an untrained predictor is the identity edit (``a = sx``, ``b = 0``, hence ``y = x``).

Written functionally (a dict of tensors, no ``nn.Module``) so the weights map one-to-one
onto the tensors of an attribute file and training has no module overhead.
"""

from __future__ import annotations

import math

import torch

#: Tensor names of the predictor, in order.
PREDICTOR_KEYS: tuple[str, ...] = (
    "l1.weight",
    "l1.bias",
    "l2.weight",
    "l2.bias",
    "l3.weight",
    "l3.bias",
)

#: Singular values below this (relative to nothing: latents are O(1)) count as zero; keeps
#: an all-zero matrix from dividing by zero.
TINY = 1e-12


def predictor_shapes(ks: int, kt: int, channels: int, hidden: int) -> dict[str, tuple[int, ...]]:
    """Shape of every predictor tensor."""
    n_in, n_out = ks + kt + channels, ks + kt
    return {
        "l1.weight": (hidden, n_in),
        "l1.bias": (hidden,),
        "l2.weight": (hidden, hidden),
        "l2.bias": (hidden,),
        "l3.weight": (n_out, hidden),
        "l3.bias": (n_out,),
    }


def init_predictor(
    ks: int,
    kt: int,
    channels: int,
    hidden: int,
    seed: int,
    dtype: torch.dtype = torch.float32,
) -> dict[str, torch.Tensor]:
    """Seeded initial weights on CPU: PyTorch's Linear init for the hidden layers, and a
    zero output layer (the identity edit)."""
    gen = torch.Generator(device="cpu").manual_seed(seed)
    shapes = predictor_shapes(ks, kt, channels, hidden)
    params: dict[str, torch.Tensor] = {}
    for layer in ("l1", "l2"):
        w_shape = shapes[f"{layer}.weight"]
        bound = 1.0 / math.sqrt(w_shape[1])
        for key in (f"{layer}.weight", f"{layer}.bias"):
            u = torch.rand(shapes[key], generator=gen, dtype=torch.float64)
            params[key] = ((u * 2.0 - 1.0) * bound).to(dtype)
    params["l3.weight"] = torch.zeros(shapes["l3.weight"], dtype=dtype)
    params["l3.bias"] = torch.zeros(shapes["l3.bias"], dtype=dtype)
    return params


def predictor_inputs(
    sx: torch.Tensor, sz: torch.Tensor, channel: torch.Tensor, channels: int
) -> torch.Tensor:
    """Build the MLP input.

    Args:
        sx: ``[M, ks]`` source singular values.
        sz: ``[M, kt]`` target singular values.
        channel: ``[M]`` int64 channel index of each matrix.
        channels: number of channels ``C`` (one-hot width).

    Returns:
        ``[M, ks + kt + C]`` in ``sx``'s dtype.
    """
    scale = sx[:, :1].clamp_min(TINY)
    onehot = torch.nn.functional.one_hot(channel, channels).to(sx.dtype)
    return torch.cat([sx / scale, sz / scale, onehot], dim=1)


def predictor_forward(params: dict[str, torch.Tensor], inputs: torch.Tensor) -> torch.Tensor:
    """Raw MLP output ``o``: ``[M, ks + kt]``."""
    silu = torch.nn.functional.silu
    h = silu(torch.addmm(params["l1.bias"], inputs, params["l1.weight"].t()))
    h = silu(torch.addmm(params["l2.bias"], h, params["l2.weight"].t()))
    return torch.addmm(params["l3.bias"], h, params["l3.weight"].t())


def coefficient_frame(sx: torch.Tensor, sz: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """``(base, scale)`` of ``c = base + scale * o``: ``base = [sx, 0]`` ``[M, ks + kt]`` (the
    identity edit) and ``scale = sx_1`` ``[M, 1]``, so a zero output ``o`` gives ``a == sx``
    and ``b == 0`` exactly.  Training (which needs ``o``'s gradient) and prediction both
    build the coefficients from this frame through :func:`coefficients`."""
    return torch.cat([sx, torch.zeros_like(sz)], dim=1), sx[:, :1].clamp_min(TINY)


def coefficients(o: torch.Tensor, base: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
    """``c = base + scale * o``: ``[M, ks + kt]`` with ``a`` first."""
    return torch.addcmul(base, scale, o)


def predict_coefficients(
    params: dict[str, torch.Tensor],
    sx: torch.Tensor,
    sz: torch.Tensor,
    channel: torch.Tensor,
    channels: int,
) -> torch.Tensor:
    """Coefficients ``c = (a, b)``: ``[M, ks + kt]`` with ``a`` first (the identity edit plus
    the MLP's correction, :func:`coefficient_frame`)."""
    o = predictor_forward(params, predictor_inputs(sx, sz, channel, channels))
    return coefficients(o, *coefficient_frame(sx, sz))
