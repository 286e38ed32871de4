"""Where a learned attribute came from, read off the running graph (pure Python).

ComfyUI hands a node that asks for the hidden input ``PROMPT`` the whole API-format prompt
(``{node_id: {"class_type": ..., "inputs": {...}}}``, a link being ``[node_id, slot]``). From
the learn node's ``source`` and ``target`` inputs this walks upstream to the sampler that made
each latent and from its ``positive`` input to the text of the prompt that conditioned it, so
an attribute file can record its prompt pair. Anything it cannot follow (a prompt built from
other nodes' outputs, a graph without samplers) is simply not recorded.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from typing import Any

#: Text widgets of the text-encode nodes, in order of preference (CLIPTextEncode's ``text``,
#: SDXL's ``text_g``).
TEXT_INPUTS = ("text", "text_g", "text_l")
#: How many nodes one walk visits at most (a real graph reaches a sampler in a few hops).
MAX_VISITS = 256
#: What the Load node shows for an attribute's recorded pair mode.
PAIR_WORDS = {
    "independent": "independent (the paper's: target prompt from step 0; apply with target)",
    "branched": "branched (both prompts continued from step k; apply with target and "
    "source_branch)",
}


def _links(node: Mapping[str, Any]) -> list[str]:
    """The ids of the nodes linked into ``node``'s inputs, in input order."""
    inputs = node.get("inputs")
    if not isinstance(inputs, Mapping):
        return []
    return [str(v[0]) for v in inputs.values() if isinstance(v, list) and len(v) == 2]


def _upstream(prompt: Mapping[str, Any], start: object, found: Any) -> tuple[str, Any] | None:
    """Breadth-first from the link ``start``: the first node for which ``found(node)`` is not
    None, with that value."""
    if not (isinstance(start, list) and len(start) == 2):
        return None
    queue, seen = deque([str(start[0])]), set()
    while queue and len(seen) < MAX_VISITS:
        node_id = queue.popleft()
        node = prompt.get(node_id)
        if node_id in seen or not isinstance(node, Mapping):
            continue
        seen.add(node_id)
        value = found(node)
        if value is not None:
            return node_id, value
        queue.extend(_links(node))
    return None


def _sampler(node: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """A node with a linked ``positive`` input (KSampler, KSamplerAdvanced, SamplerCustom...)."""
    inputs = node.get("inputs")
    if isinstance(inputs, Mapping) and isinstance(inputs.get("positive"), list):
        return inputs
    return None


def _text(node: Mapping[str, Any]) -> str | None:
    inputs = node.get("inputs")
    if not isinstance(inputs, Mapping):
        return None
    for name in TEXT_INPUTS:
        if isinstance(inputs.get(name), str):
            return inputs[name]
    return None


def _end_step(sampler: Mapping[str, Any]) -> int | None:
    """``end_at_step`` of a KSamplerAdvanced that stops before its last step, else None."""
    end, steps = sampler.get("end_at_step"), sampler.get("steps")
    if isinstance(end, int) and isinstance(steps, int) and 0 <= end < steps:
        return end
    return None


def _branch_start(sampler: Mapping[str, Any]) -> int | None:
    """``start_at_step`` of a KSamplerAdvanced that continues a latent (starts after step 0
    without adding noise): one branch of a noise-matched pair. None otherwise."""
    start = sampler.get("start_at_step")
    if isinstance(start, int) and start > 0 and sampler.get("add_noise") == "disable":
        return start
    return None


def _pair_steps(
    source: Mapping[str, Any], target: Mapping[str, Any]
) -> tuple[str, int, int] | None:
    """(pair mode, step k, delta) from the two samplers that made a pair, when their step
    fields show it: both from step 0 (the paper's pairing: k = the source's end, delta = the
    target's end - k) or both continuing from the same step k to the same end (branched)."""
    ends = _end_step(source), _end_step(target)
    if ends[0] is None or ends[1] is None:
        return None
    starts = _branch_start(source), _branch_start(target)
    if starts[0] is not None and starts[0] == starts[1] and ends[0] == ends[1]:
        return "branched", starts[0], ends[0] - starts[0]
    if all(s.get("start_at_step", 0) == 0 for s in (source, target)):
        return "independent", ends[0], ends[1] - ends[0]
    return None


def learn_provenance(prompt: object, node_id: object) -> dict[str, object]:
    """Provenance of the learn node ``node_id`` in the API prompt ``prompt``.

    Returns the subset of ``source_prompt``, ``target_prompt`` (the texts feeding the source
    and target samplers' positive inputs), ``pair_mode``, ``step`` (the edit step k) and
    ``delta`` that the graph shows (see :func:`_pair_steps`); an empty dict for anything
    else (no prompt, a graph it cannot follow).
    """
    if not isinstance(prompt, Mapping):
        return {}
    node = prompt.get(str(node_id))
    inputs = node.get("inputs") if isinstance(node, Mapping) else None
    if not isinstance(inputs, Mapping):
        return {}
    out: dict[str, object] = {}
    samplers: dict[str, Mapping[str, Any]] = {}
    for side in ("source", "target"):
        hit = _upstream(prompt, inputs.get(side), _sampler)
        if hit is None:
            continue
        samplers[side] = hit[1]
        text = _upstream(prompt, hit[1].get("positive"), _text)
        if text is not None:
            out[f"{side}_prompt"] = text[1]
    if len(samplers) == 2:
        pair = _pair_steps(samplers["source"], samplers["target"])
        if pair is not None:
            out["pair_mode"], out["step"], out["delta"] = pair
    return out


def describe_attribute(attribute: Any) -> str:
    """A few lines saying what an attribute is and where it came from (for the Load node)."""
    lines = [
        f"attribute: {attribute.name or '(unnamed)'}",
        f"source prompt: {attribute.source_prompt or '(not recorded)'}",
        f"target prompt: {attribute.target_prompt or '(not recorded)'}",
    ]
    if attribute.step is not None:
        delta = "" if attribute.delta is None else f", target at k {attribute.delta:+d}"
        lines.append(f"edit step k = {attribute.step}{delta}")
    lines.append(f"pairs: {PAIR_WORDS.get(attribute.pair_mode, 'not recorded')}")
    frames = "" if attribute.frames is None else f", {attribute.frames} frames"
    lines.append(
        f"learned on {attribute.channels}-channel {attribute.height}x{attribute.width} latents"
        f"{frames} from {attribute.num_pairs} pair(s); ks = {attribute.ks}, kt = {attribute.kt}"
    )
    lines.append(
        f"final loss {attribute.final_loss:.4g} (exact optimum {attribute.optimum_loss:.4g})"
    )
    return "\n".join(lines)
