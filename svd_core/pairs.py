"""What a pair of decompositions must satisfy before AVI uses them together, and the small
tensor helpers learning and editing share.

These are the combinations only the core can judge (the sizes of a pair, the rank a
decomposition keeps, a latent that is all zeros); each input's own type and values were
checked where it entered (:func:`svd_core.decompose`, the attribute loader, the widgets).
"""

from __future__ import annotations

import torch

from .decomposition import LatentSVD, reconstruct
from .errors import SVDEditError

#: A matrix whose largest singular value is below this fraction of the pair's largest one is
#: treated as empty: the predictor's inputs are divided by ``sx_1`` and the losses by
#: ``||x||``, ``||z||``, so such a matrix would make training meaningless.
DEGENERATE_RATIO = 1e-6


def check_pair(source: LatentSVD, target: LatentSVD, what: str = "target") -> None:
    """``target`` has ``source``'s ``C[, T], H, W`` and batch 1 or the source's batch."""
    # Different shape lengths (image against video) differ here too.
    if source.shape[1:] != target.shape[1:]:
        raise SVDEditError(
            f"source latent {list(source.shape)} and {what} latent {list(target.shape)} differ: "
            "they must come from the same model and resolution (same C, H, W"
            + (", T" if len(source.shape) == 5 else "")
            + ")."
        )
    if target.batch not in (1, source.batch):
        raise SVDEditError(
            f"{what} batch size {target.batch} does not match the source batch {source.batch}: "
            f"give one {what} per source, or a single {what} for all of them."
        )


def check_rank(svd: LatentSVD, k: int, what: str) -> None:
    """``svd`` keeps at least ``k`` components."""
    if svd.rank < k:
        raise SVDEditError(
            f"{what} decomposition keeps rank {svd.rank} but {k} components are needed: "
            "decompose with rank 0 (full) or at least that rank."
        )


def check_not_degenerate(source: LatentSVD, target: LatentSVD | None, what: str) -> None:
    """No matrix of ``source`` (or ``target``) is (almost) all zeros."""
    s1 = source.S[..., 0].detach().float()
    tops = [(s1, "source")]
    if target is not None:
        tops.append((target.S[..., 0].detach().to(s1.device, torch.float32), "target"))
    ref = torch.stack([s.max() for s, _ in tops]).max()
    for s, name in tops:
        bad = s <= DEGENERATE_RATIO * ref
        if bool(bad.any()):
            idx = [int(i) for i in bad.nonzero()[0].tolist()]
            where = f"batch {idx[0]}, channel {idx[1]}" + (
                f", frame {idx[2]}" if len(idx) > 2 else ""
            )
            raise SVDEditError(
                f"{what}: the {name} latent is (almost) all zeros at {where}; AVI needs real "
                "partly denoised latents (the source after k steps, the target after k + delta "
                "steps), not an empty latent."
            )


def flat(t: torch.Tensor, lead: tuple[int, ...], tail: int) -> torch.Tensor:
    """Broadcast ``t`` over the lead dims and flatten them to ``[M, ...]``."""
    t = t.expand(*lead, *t.shape[-tail:]) if tail else t.expand(*lead)
    return t.reshape(-1, *t.shape[len(lead) :])


def channel_index(lead: tuple[int, ...]) -> torch.Tensor:
    """``[M]`` channel of each matrix (dim 1 of the lead dims)."""
    shape = [1] * len(lead)
    shape[1] = lead[1]
    return torch.arange(lead[1]).view(shape).expand(*lead).reshape(-1)


def dense(svd: LatentSVD) -> torch.Tensor:
    """The float32 latent ``x`` a decomposition describes (``[..., H, W]``)."""
    return reconstruct(svd.U.float(), svd.S.float(), svd.Vh.float())
