"""Applying a learned attribute: one named function per edit mode, and the one place that
picks the mode from what is connected (:func:`choose_edit`).

Every mode returns the full-strength edit, float32 ``[..., H, W]`` on the latent's device
(``...`` = its ``B, C[, T]``); :func:`apply_attribute` and :func:`strength_sweep` add it at
their strengths (docs/method.md section 4).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial

import torch

from .alignment import aligned_mean_edit
from .attribute import Attribute
from .decomposition import LatentSVD, recompose, reconstruct, require_svd
from .errors import SVDEditError
from .locality import branch_mask
from .pairs import channel_index, check_not_degenerate, check_pair, check_rank, dense
from .predictor import predict_coefficients
from .validation import check_finite_number

ReuseEdit = Callable[[LatentSVD, Attribute], torch.Tensor]


def check_channels(latent_svd: LatentSVD, attribute: Attribute) -> None:
    """The latent has the attribute's channel count (the same model family)."""
    if latent_svd.channels != attribute.channels:
        raise SVDEditError(
            f"the attribute was learned on {attribute.channels}-channel latents but this latent "
            f"has {latent_svd.channels} channels: use an attribute learned with the same model "
            "family."
        )


def edit_delta(latent_svd: LatentSVD, attribute: Attribute, target: LatentSVD) -> torch.Tensor:
    """``y - x`` with ``y`` the predictor's output on ``x``'s and the target's components."""
    check_channels(latent_svd, attribute)
    check_pair(latent_svd, target)
    ks, kt = attribute.ks, attribute.kt
    check_rank(latent_svd, ks, "latent")
    check_rank(target, kt, "target")
    check_not_degenerate(latent_svd, target, "cannot apply the attribute")

    lead = latent_svd.lead_shape
    dev = latent_svd.device
    with torch.no_grad():
        Ux = latent_svd.U[..., :ks].float()
        sx = latent_svd.S[..., :ks].float()
        Vhx = latent_svd.Vh[..., :ks, :].float()
        Uz = target.U[..., :kt].to(dev, torch.float32).expand(*lead, -1, -1)
        sz = target.S[..., :kt].to(dev, torch.float32).expand(*lead, -1)
        Vhz = target.Vh[..., :kt, :].to(dev, torch.float32).expand(*lead, -1, -1)
        params = {k: v.to(dev) for k, v in attribute.predictor.items()}
        channel = channel_index(lead).to(dev)
        c = predict_coefficients(
            params, sx.reshape(-1, ks), sz.reshape(-1, kt), channel, attribute.channels
        )
        a = c[:, :ks].reshape(*lead, ks)
        b = c[:, ks:].reshape(*lead, kt)
        # y - x = sum (a_i - sx_i) E_i + sum b_j F_j (+ the dropped tail without keep_tail).
        delta = reconstruct(Ux, a - sx, Vhx) + reconstruct(Uz, b, Vhz)
        if not attribute.config.keep_tail:
            delta = delta - (dense(latent_svd) - reconstruct(Ux, sx, Vhx))
    return delta


def independent_edit(
    latent_svd: LatentSVD, attribute: Attribute, target: LatentSVD
) -> torch.Tensor:
    """The paper's pairing: ``y - x``, ``y = predictor(x, z)``."""
    return edit_delta(latent_svd, attribute, target)


def branched_edit(
    source_branch: LatentSVD, attribute: Attribute, target: LatentSVD, local: bool
) -> torch.Tensor:
    """Branched pairs: ``m * (y - x_s)``, ``y = predictor(x_s, z_t)``, ``m = branch_mask(z_t -
    x_s)`` with ``local``, else ``m = 1``."""
    delta = edit_delta(source_branch, attribute, target)
    if not local:
        return delta
    difference = dense(target).expand(*source_branch.lead_shape, -1, -1) - dense(source_branch)
    return delta * branch_mask(difference)


def reuse_mean_edit(latent_svd: LatentSVD, attribute: Attribute) -> torch.Tensor:
    """No target: ``mean_b (y_b - x_b)`` over the training pairs, the attribute's stored edit."""
    check_channels(latent_svd, attribute)
    mean = attribute.mean_edit
    if mean is None:
        raise SVDEditError(
            "this attribute carries no mean edit (a file of format version 1), so it needs a "
            "target: connect a target latent, or learn the attribute again with this version."
        )
    on_video = attribute.frames is None and latent_svd.frames is not None
    want = tuple(mean.shape[1:])
    # An image attribute on video: every frame gets the same edit.
    got = tuple(latent_svd.shape[3:] if on_video else latent_svd.shape[2:])
    if got != want:

        def size(shape: tuple[int, ...]) -> str:
            hw = f"{shape[-2]}x{shape[-1]}"
            return f"{shape[0]} frames of {hw}" if len(shape) == 3 else f"{hw} (no frames)"

        raise SVDEditError(
            f"the attribute's mean edit is a latent-space direction of {size(want)} and this "
            f"latent is {size(got)}: the mean edit applies only at the size it was learned "
            "on. Connect a target latent (and source_branch) for this image, or learn the "
            "attribute at this size."
        )
    # An empty latent straight into the edit is a wiring mistake in every mode (the edit
    # belongs at step k, after the source sampler); a wrong size is said first.
    check_not_degenerate(latent_svd, None, "cannot apply the attribute")
    return (mean.unsqueeze(1) if on_video else mean).to(latent_svd.device, torch.float32)


def reuse_aligned_edit(latent_svd: LatentSVD, attribute: Attribute) -> torch.Tensor:
    """No target: ``sum_i w_i shift(e_i, d_i) / sum_i w_i``, each training edit ``e_i`` moved by
    the displacement ``d_i`` that lines its reference up with the latent (weight ``w_i``, the
    correlation there; :func:`svd_core.alignment.aligned_mean_edit`).

    The latent belongs at the attribute's ``reuse_step`` and may have another ``H, W`` than
    the training latents; an image attribute edits every frame of a video alike.
    """
    check_channels(latent_svd, attribute)
    references, edits = attribute.reuse_references, attribute.reuse_edits
    if references is None or edits is None:
        raise SVDEditError(
            "this attribute was learned without reuse_reference, so it cannot follow the "
            "subject: connect a target latent, use reuse 'mean_edit', or learn it again with "
            "reuse_reference connected."
        )
    if attribute.frames is not None and latent_svd.frames != attribute.frames:
        raise SVDEditError(
            f"the attribute was learned on videos of {attribute.frames} frames and this latent "
            f"has {latent_svd.frames or 'no'} frames: use an attribute learned on the same "
            "number of frames."
        )
    check_not_degenerate(latent_svd, None, "cannot apply the attribute")
    x = dense(latent_svd)
    if attribute.frames is None and latent_svd.frames is not None:
        x = x.transpose(1, 2)  # frames into the batch: [B, T, C, H, W]
        return _aligned(x.flatten(0, 1), references, edits).reshape(x.shape).transpose(1, 2)
    return _aligned(x, references, edits)


def _aligned(x: torch.Tensor, references: torch.Tensor, edits: torch.Tensor) -> torch.Tensor:
    """:func:`aligned_mean_edit` over ``[B, C(, T), H, W]`` with frames folded into channels."""
    out = aligned_mean_edit(x.flatten(1, -3), references.flatten(1, -3), edits.flatten(1, -3))
    return out.reshape(x.shape)


#: The edits without a target, by the name :func:`apply_attribute`'s ``reuse`` takes.
REUSE_EDITS: dict[str, ReuseEdit] = {"mean_edit": reuse_mean_edit, "aligned": reuse_aligned_edit}


def default_reuse(attribute: Attribute) -> str:
    """The edit without a target: aligned where the attribute carries references (it follows
    the subject; the semantic benchmark's reuse table), else the stored mean edit."""
    return "mean_edit" if attribute.reuse_references is None else "aligned"


def choose_edit(
    latent_svd: LatentSVD,
    attribute: Attribute,
    target: LatentSVD | None,
    source_branch: LatentSVD | None,
    reuse: str | None = None,
    local: bool = False,
) -> Callable[[], torch.Tensor]:
    """The edit mode for what is connected, as a call still to make (strength 0 needs none):

    - ``target`` and ``source_branch``: :func:`branched_edit`;
    - ``target`` alone: :func:`independent_edit`;
    - neither: :data:`REUSE_EDITS` ``[reuse or default_reuse(attribute)]``.

    A target is applied the way the attribute's pairs were made, when it recorded that.
    """
    if target is None:
        if source_branch is not None:
            raise SVDEditError(
                "source_branch needs its target: connect the target branch (the target prompt "
                "continued from the same latent for the same steps) as target."
            )
        name = reuse or default_reuse(attribute)
        if name not in REUSE_EDITS:
            raise SVDEditError(f"reuse must be one of {list(REUSE_EDITS)} or None, got {reuse!r}.")
        return partial(REUSE_EDITS[name], latent_svd, attribute)
    if reuse is not None:
        raise SVDEditError("reuse applies only without a target; a target was given.")
    if attribute.pair_mode == "branched" and source_branch is None:
        raise SVDEditError(
            "this attribute was learned from branched pairs (source and target prompt both "
            "continued from the step-k latent for delta steps): connect this image's source "
            "branch as source_branch beside its target branch, or connect neither to add the "
            "attribute's mean edit."
        )
    if attribute.pair_mode == "independent" and source_branch is not None:
        raise SVDEditError(
            "this attribute was learned from the paper's independent pairs (the target prompt "
            "sampled from step 0 to k + delta): disconnect source_branch and connect such a "
            "target, or learn the attribute from branch pairs."
        )
    if source_branch is None:
        return partial(independent_edit, latent_svd, attribute, target)
    check_pair(latent_svd, source_branch, "source_branch")
    return partial(branched_edit, source_branch, attribute, target, local)


def apply_attribute(
    latent_svd: LatentSVD,
    attribute: Attribute,
    target: LatentSVD | None = None,
    strength: float = 1.0,
    source_branch: LatentSVD | None = None,
    reuse: str | None = None,
    local: bool = False,
) -> LatentSVD:
    """Edit a latent with a learned attribute: ``edited = x + strength * edit``.

    The edit is chosen by :func:`choose_edit` (each mode measured, see the semantic
    benchmark's README):

    - ``target`` only: :func:`independent_edit`, the paper's ``y - x``.
    - ``target`` and ``source_branch`` (``x_s``, ``z_t``: the source and target prompts each
      continued from ``x`` for ``delta`` steps): :func:`branched_edit`, ``y - x_s``, which
      shares the branches' noise level and so is the attribute alone.  It is added to
      ``latent_svd``: ``x_s`` itself (continued from ``k + delta``, the measured default) or
      ``x`` at step ``k``.  With ``local`` it is kept where the branches differ.
    - neither: the reuse edit ``reuse`` names, at the cost of the source run alone; by
      default :func:`reuse_aligned_edit` where the attribute carries reuse references (the
      latent then belongs at its ``reuse_step``; any size), else :func:`reuse_mean_edit` (same
      size, model and step only, see :class:`Attribute`).  A format-1 file carries no mean
      edit and needs a target.

    Args:
        latent_svd: decomposition of the latent to edit ``x'`` (``[B, C, H, W]`` or video);
            its channel count must equal the attribute's.
        attribute: from :func:`learn_attribute` or :func:`load_attribute`.
        target: decomposition of the new image's target latent (same shape, or batch 1).
        strength: ``0`` returns ``latent_svd`` itself; ``1`` is the learned edit; negative
            values push away from the target.  Edits compose: applying two attributes in a
            row adds both edits (exactly so in the branched and mean-edit modes, whose edit
            does not depend on ``latent_svd``).
        source_branch: decomposition of the source branch ``x_s`` (same shape as
            ``latent_svd``, or batch 1); needs ``target``.
        reuse: without a target, a key of :data:`REUSE_EDITS` or ``None``.
        local: with ``target`` and ``source_branch``, keep the edit where they differ;
            the other modes have no branches and ignore it.

    Returns:
        The full-rank decomposition of the edited latent (one batched SVD), with the input's
        shape and dtype, on the input's device.
    """
    s = check_finite_number(strength, "strength")
    # The library's entry point: a Python caller may hand over a bare tensor.
    require_svd(latent_svd)
    edit = choose_edit(latent_svd, attribute, target, source_branch, reuse, local)
    if s == 0.0:
        return latent_svd
    with torch.no_grad():
        edited = _blend(dense(latent_svd), edit(), s)
        u, sv, vh = torch.linalg.svd(edited, full_matrices=False)
    return LatentSVD(U=u, S=sv, Vh=vh, shape=latent_svd.shape, dtype=latent_svd.dtype)


def strength_sweep(
    latent_svd: LatentSVD,
    attribute: Attribute,
    strengths: Sequence[float],
    target: LatentSVD | None = None,
    source_branch: LatentSVD | None = None,
    local: bool = False,
) -> list[torch.Tensor]:
    """The latent edited at every strength, as dense latents: ``x + s * edit``, the edit
    :func:`apply_attribute` makes with the same ``target``, ``source_branch`` and ``local``.

    The edit is linear in the strength, so it is computed once and no decomposition
    is made per strength (docs/method.md section 4).  Each result has the latent's shape and
    dtype on its device, like ``recompose(apply_attribute(...))``; strength 0 gives the
    recomposed input exactly.
    """
    values = [check_finite_number(s, "strength") for s in strengths]
    edit = choose_edit(latent_svd, attribute, target, source_branch, None, local)
    if all(s == 0.0 for s in values):
        return [recompose(latent_svd) for _ in values]
    with torch.no_grad():
        x, delta = dense(latent_svd), edit()
        return [
            recompose(latent_svd) if s == 0.0 else _blend(x, delta, s).to(latent_svd.dtype)
            for s in values
        ]


def _blend(x: torch.Tensor, delta: torch.Tensor, strength: float) -> torch.Tensor:
    """``x + strength * delta``, refused when it overflows."""
    edited = x + strength * delta
    if not bool(torch.isfinite(edited).all()):
        raise SVDEditError(
            "the edited latent contains NaN or Inf (strength too large?); lower the strength."
        )
    return edited
