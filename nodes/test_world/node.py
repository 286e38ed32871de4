"""'Load Test World': the pack's two tiny trained test models as MODEL, CLIP and VAE."""

from __future__ import annotations

from comfy_api.latest import io

from ..compat import search_aliases
from ..types import CATEGORY
from .build import NODE, TestWorld, load_test_world
from .world_files import WORLDS


class LoadTestWorld(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id="LoadTestWorld",
            display_name=NODE,
            category=CATEGORY,
            **search_aliases("test world", "test model", "demo"),
            description="Loads one of the pack's two tiny trained test models (procedural "
            "faces, seconds on a CPU) as MODEL, CLIP and VAE, to try the singular value edit "
            "without a checkpoint. Prompts are comma-separated words such as 'smiling, blonde "
            "hair, glasses'; the help page lists them.",
            inputs=[
                io.Combo.Input(
                    "world",
                    options=list(WORLDS),
                    default=WORLDS[0],
                    tooltip="faces: centred 32 px faces (Empty Latent Image 128 px); placed: "
                    "faces placed by the seed on a 64 px canvas (256 px).",
                ),
            ],
            outputs=[
                io.Model.Output(
                    display_name="MODEL",
                    tooltip="The world's UNet: epsilon prediction on SD's schedule (the "
                    "benchmark samples 20 steps, euler, normal, cfg 7).",
                ),
                io.Clip.Output(
                    display_name="CLIP", tooltip="Turns the world's words into its conditioning."
                ),
                io.Vae.Output(
                    display_name="VAE",
                    tooltip="The world's autoencoder: images are a quarter of the Empty Latent "
                    "Image size (it halves the side where SD's VAE divides it by 8).",
                ),
            ],
        )

    @classmethod
    def execute(cls, world: str) -> io.NodeOutput:
        loaded = _load(world)
        return io.NodeOutput(loaded.model, loaded.clip, loaded.vae)


def _load(world: str) -> TestWorld:
    """The world, with any reason it cannot load prefixed by the node's name."""
    try:
        return load_test_world(world)
    except (ValueError, FileNotFoundError) as exc:
        raise type(exc)(f"{NODE}: {exc}") from exc
