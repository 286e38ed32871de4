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
0.33's own `blueprints/`. The inner graph is built with build_workflows.Graph and validated with
the same checks as the example workflows.
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from harness.build_workflows import (  # noqa: E402
    NEGATIVE_PROMPT,
    SOURCE_PROMPT,
    TARGET_PROMPT,
    Graph,
    decompose,
)
from harness.server import REPO_ROOT, ComfyPaths, make_base_directory, start_server  # noqa: E402
from harness.workflow_format import NodeSpec, node_specs, validate_ui_workflow  # noqa: E402

OUT_DIR = REPO_ROOT / "subgraphs"
CATEGORY = "latent/singular value edit"
LEARN = "Learn Attribute from Prompt Pair (singular values)"
GENERATE = "Generate with Attribute (singular values)"
PHOTO = "Edit Photo with Attribute (singular values)"
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
_NS = uuid.UUID("5b0d5a53-7d1c-4f43-9f5e-2b4c3e0a7a11")  # stable ids across rebuilds
INPUT_NODE, OUTPUT_NODE = -10, -20


@dataclass
class Port:
    """One input of the blueprint node: a socket (value None) or a widget (value = default)."""

    name: str
    type: str
    targets: list[tuple[int, str]]  # (inner node, input name)
    value: Any = None
    widget: bool = False


@dataclass
class Blueprint:
    name: str
    description: str
    graph: Graph
    inputs: list[Port] = field(default_factory=list)
    outputs: list[tuple[str, str, int, int | str]] = field(default_factory=list)

    def socket(self, name: str, type_: str, *targets: tuple[int, str]) -> None:
        self.inputs.append(Port(name, type_, list(targets)))

    def widget(self, name: str, *targets: tuple[int, str], value: Any = None) -> None:
        """A widget on the outer node, feeding the named widget of every target node."""
        node_id, input_name = targets[0]
        spec = self.graph.specs[self.graph.nodes[node_id - 1]["type"]]
        w = next(w for w in spec.widgets if w.name == input_name)
        self.inputs.append(Port(name, w.kind, list(targets), DEFAULTS.get(name, value), True))

    def output(self, name: str, type_: str, node_id: int, slot: int | str) -> None:
        self.outputs.append((name, type_, node_id, slot))


# --- the inner graphs -----------------------------------------------------------------------


@dataclass(frozen=True)
class Common:
    """Ids of what every blueprint shares: prompts, step plan, and the widgets they take."""

    source: int
    target: int
    negative: int
    plan: int


def prompts_and_plan(bp: Blueprint, x: float = 0) -> Common:
    g = bp.graph
    source = g.node(
        "CLIPTextEncode", (x, 0), {"text": SOURCE_PROMPT}, title="Source prompt", size=(380, 140)
    )
    target = g.node(
        "CLIPTextEncode", (x, 180), {"text": TARGET_PROMPT}, title="Target prompt", size=(380, 140)
    )
    negative = g.node(
        "CLIPTextEncode",
        (x, 360),
        {"text": NEGATIVE_PROMPT},
        title="Negative prompt",
        size=(380, 120),
    )
    plan = g.node(
        "SingularEditSteps",
        (x, 520),
        {k: DEFAULTS[k] for k in ("steps", "edit_step", "delta")},
        size=(320, 130),
    )
    return Common(source, target, negative, plan)


def ksampler(
    bp: Blueprint,
    c: Common,
    pos: tuple[float, float],
    positive: int,
    latent: int,
    title: str,
    *,
    start: str | None,
    end: str | None,
    add_noise: bool,
    leftover: bool,
) -> int:
    """A KSamplerAdvanced whose steps come from the plan ('edit_step' / 'target_step' outputs,
    None = 0 for start and 'to the end' for end)."""
    g = bp.graph
    values = {
        "add_noise": "enable" if add_noise else "disable",
        "noise_seed": DEFAULTS["seed"],
        "steps": DEFAULTS["steps"],
        "cfg": DEFAULTS["cfg"],
        "sampler_name": DEFAULTS["sampler_name"],
        "scheduler": DEFAULTS["scheduler"],
        "start_at_step": 0,
        "end_at_step": 10000,
        "return_with_leftover_noise": "enable" if leftover else "disable",
    }
    steps_of = {
        "edit_step": DEFAULTS["edit_step"],
        "target_step": DEFAULTS["edit_step"] + DEFAULTS["delta"],
    }
    if start:
        values["start_at_step"] = steps_of[start]
    if end:
        values["end_at_step"] = steps_of[end]
    node = g.node("KSamplerAdvanced", pos, values, title=title, size=(320, 330))
    g.connect(positive, 0, node, "positive")
    g.connect(c.negative, 0, node, "negative")
    g.connect(latent, 0, node, "latent_image")
    g.connect(c.plan, "steps", node, "steps")
    if start:
        g.connect(c.plan, start, node, "start_at_step")
    if end:
        g.connect(c.plan, end, node, "end_at_step")
    return node


def expose_common(
    bp: Blueprint, c: Common, samplers: list[int], apply_: int, seeds: list[tuple[int, str]]
) -> None:
    """The widgets every blueprint shows, in the order a user fills them in."""
    bp.widget("source_prompt", (c.source, "text"), value=SOURCE_PROMPT)
    bp.widget("target_prompt", (c.target, "text"), value=TARGET_PROMPT)
    bp.widget("negative_prompt", (c.negative, "text"), value=NEGATIVE_PROMPT)
    bp.widget("seed", *seeds)
    bp.widget("steps", (c.plan, "steps"))
    bp.widget("cfg", *[(s, "cfg") for s in samplers])
    bp.widget("sampler_name", *[(s, "sampler_name") for s in samplers])
    bp.widget("scheduler", *[(s, "scheduler") for s in samplers])
    bp.widget("edit_step", (c.plan, "edit_step"))
    bp.widget("delta", (c.plan, "delta"))
    bp.widget("strength", (apply_, "strength"))


@dataclass(frozen=True)
class Pair:
    """A step-k latent x and its noise-matched branches, decomposed."""

    x: int  # the node whose output 0 is x
    source_branch: int
    dsource_branch: int
    target_branch: int
    dtarget_branch: int


def branches(bp: Blueprint, c: Common, x: int, col: float) -> Pair:
    """The source and the target prompt each continued from x for delta steps (k to
    k + delta, no new noise, leftover noise kept), decomposed in the next column."""
    g = bp.graph
    made = [
        ksampler(
            bp,
            c,
            (col, 380 * row),
            prompt,
            x,
            f"{what} branch: k to k + delta",
            start="edit_step",
            end="target_step",
            add_noise=False,
            leftover=True,
        )
        for row, (prompt, what) in enumerate(((c.source, "Source"), (c.target, "Target")))
    ]
    ds = decompose(g, made[0], (col + 360, 0), "Decompose source branch")
    dt = decompose(g, made[1], (col + 360, 380), "Decompose target branch")
    return Pair(x, made[0], ds, made[1], dt)


def generated_pair(bp: Blueprint, c: Common) -> tuple[int, Pair]:
    """Empty latent, x = the source prompt to step k from one seed, and its two branches.
    Returns (empty latent, the pair)."""
    g = bp.graph
    empty = g.node(
        "EmptyLatentImage",
        (0, 700),
        {"width": DEFAULTS["width"], "height": DEFAULTS["height"], "batch_size": 1},
        size=(320, 110),
    )
    src = ksampler(
        bp,
        c,
        (0, 0),
        c.source,
        empty,
        "Source to step k (x)",
        start=None,
        end="edit_step",
        add_noise=True,
        leftover=True,
    )
    return empty, branches(bp, c, src, 440)


def apply_and_continue(
    bp: Blueprint,
    c: Common,
    pair: Pair,
    attribute: int | None,
    unedited: bool,
    x: float,
) -> tuple[int, int, int | None]:
    """Apply (strength) the edit between the branches to the source branch x_s (local: where
    the branches differ) -> recompose -> continue from k + delta with the source prompt; and,
    if ``unedited``, x_s's own continuation (the source branch is the first delta steps of
    both, so the edit costs delta extra steps). Returns (apply, edited sampler, unedited
    sampler or None)."""
    g = bp.graph
    apply_ = g.node(
        "ApplySingularEdit", (x, 0), {"strength": DEFAULTS["strength"]}, size=(320, 140)
    )
    g.connect(pair.dsource_branch, 0, apply_, "latent_svd")
    if attribute is not None:
        g.connect(attribute, "attribute", apply_, "attribute")
    g.connect(pair.dtarget_branch, 0, apply_, "target")
    g.connect(pair.dsource_branch, 0, apply_, "source_branch")
    rec = g.node("LatentRecompose", (x, 180), size=(280, 60))
    g.connect(apply_, 0, rec, "latent_svd")
    edited = ksampler(
        bp,
        c,
        (x + 360, 0),
        c.source,
        rec,
        "Edited: continue from k + delta",
        start="target_step",
        end=None,
        add_noise=False,
        leftover=False,
    )
    if not unedited:
        return apply_, edited, None
    plain = ksampler(
        bp,
        c,
        (x + 360, 380),
        c.source,
        pair.source_branch,
        "Unedited: continue from k + delta",
        start="target_step",
        end=None,
        add_noise=False,
        leftover=False,
    )
    return apply_, edited, plain


def learn_blueprint(specs: dict[str, NodeSpec]) -> Blueprint:
    bp = Blueprint(
        LEARN,
        "Learns an attribute (e.g. smiling) from a source and a target prompt on one "
        "seed and edits that seed with it: both prompts continue from the source's step-k "
        "latent for delta steps, the edit between them is added to the source branch where "
        "they differ, and the source prompt finishes from k + delta. Outputs the attribute "
        "(save it or connect it to 'Generate with Attribute'), the edited and the unedited "
        "latent.",
        Graph(specs),
    )
    g = bp.graph
    c = prompts_and_plan(bp, x=-440)
    empty, pair = generated_pair(bp, c)
    learn = g.node("LearnAttributeFromPair", (1140, 0), {"name": "attribute"}, size=(340, 520))
    g.connect(pair.dsource_branch, 0, learn, "source")
    g.connect(pair.dtarget_branch, 0, learn, "target")
    apply_, edited, plain = apply_and_continue(bp, c, pair, learn, True, 1520)
    assert plain is not None
    samplers = [pair.x, pair.source_branch, pair.target_branch, edited, plain]
    bp.socket("model", "MODEL", *[(s, "model") for s in samplers])
    bp.socket("clip", "CLIP", (c.source, "clip"), (c.target, "clip"), (c.negative, "clip"))
    expose_common(bp, c, samplers, apply_, [(s, "noise_seed") for s in samplers])
    bp.widget("width", (empty, "width"))
    bp.widget("height", (empty, "height"))
    bp.output("attribute", "SVD_ATTRIBUTE", learn, "attribute")
    bp.output("edited", "LATENT", edited, 0)
    bp.output("unedited", "LATENT", plain, 0)
    return bp


def generate_blueprint(specs: dict[str, NodeSpec]) -> Blueprint:
    bp = Blueprint(
        GENERATE,
        "Applies an attribute learned from branch pairs (the learn blueprint's, or "
        "loaded) to a new generation: the seed's source latent at step k, its own "
        "source and target branches (k to k + delta), the edit between them added to the "
        "source branch at the chosen strength, then the source prompt to the end. "
        "strength 0 = the plain generation.",
        Graph(specs),
    )
    c = prompts_and_plan(bp, x=-440)
    empty, pair = generated_pair(bp, c)
    apply_, edited, _ = apply_and_continue(bp, c, pair, None, False, 1140)
    samplers = [pair.x, pair.source_branch, pair.target_branch, edited]
    bp.socket("model", "MODEL", *[(s, "model") for s in samplers])
    bp.socket("clip", "CLIP", (c.source, "clip"), (c.target, "clip"), (c.negative, "clip"))
    bp.socket("attribute", "SVD_ATTRIBUTE", (apply_, "attribute"))
    expose_common(bp, c, samplers, apply_, [(s, "noise_seed") for s in samplers])
    bp.widget("width", (empty, "width"))
    bp.widget("height", (empty, "height"))
    bp.output("LATENT", "LATENT", edited, 0)
    return bp


def photo_blueprint(specs: dict[str, NodeSpec]) -> Blueprint:
    bp = Blueprint(
        PHOTO,
        "Edits an image you already have with an attribute learned from "
        "branch pairs (learned or loaded): encode, add noise to the level of step k, "
        "run the source and the target prompt from there to k + delta, add the edit "
        "between them to the source branch, continue from k + delta with the source prompt "
        "(which should describe the photo), decode. Also returns the photo re-generated "
        "without the edit (= strength 0).",
        Graph(specs),
    )
    g = bp.graph
    c = prompts_and_plan(bp, x=-440)
    enc = g.node("VAEEncode", (0, 0), size=(220, 60))
    sched = g.node(
        "BasicScheduler",
        (0, 120),
        {"scheduler": DEFAULTS["scheduler"], "steps": DEFAULTS["steps"]},
        size=(300, 110),
    )
    g.connect(c.plan, "steps", sched, "steps")
    split = g.node(
        "SplitSigmas",
        (0, 280),
        {"step": DEFAULTS["edit_step"]},
        title="Sigmas from step k on",
        size=(300, 80),
    )
    g.connect(sched, 0, split, "sigmas")
    g.connect(c.plan, "edit_step", split, "step")
    noise = g.node("RandomNoise", (0, 400), {"noise_seed": DEFAULTS["seed"]}, size=(300, 80))
    noisy = g.node(
        "AddNoise", (360, 0), title="Photo at the noise level of step k", size=(300, 110)
    )
    g.connect(noise, 0, noisy, "noise")
    g.connect(split, "low_sigmas", noisy, "sigmas")
    g.connect(enc, 0, noisy, "latent_image")
    pair = branches(bp, c, noisy, 720)
    apply_, edited, plain = apply_and_continue(bp, c, pair, None, True, 1440)
    assert plain is not None
    decoded = []
    for y, latent in ((0, edited), (380, plain)):
        dec = g.node("VAEDecode", (2160, y), size=(220, 60))
        g.connect(latent, 0, dec, "samples")
        decoded.append(dec)
    samplers = [pair.source_branch, pair.target_branch, edited, plain]
    bp.socket(
        "model", "MODEL", (sched, "model"), (noisy, "model"), *[(s, "model") for s in samplers]
    )
    bp.socket("clip", "CLIP", (c.source, "clip"), (c.target, "clip"), (c.negative, "clip"))
    bp.socket("vae", "VAE", (enc, "vae"), *[(d, "vae") for d in decoded])
    bp.socket("image", "IMAGE", (enc, "pixels"))
    bp.socket("attribute", "SVD_ATTRIBUTE", (apply_, "attribute"))
    expose_common(
        bp, c, samplers, apply_, [(noise, "noise_seed")] + [(s, "noise_seed") for s in samplers]
    )
    bp.output("edited", "IMAGE", decoded[0], 0)
    bp.output("unedited", "IMAGE", decoded[1], 0)
    return bp


BLUEPRINTS = {LEARN: learn_blueprint, GENERATE: generate_blueprint, PHOTO: photo_blueprint}


# --- serialisation --------------------------------------------------------------------------


def _uuid(*parts: str) -> str:
    return str(uuid.uuid5(_NS, "/".join(parts)))


def to_json(bp: Blueprint) -> dict[str, Any]:
    """The blueprint file: one outer node, one subgraph definition."""
    inner = bp.graph.to_json()
    nodes = json.loads(json.dumps(inner["nodes"]))
    by_id = {n["id"]: n for n in nodes}
    links = [
        {
            "id": lid,
            "origin_id": o,
            "origin_slot": os_,
            "target_id": t,
            "target_slot": ts,
            "type": ty,
        }
        for lid, o, os_, t, ts, ty in inner["links"]
    ]
    next_link = max((lk["id"] for lk in links), default=0) + 1
    sg_inputs, sg_outputs, outer_inputs, proxy, values = [], [], [], [], []
    for i, port in enumerate(bp.inputs):
        link_ids = []
        for node_id, input_name in port.targets:
            node = by_id[node_id]
            slot = next(j for j, inp in enumerate(node["inputs"]) if inp["name"] == input_name)
            if node["inputs"][slot]["link"] is not None:
                raise ValueError(f"{bp.name}: {node['type']}.{input_name} is already linked")
            node["inputs"][slot]["link"] = next_link
            if port.widget:  # keep the inner widget equal to the outer default
                _set_inner_widget(bp.graph.specs[node["type"]], node, input_name, port.value)
            links.append(
                {
                    "id": next_link,
                    "origin_id": INPUT_NODE,
                    "origin_slot": i,
                    "target_id": node_id,
                    "target_slot": slot,
                    "type": port.type,
                }
            )
            link_ids.append(next_link)
            next_link += 1
        sg_inputs.append(
            {
                "id": _uuid(bp.name, "in", port.name),
                "name": port.name,
                "type": port.type,
                "linkIds": link_ids,
                "localized_name": port.name,
                "pos": [-280, 20 * i],
            }
        )
        entry: dict[str, Any] = {
            "localized_name": port.name,
            "name": port.name,
            "type": port.type,
            "link": None,
        }
        if port.widget:
            entry["widget"] = {"name": port.name}
            proxy.append(["-1", port.name])
            values.append(port.value)
        outer_inputs.append(entry)
    for j, (name, type_, node_id, slot) in enumerate(bp.outputs):
        node = by_id[node_id]
        oslot = slot if isinstance(slot, int) else [o["name"] for o in node["outputs"]].index(slot)
        node["outputs"][oslot]["links"] = (node["outputs"][oslot]["links"] or []) + [next_link]
        links.append(
            {
                "id": next_link,
                "origin_id": node_id,
                "origin_slot": oslot,
                "target_id": OUTPUT_NODE,
                "target_slot": j,
                "type": type_,
            }
        )
        sg_outputs.append(
            {
                "id": _uuid(bp.name, "out", name),
                "name": name,
                "type": type_,
                "linkIds": [next_link],
                "localized_name": name,
                "pos": [2600, 20 * j],
            }
        )
        next_link += 1
    xs = [n["pos"][0] for n in nodes]
    ys = [n["pos"][1] for n in nodes]
    sg_id = _uuid(bp.name)
    outer_id = max(by_id) + 1
    subgraph = {
        "id": sg_id,
        "version": 1,
        "state": {
            "lastGroupId": 0,
            "lastNodeId": outer_id,
            "lastLinkId": next_link - 1,
            "lastRerouteId": 0,
        },
        "revision": 0,
        "config": {},
        "name": bp.name,
        "description": bp.description,
        "category": CATEGORY,
        "inputNode": {
            "id": INPUT_NODE,
            "bounding": [min(xs) - 300, min(ys), 120, 40 + 20 * len(sg_inputs)],
        },
        "outputNode": {
            "id": OUTPUT_NODE,
            "bounding": [max(xs) + 460, min(ys), 120, 40 + 20 * len(sg_outputs)],
        },
        "inputs": sg_inputs,
        "outputs": sg_outputs,
        "widgets": [],
        "nodes": nodes,
        "groups": [],
        "links": links,
        "extra": {"workflowRendererVersion": "LG"},
    }
    outer = {
        "id": outer_id,
        "type": sg_id,
        "pos": [0, 0],
        "size": [400, 40 + 26 * len(bp.inputs)],
        "flags": {},
        "order": 0,
        "mode": 0,
        "inputs": outer_inputs,
        "outputs": [
            {"localized_name": name, "name": name, "type": type_, "links": []}
            for name, type_, _, _ in bp.outputs
        ],
        "title": bp.name,
        "properties": {"proxyWidgets": proxy},
        "widgets_values": values,
    }
    return {
        "revision": 0,
        "last_node_id": outer_id,
        "last_link_id": 0,
        "nodes": [outer],
        "links": [],
        "version": 0.4,
        "definitions": {"subgraphs": [subgraph]},
        "extra": {"BlueprintDescription": bp.description},
    }


def _set_inner_widget(spec: NodeSpec, node: dict[str, Any], name: str, value: Any) -> None:
    i = 0
    for w in spec.widgets:
        if w.name == name:
            node["widgets_values"][i] = value
            return
        i += w.slots
    raise KeyError(f"{spec.type} has no widget {name!r}")


def validate_blueprint(data: dict[str, Any], specs: dict[str, NodeSpec]) -> list[str]:
    """Problems of the inner graph as a UI workflow (subgraph ports count as connected) and of
    the outer node; [] if none."""
    (sg,) = data["definitions"]["subgraphs"]
    (outer,) = data["nodes"]
    problems = []
    if outer["type"] != sg["id"]:
        problems.append("the outer node is not an instance of the subgraph")
    ports = [
        lk
        for lk in sg["links"]
        if INPUT_NODE in (lk["origin_id"],) or lk["target_id"] == OUTPUT_NODE
    ]
    inner_links = [
        [
            lk["id"],
            lk["origin_id"],
            lk["origin_slot"],
            lk["target_id"],
            lk["target_slot"],
            lk["type"],
        ]
        for lk in sg["links"]
        if lk not in ports
    ]
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
    out_dir.mkdir(exist_ok=True)
    written = {}
    for name, make in BLUEPRINTS.items():
        data = to_json(make(specs))
        problems = validate_blueprint(data, specs)
        if problems:
            raise ValueError(f"{name}: " + "; ".join(problems))
        path = out_dir / f"{name}.json"
        path.write_text(json.dumps(data, indent=1) + "\n")
        written[name] = path
    return written


PICTURE = REPO_ROOT / "docs" / "blueprint_nodes.png"


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
        box = page.js("""
            const r = app.canvas.canvas.getBoundingClientRect(), ds = app.canvas.ds;
            let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
            for (const n of app.graph.nodes) {
              x0 = Math.min(x0, n.pos[0]); y0 = Math.min(y0, n.pos[1] - 40);
              x1 = Math.max(x1, n.pos[0] + n.size[0]); y1 = Math.max(y1, n.pos[1] + n.size[1]);
            }
            const sx = v => r.left + (v + ds.offset[0]) * ds.scale;
            const sy = v => r.top + (v + ds.offset[1]) * ds.scale;
            return [sx(x0) - 16, sy(y0) - 16, sx(x1) + 16, sy(y1) + 16,
                    window.devicePixelRatio || 1];""")
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
