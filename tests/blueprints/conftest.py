"""Fixtures for the blueprint tests: the session's real ComfyUI server and the example-workflow
runner (for the hand-wired graphs the blueprints are compared with)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from harness.browser import comfy_page  # noqa: F401 - module fixture "page"
from harness.server import ComfyServer, comfy_server  # noqa: F401 - session fixture
from workflows.support import WorkflowRunner


@pytest.fixture(scope="session")
def workflow_runner(comfy_server: ComfyServer) -> Iterator[WorkflowRunner]:  # noqa: F811
    yield WorkflowRunner(comfy_server)
