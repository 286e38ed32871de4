"""Must-show 1: the pack loads through ComfyUI's own loader, `main.py --quick-test-for-ci`
logs no import failure for it, and the real /object_info shows every node as specified."""

from __future__ import annotations

import asyncio
import os
import re
import sys
from pathlib import Path
from typing import Any

import pytest
from harness.comfy_runtime import PACK_NAME, ComfyRuntime
from harness.comfy_versions import COMPAT
from harness.server import ComfyServer

pytestmark = pytest.mark.comfy

CATEGORY = "latent/singular value edit"

# node id -> display name, output (type, name) pairs, input name -> expected spec subset.
EXPECTED: dict[str, dict[str, Any]] = {
    "LatentSVDDecompose": {
        "display": "Latent Singular Value Decompose",
        "outputs": [("LATENT_SVD", "latent_svd")],
        "required": {"latent": ("LATENT", {}), "rank": ("INT", {"default": 0, "min": 0})},
        "optional": {},
    },
    "LatentRecompose": {
        "display": "Latent Recompose (from singular values)",
        "outputs": [("LATENT", "LATENT")],
        "required": {"latent_svd": ("LATENT_SVD", {})},
        "optional": {},
    },
    "LearnAttributeFromPair": {
        "display": "Learn Attribute from Pair (singular values)",
        "outputs": [("SVD_ATTRIBUTE", "attribute"), ("IMAGE", "loss_curve")],
        "required": {
            "source": ("LATENT_SVD", {}),
            "target": ("LATENT_SVD", {}),
            "k_source": ("INT", {"default": 16, "min": 1}),
            "k_target": ("INT", {"default": 16, "min": 1}),
            "keep_tail": ("BOOLEAN", {"default": True}),
            "steps": ("INT", {"min": 1}),
            "learning_rate": ("FLOAT", {}),
            "w_target": ("FLOAT", {"default": 1.0, "min": 0.0}),
            "w_source": ("FLOAT", {"default": 1.0, "min": 0.0}),
            "w_target_sv": ("FLOAT", {"default": 0.1, "min": 0.0}),
            "w_source_sv": ("FLOAT", {"default": 0.1, "min": 0.0}),
            "seed": ("INT", {"default": 0, "min": 0}),
            "hidden": ("INT", {"default": 128, "min": 1}),
            "name": ("STRING", {"default": "attribute"}),
        },
        "optional": {"reuse_reference": ("LATENT_SVD", {})},
    },
    "ApplySingularEdit": {
        "display": "Apply Singular Value Edit",
        "outputs": [("LATENT_SVD", "latent_svd")],
        "required": {
            "latent_svd": ("LATENT_SVD", {}),
            "attribute": ("SVD_ATTRIBUTE", {}),
            "strength": ("FLOAT", {"default": 1.0, "min": -10.0, "max": 10.0}),
        },
        "optional": {
            "local": ("BOOLEAN", {"default": True}),
            "target": ("LATENT_SVD", {}),
            "source_branch": ("LATENT_SVD", {}),
        },
    },
    "SaveSingularAttribute": {
        "display": "Save Singular Value Attribute",
        "outputs": [("STRING", "filename")],
        "required": {
            "attribute": ("SVD_ATTRIBUTE", {}),
            "filename": ("STRING", {"default": "attribute"}),
            "overwrite": ("BOOLEAN", {"default": False}),
        },
        "optional": {},
        "output_node": True,
    },
    "LoadSingularAttribute": {
        "display": "Load Singular Value Attribute",
        "outputs": [("SVD_ATTRIBUTE", "attribute"), ("STRING", "provenance")],
        "required": {"attribute_name": ("COMBO", {})},
        "optional": {},
    },
    "LoadTestWorld": {
        "display": "Load Test World",
        "outputs": [("MODEL", "MODEL"), ("CLIP", "CLIP"), ("VAE", "VAE")],
        "required": {"world": ("COMBO", {"default": "faces"})},
        "optional": {},
    },
    "ScaleSingularValues": {
        "display": "Scale Singular Values",
        "outputs": [("LATENT_SVD", "latent_svd")],
        "required": {
            "latent_svd": ("LATENT_SVD", {}),
            "indices": ("STRING", {"default": "0"}),
            "channels": ("STRING", {"default": ""}),
            "factor": ("FLOAT", {"default": 1.5}),
        },
        "optional": {},
    },
}


def _input_type(spec: list[Any]) -> str:
    kind = spec[0]
    return "COMBO" if isinstance(kind, list) else str(kind)


def test_pack_registers_through_comfyui_loader(comfy_runtime: ComfyRuntime) -> None:
    nodes = comfy_runtime.nodes
    # init_extra_nodes loaded our folder with nodes.load_custom_node: it records the module dir
    # and tags every class it registered with the custom_nodes module it came from.
    assert os.path.realpath(nodes.LOADED_MODULE_DIRS[PACK_NAME]) == os.path.realpath(
        Path(__file__).resolve().parents[2]
    )
    for node_id, spec in EXPECTED.items():
        cls = nodes.NODE_CLASS_MAPPINGS[node_id]
        assert cls.RELATIVE_PYTHON_MODULE == f"custom_nodes.{PACK_NAME}"
        assert nodes.NODE_DISPLAY_NAME_MAPPINGS[node_id] == spec["display"]

    # Loading the folder again through the public loader succeeds (the module is importable
    # as ComfyUI imports it); `ignore` keeps the registered classes in place.
    ok = asyncio.run(
        nodes.load_custom_node(comfy_runtime.pack_path, ignore=set(nodes.NODE_CLASS_MAPPINGS))
    )
    assert ok is True
    module = sys.modules[comfy_runtime.pack_path.replace(".", "_x_")]
    # Registered through the V3 entry point alone: a module that also defined
    # NODE_CLASS_MAPPINGS would be registered through that and its entry point ignored.
    assert not hasattr(module, "NODE_CLASS_MAPPINGS")
    extension = asyncio.run(module.comfy_entrypoint())
    listed = {cls.GET_SCHEMA().node_id for cls in asyncio.run(extension.get_node_list())}
    assert set(EXPECTED) <= listed
    assert listed == comfy_runtime.pack_node_ids()
    assert all(nodes.NODE_DISPLAY_NAME_MAPPINGS[node_id] for node_id in listed)
    # The model folder the save/load nodes use is registered.
    assert comfy_runtime.model_folder("svd_attributes") == (
        Path(comfy_runtime.folder_paths.models_dir) / "svd_attributes"
    )


@pytest.mark.slow
def test_quick_test_for_ci_logs_no_import_failure(quick_test_for_ci: Any) -> None:
    # The run was started in the background by the conftest fixture (same command a user's
    # CI would run): main.py --cpu --quick-test-for-ci --base-directory <tmp>.
    if quick_test_for_ci is None:
        pytest.skip("COMFYUI_PATH is not set (scripts/test.sh sets it)")
    rc, log = quick_test_for_ci.wait(timeout=400)
    assert rc == 0, log[-4000:]
    # Our folder as ComfyUI names it (the runtime's own cache path may contain PACK_NAME too).
    pack_path = str(quick_test_for_ci.base_dir / "custom_nodes" / PACK_NAME)
    pack_lines = [line for line in log.splitlines() if pack_path in line]
    # The import-times table lists every custom node folder it tried: ours must be there...
    assert any(
        re.search(r"\d+\.\d+ seconds: " + re.escape(pack_path) + "$", line) for line in pack_lines
    ), log[-4000:]
    # ...and nothing says it failed.
    bad = [line for line in pack_lines if "IMPORT FAILED" in line or "Cannot import" in line]
    assert not bad, "\n".join(bad) + "\n" + log[-4000:]
    # The runtime scripts/setup.sh builds imports the whole tree: no traceback at start-up
    # (a venv without torchaudio greeted every start with two, from the audio nodes).
    assert "Traceback" not in log and "Cannot import" not in log, log[-4000:]


@pytest.mark.slow
def test_object_info_shows_every_node(comfy_server: ComfyServer) -> None:
    info = comfy_server.object_info()
    for node_id, spec in EXPECTED.items():
        assert node_id in info, f"{node_id} missing from /object_info"
        node = info[node_id]
        assert node["display_name"] == spec["display"]
        assert node["category"] == CATEGORY
        assert node["python_module"] == f"custom_nodes.{PACK_NAME}"
        assert node["output_node"] is spec.get("output_node", False)
        # "SVD" means Stable Video Diffusion to ComfyUI users: names say "singular value".
        assert "singular value" in (node["display_name"] + node["description"]).lower()
        assert "SVD" not in node["display_name"]
        assert len(node["description"]) > 40

        assert list(zip(node["output"], node["output_name"], strict=True)) == spec["outputs"]
        assert all(isinstance(t, str) and t for t in node["output_tooltips"]), node_id

        for section in ("required", "optional"):
            got = node["input"].get(section, {})
            assert list(got) == list(spec[section]), f"{node_id} {section} inputs"
            for name, (kind, options) in spec[section].items():
                entry = got[name]
                assert _input_type(entry) == kind, f"{node_id}.{name}"
                opts = entry[1] if len(entry) > 1 else {}
                assert opts.get("tooltip"), f"{node_id}.{name} has no tooltip"
                for key, value in options.items():
                    assert opts.get(key) == value, f"{node_id}.{name}.{key}: {opts.get(key)}"


def test_every_output_has_an_explicit_display_name(comfy_runtime: ComfyRuntime) -> None:
    # Without one, 0.3.75 reports an output under its type and 0.33 under its id: the shipped
    # workflows could match only one of them.
    for node_id in comfy_runtime.pack_node_ids():
        schema = comfy_runtime.node_class(node_id).GET_SCHEMA()
        for output in schema.outputs:
            assert output.display_name, f"{node_id} output {output.id} has no display name"


def test_search_aliases_and_advanced_settings_where_the_version_has_them(
    comfy_runtime: ComfyRuntime,
) -> None:
    learn = comfy_runtime.node_class("LearnAttributeFromPair")
    required = learn.INPUT_TYPES()["required"]
    tucked = {name for name, spec in required.items() if len(spec) > 1 and spec[1].get("advanced")}
    if COMPAT.at_least_0_33:
        # The node search finds the pack by the method's words, not only by display names.
        for node_id in comfy_runtime.pack_node_ids():
            aliases = comfy_runtime.node_class(node_id).GET_SCHEMA().search_aliases or []
            assert {"SVD", "singular value decomposition", "AVI"} <= set(aliases), node_id
        assert tucked == {
            "keep_tail",
            "learning_rate",
            "w_target",
            "w_source",
            "w_target_sv",
            "w_source_sv",
            "seed",
            "hidden",
        }
    else:
        assert tucked == set()  # 0.3.75's API has no advanced inputs
    # What a user sets for every attribute stays in view.
    assert {"source", "target", "k_source", "k_target", "steps", "name"}.isdisjoint(tucked)
