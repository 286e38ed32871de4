"""The pack's socket types and the value a LATENT_SVD socket carries.

Shared by every node module (the analysis nodes declare the same io_type strings; ComfyUI
matches sockets on the string, not on the Python class).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import torch
from comfy_api.latest import io

from ..svd_core import LatentSVD

CATEGORY = "latent/singular value edit"

LatentSVDType = io.Custom("LATENT_SVD")
AttributeType = io.Custom("SVD_ATTRIBUTE")


@dataclass(frozen=True)
class SingularLatent:
    """What flows on a LATENT_SVD socket.

    Attributes:
        svd: the channel-wise decomposition of ``samples`` (factors on the compute device).
        extras: every other key of the LATENT it came from (``noise_mask``, ``batch_index``,
            ``type``...), read-only, handed back unchanged by 'Latent Recompose'.
    """

    svd: LatentSVD
    extras: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "extras", MappingProxyType(dict(self.extras)))

    def replace_svd(self, svd: LatentSVD) -> SingularLatent:
        """Same extras, new decomposition (nodes never modify their input)."""
        return SingularLatent(svd=svd, extras=self.extras)

    def latent(self, samples: torch.Tensor) -> dict[str, Any]:
        """A new LATENT dict: ``samples`` plus copies of the extras' references."""
        out: dict[str, Any] = dict(self.extras)
        out["samples"] = samples
        return out
