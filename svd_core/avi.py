"""Attribute Vector Integration: learn an attribute from (source, target) pairs and apply it.

docs/method.md sections 3 and 4.  The loss is evaluated through :mod:`svd_core.quadratic`
(no dense ``y`` during training); :func:`solve_pair` minimises the same loss exactly.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace

import torch

from .attribute import PAIR_MODES, Attribute, require_attribute
from .config import AVIConfig
from .decomposition import LatentSVD, recompose, reconstruct, require_svd
from .errors import SVDEditError
from .locality import branch_mask
from .predictor import (
    coefficient_frame,
    init_predictor,
    predict_coefficients,
    predictor_inputs,
)
from .quadratic import QuadraticLoss, build_quadratic
from .training import train_predictor
from .validation import check_finite_number, is_integer

ProgressFn = Callable[[int, int], None]

#: Provenance keywords accepted by :func:`learn_attribute`.
PROVENANCE_KEYS = ("source_prompt", "target_prompt", "step", "delta", "pair_mode")

#: How :func:`apply_attribute` edits a latent when no target is given.
REUSE_MODES = ("mean_edit", "stored_target")

#: At most this many progress callbacks per training run (a callback may be costly).
PROGRESS_CALLS = 100


@dataclass(frozen=True)
class PairSolution:
    """Exact minimiser of the AVI loss with fixed bases.

    Attributes:
        a: ``[..., ks]`` optimal source coefficients (``...`` = the source's ``B, C[, T]``).
        b: ``[..., kt]`` optimal target coefficients.
        loss: the minimal loss, averaged over matrices like the training loss.
        per_matrix: ``[...]`` the minimal loss of each matrix.
    """

    a: torch.Tensor
    b: torch.Tensor
    loss: float
    per_matrix: torch.Tensor


@contextmanager
def single_thread() -> Iterator[None]:
    """Run the block with one intra-op thread, then restore the previous count.

    The AVI tensors are tiny (``[M, k, k]``, a 3-layer MLP over ``M`` rows): thread start-up
    and spinning cost far more than they save (10x slower with 2 threads on a busy 2-core
    CPU).  The setting is process-wide, so it is restored even if the block raises.
    """
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def effective_components(config: AVIConfig, height: int, width: int) -> tuple[int, int]:
    """``(ks, kt)`` clipped to ``min(H, W)``."""
    r = min(height, width)
    return min(config.ks, r), min(config.kt, r)


def _check_inputs(source: object, target: object, config: object) -> AVIConfig:
    """The checks :func:`solve_pair` and :func:`learn_attribute` share; the configuration
    to use (the defaults for ``None``)."""
    config = AVIConfig() if config is None else config
    if not isinstance(config, AVIConfig):
        raise SVDEditError(f"config must be an AVIConfig, got {type(config).__name__}.")
    require_svd(source, "source")
    require_svd(target, "target")
    return config


def _check_pair(source: LatentSVD, target: LatentSVD, what: str = "target") -> None:
    if source.shape[1:] != target.shape[1:]:
        raise SVDEditError(
            f"source latent {list(source.shape)} and {what} latent {list(target.shape)} differ: "
            "they must come from the same model and resolution (same C, H, W"
            + (", T" if len(source.shape) == 5 else "")
            + ")."
        )
    if len(source.shape) != len(target.shape):
        raise SVDEditError("source and target must both be image or both be video latents.")
    if target.batch not in (1, source.batch):
        raise SVDEditError(
            f"{what} batch size {target.batch} does not match the source batch {source.batch}: "
            f"give one {what} per source, or a single {what} for all of them."
        )


def _check_rank(svd: LatentSVD, k: int, what: str) -> None:
    if svd.rank < k:
        raise SVDEditError(
            f"{what} decomposition keeps rank {svd.rank} but {k} components are needed: "
            "decompose with rank 0 (full) or at least that rank."
        )


#: A matrix whose largest singular value is below this fraction of the pair's largest one is
#: treated as empty: the predictor's inputs are divided by ``sx_1`` and the losses by
#: ``||x||``, ``||z||``, so such a matrix would make training meaningless.
DEGENERATE_RATIO = 1e-6


def _check_not_degenerate(source: LatentSVD, target: LatentSVD | None, what: str) -> None:
    s1 = source.S[..., 0].detach().float()
    tops = [(s1, "source")]
    if target is not None:
        tops.append((target.S[..., 0].detach().to(s1.device, torch.float32), "target"))
    ref = torch.stack([s.max() for s, _ in tops]).max()
    for s, name in tops:
        bad = s <= DEGENERATE_RATIO * ref
        if bool(bad.any()):
            idx = [int(i) for i in bad.nonzero()[0].tolist()]
            where = f"batch {idx[0]}, channel {idx[1]}"
            if len(idx) > 2:
                where += f", frame {idx[2]}"
            raise SVDEditError(
                f"{what}: the {name} latent is (almost) all zeros at {where}; AVI needs real "
                "partly denoised latents (the source after k steps, the target after k + delta "
                "steps), not an empty latent."
            )


def _flat(t: torch.Tensor, lead: tuple[int, ...], tail: int) -> torch.Tensor:
    """Broadcast ``t`` over the lead dims and flatten them to ``[M, ...]``."""
    t = t.expand(*lead, *t.shape[-tail:]) if tail else t.expand(*lead)
    return t.reshape(-1, *t.shape[len(lead) :])


def _channel_index(lead: tuple[int, ...]) -> torch.Tensor:
    """``[M]`` channel of each matrix (dim 1 of the lead dims)."""
    shape = [1] * len(lead)
    shape[1] = lead[1]
    return torch.arange(lead[1]).view(shape).expand(*lead).reshape(-1)


def _pair_quadratic(
    source: LatentSVD, target: LatentSVD, config: AVIConfig
) -> tuple[QuadraticLoss, int, int]:
    _check_pair(source, target)
    ks, kt = effective_components(config, source.height, source.width)
    _check_rank(source, ks, "source")
    _check_rank(target, kt, "target")
    _check_not_degenerate(source, target, "cannot learn from this pair")
    lead = source.lead_shape
    q = build_quadratic(
        _flat(source.U, lead, 2),
        _flat(source.S, lead, 1),
        _flat(source.Vh, lead, 2),
        _flat(target.U, lead, 2),
        _flat(target.S, lead, 1),
        _flat(target.Vh, lead, 2),
        ks,
        kt,
        config.keep_tail,
        config.weights,
    )
    return q, ks, kt


def solve_pair(
    source: LatentSVD, target: LatentSVD, config: AVIConfig | None = None
) -> PairSolution:
    """The exact minimiser of the AVI loss for fixed bases (docs/method.md section 3.2).

    One ``(ks + kt)``-sized least-squares solve per matrix, batched.  Its ``loss`` is a lower
    bound of any predictor's training loss on the same pairs and the yardstick of convergence.
    ``target`` may have batch 1 (broadcast over the source batch).
    """
    config = _check_inputs(source, target, config)
    with single_thread():
        q, ks, kt = _pair_quadratic(source, target, config)
        c, per = q.solve()
    lead = source.lead_shape
    return PairSolution(
        a=c[:, :ks].reshape(*lead, ks).float(),
        b=c[:, ks:].reshape(*lead, kt).float(),
        loss=float(per.mean()),
        per_matrix=per.reshape(lead).float(),
    )


def _check_provenance(provenance: dict[str, object]) -> dict[str, object]:
    unknown = sorted(set(provenance) - set(PROVENANCE_KEYS))
    if unknown:
        raise SVDEditError(
            f"unknown provenance fields {unknown}; allowed: {list(PROVENANCE_KEYS)}."
        )
    out: dict[str, object] = {}
    for key in ("source_prompt", "target_prompt"):
        v = provenance.get(key, "")
        if v is None:
            v = ""
        if not isinstance(v, str):
            raise SVDEditError(f"{key} must be a string, got {type(v).__name__}.")
        out[key] = v
    for key in ("step", "delta"):
        v = provenance.get(key)
        if v is not None and not is_integer(v):
            raise SVDEditError(f"{key} must be an integer or None, got {v!r}.")
        out[key] = v
    mode = provenance.get("pair_mode", "")
    if mode not in PAIR_MODES:
        raise SVDEditError(f"pair_mode must be one of {list(PAIR_MODES)}, got {mode!r}.")
    out["pair_mode"] = mode
    return out


def learn_attribute(
    source: LatentSVD,
    target: LatentSVD,
    config: AVIConfig | None = None,
    progress: ProgressFn | None = None,
    name: str = "attribute",
    **provenance: object,
) -> Attribute:
    """Train the AVI predictor on (source, target) pairs (docs/method.md section 3).

    Args:
        source: decomposition of ``x`` ``[B, C, H, W]`` (or video ``[B, C, T, H, W]``); a
            batch of ``B`` pairs trains one predictor.
        target: decomposition of ``z``, same shape, or batch 1 (shared by all sources).
        config: training settings (defaults: :class:`AVIConfig`).
        progress: called as ``progress(step, total)`` at the start, about every 1 % of the
            steps, at least every 0.25 s, and at the end; an exception it raises stops
            training and propagates (how a node honours Cancel).
        name: label stored in the attribute.
        **provenance: optional ``source_prompt``, ``target_prompt``, ``step``, ``delta``,
            ``pair_mode`` (``"independent"`` or ``"branched"``, see :data:`PAIR_MODES`).

    Pair modes (what the caller passes; the training is the same):

    - independent (the paper): ``source`` = ``x``, the source prompt sampled to step ``k``;
      ``target`` = ``z``, the target prompt sampled from step 0 to ``k + delta``.  Most of
      ``z - x`` is then the change of noise level over ``delta`` steps, not the attribute.
    - branched (noise-matched): ``source`` = the source prompt continued from ``x`` for
      ``delta`` steps, ``target`` = the target prompt continued from the same ``x`` for the
      same steps.  Both sit at the same noise level, so their difference is the attribute;
      apply with ``apply_attribute(x, attribute, target=..., source_branch=...)``.

    Returns:
        An :class:`Attribute` with float32 CPU tensors, the loss history, the final loss of
        the stored predictor, the exact optimum of the same loss and ``mean_edit``: the
        stored predictor's edit ``y - source`` averaged over the training pairs (what
        :func:`apply_attribute` adds to a new latent when no target is given).

    Works under ``torch.inference_mode()`` (as ComfyUI runs nodes): training uses no
    autograd.  Deterministic on CPU for a given ``config.seed``.
    """
    config = _check_inputs(source, target, config)
    if not isinstance(name, str):
        raise SVDEditError(f"name must be a string, got {type(name).__name__}.")
    prov = _check_provenance(provenance)
    if progress is not None and not callable(progress):
        raise SVDEditError("progress must be callable as progress(step, total).")

    with single_thread():
        return _train(source, target, config, progress, name, prov)


def _train(
    source: LatentSVD,
    target: LatentSVD,
    config: AVIConfig,
    progress: ProgressFn | None,
    name: str,
    prov: dict[str, object],
) -> Attribute:
    steps = config.steps
    with torch.no_grad():
        q, ks, kt = _pair_quadratic(source, target, config)
        channels = source.channels
        channel = _channel_index(source.lead_shape)
        inputs = predictor_inputs(q.sx, q.sz, channel, channels)
        base, scale = coefficient_frame(q.sx, q.sz)
        init = init_predictor(ks, kt, channels, config.hidden, config.seed, torch.float64)
        if progress is not None:
            progress(0, steps)
        trained, history = train_predictor(
            q,
            init,
            inputs,
            base,
            scale,
            steps,
            config.lr,
            progress=None if progress is None else (lambda i: progress(i, steps)),
            progress_every=max(1, -(-steps // PROGRESS_CALLS)),
        )
        stored = {k: v.to(torch.float32).contiguous() for k, v in trained.items()}
        # The loss of the predictor as stored (float32), not of the float64 copy.
        p64 = {k: v.to(torch.float64) for k, v in stored.items()}
        final = float(q.loss(predict_coefficients(p64, q.sx, q.sz, channel, channels)))
        _, optimum = q.solve()

    t0 = target.select_batch(0)
    tU = t0.U[0, ..., :kt].detach().to("cpu", torch.float32).contiguous()
    tS = t0.S[0, ..., :kt].detach().to("cpu", torch.float32).contiguous()
    tVh = t0.Vh[0, ..., :kt, :].detach().to("cpu", torch.float32).contiguous()
    attribute = Attribute(
        name=name,
        config=config,
        channels=channels,
        height=source.height,
        width=source.width,
        ks=ks,
        kt=kt,
        predictor=stored,
        target_U=tU,
        target_S=tS,
        target_Vh=tVh,
        loss_history=history.to(torch.float32),
        final_loss=final,
        optimum_loss=float(optimum.mean()),
        num_pairs=source.batch,
        frames=source.frames,
        **prov,  # type: ignore[arg-type]
    )
    # The learned edit on the training pairs, averaged position by position: reusable on a
    # new seed without sampling its target (applied at the cost of the source run alone).
    mean = edit_delta(source, attribute, target).mean(0)
    return replace(attribute, mean_edit=mean.detach().to("cpu", torch.float32).contiguous())


def _stored_target(latent_svd: LatentSVD, attribute: Attribute) -> LatentSVD:
    """The attribute's stored target components as a (rank-kt) LatentSVD of batch 1."""
    if (latent_svd.height, latent_svd.width) != (attribute.height, attribute.width):
        raise SVDEditError(
            f"the attribute was learned on {attribute.height}x{attribute.width} latents and "
            f"stores that target; this latent is {latent_svd.height}x{latent_svd.width}. "
            "Connect a target latent for this image, or use an attribute learned at this size."
        )
    U, S, Vh = attribute.target_U, attribute.target_S, attribute.target_Vh
    if attribute.frames is None and latent_svd.frames is not None:
        # An image attribute on video: every frame gets the same stored target.
        t = latent_svd.frames
        U = U.unsqueeze(1).expand(-1, t, -1, -1)
        S = S.unsqueeze(1).expand(-1, t, -1)
        Vh = Vh.unsqueeze(1).expand(-1, t, -1, -1)
    elif attribute.frames != latent_svd.frames:
        raise SVDEditError(
            f"the attribute's stored target has {attribute.frames or 'no'} frames but the latent "
            f"has {latent_svd.frames or 'no'} frames; connect a target latent instead."
        )
    dev = latent_svd.device
    return LatentSVD(
        U=U.unsqueeze(0).to(dev),
        S=S.unsqueeze(0).to(dev),
        Vh=Vh.unsqueeze(0).to(dev),
        shape=(1, *latent_svd.shape[1:]),
        dtype=latent_svd.dtype,
    )


def edit_delta(
    latent_svd: LatentSVD, attribute: Attribute, target: LatentSVD | None = None
) -> torch.Tensor:
    """``y - x``: the full-strength edit of every matrix, float32 ``[..., H, W]`` on the
    latent's device (``...`` = its ``B, C[, T]``).  See :func:`apply_attribute`."""
    require_svd(latent_svd, "latent_svd")
    require_attribute(attribute)
    if latent_svd.channels != attribute.channels:
        raise SVDEditError(
            f"the attribute was learned on {attribute.channels}-channel latents but this latent "
            f"has {latent_svd.channels} channels: use an attribute learned with the same model "
            "family."
        )
    if target is None:
        target = _stored_target(latent_svd, attribute)
    else:
        require_svd(target, "target")
        _check_pair(latent_svd, target)
    ks, kt = attribute.ks, attribute.kt
    _check_rank(latent_svd, ks, "latent")
    _check_rank(target, kt, "target")
    _check_not_degenerate(latent_svd, target, "cannot apply the attribute")

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
        channel = _channel_index(lead).to(dev)
        c = predict_coefficients(
            params, sx.reshape(-1, ks), sz.reshape(-1, kt), channel, attribute.channels
        )
        a = c[:, :ks].reshape(*lead, ks)
        b = c[:, ks:].reshape(*lead, kt)
        # y - x = sum (a_i - sx_i) E_i + sum b_j F_j (+ the dropped tail without keep_tail).
        delta = reconstruct(Ux, a - sx, Vhx) + reconstruct(Uz, b, Vhz)
        if not attribute.config.keep_tail:
            delta = delta - (_dense(latent_svd) - reconstruct(Ux, sx, Vhx))
    return delta


def _mean_edit(latent_svd: LatentSVD, attribute: Attribute) -> torch.Tensor:
    """The attribute's stored mean edit, checked against the latent's size. ``[C, (T,) H, W]``."""
    mean = attribute.mean_edit
    if mean is None:
        raise SVDEditError(
            "this attribute carries no mean edit (a file of format version 1): connect a "
            "target latent, or learn the attribute again with this version."
        )
    if latent_svd.channels != attribute.channels:
        raise SVDEditError(
            f"the attribute was learned on {attribute.channels}-channel latents but this latent "
            f"has {latent_svd.channels} channels: use an attribute learned with the same model "
            "family."
        )
    want = tuple(mean.shape[1:])
    got = tuple(latent_svd.shape[2:])
    if attribute.frames is None and latent_svd.frames is not None:
        got = got[1:]  # an image attribute on video: every frame gets the same edit
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
    _check_not_degenerate(latent_svd, None, "cannot apply the attribute")
    if attribute.frames is None and latent_svd.frames is not None:
        mean = mean.unsqueeze(1)
    return mean.to(latent_svd.device, torch.float32)


def _check_pair_mode(attribute: Attribute, source_branch: LatentSVD | None) -> None:
    """A target is applied the way the attribute's pairs were made (when it recorded that):
    its predictor has only seen pairs of that kind.  The mean edit serves both modes."""
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


def _edit_for(
    latent_svd: LatentSVD,
    attribute: Attribute,
    target: LatentSVD | None,
    source_branch: LatentSVD | None,
    reuse: str | None,
    local: bool = False,
) -> Callable[[], torch.Tensor]:
    """Check what :func:`apply_attribute` and :func:`strength_sweep` were given and return
    the computation of their full-strength edit (deferred: strength 0 needs none)."""
    if source_branch is not None:
        require_svd(source_branch, "source_branch")
        if target is None:
            raise SVDEditError(
                "source_branch needs its target: connect the target branch (the target prompt "
                "continued from the same latent for the same steps) as target."
            )
        _check_pair(latent_svd, source_branch, "source_branch")
    if reuse is not None:
        if reuse not in REUSE_MODES:
            raise SVDEditError(f"reuse must be one of {list(REUSE_MODES)} or None, got {reuse!r}.")
        if target is not None:
            raise SVDEditError("reuse applies only without a target; a target was given.")
    require_attribute(attribute)
    if target is not None:
        _check_pair_mode(attribute, source_branch)
    if source_branch is not None and local:
        return lambda: _local_branch_edit(source_branch, attribute, target)
    if source_branch is not None:
        return lambda: edit_delta(source_branch, attribute, target)
    if target is not None:
        return lambda: edit_delta(latent_svd, attribute, target)
    mode = reuse or ("mean_edit" if attribute.mean_edit is not None else "stored_target")
    if mode == "mean_edit":
        return lambda: _mean_edit(latent_svd, attribute)
    return lambda: edit_delta(latent_svd, attribute, None)


def _local_branch_edit(
    source_branch: LatentSVD, attribute: Attribute, target: LatentSVD
) -> torch.Tensor:
    """The branched edit kept where the branches differ: ``m * (y - x_s)``,
    ``m = branch_mask(z_t - x_s)`` (:func:`~svd_core.locality.branch_mask`). ``[..., H, W]``"""
    delta = edit_delta(source_branch, attribute, target)
    lead = source_branch.lead_shape
    difference = _dense(target).expand(*lead, -1, -1) - _dense(source_branch)
    return delta * branch_mask(difference)


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

    Which ``edit`` depends on what is given (each a measured mode, see the semantic
    benchmark's README):

    - ``target`` only (the paper, independent target): ``edit = y - x``, where ``y`` is the
      predictor's output on ``x``'s and the target's singular components.
    - ``target`` and ``source_branch`` (branched, noise-matched): ``edit = y - x_s`` with
      ``y`` the predictor's output on (``x_s``, ``z_t``), where ``x_s`` = ``source_branch``
      and ``z_t`` = ``target`` are the source and target prompts each continued from ``x``
      for ``delta`` steps.  Both branches share the noise level, so the edit is the attribute
      alone; it is added to ``latent_svd``: ``x_s`` itself (continued from ``k + delta``,
      the measured default: the branch is the continuation's first steps) or ``x`` at step
      ``k``.  Learn such an attribute from the same kind of pairs
      (``learn_attribute(x_s, z_t)``).  With ``local`` the edit is kept where the branches
      differ: ``m * (y - x_s)``, ``m = branch_mask(z_t - x_s)`` (the toolbox benchmark in
      benchmarks/semantic/README.md).
    - neither (``reuse``): ``"mean_edit"`` adds the attribute's stored mean edit (cost of the
      source run alone; same size, model and step only, see :class:`Attribute`);
      ``"stored_target"`` uses the first training pair's target components in place of this
      latent's target (the weakest mode; kept for comparison).  ``None`` picks
      ``"mean_edit"`` when the attribute carries one, else ``"stored_target"`` (files of
      format version 1).

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
        reuse: without a target, ``"mean_edit"``, ``"stored_target"`` or ``None`` (above).
        local: with ``target`` and ``source_branch``, keep the edit where they differ;
            the other modes have no branches and ignore it.

    Returns:
        The full-rank decomposition of the edited latent (one batched SVD), with the input's
        shape and dtype, on the input's device.
    """
    s = check_finite_number(strength, "strength")
    require_svd(latent_svd, "latent_svd")
    edit = _edit_for(latent_svd, attribute, target, source_branch, reuse, local)
    if s == 0.0:
        return latent_svd
    delta = edit()
    with torch.no_grad():
        edited = _blend(_dense(latent_svd), delta, s)
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
    """The latent edited at every strength, as dense latents: ``x + s * edit``, the same
    edit as :func:`apply_attribute` with the same ``target``, ``source_branch`` and
    ``local`` (the mean edit when neither is given).

    The edit is linear in the strength, so it is computed once and no decomposition
    is made per strength (docs/method.md section 4).  Each result has the latent's shape and
    dtype on its device, like ``recompose(apply_attribute(...))``; strength 0 gives the
    recomposed input exactly.
    """
    values = [check_finite_number(s, "strength") for s in strengths]
    require_svd(latent_svd, "latent_svd")
    edit = _edit_for(latent_svd, attribute, target, source_branch, None, local)
    if all(s == 0.0 for s in values):
        return [recompose(latent_svd) for _ in values]
    delta = edit()
    with torch.no_grad():
        x = _dense(latent_svd)
        return [
            recompose(latent_svd) if s == 0.0 else _blend(x, delta, s).to(latent_svd.dtype)
            for s in values
        ]


def _dense(svd: LatentSVD) -> torch.Tensor:
    """The float32 latent ``x`` a decomposition describes (``[..., H, W]``)."""
    return reconstruct(svd.U.float(), svd.S.float(), svd.Vh.float())


def _blend(x: torch.Tensor, delta: torch.Tensor, strength: float) -> torch.Tensor:
    """``x + strength * delta``, refused when it overflows."""
    edited = x + strength * delta
    if not bool(torch.isfinite(edited).all()):
        raise SVDEditError(
            "the edited latent contains NaN or Inf (strength too large?); lower the strength."
        )
    return edited
