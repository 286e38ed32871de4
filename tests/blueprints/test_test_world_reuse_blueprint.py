"""The Reuse blueprint on the second test world ("placed": the face sits somewhere else on every
seed), end to end: dropped in the real web UI beside 'Load Test World' and a Learn blueprint
that learns blonde hair on a batch of 16 seeds (with reuse references) and feeds it its
attribute, flattened by the frontend, run through the real server on 16 held-out seeds, edited
(strength 2) and unedited (strength 0 = the plain generation), and read back with the world's
own read-out (attributes and placement).

Measured: success = the hair reads blonde; identity = every other read-out column (the other
six attributes and the placement) equals the unedited image's. The semantic benchmark's row
(benchmarks/semantic/reuse.json, placed, hair, "aligned local edits, at step 12, 16 pairs",
48 seeds; tests/semantic/test_reuse_on_the_placed_world.py) gives at strength 2 about 88-92 %
success and 81-83 % identity, 17-21 % blonde without the edit. 16 seeds give a binomial 95 %
interval of about +-0.15 around those rates; the thresholds leave that and a little more.
"""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
import torch
from blueprints.world_canvas import SENTINEL_SEED, WIDGETS, per_seed
from harness.blueprint_page import (
    add_node,
    clear_graph,
    connect,
    drop_blueprint,
    graph_to_prompt,
    set_widgets,
)
from harness.browser import ComfyPage
from harness.build_blueprints import LEARN, REUSE
from harness.server import ComfyServer, output_root
from workflows.world_readout import load_png

from benchmarks.semantic import world_placed
from benchmarks.semantic.pipeline import EDITS
from benchmarks.semantic.sweeps import judge_edit

pytestmark = [pytest.mark.comfy, pytest.mark.browser, pytest.mark.slow]

# Held-out seeds: the Learn batch draws its 16 noises from one generator seeded with
# LEARN_SEED, whose first equals a batch-1 run of that seed, so the tested seeds stay far off.
SEEDS = range(10_000, 10_016)
LEARN_SEED = 0  # the benchmark's first training seed
PAIRS = 16  # seeds learned from: reuse needs 16 or more
STRENGTH = 2.0  # the Reuse blueprint's default, the benchmark's point
HAIR = next(e for e in EDITS if e.key == "hair")
SIDE = 256  # the second world's Empty Latent side (64 px images)
SETTINGS = {
    **{k: v for k, v in WIDGETS.items() if k != "target_prompt"},
    "width": SIDE,
    "height": SIDE,
}


def _canvas_prompt(page: ComfyPage) -> dict[str, Any]:
    """Load Test World (placed) -> Learn (batch 16) -> two Reuse blueprints, edited and
    unedited, each decoded and saved."""
    clear_graph(page)
    loader = add_node(page, "LoadTestWorld", (0, 0), {"world": "placed"})
    learn = int(drop_blueprint(page, LEARN, (450, 0))["id"])
    reuse = {
        name: int(drop_blueprint(page, REUSE, (450, 600 + 400 * row))["id"])
        for row, name in enumerate(("edited", "unedited"))
    }
    for node in (learn, *reuse.values()):
        connect(page, loader, "MODEL", node, "model")
        connect(page, loader, "CLIP", node, "clip")
    for row, (name, node) in enumerate(reuse.items()):
        connect(page, learn, "attribute", node, "attribute")
        dec = add_node(page, "VAEDecode", (950, 300 * row))
        connect(page, node, "LATENT", dec, "samples")
        connect(page, loader, "VAE", dec, "vae")
        save = add_node(page, "SaveImage", (1250, 300 * row), {"filename_prefix": name})
        connect(page, dec, "IMAGE", save, "images")
    set_widgets(
        page,
        learn,
        {
            **SETTINGS,
            "target_prompt": f"{HAIR.target_value} {HAIR.attribute}",  # "blonde hair"
            "seed": LEARN_SEED,
            "batch_size": PAIRS,
        },
    )
    reused = {k: v for k, v in SETTINGS.items() if k != "strength"}
    set_widgets(page, reuse["edited"], {**reused, "strength": STRENGTH})
    set_widgets(page, reuse["unedited"], {**reused, "strength": 0.0})
    return graph_to_prompt(page)


@pytest.fixture(scope="module")
def read_out(page: ComfyPage, comfy_server: ComfyServer) -> dict[str, Any]:
    canvas = _canvas_prompt(page)
    kinds = [n["class_type"] for n in canvas.values()]
    assert kinds.count("LearnAttributeFromPair") == 1
    assert kinds.count("ApplySingularEdit") == 3  # Learn's own and one per Reuse blueprint
    assert {n["inputs"].get("batch_size") for n in canvas.values()} >= {PAIRS, 1}
    prompt = per_seed(canvas, SEEDS)
    assert str(SENTINEL_SEED) not in json.dumps(prompt)
    # Every seed's copy holds the same Learn nodes (same inputs, same ancestors): ComfyUI's
    # cache keys a node by its inputs and ancestry, not its id, so the batch-16 learning runs
    # once for all copies, and the unedited copy's sampler to the reuse step is the edited
    # copy's (the server's "executing" messages: Learn once, 52 samplers of 640 nodes). The
    # server takes 12-30 s here (2 cores; 3 min beside another suite), the test under 1 min.
    start = time.monotonic()
    entry = comfy_server.run_prompt(prompt, timeout=1800)
    seconds = time.monotonic() - start
    files = comfy_server.output_files(entry)
    saves = {
        node["inputs"]["filename_prefix"]: nid
        for nid, node in canvas.items()
        if node["class_type"] == "SaveImage"
    }
    columns = {
        name: world_placed.read_attributes(
            torch.stack([load_png(files[f"s{seed}.{nid}"][0]) for seed in SEEDS])  # batch 1
        )[0]
        for name, nid in saves.items()
    }
    judge = judge_edit([HAIR])
    success, identity = judge(columns["edited"], columns["unedited"])
    unedited, _ = judge(columns["unedited"], columns["unedited"])
    result = {
        "success": success.float().mean().item(),
        "identity": identity.float().mean().item(),
        "unedited_success": unedited.float().mean().item(),
        "seeds": len(SEEDS),
        "server_seconds": round(seconds, 1),
    }
    (output_root("blueprints") / "test_world_reuse.json").write_text(json.dumps(result) + "\n")
    print(f"\nReuse blueprint on the placed world, {len(SEEDS)} held-out seeds: {result}")
    return result


def test_the_unedited_seeds_are_seldom_blonde(read_out: dict[str, Any]) -> None:
    """The benchmark: 17-21 % blonde without the edit. Measured here: 4 of 16."""
    assert read_out["unedited_success"] <= 0.4


def test_the_reuse_edit_makes_new_seeds_blonde(read_out: dict[str, Any]) -> None:
    """The benchmark: 88-92 % blonde at strength 2, far above the unedited seeds. Measured
    here: 15 of 16."""
    assert read_out["success"] >= 0.7
    assert read_out["success"] - read_out["unedited_success"] >= 0.4


def test_the_reuse_edit_keeps_the_faces(read_out: dict[str, Any]) -> None:
    """The benchmark: 81-83 % of the edited faces keep every other attribute and their place.
    Measured here: 14 of 16."""
    assert read_out["identity"] >= 0.6
