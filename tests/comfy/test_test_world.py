"""'Load Test World' inside a real ComfyUI: its MODEL, CLIP and VAE are ComfyUI's own classes,
the core nodes run on them unchanged, and ComfyUI's samplers give the benchmark's latents.

Parity: ComfyUI starts a full denoise from ``noise * sqrt(1 + sigma_max^2)`` (its EPS
``noise_scaling`` with ``max_denoise``), ``World.run`` from ``noise * sigma_max``; the 0.23 %
larger start moved the final latent by 6e-4 (faces) and 3e-3 (placed) on one seed. The comparison
starts ``World.run`` from ComfyUI's start so that it checks the sampler itself.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

import pytest
import torch
from harness.comfy_runtime import ComfyRuntime
from harness.graphs import node

from benchmarks.semantic import models, world

pytestmark = pytest.mark.comfy

TOLERANCE = 2e-4
SIZE = {"faces": 128, "placed": 256}
PROMPTS = {"faces": "smiling, blonde hair", "placed": "glasses, tan skin"}
TOKENS = {
    "faces": {"mouth": "smiling", "hair": "blonde"},
    "placed": {"glasses": "on", "skin": "tan"},
}
SEEDS = (3, 11)
HELP_PAGE = Path(__file__).resolve().parents[2] / "web" / "docs" / "LoadTestWorld.md"


@pytest.fixture(scope="module")
def worlds() -> dict[str, models.World]:
    return {name: models.load_world(name) for name in SIZE}


def _encoders(world: str) -> dict[str, dict[str, Any]]:
    return {
        "w": node("LoadTestWorld", world=world),
        "pos": node("CLIPTextEncode", clip=["w", 1], text=PROMPTS[world]),
        "neg": node("CLIPTextEncode", clip=["w", 1], text=""),
    }


def _ksampler(positive: list[Any], seed: int, end: int, leftover: bool, latent: list[Any]) -> dict:
    return node(
        "KSamplerAdvanced",
        model=["w", 0],
        positive=positive,
        negative=["neg", 0],
        latent_image=latent,
        add_noise="enable",
        noise_seed=seed,
        steps=20,
        cfg=7.0,
        sampler_name="euler",
        scheduler="normal",
        start_at_step=0,
        end_at_step=end,
        return_with_leftover_noise="enable" if leftover else "disable",
    )


def _sink(*sources: str) -> dict[str, dict[str, Any]]:
    return {f"sink{i}": node("PreviewAny", source=[s, 0]) for i, s in enumerate(sources)}


def _reference(w: models.World, tok: torch.Tensor, seed: int, end: int) -> torch.Tensor:
    """World.run from ComfyUI's full-denoise start (see the module docstring). [1, 4, L, L]"""
    start = w.noise([seed]) * math.sqrt(1.0 + float(w.sigmas[0]) ** 2)
    return w.run(tok, [seed], 0, end, x_start=start)


def test_loader_outputs_comfyui_classes(comfy_runtime: ComfyRuntime) -> None:
    import comfy.model_patcher
    import comfy.sd

    prompt = {
        "w": node("LoadTestWorld", world="placed"),
        **_sink("w"),
    }
    result = comfy_runtime.run_prompt(prompt, outputs=["w"])
    assert result.success, result.error_message()
    model, clip, vae = result.output("w")
    assert isinstance(model, comfy.model_patcher.ModelPatcher)
    assert isinstance(clip, comfy.sd.CLIP) and isinstance(vae, comfy.sd.VAE)
    sampling = model.get_model_object("model_sampling")
    assert sampling.sigmas.shape == (1000,)
    # The UNet's fractional timesteps come back exactly from sigma.
    t = torch.tensor([999.0, 946.42105, 500.5, 12.25, 0.0])
    assert torch.allclose(sampling.timestep(sampling.sigma(t)), t, atol=1e-3)
    assert model.get_model_object("latent_format").scale_factor == 1.0


@pytest.mark.parametrize("world", list(SIZE))
def test_prompt_words_are_the_worlds_tokens(
    comfy_runtime: ComfyRuntime, worlds: dict[str, models.World], world: str
) -> None:
    prompt = {**_encoders(world), **_sink("pos", "neg")}
    result = comfy_runtime.run_prompt(prompt, outputs=["pos", "neg"])
    assert result.success, result.error_message()
    w = worlds[world]
    for nid, spec in (("pos", TOKENS[world]), ("neg", {})):
        (conditioning,) = result.output(nid)
        ((cond, _),) = conditioning
        want = w.context(w.scene.tokens(**spec))
        assert cond.shape[:2] == ((1, 1) if world == "faces" else (1, 8))
        assert torch.allclose(cond.reshape(want.shape), want, atol=1e-6)


def test_unknown_words_are_refused_with_the_known_ones(comfy_runtime: ComfyRuntime) -> None:
    prompt = {
        "w": node("LoadTestWorld", world="faces"),
        "pos": node("CLIPTextEncode", clip=["w", 1], text="smiling, a purple hat"),
        **_sink("pos"),
    }
    result = comfy_runtime.run_prompt(prompt, outputs=["pos"], fresh_cache=True)
    assert not result.success
    message = result.error()["exception_message"]
    assert message.startswith("Load Test World (faces)")
    assert "'a purple hat'" in message
    for known in ("smiling", "blonde hair", "no glasses", "sky background", "tan skin"):
        assert known in message


def test_a_word_of_each_attribute_at_most_once(comfy_runtime: ComfyRuntime) -> None:
    prompt = {
        "w": node("LoadTestWorld", world="faces"),
        "pos": node("CLIPTextEncode", clip=["w", 1], text="smiling, frowning"),
        **_sink("pos"),
    }
    result = comfy_runtime.run_prompt(prompt, outputs=["pos"], fresh_cache=True)
    assert not result.success
    assert "two values of 'mouth'" in result.error()["exception_message"]


@pytest.mark.slow
@pytest.mark.parametrize("world", list(SIZE))
def test_ksampler_advanced_gives_the_benchmarks_latents(
    comfy_runtime: ComfyRuntime, worlds: dict[str, models.World], world: str
) -> None:
    """Parity: KSamplerAdvanced through the executor == World.run, same seeds, prompt, steps;
    to step 6 with leftover noise (the edit's x) and all 20 steps."""
    prompt = {
        **_encoders(world),
        "empty": node("EmptyLatentImage", width=SIZE[world], height=SIZE[world], batch_size=1),
    }
    cases = [(seed, end) for seed in SEEDS for end in (6, 20)]
    for seed, end in cases:
        prompt[f"s{seed}_{end}"] = _ksampler(["pos", 0], seed, end, end < 20, ["empty", 0])
    ids = [f"s{seed}_{end}" for seed, end in cases]
    prompt.update(_sink(*ids))
    result = comfy_runtime.run_prompt(prompt, outputs=ids)
    assert result.success, result.error_message()
    w = worlds[world]
    tok = w.scene.tokens(**TOKENS[world])
    for (seed, end), nid in zip(cases, ids, strict=True):
        got = result.output(nid)[0]["samples"]
        diff = (got - _reference(w, tok, seed, end)).abs().max().item()
        print(f"\nparity {world} seed {seed} to step {end}: max |diff| {diff:.2e}")
        assert diff < TOLERANCE


@pytest.mark.slow
def test_sampler_custom_advanced_and_conditioning_average_match_the_world(
    comfy_runtime: ComfyRuntime, worlds: dict[str, models.World]
) -> None:
    """SamplerCustomAdvanced (CFGGuider, euler, normal) with a ConditioningAverage of two
    prompts == World.run on the blended context."""
    seed = 5
    prompt = {
        **_encoders("faces"),
        "other": node("CLIPTextEncode", clip=["w", 1], text="frowning, red hair"),
        "avg": node(
            "ConditioningAverage",
            conditioning_to=["pos", 0],
            conditioning_from=["other", 0],
            conditioning_to_strength=0.25,
        ),
        "empty": node("EmptyLatentImage", width=128, height=128, batch_size=1),
        "guider": node(
            "CFGGuider", model=["w", 0], positive=["avg", 0], negative=["neg", 0], cfg=7.0
        ),
        "sched": node("BasicScheduler", model=["w", 0], scheduler="normal", steps=20, denoise=1.0),
        "sampler": node("KSamplerSelect", sampler_name="euler"),
        "noise": node("RandomNoise", noise_seed=seed),
        "run": node(
            "SamplerCustomAdvanced",
            noise=["noise", 0],
            guider=["guider", 0],
            sampler=["sampler", 0],
            sigmas=["sched", 0],
            latent_image=["empty", 0],
        ),
        **_sink("run"),
    }
    result = comfy_runtime.run_prompt(prompt, outputs=["run"])
    assert result.success, result.error_message()
    w = worlds["faces"]
    blend = 0.25 * w.context(w.scene.tokens(**TOKENS["faces"])) + 0.75 * w.context(
        w.scene.tokens(mouth="frowning", hair="red")
    )
    got = result.output("run")[0]["samples"]
    diff = (got - _reference(w, blend, seed, 20)).abs().max().item()
    print(f"\nparity faces SamplerCustomAdvanced + ConditioningAverage: {diff:.2e}")
    assert diff < TOLERANCE


@pytest.mark.slow
def test_timestep_ranges_vae_encode_and_decode_run(
    comfy_runtime: ComfyRuntime, worlds: dict[str, models.World]
) -> None:
    """A prompt window written with ConditioningSetTimestepRange, decoded, encoded again."""
    prompt = {
        **_encoders("faces"),
        "src_a": node("ConditioningSetTimestepRange", conditioning=["neg", 0], start=0.0, end=0.3),
        "tgt": node("ConditioningSetTimestepRange", conditioning=["pos", 0], start=0.3, end=0.4),
        "src_b": node("ConditioningSetTimestepRange", conditioning=["neg", 0], start=0.4, end=1.0),
        "c1": node("ConditioningCombine", conditioning_1=["src_a", 0], conditioning_2=["tgt", 0]),
        "c2": node("ConditioningCombine", conditioning_1=["c1", 0], conditioning_2=["src_b", 0]),
        "empty": node("EmptyLatentImage", width=128, height=128, batch_size=2),
        "ks": _ksampler(["c2", 0], 9, 20, False, ["empty", 0]),
        "dec": node("VAEDecode", samples=["ks", 0], vae=["w", 2]),
        "enc": node("VAEEncode", pixels=["dec", 0], vae=["w", 2]),
        "img": node("PreviewImage", images=["dec", 0]),
        **_sink("enc"),
    }
    result = comfy_runtime.run_prompt(prompt, outputs=["ks", "dec", "enc"])
    assert result.success, result.error_message()
    latent = result.output("ks")[0]["samples"]
    image = result.output("dec")[0]
    assert image.shape == (2, 32, 32, 3) and 0.0 <= image.min() and image.max() <= 1.0
    w = worlds["faces"]
    with torch.no_grad():
        assert torch.allclose(image, w.decode(latent).movedim(1, -1), atol=1e-5)
        again = result.output("enc")[0]["samples"]
        assert torch.allclose(again, w.ae.encode(image.movedim(-1, 1)), atol=1e-5)
    values, rms = w.scene.read_attributes(image.movedim(-1, 1))
    assert (rms < 0.1).all(), "the world draws clean faces through ComfyUI's graph"


def test_a_latent_the_unet_cannot_take_is_refused_in_words(comfy_runtime: ComfyRuntime) -> None:
    prompt = {
        **_encoders("faces"),
        "empty": node("EmptyLatentImage", width=136, height=136, batch_size=1),
        "ks": _ksampler(["pos", 0], 1, 20, False, ["empty", 0]),
        **_sink("ks"),
    }
    result = comfy_runtime.run_prompt(prompt, outputs=["ks"], fresh_cache=True)
    assert not result.success
    message = result.error()["exception_message"]
    assert "Load Test World (faces)" in message and "multiples of 32 px" in message


def test_the_help_page_lists_every_word_and_input(comfy_runtime: ComfyRuntime) -> None:
    words = comfy_runtime.pack_module("nodes.test_world.words")
    vocabulary = words.Vocabulary.from_attributes(world.ATTRIBUTES)
    page = HELP_PAGE.read_text()
    table = [line for line in page.splitlines() if line.startswith("| ") and "`" in line]
    listed = {p for line in table for p in re.findall(r"`([^`]+)`", line)}
    assert listed == set(vocabulary.phrases)
    assert vocabulary.tokens("smiling, blonde hair, glasses") == [
        int(t) for t in world.tokens(mouth="smiling", hair="blonde", glasses="on")
    ]
    schema = comfy_runtime.node_class("LoadTestWorld").GET_SCHEMA()
    assert page.startswith("# " + schema.display_name + "\n")
    for heading in ("## Inputs", "## Outputs", "## Example"):
        assert heading in page
    for item in [*schema.inputs, *schema.outputs]:
        name = getattr(item, "display_name", None) or item.id
        assert f"- **{name}**:" in page, name
