"""Shared pieces of the reliability tests: a test-only LATENT source node and graph helpers.

ComfyUI's own empty-latent nodes only make zeros in float32. To feed the pack every latent a
user can produce (random values, float16/bfloat16/float64, odd sizes, NaN/Inf from a diverged
sampler, a nested multi-stream latent) the tests register one extra node class,
``LSERelLatent``, in ComfyUI's node registry (``nodes.NODE_CLASS_MAPPINGS``, the table custom
node packs fill) once the real ComfyUI has booted. Nothing of ComfyUI is replaced: the
executor, the validation and the cache are the real ones, and this node runs through them
like any custom node.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import torch
from harness.comfy_runtime import ComfyRuntime
from harness.sink import AnySink

REPO_ROOT = Path(__file__).resolve().parents[2]
LATENT_NODE = "LSERelLatent"
SINK_NODE = "LSERelSink"
DTYPES: dict[str, torch.dtype] = {
    "float32": torch.float32,
    "float16": torch.float16,
    "bfloat16": torch.bfloat16,
    "float64": torch.float64,
}
FILLS = ("randn", "zeros", "nan", "inf", "nested")


def make_samples(shape: tuple[int, ...], dtype: torch.dtype, fill: str, seed: int) -> Any:
    """The ``samples`` value ``LSERelLatent`` outputs (a tensor, or a NestedTensor)."""
    gen = torch.Generator().manual_seed(seed)
    if fill == "zeros":
        return torch.zeros(shape, dtype=dtype)
    x = torch.randn(shape, generator=gen).to(dtype)
    if fill == "nan":
        x.view(-1)[x.numel() // 2] = float("nan")
    elif fill == "inf":
        x.view(-1)[-1] = float("inf")
    elif fill == "nested":
        # What a multi-stream model (video + audio) samples: comfy.nested_tensor.NestedTensor.
        import comfy.nested_tensor

        audio = torch.randn((shape[0], 8, 16), generator=gen).to(dtype)
        return comfy.nested_tensor.NestedTensor([x, audio])
    return x


class LSERelLatent:
    """Test-only node: a LATENT of any shape, dtype and content (see module docstring)."""

    @classmethod
    def INPUT_TYPES(cls) -> dict[str, Any]:  # noqa: N802 - ComfyUI's API name
        return {
            "required": {
                "shape": ("STRING", {"default": "1,4,8,8", "tooltip": "Comma-separated shape."}),
                "dtype": (list(DTYPES), {"tooltip": "dtype of samples."}),
                "fill": (list(FILLS), {"tooltip": "Content of samples."}),
                "seed": ("INT", {"default": 0, "min": 0, "max": 2**31 - 1, "tooltip": "Seed."}),
                "extras": (
                    "BOOLEAN",
                    {"default": False, "tooltip": "Add a noise_mask and a batch_index."},
                ),
            }
        }

    RETURN_TYPES = ("LATENT",)
    FUNCTION = "make"
    CATEGORY = "testing"

    def make(
        self, shape: str, dtype: str, fill: str, seed: int, extras: bool
    ) -> tuple[dict[str, Any]]:
        dims = tuple(int(s) for s in shape.split(","))
        out: dict[str, Any] = {"samples": make_samples(dims, DTYPES[dtype], fill, seed)}
        if extras:
            out["noise_mask"] = torch.rand(
                (dims[0], 1, *dims[-2:]), generator=torch.Generator().manual_seed(seed + 1)
            )
            out["batch_index"] = list(range(10, 10 + dims[0]))
        return (out,)


def register_test_nodes(rt: ComfyRuntime) -> None:
    """Add the test-only nodes to the booted ComfyUI's node registry (idempotent)."""
    for name, cls in ((LATENT_NODE, LSERelLatent), (SINK_NODE, AnySink)):
        rt.nodes.NODE_CLASS_MAPPINGS.setdefault(name, cls)
        rt.nodes.NODE_DISPLAY_NAME_MAPPINGS.setdefault(name, name)


def with_defaults(rt: ComfyRuntime, graph: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """``graph`` with every missing required widget of a pack node set to its schema default
    (so a widget added to a node later does not break these graphs)."""
    pack = pack_node_ids(rt)
    out: dict[str, dict[str, Any]] = {}
    for node_id, entry in graph.items():
        if entry["class_type"] in pack:
            inputs = dict(entry["inputs"])
            required = rt.node_class(entry["class_type"]).INPUT_TYPES().get("required", {})
            for name, spec in required.items():
                opts = spec[1] if len(spec) > 1 and isinstance(spec[1], dict) else {}
                if name not in inputs and "default" in opts:
                    inputs[name] = opts["default"]
            entry = {**entry, "inputs": inputs}
        out[node_id] = entry
    return out


def with_sinks(graph: dict[str, dict[str, Any]], *node_ids: str) -> dict[str, dict[str, Any]]:
    """``graph`` plus an output node on output 0 of each of ``node_ids`` (default: all nodes
    without an output node downstream), so every listed node runs."""
    out = dict(graph)
    for node_id in node_ids or tuple(graph):
        out[f"sink-{node_id}"] = {"class_type": SINK_NODE, "inputs": {"value": [node_id, 0]}}
    return out


def latent(
    shape: Iterable[int],
    dtype: str = "float32",
    fill: str = "randn",
    seed: int = 0,
    extras: bool = False,
) -> dict[str, Any]:
    """API-format entry of an ``LSERelLatent`` node."""
    return {
        "class_type": LATENT_NODE,
        "inputs": {
            "shape": ",".join(str(int(d)) for d in shape),
            "dtype": dtype,
            "fill": fill,
            "seed": seed,
            "extras": extras,
        },
    }


def node(class_type: str, **inputs: Any) -> dict[str, Any]:
    return {"class_type": class_type, "inputs": inputs}


def pack_node_ids(rt: ComfyRuntime) -> set[str]:
    """Every node id the pack registers (as ComfyUI's loader saw them)."""
    return rt.pack_node_ids()


def display_name(rt: ComfyRuntime, node_id: str) -> str:
    return rt.nodes.NODE_DISPLAY_NAME_MAPPINGS[node_id]


def learn(source: str, target: str, steps: int = 3, name: str = "rel", **over: Any) -> dict:
    """A fast 'Learn Attribute from Pair' entry (few steps, small predictor)."""
    inputs: dict[str, Any] = {
        "source": [source, 0],
        "target": [target, 0],
        "k_source": 16,
        "k_target": 16,
        "keep_tail": True,
        "steps": steps,
        "learning_rate": 0.004,
        "w_target": 1.0,
        "w_source": 1.0,
        "w_target_sv": 0.1,
        "w_source_sv": 0.1,
        "seed": 0,
        "hidden": 16,
        "name": name,
    }
    inputs.update(over)
    return {"class_type": "LearnAttributeFromPair", "inputs": inputs}


@dataclasses.dataclass(frozen=True)
class Failure:
    """What ComfyUI's executor reported for a failed prompt (its ``execution_error``)."""

    node_id: str
    node_type: str
    exception_type: str
    message: str
    traceback: list[str]

    def __str__(self) -> str:
        return json.dumps(dataclasses.asdict(self), indent=1)[:3000]


def failure(result: Any) -> Failure:
    err = result.error()
    assert err is not None, f"expected an execution_error; success={result.success}"
    return Failure(
        node_id=str(err["node_id"]),
        node_type=err["node_type"],
        exception_type=err["exception_type"],
        message=err["exception_message"],
        traceback=list(err.get("traceback") or []),
    )


def raised_in_pack(fail: Failure) -> bool:
    """True when the innermost traceback frame is this repository's code (the pack turned the
    problem into its own message), not torch or ComfyUI internals."""
    frames = [line for line in fail.traceback if line.lstrip().startswith("File ")]
    if not frames:
        return False
    last = frames[-1]
    return str(REPO_ROOT) in last or "latent-svd-edit" in last


def walk_tensors(value: Any, path: str = "") -> Iterable[tuple[str, torch.Tensor]]:
    """Every tensor inside an output value (dicts, lists, tuples, dataclasses, mappings)."""
    if isinstance(value, torch.Tensor):
        yield path, value
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for f in dataclasses.fields(value):
            yield from walk_tensors(getattr(value, f.name), f"{path}.{f.name}")
    elif hasattr(value, "items"):
        for k, v in value.items():
            yield from walk_tensors(v, f"{path}[{k!r}]")
    elif isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            yield from walk_tensors(v, f"{path}[{i}]")
    elif hasattr(value, "tensors") and getattr(value, "is_nested", False):
        yield from walk_tensors(value.tensors, f"{path}.tensors")


def snapshot(value: Any) -> dict[str, Any]:
    """A deep record of ``value``: every tensor cloned, plus dict keys and object identities."""
    return {
        "tensors": {
            p: (t, t.detach().clone(), t.dtype, tuple(t.shape), t.device)
            for p, t in walk_tensors(value)
        },
        "repr": _structure(value),
    }


def _structure(value: Any) -> Any:
    if isinstance(value, torch.Tensor):
        return ("tensor", id(value))
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return (
            type(value).__name__,
            id(value),
            {f.name: _structure(getattr(value, f.name)) for f in dataclasses.fields(value)},
        )
    if hasattr(value, "items"):
        return ("map", id(value), {str(k): _structure(v) for k, v in value.items()})
    if isinstance(value, (list, tuple)):
        return (type(value).__name__, id(value), [_structure(v) for v in value])
    return ("value", repr(value))


def assert_unchanged(before: dict[str, Any], value: Any, what: str) -> None:
    """``value`` is bit-identical to the :func:`snapshot` ``before`` (same objects, same bits)."""
    assert _structure(value) == before["repr"], f"{what}: structure or keys changed"
    for path, (obj, copy, dtype, shape, device) in before["tensors"].items():
        assert obj.dtype == dtype and tuple(obj.shape) == shape and obj.device == device, (
            f"{what}{path}: metadata changed"
        )
        # Bitwise (NaN-safe) comparison.
        same = (
            torch.equal(
                obj.view(torch.uint8) if obj.dtype != torch.bool else obj,
                copy.view(torch.uint8) if copy.dtype != torch.bool else copy,
            )
            if obj.is_contiguous() and obj.numel()
            else torch.equal(obj, copy)
        )
        assert same, f"{what}{path}: tensor values changed"
