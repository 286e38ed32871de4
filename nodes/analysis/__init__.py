"""The analysis nodes: see the latent's singular values, components, subspace distances and
strength strips. Registered by the pack through ``ANALYSIS_NODES``."""

from __future__ import annotations

from .components import SingularComponentsPreview
from .distance import LatentSubspaceDistance
from .spectrum import LatentSingularSpectrum
from .sweep import AttributeStrengthSweep

ANALYSIS_NODES = [
    LatentSingularSpectrum,
    SingularComponentsPreview,
    LatentSubspaceDistance,
    AttributeStrengthSweep,
]

__all__ = ["ANALYSIS_NODES"]
