"""Fixtures of the tests that run the pack inside a real ComfyUI (in-process and server)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from harness.comfy_runtime import comfy_runtime, comfyui_path, make_base_directory
from harness.server import comfy_server

__all__ = ["comfy_runtime", "comfy_server", "QuickTestRun"]

QUICK_TEST = "test_quick_test_for_ci_logs_no_import_failure"


@dataclass(frozen=True)
class QuickTestRun:
    """`main.py --cpu --quick-test-for-ci` running in the background on its own base dir."""

    process: subprocess.Popen[bytes]
    log_path: Path
    base_dir: Path

    def wait(self, timeout: float) -> tuple[int, str]:
        """Exit code and the whole log (stdout and stderr)."""
        try:
            rc = self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=30)
            raise
        return rc, self.log_path.read_text(errors="replace")


@pytest.fixture(scope="session", autouse=True)
def quick_test_for_ci(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[QuickTestRun | None]:
    """Starts the boot check as soon as this folder's first test runs, when the boot-check test
    is selected, so its ~15-60 s of start-up overlaps the in-process tests (2 cores)."""
    comfy = comfyui_path()
    if comfy is None or not any(item.name == QUICK_TEST for item in request.session.items):
        yield None
        return
    base = make_base_directory(tmp_path_factory.mktemp("quick-test"), with_test_nodes=False)
    venv = os.environ.get("LSE_VENV")
    python = str(Path(venv) / "bin" / "python") if venv else sys.executable
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    log_path = base / "quick-test.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [
                python,
                str(comfy / "main.py"),
                "--cpu",
                "--quick-test-for-ci",
                "--base-directory",
                str(base),
                "--disable-api-nodes",
                "--database-url",
                f"sqlite:///{base / 'user' / 'comfyui.db'}",
            ],
            cwd=str(base),
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    run = QuickTestRun(process, log_path, base)
    try:
        yield run
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=30)
