"""Latent files for the in-process ComfyUI tests: ComfyUI's own LoadLatent reads them."""

from __future__ import annotations

from pathlib import Path

import safetensors.torch
import torch


def write_latent(input_dir: Path, name: str, samples: torch.Tensor) -> str:
    """Save ``samples`` as ``input/<name>.latent`` (unscaled: LoadLatent's version-0 format)."""
    path = input_dir / f"{name}.latent"
    safetensors.torch.save_file(
        {"latent_tensor": samples.contiguous(), "latent_format_version_0": torch.tensor([])},
        str(path),
    )
    return path.name


def latent_with_left_basis(basis: torch.Tensor, channels: int, width: int) -> torch.Tensor:
    """[1, C, H, W] whose every channel's top singular vectors (left) are ``basis`` [H, k]
    (descending singular values 8..4, a channel-dependent right basis)."""
    h, k = basis.shape
    out = []
    for c in range(channels):
        g = torch.Generator().manual_seed(100 + c)
        v, _ = torch.linalg.qr(torch.randn(width, k, generator=g))
        out.append((basis * torch.linspace(8.0, 4.0, k)) @ v.T)
    return torch.stack(out)[None]


def orthogonal_pair(h: int, w: int, k: int, channels: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Two latents whose top-k left subspaces are orthogonal in every channel."""
    q, _ = torch.linalg.qr(torch.randn(h, h, generator=torch.Generator().manual_seed(7)))
    return (
        latent_with_left_basis(q[:, :k], channels, w),
        latent_with_left_basis(q[:, k : 2 * k], channels, w),
    )
