"""A test world's autoencoder as a ComfyUI VAE (a ``comfy.sd.VAE``, so type checks pass).

Image [B, S, S, 3] in [0, 1] <-> latent [B, 4, S/2, S/2]: the worlds' autoencoder halves the
side, where SD's VAE divides it by 8 (S = 32 for faces, 64 for placed). ``VAEEncode`` and
``VAEDecode`` call ``encode`` / ``decode``; the base class's sampling machinery is not used.
"""

from __future__ import annotations

from typing import Any

import comfy.model_management
import comfy.model_patcher
import comfy.sd
import torch
from torch import nn

RATIO = 2


class WorldVAE(comfy.sd.VAE):
    """``encode`` [B, H, W, C] -> [B, 4, H/2, W/2]; ``decode`` [B, 4, h, w] -> [B, 2h, 2w, 3]."""

    def __init__(self, autoencoder: nn.Module, node: str) -> None:  # no super(): no state dict
        self.first_stage_model = autoencoder.eval().requires_grad_(False)
        self.node = node
        self.downscale_ratio = self.upscale_ratio = RATIO
        self.latent_channels, self.latent_dim, self.output_channels = 4, 2, 3
        self.output_device = comfy.model_management.intermediate_device()
        self.vae_dtype = torch.float32
        self.patcher = comfy.model_patcher.ModelPatcher(
            self.first_stage_model,
            load_device=comfy.model_management.vae_device(),
            offload_device=comfy.model_management.vae_offload_device(),
        )

    def _device(self) -> torch.device:
        comfy.model_management.load_models_gpu([self.patcher])
        return self.patcher.load_device

    def encode(self, pixel_samples: torch.Tensor) -> torch.Tensor:
        if pixel_samples.shape[1] % RATIO or pixel_samples.shape[2] % RATIO:
            raise ValueError(
                f"{self.node} (its VAE): the image's sides must be even, got "
                f"{pixel_samples.shape[2]} x {pixel_samples.shape[1]}"
            )
        device = self._device()
        images = pixel_samples[..., :3].movedim(-1, 1).to(device, torch.float32)
        with torch.no_grad():
            latent = self.first_stage_model.encode(images)
        return latent.to(self.output_device)

    def decode(self, samples_in: torch.Tensor, vae_options: dict[str, Any] | None = None):
        device = self._device()
        with torch.no_grad():
            images = self.first_stage_model.decode(samples_in.to(device, torch.float32))
        return images.movedim(1, -1).to(self.output_device)

    def spacial_compression_decode(self) -> int:
        return RATIO

    def spacial_compression_encode(self) -> int:
        return RATIO

    def temporal_compression_decode(self) -> None:
        return None

    def get_sd(self) -> dict[str, torch.Tensor]:
        return self.first_stage_model.state_dict()
