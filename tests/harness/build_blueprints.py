"""Writes subgraphs/*.json: the pack's subgraph blueprints, from the node definitions of a LIVE
ComfyUI server (like build_workflows.py), so the inner graphs track the nodes.

    source $LSE_CACHE/env.sh && $LSE_VENV/bin/python tests/harness/build_blueprints.py [--picture]

--picture also renders docs/blueprint_nodes.png: the blueprints dropped from the node library of
the real web UI (headless Chromium), learn -> generate wired, the canvas alone.

ComfyUI serves every `custom_nodes/<pack>/subgraphs/*.json` at GET /global_subgraphs and the web
UI lists each as one node (file name = node name). The format is the frontend's: a UI workflow
whose only node is an instance of `definitions.subgraphs[0]`; the subgraph's inputs (id -10) and
outputs (id -20) are linked to inner sockets and widgets, and every widget-typed input shows as a
widget on the outer node (`properties.proxyWidgets` entries `["-1", name]`), as in ComfyUI
0.33's own `blueprints/`. The inner graph is a description (harness.ui_graph), like the example
workflows, and validated with the same checks.
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from harness.graph_pieces import (  # noqa: E402
    NEGATIVE_PROMPT,
    SOURCE_PROMPT,
    TARGET_PROMPT,
    Sampling,
    apply_and_continue,
    branches,
    continuation,
    decode,
    decompose,
    edit_steps,
    learn,
    noised_photo,
    prompt_encoders,
    reuse_reference,
    to_step,
)
from harness.server import REPO_ROOT, ComfyPaths, make_base_directory, start_server  # noqa: E402
from harness.ui_graph import Graph, Node, Nodes, merge, write_validated  # noqa: E402
from harness.workflow_format import (  # noqa: E402
    NodeSpec,
    node_specs,
    set_widget,
    validate_ui_workflow,
)

OUT_DIR = REPO_ROOT / "subgraphs"
CATEGORY = "latent/singular value edit"
LEARN = "Learn Attribute from Prompt Pair (singular values)"
GENERATE = "Generate with Attribute (singular values)"
PHOTO = "Edit Photo with Attribute (singular values)"
REUSE = "Generate with Attribute, Reuse (singular values)"
DEFAULTS = {
    "seed": 42,
    "steps": 30,
    "cfg": 7.0,
    "sampler_name": "euler",
    "scheduler": "normal",
    "edit_step": 9,
    "delta": 2,
    "strength": 1.0,
    "width": 512,
    "height": 512,
}
SAMPLING = Sampling(
    DEFAULTS["seed"], DEFAULTS["steps"], DEFAULTS["cfg"], DEFAULTS["edit_step"], DEFAULTS["delta"]
)
# Inside a blueprint the model comes from the outer node and every step from 'Edit Steps'.
PLANNED = {"model": None, "plan": "plan"}
BRANCH_TITLES = ("Source branch: k to k + delta", "Target branch: k to k + delta")
EDITED = "Edited: continue from k + delta"
UNEDITED = "Unedited: continue from k + delta"
REUSE_TITLE = "Source branch to the reuse step"
#: Apply's strength in the reuse blueprint: the aligned reuse edit needs about 2 (1 to 6 on the
#: test worlds; web/docs/ApplySingularEdit.md).
REUSE_STRENGTH = 2.0
_NS = uuid.UUID("5b0d5a53-7d1c-4f43-9f5e-2b4c3e0a7a11")  # stable ids across rebuilds
INPUT_NODE, OUTPUT_NODE = -10, -20
LINK_KEYS = ("id", "origin_id", "origin_slot", "target_id", "target_slot", "type")


@dataclass(frozen=True)
class Port:
    """One input of the blueprint node: a socket (typed) or a widget (type None: its inner
    widget's kind; value = its default)."""

    name: str
    targets: tuple[tuple[str, str], ...]  # (inner node, input name)
    type: str | None = None
    value: Any = None


def socket(name: str, type_: str, *targets: tuple[str, str]) -> Port:
    return Port(name, targets, type_)


def widget(name: str, *targets: tuple[str, str], value: Any = None) -> Port:
    """A widget on the outer node, feeding the named widget of every target node; its default
    is ``value`` if given, else the blueprints' shared default."""
    return Port(name, targets, None, DEFAULTS.get(name) if value is None else value)


@dataclass(frozen=True)
class Output:
    name: str
    type: str
    source: str  # "node" (output 0) or "node.OUTPUT"


@dataclass(frozen=True)
class Blueprint:
    name: str
    description: str
    nodes: Nodes
    inputs: list[Port]
    outputs: list[Output]


# --- the inner graphs -----------------------------------------------------------------------


PROMPT_NAMES = ("source", "target", "negative")
PROMPT_TITLES = {
    "source": "Source prompt",
    "target": "Target prompt",
    "negative": "Negative prompt",
}
PROMPT_TEXTS = {"source": SOURCE_PROMPT, "target": TARGET_PROMPT, "negative": NEGATIVE_PROMPT}
PROMPT_HEIGHTS = {"source": 140, "target": 140, "negative": 120}


def prompts_and_plan(names: tuple[str, ...] = PROMPT_NAMES) -> Nodes:
    """The prompts (all three, or the ``names`` given) and 'Edit Steps' ("plan") under them,
    left of the samplers."""
    encoders = prompt_encoders(
        -440,
        tuple(PROMPT_TITLES[n] for n in names),
        tuple(PROMPT_TEXTS[n] for n in names),
        tuple(PROMPT_HEIGHTS[n] for n in names),
        clip=None,
        names=names,
    )
    return merge(encoders, {"plan": edit_steps((-440, 180 * len(names) - 20), SAMPLING)})


def generated_pair() -> Nodes:
    """Empty latent, x = the source prompt to step k from one seed, and its two branches."""
    size = {"width": DEFAULTS["width"], "height": DEFAULTS["height"], "batch_size": 1}
    x = to_step(SAMPLING, (0, 0), "Source to step k (x)", "edit_step", **PLANNED)
    return merge(
        {"latent": Node("EmptyLatentImage", (0, 700), (320, 110), size), "x": x},
        branches(SAMPLING, "x", ((440, 0), (440, 380)), BRANCH_TITLES, **PLANNED),
    )


def shared_ports(
    samplers: list[str],
    seeds: list[tuple[str, str]],
    prompts: tuple[str, ...] = PROMPT_NAMES,
    strength: float | None = None,
) -> list[Port]:
    """The widgets every blueprint shows, in the order a user fills them in: a text widget
    per prompt it has, then seed, steps, the samplers' settings, k, delta and strength."""
    return [
        *(widget(f"{n}_prompt", (n, "text"), value=PROMPT_TEXTS[n]) for n in prompts),
        widget("seed", *seeds),
        widget("steps", ("plan", "steps")),
        *(widget(name, *[(s, name) for s in samplers]) for name in SAMPLER_WIDGETS),
        widget("edit_step", ("plan", "edit_step")),
        widget("delta", ("plan", "delta")),
        widget("strength", ("apply", "strength"), value=strength),
    ]


SAMPLER_WIDGETS = ("cfg", "sampler_name", "scheduler")


def model_and_clip(*model_targets: str, prompts: tuple[str, ...] = PROMPT_NAMES) -> list[Port]:
    return [
        socket("model", "MODEL", *[(node, "model") for node in model_targets]),
        socket("clip", "CLIP", *[(prompt, "clip") for prompt in prompts]),
    ]


def seeds_of(samplers: list[str]) -> list[tuple[str, str]]:
    return [(s, "noise_seed") for s in samplers]


SIZE_PORTS = [widget("width", ("latent", "width")), widget("height", ("latent", "height"))]


def learn_blueprint() -> Blueprint:
    samplers = ["x", "source_branch", "target_branch", "reuse", "edited", "plain"]
    nodes = merge(
        prompts_and_plan(),
        generated_pair(),
        # Below the branches: what makes the attribute reusable on new seeds without a target.
        reuse_reference(SAMPLING, (440, 760), REUSE_TITLE, **PLANNED),
        {"learn": learn((1140, 0), "attribute", reuse_reference="dreuse")},
        apply_and_continue(SAMPLING, 1520, "learn.attribute", (EDITED, UNEDITED), **PLANNED),
    )
    return Blueprint(
        LEARN,
        "Learns an attribute (e.g. smiling) from a source and a target prompt on batch_size "
        "seeds (16 or more to reuse it without a target run) and edits them with it: both "
        "prompts continue from the source's step-k latent for delta steps, the edit between "
        "them is added to the source branch where they differ, and the source prompt finishes "
        "from k + delta. Outputs the attribute "
        "(save it, or connect it to 'Generate with Attribute' or, for new seeds without a "
        "target run, 'Generate with Attribute, Reuse'), the edited and the unedited latent.",
        nodes,
        [
            *model_and_clip(*samplers),
            *shared_ports(samplers, seeds_of(samplers)),
            *SIZE_PORTS,
            # Several seeds learn one attribute: what reuse on new seeds needs (16 or more).
            widget("batch_size", ("latent", "batch_size"), value=1),
        ],
        [
            Output("attribute", "SVD_ATTRIBUTE", "learn.attribute"),
            Output("edited", "LATENT", "edited"),
            Output("unedited", "LATENT", "plain"),
        ],
    )


def generate_blueprint() -> Blueprint:
    samplers = ["x", "source_branch", "target_branch", "edited"]
    nodes = merge(
        prompts_and_plan(),
        generated_pair(),
        apply_and_continue(SAMPLING, 1140, None, (EDITED, None), **PLANNED),
    )
    return Blueprint(
        GENERATE,
        "Applies an attribute learned from branch pairs (the learn blueprint's, or "
        "loaded) to a new generation: the seed's source latent at step k, its own "
        "source and target branches (k to k + delta), the edit between them added to the "
        "source branch at the chosen strength, then the source prompt to the end. "
        "strength 0 = the plain generation.",
        nodes,
        [
            *model_and_clip(*samplers),
            socket("attribute", "SVD_ATTRIBUTE", ("apply", "attribute")),
            *shared_ports(samplers, seeds_of(samplers)),
            *SIZE_PORTS,
        ],
        [Output("LATENT", "LATENT", "edited")],
    )


def photo_blueprint() -> Blueprint:
    samplers = ["source_branch", "target_branch", "edited", "plain"]
    nodes = merge(
        prompts_and_plan(),
        noised_photo(SAMPLING, 0, 360, pixels=None, vae=None, model=None),
        branches(SAMPLING, "noisy", ((720, 0), (720, 380)), BRANCH_TITLES, **PLANNED),
        apply_and_continue(SAMPLING, 1440, None, (EDITED, UNEDITED), **PLANNED),
        {
            "decode_edited": decode((2160, 0), "edited", vae=None),
            "decode_plain": decode((2160, 380), "plain", vae=None),
        },
    )
    return Blueprint(
        PHOTO,
        "Edits an image you already have with an attribute learned from "
        "branch pairs (learned or loaded): encode, add noise to the level of step k, "
        "run the source and the target prompt from there to k + delta, add the edit "
        "between them to the source branch, continue from k + delta with the source prompt "
        "(which should describe the photo), decode. Also returns the photo re-generated "
        "without the edit (= strength 0).",
        nodes,
        [
            *model_and_clip("sched", "noisy", *samplers),
            socket("vae", "VAE", ("enc", "vae"), ("decode_edited", "vae"), ("decode_plain", "vae")),
            socket("image", "IMAGE", ("enc", "pixels")),
            socket("attribute", "SVD_ATTRIBUTE", ("apply", "attribute")),
            *shared_ports(samplers, [("noise", "noise_seed"), *seeds_of(samplers)]),
        ],
        [Output("edited", "IMAGE", "decode_edited"), Output("unedited", "IMAGE", "decode_plain")],
    )


def reuse_blueprint() -> Blueprint:
    """A new seed with no target run: the source prompt to the reuse step, the attribute's
    aligned reuse edit there (Apply with neither target nor source_branch), the source prompt
    to the end. Edit Steps stays: its reuse_step is never before the attribute's k + delta."""
    prompts = ("source", "negative")
    samplers = ["x", "edited"]
    size = {"width": DEFAULTS["width"], "height": DEFAULTS["height"], "batch_size": 1}
    nodes = merge(
        prompts_and_plan(prompts),
        {
            "latent": Node("EmptyLatentImage", (0, 380), (320, 110), size),
            "x": to_step(SAMPLING, (0, 0), "Source to the reuse step", "reuse_step", **PLANNED),
            "dx": decompose((360, 0), "x", "Decompose at the reuse step"),
            "apply": Node(
                "ApplySingularEdit",
                (720, 0),
                (320, 140),
                {"strength": REUSE_STRENGTH},
                "Apply the aligned reuse edit",
                {"latent_svd": "dx", "attribute": None},
            ),
            "rec": Node("LatentRecompose", (720, 180), (280, 60), inputs={"latent_svd": "apply"}),
            "edited": continuation(
                SAMPLING,
                (1080, 0),
                "Edited: continue from the reuse step",
                "rec",
                "reuse_step",
                **PLANNED,
            ),
        },
    )
    return Blueprint(
        REUSE,
        "Applies an attribute learned with reuse references (the learn blueprint's, or "
        "loaded) to a new seed at the cost of a plain generation, with no target prompt run. "
        "The source prompt runs to the reuse step (0.6 of the steps, never before k + delta), "
        "where the attribute's training edits, moved to where this seed's subject is, are "
        "added at the chosen strength (about 2; 0 = the plain generation), and then finishes.",
        nodes,
        [
            *model_and_clip(*samplers, prompts=prompts),
            socket("attribute", "SVD_ATTRIBUTE", ("apply", "attribute")),
            *shared_ports(samplers, seeds_of(samplers), prompts, REUSE_STRENGTH),
            *SIZE_PORTS,
        ],
        [Output("LATENT", "LATENT", "edited")],
    )


BLUEPRINTS = {
    LEARN: learn_blueprint,
    GENERATE: generate_blueprint,
    PHOTO: photo_blueprint,
    REUSE: reuse_blueprint,
}


# --- serialisation --------------------------------------------------------------------------


def _uuid(*parts: str) -> str:
    return str(uuid.uuid5(_NS, "/".join(parts)))


@dataclass
class Subgraph:
    """The inner graph in the subgraph format while its ports are linked to it."""

    graph: Graph
    nodes: dict[int, dict[str, Any]]  # a copy of the inner nodes, by id
    links: list[dict[str, Any]]

    @classmethod
    def of(cls, bp: Blueprint, specs: Mapping[str, NodeSpec]) -> Subgraph:
        graph = Graph.of(specs, bp.nodes)
        inner = graph.to_json()
        nodes = json.loads(json.dumps(inner["nodes"]))
        links = [dict(zip(LINK_KEYS, link, strict=True)) for link in inner["links"]]
        return cls(graph, {n["id"]: n for n in nodes}, links)

    def link(self, origin: tuple[int, int], target: tuple[int, int], type_: str) -> int:
        link_id = len(self.links) + 1
        self.links.append(dict(zip(LINK_KEYS, (link_id, *origin, *target, type_), strict=True)))
        return link_id

    def node(self, name: str) -> dict[str, Any]:
        return self.nodes[self.graph.ids[name]]

    def port_type(self, port: Port) -> str:
        """A socket's own type; a widget's is the kind of the first widget it feeds."""
        if port.type is not None:
            return port.type
        node_name, input_name = port.targets[0]
        spec = self.graph.specs[self.node(node_name)["type"]]
        return next(w.kind for w in spec.widgets if w.name == input_name)

    def link_input(self, bp_name: str, slot: int, port: Port) -> list[int]:
        """Link input ``slot`` of the subgraph to every target of ``port``; a widget's value
        is copied into the inner widgets, so they equal the outer default."""
        link_ids = []
        for node_name, input_name in port.targets:
            node = self.node(node_name)
            tslot = [inp["name"] for inp in node["inputs"]].index(input_name)
            if node["inputs"][tslot]["link"] is not None:
                raise ValueError(f"{bp_name}: {node['type']}.{input_name} is already linked")
            if port.type is None:
                set_widget(node, self.graph.specs[node["type"]], input_name, port.value)
            link_id = self.link((INPUT_NODE, slot), (node["id"], tslot), self.port_type(port))
            node["inputs"][tslot]["link"] = link_id
            link_ids.append(link_id)
        return link_ids

    def link_output(self, slot: int, output: Output) -> int:
        name, _, output_name = output.source.partition(".")
        node = self.node(name)
        names = [o["name"] for o in node["outputs"]]
        oslot = names.index(output_name) if output_name else 0
        link_id = self.link((node["id"], oslot), (OUTPUT_NODE, slot), output.type)
        node["outputs"][oslot]["links"] = (node["outputs"][oslot]["links"] or []) + [link_id]
        return link_id


def to_json(bp: Blueprint, specs: Mapping[str, NodeSpec]) -> dict[str, Any]:
    """The blueprint file: one outer node, one subgraph definition."""
    sg = Subgraph.of(bp, specs)
    inputs = [
        _port_entry(bp.name, "in", port.name, sg.port_type(port), sg.link_input(bp.name, i, port))
        | {"pos": [-280, 20 * i]}
        for i, port in enumerate(bp.inputs)
    ]
    outputs = [
        _port_entry(bp.name, "out", out.name, out.type, [sg.link_output(j, out)])
        | {"pos": [2600, 20 * j]}
        for j, out in enumerate(bp.outputs)
    ]
    definition = _definition(bp, sg, inputs, outputs)
    return {
        "revision": 0,
        "last_node_id": definition["state"]["lastNodeId"],
        "last_link_id": 0,
        "nodes": [_outer_node(bp, sg, definition)],
        "links": [],
        "version": 0.4,
        "definitions": {"subgraphs": [definition]},
        "extra": {"BlueprintDescription": bp.description},
    }


def _port_entry(
    bp_name: str, side: str, name: str, type_: str, link_ids: list[int]
) -> dict[str, Any]:
    return {
        "id": _uuid(bp_name, side, name),
        "name": name,
        "type": type_,
        "linkIds": link_ids,
        "localized_name": name,
    }


def _definition(
    bp: Blueprint, sg: Subgraph, inputs: list[dict[str, Any]], outputs: list[dict[str, Any]]
) -> dict[str, Any]:
    """definitions.subgraphs[0]: the inner graph, its ports and where the frontend draws them."""
    xs = [n["pos"][0] for n in sg.nodes.values()]
    ys = [n["pos"][1] for n in sg.nodes.values()]
    return {
        "id": _uuid(bp.name),
        "version": 1,
        "state": {
            "lastGroupId": 0,
            "lastNodeId": max(sg.nodes) + 1,  # the outer node's id
            "lastLinkId": len(sg.links),
            "lastRerouteId": 0,
        },
        "revision": 0,
        "config": {},
        "name": bp.name,
        "description": bp.description,
        "category": CATEGORY,
        "inputNode": {
            "id": INPUT_NODE,
            "bounding": [min(xs) - 300, min(ys), 120, 40 + 20 * len(inputs)],
        },
        "outputNode": {
            "id": OUTPUT_NODE,
            "bounding": [max(xs) + 460, min(ys), 120, 40 + 20 * len(outputs)],
        },
        "inputs": inputs,
        "outputs": outputs,
        "widgets": [],
        "nodes": list(sg.nodes.values()),
        "groups": [],
        "links": sg.links,
        "extra": {"workflowRendererVersion": "LG"},
    }


def _outer_node(bp: Blueprint, sg: Subgraph, definition: dict[str, Any]) -> dict[str, Any]:
    """The one node a user sees: every port an input, each widget port promoted as a widget."""
    widgets = [port for port in bp.inputs if port.type is None]
    inputs = [
        {"localized_name": p.name, "name": p.name, "type": sg.port_type(p), "link": None}
        | ({"widget": {"name": p.name}} if p.type is None else {})
        for p in bp.inputs
    ]
    return {
        "id": definition["state"]["lastNodeId"],
        "type": definition["id"],
        "pos": [0, 0],
        "size": [400, 40 + 26 * len(bp.inputs)],
        "flags": {},
        "order": 0,
        "mode": 0,
        "inputs": inputs,
        "outputs": [
            {"localized_name": out.name, "name": out.name, "type": out.type, "links": []}
            for out in bp.outputs
        ],
        "title": bp.name,
        "properties": {"proxyWidgets": [["-1", port.name] for port in widgets]},
        "widgets_values": [port.value for port in widgets],
    }


def validate_blueprint(data: dict[str, Any], specs: dict[str, NodeSpec]) -> list[str]:
    """Problems of the inner graph as a UI workflow (subgraph ports count as connected) and of
    the outer node; [] if none."""
    (sg,) = data["definitions"]["subgraphs"]
    (outer,) = data["nodes"]
    problems = []
    if outer["type"] != sg["id"]:
        problems.append("the outer node is not an instance of the subgraph")
    ports = [
        lk for lk in sg["links"] if lk["origin_id"] == INPUT_NODE or lk["target_id"] == OUTPUT_NODE
    ]
    inner_links = [[lk[key] for key in LINK_KEYS] for lk in sg["links"] if lk not in ports]
    nodes = json.loads(json.dumps(sg["nodes"]))
    port_ids = {lk["id"] for lk in ports}
    for n in nodes:  # a port link is a connection the inner graph alone does not see
        for inp in n["inputs"]:
            if inp["link"] in port_ids:
                inp["link"] = None
                if "widget" not in inp:
                    inp["link"] = -1
        for out in n["outputs"]:
            out["links"] = [lid for lid in out["links"] or [] if lid not in port_ids] or None
    wf = {
        "version": 0.4,
        "nodes": nodes,
        "links": inner_links,
        "last_node_id": max(n["id"] for n in nodes),
        "last_link_id": max(lk["id"] for lk in sg["links"]),
    }
    for p in validate_ui_workflow(wf, specs):
        if "names link -1" not in p and "link -1 " not in p:
            problems.append(p)
    if len(outer["widgets_values"]) != len(outer["properties"]["proxyWidgets"]):
        problems.append("one outer widget value per promoted widget")
    return problems


def build_all(specs: dict[str, NodeSpec], out_dir: Path = OUT_DIR) -> dict[str, Path]:
    def maker(describe: Callable[[], Blueprint]) -> Callable[[], dict[str, Any]]:
        return lambda: to_json(describe(), specs)

    return write_validated(
        {name: maker(describe) for name, describe in BLUEPRINTS.items()},
        lambda data: validate_blueprint(data, specs),
        out_dir,
    )


PICTURE = REPO_ROOT / "docs" / "blueprint_nodes.png"
# The nodes' bounding box on the page (titles included, 16 px margin) and the pixel ratio.
NODES_BOX_JS = """
    const r = app.canvas.canvas.getBoundingClientRect(), ds = app.canvas.ds;
    let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
    for (const n of app.graph.nodes) {
      x0 = Math.min(x0, n.pos[0]); y0 = Math.min(y0, n.pos[1] - 40);
      x1 = Math.max(x1, n.pos[0] + n.size[0]); y1 = Math.max(y1, n.pos[1] + n.size[1]);
    }
    const sx = v => r.left + (v + ds.offset[0]) * ds.scale;
    const sy = v => r.top + (v + ds.offset[1]) * ds.scale;
    return [sx(x0) - 16, sy(y0) - 16, sx(x1) + 16, sy(y1) + 16,
        window.devicePixelRatio || 1];"""


def render_picture(server: Any, out: Path = PICTURE) -> Path:
    """The README's picture: a checkpoint loader, the learn blueprint and the generate blueprint
    as a user drops them from the node library, wired; a page screenshot cropped to the nodes."""
    import io  # noqa: PLC0415

    from PIL import Image  # noqa: PLC0415

    from harness.blueprint_page import add_node, clear_graph, connect, drop_blueprint  # noqa: PLC0415
    from harness.browser import chromium, fit_graph, open_comfy  # noqa: PLC0415
    from harness.checkpoints import SPECS, ensure_checkpoint  # noqa: PLC0415

    server.request("POST", "/settings/Comfy.TutorialCompleted", True)
    server.request("POST", "/settings/Comfy.Minimap.Visible", False)
    ckpt = next(iter(SPECS))
    server.install_checkpoint(ensure_checkpoint(ckpt))  # listed, so not drawn as missing
    with chromium() as driver:
        page = open_comfy(driver, server.url)
        clear_graph(page)
        loader = add_node(page, "CheckpointLoaderSimple", (0, 60), {"ckpt_name": ckpt})
        learn = drop_blueprint(page, LEARN, (380, 0))["id"]
        gen = drop_blueprint(page, GENERATE, (860, 0))["id"]
        for node in (learn, gen):
            connect(page, loader, "MODEL", node, "model")
            connect(page, loader, "CLIP", node, "clip")
        connect(page, learn, "attribute", gen, "attribute")
        # Close the library and deselect; the prompt boxes are HTML over the canvas, so the
        # picture is a screenshot of the page cropped to the nodes, not the canvas bitmap.
        page.js_async(
            "await app.extensionManager.command.execute('Workspace.ToggleSidebarTab.node-library');"
        )
        page.js("app.canvas.deselectAll && app.canvas.deselectAll();")
        fit_graph(page)
        # zoom out a little and move right, clear of the icon bar on the canvas' left edge
        page.js(
            "const ds = app.canvas.ds; const s = ds.scale * 0.9;"
            "ds.offset = [ds.offset[0] * ds.scale / s + 60 / s, ds.offset[1] * ds.scale / s];"
            "ds.scale = s; app.canvas.setDirty(true, true); app.canvas.draw(true, true);"
        )
        import time  # noqa: PLC0415

        time.sleep(0.5)
        box = page.js(NODES_BOX_JS)
        with Image.open(io.BytesIO(driver.get_screenshot_as_png())) as im:
            k = box[4]
            crop = im.convert("RGB").crop(tuple(round(v * k) for v in box[:4]))
            out.parent.mkdir(parents=True, exist_ok=True)
            crop.save(out, optimize=True)
    return out


def main() -> None:
    paths = ComfyPaths.from_env()
    if paths is None:
        raise SystemExit("source $LSE_CACHE/env.sh first (COMFYUI_PATH is not set)")
    tmp = Path(tempfile.mkdtemp(prefix="lse-build-bp-"))
    server = start_server(make_base_directory(tmp), paths)
    try:
        for name, path in build_all(node_specs(server.object_info())).items():
            print(f"wrote {path.relative_to(REPO_ROOT)} ({name})")
        if "--picture" in sys.argv:
            print(f"wrote {render_picture(server).relative_to(REPO_ROOT)}")
    finally:
        server.stop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
