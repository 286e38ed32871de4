"""Cancel stops training cleanly (and the next prompt runs); bad inputs give errors that name
the node and the fix."""

from __future__ import annotations

import dataclasses

import pytest
from harness.comfy_runtime import ComfyRuntime
from harness.graphs import IDS, EditSettings, edit_workflow

pytestmark = pytest.mark.comfy

LONG = dataclasses.replace(EditSettings(), learn_steps=20000, attribute_name="cancelled")


def test_cancel_mid_training_stops_and_the_next_prompt_runs(comfy_runtime: ComfyRuntime) -> None:
    seen: list[int] = []

    def press_cancel(value: int, total: int, node_id: str | None) -> None:
        # The Cancel button from the progress path: after a few updates of the learn node.
        if node_id == IDS.learn:
            seen.append(value)
            if len(seen) == 3:
                comfy_runtime.interrupt()

    comfy_runtime.add_progress_listener(press_cancel)
    try:
        result = comfy_runtime.run_prompt(edit_workflow(LONG), outputs=[IDS.learn, IDS.final])
    finally:
        comfy_runtime.remove_progress_listener(press_cancel)
    assert result.interrupted and not result.success
    assert result.error() is None  # an interrupt, not a crash
    interrupted = [d for ev, d in result.messages if ev == "execution_interrupted"]
    assert interrupted[0]["node_type"] == "LearnAttributeFromPair"
    # It stopped right after the cancel, long before the 20000 steps.
    learn_values = [e.value for e in result.progress if e.node_id == IDS.learn]
    assert len(learn_values) == 3 and max(learn_values) < LONG.learn_steps // 10
    assert IDS.learn not in result.node_outputs and IDS.final not in result.node_outputs
    # The flag was consumed: nothing is left pending for the next prompt.
    assert not comfy_runtime.model_management.processing_interrupted()

    short = dataclasses.replace(LONG, learn_steps=15, attribute_name="after cancel")
    after = comfy_runtime.run_prompt(edit_workflow(short), outputs=[IDS.learn, IDS.final])
    assert after.success, after.error_message()
    assert after.output(IDS.learn)[0].loss_history.shape == (15,)


def _error(comfy_runtime: ComfyRuntime, graph: dict) -> dict:
    result = comfy_runtime.run_prompt(graph)
    assert not result.success
    err = result.error()
    assert err is not None
    return err


def test_rank_too_large_names_the_node_and_the_range(comfy_runtime: ComfyRuntime) -> None:
    graph = edit_workflow(dataclasses.replace(EditSettings(), learn_steps=5))
    graph[IDS.decompose_source]["inputs"]["rank"] = 25  # the latent is 24 x 24
    err = _error(comfy_runtime, graph)
    assert err["node_type"] == "LatentSVDDecompose"
    msg = err["exception_message"]
    assert msg.startswith("Latent Singular Value Decompose:")
    assert "25" in msg and "1..24" in msg


@pytest.mark.parametrize(
    ("indices", "channels", "needle"),
    [
        ("x", "", '"x"'),
        ("40", "", "0..23"),
        ("3-1", "", "backwards"),
        ("", "", "empty"),
        ("0", "7", "0..3"),
    ],
)
def test_scale_refuses_bad_index_text(
    comfy_runtime: ComfyRuntime, indices: str, channels: str, needle: str
) -> None:
    graph = edit_workflow(dataclasses.replace(EditSettings(), learn_steps=5))
    graph["50"] = {
        "class_type": "ScaleSingularValues",
        "inputs": {
            "latent_svd": [IDS.decompose_source, 0],
            "indices": indices,
            "channels": channels,
            "factor": 2.0,
        },
    }
    graph[IDS.recompose]["inputs"]["latent_svd"] = ["50", 0]
    err = _error(comfy_runtime, graph)
    assert err["node_type"] == "ScaleSingularValues"
    assert err["exception_message"].startswith("Scale Singular Values:")
    assert needle in err["exception_message"]


def test_mean_edit_on_another_size_asks_for_a_target(comfy_runtime: ComfyRuntime) -> None:
    settings = dataclasses.replace(EditSettings(), learn_steps=5)
    graph = edit_workflow(settings)
    # A 128 x 128 image (16 x 16 latent) edited with an attribute learned on 24 x 24 latents.
    graph["80"] = {
        "class_type": "EmptyLatentImage",
        "inputs": {"width": 128, "height": 128, "batch_size": 1},
    }
    graph["81"] = {"class_type": "LatentSVDDecompose", "inputs": {"latent": ["80", 0], "rank": 0}}
    graph[IDS.apply]["inputs"] = {
        "latent_svd": ["81", 0],
        "attribute": [IDS.learn, 0],
        "strength": 1.0,
    }
    err = _error(comfy_runtime, graph)
    assert err["node_type"] == "ApplySingularEdit"
    msg = err["exception_message"]
    assert msg.startswith("Apply Singular Value Edit:")
    assert "target" in msg and "24x24" in msg
