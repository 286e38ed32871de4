"""Fixtures for the analysis tests.

The pack's pure figure module (nodes/analysis/figures.py) imports no ComfyUI, so it is
loaded straight from its file under a private name: importing it as `nodes....` would put
our `nodes` package into sys.modules, where ComfyUI's own top-level `nodes` module must go
when a later test boots the real runtime in this process.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest
from harness.comfy_runtime import comfy_runtime  # noqa: F401 - session fixture

REPO_ROOT = Path(__file__).resolve().parents[2]


def load_pure_module(relative: str) -> ModuleType:
    """Import one self-contained file of the pack under a private module name (cached)."""
    name = "_lse_analysis_" + Path(relative).stem
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, REPO_ROOT / relative)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def figures() -> ModuleType:
    return load_pure_module("nodes/analysis/figures.py")


@pytest.fixture(scope="session")
def strengths() -> ModuleType:
    import svd_core.parsing

    return svd_core.parsing
