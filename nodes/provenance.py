"""Where a learned attribute came from, read off the running graph (pure Python).

ComfyUI hands a node that asks for the hidden input ``PROMPT`` the whole API-format prompt
(``{node_id: {"class_type": ..., "inputs": {...}}}``, a link being ``[node_id, slot]``). From
the learn node's ``source`` and ``target`` inputs this walks upstream to the sampler that made
each latent and from its ``positive`` input (or its guider's) to the text of the prompt that
conditioned it, so an attribute file can record its prompt pair.

The pairing is read off the step range each sampler ran, counted the way KSamplerAdvanced
counts it (steps ``start_at_step..end_at_step`` of ``steps``), so one pair wired with either
sampler family records the same pairing, k and delta:

- KSamplerAdvanced (and KSampler): its ``steps``, ``start_at_step``, ``end_at_step`` and
  ``add_noise`` widgets;
- SamplerCustomAdvanced and SamplerCustom: the range of the schedule their ``sigmas`` cover,
  followed up through SplitSigmas (``high_sigmas`` = steps ``0..step``, ``low_sigmas`` = the
  rest), SplitSigmasDenoise and SetFirstSigma to BasicScheduler (or another scheduler with a
  ``steps`` input); new noise = a RandomNoise noise input (DisableNoise: none), or
  SamplerCustom's ``add_noise``.

A step widget may come from the pack's Edit Steps node or a core Int node. A graph the walk
cannot read that way (another sigma or noise node, no sampler, two runs that form neither
pairing) records ``pair_mode = "unreadable"``, logs why, and Apply says it cannot check its
wiring. Prompt texts it cannot follow (built from other nodes' outputs) are simply not recorded.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..svd_core.errors import SVDEditError
from ..svd_core.steps import plan_edit_steps

LOG = logging.getLogger(__name__)

LEARN = "Learn Attribute from Pair (singular values)"
APPLY = "Apply Singular Value Edit"
#: Text widgets of the text-encode nodes, in order of preference (CLIPTextEncode's ``text``,
#: SDXL's ``text_g``).
TEXT_INPUTS = ("text", "text_g", "text_l")
#: A guider's prompt input (CFGGuider / DualModelGuider, BasicGuider, DualCFGGuider).
GUIDER_POSITIVE = ("positive", "conditioning", "cond1")
#: How many nodes one walk visits at most (a real graph reaches a sampler in a few hops).
MAX_VISITS = 256
#: The recorded pair mode of a graph whose pairing the walk could not read.
UNREADABLE = "unreadable"
#: What the Load node shows for an attribute's recorded pair mode.
PAIR_WORDS = {
    "independent": "independent (the paper's: target prompt from step 0; apply with target)",
    "branched": "branched (both prompts continued from step k; apply with target and "
    "source_branch)",
    UNREADABLE: "unreadable (the learn node could not read the pairing off its graph's "
    "samplers; Apply cannot check how target and source_branch are wired)",
}
#: Schedulers that make a whole schedule of ``steps`` steps.
FULL_SCHEDULERS = frozenset(
    {
        "KarrasScheduler",
        "ExponentialScheduler",
        "PolyexponentialScheduler",
        "LaplaceScheduler",
        "BetaSamplingScheduler",
        "VPScheduler",
        "Flux2Scheduler",
    }
)
#: Schedulers whose ``denoise`` < 1 keeps the last ``round(steps * denoise)`` of ``steps``.
TAIL_SCHEDULERS = frozenset({"AlignYourStepsScheduler", "GITSScheduler", "OptimalStepsScheduler"})
NOISE_NODES = {"RandomNoise": True, "DisableNoise": False}
FLAGS = {"enable": True, "disable": False, True: True, False: False}


class _Unreadable(Exception):
    """The walk met something it cannot read; the message says what (for the log)."""


@dataclass(frozen=True)
class Run:
    """What one sampler ran: steps ``start..end`` of a ``total``-step schedule, counted as
    KSamplerAdvanced's ``start_at_step``, ``end_at_step`` and ``steps``; ``noise``: whether it
    adds new noise first (None: cannot tell)."""

    start: int
    end: int
    total: int
    noise: bool | None

    def __str__(self) -> str:
        return f"steps {self.start}..{self.end} of {self.total}"


def _is_link(value: object) -> bool:
    return isinstance(value, list) and len(value) == 2


def _inputs(node: object) -> Mapping[str, Any]:
    inputs = node.get("inputs") if isinstance(node, Mapping) else None
    return inputs if isinstance(inputs, Mapping) else {}


def _links(node: Mapping[str, Any]) -> list[str]:
    """The ids of the nodes linked into ``node``'s inputs, in input order."""
    return [str(v[0]) for v in _inputs(node).values() if _is_link(v)]


def _upstream(prompt: Mapping[str, Any], start: object, found: Any) -> tuple[str, Any] | None:
    """Breadth-first from the link ``start``: the first node for which ``found(node)`` is not
    None, with that value."""
    if not _is_link(start):
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
    """A node with a linked ``positive`` (KSampler, KSamplerAdvanced, SamplerCustom...) or
    ``guider`` input (SamplerCustomAdvanced). Checked before its guider is reached."""
    inputs = _inputs(node)
    if _is_link(inputs.get("positive")) or _is_link(inputs.get("guider")):
        return node
    return None


def _text(node: Mapping[str, Any]) -> str | None:
    inputs = _inputs(node)
    for name in TEXT_INPUTS:
        if isinstance(inputs.get(name), str):
            return inputs[name]
    return None


def _linked(prompt: Mapping[str, Any], link: object) -> tuple[Mapping[str, Any], int]:
    """The node a link comes from and the output slot, or _Unreadable."""
    if not _is_link(link):
        raise _Unreadable(f"an input the walk follows is {link!r}, not a link")
    node = prompt.get(str(link[0]))
    if not isinstance(node, Mapping) or not isinstance(link[1], int):
        raise _Unreadable(f"the link {link!r} leads to no node of the prompt")
    return node, link[1]


def _positive(prompt: Mapping[str, Any], sampler: Mapping[str, Any]) -> object:
    """The link of the conditioning that prompts ``sampler``: its own ``positive`` input or,
    for SamplerCustomAdvanced, its guider's (not any text upstream of the guider: a breadth-
    first walk from the guider would meet the negative prompt as early as the positive)."""
    inputs = _inputs(sampler)
    if _is_link(inputs.get("positive")):
        return inputs["positive"]
    guider = _inputs(prompt.get(str(inputs["guider"][0])))
    return next((guider[k] for k in GUIDER_POSITIVE if _is_link(guider.get(k))), None)


def _number(prompt: Mapping[str, Any], value: object, what: str, depth: int = 0) -> float:
    """A widget's number: typed in, or from a core Int / Float node or the Edit Steps node."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value
    if not _is_link(value) or depth > MAX_VISITS:
        raise _Unreadable(f"{what} is {value!r}, not a number")
    node, slot = _linked(prompt, value)
    kind, inputs = node.get("class_type"), _inputs(node)
    if kind in ("PrimitiveInt", "PrimitiveFloat"):
        return _number(prompt, inputs.get("value"), what, depth + 1)
    if kind == "SingularEditSteps" and 0 <= slot < 4:
        plan = [
            _integer(prompt, inputs.get(name), f"Edit Steps' {name}", depth + 1)
            for name in ("steps", "edit_step", "delta")
        ]
        try:
            return plan_edit_steps(*plan)[slot]
        except SVDEditError as exc:  # Edit Steps itself refuses it when the graph runs
            raise _Unreadable(f"{what}: {exc}") from exc
    raise _Unreadable(f"{what} comes from a {kind} node, which the walk does not read")


def _integer(prompt: Mapping[str, Any], value: object, what: str, depth: int = 0) -> int:
    number = _number(prompt, value, what, depth)
    if not float(number).is_integer():
        raise _Unreadable(f"{what} is {number}, not a whole number of steps")
    return int(number)


def _schedule(prompt: Mapping[str, Any], link: object, depth: int = 0) -> tuple[int, int, int]:
    """(start, end, total) of the SIGMAS output ``link``: its sigmas are those of steps
    ``start..end`` of a ``total``-step schedule (the slice KSamplerAdvanced would run)."""
    node, slot = _linked(prompt, link)
    kind, inputs = node.get("class_type"), _inputs(node)
    if depth > MAX_VISITS:
        raise _Unreadable("the sigmas pass through too many nodes")
    if kind in ("SplitSigmas", "SplitSigmasDenoise"):
        start, end, total = _schedule(prompt, inputs.get("sigmas"), depth + 1)
        cut = _split(prompt, kind, inputs, start, end)
        return (start, cut, total) if slot == 0 else (cut, end, total)
    if kind == "SetFirstSigma":  # changes a value, not which steps run
        return _schedule(prompt, inputs.get("sigmas"), depth + 1)
    if kind in FULL_SCHEDULERS or kind in TAIL_SCHEDULERS or kind == "BasicScheduler":
        return _scheduler(prompt, kind, inputs)
    raise _Unreadable(f"the sigmas come from a {kind} node, whose steps the walk does not read")


def _split(
    prompt: Mapping[str, Any], kind: str, inputs: Mapping[str, Any], start: int, end: int
) -> int:
    """The step where SplitSigmas / SplitSigmasDenoise cut ``start..end`` (high = before)."""
    if kind == "SplitSigmas":  # sigmas[:step + 1] and sigmas[step:]
        return min(start + _integer(prompt, inputs.get("step"), "SplitSigmas' step"), end)
    # SplitSigmasDenoise keeps round(steps * denoise) steps in low_sigmas; at 0 its
    # high_sigmas are empty (sigmas[:-0]): no run to read.
    kept = round((end - start) * _number(prompt, inputs.get("denoise"), "its denoise"))
    if kept <= 0:
        raise _Unreadable("SplitSigmasDenoise's denoise leaves its low_sigmas no step")
    return end - kept


def _scheduler(
    prompt: Mapping[str, Any], kind: str, inputs: Mapping[str, Any]
) -> tuple[int, int, int]:
    """(start, end, total) of a scheduler's sigmas, as :func:`_schedule`."""
    steps = _integer(prompt, inputs.get("steps"), f"{kind}'s steps")
    if kind in FULL_SCHEDULERS or "denoise" not in inputs:
        return 0, steps, steps
    denoise = _number(prompt, inputs.get("denoise"), f"{kind}'s denoise")
    if denoise >= 1:
        return 0, steps, steps
    if denoise <= 0:
        raise _Unreadable(f"{kind}'s denoise {denoise} makes no schedule")
    if kind == "BasicScheduler":  # the last ``steps`` of int(steps / denoise) steps
        total = int(steps / denoise)
        return total - steps, total, total
    return steps - round(steps * denoise), steps, steps


def _run(prompt: Mapping[str, Any], node_id: str, sampler: Mapping[str, Any]) -> Run:
    """The step range and noise of one sampler node."""
    kind, inputs = sampler.get("class_type"), _inputs(sampler)
    if _is_link(inputs.get("sigmas")):
        start, end, total = _schedule(prompt, inputs["sigmas"])
        if _is_link(inputs.get("noise")):
            noise = NOISE_NODES.get(_linked(prompt, inputs["noise"])[0].get("class_type"))
        else:
            noise = FLAGS.get(inputs.get("add_noise"))
        return Run(start, end, total, noise)
    if "steps" not in inputs:
        raise _Unreadable(f"the sampler {kind} ({node_id}) has neither steps nor sigmas")
    total = _integer(prompt, inputs["steps"], f"{kind}'s steps")
    start = _integer(prompt, inputs.get("start_at_step", 0), f"{kind}'s start_at_step")
    end = _integer(prompt, inputs.get("end_at_step", total), f"{kind}'s end_at_step")
    # end_at_step past the last step runs to the end (KSamplerAdvanced's 10000).
    return Run(start, min(end, total), total, FLAGS.get(inputs.get("add_noise")))


def _pair_steps(source: Run, target: Run) -> tuple[str, int, int]:
    """(pair mode, step k, delta) of the two runs that made a pair: both from step 0 to
    before the end (the paper's pairing: k = the source's end, delta = the target's end - k)
    or both continuing from the same step k > 0 without new noise to the same end before the
    last step (branched)."""
    stop = all(run.end < run.total for run in (source, target))
    if stop and source.start == target.start == 0:
        return "independent", source.end, target.end - source.end
    same = (source.start, source.end) == (target.start, target.end)
    if stop and same and source.start > 0 and source.noise is target.noise is False:
        return "branched", source.start, source.end - source.start
    raise _Unreadable(
        f"the source sampler runs {source}{_noise_words(source)} and the target {target}"
        f"{_noise_words(target)}: neither the paper's pairing (both from step 0, stopping "
        "before the end) nor branched pairs (both from the same step k without new noise to "
        "the same end)"
    )


def _noise_words(run: Run) -> str:
    return {True: " adding noise", False: " without new noise"}.get(run.noise, "")


def _pairing(prompt: Mapping[str, Any], samplers: Mapping[str, tuple]) -> dict[str, object]:
    """``pair_mode``, ``step`` and ``delta`` of the two samplers, or ``pair_mode`` =
    :data:`UNREADABLE` (logged with the reason) when the graph does not show them."""
    try:
        for side in ("source", "target"):
            if side not in samplers:
                raise _Unreadable(f"no sampler feeds its {side} input")
        runs = [_run(prompt, *samplers[side]) for side in ("source", "target")]
        mode, step, delta = _pair_steps(*runs)
    except _Unreadable as exc:
        LOG.warning(
            "%s: the pairing could not be read off the graph (%s); the attribute records it "
            "as unreadable and Apply cannot check how its target is wired. The walk reads "
            "KSamplerAdvanced steps, and SamplerCustomAdvanced sigmas from BasicScheduler "
            "through SplitSigmas.",
            LEARN,
            exc,
        )
        return {"pair_mode": UNREADABLE}
    return {"pair_mode": mode, "step": step, "delta": delta}


def learn_provenance(prompt: object, node_id: object) -> dict[str, object]:
    """Provenance of the learn node ``node_id`` in the API prompt ``prompt``.

    Returns ``source_prompt``, ``target_prompt`` (the texts feeding the source and target
    samplers' positive inputs) and ``reuse_step`` (where the sampler feeding
    ``reuse_reference`` stops) where the graph shows them, and ``pair_mode``, ``step`` (the
    edit step k) and ``delta`` (see :func:`_pair_steps`); ``pair_mode`` is
    :data:`UNREADABLE`, without step and delta, when the samplers do not show the pairing.
    An empty dict without a prompt holding that node (not run from a graph).
    """
    if not isinstance(prompt, Mapping):
        return {}
    node = prompt.get(str(node_id))
    if not isinstance(node, Mapping) or not isinstance(node.get("inputs"), Mapping):
        return {}
    inputs = node["inputs"]
    out: dict[str, object] = {}
    samplers: dict[str, tuple[str, Mapping[str, Any]]] = {}
    for side in ("source", "target"):
        hit = _upstream(prompt, inputs.get(side), _sampler)
        if hit is None:
            continue
        samplers[side] = hit
        text = _upstream(prompt, _positive(prompt, hit[1]), _text)
        if text is not None:
            out[f"{side}_prompt"] = text[1]
    out.update(_pairing(prompt, samplers))
    reference = _upstream(prompt, inputs.get("reuse_reference"), _sampler)
    if reference is not None:
        try:
            out["reuse_step"] = _run(prompt, *reference).end
        except _Unreadable as exc:
            LOG.info("%s: the step of reuse_reference could not be read (%s).", LEARN, exc)
    return out


def apply_note(
    attribute: Any, with_target: bool, node: str = APPLY, target: str = "target"
) -> str | None:
    """What Apply (or the node named ``node``, whose target input is named ``target``) shows
    when a target is applied with an attribute whose pairing could not be read (the wiring
    check of svd_core's apply_attribute is then skipped), else None."""
    if not with_target or getattr(attribute, "pair_mode", "") != UNREADABLE:
        return None
    return (
        f"{node}: the pairing of this attribute could not be read off the graph it was "
        f"learned in (unreadable), so whether {target} and source_branch are wired like its "
        "training pairs was not checked. Wire them as its pairs were made (branched pairs: "
        f"{target} and source_branch; the paper's: {target} only), or learn it again with "
        "KSamplerAdvanced steps or SamplerCustomAdvanced sigmas from BasicScheduler through "
        "SplitSigmas, which the learn node reads."
    )


def reuse_step_note(prompt: object, node_id: object, attribute: Any) -> str | None:
    """What Apply (node ``node_id``) shows when it adds an aligned reuse edit to a latent from
    a sampler that stops at another step than the attribute's references, else None (also
    when the graph does not show the step)."""
    want = getattr(attribute, "reuse_step", None)
    if want is None or getattr(attribute, "reuse_references", None) is None:
        return None
    node = prompt.get(str(node_id)) if isinstance(prompt, Mapping) else None
    hit = _upstream(prompt, _inputs(node).get("latent_svd"), _sampler) if node else None
    if hit is None:
        return None
    try:
        got = _run(prompt, *hit).end  # type: ignore[arg-type]
    except _Unreadable:
        return None
    if got == want:
        return None
    return (
        f"{APPLY}: this attribute's reuse edit follows the subject in latents at step {want} "
        f"(where its references were taken), but this latent comes from a sampler that stops "
        f"at step {got}. Stop the new seed's source sampler at step {want} (Edit Steps' "
        "reuse_step) and continue from there, or the subject may not be found."
    )


def reuse_words(attribute: Any) -> str:
    """What Apply adds to a new latent without a target, in one line."""
    if getattr(attribute, "reuse_references", None) is None:
        return "without a target: the stored mean edit (same size and subject place only)"
    at = "" if attribute.reuse_step is None else f" at step {attribute.reuse_step}"
    return (
        f"without a target: the edit aligned to the subject, for a latent{at} "
        "(any size; strength about 2)"
    )


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
    lines.append(reuse_words(attribute))
    frames = "" if attribute.frames is None else f", {attribute.frames} frames"
    lines.append(
        f"learned on {attribute.channels}-channel {attribute.height}x{attribute.width} latents"
        f"{frames} from {attribute.num_pairs} pair(s); ks = {attribute.ks}, kt = {attribute.kt}"
    )
    lines.append(
        f"final loss {attribute.final_loss:.4g} (exact optimum {attribute.optimum_loss:.4g})"
    )
    return "\n".join(lines)
