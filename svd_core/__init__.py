"""svd_core: channel-wise SVD of diffusion latents and Attribute Vector Integration (AVI).

Pure torch (plus safetensors for attribute files); nothing here imports ComfyUI.
Specification: docs/method.md.
"""

from __future__ import annotations

from .analysis import item_components, item_spectra, rank_one_components, select_matrices
from .attribute import Attribute, check_attribute
from .attribute_io import FORMAT, FORMAT_VERSION, load_attribute, save_attribute
from .avi import PairSolution, effective_components, learn_attribute, solve_pair
from .config import AVIConfig
from .decomposition import (
    LatentSVD,
    decompose,
    recompose,
    reconstruct,
    scale_singular_values,
)
from .edits import (
    REUSE_EDITS,
    apply_attribute,
    branched_edit,
    choose_edit,
    edit_delta,
    independent_edit,
    reuse_aligned_edit,
    reuse_mean_edit,
    strength_sweep,
)
from .errors import AttributeFileError, SVDEditError
from .locality import branch_mask
from .parsing import parse_index_list, parse_strengths
from .steps import plan_edit_steps, reuse_step
from .subspace import subspace_basis, subspace_distance
from .validation import SUPPORTED_DTYPES, validate_latent

__all__ = [
    "AVIConfig",
    "Attribute",
    "FORMAT",
    "FORMAT_VERSION",
    "load_attribute",
    "save_attribute",
    "AttributeFileError",
    "LatentSVD",
    "PairSolution",
    "REUSE_EDITS",
    "apply_attribute",
    "branch_mask",
    "branched_edit",
    "choose_edit",
    "independent_edit",
    "reuse_aligned_edit",
    "reuse_mean_edit",
    "edit_delta",
    "effective_components",
    "learn_attribute",
    "solve_pair",
    "strength_sweep",
    "SUPPORTED_DTYPES",
    "SVDEditError",
    "check_attribute",
    "item_components",
    "item_spectra",
    "parse_index_list",
    "parse_strengths",
    "plan_edit_steps",
    "reuse_step",
    "decompose",
    "rank_one_components",
    "reconstruct",
    "recompose",
    "scale_singular_values",
    "select_matrices",
    "subspace_basis",
    "subspace_distance",
    "validate_latent",
]
