"""The example workflows in the REAL ComfyUI web UI (comfyui-frontend-package 1.32.9) driven by a
headless Chromium: they load with no missing node types, survive the canvas's own save, convert
with app.graphToPrompt exactly as our converter does, the converted prompt (size/steps reduced,
see support.py) completes on the server, and the Templates browser lists them.
Screenshots go to test-output/browser/."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from harness.browser import ComfyPage, chromium, fit_graph, missing_reason, open_comfy
from harness.server import PACK_NAME, ComfyServer, output_root
from harness.workflow_format import ui_to_api
from workflows.support import (
    RUN_TIMEOUT_S,
    WORKFLOW_FILES,
    WorkflowRunner,
    load_workflow,
    reduce_workflow,
    runnable_in_ci,
)

pytestmark = [pytest.mark.browser, pytest.mark.comfy]
SHOTS = "browser"


@pytest.fixture(scope="module")
def page(comfy_server: ComfyServer) -> Iterator[ComfyPage]:
    reason = missing_reason()
    if reason:
        pytest.skip(reason)
    # A fresh profile would open the first-run template gallery over the canvas.
    comfy_server.request("POST", "/settings/Comfy.TutorialCompleted", True)
    with chromium() as driver:
        yield open_comfy(driver, comfy_server.url)


def _strip_meta(prompt: dict[str, Any]) -> dict[str, Any]:
    return {k: {"class_type": v["class_type"], "inputs": v["inputs"]} for k, v in prompt.items()}


LOAD_JS = """
const wf = args[0];
await app.loadGraphData(wf, true, true, args[1]);
await new Promise(r => setTimeout(r, 300));
const nodes = app.graph.nodes;
return {
  count: nodes.length,
  missing: nodes.filter(n => !LiteGraph.registered_node_types[n.type] || n.has_errors)
                .map(n => n.type),
  saved: app.graph.serialize(),
};
"""


def _load(page: ComfyPage, wf: dict[str, Any], name: str) -> dict[str, Any]:
    return page.js_async(LOAD_JS, wf, name)


@pytest.mark.parametrize("path", WORKFLOW_FILES, ids=[p.stem for p in WORKFLOW_FILES])
def test_workflow_loads_converts_and_queues(path: Path, page: ComfyPage,
                                            workflow_runner: WorkflowRunner) -> None:
    wf = load_workflow(path)
    specs = workflow_runner.specs
    workflow_runner.write_photos(wf)  # a LoadImage's file exists before the canvas opens it
    loaded = _load(page, wf, path.stem)
    assert loaded["missing"] == [], f"missing node types in the web UI: {loaded['missing']}"
    assert loaded["count"] == len(wf["nodes"])
    saved = loaded["saved"]
    # The canvas's own save keeps every node, widget value and link of the shipped file.
    assert [(n["id"], n["type"], n.get("widgets_values")) for n in saved["nodes"]] == \
        [(n["id"], n["type"], n.get("widgets_values")) for n in wf["nodes"]]
    assert sorted(map(tuple, saved["links"])) == sorted(map(tuple, wf["links"]))
    assert fit_graph(page)
    page.screenshot(output_root(SHOTS) / f"{path.stem}.png")

    converted = page.js_async("return (await app.graphToPrompt()).output;")
    assert _strip_meta(converted) == _strip_meta(ui_to_api(wf, specs))

    if not runnable_in_ci(path):
        return  # SDXL: loads and converts above; running needs LSE_RUN_SDXL=1 (support.py)
    workflow_runner.install_checkpoints(wf)
    if path.stem == "apply_saved_attribute":
        workflow_runner.run("learn_attribute_from_prompt_pair")  # saves the attribute it loads
    small = reduce_workflow(wf, workflow_runner.specs)
    _load(page, small, path.stem + " (reduced)")
    prompt = page.js_async("return (await app.graphToPrompt()).output;")
    assert _strip_meta(prompt) == _strip_meta(ui_to_api(small, workflow_runner.specs))
    # Queue it the way the Queue button does (api.queuePrompt), then wait on the server.
    queued = page.js_async(
        "const p = await app.graphToPrompt();"
        "const r = await app.api.queuePrompt(0, p); return r.prompt_id;")
    entry = workflow_runner.server.wait_for(queued, timeout=RUN_TIMEOUT_S)
    outputs = entry["outputs"]
    saving = {nid for nid, node in prompt.items()
              if specs[node["class_type"]].output_node}
    assert saving <= set(outputs), f"output nodes without results: {saving - set(outputs)}"


def test_templates_endpoint_serves_the_pack_workflows(comfy_server: ComfyServer) -> None:
    listed = comfy_server.get("/workflow_templates")
    assert sorted(listed.get(PACK_NAME, [])) == sorted(p.stem for p in WORKFLOW_FILES)
    for path in WORKFLOW_FILES:
        served = comfy_server.get(f"/api/workflow_templates/{PACK_NAME}/{path.name}")
        assert served == json.loads(path.read_text())


TEMPLATE_CARDS_JS = """
await app.extensionManager.command.execute('Comfy.BrowseTemplates');
const until = async (f, ms) => { const t = Date.now();
  while (Date.now() - t < ms) { const v = f(); if (v) return v;
    await new Promise(r => setTimeout(r, 250)); } return null; };
const dialog = await until(() => document.querySelector('.p-dialog'), 20000);
if (!dialog) throw new Error('the Templates dialog did not open');
const nav = await until(() => Array.from(dialog.querySelectorAll('div'))
  .find(e => e.children.length <= 2 && e.innerText.trim() === args[0]), 20000);
if (!nav) throw new Error('no ' + args[0] + ' entry in the Templates browser: '
  + dialog.innerText.slice(0, 800));
nav.click();
const text = await until(() => { const t = dialog.innerText;
  return args[1].every(n => t.includes(n)) ? t : null; }, 20000);
return {text: text || dialog.innerText};
"""


def test_templates_browser_lists_the_pack_workflows(page: ComfyPage) -> None:
    names = sorted(p.stem for p in WORKFLOW_FILES)
    result = page.js_async(TEMPLATE_CARDS_JS, PACK_NAME, names)
    page.screenshot(output_root(SHOTS) / "templates_browser.png")
    for name in names:
        assert name in result["text"], f"{name} not shown under {PACK_NAME} in Templates"
    page.driver.find_element("tag name", "body").send_keys("\ue00c")  # Escape closes it
