"""UI-format graphs from a declarative description, laid out from live node definitions.

A description is an ordered mapping name -> Node. A Node names where each of its inputs comes
from: "name" is output 0 of that node, "name.OUTPUT" its output called OUTPUT, None leaves the
input unlinked (a blueprint links it from outside). Node ids follow the description's order and
link ids the order of each node's inputs, so the same description and node definitions always
give the same bytes. Widget values are laid out from /object_info (definition order, the hidden
control_after_generate value after seed widgets, the upload value after LoadImage's image).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.workflow_format import UPLOAD_VALUE, NodeSpec, WidgetSpec

Pos = tuple[float, float]
# Newer frontends fold inputs a node marks advanced (0.33 marks KSamplerAdvanced's step and noise
# fields so, exactly where the method's k and k + delta live); the node's own flag keeps them
# shown when a file loads.
SHOW_ADVANCED = frozenset({"KSamplerAdvanced"})
NOTE_COLOR = {"color": "#432", "bgcolor": "#653"}


@dataclass(frozen=True)
class Node:
    """One node of a description; widgets not given take their definition's default."""

    type: str
    pos: Pos
    size: Pos
    widgets: Mapping[str, Any] = field(default_factory=dict)
    title: str | None = None
    inputs: Mapping[str, str | None] = field(default_factory=dict)


@dataclass(frozen=True)
class Note:
    """A Note node: text for the reader, no sockets."""

    title: str
    pos: Pos
    size: Pos
    text: str


Nodes = dict[str, Node]


def merge(*parts: Nodes) -> Nodes:
    """The parts in order as one description; a name given twice is a mistake, not an override."""
    merged: Nodes = {}
    for part in parts:
        if clash := merged.keys() & part.keys():
            raise ValueError(f"node names used twice: {sorted(clash)}")
        merged |= part
    return merged


def widget_values(spec: NodeSpec, widgets: Mapping[str, Any]) -> list[Any]:
    """widgets_values in definition order, with the hidden values the frontend saves."""
    unknown = widgets.keys() - {w.name for w in spec.widgets}
    if unknown:
        raise KeyError(f"{spec.type} has no widgets {sorted(unknown)}")
    values: list[Any] = []
    for w in spec.widgets:
        values.append(widgets[w.name] if w.name in widgets else _default(spec, w))
        if w.control:
            values.append("fixed")  # reproducible examples: never re-roll the seed
        if w.upload:
            values.append(UPLOAD_VALUE)
    return values


def _default(spec: NodeSpec, w: WidgetSpec) -> Any:
    if "default" in w.options:
        return w.options["default"]
    if w.kind == "COMBO" and w.choices:
        return w.choices[0]
    raise ValueError(f"{spec.type}.{w.name} has no default; give a value")


def node_sockets(spec: NodeSpec) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """A fresh node's unlinked inputs (sockets, then one per widget) and outputs."""
    inputs = [
        {"localized_name": s.name, "name": s.name, "type": s.type, "link": None}
        | ({} if s.required else {"shape": 7})
        for s in spec.sockets
    ]
    inputs += [
        {
            "localized_name": w.name,
            "name": w.name,
            "type": w.kind,
            "widget": {"name": w.name},
            "link": None,
        }
        for w in spec.widgets
    ]
    outputs = [
        {"localized_name": name, "name": name, "type": t, "links": None} for name, t in spec.outputs
    ]
    return inputs, outputs


@dataclass
class Graph:
    """A UI-format graph under construction; node/link ids are assigned in creation order."""

    specs: Mapping[str, NodeSpec]
    nodes: list[dict[str, Any]] = field(default_factory=list)
    links: list[list[Any]] = field(default_factory=list)
    ids: dict[str, int] = field(default_factory=dict)

    @classmethod
    def of(cls, specs: Mapping[str, NodeSpec], nodes: Nodes, notes: Iterable[Note] = ()) -> Graph:
        """The described nodes, each linked as it is added, then the notes."""
        g = cls(specs)
        for name, node in nodes.items():
            g.ids[name] = g.add(node)
            for input_name, source in node.inputs.items():
                if source is not None:
                    g.connect(source, g.ids[name], input_name)
        for note in notes:
            g.note(note)
        return g

    def add(self, node: Node) -> int:
        spec = self.specs[node.type]
        inputs, outputs = node_sockets(spec)
        entry: dict[str, Any] = {
            "id": len(self.nodes) + 1,
            "type": node.type,
            "pos": list(node.pos),
            "size": list(node.size),
            "flags": {},
            "order": 0,
            "mode": 0,
            "inputs": inputs,
            "outputs": outputs,
            "properties": {"Node name for S&R": node.type},
            "widgets_values": widget_values(spec, node.widgets),
        }
        if node.title:
            entry["title"] = node.title
        if node.type in SHOW_ADVANCED:
            entry["showAdvanced"] = True
        self.nodes.append(entry)
        return entry["id"]

    def note(self, note: Note) -> None:
        self.nodes.append(
            {
                "id": len(self.nodes) + 1,
                "type": "Note",
                "pos": list(note.pos),
                "size": list(note.size),
                "flags": {},
                "order": 0,
                "mode": 0,
                "inputs": [],
                "outputs": [],
                "title": note.title,
                "properties": {},
                "widgets_values": [note.text],
                **NOTE_COLOR,
            }
        )

    def connect(self, source: str, dst: int, input_name: str) -> None:
        """Link ``source`` ("name" or "name.OUTPUT") to input ``input_name`` of node ``dst``."""
        src_name, _, output = source.partition(".")
        if src_name not in self.ids:  # a description links only to nodes above the node
            raise KeyError(f"node {dst} ({input_name}) links to {src_name!r}: no node above")
        src = self.ids[src_name]
        s, d = self.nodes[src - 1], self.nodes[dst - 1]
        oslot = [o["name"] for o in s["outputs"]].index(output) if output else 0
        tslot = [i["name"] for i in d["inputs"]].index(input_name)
        if d["inputs"][tslot]["link"] is not None:
            raise ValueError(f"{d['type']}.{input_name} is already connected")
        link_id = len(self.links) + 1
        self.links.append([link_id, src, oslot, dst, tslot, s["outputs"][oslot]["type"]])
        s["outputs"][oslot]["links"] = (s["outputs"][oslot]["links"] or []) + [link_id]
        d["inputs"][tslot]["link"] = link_id

    def to_json(self) -> dict[str, Any]:
        self._order()
        return {
            "last_node_id": len(self.nodes),
            "last_link_id": len(self.links),
            "nodes": self.nodes,
            "links": self.links,
            "groups": [],
            "config": {},
            "extra": {"ds": {"scale": 0.55, "offset": [40, 80]}},
            "version": 0.4,
        }

    def _order(self) -> None:
        """Execution order as the canvas stores it (a topological order; notes first)."""
        deps = {n["id"]: {link[1] for link in self.links if link[3] == n["id"]} for n in self.nodes}
        done: list[int] = []
        while len(done) < len(self.nodes):
            ready = [i for i in sorted(deps) if i not in done and deps[i] <= set(done)]
            if not ready:
                raise ValueError("the graph has a cycle")
            done.append(ready[0])
        for order, node_id in enumerate(done):
            self.nodes[node_id - 1]["order"] = order


def write_validated(
    makers: Mapping[str, Callable[[], dict[str, Any]]],
    problems_of: Callable[[dict[str, Any]], list[str]],
    out_dir: Path,
) -> dict[str, Path]:
    """<name>.json in ``out_dir`` for each maker, each checked before it is written."""
    out_dir.mkdir(exist_ok=True)
    written = {}
    for name, make in makers.items():
        data = make()
        if problems := problems_of(data):
            raise ValueError(f"{name}: " + "; ".join(problems))
        path = out_dir / f"{name}.json"
        path.write_text(json.dumps(data, indent=1) + "\n")
        written[name] = path
    return written
