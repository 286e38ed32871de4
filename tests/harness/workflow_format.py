"""Workflow formats: node specs from /object_info, UI-graph validation, UI -> API conversion.

UI format (what the canvas saves, `version: 0.4`): `nodes` with `inputs` (sockets first, then one
entry per widget with `widget: {name}`), `outputs`, `widgets_values` by position; `links` as
`[id, origin_id, origin_slot, target_id, target_slot, type]`. An INT widget named seed/noise_seed
(or declaring `control_after_generate`) is followed in `widgets_values` by its hidden
"control after generate" value, as the frontend (1.32.9) does; an image-upload COMBO (LoadImage)
by its upload button's value, "image".

API format (what POST /prompt executes): `{id: {class_type, inputs, _meta}}`.
Pure Python: no ComfyUI import; node definitions come from a live server's /object_info.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

WIDGET_TYPES = frozenset({"INT", "FLOAT", "STRING", "BOOLEAN", "COMBO"})
CONTROL_VALUES = ("fixed", "increment", "decrement", "randomize")
UPLOAD_VALUE = "image"  # what the frontend saves for LoadImage's upload button
# Frontend-only nodes: never sent to the server.
FRONTEND_ONLY = frozenset({"Note", "MarkdownNote"})
PACK_MODULE = "custom_nodes.latent-svd-edit"


@dataclass(frozen=True)
class WidgetSpec:
    name: str
    kind: str  # INT FLOAT STRING BOOLEAN COMBO
    options: Mapping[str, Any]
    choices: tuple[Any, ...] | None  # COMBO only
    control: bool  # followed by a hidden control_after_generate value
    required: bool
    upload: bool = False  # an image-upload combo, followed by the upload button's value

    @property
    def slots(self) -> int:
        """How many widgets_values entries the widget takes."""
        return 1 + self.control + self.upload


@dataclass(frozen=True)
class SocketSpec:
    name: str
    type: str
    required: bool


@dataclass(frozen=True)
class NodeSpec:
    type: str
    display_name: str
    python_module: str
    output_node: bool
    sockets: tuple[SocketSpec, ...]
    widgets: tuple[WidgetSpec, ...]
    outputs: tuple[tuple[str, str], ...]  # (name, type)

    @property
    def widget_value_count(self) -> int:
        return sum(w.slots for w in self.widgets)

    @property
    def is_core(self) -> bool:
        return self.python_module == "nodes" or self.python_module.startswith("comfy_extras")

    @property
    def is_pack(self) -> bool:
        return self.python_module == PACK_MODULE


def _input_kind(type_: Any) -> str:
    if isinstance(type_, list):
        return "COMBO"
    return str(type_)


def node_spec(node_type: str, info: Mapping[str, Any]) -> NodeSpec:
    """The frontend's view of one /object_info entry: sockets and widgets in slot order."""
    sockets: list[SocketSpec] = []
    widgets: list[WidgetSpec] = []
    order = info.get("input_order") or {}
    for section in ("required", "optional"):
        entries = info.get("input", {}).get(section, {}) or {}
        names = order.get(section) or list(entries)
        for name in names:
            spec = entries[name]
            type_ = spec[0]
            opts = spec[1] if len(spec) > 1 and isinstance(spec[1], dict) else {}
            kind = _input_kind(type_)
            if kind in WIDGET_TYPES and not opts.get("forceInput"):
                choices = None
                if kind == "COMBO":
                    choices = tuple(type_ if isinstance(type_, list) else opts.get("options", []))
                control = kind == "INT" and bool(
                    opts.get("control_after_generate", name in ("seed", "noise_seed"))
                )
                widgets.append(
                    WidgetSpec(
                        name,
                        kind,
                        opts,
                        choices,
                        control,
                        section == "required",
                        bool(opts.get("image_upload")),
                    )
                )
            else:
                sockets.append(SocketSpec(name, kind, section == "required"))
    outputs = tuple(
        zip(info.get("output_name", info.get("output", [])), info.get("output", []), strict=True)
    )
    return NodeSpec(
        node_type,
        info.get("display_name", node_type),
        info.get("python_module", ""),
        bool(info.get("output_node")),
        tuple(sockets),
        tuple(widgets),
        tuple((n, str(t)) for n, t in outputs),
    )


def node_specs(object_info: Mapping[str, Any]) -> dict[str, NodeSpec]:
    return {name: node_spec(name, info) for name, info in object_info.items()}


def widget_map(node: Mapping[str, Any], spec: NodeSpec) -> dict[str, Any]:
    """widget name -> value for one UI node (control values skipped)."""
    values = list(node.get("widgets_values") or [])
    out: dict[str, Any] = {}
    i = 0
    for w in spec.widgets:
        if i < len(values):
            out[w.name] = values[i]
        i += w.slots
    return out


def set_widget(node: dict[str, Any], spec: NodeSpec, name: str, value: Any) -> None:
    """Set one widget value in a UI node's widgets_values (by definition position)."""
    i = 0
    for w in spec.widgets:
        if w.name == name:
            node["widgets_values"][i] = value
            return
        i += w.slots
    raise KeyError(f"{spec.type} has no widget {name!r}")


def _types_compatible(out_type: str, in_type: str) -> bool:
    if "*" in (out_type, in_type):
        return True
    return bool(set(out_type.split(",")) & set(in_type.split(",")))


def _check_widget(w: WidgetSpec, value: Any, provided_files: Iterable[str]) -> str | None:
    o = w.options
    if w.kind == "INT":
        if not isinstance(value, int) or isinstance(value, bool):
            return f"{w.name}={value!r} is not an integer"
    elif w.kind == "FLOAT":
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            return f"{w.name}={value!r} is not a number"
    elif w.kind == "STRING":
        if not isinstance(value, str):
            return f"{w.name}={value!r} is not a string"
    elif w.kind == "BOOLEAN":
        if not isinstance(value, bool):
            return f"{w.name}={value!r} is not a boolean"
    elif w.kind == "COMBO":
        if value not in (w.choices or ()) and value not in set(provided_files):
            return f"{w.name}={value!r} is not one of {list(w.choices or ())[:20]}"
        return None
    if w.kind in ("INT", "FLOAT"):
        if "min" in o and value < o["min"]:
            return f"{w.name}={value} is below its minimum {o['min']}"
        if "max" in o and value > o["max"]:
            return f"{w.name}={value} is above its maximum {o['max']}"
    return None


def validate_ui_workflow(
    wf: Mapping[str, Any], specs: Mapping[str, NodeSpec], provided_files: Iterable[str] = ()
) -> list[str]:
    """Every problem that would stop the workflow loading or running as shipped; [] if none.

    `provided_files`: file names a file-list COMBO may name although the server does not list
    them yet (checkpoints the tests build, attributes another workflow saves).
    """
    problems: list[str] = []
    if wf.get("version") != 0.4:
        problems.append(f"version is {wf.get('version')!r}, expected 0.4 (UI format)")
    nodes = wf.get("nodes")
    links = wf.get("links")
    if not isinstance(nodes, list) or not isinstance(links, list):
        return problems + ["not a UI-format workflow (no nodes/links lists)"]
    by_id: dict[int, Mapping[str, Any]] = {}
    for n in nodes:
        if n["id"] in by_id:
            problems.append(f"duplicate node id {n['id']}")
        by_id[n["id"]] = n
    if by_id and wf.get("last_node_id", -1) < max(by_id):
        problems.append("last_node_id is below the largest node id")
    link_ids = [link[0] for link in links]
    if len(set(link_ids)) != len(link_ids):
        problems.append("duplicate link ids")
    if link_ids and wf.get("last_link_id", -1) < max(link_ids):
        problems.append("last_link_id is below the largest link id")
    files = set(provided_files)

    for link in links:
        if len(link) != 6:
            problems.append(f"link {link!r} does not have 6 fields")
            continue
        lid, oid, oslot, tid, tslot, ltype = link
        src, dst = by_id.get(oid), by_id.get(tid)
        if src is None or dst is None:
            problems.append(f"link {lid} joins a missing node ({oid} -> {tid})")
            continue
        outs, ins = src.get("outputs") or [], dst.get("inputs") or []
        if oslot >= len(outs) or lid not in (outs[oslot].get("links") or []):
            problems.append(f"link {lid}: node {oid} output {oslot} does not list it")
        elif outs[oslot]["type"] != ltype:
            problems.append(f"link {lid} type {ltype} != output type {outs[oslot]['type']}")
        if tslot >= len(ins) or ins[tslot].get("link") != lid:
            problems.append(f"link {lid}: node {tid} input {tslot} does not point back to it")
        elif not _types_compatible(ltype, ins[tslot]["type"]):
            problems.append(
                f"link {lid} type {ltype} cannot feed {dst['type']}."
                f"{ins[tslot]['name']} ({ins[tslot]['type']})"
            )

    link_by_id = {link[0]: link for link in links if len(link) == 6}
    for n in nodes:
        where = f"node {n['id']} ({n['type']})"
        for slot, inp in enumerate(n.get("inputs") or []):
            lid = inp.get("link")
            if lid is not None and (
                lid not in link_by_id or link_by_id[lid][3] != n["id"] or link_by_id[lid][4] != slot
            ):
                problems.append(f"{where} input {inp['name']} names link {lid} not ending there")
        for slot, out in enumerate(n.get("outputs") or []):
            for lid in out.get("links") or []:
                if (
                    lid not in link_by_id
                    or link_by_id[lid][1] != n["id"]
                    or link_by_id[lid][2] != slot
                ):
                    problems.append(
                        f"{where} output {out['name']} names link {lid} not starting there"
                    )
        if n["type"] in FRONTEND_ONLY:
            wv = n.get("widgets_values") or []
            if len(wv) != 1 or not isinstance(wv[0], str) or not wv[0].strip():
                problems.append(f"{where}: a note holds one non-empty text")
            continue
        spec = specs.get(n["type"])
        if spec is None:
            problems.append(f"{where}: node type is not defined by the server")
            continue
        if not (spec.is_core or spec.is_pack):
            problems.append(
                f"{where}: from {spec.python_module}, neither core ComfyUI nor this pack"
            )
        problems += [f"{where}: {p}" for p in _check_node(n, spec, files)]
    return problems


def _check_node(n: Mapping[str, Any], spec: NodeSpec, files: set[str]) -> list[str]:
    problems: list[str] = []
    inputs = n.get("inputs") or []
    by_name = {i["name"]: i for i in inputs}
    for s in spec.sockets:
        inp = by_name.get(s.name)
        if inp is None:
            if s.required:
                problems.append(f"socket {s.name} is missing")
            continue
        if inp.get("type") != s.type:
            problems.append(f"socket {s.name} has type {inp.get('type')}, defined {s.type}")
        if s.required and inp.get("link") is None:
            problems.append(f"required input {s.name} is not connected")
    known = {s.name for s in spec.sockets} | {w.name for w in spec.widgets}
    for name in by_name:
        if name not in known:
            problems.append(f"input {name} is not defined for this node")
    outs = n.get("outputs") or []
    # A definition may have gained outputs since the file was saved (core SaveImage did in
    # 0.33): the frontend appends them on load, so the file's outputs must be a prefix.
    if [(o["name"], o["type"]) for o in outs] != [tuple(o) for o in spec.outputs[: len(outs)]]:
        problems.append(
            f"outputs {[(o['name'], o['type']) for o in outs]} != defined {list(spec.outputs)}"
        )
    values = list(n.get("widgets_values") or [])
    if len(values) != spec.widget_value_count:
        problems.append(
            f"{len(values)} widget values, the definition needs "
            f"{spec.widget_value_count} ({[w.name for w in spec.widgets]})"
        )
        return problems
    i = 0
    for w in spec.widgets:
        linked = by_name.get(w.name, {}).get("link") is not None
        if not linked:
            err = _check_widget(w, values[i], files)
            if err:
                problems.append(err)
        if w.control and values[i + 1] not in CONTROL_VALUES:
            problems.append(
                f"{w.name}'s control value {values[i + 1]!r} is not one of {CONTROL_VALUES}"
            )
        if w.upload and values[i + 1] != UPLOAD_VALUE:
            problems.append(f"{w.name}'s upload value {values[i + 1]!r} is not {UPLOAD_VALUE!r}")
        i += w.slots
    return problems


def ui_to_api(wf: Mapping[str, Any], specs: Mapping[str, NodeSpec]) -> dict[str, Any]:
    """Convert a UI workflow to the API prompt the frontend's graphToPrompt would send.

    Notes and muted nodes (mode 2) are dropped; bypassed nodes (mode 4) are not supported.
    """
    links = {link[0]: link for link in wf["links"]}
    prompt: dict[str, Any] = {}
    for n in wf["nodes"]:
        if n["type"] in FRONTEND_ONLY or n.get("mode", 0) == 2:
            continue
        if n.get("mode", 0) == 4:
            raise ValueError(f"node {n['id']} is bypassed; this converter does not follow bypass")
        spec = specs[n["type"]]
        inputs: dict[str, Any] = {}
        by_name = {i["name"]: i for i in n.get("inputs") or []}
        for name, value in widget_map(n, spec).items():
            if by_name.get(name, {}).get("link") is None:
                inputs[name] = copy.deepcopy(value)
        for name, inp in by_name.items():
            lid = inp.get("link")
            if lid is not None:
                link = links[lid]
                inputs[name] = [str(link[1]), link[2]]
        prompt[str(n["id"])] = {
            "inputs": inputs,
            "class_type": n["type"],
            "_meta": {"title": n.get("title") or spec.display_name},
        }
    return prompt
