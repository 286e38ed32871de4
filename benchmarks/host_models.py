"""Benchmark-only ComfyUI node: a random-weight MODEL whose UNet calls are counted.

Never part of the pack: ``bench_host.py`` writes a one-line custom node file into the temporary
ComfyUI base directory that imports this module, exactly as the test harness does for its tiny
model. Two model kinds, both real ComfyUI classes with seeded random weights (no weight files):

* ``tiny``: the test harness's SD1.5-architecture model (``harness.tiny_sd``, ~2M UNet params).
* ``sd21``: ``comfy.supported_models.SD20`` (the class ComfyUI's detection picks for
  ``v2-1_512-ema-pruned``) built with the exact SD2.1 UNet config from
  ``comfy.model_detection`` (320 channels, [1, 2, 4, 4], linear transformers, context 1024,
  ~865M parameters, float32 on CPU). Its text encoder is a 2-layer, 1024-wide CLIP (enough to
  condition the UNet; text encoding is neither pack nor sampler time and is reported apart).

The MODEL each node outputs is a ``clone()`` carrying an ``APPLY_MODEL`` wrapper (added with
``ModelPatcher.add_wrapper_with_key``, the composable hook) that counts every UNet evaluation
and the batch rows it processed. Counting lives here only, never in the pack.

Import only once ComfyUI is importable (after ``harness.comfy_runtime.boot()``).
"""

from __future__ import annotations

import functools
import threading
from dataclasses import dataclass
from typing import Any

import torch
from harness.sink import AnySink
from harness.tiny_sd import SEED_INPUT, init_parameters

WRAPPER_KEY = "latent_svd_edit_benchmark_counter"

#: SD2.1's UNet config, verbatim from comfy.model_detection (ComfyUI 0.3.75), minus ``dtype``.
SD21_UNET_CONFIG: dict[str, Any] = {
    "use_checkpoint": False,
    "image_size": 32,
    "out_channels": 4,
    "use_spatial_transformer": True,
    "legacy": False,
    "adm_in_channels": None,
    "in_channels": 4,
    "model_channels": 320,
    "num_res_blocks": [2, 2, 2, 2],
    "transformer_depth": [1, 1, 1, 1, 1, 1, 0, 0],
    "channel_mult": [1, 2, 4, 4],
    "transformer_depth_middle": 1,
    "use_linear_in_transformer": True,
    "context_dim": 1024,
    "num_head_channels": 64,
    "transformer_depth_output": [1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0],
    "use_temporal_attention": False,
    "use_temporal_resblock": False,
}

SD21_CLIP_CONFIG: dict[str, Any] = {
    "hidden_size": 1024,
    "intermediate_size": 2048,
    "num_attention_heads": 8,
    "num_hidden_layers": 2,
    "projection_dim": 1024,
}


class UNetCounter:
    """Counts UNet evaluations (``BaseModel.apply_model`` calls) and the batch rows they ran.

    One call evaluates cond and uncond together when ComfyUI batches them (it does when memory
    allows), so ``rows = calls * 2 * B`` with CFG and ``calls * B`` at cfg 1.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.calls = 0
        self.rows = 0

    def reset(self) -> None:
        with self._lock:
            self.calls = 0
            self.rows = 0

    def snapshot(self) -> tuple[int, int]:
        with self._lock:
            return self.calls, self.rows

    def wrapper(self, executor: Any, x: torch.Tensor, *args: Any, **kwargs: Any) -> Any:
        """``APPLY_MODEL`` wrapper: count, then run the real UNet unchanged."""
        with self._lock:
            self.calls += 1
            self.rows += int(x.shape[0])
        return executor(x, *args, **kwargs)


COUNTER = UNetCounter()


@dataclass(frozen=True)
class BenchModel:
    """``model``: counted ModelPatcher clone; ``clip``: comfy.sd.CLIP; ``unet_params``."""

    model: Any
    clip: Any
    unet_params: int


def _calibrate(
    diffusion_model: torch.nn.Module, context_dim: int, size: int, gen: torch.Generator
) -> None:
    """Scale the output conv so the noise prediction has unit std (keeps sampling finite)."""
    with torch.no_grad():
        x = torch.randn(1, 4, size, size, generator=gen)
        ctx = torch.randn(1, 77, context_dim, generator=gen)
        std = diffusion_model(x, torch.tensor([500.0]), context=ctx).std()
        diffusion_model.out[2].weight.mul_(1.0 / float(std))


def _small_clip(config: dict[str, Any], gen: torch.Generator) -> Any:
    import comfy.sd
    import comfy.sd1_clip
    import comfy.supported_models_base

    target = comfy.supported_models_base.ClipTarget(
        comfy.sd1_clip.SD1Tokenizer, comfy.sd1_clip.SD1ClipModel
    )
    clip = comfy.sd.CLIP(
        target, model_options={"clip_l_model_config": dict(config), "dtype": torch.float32}
    )
    init_parameters(clip.cond_stage_model, gen)
    return clip


@functools.lru_cache(maxsize=1)
def _sd21(seed: int) -> tuple[Any, Any, int]:
    import comfy.model_management as mm
    import comfy.model_patcher
    import comfy.supported_models

    gen = torch.Generator().manual_seed(seed)
    cfg = comfy.supported_models.SD20(dict(SD21_UNET_CONFIG))
    cfg.set_inference_dtype(torch.float32, None)
    base = cfg.get_model({})
    init_parameters(base.diffusion_model, gen, gain=0.5)
    _calibrate(base.diffusion_model, SD21_UNET_CONFIG["context_dim"], 16, gen)
    params = sum(p.numel() for p in base.diffusion_model.parameters())
    patcher = comfy.model_patcher.ModelPatcher(
        base, load_device=mm.get_torch_device(), offload_device=mm.unet_offload_device()
    )
    return patcher, _small_clip(SD21_CLIP_CONFIG, gen), params


def build(kind: str, seed: int = 0) -> BenchModel:
    """The model pair for ``kind`` (``tiny`` or ``sd21``) with the counting wrapper."""
    if kind == "tiny":
        from harness.tiny_sd import tiny_sd

        pair = tiny_sd(seed)
        base, clip = pair.model, pair.clip
        params = sum(p.numel() for p in base.model.diffusion_model.parameters())
    elif kind == "sd21":
        base, clip, params = _sd21(seed)
    else:
        raise ValueError(f"unknown model kind {kind!r}: use 'tiny' or 'sd21'")
    import comfy.patcher_extension

    counted = base.clone()  # the wrapper lives on the clone only
    counted.add_wrapper_with_key(
        comfy.patcher_extension.WrappersMP.APPLY_MODEL, WRAPPER_KEY, COUNTER.wrapper
    )
    return BenchModel(model=counted, clip=clip, unet_params=params)


class LSEBenchModel:
    """Benchmark-only node: a random-weight MODEL (UNet calls counted) and its CLIP."""

    @classmethod
    def INPUT_TYPES(cls) -> dict[str, Any]:  # noqa: N802 - ComfyUI's API name
        return {
            "required": {
                "kind": (["tiny", "sd21"], {"tooltip": "tiny test model or SD2.1-size UNet"}),
                "seed": SEED_INPUT,
            }
        }

    RETURN_TYPES = ("MODEL", "CLIP")
    FUNCTION = "build"
    CATEGORY = "testing"

    def build(self, kind: str, seed: int) -> tuple[Any, Any]:
        pair = build(kind, seed)
        return (pair.model, pair.clip)


# The final LATENT goes into an output node so the graph has an output to run.
NODE_CLASS_MAPPINGS = {"LSEBenchModel": LSEBenchModel, "LSEBenchSink": AnySink}
