"""Fixtures for the example-workflow tests: one real ComfyUI server for the session and a
memoised workflow runner (see support.py for what the runs reduce)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from harness.browser import comfy_page  # noqa: F401 - module fixture "page"
from harness.server import ComfyServer, comfy_server  # noqa: F401 - session fixture
from harness.workflow_format import NodeSpec
from workflows.support import WorkflowRunner


@pytest.fixture(scope="session")
def workflow_runner(comfy_server: ComfyServer) -> Iterator[WorkflowRunner]:  # noqa: F811
    yield WorkflowRunner(comfy_server)


@pytest.fixture(scope="session")
def specs(workflow_runner: WorkflowRunner) -> dict[str, NodeSpec]:
    return workflow_runner.specs
