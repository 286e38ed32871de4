"""The Learn blueprint on the test world, end to end: dropped in the real web UI (headless
Chromium) beside 'Load Test World', flattened by the frontend's graphToPrompt, run through the
real server on 32 seeds of the first world, and the images read out with the world's own
read-out. The smile appears as often, and the faces are kept as often, as the semantic
benchmark measured for the same edit with the world's own sampler.

Benchmark row (benchmarks/semantic/toolbox.json, faces, smile, "AVI ks=16 local, at k+d
(x_s + s edit), d=2": the blueprint's edit, 100 seeds): strength 1.5 -> success 0.98, identity
0.82. The
blueprint learns from each seed's own pair (the sweeps' "pairs" table: 1 pair keeps as much
identity as 16). 32 seeds give a binomial 95 % interval of about +-0.15 around those rates;
the test allows 0.18.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import torch
from blueprints.world_canvas import WIDGETS, per_seed
from harness.blueprint_page import (
    add_node,
    clear_graph,
    connect,
    drop_blueprint,
    graph_to_prompt,
    set_widgets,
)
from harness.browser import ComfyPage
from harness.build_blueprints import LEARN
from harness.server import ComfyServer, output_root
from workflows.world_readout import identity_kept, load_png, smiles

from benchmarks.semantic import world

pytestmark = [pytest.mark.comfy, pytest.mark.browser, pytest.mark.slow]

SEEDS = range(32)
STRENGTH = WIDGETS["strength"]
ROW = "AVI ks=16 local, at k+d (x_s + s edit), d=2"


def _benchmark_point() -> dict[str, float]:
    """The benchmark's success and identity of ROW at STRENGTH (faces, smile)."""
    path = Path(world.__file__).with_name("toolbox.json")
    rows = json.loads(path.read_text())["faces"]["edits"]["smile"]["rows"]
    (row,) = [r for r in rows if r["method"] == ROW]
    ((success, identity),) = [(p[1], p[2]) for p in row["points"] if p[0] == STRENGTH]
    return {"success": success, "identity": identity}


BENCHMARK = _benchmark_point()
ALLOWED = 0.18


def _canvas_prompt(page: ComfyPage) -> dict[str, Any]:
    """One Learn blueprint on the test world, edited and unedited decoded and saved."""
    clear_graph(page)
    loader = add_node(page, "LoadTestWorld", (0, 0), {"world": "faces"})
    learn = int(drop_blueprint(page, LEARN, (450, 0))["id"])
    connect(page, loader, "MODEL", learn, "model")
    connect(page, loader, "CLIP", learn, "clip")
    for row, out in enumerate(("edited", "unedited")):
        dec = add_node(page, "VAEDecode", (950, 300 * row))
        connect(page, learn, out, dec, "samples")
        connect(page, loader, "VAE", dec, "vae")
        save = add_node(page, "SaveImage", (1250, 300 * row), {"filename_prefix": out})
        connect(page, dec, "IMAGE", save, "images")
    set_widgets(page, learn, WIDGETS)
    return graph_to_prompt(page)


@pytest.fixture(scope="module")
def read_out(page: ComfyPage, comfy_server: ComfyServer) -> dict[str, Any]:
    canvas = _canvas_prompt(page)
    assert any(n["class_type"] == "LearnAttributeFromPair" for n in canvas.values())
    assert json.dumps(canvas).count(str(WIDGETS["seed"])) >= 1
    saves = {
        node["inputs"]["filename_prefix"]: nid
        for nid, node in canvas.items()
        if node["class_type"] == "SaveImage"
    }
    # 32 x (42 sampler steps + a 200-step training), batch 1: 3 min on 0.3.75 here; a
    # shared 2-core machine slows the server (two torch threads) by up to 10x.
    entry = comfy_server.run_prompt(per_seed(canvas, SEEDS), timeout=1800)
    files = comfy_server.output_files(entry)
    columns = {}
    for out, nid in saves.items():
        images = [load_png(files[f"s{seed}.{nid}"][0]) for seed in SEEDS]  # batch 1 each
        columns[out] = world.read_attributes(torch.stack(images))[0]
    success = smiles(columns["edited"]).float().mean().item()
    identity = identity_kept(columns["edited"], columns["unedited"]).float().mean().item()
    result = {"success": success, "identity": identity, "seeds": len(SEEDS)}
    (output_root("blueprints") / "test_world_e2e.json").write_text(json.dumps(result) + "\n")
    print(f"\nLearn blueprint on the test world, {len(SEEDS)} seeds: {result} vs {BENCHMARK}")
    return result


def test_the_smile_appears_as_the_benchmark_says(read_out: dict[str, Any]) -> None:
    assert abs(read_out["success"] - BENCHMARK["success"]) <= ALLOWED


def test_the_faces_are_kept_as_the_benchmark_says(read_out: dict[str, Any]) -> None:
    assert abs(read_out["identity"] - BENCHMARK["identity"]) <= ALLOWED
