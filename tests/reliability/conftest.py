"""Fixtures of the reliability tests: the real in-process ComfyUI with the
test-only latent node registered (see support.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from harness.comfy_runtime import (
    ComfyRuntime,
    comfy_runtime,  # noqa: F401 - session fixture
)
from reliability.support import register_test_nodes


@pytest.fixture(scope="session")
def rt(comfy_runtime: ComfyRuntime) -> Iterator[ComfyRuntime]:  # noqa: F811
    """The booted ComfyUI with ``LSERelLatent`` registered."""
    register_test_nodes(comfy_runtime)
    yield comfy_runtime
