"""Must-show 1: every latent family through the REAL ComfyUI executor.

One prompt per family wires EVERY node of the pack (except the file loader, covered in
test_attribute_files.py) onto one latent: decompose (full and truncated), recompose, scale,
learn, apply (with and without a target), the four analysis nodes and save. Every output must
be finite, with the expected shape; the lossless round trip must reproduce the input.
Families: SD1.5/SD2.x/SDXL (4 channels), SD3/Flux (16), 5-D video, batches 1..16, odd and
non-square sizes, float16/bfloat16/float64, all-zero latents from ComfyUI's own Empty* nodes.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
import torch
from harness.comfy_runtime import ComfyRuntime
from reliability.support import (
    display_name,
    failure,
    latent,
    learn,
    node,
    pack_node_ids,
    raised_in_pack,
    walk_tensors,
    with_defaults,
    with_sinks,
)

pytestmark = pytest.mark.comfy

#: Nodes a family graph need not contain (the loader needs a file: test_attribute_files.py).
# Nodes without a latent input: nothing of a latent family reaches them (the attribute loader,
# the step arithmetic, the test model's loader).
NOT_IN_FAMILY_GRAPH = {"LoadSingularAttribute", "SingularEditSteps", "LoadTestWorld"}


@dataclasses.dataclass(frozen=True)
class Family:
    id: str
    shape: tuple[int, ...]
    source: dict[str, Any]
    target: dict[str, Any]
    zeros: bool = False


def _empty(class_type: str, **inputs: Any) -> dict[str, Any]:
    return node(class_type, **inputs)


FAMILIES = [
    # ComfyUI's own empty latents (all zeros, float32), as users wire them.
    Family(
        "sd15-EmptyLatentImage-512",
        (1, 4, 8, 8),
        _empty("EmptyLatentImage", width=64, height=64, batch_size=1),
        _empty("EmptyLatentImage", width=64, height=64, batch_size=1),
        zeros=True,
    ),
    Family(
        "sd-EmptyLatentImage-odd-nonsquare-b3",
        (3, 4, 13, 9),
        _empty("EmptyLatentImage", width=72, height=104, batch_size=3),
        _empty("EmptyLatentImage", width=72, height=104, batch_size=3),
        zeros=True,
    ),
    Family(
        "sd3-EmptySD3LatentImage-b2",
        (2, 16, 6, 8),
        _empty("EmptySD3LatentImage", width=64, height=48, batch_size=2),
        _empty("EmptySD3LatentImage", width=64, height=48, batch_size=1),
        zeros=True,
    ),
    Family(
        "video-EmptyHunyuanLatentVideo",
        (1, 16, 3, 6, 8),
        _empty("EmptyHunyuanLatentVideo", width=64, height=48, length=9, batch_size=1),
        _empty("EmptyHunyuanLatentVideo", width=64, height=48, length=9, batch_size=1),
        zeros=True,
    ),
    # Sampled-like latents (random values) in every dtype ComfyUI can hand over.
    Family(
        "sdxl-float16-nonsquare-b2",
        (2, 4, 16, 12),
        latent((2, 4, 16, 12), "float16", seed=1),
        latent((2, 4, 16, 12), "float16", seed=2),
    ),
    Family(
        "sd-bfloat16-odd-b5",
        (5, 4, 9, 13),
        latent((5, 4, 9, 13), "bfloat16", seed=3),
        latent((1, 4, 9, 13), "bfloat16", seed=4),
    ),
    Family(
        "flux-bfloat16-odd",
        (1, 16, 11, 7),
        latent((1, 16, 11, 7), "bfloat16", seed=5),
        latent((1, 16, 11, 7), "bfloat16", seed=6),
    ),
    Family(
        "sd3-float64-b3",
        (3, 16, 8, 8),
        latent((3, 16, 8, 8), "float64", seed=7),
        latent((3, 16, 8, 8), "float64", seed=8),
    ),
    Family(
        "video-float16-5d-b2",
        (2, 4, 3, 10, 6),
        latent((2, 4, 3, 10, 6), "float16", seed=9),
        latent((2, 4, 3, 10, 6), "float16", seed=10),
    ),
    Family(
        "batch16-float32",
        (16, 4, 8, 8),
        latent((16, 4, 8, 8), seed=11),
        latent((16, 4, 8, 8), seed=12),
    ),
    Family(
        "tall-thin-16ch",
        (1, 16, 31, 3),
        latent((1, 16, 31, 3), seed=13),
        latent((1, 16, 31, 3), seed=14),
    ),
    Family(
        "wide-2-rows",
        (2, 4, 2, 17),
        latent((2, 4, 2, 17), "float16", seed=15),
        latent((2, 4, 2, 17), "float16", seed=16),
    ),
]

FIGURE = {"width": 128, "height": 128, "title": ""}
#: The figure nodes render with matplotlib (seconds each on the shared 2-core CPU): they run on
#: two families (4-channel zeros, 5-D video float16); the math nodes
#: run on every family. tests/analysis covers the figures' content.
FIGURE_FAMILIES = {"sd15-EmptyLatentImage-512", "video-float16-5d-b2"}
#: Nodes that edit the source latent: on an all-zero latent they refuse with a clear error.
EDIT_NODES = ("a", "a0", "sw")
FIGURE_NODES = ("sp", "cp", "sd")


def family_graph(f: Family) -> dict[str, dict[str, Any]]:
    """Every pack node (but the loader) wired onto the family's latent pair (the figure nodes
    only for :data:`FIGURE_FAMILIES`)."""
    graph = _full_graph(f)
    if f.zeros:
        # Learning from an all-zero pair is refused with a clear error (test_bad_inputs.py);
        # here an attribute learned on random latents of the same shape is used.
        graph["rnd_s"] = latent(f.shape, seed=31)
        graph["rnd_t"] = latent(f.shape, seed=32)
        graph["rnd_ds"] = node("LatentSVDDecompose", latent=["rnd_s", 0], rank=0)
        graph["rnd_dt"] = node("LatentSVDDecompose", latent=["rnd_t", 0], rank=0)
        graph["l"] = learn("rnd_ds", "rnd_dt", name=f.id)
    if f.id not in FIGURE_FAMILIES:
        for node_id in FIGURE_NODES:
            del graph[node_id]
    return graph


def _full_graph(f: Family) -> dict[str, dict[str, Any]]:
    r = min(f.shape[-2:])
    return {
        "s": f.source,
        "t": f.target,
        "ds": node("LatentSVDDecompose", latent=["s", 0], rank=0),
        "dt": node("LatentSVDDecompose", latent=["t", 0], rank=0),
        "dr": node("LatentSVDDecompose", latent=["s", 0], rank=max(1, r // 2)),
        "rs": node("LatentRecompose", latent_svd=["ds", 0]),
        "rr": node("LatentRecompose", latent_svd=["dr", 0]),
        "sc": node(
            "ScaleSingularValues", latent_svd=["ds", 0], indices="0", channels="", factor=1.5
        ),
        "rsc": node("LatentRecompose", latent_svd=["sc", 0]),
        "l": learn("ds", "dt", name=f.id),
        "a": node(
            "ApplySingularEdit",
            latent_svd=["ds", 0],
            attribute=["l", 0],
            strength=1.0,
            target=["dt", 0],
        ),
        "ra": node("LatentRecompose", latent_svd=["a", 0]),
        "a0": node("ApplySingularEdit", latent_svd=["ds", 0], attribute=["l", 0], strength=-0.5),
        "ra0": node("LatentRecompose", latent_svd=["a0", 0]),
        "sp": node(
            "LatentSingularSpectrum",
            latent_svd=["ds", 0],
            label="source",
            max_index=0,
            channels="",
            batch_index=0,
            frame=0,
            second_label="target",
            second_latent_svd=["dt", 0],
            **FIGURE,
        ),
        "cp": node(
            "SingularComponentsPreview",
            latent_svd=["ds", 0],
            count=min(2, r),
            channels="",
            weighted=False,
            batch_index=0,
            frame=0,
            **FIGURE,
        ),
        "sd": node(
            "LatentSubspaceDistance",
            latent_svd_a=["ds", 0],
            latent_svd_b=["dt", 0],
            k=min(4, r),
            side="left",
            **FIGURE,
        ),
        "sw": node(
            "AttributeStrengthSweep",
            latent_svd=["ds", 0],
            attribute=["l", 0],
            strengths="0, 1",
            target_latent_svd=["dt", 0],
        ),
        "sv": node(
            "SaveSingularAttribute", attribute=["l", 0], filename=f"rel-{f.id}", overwrite=True
        ),
    }


def test_family_graphs_cover_every_node(rt: ComfyRuntime) -> None:
    assert FIGURE_FAMILIES <= {f.id for f in FAMILIES}
    used = {n["class_type"] for f in FAMILIES for n in family_graph(f).values()}
    missing = pack_node_ids(rt) - NOT_IN_FAMILY_GRAPH - used
    assert not missing, f"family graph misses pack nodes {sorted(missing)}: add them"


def _input_samples(f: Family) -> torch.Tensor:
    if f.zeros:
        return torch.zeros(f.shape)
    from reliability.support import DTYPES, make_samples

    inp = f.source["inputs"]
    return make_samples(f.shape, DTYPES[inp["dtype"]], inp["fill"], inp["seed"]).float()


@pytest.mark.parametrize("family", FAMILIES, ids=[f.id for f in FAMILIES])
def test_every_node_runs_on_every_latent_family(rt: ComfyRuntime, family: Family) -> None:
    graph = with_defaults(rt, family_graph(family))
    if family.zeros:
        # Editing an all-zero latent (an Empty Latent straight into the edit) is refused by
        # each editing node with a clear error; everything else must work on zeros.
        for node_id in EDIT_NODES:
            alone = {k: v for k, v in graph.items() if k not in EDIT_NODES or k == node_id}
            fail = failure(rt.run_prompt(with_sinks(alone, node_id)))
            assert fail.node_type == graph[node_id]["class_type"], fail
            assert fail.message.startswith(display_name(rt, fail.node_type) + ":"), fail
            assert "zeros" in fail.message and "empty latent" in fail.message, fail
            assert raised_in_pack(fail), fail
        graph = {k: v for k, v in graph.items() if k not in ("a", "ra", "a0", "ra0", "sw")}
    result = rt.run_prompt(graph, outputs=list(graph))
    assert result.success, result.error_message()

    # No NaN or Inf anywhere in any node's output.
    for node_id, outputs in result.node_outputs.items():
        for path, t in walk_tensors(outputs):
            if t.is_floating_point():
                assert torch.isfinite(t).all(), f"{graph[node_id]['class_type']}{path} not finite"

    x = _input_samples(family)
    if family.zeros:
        # Nothing to edit in an all-zero latent: the round trips stay exactly zero, not NaN.
        for node_id in ("rs", "rr", "rsc"):
            assert not result.output(node_id)[0]["samples"].any(), node_id
    for node_id in ("rs", "rr", "rsc") if family.zeros else ("rs", "rr", "rsc", "ra", "ra0"):
        out = result.output(node_id)[0]["samples"]
        assert tuple(out.shape) == family.shape and out.dtype == torch.float32, node_id
    # Lossless round trip (float32 arithmetic on the input's values).
    rs = result.output("rs")[0]["samples"]
    assert torch.allclose(rs, x, atol=1e-5 * max(1.0, float(x.abs().max())), rtol=1e-4)
    if not family.zeros:
        # Strength sweep: one batch item per strength, item-major; strength 0 is the input.
        sw = result.output("sw")[0]["samples"]
        assert tuple(sw.shape) == (family.shape[0] * 2, *family.shape[1:])
        assert torch.allclose(sw[0::2], rs, atol=1e-5 * max(1.0, float(x.abs().max())))
    # Figures: IMAGE [1, H, W, 3] in 0..1.
    for node_id in FIGURE_NODES if family.id in FIGURE_FAMILIES else ():
        image = next(o for o in result.output(node_id) if isinstance(o, torch.Tensor))
        assert image.ndim == 4 and image.shape[-1] == 3, node_id
        assert 0.0 <= float(image.min()) and float(image.max()) <= 1.0, node_id
    attribute = result.output("l")[0]
    assert attribute.channels == family.shape[1]
    assert attribute.frames == (family.shape[2] if len(family.shape) == 5 else None)
    assert result.output("sv") == (f"rel-{family.id}.safetensors",)


def test_batches_1_to_16_with_a_broadcast_target(rt: ComfyRuntime) -> None:
    """Batch sizes 1..16 in one prompt: decompose, scale, apply (a single target broadcast over
    each source batch), recompose; and one attribute trained on 16 pairs sharing one target."""
    graph: dict[str, dict[str, Any]] = {
        "t": latent((1, 4, 6, 5), seed=100),
        "dt": node("LatentSVDDecompose", latent=["t", 0], rank=0),
        "l": learn("d16", "dt", name="b16"),
    }
    for b in range(1, 17):
        graph[f"s{b}"] = latent((b, 4, 6, 5), seed=b, extras=True)
        graph[f"d{b}"] = node("LatentSVDDecompose", latent=[f"s{b}", 0], rank=0)
        graph[f"c{b}"] = node(
            "ScaleSingularValues", latent_svd=[f"d{b}", 0], indices="0", channels="", factor=0.5
        )
        graph[f"a{b}"] = node(
            "ApplySingularEdit",
            latent_svd=[f"c{b}", 0],
            attribute=["l", 0],
            strength=1.0,
            target=["dt", 0],
        )
        graph[f"r{b}"] = node("LatentRecompose", latent_svd=[f"a{b}", 0])
    outputs = ["l", *(f"{p}{b}" for b in range(1, 17) for p in ("s", "r"))]
    result = rt.run_prompt(with_sinks(graph, *(f"r{b}" for b in range(1, 17))), outputs=outputs)
    assert result.success, result.error_message()
    assert result.output("l")[0].num_pairs == 16
    for b in range(1, 17):
        src = result.output(f"s{b}")[0]
        out = result.output(f"r{b}")[0]
        assert tuple(out["samples"].shape) == (b, 4, 6, 5)
        assert torch.isfinite(out["samples"]).all()
        assert not torch.allclose(out["samples"], src["samples"])  # the edit did something
        # The latent's other keys survive the edit unchanged.
        assert out["batch_index"] == src["batch_index"]
        assert torch.equal(out["noise_mask"], src["noise_mask"])
