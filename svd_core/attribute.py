"""The learned attribute: a small, shareable artefact (predictor + configuration + provenance).

Building one checks only its tensors' shapes and dtypes (cheap); the attribute loader checks a
file's fields and values once (:func:`check_fields`, :func:`check_attribute`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import torch

from .config import AVIConfig
from .errors import SVDEditError
from .predictor import predictor_shapes
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
            the first training pair's target (a record of the training; no edit uses it).
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
            a new latent (:func:`svd_core.apply_attribute` without a target, when the
            attribute has no reuse references) it edits at the cost of the source run
            alone.  It is a latent-space direction of the model and size it was learned on:
            it applies only to latents of the same model family (same latent space), the same
            ``C, H, W`` (and ``T``) and about the same step ``k`` (the ``step`` provenance);
            nothing else is checked or can be.  ``None`` in files of format version 1.
        pair_mode: how the pairs were made (provenance): ``"independent"`` (the paper's
            target, sampled from step 0 to ``k + delta``), ``"branched"`` (source and target
            both continued from the same ``x`` for ``delta`` steps; see
            :func:`svd_core.apply_attribute`'s ``source_branch``), ``"unreadable"`` (learned
            in a graph whose samplers did not show it; applied like ``""``) or ``""`` (not
            recorded).
        reuse_references: ``[P, C, H, W]`` (video: ``[P, C, T, H, W]``) float32 or ``None``:
            the training pairs' source latents continued to a later step (``reuse_step``),
            where a subject's place can be found by cross-correlation.
        reuse_edits: the same shape, the pairs' edits kept where their branches differ
            (``m * (z - x)``, ``m = branch_mask(z - x)``).  With the references they make the
            aligned reuse edit (:func:`svd_core.edits.reuse_aligned_edit`), which follows the
            subject of a new latent at ``reuse_step``, at any size.  Both ``None`` (files
            before format version 4, or learned without references) or both set.
        reuse_step: the step of ``reuse_references`` when the learning graph showed it.
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
    reuse_references: torch.Tensor | None = None
    reuse_edits: torch.Tensor | None = None
    reuse_step: int | None = None

    def __post_init__(self) -> None:
        if (self.reuse_references is None) != (self.reuse_edits is None):
            raise SVDEditError("reuse_references and reuse_edits come together or not at all.")
        for what, (tensor, shape) in _expected_tensors(self).items():
            if tensor.dtype != torch.float32 or tuple(tensor.shape) != shape:
                raise SVDEditError(
                    f"{what} must be float32 of shape {list(shape)}, got {tensor.dtype} "
                    f"{list(tensor.shape)}."
                )


def _expected_tensors(a: Attribute) -> dict[str, tuple[torch.Tensor, tuple[int, ...]]]:
    """Every tensor of ``a`` with the shape its sizes call for."""
    lead = (a.channels,) if a.frames is None else (a.channels, a.frames)
    shapes = predictor_shapes(a.ks, a.kt, a.channels, a.config.hidden)
    out = {f"predictor tensor {k!r}": (a.predictor[k], shape) for k, shape in shapes.items()}
    out["target_U"] = (a.target_U, (*lead, a.height, a.kt))
    out["target_S"] = (a.target_S, (*lead, a.kt))
    out["target_Vh"] = (a.target_Vh, (*lead, a.kt, a.width))
    out["loss_history"] = (a.loss_history, (a.config.steps,))
    if a.mean_edit is not None:
        out["mean_edit"] = (a.mean_edit, (*lead, a.height, a.width))
    if a.reuse_references is not None and a.reuse_edits is not None:
        pairs = (a.num_pairs, *lead, a.height, a.width)
        out["reuse_references"] = (a.reuse_references, pairs)
        out["reuse_edits"] = (a.reuse_edits, pairs)
    return out


def check_pair_mode(mode: object) -> None:
    """``mode`` is one of :data:`PAIR_MODES`."""
    if mode not in PAIR_MODES:
        raise SVDEditError(f"pair_mode must be one of {list(PAIR_MODES)}, got {mode!r}.")


def _int(value: object, what: str, lo: int, hi: int) -> int:
    if not is_integer(value) or not lo <= value <= hi:
        raise SVDEditError(f"{what} must be an integer in {lo}..{hi}, got {value!r}.")
    return value


def check_fields(fields: Mapping[str, Any], config: AVIConfig) -> None:
    """The scalar fields of an attribute (a file's JSON): types, ranges, ``ks``/``kt``.

    Raises:
        SVDEditError: naming the first bad field.
    """
    h = _int(fields["height"], "height", 1, 1 << 16)
    w = _int(fields["width"], "width", 1, 1 << 16)
    _int(fields["channels"], "channels", 1, 4096)
    _int(fields["num_pairs"], "num_pairs", 1, 1 << 31)
    if fields["frames"] is not None:
        _int(fields["frames"], "frames", 1, 1 << 16)
    for name in ("step", "delta", "reuse_step"):
        if fields.get(name) is not None:
            _int(fields[name], name, -(1 << 31), 1 << 31)
    r = min(h, w)
    ks, kt = _int(fields["ks"], "ks", 1, r), _int(fields["kt"], "kt", 1, r)
    if ks != min(config.ks, r) or kt != min(config.kt, r):
        raise SVDEditError(
            f"ks/kt ({ks}, {kt}) do not match the configuration ({config.ks}, {config.kt}) "
            f"clipped to min(H, W) = {r}."
        )
    for name in ("name", "source_prompt", "target_prompt"):
        if not isinstance(fields[name], str):
            raise SVDEditError(f"{name} must be a string, got {fields[name]!r}.")
    for name in ("final_loss", "optimum_loss"):
        if not is_finite_number(fields[name]):
            raise SVDEditError(f"{name} must be a finite number, got {fields[name]!r}.")
    check_pair_mode(fields.get("pair_mode", ""))


def check_attribute(a: Attribute) -> None:
    """Everything :func:`check_fields` and :func:`check_finite` check.

    Raises:
        SVDEditError: naming the first bad field or tensor.
    """
    check_fields({f.name: getattr(a, f.name) for f in dataclasses.fields(a)}, a.config)
    check_finite(a)


def check_finite(a: Attribute) -> None:
    """Every tensor of ``a`` is finite (a scan of all their values)."""
    for what, (tensor, _) in _expected_tensors(a).items():
        if not bool(torch.isfinite(tensor).all()):
            raise SVDEditError(f"{what} contains NaN or Inf.")
