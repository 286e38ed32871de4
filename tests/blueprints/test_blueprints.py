"""The pack's subgraph blueprints (subgraphs/*.json) on a REAL ComfyUI server and in the REAL web
UI (headless Chromium): generated from the live node definitions, listed by /global_subgraphs,
found in the node library by search, dropped with a click as one node, converted by the
frontend's graphToPrompt and run end to end on the random-weight SD 2.1 checkpoint. At
strength 0 each blueprint's edit equals the hand-wired example graph's unedited result (the
reuse blueprint's too: its source run split at the reuse step is the same generation); the
photo path (an encoded PNG the test draws, noised to step k) equals re-generating the photo
from step k with the source prompt. Sizes and steps are reduced as in tests/workflows."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from harness.blueprint_page import (
    add_node,
    clear_graph,
    connect,
    drop_blueprint,
    graph_to_prompt,
    listed_blueprints,
    queue,
    set_widgets,
)
from harness.browser import ComfyPage, fit_graph
from harness.build_blueprints import BLUEPRINTS, GENERATE, LEARN, OUT_DIR, PHOTO, REUSE, build_all
from harness.graph_pieces import NEGATIVE_PROMPT, SOURCE_PROMPT
from harness.server import PACK_NAME, ComfyServer, output_root
from harness.tensors import rel_error
from harness.workflow_format import node_specs
from PIL import Image
from safetensors.torch import load_file
from workflows.support import (
    REDUCED_SIZE,
    REDUCED_STEPS,
    RUN_TIMEOUT_S,
    WorkflowRunner,
    write_photo,
)

pytestmark = [pytest.mark.comfy]

SD21 = "v2-1_512-ema-pruned.safetensors"
PHOTO_FILE = "example.png"  # the name the photo example workflow opens
FILES = sorted(OUT_DIR.glob("*.json"))
# The reduced run: the hand-wired examples reduced by workflows.support map k = 9 -> 1 and
# k + delta = 11 -> 2 of 3 steps; the blueprints get the same numbers through their widgets.
# Their reuse step, max(k + delta, round(0.6 * 3)), is then 2 as well.
REDUCED = {"seed": 42, "steps": REDUCED_STEPS, "edit_step": 1, "delta": 1}
SIZE = {"width": REDUCED_SIZE, "height": REDUCED_SIZE}
TOL = 1e-4


def _load(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text())


def _subgraph(data: dict[str, Any]) -> dict[str, Any]:
    return data["definitions"]["subgraphs"][0]


#: Edit Steps' outputs: steps, edit_step (k), target_step (k + delta), reuse_step.
REUSE_SLOT = 3


def _plan_step(prompt: dict[str, Any], value: object) -> object:
    """A step field of the prompt: a number, or a link to the Edit Steps node's outputs,
    computed here from its inputs (reuse step = max(k + delta, round(0.6 N)))."""
    if not isinstance(value, list):
        return value
    plan = prompt[value[0]]
    assert plan["class_type"] == "SingularEditSteps"
    w = plan["inputs"]
    n, k, target = w["steps"], w["edit_step"], w["edit_step"] + w["delta"]
    return (n, k, target, max(target, round(0.6 * n)))[value[1]]


def _decomposed(prompt: dict[str, Any], link: list[Any]) -> list[Any]:
    """The latent link that the 'Latent Singular Value Decompose' at ``link`` decomposes."""
    decomposition = prompt[link[0]]
    assert decomposition["class_type"] == "LatentSVDDecompose"
    return decomposition["inputs"]["latent"]


def _continuation(inner: dict[str, Any], apply_id: str) -> dict[str, Any]:
    """The inputs of the sampler that continues from Apply ``apply_id``'s recomposed latent."""
    (recompose,) = [
        nid
        for nid, v in inner.items()
        if v["class_type"] == "LatentRecompose" and v["inputs"]["latent_svd"][0] == apply_id
    ]
    (edited,) = [
        v["inputs"]
        for v in inner.values()
        if v["class_type"] == "KSamplerAdvanced" and v["inputs"]["latent_image"][0] == recompose
    ]
    return edited


def _text(prompt: dict[str, Any], sampler: dict[str, Any]) -> str:
    return prompt[sampler["inputs"]["positive"][0]]["inputs"]["text"]


# --- files and server ------------------------------------------------------------------------


def test_blueprint_files_match_the_live_node_definitions(
    workflow_runner: WorkflowRunner, tmp_path: Path
) -> None:
    """The shipped files are exactly what build_blueprints.py makes from this server's nodes."""
    written = build_all(workflow_runner.specs, tmp_path)
    assert sorted(p.name for p in written.values()) == [p.name for p in FILES]
    for path in written.values():
        assert path.read_text() == (OUT_DIR / path.name).read_text(), (
            f"{path.name} is stale: run tests/harness/build_blueprints.py"
        )


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_step_arithmetic_is_inside_and_few_widgets_are_exposed(path: Path) -> None:
    """Every sampler, scheduler and sigma split takes its step numbers from the one
    'Edit Steps' node, whose inputs are the blueprint's widgets; nothing else is asked twice."""
    data = _load(path)
    sg = _subgraph(data)
    (outer,) = data["nodes"]
    widgets = [i["name"] for i in outer["inputs"] if "widget" in i]
    assert len(sg["nodes"]) >= 9, "an inner graph worth hiding"
    assert len(widgets) <= 14
    assert [p[1] for p in outer["properties"]["proxyWidgets"]] == widgets
    (plan,) = [n for n in sg["nodes"] if n["type"] == "SingularEditSteps"]
    from_plan = {lk["target_id"]: lk for lk in sg["links"] if lk["origin_id"] == plan["id"]}
    for n in sg["nodes"]:
        linked = {i["name"] for i in n["inputs"] if i["link"] is not None}
        if n["type"] == "KSamplerAdvanced":
            assert "steps" in linked and n["id"] in from_plan
            assert {"start_at_step", "end_at_step"} & linked
        if n["type"] in ("BasicScheduler", "SplitSigmas"):
            assert n["id"] in from_plan
    plan_inputs = {
        lk["target_slot"]
        for lk in sg["links"]
        if lk["target_id"] == plan["id"] and lk["origin_id"] == -10
    }
    assert len(plan_inputs) == 3, "steps, edit_step and delta come from the outer widgets"


def test_server_lists_every_blueprint(comfy_server: ComfyServer) -> None:
    listed = comfy_server.get("/global_subgraphs")
    mine = {
        k: v for k, v in listed.items() if v["info"]["node_pack"] == f"custom_nodes.{PACK_NAME}"
    }
    assert sorted(v["name"] for v in mine.values()) == sorted(p.stem for p in FILES)
    assert all(v["source"] == "custom_node" for v in mine.values())
    for key, entry in mine.items():
        served = comfy_server.get(f"/global_subgraphs/{key}")
        assert json.loads(served["data"]) == _load(OUT_DIR / f"{entry['name']}.json")


# --- the web UI ------------------------------------------------------------------------------


@dataclass
class PageRun:
    """One canvas with the four blueprints (learn -> generate, learn -> photo, learn -> reuse)
    queued twice: at strength 0 and at strength 1."""

    listed: list[dict[str, Any]]
    dropped: dict[str, dict[str, Any]]
    prompts: dict[float, dict[str, Any]]
    saves: dict[str, int]  # what -> SaveLatent / SaveImage node id on the canvas
    files: dict[float, dict[str, list[Path]]]
    seconds: dict[float, float]


@pytest.fixture(scope="module")
def page_run(page: ComfyPage, workflow_runner: WorkflowRunner) -> PageRun:
    import time  # noqa: PLC0415

    server = workflow_runner.server
    ckpt = server.install_checkpoint(_checkpoint())
    write_photo(server.base_dir / "input" / PHOTO_FILE)
    listed = listed_blueprints(page, list(BLUEPRINTS))
    clear_graph(page)
    loader = add_node(page, "CheckpointLoaderSimple", (0, 0), {"ckpt_name": ckpt})
    photo = add_node(page, "LoadImage", (0, 300), {"image": PHOTO_FILE})
    dropped = {
        LEARN: drop_blueprint(page, LEARN, (450, 0)),
        GENERATE: drop_blueprint(page, GENERATE, (950, 0)),
        PHOTO: drop_blueprint(page, PHOTO, (950, 700)),
        REUSE: drop_blueprint(page, REUSE, (950, 1300)),
    }
    learn, gen, edit, reuse = (dropped[n]["id"] for n in (LEARN, GENERATE, PHOTO, REUSE))
    for node in (learn, gen, edit, reuse):
        connect(page, loader, "MODEL", node, "model")
        connect(page, loader, "CLIP", node, "clip")
    for node in (gen, edit, reuse):
        connect(page, learn, "attribute", node, "attribute")
    connect(page, loader, "VAE", edit, "vae")
    connect(page, photo, "IMAGE", edit, "image")
    saves = {}
    for what, (src, out), y in (
        ("learn_edited", (learn, "edited"), 0),
        ("learn_unedited", (learn, "unedited"), 150),
        ("generated", (gen, "LATENT"), 300),
        ("reused", (reuse, "LATENT"), 1300),
    ):
        saves[what] = add_node(
            page, "SaveLatent", (1450, y), {"filename_prefix": f"bp_test/{what}"}
        )
        connect(page, src, out, saves[what], "samples")
    for what, out, y in (("photo_edited", "edited", 700), ("photo_unedited", "unedited", 1000)):
        saves[what] = add_node(page, "SaveImage", (1450, y), {"filename_prefix": f"bp_test/{what}"})
        connect(page, edit, out, saves[what], "images")
    prompts, files, seconds = {}, {}, {}
    for strength in (0.0, 1.0):
        set_widgets(page, learn, REDUCED | SIZE | {"strength": strength})
        set_widgets(page, gen, REDUCED | SIZE | {"strength": strength})
        set_widgets(page, reuse, REDUCED | SIZE | {"strength": strength})
        set_widgets(page, edit, REDUCED | {"strength": strength})
        if strength == 0.0:
            assert fit_graph(page)
            page.screenshot(output_root("blueprints") / "blueprints_on_canvas.png")
        prompts[strength] = graph_to_prompt(page)
        t0 = time.perf_counter()
        entry = server.wait_for(queue(page), timeout=RUN_TIMEOUT_S)
        seconds[strength] = time.perf_counter() - t0
        files[strength] = server.output_files(entry)
    return PageRun(listed, dropped, prompts, saves, files, seconds)


def _inner_types(name: str) -> Counter[str]:
    return Counter(n["type"] for n in _subgraph(_load(OUT_DIR / f"{name}.json"))["nodes"])


@pytest.mark.browser
def test_blueprints_are_listed_in_the_node_library(page_run: PageRun) -> None:
    by_name = {d["display_name"]: d for d in page_run.listed}
    for path in FILES:
        d = by_name.get(path.stem)
        assert d is not None, f"{path.stem} is not in the node library"
        assert d["name"].startswith("SubgraphBlueprint.")
        # frontend 1.32 files it under the pack; 1.49 under the blueprint's own category
        assert d["python_module"] == f"custom_nodes.{PACK_NAME}" or d["category"].endswith(
            _subgraph(_load(path))["category"]
        )
        outer = _load(path)["nodes"][0]
        assert d["inputs"] == [i["name"] for i in outer["inputs"]]
        assert d["outputs"] == [o["type"] for o in outer["outputs"]]
        assert d["description"] == _subgraph(_load(path))["description"]


@pytest.mark.browser
def test_a_blueprint_drops_as_one_node_with_its_widgets(page_run: PageRun) -> None:
    for name, node in page_run.dropped.items():
        outer = _load(OUT_DIR / f"{name}.json")["nodes"][0]
        assert node["isSubgraph"] and node["title"] == name
        assert node["inner"] == len(_subgraph(_load(OUT_DIR / f"{name}.json"))["nodes"])
        assert node["widgets"] == [i["name"] for i in outer["inputs"] if "widget" in i]
        assert node["outputs"] == [[o["name"], o["type"]] for o in outer["outputs"]]


@pytest.mark.browser
def test_the_frontend_flattens_each_blueprint_into_its_inner_graph(page_run: PageRun) -> None:
    prompt = page_run.prompts[0.0]
    for name, node in page_run.dropped.items():
        inner = {k: v for k, v in prompt.items() if k.startswith(f"{node['id']}:")}
        assert Counter(v["class_type"] for v in inner.values()) == _inner_types(name)
        (plan,) = [v for v in inner.values() if v["class_type"] == "SingularEditSteps"]
        assert plan["inputs"] == {
            "steps": REDUCED["steps"],
            "edit_step": REDUCED["edit_step"],
            "delta": REDUCED["delta"],
        }
        (apply_,) = [v for v in inner.values() if v["class_type"] == "ApplySingularEdit"]
        assert apply_["inputs"]["strength"] == 0.0
        assert (
            page_run.prompts[1.0][
                next(k for k, v in inner.items() if v["class_type"] == "ApplySingularEdit")
            ]["inputs"]["strength"]
            == 1.0
        )


@pytest.mark.browser
def test_each_blueprint_applies_the_edit_between_noise_matched_branches(page_run: PageRun) -> None:
    """In the prompt the frontend sends: Apply edits the source branch (its latent_svd is
    source_branch), locally, with target = the target prompt and source_branch = the source
    prompt, each continued from the same x from step k to k + delta without new noise; the
    edited latent continues from k + delta; Learn, where there is one, learns from those two
    branches."""
    prompt = page_run.prompts[1.0]
    k, delta = REDUCED["edit_step"], REDUCED["delta"]
    for name, node in page_run.dropped.items():
        if name == REUSE:  # no branches: test_reuse_blueprint_edits_at_the_reuse_step
            continue
        inner = {nid: v for nid, v in prompt.items() if nid.startswith(f"{node['id']}:")}
        (apply_id,) = [nid for nid, v in inner.items() if v["class_type"] == "ApplySingularEdit"]
        apply_ = inner[apply_id]["inputs"]

        def latent_of(link: list[Any]) -> list[Any]:
            return _decomposed(prompt, link)

        def step(value: object) -> object:
            return _plan_step(prompt, value)

        assert apply_["latent_svd"] == apply_["source_branch"] and apply_["local"] is True
        x = prompt[latent_of(apply_["source_branch"])[0]]["inputs"]["latent_image"]
        edited = _continuation(inner, apply_id)
        assert step(edited["start_at_step"]) == k + delta
        texts = {}
        for side in ("source_branch", "target"):
            branch = prompt[latent_of(apply_[side])[0]]
            w = branch["inputs"]
            assert branch["class_type"] == "KSamplerAdvanced", side
            assert (step(w["start_at_step"]), step(w["end_at_step"])) == (k, k + delta), side
            assert w["add_noise"] == "disable" and w["latent_image"] == x, side
            texts[side] = prompt[w["positive"][0]]["inputs"]["text"]
        assert texts["source_branch"] != texts["target"]
        for learn in (
            v["inputs"] for v in inner.values() if v["class_type"] == "LearnAttributeFromPair"
        ):
            assert learn["source"] == apply_["source_branch"]
            assert learn["target"] == apply_["target"]
            # the reuse reference: the source branch continued by the source prompt from
            # k + delta to the reuse step, no new noise, leftover noise kept
            reference = prompt[_decomposed(prompt, learn["reuse_reference"])[0]]
            w = reference["inputs"]
            assert reference["class_type"] == "KSamplerAdvanced"
            assert w["latent_image"] == latent_of(apply_["source_branch"])
            assert _text(prompt, reference) == texts["source_branch"]
            assert step(w["start_at_step"]) == k + delta
            assert w["end_at_step"][1] == REUSE_SLOT
            assert step(w["end_at_step"]) == max(k + delta, round(0.6 * REDUCED["steps"]))
            assert (w["add_noise"], w["return_with_leftover_noise"]) == ("disable", "enable")


@pytest.mark.browser
def test_reuse_blueprint_edits_at_the_reuse_step(page_run: PageRun) -> None:
    """In the prompt the frontend sends: the reuse blueprint runs no target prompt; its Apply
    has neither target nor source_branch (the aligned reuse edit), and edits the decomposition
    of the source prompt's run from step 0 (new noise, leftover noise kept) to Edit Steps'
    reuse step; the edited latent continues from the reuse step to the end without new
    noise."""
    prompt = page_run.prompts[1.0]
    node = page_run.dropped[REUSE]
    inner = {nid: v for nid, v in prompt.items() if nid.startswith(f"{node['id']}:")}
    texts = [v["inputs"]["text"] for v in inner.values() if v["class_type"] == "CLIPTextEncode"]
    assert sorted(texts) == sorted([SOURCE_PROMPT, NEGATIVE_PROMPT]), "no target prompt"
    (apply_id,) = [nid for nid, v in inner.items() if v["class_type"] == "ApplySingularEdit"]
    apply_ = inner[apply_id]["inputs"]
    assert "target" not in apply_ and "source_branch" not in apply_
    assert prompt[apply_["attribute"][0]]["class_type"] == "LearnAttributeFromPair"
    reuse = max(REDUCED["edit_step"] + REDUCED["delta"], round(0.6 * REDUCED["steps"]))
    source = prompt[_decomposed(prompt, apply_["latent_svd"])[0]]
    w = source["inputs"]
    assert source["class_type"] == "KSamplerAdvanced"
    assert prompt[w["latent_image"][0]]["class_type"] == "EmptyLatentImage"
    assert _plan_step(prompt, w["start_at_step"]) == 0
    assert w["end_at_step"][1] == REUSE_SLOT and _plan_step(prompt, w["end_at_step"]) == reuse
    assert (w["add_noise"], w["return_with_leftover_noise"]) == ("enable", "enable")
    assert w["noise_seed"] == REDUCED["seed"]
    assert _text(prompt, source) == SOURCE_PROMPT
    edited = _continuation(inner, apply_id)
    assert edited["start_at_step"][1] == REUSE_SLOT
    assert _plan_step(prompt, edited["start_at_step"]) == reuse
    assert _plan_step(prompt, edited["end_at_step"]) >= REDUCED["steps"]
    assert edited["add_noise"] == "disable"
    assert edited["positive"] == w["positive"]


def _latent(run: PageRun, strength: float, what: str) -> torch.Tensor:
    (path,) = run.files[strength][str(run.saves[what])]
    return load_file(str(path))["latent_tensor"]


def _image(run: PageRun, strength: float, what: str) -> np.ndarray:
    (path,) = run.files[strength][str(run.saves[what])]
    with Image.open(path) as im:
        return np.asarray(im.convert("RGB"), dtype=np.int16)


@pytest.mark.browser
@pytest.mark.slow
def test_blueprints_run_end_to_end(page_run: PageRun) -> None:
    for strength in (0.0, 1.0):
        for what in ("learn_edited", "learn_unedited", "generated", "reused"):
            lat = _latent(page_run, strength, what)
            assert lat.shape == (1, 4, REDUCED_SIZE // 8, REDUCED_SIZE // 8)
            assert torch.isfinite(lat).all()
        for what in ("photo_edited", "photo_unedited"):
            img = _image(page_run, strength, what)
            assert img.shape == (REDUCED_SIZE, REDUCED_SIZE, 3) and img.std() > 0.5
    # strength 1 changes the result; strength 0 is the unedited generation exactly
    assert (
        rel_error(_latent(page_run, 1.0, "learn_edited"), _latent(page_run, 1.0, "learn_unedited"))
        > 1e-3
    )
    assert (
        rel_error(_latent(page_run, 0.0, "learn_edited"), _latent(page_run, 0.0, "learn_unedited"))
        < TOL
    )
    # The reuse blueprint at strength 0 hands the source run on unchanged at the reuse step,
    # and a KSamplerAdvanced run split at a step with leftover noise is the same run: the
    # plain generation of the seed, which the learn blueprint's unedited output also is.
    assert (
        rel_error(_latent(page_run, 0.0, "reused"), _latent(page_run, 0.0, "learn_unedited")) < TOL
    )
    assert rel_error(_latent(page_run, 1.0, "reused"), _latent(page_run, 0.0, "reused")) > 1e-3
    assert (
        np.abs(
            _image(page_run, 1.0, "photo_edited") - _image(page_run, 1.0, "photo_unedited")
        ).max()
        > 2
    )


@pytest.fixture(scope="module")
def hand_wired(workflow_runner: WorkflowRunner) -> dict[str, Any]:
    """The example workflows (reduced like tests/workflows) with SaveLatent on their samplers'
    results: the learn graph's unedited latent; the photo graph's edited (strength 0) and
    re-generated latents, and the re-generated photo decoded ("photo_unedited_image")."""
    server = workflow_runner.server
    workflow_runner.install_checkpoints(
        {"nodes": [{"type": "CheckpointLoaderSimple", "widgets_values": [SD21]}]}
    )
    write_photo(server.base_dir / "input" / PHOTO_FILE)
    out: dict[str, Any] = {}
    learn = workflow_runner.api_prompt("learn_attribute_from_prompt_pair")
    photo = workflow_runner.api_prompt("edit_photo_with_attribute")
    for node in photo.values():
        if node["class_type"] == "ApplySingularEdit":
            node["inputs"]["strength"] = 0.0
    for prompt, wanted in (
        (learn, {"Unedited": "learn_unedited"}),
        (photo, {"Unedited": "photo_unedited", "Edited": "photo_edited"}),
    ):
        saves = {}
        for nid, node in list(prompt.items()):
            title = node["_meta"]["title"]
            for prefix, what in wanted.items():
                if node["class_type"] == "KSamplerAdvanced" and title.startswith(prefix):
                    save_id = f"90{len(saves)}"
                    prompt[save_id] = {
                        "class_type": "SaveLatent",
                        "inputs": {"samples": [nid, 0], "filename_prefix": f"hand_wired/{what}"},
                    }
                    saves[what] = save_id
        assert len(saves) == len(wanted)
        image_save = None
        if "photo_unedited" in saves:
            sampler = prompt[saves["photo_unedited"]]["inputs"]["samples"][0]
            (dec,) = [
                k
                for k, v in prompt.items()
                if v["class_type"] == "VAEDecode" and v["inputs"]["samples"] == [sampler, 0]
            ]
            image_save = "910"
            prompt[image_save] = {
                "class_type": "SaveImage",
                "inputs": {"images": [dec, 0], "filename_prefix": "hand_wired/photo_unedited"},
            }
        entry = server.run_prompt(prompt, timeout=RUN_TIMEOUT_S)
        files = server.output_files(entry)
        for what, save_id in saves.items():
            (path,) = files[save_id]
            out[what] = load_file(str(path))["latent_tensor"]
        if image_save is not None:
            (path,) = files[image_save]
            with Image.open(path) as im:
                out["photo_unedited_image"] = np.asarray(im.convert("RGB"), dtype=np.int16)
    return out


def test_photo_workflow_at_strength_0_equals_regenerating_from_step_k(
    hand_wired: dict[str, Any],
) -> None:
    """The photo path's edit at strength 0 (decompose, apply, recompose) is the photo noised to
    step k and re-generated from there with the source prompt, to 1e-4."""
    edited, plain = hand_wired["photo_edited"], hand_wired["photo_unedited"]
    assert torch.isfinite(plain).all() and plain.abs().max() > 0
    assert rel_error(edited, plain) < TOL
    assert float((edited - plain).abs().max()) < TOL * max(1.0, float(plain.abs().max()))


@pytest.mark.browser
def test_learn_generate_and_reuse_blueprints_at_strength_0_equal_the_hand_wired_unedited(
    page_run: PageRun, hand_wired: dict[str, Any]
) -> None:
    ref = hand_wired["learn_unedited"]
    for what in ("learn_edited", "learn_unedited", "generated", "reused"):
        got = _latent(page_run, 0.0, what)
        assert got.shape == ref.shape
        assert rel_error(got, ref) < TOL, what
        assert float((got - ref).abs().max()) < TOL * max(1.0, float(ref.abs().max())), what


@pytest.mark.browser
def test_generate_blueprint_reproduces_the_learned_edit_on_its_training_seed(
    page_run: PageRun,
) -> None:
    """Same seed and prompts as the learn blueprint: its own target branch is the training
    pair's, so applying the connected attribute at strength 1 gives the learned edit."""
    got = _latent(page_run, 1.0, "generated")
    ref = _latent(page_run, 1.0, "learn_edited")
    assert rel_error(got, ref) < TOL


@pytest.mark.browser
def test_photo_blueprint_at_strength_0_equals_the_hand_wired_regeneration(
    page_run: PageRun, hand_wired: dict[str, Any]
) -> None:
    """The blueprint decodes; its strength-0 edit and its re-generated photo are the same
    image, and the hand-wired graph's re-generated latent decodes to it (8-bit PNGs: equal
    up to one level where rounding falls differently)."""
    edited = _image(page_run, 0.0, "photo_edited")
    plain = _image(page_run, 0.0, "photo_unedited")
    assert np.abs(edited - plain).max() <= 1
    assert np.abs(plain - hand_wired["photo_unedited_image"]).max() <= 1


def _checkpoint() -> Path:
    from harness.checkpoints import SPECS, ensure_checkpoint  # noqa: PLC0415

    return ensure_checkpoint(SPECS[SD21].filename)


def test_node_specs_come_from_this_server(workflow_runner: WorkflowRunner) -> None:
    """The blueprints' inner node types all exist on the server the tests run against."""
    specs = node_specs(workflow_runner.server.object_info())
    for path in FILES:
        for n in _subgraph(_load(path))["nodes"]:
            assert n["type"] in specs, f"{path.stem}: {n['type']} is not defined"
