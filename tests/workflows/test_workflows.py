"""Every example workflow is a valid UI graph for ComfyUI 0.3.75 + this pack, and runs end to end
on a real ComfyUI server (only the size/steps widgets listed in conftest.py reduced)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from harness.build_workflows import build_all
from harness.checkpoints import SPECS
from harness.tensors import rel_error
from harness.workflow_format import FRONTEND_ONLY, NodeSpec, validate_ui_workflow, widget_map
from PIL import Image
from safetensors.torch import load_file
from workflows.support import (
    REDUCED_SIZE,
    RUN_SDXL,
    RUN_TIMEOUT_S,
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
#: The test worlds' Empty Latent Image size (latents of 16 and 32, the sides they learned).
WORLD_NATIVE = {"faces": 128, "placed": 256}


def native_size(wf: dict[str, Any]) -> int:
    """The size a workflow's model was trained at: its checkpoint's or its test world's."""
    worlds = {n["widgets_values"][0] for n in wf["nodes"] if n["type"] == "LoadTestWorld"}
    (model,) = checkpoints_of(wf) | worlds
    return NATIVE[model] if model in NATIVE else WORLD_NATIVE[model]


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


def test_workflow_files_match_the_live_node_definitions(
    specs: dict[str, NodeSpec], tmp_path: Path
) -> None:
    """The shipped workflows are what build_workflows.py makes from this server's nodes. They
    are written on the default ComfyUI; a newer one may give a node outputs the file lacks
    (0.33 gives Save/Preview Image an IMAGE output), which load unlinked: only those may differ.
    """
    written = build_all(specs, tmp_path)
    assert sorted(written) == sorted(p.stem for p in WORKFLOW_FILES)
    for path in written.values():
        stale = f"{path.name} is stale: run tests/harness/build_workflows.py"
        shipped, built = load_workflow(WORKFLOW_DIR / path.name), load_workflow(path)
        added = 0
        for mine, live in zip(shipped["nodes"], built["nodes"], strict=True):
            if not mine["outputs"] and live["outputs"]:
                assert not any(o.get("links") for o in live["outputs"]), stale
                live["outputs"], added = [], added + 1
        assert built == shipped, stale
        if not added:  # the same node definitions: the same bytes
            assert path.read_text() == (WORKFLOW_DIR / path.name).read_text(), stale


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
            assert w["width"] == w["height"] == native_size(wf), "ships at the model's native size"


# What the hand-wired examples ship: the paper's 30 steps and k = 9, branches of 2 steps.
SHIPPED = {"steps": 30, "k": 9, "delta": 2}
BRANCHED = [
    "learn_attribute_from_prompt_pair",
    "learn_attribute_from_prompt_pair_sdxl",
    "apply_saved_attribute",
    "edit_photo_with_attribute",
]


class UIGraph:
    """Follows the links of a UI-format workflow: which node feeds an input."""

    def __init__(self, wf: dict[str, Any], specs: dict[str, NodeSpec]) -> None:
        self.wf, self.specs = wf, specs
        self.by_id = {n["id"]: n for n in wf["nodes"]}
        self.links = {link[0]: link for link in wf["links"]}

    def of_type(self, kind: str) -> list[dict[str, Any]]:
        return [n for n in self.wf["nodes"] if n["type"] == kind]

    def feeds(self, node: dict[str, Any], input_name: str) -> dict[str, Any] | None:
        inp = next(i for i in node["inputs"] if i["name"] == input_name)
        return None if inp["link"] is None else self.by_id[self.links[inp["link"]][1]]

    def latent_of(self, decomposition: dict[str, Any] | None) -> dict[str, Any]:
        """The node whose latent a 'Latent Singular Value Decompose' decomposes."""
        assert decomposition is not None and decomposition["type"] == "LatentSVDDecompose"
        node = self.feeds(decomposition, "latent")
        assert node is not None
        return node

    def widgets(self, node: dict[str, Any]) -> dict[str, Any]:
        return widget_map(node, self.specs[node["type"]])


@pytest.mark.parametrize("name", BRANCHED)
def test_the_edit_is_wired_between_noise_matched_branches(
    name: str, specs: dict[str, NodeSpec]
) -> None:
    """x at step k; the source and the target prompt each continued from x for delta steps
    (no new noise); Learn on the two branches; Apply, local, to the source branch with target =
    the target branch and source_branch = the source branch; the edited and the unedited
    source branch continue from k + delta with the source prompt; one seed and 30 steps in
    every sampler."""
    g = UIGraph(load_workflow(WORKFLOW_DIR / f"{name}.json"), specs)
    (apply_,) = g.of_type("ApplySingularEdit")
    assert g.feeds(apply_, "latent_svd") is g.feeds(apply_, "source_branch")
    assert g.widgets(apply_)["local"] is True
    source_branch = g.latent_of(g.feeds(apply_, "source_branch"))
    x = g.feeds(source_branch, "latent_image")
    k, delta = SHIPPED["k"], SHIPPED["delta"]
    for side, title in (("source_branch", "Source prompt"), ("target", "Target prompt")):
        branch = g.latent_of(g.feeds(apply_, side))
        w = g.widgets(branch)
        assert branch["type"] == "KSamplerAdvanced", side
        assert (w["start_at_step"], w["end_at_step"]) == (k, k + delta), side
        assert w["add_noise"] == "disable" and w["return_with_leftover_noise"] == "enable"
        assert g.feeds(branch, "latent_image") is x, f"{side} does not start from x"
        assert g.feeds(branch, "positive")["title"].startswith(title), side
    for learn in g.of_type("LearnAttributeFromPair"):
        assert g.feeds(learn, "source") is g.feeds(apply_, "source_branch")
        assert g.feeds(learn, "target") is g.feeds(apply_, "target")
    if x["type"] == "KSamplerAdvanced":  # generated: the source prompt from step 0 to k
        w = g.widgets(x)
        assert (w["start_at_step"], w["end_at_step"], w["add_noise"]) == (0, k, "enable")
        assert g.feeds(x, "positive")["title"].startswith("Source prompt")
    else:  # a photo noised to the level of step k
        assert x["type"] == "AddNoise"
    (rec,) = g.of_type("LatentRecompose")
    assert g.feeds(rec, "latent_svd") is apply_
    continued = {}
    for s in g.of_type("KSamplerAdvanced"):
        w = g.widgets(s)
        if w["end_at_step"] >= SHIPPED["steps"]:
            assert (w["start_at_step"], w["add_noise"]) == (k + delta, "disable")
            assert g.feeds(s, "positive")["title"].startswith("Source prompt")
            continued[g.feeds(s, "latent_image")["id"]] = s
    assert set(continued) == {rec["id"], source_branch["id"]}, "edited and unedited"
    samplers = [g.widgets(s) for s in g.of_type("KSamplerAdvanced")]
    assert {s["steps"] for s in samplers} == {SHIPPED["steps"]}
    assert len({s["noise_seed"] for s in samplers}) == 1


@pytest.mark.parametrize(
    "name", ["learn_attribute_from_prompt_pair", "learn_attribute_from_prompt_pair_sdxl"]
)
def test_the_learn_workflows_give_learn_a_reuse_reference(
    name: str, specs: dict[str, NodeSpec]
) -> None:
    """Learn's reuse_reference is the decomposed source branch continued by the source prompt
    from k + delta to Edit Steps' reuse step (no new noise, leftover noise kept): the saved
    attribute then applies to new seeds without a target run."""
    from svd_core.steps import reuse_step  # noqa: PLC0415

    g = UIGraph(load_workflow(WORKFLOW_DIR / f"{name}.json"), specs)
    (learn,) = g.of_type("LearnAttributeFromPair")
    reference = g.latent_of(g.feeds(learn, "reuse_reference"))
    target_step = SHIPPED["k"] + SHIPPED["delta"]
    w = g.widgets(reference)
    assert reference["type"] == "KSamplerAdvanced"
    assert g.feeds(reference, "latent_image") is g.latent_of(g.feeds(learn, "source"))
    assert g.feeds(reference, "positive")["title"].startswith("Source prompt")
    assert (w["start_at_step"], w["end_at_step"]) == (
        target_step,
        reuse_step(SHIPPED["steps"], target_step),
    )
    assert (w["add_noise"], w["return_with_leftover_noise"]) == ("disable", "enable")


def test_the_analysis_figures_keep_the_papers_pairing(specs: dict[str, NodeSpec]) -> None:
    """The paper's figures: the target prompt sampled from step 0 to k + 3, no branches."""
    g = UIGraph(load_workflow(WORKFLOW_DIR / "analysis_figures.json"), specs)
    (apply_,) = g.of_type("ApplySingularEdit")
    assert g.feeds(apply_, "source_branch") is None
    target = g.widgets(g.latent_of(g.feeds(apply_, "target")))
    source = g.widgets(g.latent_of(g.feeds(apply_, "latent_svd")))
    assert (source["start_at_step"], source["end_at_step"]) == (0, 9)
    assert (target["start_at_step"], target["end_at_step"]) == (0, 12)


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


@dataclass
class BranchedRun:
    """The reduced learn workflow at one strength, with its latents saved: x at step k, the
    two branches, the recomposed edit at k + delta, the edited and the unedited final latent."""

    latents: dict[str, torch.Tensor]
    attribute_path: Path


def _run_learn_workflow(runner: WorkflowRunner, strength: float) -> BranchedRun:
    name = "learn_attribute_from_prompt_pair"
    runner.install_checkpoints(load_workflow(WORKFLOW_DIR / f"{name}.json"))
    prompt = runner.api_prompt(name)
    (apply_id,) = [k for k, v in prompt.items() if v["class_type"] == "ApplySingularEdit"]
    (rec_id,) = [k for k, v in prompt.items() if v["class_type"] == "LatentRecompose"]
    apply_ = prompt[apply_id]["inputs"]
    apply_["strength"] = strength

    def latent_of(link: list[Any]) -> str:
        return prompt[link[0]]["inputs"]["latent"][0]

    source_branch = latent_of(apply_["source_branch"])
    wanted = {
        "x": prompt[source_branch]["inputs"]["latent_image"][0],
        "source_branch": source_branch,
        "target_branch": latent_of(apply_["target"]),
        "recomposed": rec_id,
    }
    for nid, node in prompt.items():
        inputs = node["inputs"]
        if node["class_type"] == "KSamplerAdvanced" and inputs["end_at_step"] >= inputs["steps"]:
            what = "edited" if inputs["latent_image"][0] == rec_id else "unedited"
            wanted[what] = nid
    assert len(wanted) == 6
    saves = {}
    for i, (what, nid) in enumerate(wanted.items()):
        saves[what] = f"95{i}"
        prompt[saves[what]] = {
            "class_type": "SaveLatent",
            "inputs": {"samples": [nid, 0], "filename_prefix": f"branched/{what}_{strength}"},
        }
    entry = runner.server.run_prompt(prompt, timeout=RUN_TIMEOUT_S)
    files = runner.server.output_files(entry)
    latents = {}
    for what, save_id in saves.items():
        (path,) = files[save_id]
        latents[what] = load_file(str(path))["latent_tensor"]
    (keep,) = [v for v in prompt.values() if v["class_type"] == "SaveSingularAttribute"]
    path = runner.attribute_dir() / f"{keep['inputs']['filename']}.safetensors"
    return BranchedRun(latents, path)


@pytest.fixture(scope="module")
def branched_runs(workflow_runner: WorkflowRunner) -> dict[float, BranchedRun]:
    return {s: _run_learn_workflow(workflow_runner, s) for s in (0.0, 1.5)}


@pytest.mark.slow
def test_branched_learn_workflow_at_strength_0_is_the_unedited_generation(
    branched_runs: dict[float, BranchedRun],
) -> None:
    """Decompose -> apply(0) -> recompose hands the sampler the source branch itself, so the
    edited image is the unedited split generation (to 1e-4), although both branches were
    sampled."""
    got = branched_runs[0.0].latents
    assert rel_error(got["recomposed"], got["source_branch"]) < 1e-5
    assert torch.isfinite(got["unedited"]).all() and got["unedited"].abs().max() > 0
    assert rel_error(got["edited"], got["unedited"]) < 1e-4
    # The branches ran: delta more steps than x, and apart from each other (the prompts).
    assert rel_error(got["source_branch"], got["x"]) > 1e-2
    assert rel_error(got["target_branch"], got["source_branch"]) > 1e-3


@pytest.mark.slow
def test_branched_learn_workflow_adds_the_local_edit_to_the_source_branch(
    branched_runs: dict[float, BranchedRun],
) -> None:
    """At strength 1.5 the latent handed on at step k + delta is
    x_s + 1.5 * m * (y(x_s, z_t) - x_s), m = branch_mask(z_t - x_s), with the attribute the
    workflow saved; it records the branched pairing and the reduced k, delta."""
    from svd_core import branch_mask, decompose, edit_delta, load_attribute  # noqa: PLC0415

    run = branched_runs[1.5]
    got = run.latents
    attribute = load_attribute(run.attribute_path)
    assert attribute.pair_mode == "branched"
    assert (attribute.step, attribute.delta) == (1, 1)  # k = 9, k + delta = 11 -> 1, 2 of 3
    # its reuse reference, from the source branch continued to the reuse step (18 of 30 -> 2)
    assert attribute.reuse_references is not None and attribute.reuse_step == 2
    edit = edit_delta(decompose(got["source_branch"]), attribute, decompose(got["target_branch"]))
    mask = branch_mask(got["target_branch"] - got["source_branch"])
    assert 0.1 < float(mask.mean()) < 0.9  # local: some of the latent is left as it was
    assert rel_error(got["recomposed"], got["source_branch"] + 1.5 * mask * edit) < 1e-4
    # Not the paper's edit of x itself with the same target: the source branch is what counts.
    paper = edit_delta(decompose(got["x"]), attribute, decompose(got["target_branch"]))
    assert rel_error(edit, paper) > 1e-2
    assert rel_error(got["edited"], got["unedited"]) > 1e-3
    # The unedited generation does not depend on the strength.
    assert torch.equal(got["unedited"], branched_runs[0.0].latents["unedited"])
