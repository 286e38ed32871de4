"""The pack's ComfyUI nodes (V3 schema), thin adapters over svd_core.

Every node class the pack registers is in NODE_CLASSES; add new modules' lists here.
"""

from __future__ import annotations

from .analysis import ANALYSIS_NODES
from .attribute_nodes import ApplySingularEdit, LearnAttributeFromPair
from .decomposition import LatentRecompose, LatentSVDDecompose, ScaleSingularValues
from .edit_steps import SingularEditSteps
from .file_nodes import LoadSingularAttribute, SaveSingularAttribute
from .test_world import LoadTestWorld

CORE_NODES = [
    LatentSVDDecompose,
    LatentRecompose,
    LearnAttributeFromPair,
    ApplySingularEdit,
    SaveSingularAttribute,
    LoadSingularAttribute,
    ScaleSingularValues,
    SingularEditSteps,
]

#: The benchmark's trained test models as MODEL / CLIP / VAE (a demo without a checkpoint).
TEST_WORLD_NODES = [LoadTestWorld]

NODE_CLASSES = [*CORE_NODES, *ANALYSIS_NODES, *TEST_WORLD_NODES]

__all__ = ["CORE_NODES", "NODE_CLASSES", "TEST_WORLD_NODES"]
