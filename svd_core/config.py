"""Configuration of Attribute Vector Integration (AVI) training."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

from .errors import SVDEditError
from .validation import is_finite_number, is_integer

#: Largest accepted values; they keep a hostile attribute file from asking for huge tensors.
MAX_COMPONENTS = 1024
MAX_HIDDEN = 4096
MAX_STEPS = 1_000_000


@dataclass(frozen=True)
class AVIConfig:
    """Settings of one AVI training run (docs/method.md section 3).

    Attributes:
        ks: source components ``E_i`` the predictor re-weights (clipped to ``min(H, W)``).
        kt: target components ``F_j`` mixed in (clipped to ``min(H, W)``).
        keep_tail: keep ``R = x - sum_{i<=ks} s_i E_i`` in the prediction (the low-energy
            rest of the source, including the noise the sampler still expects).
        hidden: width of the predictor's two hidden layers.
        steps: full-batch Adam steps.
        lr: peak Adam learning rate (cosine decay to ``lr / 100`` over ``steps``).
        w_target: weight of ``L1 = ||y - z||^2 / ||z||^2``.
        w_source: weight of ``L2 = ||y - x||^2 / ||x||^2``.
        w_target_sv: weight of ``L3 = ||b - sz||^2 / ||sz||^2``.
        w_source_sv: weight of ``L4 = ||a - sx||^2 / ||sx||^2``.
        seed: seeds the predictor's initial weights (training is deterministic on CPU).
    """

    ks: int = 16
    kt: int = 16
    keep_tail: bool = True
    hidden: int = 128
    steps: int = 200
    lr: float = 4e-3
    w_target: float = 1.0
    w_source: float = 1.0
    w_target_sv: float = 0.1
    w_source_sv: float = 0.1
    seed: int = 0

    def __post_init__(self) -> None:
        # Built from widgets (already in range) and from attribute files (untrusted).
        def integer(name: str, lo: int, hi: int) -> None:
            v = getattr(self, name)
            if not is_integer(v) or not lo <= v <= hi:
                raise SVDEditError(f"AVIConfig.{name} must be an integer in {lo}..{hi}, got {v!r}.")

        def real(name: str, positive: bool) -> None:
            v = getattr(self, name)
            if not is_finite_number(v) or v < 0 or (positive and v == 0):
                need = "> 0" if positive else ">= 0"
                raise SVDEditError(f"AVIConfig.{name} must be a finite number {need}, got {v!r}.")
            object.__setattr__(self, name, float(v))

        integer("ks", 1, MAX_COMPONENTS)
        integer("kt", 1, MAX_COMPONENTS)
        integer("hidden", 1, MAX_HIDDEN)
        integer("steps", 0, MAX_STEPS)
        integer("seed", 0, 2**63 - 1)
        if not isinstance(self.keep_tail, bool):
            raise SVDEditError(
                f"AVIConfig.keep_tail must be true or false, got {self.keep_tail!r}."
            )
        real("lr", positive=True)
        for name in ("w_target", "w_source", "w_target_sv", "w_source_sv"):
            real(name, positive=False)
        if self.w_target == 0 and self.w_source == 0:
            raise SVDEditError(
                "AVIConfig: w_target and w_source are both 0, so the edit is unconstrained; "
                "give at least one of them a positive weight."
            )

    @property
    def weights(self) -> tuple[float, float, float, float]:
        """``(w_target, w_source, w_target_sv, w_source_sv)`` = docs/method.md's ``w1..w4``."""
        return (self.w_target, self.w_source, self.w_target_sv, self.w_source_sv)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able dict of every field."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: object) -> AVIConfig:
        """Inverse of :meth:`to_dict`; unknown or missing keys raise SVDEditError."""
        if not isinstance(data, dict):
            raise SVDEditError(
                f"AVI configuration must be a JSON object, got {type(data).__name__}."
            )
        names = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - names)
        missing = sorted(names - set(data))
        if unknown or missing:
            raise SVDEditError(
                f"AVI configuration keys do not match: unknown {unknown}, missing {missing}."
            )
        return cls(**data)
