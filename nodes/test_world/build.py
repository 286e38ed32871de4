"""One test world as the three things a checkpoint loader gives: MODEL, CLIP and VAE."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from . import world_files
from .model import build_model
from .text_encoder import build_clip
from .vae import WorldVAE
from .words import Vocabulary

NODE = "Load Test World"
#: What the latent side must divide into for each world's UNet (two or three halvings).
SIDE_MULTIPLE = {"faces": 4, "placed": 8}


@dataclass(frozen=True)
class TestWorld:
    """``model``: ModelPatcher (MODEL); ``clip``: comfy.sd.CLIP; ``vae``: WorldVAE."""

    model: Any
    clip: Any
    vae: Any
    vocabulary: Vocabulary


@functools.lru_cache(maxsize=2)
def load_test_world(name: str) -> TestWorld:
    """World ``name`` ("faces" or "placed") built once per process; nodes clone before
    patching, so sharing the objects is what a checkpoint loader's cache does too."""
    world = world_files.load(name)
    summed = name == "faces"
    words = Vocabulary.from_attributes(world.scene.ATTRIBUTES)
    node = f"{NODE} ({name})"
    return TestWorld(
        model=build_model(world.unet, summed, SIDE_MULTIPLE[name], node),
        clip=build_clip(world.unet, summed, words, node),
        vae=WorldVAE(world.ae, node),
        vocabulary=words,
    )
