"""Fixtures of the tests that run the pack inside a real ComfyUI (in-process and server)."""

from __future__ import annotations

from harness.comfy_runtime import comfy_runtime  # noqa: F401 - session fixture
from harness.server import comfy_server  # noqa: F401 - session fixture
