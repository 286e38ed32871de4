"""Subgraph blueprints in the REAL web UI (headless Chromium): find one in the node library the
way a user does (sidebar search), drop it with a click, wire it, set its widgets, convert.

Builds on harness.browser (ComfyPage). The page's Pinia stores are reached through the Vue app
on `#vue-app` (present in production builds), only to read what the node library lists.
"""

from __future__ import annotations

from typing import Any

from harness.browser import ComfyPage

EMPTY_GRAPH = {
    "last_node_id": 0,
    "last_link_id": 0,
    "nodes": [],
    "links": [],
    "groups": [],
    "config": {},
    "extra": {},
    "version": 0.4,
}

LISTED_JS = """
const pinia = document.querySelector('#vue-app').__vue_app__.config.globalProperties.$pinia;
const defs = pinia._s.get('nodeDef');
const until = async (f, ms) => { const t = Date.now();
  while (Date.now() - t < ms) { const v = f(); if (v) return v;
    await new Promise(r => setTimeout(r, 250)); } return null; };
await until(() => args[0].every(n => defs.nodeDefs.some(d => d.display_name === n)), 30000);
return defs.nodeDefs.filter(d => args[0].includes(d.display_name))
  .map(d => ({name: d.name, display_name: d.display_name, python_module: d.python_module,
              category: d.category,
              description: d.description, inputs: Object.keys(d.inputs),
              outputs: d.outputs.map(o => o.type)}));
"""

DROP_JS = """
const [name, pos] = args;
const until = async (f, ms) => { const t = Date.now();
  while (Date.now() - t < ms) { const v = f(); if (v) return v;
    await new Promise(r => setTimeout(r, 200)); } return null; };
// The library's search box: frontend 1.32 marks it .node-lib-search-box; 1.49's sidebar has one
// visible "Search..." box.
const lib = () => document.querySelector('.node-lib-search-box input')
  || Array.from(document.querySelectorAll('input[placeholder="Search..."]'))
    .find(i => i.offsetParent);
if (!lib()) await app.extensionManager.command.execute('Workspace.ToggleSidebarTab.node-library');
const input = await until(lib, 15000);
if (!input) throw new Error('the node library did not open');
// Type the name; again every 2 s while nothing shows (the box debounces its input, so
// typing more often would postpone the search forever).
let typed = 0;
// The search is fuzzy over words; a parenthesis in the query finds nothing, so type the words
// before it and pick the entry whose label is the whole name.
const query = name.split(' (')[0];
const type = () => { input.focus(); input.value = query; typed = Date.now();
  input.dispatchEvent(new Event('input', {bubbles: true})); };
type();
// 1.32 (PrimeVue tree): the clickable leaf is .tree-leaf; 1.49: the [role=treeitem] row.
const leaves = () => { const old = document.querySelectorAll('.tree-leaf');
  return old.length ? old : document.querySelectorAll('[role="treeitem"]'); };
const leaf = await until(() => { const hit = Array.from(leaves())
  .find(e => e.innerText.trim() === name);
  if (!hit && Date.now() - typed > 2000) type(); return hit; }, 20000);
if (!leaf) throw new Error('not found in the node library: ' + name + '; it shows: '
  + (document.querySelector('.side-bar-panel') || document.body).innerText.slice(0, 600));
const before = new Set(app.graph.nodes.map(n => n.id));
const added = () => app.graph.nodes.find(n => !before.has(n.id));
const find = () => Array.from(leaves()).find(e => e.innerText.trim() === name);
let node = null;
for (let attempt = 0; attempt < 3 && !node; attempt++) {
  // let the debounced search settle: a click on a list being re-rendered is lost
  await new Promise(r => setTimeout(r, 700));
  const entry = find() || leaf;
  entry.click();  // 1.32: a click adds the node
  node = await until(added, 2000);
  if (!node) {  // 1.49: a click picks the node up ("click" drag); a click on the canvas drops it
    const r = app.canvas.canvas.getBoundingClientRect();
    const at = {clientX: r.left + r.width / 2, clientY: r.top + r.height / 2, bubbles: true,
                pointerId: 1, button: 0, isPrimary: true};
    app.canvas.canvas.dispatchEvent(new PointerEvent('pointermove', at));
    app.canvas.canvas.dispatchEvent(new PointerEvent('pointerup', at));
    node = await until(added, 3000);
  }
}
if (!node) throw new Error('clicking ' + name + ' added no node');
node.pos = pos;
input.value = '';
input.dispatchEvent(new Event('input', {bubbles: true}));
return {id: node.id, type: node.type, title: node.title, isSubgraph: !!node.subgraph,
        inner: node.subgraph ? node.subgraph.nodes.length : 0,
        widgets: node.widgets.map(w => w.name),
        inputs: node.inputs.map(i => [i.name, i.type]),
        outputs: node.outputs.map(o => [o.name, o.type])};
"""

ADD_JS = """
const [type, pos, values] = args;
const node = LiteGraph.createNode(type);
if (!node) throw new Error('no node type ' + type);
node.pos = pos;
app.graph.add(node);
for (const [k, v] of Object.entries(values)) {
  const w = node.widgets.find(w => w.name === k);
  if (!w) throw new Error(type + ' has no widget ' + k);
  w.value = v;
}
return node.id;
"""

CONNECT_JS = """
const [src, output, dst, input] = args;
const a = app.graph.getNodeById(src), b = app.graph.getNodeById(dst);
const o = a.outputs.findIndex(s => s.name === output);
const i = b.inputs.findIndex(s => s.name === input);
if (o < 0 || i < 0) throw new Error(`no ${output} on ${a.type} or ${input} on ${b.type}`);
if (!a.connect(o, b, i)) throw new Error(`could not connect ${output} -> ${input}`);
return true;
"""

SET_JS = """
const [id, values] = args;
const node = app.graph.getNodeById(id);
for (const [k, v] of Object.entries(values)) {
  const w = node.widgets.find(w => w.name === k);
  if (!w) throw new Error(node.title + ' has no widget ' + k);
  w.value = v;
}
app.graph.setDirtyCanvas(true, true);
return node.widgets.map(w => [w.name, w.value]);
"""


def listed_blueprints(page: ComfyPage, names: list[str]) -> list[dict[str, Any]]:
    """The node library's definitions named `names` (waits until all are there)."""
    return page.js_async(LISTED_JS, names)


def clear_graph(page: ComfyPage) -> None:
    page.js_async("await app.loadGraphData(args[0], true, true, 'blueprints');", EMPTY_GRAPH)


def drop_blueprint(page: ComfyPage, name: str, pos: tuple[float, float]) -> dict[str, Any]:
    """Search the node library for `name`, click the entry; returns the node that appeared."""
    return page.js_async(DROP_JS, name, list(pos))


def add_node(
    page: ComfyPage, type_: str, pos: tuple[float, float], values: dict[str, Any] | None = None
) -> int:
    return int(page.js_async(ADD_JS, type_, list(pos), values or {}))


def connect(page: ComfyPage, src: int, output: str, dst: int, input_name: str) -> None:
    page.js_async(CONNECT_JS, src, output, dst, input_name)


def set_widgets(page: ComfyPage, node_id: int, values: dict[str, Any]) -> list[list[Any]]:
    return page.js_async(SET_JS, node_id, values)


def graph_to_prompt(page: ComfyPage) -> dict[str, Any]:
    """The API prompt the real frontend makes of the canvas (subgraphs flattened)."""
    return page.js_async("return (await app.graphToPrompt()).output;")


def queue(page: ComfyPage) -> str:
    """Queue the canvas the way the Queue button does; returns the prompt id."""
    return str(
        page.js_async(
            "const p = await app.graphToPrompt();"
            "return (await app.api.queuePrompt(0, p)).prompt_id;"
        )
    )
