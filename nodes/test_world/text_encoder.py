"""A test world's prompt embedding as a ComfyUI CLIP: ``comfy.sd.CLIP`` over the classes here.

``CLIPTextEncode`` calls ``clip.tokenize`` (our tokenizer: the prompt's words -> the world's
seven tokens, see words.py) and ``clip.encode_from_tokens_scheduled`` (our encoder: the tokens
-> the UNet's context, ``World.context``), so conditioning is ``[[context, {...}]]`` like any
model's and ``ConditioningAverage`` / ``ConditioningSetTimestepRange`` work on it.
"""

from __future__ import annotations

import copy
import functools
from typing import Any

import comfy.model_management
import comfy.sd
import comfy.supported_models_base
import torch
from torch import nn

from .words import Vocabulary

KEY = "test_world"


class WorldTokenizer:
    """Prompt -> ``{"test_world": [[(token, 1.0)] * 7]}`` (ComfyUI's token-weight layout)."""

    def __init__(self, vocabulary: Vocabulary, node: str, **_: Any) -> None:
        self.vocabulary = vocabulary
        self.node = node

    def tokenize_with_weights(
        self, text: str, return_word_ids: bool = False, **_: Any
    ) -> dict[str, list[list[tuple[int, float]]]]:
        try:
            tokens = self.vocabulary.tokens(text)
        except ValueError as exc:
            raise ValueError(f"{self.node} (its CLIP): {exc}") from exc
        return {KEY: [[(t, 1.0) for t in tokens]]}

    def state_dict(self) -> dict[str, torch.Tensor]:
        return {}


class WorldTextEncoder(nn.Module):
    """Tokens -> context [1, N, 128]: N = 1 (the first world's summed embedding) or 8 (the
    second world's null token and one embedding per attribute)."""

    def __init__(self, unet: nn.Module, summed: bool, device: Any = None, **_: Any) -> None:
        super().__init__()
        self.unet = copy.deepcopy(unet).eval().requires_grad_(False)  # only its token tables
        self.summed = summed
        self.dtypes = {torch.float32}
        self.disable_offload = True  # tiny: ComfyUI's plain ModelPatcher
        if device is not None:
            self.to(device)

    def reset_clip_options(self) -> None:
        pass

    def set_clip_options(self, options: dict[str, Any]) -> None:
        pass  # no layers to skip, no projection

    def load_sd(self, sd: dict[str, torch.Tensor]) -> tuple[list[str], list[str]]:
        return [], []

    def encode_token_weights(
        self, tokens: dict[str, list[list[tuple[int, float]]]]
    ) -> tuple[torch.Tensor, None]:
        device = next(self.unet.parameters()).device
        tok = torch.tensor([[t for t, _ in tokens[KEY][0]]], dtype=torch.long, device=device)
        with torch.no_grad():
            context = self.unet.context(tok).float()
        if self.summed:
            context = context[:, None]
        return context.to(comfy.model_management.intermediate_device()), None


def build_clip(unet: nn.Module, summed: bool, vocabulary: Vocabulary, node: str) -> comfy.sd.CLIP:
    """The CLIP: ComfyUI's own ``comfy.sd.CLIP`` around the encoder and tokenizer above."""
    target = comfy.supported_models_base.ClipTarget(
        functools.partial(WorldTokenizer, vocabulary, node),
        functools.partial(WorldTextEncoder, unet, summed),
    )
    return comfy.sd.CLIP(target, model_options={"dtype": torch.float32})
