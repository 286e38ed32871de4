"""Channel-wise SVD of a diffusion latent.

Every ``(b, c)`` (and ``t`` for video) slice of a latent is one ``H x W`` matrix that is
decomposed on its own; nothing is flattened across channels.  All matrices of a latent go
through one batched ``torch.linalg.svd`` call in float32.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch

from .errors import SVDEditError
from .validation import check_finite_number, check_indices, is_integer, validate_latent


# eq=False: field-wise == on tensors raises; identity equality and hashing are safe.
@dataclass(frozen=True, eq=False)
class LatentSVD:
    """The thin (optionally truncated) SVD of every matrix of a latent.

    Attributes:
        U: ``[..., H, r]`` float32 left singular vectors (``...`` = ``B, C`` or ``B, C, T``).
        S: ``[..., r]`` float32 singular values, descending.
        Vh: ``[..., r, W]`` float32 right singular vectors (rows).
        shape: the original latent shape ``[B, C, H, W]`` or ``[B, C, T, H, W]``.
        dtype: the original latent dtype; :func:`recompose` returns it.

    ``r`` is the kept rank: ``min(H, W)`` for a full decomposition, fewer for a truncated one
    (whose recomposition is then the best rank-``r`` approximation of each matrix).
    """

    U: torch.Tensor
    S: torch.Tensor
    Vh: torch.Tensor
    shape: tuple[int, ...]
    dtype: torch.dtype

    def __post_init__(self) -> None:
        shape = tuple(int(d) for d in self.shape)
        object.__setattr__(self, "shape", shape)
        lead, h, w = shape[:-2], shape[-2], shape[-1]
        r = self.S.shape[-1] if self.S.ndim >= 1 else -1
        ok = (
            len(shape) in (4, 5)
            and tuple(self.U.shape) == (*lead, h, r)
            and tuple(self.S.shape) == (*lead, r)
            and tuple(self.Vh.shape) == (*lead, r, w)
            and 1 <= r <= min(h, w)
        )
        if not ok:
            raise SVDEditError(
                "LatentSVD factors do not match its shape (4-D or 5-D) "
                f"{shape}: U {tuple(self.U.shape)}, S {tuple(self.S.shape)}, "
                f"Vh {tuple(self.Vh.shape)}."
            )

    @property
    def rank(self) -> int:
        """Number of kept singular triplets per matrix."""
        return int(self.S.shape[-1])

    @property
    def full_rank(self) -> int:
        """``min(H, W)``: the rank of a full decomposition."""
        return min(self.shape[-2], self.shape[-1])

    @property
    def is_truncated(self) -> bool:
        return self.rank < self.full_rank

    @property
    def batch(self) -> int:
        return self.shape[0]

    @property
    def channels(self) -> int:
        return self.shape[1]

    @property
    def height(self) -> int:
        return self.shape[-2]

    @property
    def width(self) -> int:
        return self.shape[-1]

    @property
    def frames(self) -> int | None:
        """``T`` for a video latent, ``None`` for an image latent."""
        return self.shape[2] if len(self.shape) == 5 else None

    @property
    def lead_shape(self) -> tuple[int, ...]:
        """``(B, C)`` or ``(B, C, T)``: the dims that index the matrices."""
        return self.shape[:-2]

    @property
    def device(self) -> torch.device:
        return self.S.device

    def select_batch(self, index: int) -> LatentSVD:
        """The decomposition of batch item ``index`` (0-based) alone (batch size 1)."""
        check_batch_index(index, self.batch)
        return LatentSVD(
            U=self.U[index : index + 1],
            S=self.S[index : index + 1],
            Vh=self.Vh[index : index + 1],
            shape=(1, *self.shape[1:]),
            dtype=self.dtype,
        )


def require_svd(value: object, what: str = "latent_svd") -> LatentSVD:
    """``value`` if it is a :class:`LatentSVD`, else SVDEditError saying where one comes from
    (for a library caller; functions past the entry point trust the type)."""
    if not isinstance(value, LatentSVD):
        raise SVDEditError(
            f"{what} is not a singular value decomposition (a LatentSVD; got "
            f"{type(value).__name__}): connect the output of 'Latent Singular Value "
            "Decompose' (svd_core.decompose)."
        )
    return value


def check_batch_index(index: int, batch: int) -> None:
    """SVDEditError unless ``index`` is a batch item of a latent with ``batch`` items."""
    if not is_integer(index) or not 0 <= index < batch:
        raise SVDEditError(
            f"batch index {index} is out of range: this latent has batch size {batch} "
            f"(use 0..{batch - 1})."
        )


def _check_rank(rank: int | None, h: int, w: int) -> int:
    r_full = min(h, w)
    if not rank:  # None or 0: the full decomposition
        return r_full
    if not 0 < rank <= r_full:
        raise SVDEditError(
            f"rank {rank} is not possible for {h}x{w} matrices: use 1..{r_full} "
            "(or 0 / None for the full decomposition)."
        )
    return rank


def decompose(
    latent: torch.Tensor,
    rank: int | None = None,
    device: torch.device | str | None = None,
) -> LatentSVD:
    """Channel-wise thin SVD of ``latent``.

    Args:
        latent: ``[B, C, H, W]`` or ``[B, C, T, H, W]``, float16/bfloat16/float32/float64.
        rank: keep the top ``rank`` triplets per matrix; ``None`` or ``0`` keeps all
            ``min(H, W)`` (lossless).
        device: where to compute and keep the factors; default: the latent's device.

    Returns:
        A :class:`LatentSVD` with float32 factors ``U [..., H, r]``, ``S [..., r]``,
        ``Vh [..., r, W]``.

    Raises:
        SVDEditError: wrong number of dims, empty, NaN/Inf, unsupported dtype, bad rank.
    """
    validate_latent(latent)
    h, w = int(latent.shape[-2]), int(latent.shape[-1])
    r = _check_rank(rank, h, w)
    x = latent.to(device=device, dtype=torch.float32) if device is not None else latent.float()
    # One batched call over all B*C(*T) matrices: the leading dims broadcast in linalg.svd.
    u, s, vh = torch.linalg.svd(x, full_matrices=False)
    if r < min(h, w):
        # Copies so a truncated decomposition does not pin the full factors in memory.
        u = u[..., :r].contiguous()
        s = s[..., :r].contiguous()
        vh = vh[..., :r, :].contiguous()
    return LatentSVD(U=u, S=s, Vh=vh, shape=tuple(latent.shape), dtype=latent.dtype)


def reconstruct(U: torch.Tensor, S: torch.Tensor, Vh: torch.Tensor) -> torch.Tensor:
    """``U diag(S) Vh`` for batched factors ``[..., H, r]``, ``[..., r]``, ``[..., r, W]``.

    Returns ``[..., H, W]`` in the factors' dtype (no cast, no shape bookkeeping).
    """
    return (U * S.unsqueeze(-2)) @ Vh


def recompose(svd: LatentSVD) -> torch.Tensor:
    """The latent the decomposition describes, in its original shape and dtype.

    Lossless (to float32 rounding) for a full decomposition, the best rank-``r``
    approximation per matrix for a truncated one.  Returns a tensor on ``svd.device``.
    """
    x = reconstruct(svd.U, svd.S, svd.Vh)
    return x.to(svd.dtype) if svd.dtype != x.dtype else x


def scale_singular_values(
    svd: LatentSVD,
    factor: float,
    indices: Sequence[int],
    channels: Sequence[int] | None = None,
) -> LatentSVD:
    """Multiply singular values ``s_i`` (``i`` in ``indices``, 0 = the largest) by ``factor``.

    Only the channels in ``channels`` (0-based; ``None`` = all) are changed.  The singular
    vectors are shared with ``svd`` (not copied); the input is never modified.  The result
    may no longer have descending ``S``; recompose it (or decompose the result again) to
    get a proper SVD.
    """
    f = check_finite_number(factor, "factor")
    idx = check_indices(indices, svd.rank, "indices (0-based singular value positions)")
    ch = (
        list(range(svd.channels))
        if channels is None
        else check_indices(channels, svd.channels, "channels (0-based)")
    )
    scale = torch.ones(svd.channels, svd.rank, dtype=svd.S.dtype, device=svd.S.device)
    if idx and ch:
        rows = torch.tensor(ch, device=scale.device)
        cols = torch.tensor(idx, device=scale.device)
        scale[rows.unsqueeze(1), cols.unsqueeze(0)] = f
    # Broadcast [C, r] over [B, C, r] or [B, C, T, r].
    if len(svd.shape) == 5:
        scale = scale.unsqueeze(1)
    return LatentSVD(U=svd.U, S=svd.S * scale, Vh=svd.Vh, shape=svd.shape, dtype=svd.dtype)
