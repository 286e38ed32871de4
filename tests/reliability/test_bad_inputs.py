"""Must-show 2: bad input gets an error that names the node and the fix, never a traceback
from deep inside torch. Checked on the ``execution_error`` ComfyUI's executor reports (what
the web UI shows in its error dialog).

Supported, and shown to work: a single (batch 1) target broadcast over a source batch.
"""

from __future__ import annotations

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
    raised_in_pack,
    with_sinks,
)

pytestmark = pytest.mark.comfy

#: Exception types a user may see: our own ValueError wording (never RuntimeError, IndexError,
#: torch._C._LinAlgError... from inside torch).
CLEAR_TYPES = {"ValueError", "SVDEditError", "AttributeFileError"}


def decompose(src: str, rank: int = 0) -> dict[str, Any]:
    return node("LatentSVDDecompose", latent=[src, 0], rank=rank)


def _pair_graph(
    source_shape: tuple[int, ...], target_shape: tuple[int, ...], **apply_target: Any
) -> dict[str, dict[str, Any]]:
    return {
        "s": latent(source_shape, seed=1),
        "t": latent(target_shape, seed=2),
        "ds": decompose("s"),
        "dt": decompose("t"),
        "l": learn("ds", "dt"),
    }


def _apply_graph(
    train_shape: tuple[int, ...], edit_shape: tuple[int, ...], target_shape: tuple[int, ...] | None
) -> dict[str, dict[str, Any]]:
    graph = {
        "s": latent(train_shape, seed=1),
        "t": latent(train_shape, seed=2),
        "ds": decompose("s"),
        "dt": decompose("t"),
        "l": learn("ds", "dt"),
        "x": latent(edit_shape, seed=3),
        "dx": decompose("x"),
        "a": node("ApplySingularEdit", latent_svd=["dx", 0], attribute=["l", 0], strength=1.0),
        "r": node("LatentRecompose", latent_svd=["a", 0]),
    }
    if target_shape is not None:
        graph["z"] = latent(target_shape, seed=4)
        graph["dz"] = decompose("z")
        graph["a"]["inputs"]["target"] = ["dz", 0]
    return graph


# (id, graph, failing node, words the message must contain: what is wrong and the fix)
CASES: list[tuple[str, dict[str, dict[str, Any]], str, tuple[str, ...]]] = [
    (
        "nan-latent",
        {"s": latent((1, 4, 8, 8), fill="nan"), "d": decompose("s")},
        "LatentSVDDecompose",
        ("NaN", "upstream", "CFG"),
    ),
    (
        "inf-latent-float16",
        {"s": latent((2, 16, 8, 8), "float16", fill="inf"), "d": decompose("s")},
        "LatentSVDDecompose",
        ("Inf", "upstream"),
    ),
    (
        "nested-multistream-latent",
        {"s": latent((1, 16, 3, 8, 8), fill="nested"), "d": decompose("s")},
        "LatentSVDDecompose",
        ("nested", "single"),
    ),
    (
        "rank-above-min-hw",
        {"s": latent((1, 4, 8, 12)), "d": decompose("s", rank=9)},
        "LatentSVDDecompose",
        ("rank 9", "1..8", "0"),
    ),
    (
        "rank-above-min-hw-video",
        {"s": latent((1, 4, 2, 6, 5)), "d": decompose("s", rank=6)},
        "LatentSVDDecompose",
        ("rank 6", "1..5"),
    ),
    (
        "learn-different-size",
        _pair_graph((1, 4, 8, 8), (1, 4, 16, 16)),
        "LearnAttributeFromPair",
        ("same model and resolution",),
    ),
    (
        "learn-different-channels",
        _pair_graph((1, 4, 8, 8), (1, 16, 8, 8)),
        "LearnAttributeFromPair",
        ("same model and resolution",),
    ),
    (
        "learn-image-vs-video",
        _pair_graph((1, 4, 8, 8), (1, 4, 2, 8, 8)),
        "LearnAttributeFromPair",
        ("same model and resolution",),
    ),
    (
        "learn-batch-3-vs-2",
        _pair_graph((3, 4, 8, 8), (2, 4, 8, 8)),
        "LearnAttributeFromPair",
        ("batch size 2", "single target"),
    ),
    (
        "learn-on-truncated-decomposition",
        {
            "s": latent((1, 4, 8, 8)),
            "t": latent((1, 4, 8, 8), seed=2),
            "ds": decompose("s", 2),
            "dt": decompose("t"),
            "l": learn("ds", "dt", k_source=4, k_target=4),
        },
        "LearnAttributeFromPair",
        ("rank 2", "rank 0"),
    ),
    (
        "apply-4ch-attribute-on-16ch",
        _apply_graph((1, 4, 8, 8), (1, 16, 8, 8), (1, 16, 8, 8)),
        "ApplySingularEdit",
        ("4-channel", "16 channels", "same model family"),
    ),
    (
        "apply-4ch-attribute-on-16ch-no-target",
        _apply_graph((1, 4, 8, 8), (1, 16, 8, 8), None),
        "ApplySingularEdit",
        ("4-channel", "same model family"),
    ),
    (
        "apply-target-of-other-size",
        _apply_graph((1, 4, 8, 8), (2, 4, 8, 8), (1, 4, 6, 8)),
        "ApplySingularEdit",
        ("same model and resolution",),
    ),
    (
        "apply-target-batch-mismatch",
        _apply_graph((1, 4, 8, 8), (3, 4, 8, 8), (2, 4, 8, 8)),
        "ApplySingularEdit",
        ("batch size 2", "single target"),
    ),
    (
        "apply-mean-edit-other-size",
        _apply_graph((1, 4, 8, 8), (1, 4, 16, 16), None),
        "ApplySingularEdit",
        ("8x8", "Connect a target"),
    ),
    (
        "learn-from-EmptyLatentImage",
        {
            "s": node("EmptyLatentImage", width=64, height=64, batch_size=1),
            "d": decompose("s"),
            "l": learn("d", "d"),
        },
        "LearnAttributeFromPair",
        ("zeros", "empty latent", "after k steps"),
    ),
    (
        "scale-channel-out-of-range",
        {
            "s": latent((1, 4, 8, 8)),
            "d": decompose("s"),
            "c": node(
                "ScaleSingularValues", latent_svd=["d", 0], indices="0", channels="4", factor=2.0
            ),
        },
        "ScaleSingularValues",
        ("0..3",),
    ),
]


@pytest.mark.parametrize(
    ("graph", "node_type", "needles"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_bad_input_names_the_node_and_the_fix(
    rt: ComfyRuntime, graph: dict, node_type: str, needles: tuple[str, ...]
) -> None:
    result = rt.run_prompt(with_sinks(graph), outputs=list(graph))
    assert not result.success and not result.interrupted
    fail = failure(result)
    assert fail.node_type == node_type, fail
    assert fail.exception_type in CLEAR_TYPES, fail
    # The message opens with the node's display name (the box to fix) ...
    assert fail.message.startswith(display_name(rt, node_type) + ":"), fail
    # ... and says what is wrong and how to fix it.
    for needle in needles:
        assert needle.lower() in fail.message.lower(), f"{needle!r} missing in: {fail.message}"
    # Raised by the pack's own check, not from inside torch.
    assert raised_in_pack(fail), fail
    assert "Traceback" not in fail.message and "torch" not in fail.message.lower(), fail
    # The graph's failure does not poison the next prompt.
    ok = rt.run_prompt(
        with_sinks(
            {
                "s": latent((1, 4, 8, 8)),
                "d": decompose("s"),
                "r": node("LatentRecompose", latent_svd=["d", 0]),
            },
            "r",
        ),
        outputs=["r"],
    )
    assert ok.success, ok.error_message()


def test_a_single_target_broadcasts_over_a_source_batch(rt: ComfyRuntime) -> None:
    """What IS supported: target batch 1 with a source batch of 4 (learn and apply)."""
    graph = _apply_graph((4, 4, 8, 8), (3, 4, 8, 8), (1, 4, 8, 8))
    graph["t"] = latent((1, 4, 8, 8), seed=2)  # training target: batch 1 too
    result = rt.run_prompt(with_sinks(graph, "r"), outputs=["l", "r", "x"])
    assert result.success, result.error_message()
    assert result.output("l")[0].num_pairs == 4
    edited = result.output("r")[0]["samples"]
    assert edited.shape == (3, 4, 8, 8) and torch.isfinite(edited).all()
    assert not torch.allclose(edited, result.output("x")[0]["samples"])
