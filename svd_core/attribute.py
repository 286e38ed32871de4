"""The learned attribute: a small, shareable artefact (predictor + configuration + provenance)."""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

from .config import AVIConfig
from .errors import SVDEditError
from .predictor import PREDICTOR_KEYS, predictor_shapes
from .validation import is_finite_number, is_integer

#: Recorded ways of making the training pairs ("" = not recorded, as in version-1 files;
#: "unreadable" = learned in a graph whose samplers did not show the pairing).
PAIR_MODES = ("", "independent", "branched", "unreadable")


# eq=False: field-wise == on tensors raises; identity equality and hashing are safe.
@dataclass(frozen=True, eq=False)
class Attribute:
    """An attribute learned by :func:`svd_core.learn_attribute`.

    Attributes:
        name: a label for the user.
        config: the training configuration.
        channels, height, width: ``C, H, W`` of the training latents.
        ks, kt: the component counts actually used (``config.ks/kt`` clipped to
            ``min(H, W)``); the predictor's input/output sizes depend on them.
        predictor: the MLP's tensors (float32, CPU), keys :data:`PREDICTOR_KEYS`.
        target_U: ``[C, H, kt]`` (video: ``[C, T, H, kt]``) float32: left singular vectors of
            the first training pair's target, for applying without a target.
        target_S: ``[C, kt]`` (video: ``[C, T, kt]``) float32.
        target_Vh: ``[C, kt, W]`` (video: ``[C, T, kt, W]``) float32.
        loss_history: ``[steps]`` float32, the training loss before each Adam step.
        final_loss: the loss of the stored predictor after training.
        optimum_loss: the exact minimum of the same loss (:func:`svd_core.solve_pair`);
            ``final_loss / optimum_loss`` close to 1 means training converged.
        num_pairs: how many (source, target) pairs trained it.
        source_prompt, target_prompt, step, delta: optional provenance.
        frames: ``T`` of video training latents, ``None`` for images.
        mean_edit: ``[C, H, W]`` (video: ``[C, T, H, W]``) float32 or ``None``: the learned
            edit ``y - x`` averaged over the training pairs, position by position.  Added to
            a new latent (:func:`svd_core.apply_attribute` without a target) it edits at the
            cost of the source run alone.  It is a latent-space direction of the model and
            size it was learned on: it applies only to latents of the same model family
            (same latent space), the same ``C, H, W`` (and ``T``) and about the same step
            ``k`` (the ``step`` provenance); nothing else is checked or can be.  ``None`` in
            files of format version 1.
        pair_mode: how the pairs were made (provenance): ``"independent"`` (the paper's
            target, sampled from step 0 to ``k + delta``), ``"branched"`` (source and target
            both continued from the same ``x`` for ``delta`` steps; see
            :func:`svd_core.apply_attribute`'s ``source_branch``), ``"unreadable"`` (learned
            in a graph whose samplers did not show it; applied like ``""``) or ``""`` (not
            recorded).
    """

    name: str
    config: AVIConfig
    channels: int
    height: int
    width: int
    ks: int
    kt: int
    predictor: dict[str, torch.Tensor]
    target_U: torch.Tensor
    target_S: torch.Tensor
    target_Vh: torch.Tensor
    loss_history: torch.Tensor
    final_loss: float
    optimum_loss: float
    num_pairs: int = 1
    source_prompt: str = ""
    target_prompt: str = ""
    step: int | None = None
    delta: int | None = None
    frames: int | None = field(default=None)
    mean_edit: torch.Tensor | None = None
    pair_mode: str = ""

    def __post_init__(self) -> None:
        check_attribute(self)


def _int(value: object, what: str, lo: int, hi: int | None = None) -> int:
    if not is_integer(value):
        raise SVDEditError(f"{what} must be an integer, got {value!r}.")
    if value < lo or (hi is not None and value > hi):
        raise SVDEditError(f"{what} out of range: {value}.")
    return value


def _float(value: object, what: str) -> float:
    if not is_finite_number(value):
        raise SVDEditError(f"{what} must be a finite number, got {value!r}.")
    return float(value)


def _tensor(t: object, what: str, shape: tuple[int, ...]) -> None:
    if not isinstance(t, torch.Tensor):
        raise SVDEditError(f"{what} must be a tensor, got {type(t).__name__}.")
    if t.dtype != torch.float32:
        raise SVDEditError(f"{what} must be float32, got {t.dtype}.")
    if tuple(t.shape) != shape:
        raise SVDEditError(f"{what} must have shape {list(shape)}, got {list(t.shape)}.")
    if not bool(torch.isfinite(t).all()):
        raise SVDEditError(f"{what} contains NaN or Inf.")


def require_attribute(value: object, what: str = "attribute") -> Attribute:
    """``value`` if it is an :class:`Attribute`, else SVDEditError saying where one comes from."""
    if not isinstance(value, Attribute):
        raise SVDEditError(
            f"{what} is not a singular value attribute (got {type(value).__name__}); connect "
            "'Learn Attribute from Pair' or 'Load Singular Value Attribute'."
        )
    return value


def check_attribute(a: Attribute) -> None:
    """Validate every field of ``a`` (types, ranges, tensor shapes/dtypes, finiteness).

    Raises:
        SVDEditError: naming the first bad field.
    """
    if not isinstance(a.name, str):
        raise SVDEditError(f"attribute name must be a string, got {type(a.name).__name__}.")
    if not isinstance(a.config, AVIConfig):
        raise SVDEditError("attribute config must be an AVIConfig.")
    c = _int(a.channels, "channels", 1, 4096)
    h = _int(a.height, "height", 1, 1 << 16)
    w = _int(a.width, "width", 1, 1 << 16)
    r = min(h, w)
    ks = _int(a.ks, "ks", 1, r)
    kt = _int(a.kt, "kt", 1, r)
    if ks != min(a.config.ks, r) or kt != min(a.config.kt, r):
        raise SVDEditError(
            f"ks/kt ({ks}, {kt}) do not match the configuration ({a.config.ks}, {a.config.kt}) "
            f"clipped to min(H, W) = {r}."
        )
    _int(a.num_pairs, "num_pairs", 1)
    frames = None if a.frames is None else _int(a.frames, "frames", 1, 1 << 16)
    for name in ("source_prompt", "target_prompt"):
        if not isinstance(getattr(a, name), str):
            raise SVDEditError(f"{name} must be a string.")
    for name in ("step", "delta"):
        v = getattr(a, name)
        if v is not None:
            _int(v, name, -(1 << 31), 1 << 31)
    _float(a.final_loss, "final_loss")
    _float(a.optimum_loss, "optimum_loss")

    if not isinstance(a.predictor, dict) or set(a.predictor) != set(PREDICTOR_KEYS):
        got = sorted(a.predictor) if isinstance(a.predictor, dict) else type(a.predictor).__name__
        raise SVDEditError(f"predictor tensors must be {list(PREDICTOR_KEYS)}, got {got}.")
    for key, shape in predictor_shapes(ks, kt, c, a.config.hidden).items():
        _tensor(a.predictor[key], f"predictor tensor {key!r}", shape)
    lead = (c,) if frames is None else (c, frames)
    _tensor(a.target_U, "target_U", (*lead, h, kt))
    _tensor(a.target_S, "target_S", (*lead, kt))
    _tensor(a.target_Vh, "target_Vh", (*lead, kt, w))
    _tensor(a.loss_history, "loss_history", (a.config.steps,))
    if a.mean_edit is not None:
        _tensor(a.mean_edit, "mean_edit", (*lead, h, w))
    if a.pair_mode not in PAIR_MODES:
        raise SVDEditError(f"pair_mode must be one of {list(PAIR_MODES)}, got {a.pair_mode!r}.")
