"""Pieces of graph that the example workflows and the blueprints share, as descriptions.

Each piece returns ui_graph Nodes under fixed names ("source", "target", "negative" for the
prompts, "plan" for Edit Steps, "x" for the step-k latent, ...), so a graph's description reads
as the list of its pieces. Inputs default to the example workflows' loader ("ckpt"); a blueprint
passes None where the outer node links them instead.
"""

from __future__ import annotations

from dataclasses import dataclass

from harness.ui_graph import Node, Nodes, Pos

SOURCE_PROMPT = "a photo of a person, portrait, natural light"
TARGET_PROMPT = "a photo of a smiling person, portrait, natural light"
NEGATIVE_PROMPT = "blurry, low quality, deformed, watermark, text"
PROMPTS = (SOURCE_PROMPT, TARGET_PROMPT, NEGATIVE_PROMPT)
END = 10000  # end_at_step: sample to the last step
MODEL, VAE = "ckpt.MODEL", "ckpt.VAE"
#: svd_core.steps.REUSE_FRACTION: where Edit Steps puts its reuse_step. The harness does not
#: import the pack, so the number is repeated; tests/workflows checks the learn workflow's
#: reuse step against svd_core's.
REUSE_FRACTION = 0.6
#: A step a sampler starts or ends at: a number, or the name of the Edit Steps output that
#: gives it ("edit_step", "target_step", "reuse_step"). Named, because with small step counts
#: two of them can be the same number and only the name says which output to link.
Step = int | str


@dataclass(frozen=True)
class Sampling:
    """What every sampler of one generation shares, and the edit step k and delta."""

    seed: int
    steps: int
    cfg: float
    k: int
    delta: int

    @property
    def target_step(self) -> int:
        return self.k + self.delta

    @property
    def reuse_step(self) -> int:
        """Where the aligned reuse edit goes in: max(k + delta, round(0.6 N)), like Edit
        Steps' reuse_step."""
        return max(self.target_step, round(REUSE_FRACTION * self.steps))

    def at(self, step: Step) -> int:
        """The number of a step, named or not."""
        if isinstance(step, int):
            return step
        named = {
            "edit_step": self.k,
            "target_step": self.target_step,
            "reuse_step": self.reuse_step,
        }
        return named[step]


def _enable(on: bool) -> str:
    return "enable" if on else "disable"


def prompt_encoders(
    x: float,
    titles: tuple[str, ...],
    texts: tuple[str, ...] = PROMPTS,
    heights: tuple[int, ...] = (140, 140, 120),
    clip: str | None = "ckpt.CLIP",
    names: tuple[str, ...] = ("source", "target", "negative"),
) -> Nodes:
    """The source, target and negative prompt (or the ``names`` given), one under the
    other."""
    rows = zip(names, titles, texts, heights, strict=True)
    return {
        name: Node(
            "CLIPTextEncode", (x, 180 * row), (380, h), {"text": text}, title, {"clip": clip}
        )
        for row, (name, title, text, h) in enumerate(rows)
    }


def ksampler(
    s: Sampling,
    pos: Pos,
    title: str,
    positive: str,
    latent: str,
    steps: tuple[Step, Step],
    *,
    add_noise: bool = False,
    leftover: bool = False,
    model: str | None = MODEL,
    plan: str | None = None,
) -> Node:
    """A KSamplerAdvanced from steps[0] to steps[1]; with ``plan`` (an Edit Steps node) its
    steps and each named start or end come from that output of the plan."""
    start, end = (s.at(step) for step in steps)
    widgets = {
        "add_noise": _enable(add_noise),
        "noise_seed": s.seed,
        "steps": s.steps,
        "cfg": s.cfg,
        "sampler_name": "euler",
        "scheduler": "normal",
        "start_at_step": start,
        "end_at_step": end,
        "return_with_leftover_noise": _enable(leftover),
    }
    inputs = {"model": model, "positive": positive, "negative": "negative", "latent_image": latent}
    if plan:
        inputs |= {"steps": f"{plan}.steps"}
        for key, step in zip(("start_at_step", "end_at_step"), steps, strict=True):
            if isinstance(step, int) and 0 < step < s.steps:
                raise ValueError(f"{title}: name the plan output for step {step}")
            inputs[key] = f"{plan}.{step}" if isinstance(step, str) else None
    return Node("KSamplerAdvanced", pos, (320, 330), widgets, title, inputs)


def to_step(
    s: Sampling,
    pos: Pos,
    title: str,
    end: Step,
    positive: str = "source",
    latent: str = "latent",
    **links: str | None,
) -> Node:
    """From the empty ``latent`` (fresh noise) to step ``end``, leftover noise kept: the
    method's x, or the paper's independent target."""
    return ksampler(
        s, pos, title, positive, latent, (0, end), add_noise=True, leftover=True, **links
    )


def continuation(
    s: Sampling, pos: Pos, title: str, latent: str, start: Step, **links: str | None
) -> Node:
    """The source prompt from step ``start`` to the end, no new noise."""
    return ksampler(s, pos, title, "source", latent, (start, END), **links)


def decompose(pos: Pos, latent: str, title: str | None = None) -> Node:
    """A full-rank 'Latent Singular Value Decompose' of output 0 of ``latent``."""
    return Node("LatentSVDDecompose", pos, (300, 90), {"rank": 0}, title, {"latent": latent})


def branches(
    s: Sampling,
    x: str,
    positions: tuple[Pos, Pos],
    titles: tuple[str, str],
    prefix: str = "",
    **links: str | None,
) -> Nodes:
    """The noise-matched pair: the source and the target prompt each continued from the step-k
    latent ``x`` for delta steps (no new noise, leftover noise kept), each decomposed in the
    column right of it; named <prefix>source_branch, ...target_branch, ...dsource_branch,
    ...dtarget_branch."""
    nodes: Nodes = {}
    for what, pos, title in zip(("source", "target"), positions, titles, strict=True):
        step_range = ("edit_step", "target_step")
        nodes[f"{prefix}{what}_branch"] = ksampler(
            s, pos, title, what, x, step_range, leftover=True, **links
        )
    for what, (x_, y) in zip(("source", "target"), positions, strict=True):
        title = f"Decompose {what} branch"
        nodes[f"{prefix}d{what}_branch"] = decompose((x_ + 360, y), f"{prefix}{what}_branch", title)
    return nodes


def learn(
    pos: Pos,
    name: str,
    source: str = "dsource_branch",
    target: str = "dtarget_branch",
    reuse_reference: str | None = None,
) -> Node:
    """'Learn Attribute from Pair' on two decompositions (and the reuse references, if
    given)."""
    return Node(
        "LearnAttributeFromPair",
        pos,
        (340, 520),
        {"name": name},
        None,
        {"source": source, "target": target, "reuse_reference": reuse_reference},
    )


def reuse_reference(
    s: Sampling, pos: Pos, title: str, source_branch: str = "source_branch", **links: str | None
) -> Nodes:
    """The reuse reference: the source branch continued by the source prompt from k + delta
    to the reuse step (no new noise, leftover noise kept; "reuse"), decomposed in the column
    right of it ("dreuse"). Learn stores it so that Apply without a target can find where a
    new seed's subject is."""
    x, y = pos
    steps = ("target_step", "reuse_step")
    return {
        "reuse": ksampler(s, pos, title, "source", source_branch, steps, leftover=True, **links),
        "dreuse": decompose((x + 360, y), "reuse", "Decompose reuse reference"),
    }


def apply_and_continue(
    s: Sampling,
    x: float,
    attribute: str | None,
    titles: tuple[str, str | None],
    prefix: str = "",
    apply_title: str | None = None,
    strength: float = 1.0,
    **links: str | None,
) -> Nodes:
    """Apply the attribute between the branches (named with ``prefix``) to the source branch
    (local: where the branches differ), recompose, and continue from k + delta in the column
    at x + 360: "edited"; and, with a second title, "plain", the source branch's own
    continuation (the source branch is the first delta steps of both)."""
    dsource, dtarget = f"{prefix}dsource_branch", f"{prefix}dtarget_branch"
    apply_links = {"latent_svd": dsource, "attribute": attribute, "target": dtarget}
    nodes = {
        "apply": Node(
            "ApplySingularEdit",
            (x, 0),
            (320, 140),
            {"strength": strength},
            apply_title,
            apply_links | {"source_branch": dsource},
        ),
        "rec": Node("LatentRecompose", (x, 180), (280, 60), inputs={"latent_svd": "apply"}),
        "edited": continuation(s, (x + 360, 0), titles[0], "rec", "target_step", **links),
    }
    if titles[1]:
        latent = f"{prefix}source_branch"
        nodes["plain"] = continuation(s, (x + 360, 380), titles[1], latent, "target_step", **links)
    return nodes


def noised_photo(
    s: Sampling, x: float, noisy_x: float, *, pixels: str | None, vae: str | None, model: str | None
) -> Nodes:
    """The photo encoded ("enc") and noised to the level of step k ("noisy": core AddNoise with
    the scheduler's sigmas from k on), steps and k from the plan."""
    return {
        "enc": Node("VAEEncode", (x, 0), (220, 60), inputs={"pixels": pixels, "vae": vae}),
        "sched": Node(
            "BasicScheduler",
            (x, 120),
            (300, 110),
            {"scheduler": "normal", "steps": s.steps},
            inputs={"model": model, "steps": "plan.steps"},
        ),
        "split": Node(
            "SplitSigmas",
            (x, 280),
            (300, 80),
            {"step": s.k},
            "Sigmas from step k on",
            {"sigmas": "sched", "step": "plan.edit_step"},
        ),
        "noise": Node("RandomNoise", (x, 400), (300, 80), {"noise_seed": s.seed}),
        "noisy": Node(
            "AddNoise",
            (noisy_x, 0),
            (300, 110),
            title="Photo at the noise level of step k",
            inputs={
                "model": model,
                "noise": "noise",
                "sigmas": "split.low_sigmas",
                "latent_image": "enc",
            },
        ),
    }


def edit_steps(pos: Pos, s: Sampling) -> Node:
    """'Edit Steps': steps, k and delta entered once for every sampler that links them."""
    values = {"steps": s.steps, "edit_step": s.k, "delta": s.delta}
    return Node("SingularEditSteps", pos, (320, 130), values)


def decode(pos: Pos, latent: str, vae: str | None = VAE) -> Node:
    return Node("VAEDecode", pos, (220, 60), inputs={"samples": latent, "vae": vae})
