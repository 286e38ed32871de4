"""The example workflows in the REAL ComfyUI web UI (comfyui-frontend-package 1.32.9) driven by a
headless Chromium: they load with no missing node types, survive the canvas's own save, convert
with app.graphToPrompt exactly as our converter does, the converted prompt (size/steps reduced,
see support.py) completes on the server, and the Templates browser lists them.
Screenshots go to test-output/browser/."""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
from harness.browser import ComfyPage, fit_graph
from harness.comfy_versions import COMPAT
from harness.server import PACK_NAME, ComfyServer, output_root
from harness.workflow_format import ui_to_api
from workflows.support import (
    RUN_TIMEOUT_S,
    WORKFLOW_DIR,
    WORKFLOW_FILES,
    WorkflowRunner,
    load_workflow,
    reduce_workflow,
    runnable_in_ci,
)

pytestmark = [pytest.mark.browser, pytest.mark.comfy]
SHOTS = "browser"
# Loaders whose file (a checkpoint the tests build, an attribute another workflow saves, the
# photo the test draws) reaches the server after the page listed the files.
FILE_LOADERS = {"CheckpointLoaderSimple", "LoadSingularAttribute", "LoadImage"}


def _strip_meta(prompt: dict[str, Any]) -> dict[str, Any]:
    return {k: {"class_type": v["class_type"], "inputs": v["inputs"]} for k, v in prompt.items()}


LOAD_JS = """
const wf = args[0];
await app.loadGraphData(wf, true, true, args[1]);
await new Promise(r => setTimeout(r, 300));
const nodes = app.graph.nodes;
return {
  count: nodes.length,
  missing: nodes.filter(n => !LiteGraph.registered_node_types[n.type]).map(n => n.type),
  // Newer frontends also flag a file-list loader whose file is not on the server yet.
  erroring: nodes.filter(n => n.has_errors).map(n => n.type),
  saved: app.graph.serialize(),
};
"""


def _load(page: ComfyPage, wf: dict[str, Any], name: str) -> dict[str, Any]:
    return page.js_async(LOAD_JS, wf, name)


@pytest.mark.parametrize("path", WORKFLOW_FILES, ids=[p.stem for p in WORKFLOW_FILES])
def test_workflow_loads_converts_and_queues(
    path: Path, page: ComfyPage, workflow_runner: WorkflowRunner
) -> None:
    wf = load_workflow(path)
    specs = workflow_runner.specs
    workflow_runner.write_photos(wf)  # a LoadImage's file exists before the canvas opens it
    loaded = _load(page, wf, path.stem)
    assert loaded["missing"] == [], f"missing node types in the web UI: {loaded['missing']}"
    assert set(loaded["erroring"]) <= FILE_LOADERS, f"nodes with errors: {loaded['erroring']}"
    assert loaded["count"] == len(wf["nodes"])
    saved = loaded["saved"]
    # The canvas's own save keeps every node, widget value and link of the shipped file (a node
    # without widgets may save an empty list where the file has none).
    assert [(n["id"], n["type"], n.get("widgets_values") or []) for n in saved["nodes"]] == [
        (n["id"], n["type"], n.get("widgets_values") or []) for n in wf["nodes"]
    ]
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
        "const r = await app.api.queuePrompt(0, p); return r.prompt_id;"
    )
    entry = workflow_runner.server.wait_for(queued, timeout=RUN_TIMEOUT_S)
    outputs = entry["outputs"]
    saving = {nid for nid, node in prompt.items() if specs[node["class_type"]].output_node}
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
// 1.32.9 opens a PrimeVue dialog, 1.49.6 a role=dialog panel; both list extensions by name.
const dialog = await until(() => document.querySelector('.p-dialog, [role=dialog]'), 20000);
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


# --- the UI as a current ComfyUI user meets it ---------------------------------------------

# Where the method's k and k + delta live; ComfyUI 0.33 marks them advanced inputs, which its
# frontend folds away unless the node shows advanced inputs.
STEP_FIELDS = ("add_noise", "start_at_step", "end_at_step", "return_with_leftover_noise")
SAMPLER_WORKFLOWS = [
    p
    for p in WORKFLOW_FILES
    if any(n["type"] == "KSamplerAdvanced" for n in load_workflow(p)["nodes"])
]

CLASSIC_FIELDS_JS = """
await app.loadGraphData(args[0], true, true, args[1]);
await new Promise(r => setTimeout(r, 300));
return app.graph.nodes.filter(n => n.type === 'KSamplerAdvanced').map(n => ({
  id: String(n.id),
  fields: Object.fromEntries(n.widgets.filter(w => args[2].includes(w.name)).map(w => [w.name, {
    advanced: !!(w.advanced || w.options?.advanced),
    visible: n.isWidgetVisible ? n.isWidgetVisible(w) : !w.hidden,
    // Frontend 1.58 hides the widget of an input that a link drives (its socket shows it).
    linked: n.inputs.some(i => i.widget?.name === w.name && i.link != null),
  }])),
  showAdvanced: !!n.showAdvanced,
}));
"""

VUE_FIELDS_JS = """
const setting = app.extensionManager.setting;
const before = setting.get('Comfy.VueNodes.Enabled');
await setting.set('Comfy.VueNodes.Enabled', true);
try {
  await app.loadGraphData(args[0], true, true, args[1] + ' (Vue nodes)');
  const ids = app.graph.nodes.filter(n => n.type === 'KSamplerAdvanced').map(n => String(n.id));
  const t = Date.now();
  let texts = {};
  while (Date.now() - t < 20000) {
    texts = Object.fromEntries(ids.map(id => {
      const el = document.querySelector(`[data-node-id="${id}"]`);
      return [id, el ? el.innerText : null];
    }));
    if (ids.every(id => texts[id] && args[2].every(f => texts[id].includes(f)))) break;
    await new Promise(r => setTimeout(r, 250));
  }
  return texts;
} finally {
  await setting.set('Comfy.VueNodes.Enabled', before);
}
"""


@pytest.mark.parametrize("path", SAMPLER_WORKFLOWS, ids=[p.stem for p in SAMPLER_WORKFLOWS])
def test_sampler_step_fields_show_in_both_node_renderers(path: Path, page: ComfyPage) -> None:
    wf = load_workflow(path)
    samplers = page.js_async(CLASSIC_FIELDS_JS, wf, path.stem, list(STEP_FIELDS))
    assert len(samplers) == sum(n["type"] == "KSamplerAdvanced" for n in wf["nodes"])
    for node in samplers:
        assert set(node["fields"]) == set(STEP_FIELDS), node
        assert all(f["visible"] or f["linked"] for f in node["fields"].values()), node
        # 0.33 folds these fields; the shipped file keeps them shown.
        marked = any(f["advanced"] for f in node["fields"].values())
        assert marked == COMPAT.at_least_0_33, node
        assert node["showAdvanced"] or not marked, node
    texts = page.js_async(VUE_FIELDS_JS, wf, path.stem, list(STEP_FIELDS))
    page.screenshot(output_root(SHOTS) / f"{path.stem}_vue_nodes.png")
    for node_id, text in texts.items():
        assert text is not None, f"sampler {node_id} was not drawn by the Vue node renderer"
        missing = [f for f in STEP_FIELDS if f not in text]
        assert not missing, f"sampler {node_id} hides {missing} in the Vue renderer:\n{text}"


HAND_ADDED_JS = """
await app.loadGraphData(args[0], true, true, 'requeue');
const fresh = LiteGraph.createNode('LearnAttributeFromPair');
app.graph.add(fresh);
const freshControl = fresh.widgets.find(w => w.name === 'control_after_generate').value;
app.graph.remove(fresh);
const learn = app.graph.nodes.find(n => n.type === 'LearnAttributeFromPair');
// The shipped file says "fixed"; a node added by hand gets what the fresh one got.
learn.widgets.find(w => w.name === 'control_after_generate').value = freshControl;
learn.widgets.find(w => w.name === 'name').value = args[1];  // new: it trains here
return {id: String(learn.id), freshControl,
        seed: learn.widgets.find(w => w.name === 'seed').value};
"""


def _queue_like_the_button(page: ComfyPage, server: ComfyServer) -> dict[str, Any]:
    """app.queuePrompt (what Queue/Run does, control-after-generate included); its history."""
    before = set(server.get("/history"))
    page.js_async("await app.queuePrompt(0, 1);")
    start = time.monotonic()
    while time.monotonic() - start < RUN_TIMEOUT_S:
        new = set(server.get("/history")) - before
        if new:
            return server.wait_for(new.pop(), timeout=RUN_TIMEOUT_S)
        time.sleep(0.5)
    raise AssertionError("the queued prompt never reached the history")


def _cached_nodes(entry: dict[str, Any]) -> set[str]:
    return {
        str(n)
        for event, data in entry["status"]["messages"]
        if event == "execution_cached"
        for n in data.get("nodes", [])
    }


def test_a_hand_added_learn_node_keeps_its_seed_and_trains_once(
    page: ComfyPage, workflow_runner: WorkflowRunner
) -> None:
    wf = load_workflow(WORKFLOW_DIR / "learn_attribute_from_prompt_pair.json")
    workflow_runner.install_checkpoints(wf)
    small = reduce_workflow(wf, workflow_runner.specs)
    learn = page.js_async(HAND_ADDED_JS, small, f"requeue {uuid.uuid4().hex[:8]}")
    assert learn["freshControl"] == "fixed"
    first = _queue_like_the_button(page, workflow_runner.server)
    second = _queue_like_the_button(page, workflow_runner.server)
    seed_after = page.js(
        "return app.graph.nodes.find(n => n.type === "
        "'LearnAttributeFromPair').widgets.find(w => w.name === 'seed').value;"
    )
    assert seed_after == learn["seed"]
    assert learn["id"] not in _cached_nodes(first), "the first queue did not train"
    assert learn["id"] in _cached_nodes(second), "the second queue trained again"
