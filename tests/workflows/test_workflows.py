"""Every example workflow is a valid UI graph for ComfyUI 0.3.75 + this pack, and runs end to end
on a real ComfyUI server (only the size/steps widgets listed in conftest.py reduced)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from harness.checkpoints import SPECS
from harness.workflow_format import FRONTEND_ONLY, NodeSpec, validate_ui_workflow, widget_map
from PIL import Image
from workflows.support import (
    REDUCED_SIZE,
    RUN_SDXL,
    WORKFLOW_DIR,
    WORKFLOW_FILES,
    WorkflowRunner,
    checkpoints_of,
    load_workflow,
    photos_of,
    reduce_workflow,
    runnable_in_ci,
)

pytestmark = [pytest.mark.comfy]

EXPECTED = {
    "learn_attribute_from_prompt_pair": "v2-1_512-ema-pruned.safetensors",
    "apply_saved_attribute": "v2-1_512-ema-pruned.safetensors",
    "explore_singular_values": "v2-1_512-ema-pruned.safetensors",
    "analysis_figures": "v2-1_512-ema-pruned.safetensors",
    "learn_attribute_from_prompt_pair_sdxl": "sd_xl_base_1.0.safetensors",
    "edit_photo_with_attribute": "v2-1_512-ema-pruned.safetensors",
}
NATIVE = {"v2-1_512-ema-pruned.safetensors": 512, "sd_xl_base_1.0.safetensors": 1024}
PAPER = {"steps": 30, "k": 9, "delta": 3}
ANALYSIS_FIGURES = {"LatentSingularSpectrum", "SingularComponentsPreview", "LatentSubspaceDistance"}


def _ids(paths: list[Path]) -> list[str]:
    return [p.stem for p in paths]


def _saved_attribute_files() -> set[str]:
    names = set()
    for path in WORKFLOW_FILES:
        for node in load_workflow(path)["nodes"]:
            if node["type"] == "SaveSingularAttribute":
                names.add(f"{node['widgets_values'][0]}.safetensors")
    return names


def test_the_issue_workflows_are_shipped() -> None:
    assert set(EXPECTED) <= {p.stem for p in WORKFLOW_FILES}
    for name, ckpt in EXPECTED.items():
        assert checkpoints_of(load_workflow(WORKFLOW_DIR / f"{name}.json")) == {ckpt}


@pytest.mark.parametrize("path", WORKFLOW_FILES, ids=_ids(WORKFLOW_FILES))
def test_workflow_is_a_valid_ui_graph(path: Path, specs: dict[str, NodeSpec]) -> None:
    wf = load_workflow(path)
    provided = set(SPECS) | _saved_attribute_files() | photos_of(wf)
    assert validate_ui_workflow(wf, specs, provided) == []
    types = {n["type"] for n in wf["nodes"]}
    assert types & FRONTEND_ONLY, "every example explains its knobs in Note nodes"
    assert any(specs[t].is_pack for t in types - FRONTEND_ONLY), "uses this pack's nodes"
    # A file combo that the server does not list must be one the tests build or a workflow saves.
    for node in wf["nodes"]:
        if node["type"] == "EmptyLatentImage":
            w = widget_map(node, specs["EmptyLatentImage"])
            (ckpt,) = checkpoints_of(wf)
            assert w["width"] == w["height"] == NATIVE[ckpt], "ships at the model's native size"


def _sampler_steps(wf: dict[str, Any], spec: NodeSpec) -> list[dict[str, Any]]:
    return [widget_map(n, spec) for n in wf["nodes"] if n["type"] == "KSamplerAdvanced"]


@pytest.mark.parametrize(
    "name",
    [
        "learn_attribute_from_prompt_pair",
        "learn_attribute_from_prompt_pair_sdxl",
        "apply_saved_attribute",
    ],
)
def test_paper_pipeline_settings(name: str, specs: dict[str, NodeSpec]) -> None:
    """30 steps, source to k = 9 with leftover noise, target to k + 3, continuation from k
    without new noise and with the source prompt, identical seeds in every sampler."""
    wf = load_workflow(WORKFLOW_DIR / f"{name}.json")
    samplers = _sampler_steps(wf, specs["KSamplerAdvanced"])
    assert {s["steps"] for s in samplers} == {PAPER["steps"]}
    assert len({s["noise_seed"] for s in samplers}) == 1
    firsts = sorted(s["end_at_step"] for s in samplers if s["start_at_step"] == 0)
    assert firsts == [PAPER["k"], PAPER["k"] + PAPER["delta"]]
    assert all(
        s["add_noise"] == "enable" and s["return_with_leftover_noise"] == "enable"
        for s in samplers
        if s["start_at_step"] == 0
    )
    rest = [s for s in samplers if s["start_at_step"] != 0]
    assert rest and all(
        s["start_at_step"] == PAPER["k"]
        and s["add_noise"] == "disable"
        and s["end_at_step"] >= PAPER["steps"]
        for s in rest
    )
    links = {link[0]: link for link in wf["links"]}
    by_id = {n["id"]: n for n in wf["nodes"]}
    source_text = None
    for n in wf["nodes"]:
        if n["type"] != "KSamplerAdvanced":
            continue
        w = widget_map(n, specs["KSamplerAdvanced"])
        pos = next(i for i in n["inputs"] if i["name"] == "positive")
        enc = by_id[links[pos["link"]][1]]
        if w["start_at_step"] != 0 or w["end_at_step"] == PAPER["k"]:
            source_text = source_text or enc["widgets_values"][0]
            assert enc["widgets_values"][0] == source_text, "continuation uses the source prompt"


def test_reduction_changes_only_size_and_steps(specs: dict[str, NodeSpec]) -> None:
    allowed = {
        ("EmptyLatentImage", "width"),
        ("EmptyLatentImage", "height"),
        ("EmptyLatentImage", "batch_size"),
        ("KSamplerAdvanced", "steps"),
        ("KSamplerAdvanced", "start_at_step"),
        ("KSamplerAdvanced", "end_at_step"),
        ("LearnAttributeFromPair", "steps"),
        ("SingularEditSteps", "steps"),
        ("SingularEditSteps", "edit_step"),
        ("SingularEditSteps", "delta"),
    }
    for path in WORKFLOW_FILES:
        wf = load_workflow(path)
        small = reduce_workflow(wf, specs)
        assert small["links"] == wf["links"]
        for a, b in zip(wf["nodes"], small["nodes"], strict=True):
            if a["type"] in FRONTEND_ONLY:
                assert a == b
                continue
            wa, wb = widget_map(a, specs[a["type"]]), widget_map(b, specs[b["type"]])
            changed = {(a["type"], k) for k in wa if wa[k] != wb[k]}
            assert changed <= allowed, (path.stem, changed - allowed)


RUN_FILES = [p for p in WORKFLOW_FILES if runnable_in_ci(p)]


def test_ci_runs_every_sd21_workflow() -> None:
    """Only SDXL ones may be left to LSE_RUN_SDXL=1; everything else runs in CI."""
    left = {p.stem for p in WORKFLOW_FILES} - {p.stem for p in RUN_FILES}
    assert (
        all(
            checkpoints_of(load_workflow(WORKFLOW_DIR / f"{n}.json"))
            == {"sd_xl_base_1.0.safetensors"}
            for n in left
        )
        or RUN_SDXL
    )


def _check_image(path: Path) -> tuple[int, int]:
    with Image.open(path) as im:
        arr = np.asarray(im.convert("RGB"), dtype=np.float32)
    assert np.isfinite(arr).all()
    # NaN latents decode to black (PNG cannot hold NaN): a flat image means a broken run.
    assert arr.std() > 0.5, f"{path.name} is flat (std {arr.std():.3f}): NaN or a dead graph"
    return arr.shape[0], arr.shape[1]


@pytest.mark.slow
@pytest.mark.parametrize("path", RUN_FILES, ids=_ids(RUN_FILES))
def test_workflow_runs_end_to_end(path: Path, workflow_runner: WorkflowRunner) -> None:
    run = workflow_runner.run(path.stem)
    specs = workflow_runner.specs
    output_nodes = {
        nid for nid, node in run.prompt.items() if specs[node["class_type"]].output_node
    }
    assert output_nodes, "a workflow must save something"
    for nid in output_nodes:
        node = run.prompt[nid]
        kind = node["class_type"]
        if kind in ("SaveImage", "PreviewImage"):
            files = run.files.get(nid, [])
            assert files, f"{kind} {nid} produced no image"
            batch = _batch_of(run.prompt, nid)
            if batch is not None:  # images decoded from sampled latents: count and size known
                assert len(files) == batch
            for f in files:
                assert f.is_file()
                h, w = _check_image(f)
                if batch is not None:
                    assert h == REDUCED_SIZE and w in (REDUCED_SIZE, 2 * REDUCED_SIZE + 8)
        elif kind == "SaveSingularAttribute":
            _check_attribute(workflow_runner, node["inputs"]["filename"])
        elif kind in ANALYSIS_FIGURES:
            # Figure nodes preview exactly one width x height plot (a temp file).
            files = run.files.get(nid, [])
            assert len(files) == 1 and files[0].is_file(), f"{kind} {nid} showed no figure"
            with Image.open(files[0]) as im:
                assert im.size == (node["inputs"]["width"], node["inputs"]["height"])
        else:  # any other output node must at least have reported a result
            assert nid in run.history.get("outputs", {}), f"{kind} {nid} reported nothing"


def _batch_of(prompt: dict[str, Any], nid: str) -> int | None:
    """How many images an output node gets when they are decoded latents of the workflow's own
    EmptyLatentImage (through samplers, LatentBatch, ImageStitch); None for anything else
    (e.g. a plot an analysis node draws)."""
    passthrough = {
        "VAEDecode": "samples",
        "KSamplerAdvanced": "latent_image",
        "LatentRecompose": "latent_svd",
        "LatentSVDDecompose": "latent",
        "ApplySingularEdit": "latent_svd",
        "ScaleSingularValues": "latent_svd",
        "ImageStitch": "image1",
        "SaveImage": "images",
        "PreviewImage": "images",
    }

    def count(node_id: str) -> int | None:
        node = prompt[node_id]
        kind, inputs = node["class_type"], node["inputs"]
        if kind == "EmptyLatentImage":
            return int(inputs["batch_size"])
        if kind == "LatentBatch":
            a, b = count(inputs["samples1"][0]), count(inputs["samples2"][0])
            return None if a is None or b is None else a + b
        if kind == "AttributeStrengthSweep":  # one latent per strength per item
            n = count(inputs["latent_svd"][0])
            return None if n is None else n * len(inputs["strengths"].replace(",", " ").split())
        key = passthrough.get(kind)
        if key is None or not isinstance(inputs.get(key), list):
            return None
        return count(inputs[key][0])

    return count(nid)


def _check_attribute(runner: WorkflowRunner, filename: str) -> None:
    from svd_core import load_attribute  # noqa: PLC0415

    path = runner.attribute_dir() / f"{filename}.safetensors"
    assert path.is_file(), f"{path} was not written"
    attr = load_attribute(path)
    assert attr.channels == 4
    assert np.isfinite(float(attr.final_loss))
    meta = json.loads(json.dumps(attr.config.to_dict()))
    assert meta["ks"] >= 1


def _broken(wf: dict[str, Any], how: str, specs: dict[str, NodeSpec]) -> dict[str, Any]:
    bad = json.loads(json.dumps(wf))
    ks = next(n for n in bad["nodes"] if n["type"] == "KSamplerAdvanced")
    if how == "widget count":
        ks["widgets_values"].pop()
    elif how == "out of range":
        ks["widgets_values"][3] = 0  # steps: min 1
    elif how == "bad combo":
        ks["widgets_values"][5] = "no_such_sampler"
    elif how == "bad control":
        ks["widgets_values"][2] = "sometimes"
    elif how == "dangling link":
        bad["links"][0][3] = 999
    elif how == "link type":
        bad["links"][0][5] = "IMAGE"
    elif how == "unknown type":
        ks["type"] = "KSamplerAdvancedPlus"
    elif how == "unconnected":
        inp = next(i for i in ks["inputs"] if i["name"] == "model")
        bad["links"] = [link for link in bad["links"] if link[0] != inp["link"]]
        inp["link"] = None
    return bad


@pytest.mark.parametrize(
    "how",
    [
        "widget count",
        "out of range",
        "bad combo",
        "bad control",
        "dangling link",
        "link type",
        "unknown type",
        "unconnected",
    ],
)
def test_validator_catches_broken_graphs(how: str, specs: dict[str, NodeSpec]) -> None:
    wf = load_workflow(WORKFLOW_DIR / "learn_attribute_from_prompt_pair.json")
    provided = set(SPECS) | _saved_attribute_files()
    assert validate_ui_workflow(wf, specs, provided) == []
    assert validate_ui_workflow(_broken(wf, how, specs), specs, provided) != []
