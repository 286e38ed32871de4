"""A test world's UNet as a ComfyUI MODEL: a ``ModelPatcher`` around a ``BaseModel``.

The world was trained as an SD-style epsilon model on the scaled-linear schedule (T = 1000),
so ComfyUI's own ``ModelSamplingDiscrete`` + ``EPS`` describe it, with one change: the
benchmark's sampler feeds the UNet the fractional timesteps of ComfyUI's "normal" scheduler
(e.g. 946.42), while ComfyUI rounds sigma to the nearest integer timestep. ``timestep`` here
inverts ``sigma`` exactly (log-linear between integer timesteps), so the UNet sees what it
sees in ``World.run``. The latent needs no scaling (``LatentFormat`` scale 1).
"""

from __future__ import annotations

from typing import Any

import comfy.latent_formats
import comfy.model_base
import comfy.model_management
import comfy.model_patcher
import comfy.model_sampling
import comfy.supported_models_base
import torch
from torch import nn

SAMPLING = {"beta_schedule": "linear", "linear_start": 0.00085, "linear_end": 0.012}


class WorldSampling(comfy.model_sampling.ModelSamplingDiscrete, comfy.model_sampling.EPS):
    """SD's discrete schedule and epsilon prediction; ``timestep`` is the exact inverse of
    ``sigma`` (fractional), not the nearest integer."""

    def timestep(self, sigma: torch.Tensor) -> torch.Tensor:
        """sigma [B] -> timestep [B] float in [0, T - 1]."""
        log_table = self.log_sigmas.double()
        log_sigma = sigma.double().log().to(log_table.device).clamp(log_table[0], log_table[-1])
        high = torch.searchsorted(log_table, log_sigma.reshape(-1)).clamp(1, len(log_table) - 1)
        low = high - 1
        w = (log_sigma.reshape(-1) - log_table[low]) / (log_table[high] - log_table[low])
        return (low + w).float().view(sigma.shape).to(sigma.device)


class WorldUNet(nn.Module):
    """ComfyUI's diffusion-model call -> the world's UNet.

    ``forward(x [B, 4, L, L], timesteps [B], context [B, N, 128])``; the first world reads its
    prompt as one summed embedding, carried as N = 1 token.
    """

    def __init__(self, unet: nn.Module, summed: bool, multiple: int, node: str) -> None:
        super().__init__()
        self.unet = unet
        self.summed = summed
        self.multiple = multiple
        self.node = node

    @property
    def dtype(self) -> torch.dtype:
        return torch.float32

    def forward(
        self, x: torch.Tensor, timesteps: torch.Tensor, context: torch.Tensor, **_: Any
    ) -> torch.Tensor:
        if x.shape[-1] % self.multiple or x.shape[-2] % self.multiple:
            raise ValueError(
                f"{self.node}: this world samples latents whose sides are multiples of "
                f"{self.multiple} (Empty Latent Image: multiples of {8 * self.multiple} px), "
                f"got {x.shape[-1]} x {x.shape[-2]}"
            )
        cond = context[:, 0] if self.summed else context
        return self.unet(x.float(), timesteps.float(), cond.float())


class WorldConfig(comfy.supported_models_base.BASE):
    """The model config ComfyUI's ``BaseModel`` reads: schedule and latent format."""

    unet_config: dict[str, Any] = {}
    unet_extra_config: dict[str, Any] = {}
    sampling_settings = SAMPLING
    latent_format = comfy.latent_formats.LatentFormat  # scale 1, 4 channels
    memory_usage_factor = 0.1
    supported_inference_dtypes = [torch.float32]


def build_model(
    unet: nn.Module, summed: bool, multiple: int, node: str
) -> comfy.model_patcher.ModelPatcher:
    """The MODEL: ``ModelPatcher(BaseModel)`` around the world's UNet (not copied: the MODEL
    owns it)."""
    config = WorldConfig({})
    config.set_inference_dtype(torch.float32, None)
    base = comfy.model_base.BaseModel(
        config,
        comfy.model_base.ModelType.EPS,
        unet_model=lambda **_: WorldUNet(unet, summed, multiple, node),
    )
    base.model_sampling = WorldSampling(config)
    return comfy.model_patcher.ModelPatcher(
        base,
        load_device=comfy.model_management.get_torch_device(),
        offload_device=comfy.model_management.unet_offload_device(),
    )
