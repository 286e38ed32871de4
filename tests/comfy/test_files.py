"""Must-show 3: Save then Load through the nodes returns an equal attribute; unsafe file names
are refused with a clear error; an existing file is only replaced when asked."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest
import torch
from harness.comfy_runtime import ComfyRuntime
from harness.graphs import IDS, EditSettings, edit_workflow, node

pytestmark = pytest.mark.comfy

SETTINGS = dataclasses.replace(EditSettings(), learn_steps=25, attribute_name="round trip")
SAVE = "Save Singular Value Attribute"


def _save_graph(filename: str, overwrite: bool = False) -> dict[str, Any]:
    graph = edit_workflow(SETTINGS, reference=False)
    # Only what the learn node needs, plus the save node.
    for key in (IDS.apply, IDS.recompose, IDS.final, IDS.save_final):
        del graph[key]
    graph["60"] = node(
        "SaveSingularAttribute", attribute=[IDS.learn, 0], filename=filename, overwrite=overwrite
    )
    return graph


def _assert_equal_attributes(a: Any, b: Any) -> None:
    assert a is not b
    for field in dataclasses.fields(a):
        x, y = getattr(a, field.name), getattr(b, field.name)
        if isinstance(x, torch.Tensor):
            assert torch.equal(x, y), field.name
        elif isinstance(x, dict):
            assert set(x) == set(y), field.name
            for key in x:
                assert torch.equal(x[key], y[key]), f"{field.name}[{key}]"
        else:
            assert x == y, field.name


def test_save_then_load_returns_an_equal_attribute(comfy_runtime: ComfyRuntime) -> None:
    folder = comfy_runtime.model_folder("svd_attributes")
    saved = comfy_runtime.run_prompt(
        _save_graph("smile-v1", overwrite=True), outputs=[IDS.learn, "60"]
    )
    assert saved.success, saved.error_message()
    assert saved.output("60") == ("smile-v1.safetensors",)
    assert list(saved.ui["60"]["text"]) == ["saved models/svd_attributes/smile-v1.safetensors"]
    assert (folder / "smile-v1.safetensors").is_file()
    learned = saved.output(IDS.learn)[0]

    # The load node lists the file (its dropdown is ComfyUI's folder listing)...
    schema = comfy_runtime.node_class("LoadSingularAttribute").INPUT_TYPES()
    assert "smile-v1.safetensors" in schema["required"]["attribute_name"][1]["options"]
    # ...and loads it; saving the loaded one again gives an output node to run the prompt.
    load_graph = {
        "1": node("LoadSingularAttribute", attribute_name="smile-v1.safetensors"),
        "2": node(
            "SaveSingularAttribute", attribute=["1", 0], filename="smile-v1 copy", overwrite=True
        ),
    }
    loaded = comfy_runtime.run_prompt(load_graph, outputs=["1"])
    assert loaded.success, loaded.error_message()
    _assert_equal_attributes(loaded.output("1")[0], learned)
    assert (folder / "smile-v1 copy.safetensors").is_file()


def test_loaded_attribute_edits_like_the_learned_one(comfy_runtime: ComfyRuntime) -> None:
    comfy_runtime.run_prompt(_save_graph("edit-check", overwrite=True))
    graph = edit_workflow(dataclasses.replace(SETTINGS, strength=1.0), reference=False)
    learned = comfy_runtime.run_prompt(graph, outputs=[IDS.recompose])
    graph["70"] = node("LoadSingularAttribute", attribute_name="edit-check.safetensors")
    graph[IDS.apply]["inputs"]["attribute"] = ["70", 0]
    loaded = comfy_runtime.run_prompt(graph, outputs=[IDS.recompose])
    assert learned.success and loaded.success, loaded.error_message()
    assert torch.equal(
        learned.output(IDS.recompose)[0]["samples"], loaded.output(IDS.recompose)[0]["samples"]
    )


@pytest.mark.parametrize(
    "bad",
    [
        "../evil",
        "..",
        "a/b",
        "sub\\name",
        "/tmp/abs",
        "C:evil",
        ".hidden",
        "",
        "   ",
        "bad|name",
        "new\nline",
    ],
)
def test_unsafe_filenames_are_refused(comfy_runtime: ComfyRuntime, bad: str) -> None:
    base = comfy_runtime.base_dir
    before = sorted(p for p in base.rglob("*") if p.is_file())
    result = comfy_runtime.run_prompt(_save_graph(bad, overwrite=True))
    assert not result.success
    err = result.error()
    assert err is not None and err["node_type"] == "SaveSingularAttribute"
    message = err["exception_message"]
    assert message.startswith(SAVE + ":"), message
    assert "filename" in message and ("use a plain name" in message or "Please" in message)
    after = sorted(p for p in base.rglob("*") if p.is_file())
    new = [p for p in after if p not in before and p.suffix == ".safetensors"]
    assert not new, f"a file was written for {bad!r}: {new}"
    assert not (base.parent / "evil.safetensors").exists()


def test_existing_file_is_kept_unless_overwrite(comfy_runtime: ComfyRuntime) -> None:
    path: Path = comfy_runtime.model_folder("svd_attributes") / "keep-me.safetensors"
    first = comfy_runtime.run_prompt(_save_graph("keep-me", overwrite=True))
    assert first.success, first.error_message()
    content = path.read_bytes()
    again = comfy_runtime.run_prompt(_save_graph("keep-me.safetensors", overwrite=False))
    assert not again.success
    assert "already exists" in again.error()["exception_message"]
    assert "overwrite" in again.error()["exception_message"]
    assert path.read_bytes() == content


def test_damaged_file_gives_a_clear_load_error(comfy_runtime: ComfyRuntime) -> None:
    folder = comfy_runtime.model_folder("svd_attributes")
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "damaged.safetensors").write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{not json}")
    graph = {
        "1": node("LoadSingularAttribute", attribute_name="damaged.safetensors"),
        "2": node("SaveSingularAttribute", attribute=["1", 0], filename="never", overwrite=True),
    }
    result = comfy_runtime.run_prompt(graph)
    assert not result.success
    err = result.error()
    assert err["node_type"] == "LoadSingularAttribute"
    assert err["exception_message"].startswith("Load Singular Value Attribute:")
    assert not (folder / "never.safetensors").exists()


def _load_graph(filename: str) -> dict[str, Any]:
    """Load ``filename``; saving a copy gives the prompt an output node."""
    return {
        "1": node("LoadSingularAttribute", attribute_name=filename),
        "2": node(
            "SaveSingularAttribute", attribute=["1", 0], filename="loaded copy", overwrite=True
        ),
    }


def test_the_prompt_pair_is_recorded_and_shown_on_load(comfy_runtime: ComfyRuntime) -> None:
    saved = comfy_runtime.run_prompt(
        _save_graph("with-prompts", overwrite=True), outputs=[IDS.learn]
    )
    assert saved.success, saved.error_message()
    learned = saved.output(IDS.learn)[0]
    # Read off the graph: the texts feeding the two samplers, and their end steps.
    assert learned.source_prompt == SETTINGS.source_prompt
    assert learned.target_prompt == SETTINGS.target_prompt
    assert (learned.step, learned.delta) == (SETTINGS.k, SETTINGS.delta)

    loaded = comfy_runtime.run_prompt(_load_graph("with-prompts.safetensors"), outputs=["1"])
    assert loaded.success, loaded.error_message()
    attribute, text = loaded.output("1")
    assert (attribute.source_prompt, attribute.target_prompt) == (
        SETTINGS.source_prompt,
        SETTINGS.target_prompt,
    )
    assert f"source prompt: {SETTINGS.source_prompt}" in text
    assert f"target prompt: {SETTINGS.target_prompt}" in text
    assert f"edit step k = {SETTINGS.k}, target at k +{SETTINGS.delta}" in text
    assert list(loaded.ui["1"]["text"]) == [text]  # shown on the node too


def test_a_file_written_before_prompts_were_recorded_still_loads(
    comfy_runtime: ComfyRuntime,
) -> None:
    # Written by the pack before the learn node read the prompts (same format version 1).
    old = Path(__file__).with_name("data") / "attribute_v1_no_prompts.safetensors"
    folder = comfy_runtime.model_folder("svd_attributes")
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "from-before.safetensors").write_bytes(old.read_bytes())
    loaded = comfy_runtime.run_prompt(_load_graph("from-before.safetensors"), outputs=["1"])
    assert loaded.success, loaded.error_message()
    attribute, text = loaded.output("1")
    assert attribute.name == "written before prompts were recorded"
    assert (attribute.source_prompt, attribute.target_prompt) == ("", "")
    assert attribute.step is None and attribute.delta is None
    assert "source prompt: (not recorded)" in text and "edit step" not in text
    assert "learned on 4-channel 8x8 latents from 1 pair(s)" in text


def test_a_file_gone_missing_is_explained_before_anything_runs(comfy_runtime: ComfyRuntime) -> None:
    # A workflow chose a file that was listed once and has since been removed: the check runs at
    # validation on every ComfyUI version (0.33 checks dropdown values itself, before any node
    # runs) and says the fix, not ComfyUI's bare "Value not in list".
    folder = comfy_runtime.model_folder("svd_attributes")
    folder.mkdir(parents=True, exist_ok=True)
    gone = folder / "gone.safetensors"
    gone.write_bytes(b"listed once")
    schema = comfy_runtime.node_class("LoadSingularAttribute").INPUT_TYPES()
    assert "gone.safetensors" in schema["required"]["attribute_name"][1]["options"]
    gone.unlink()
    graph = {
        "1": node("LoadSingularAttribute", attribute_name="gone.safetensors"),
        "2": node("SaveSingularAttribute", attribute=["1", 0], filename="never", overwrite=True),
    }
    ok, _, _, node_errors = comfy_runtime.validate(graph)
    assert not ok
    details = " ".join(e.get("details", "") for e in node_errors["1"]["errors"])
    assert (
        "Load Singular Value Attribute: 'gone.safetensors' is not in models/svd_attributes"
        in details
    ), node_errors
    assert "refresh the list" in details
    assert not (folder / "never.safetensors").exists()
