"""Must-show 3: nothing is mutated. Node inputs (dicts and tensors) are bit-identical after
execution, also when ComfyUI's cache hands the same output objects to a second and a third
prompt (the harness's PromptExecutor keeps ComfyUI's CLASSIC cache between prompts, like the
server's prompt worker).

Method: prompt 1 runs only the producers (latents with a noise_mask and batch_index,
decompositions, a learned attribute); their cached output objects are snapshotted (every
tensor cloned, every dict's keys and every object's identity recorded). Prompts 2 and 3 run
every consumer node on them (with different widget values, so the consumers re-execute while
the producers come from the cache). Afterwards the cached objects must be the very same
objects (the cache was really reused) and bit-identical to the snapshot, and prompt 3's
results must equal a run from an empty cache.
"""

from __future__ import annotations

from typing import Any

import pytest
import torch
from harness.comfy_runtime import ComfyRuntime
from reliability.support import (
    assert_unchanged,
    latent,
    learn,
    node,
    pack_node_ids,
    snapshot,
    walk_tensors,
    with_defaults,
    with_sinks,
)

pytestmark = pytest.mark.comfy

PRODUCERS: dict[str, dict[str, Any]] = {
    "s": latent((3, 4, 9, 7), "float16", seed=21, extras=True),
    "t": latent((1, 4, 9, 7), "float16", seed=22),
    "v": latent((2, 4, 3, 6, 5), seed=23, extras=True),
    "vt": latent((2, 4, 3, 6, 5), seed=24),
    "ds": node("LatentSVDDecompose", latent=["s", 0], rank=0),
    "dt": node("LatentSVDDecompose", latent=["t", 0], rank=0),
    "dv": node("LatentSVDDecompose", latent=["v", 0], rank=0),
    "dvt": node("LatentSVDDecompose", latent=["vt", 0], rank=0),
    "l": learn("ds", "dt", steps=5),
    "lv": learn("dv", "dvt", steps=5),
}

FIG = {"width": 128, "height": 128, "title": ""}


def consumers(strength: float, factor: float) -> dict[str, dict[str, Any]]:
    """Every pack node (but the loader) consuming the producers' outputs."""
    return {
        "dr": node("LatentSVDDecompose", latent=["s", 0], rank=3),
        "rs": node("LatentRecompose", latent_svd=["ds", 0]),
        "rv": node("LatentRecompose", latent_svd=["dv", 0]),
        "sc": node(
            "ScaleSingularValues",
            latent_svd=["ds", 0],
            indices="0-2",
            channels="1,3",
            factor=factor,
        ),
        "a": node(
            "ApplySingularEdit",
            latent_svd=["ds", 0],
            attribute=["l", 0],
            strength=strength,
            target=["dt", 0],
        ),
        "a0": node(
            "ApplySingularEdit", latent_svd=["ds", 0], attribute=["l", 0], strength=strength
        ),
        "av": node(
            "ApplySingularEdit",
            latent_svd=["dv", 0],
            attribute=["lv", 0],
            strength=strength,
            target=["dvt", 0],
        ),
        "ra": node("LatentRecompose", latent_svd=["a", 0]),
        "sw": node(
            "AttributeStrengthSweep",
            latent_svd=["ds", 0],
            attribute=["l", 0],
            strengths=f"0, {strength}",
            target_latent_svd=["dt", 0],
        ),
        "sp": node(
            "LatentSingularSpectrum",
            latent_svd=["ds", 0],
            label="a",
            max_index=0,
            batch_index=1,
            frame=0,
            second_label="b",
            second_latent_svd=["dt", 0],
            **FIG,
        ),
        "cp": node(
            "SingularComponentsPreview",
            latent_svd=["dv", 0],
            count=2,
            channels="0",
            weighted=factor > 1,
            batch_index=1,
            frame=2,
            **FIG,
        ),
        "sd": node(
            "LatentSubspaceDistance",
            latent_svd_a=["ds", 0],
            latent_svd_b=["dt", 0],
            k=3,
            side="left" if factor > 1 else "right",
            **FIG,
        ),
        "sv": node(
            "SaveSingularAttribute",
            attribute=["l", 0],
            filename=f"no-mutation {strength}",
            overwrite=True,
        ),
    }


def _cached(rt: ComfyRuntime, node_id: str) -> tuple[Any, ...]:
    entry = rt.cached_entry(node_id)
    assert entry is not None, f"{node_id} is not cached"
    return tuple(o[0] for o in entry.outputs)


def test_inputs_are_bit_identical_across_cached_prompts(rt: ComfyRuntime) -> None:
    first = rt.run_prompt(
        with_sinks(PRODUCERS, "l", "lv"), outputs=list(PRODUCERS), fresh_cache=True
    )
    assert first.success, first.error_message()
    objects = {k: _cached(rt, k) for k in PRODUCERS}
    before = {k: snapshot(v) for k, v in objects.items()}
    assert all(list(walk_tensors(v)) for v in objects.values())
    # The LATENT dicts really carry the extra keys a careless node would overwrite.
    assert set(objects["s"][0]) == {"samples", "noise_mask", "batch_index"}

    results = []
    for strength, factor in ((1.0, 1.5), (-0.5, 0.0)):
        graph = with_defaults(rt, {**PRODUCERS, **consumers(strength, factor)})
        used = {n["class_type"] for n in graph.values()}
        no_input_to_mutate = {"LoadSingularAttribute", "SingularEditSteps", "LoadTestWorld"}
        assert pack_node_ids(rt) - used <= no_input_to_mutate
        result = rt.run_prompt(with_sinks(graph, *consumers(0, 0)), outputs=list(graph))
        assert result.success, result.error_message()
        results.append(result)
        for k in PRODUCERS:
            # The cache handed the same objects to the consumers (no silent re-execution)...
            assert all(a is b for a, b in zip(result.output(k), objects[k], strict=True)), k
            # ... and no consumer changed a bit of them.
            assert_unchanged(before[k], objects[k], f"output of {k!r} after prompt")

    # Cached reuse gives the same results as a run from an empty cache.
    graph = with_defaults(rt, {**PRODUCERS, **consumers(-0.5, 0.0)})
    fresh = rt.run_prompt(
        with_sinks(graph, *consumers(0, 0)), outputs=list(graph), fresh_cache=True
    )
    assert fresh.success, fresh.error_message()
    for node_id in ("rs", "ra", "sw"):
        a = results[-1].output(node_id)[0]
        b = fresh.output(node_id)[0]
        assert torch.equal(a["samples"], b["samples"]), node_id
        assert a.keys() == b.keys(), node_id
    # The consumers' outputs are new objects, never the producers' (no aliasing that a
    # downstream in-place op could use to reach back into the cache).
    for node_id in ("rs", "ra", "sw", "rv"):
        out = results[-1].output(node_id)[0]
        src = objects["v" if node_id == "rv" else "s"][0]
        assert out is not src
        assert out["samples"].data_ptr() != src["samples"].data_ptr()
