"""Attribute Vector Integration: learn an attribute from (source, target) pairs.

docs/method.md section 3.  The loss is evaluated through :mod:`svd_core.quadratic`
(no dense ``y`` during training); :func:`solve_pair` minimises the same loss exactly.
Applying it is :mod:`svd_core.edits`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace

import torch

from .attribute import Attribute, check_pair_mode
from .config import AVIConfig
from .decomposition import LatentSVD
from .edits import edit_delta
from .errors import SVDEditError
from .locality import branch_mask
from .pairs import channel_index, check_not_degenerate, check_pair, check_rank, dense, flat
from .predictor import (
    coefficient_frame,
    init_predictor,
    predict_coefficients,
    predictor_inputs,
)
from .quadratic import QuadraticLoss, build_quadratic
from .training import train_predictor

ProgressFn = Callable[[int, int], None]

#: Provenance keywords accepted by :func:`learn_attribute`.
PROVENANCE_KEYS = ("source_prompt", "target_prompt", "step", "delta", "pair_mode", "reuse_step")

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


def _pair_quadratic(
    source: LatentSVD, target: LatentSVD, config: AVIConfig
) -> tuple[QuadraticLoss, int, int]:
    check_pair(source, target)
    ks, kt = effective_components(config, source.height, source.width)
    check_rank(source, ks, "source")
    check_rank(target, kt, "target")
    check_not_degenerate(source, target, "cannot learn from this pair")
    lead = source.lead_shape
    q = build_quadratic(
        flat(source.U, lead, 2),
        flat(source.S, lead, 1),
        flat(source.Vh, lead, 2),
        flat(target.U, lead, 2),
        flat(target.S, lead, 1),
        flat(target.Vh, lead, 2),
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
    config = AVIConfig() if config is None else config
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
    out = {key: provenance.get(key) for key in PROVENANCE_KEYS}
    for key in ("source_prompt", "target_prompt", "pair_mode"):
        out[key] = out[key] or ""
    check_pair_mode(out["pair_mode"])
    return out


def learn_attribute(
    source: LatentSVD,
    target: LatentSVD,
    config: AVIConfig | None = None,
    progress: ProgressFn | None = None,
    name: str = "attribute",
    reuse_references: LatentSVD | None = None,
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
        reuse_references: optional, branched pairs only: each source branch continued by the
            source prompt to a later step (``reuse_step``, about 0.6 N), the same shape as
            ``source``.  Stored with the pairs' local edits, it makes the aligned reuse edit
            (:func:`~svd_core.edits.reuse_aligned_edit`).
        **provenance: optional ``source_prompt``, ``target_prompt``, ``step``, ``delta``,
            ``pair_mode`` (``"independent"``, ``"branched"``, ``"unreadable"`` or ``""``, see
            :data:`~svd_core.attribute.PAIR_MODES`), ``reuse_step``.

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
        :func:`~svd_core.edits.reuse_mean_edit` adds to a new latent without a target).

    Works under ``torch.inference_mode()`` (as ComfyUI runs nodes): training uses no
    autograd.  Deterministic on CPU for a given ``config.seed``.
    """
    config = AVIConfig() if config is None else config
    prov = _check_provenance(provenance)
    if reuse_references is not None:
        check_reuse_references(source, reuse_references, prov["pair_mode"])
    with single_thread():
        attribute = _train(source, target, config, progress, name, prov)
    if reuse_references is None:
        return attribute
    return replace(attribute, **reuse_tensors(source, target, reuse_references))


def check_reuse_references(source: LatentSVD, references: LatentSVD, pair_mode: object) -> None:
    """References go with branched pairs, one per source branch of the same size."""
    if pair_mode == "independent":
        raise SVDEditError(
            "reuse_reference needs branch pairs (both prompts continued from the same step-k "
            "latent); with the paper's pairs the difference of the two latents is mostly noise "
            "level, not the attribute. Disconnect reuse_reference or learn from branch pairs."
        )
    if source.shape != references.shape:
        raise SVDEditError(
            f"reuse_reference {list(references.shape)} must have the source's shape "
            f"{list(source.shape)}: one source-prompt continuation of each source branch."
        )
    check_not_degenerate(references, None, "cannot use reuse_reference")


def reuse_tensors(
    source: LatentSVD, target: LatentSVD, references: LatentSVD
) -> dict[str, torch.Tensor]:
    """``reuse_references`` and ``reuse_edits`` ``[P, C, H, W]`` float32 CPU for
    :class:`Attribute`: the references' latents, and the pairs' edits ``m * (z - x)`` kept
    where the branches differ (``m = branch_mask(z - x)``)."""
    with torch.no_grad():
        x = dense(source)
        difference = dense(target).to(x.device).expand_as(x) - x
        edits = difference * branch_mask(difference)
        refs = dense(references)
    return {
        "reuse_references": refs.to("cpu", torch.float32).contiguous(),
        "reuse_edits": edits.to("cpu", torch.float32).contiguous(),
    }


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
        channel = channel_index(source.lead_shape)
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
