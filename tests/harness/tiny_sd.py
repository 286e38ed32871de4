"""A tiny Stable Diffusion 1.5-architecture model and text encoder with random (seeded) weights.

Real ComfyUI classes throughout: ``comfy.supported_models.SD15`` with a shrunken UNet config,
``comfy.model_patcher.ModelPatcher``, and ``comfy.sd.CLIP`` over ``comfy.sd1_clip.SD1ClipModel``
(the real CLIP tokenizer ComfyUI ships, a 2-layer 32-wide text transformer), so
``CLIPTextEncode`` and ``KSamplerAdvanced`` run unchanged. No weight files exist: ComfyUI's
layers are created uninitialised, so every parameter is set here; the UNet's output conv is
rescaled so the noise prediction has unit std (a random net otherwise makes sampling explode).

Import only after ComfyUI is importable (``harness.comfy_runtime.boot()``, or inside a
ComfyUI process: the test-only node pack imports this module).

Speed on the 2-core CI CPU: a 256x256 image (32x32 latent), batch 1, about 10 sampler
steps per second with CFG.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

import torch

#: UNet config: SD1.5's layout at 1/10 width, attention only at the 1/2-resolution level.
TINY_UNET_CONFIG: dict[str, Any] = {
    "use_checkpoint": False,
    "image_size": 32,
    "in_channels": 4,
    "out_channels": 4,
    "model_channels": 32,
    "num_res_blocks": [1, 1],
    "channel_mult": [1, 2],
    "transformer_depth": [0, 1],
    "transformer_depth_output": [0, 0, 1, 1],
    "transformer_depth_middle": 1,
    "use_spatial_transformer": True,
    "use_linear_in_transformer": False,
    "legacy": False,
    "adm_in_channels": None,
    "context_dim": 32,
    "use_temporal_attention": False,
    "use_temporal_resblock": False,
}

#: Overrides of SD1.5's CLIP-L text config (hidden size must equal the UNet's context_dim).
TINY_CLIP_CONFIG: dict[str, Any] = {
    "hidden_size": 32,
    "intermediate_size": 64,
    "num_attention_heads": 2,
    "num_hidden_layers": 2,
    "projection_dim": 32,
}


@dataclass(frozen=True)
class TinySD:
    """``model``: comfy ModelPatcher (MODEL); ``clip``: comfy.sd.CLIP (CLIP)."""

    model: Any
    clip: Any


def init_parameters(module: torch.nn.Module, gen: torch.Generator, gain: float = 1.0) -> None:
    """Fan-in scaled normal weights (std ``gain / sqrt(fan_in)``), unit norm scales, zero
    biases, in module order: seeded. ComfyUI allocates its layers uninitialised."""
    with torch.no_grad():
        for name, p in module.named_parameters():
            if p.ndim >= 2:
                fan_in = p[0].numel()
                p.copy_(torch.randn(p.shape, generator=gen) / (fan_in**0.5 / gain))
            elif name.endswith("weight"):
                p.fill_(1.0)  # every 1-D weight here belongs to a norm layer
            elif name.endswith("logit_scale"):
                p.fill_(4.6052)  # CLIP's ln(100)
            else:
                p.zero_()


def _calibrate_unet(diffusion_model: torch.nn.Module, gen: torch.Generator) -> None:
    """Rescale the output conv so eps has unit std at a mid timestep."""
    with torch.no_grad():
        x = torch.randn(2, 4, 32, 32, generator=gen)
        ctx = torch.randn(2, 77, TINY_UNET_CONFIG["context_dim"], generator=gen)
        t = torch.tensor([500.0, 500.0])
        std = diffusion_model(x, t, context=ctx).std()
        diffusion_model.out[2].weight.mul_(1.0 / float(std))


@functools.lru_cache(maxsize=4)
def tiny_sd(seed: int = 0) -> TinySD:
    """The tiny model pair for ``seed`` (cached: same seed, same objects, same weights)."""
    import comfy.model_management as mm
    import comfy.model_patcher
    import comfy.sd
    import comfy.sd1_clip
    import comfy.supported_models
    import comfy.supported_models_base

    gen = torch.Generator().manual_seed(int(seed))
    cfg = comfy.supported_models.SD15(TINY_UNET_CONFIG)
    cfg.set_inference_dtype(torch.float32, None)
    base_model = cfg.get_model({})
    init_parameters(base_model, gen)
    _calibrate_unet(base_model.diffusion_model, gen)
    model = comfy.model_patcher.ModelPatcher(
        base_model, load_device=mm.get_torch_device(), offload_device=mm.unet_offload_device()
    )

    target = comfy.supported_models_base.ClipTarget(
        comfy.sd1_clip.SD1Tokenizer, comfy.sd1_clip.SD1ClipModel
    )
    clip = comfy.sd.CLIP(
        target,
        model_options={"clip_l_model_config": dict(TINY_CLIP_CONFIG), "dtype": torch.float32},
    )
    init_parameters(clip.cond_stage_model, gen)
    return TinySD(model=model, clip=clip)


def tiny_sd_model(seed: int = 0) -> Any:
    """Just the MODEL (ModelPatcher) of :func:`tiny_sd`."""
    return tiny_sd(seed).model


#: The seed widget of the random-weight model nodes (this one and the host benchmark's).
SEED_INPUT = (
    "INT",
    {"default": 0, "min": 0, "max": 2**31 - 1, "tooltip": "Seed of the random weights."},
)


class LSETestTinySD:
    """Test-only node: outputs the tiny random-weight SD1.5-architecture MODEL and CLIP."""

    @classmethod
    def INPUT_TYPES(cls) -> dict[str, Any]:  # noqa: N802 - ComfyUI's API name
        return {"required": {"seed": SEED_INPUT}}

    RETURN_TYPES = ("MODEL", "CLIP")
    FUNCTION = "build"
    CATEGORY = "testing"

    def build(self, seed: int) -> tuple[Any, Any]:
        pair = tiny_sd(seed)
        return (pair.model, pair.clip)


TINY_NODE_CLASS_MAPPINGS = {"LSETestTinySD": LSETestTinySD}
