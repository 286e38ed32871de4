"""A real ComfyUI server in a subprocess, for tests that go through HTTP or the web UI.

The server runs `main.py --cpu` from `$COMFYUI_PATH` with a temporary `--base-directory` whose
`custom_nodes/latent-svd-edit` is a symlink to this repository, so the pack loads exactly as a
user's install would. Checkpoints are symlinked into `models/checkpoints` on demand
(`install_checkpoint`); ComfyUI re-lists that folder when its mtime changes, so this works after
start-up too. Loopback only; every wait is bounded; the process is always terminated.

Other test folders reuse the session fixture by importing it into their conftest:
    from harness.server import comfy_server  # noqa: F401
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
PACK_NAME = "latent-svd-edit"
START_TIMEOUT_S = 600.0  # a loaded 2-core machine can take minutes
HTTP_TIMEOUT_S = 30.0


class ComfyServerError(RuntimeError):
    """The server failed to start, refused a prompt, or a prompt failed; carries the log tail."""


@dataclass(frozen=True)
class ComfyPaths:
    """Where the runtime lives; read from the environment `scripts/setup.sh` writes (env.sh)."""

    comfyui: Path
    python: Path

    @staticmethod
    def from_env() -> ComfyPaths | None:
        comfy = os.environ.get("COMFYUI_PATH")
        if not comfy or not (Path(comfy) / "main.py").is_file():
            return None
        venv = os.environ.get("LSE_VENV")
        python = Path(venv) / "bin" / "python" if venv else Path(sys.executable)
        return ComfyPaths(Path(comfy), python)


def _errors(status: dict[str, Any]) -> str:
    """The execution errors of a history status, readable (node, exception, traceback tail)."""
    out = []
    for kind, data in status.get("messages", []):
        if kind == "execution_error":
            trace = "".join(data.get("traceback", [])[-4:])
            out.append(
                f"node {data.get('node_id')} ({data.get('node_type')}): "
                f"{data.get('exception_type')}: {data.get('exception_message')}\n{trace}"
            )
    return "\n".join(out) or json.dumps(status)[:2000]


def free_port() -> int:
    """A currently free loopback port (the tiny race with another binder is acceptable in tests)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def make_base_directory(root: Path) -> Path:
    """Lay out a ComfyUI base directory at ``root`` with this pack symlinked into custom_nodes,
    as a user's install has it (idempotent); returns it."""
    for sub in ("custom_nodes", "models/checkpoints", "input", "output", "temp", "user"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    link = root / "custom_nodes" / PACK_NAME
    if not link.exists():
        link.symlink_to(REPO_ROOT, target_is_directory=True)
    return root


@dataclass
class ComfyServer:
    """Handle on a running server. Methods raise ComfyServerError with the log tail on failure."""

    url: str
    base_dir: Path
    process: subprocess.Popen[bytes]
    log_path: Path
    client_id: str = field(default_factory=lambda: uuid.uuid4().hex)

    # --- HTTP -----------------------------------------------------------------------------
    def request(
        self, method: str, path: str, body: Any | None = None, timeout: float = HTTP_TIMEOUT_S
    ) -> Any:
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(
            self.url + path, data=data, method=method, headers={"Content-Type": "application/json"}
        )
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:
                raw = resp.read()
        except urllib.error.HTTPError as e:
            detail = e.read().decode(errors="replace")
            raise ComfyServerError(f"{method} {path} -> HTTP {e.code}: {detail[:4000]}") from e
        return json.loads(raw) if raw else None

    def get(self, path: str, timeout: float = HTTP_TIMEOUT_S) -> Any:
        return self.request("GET", path, timeout=timeout)

    def object_info(self, node_type: str | None = None) -> dict[str, Any]:
        info = self.get("/object_info" + (f"/{node_type}" if node_type else ""), timeout=120)
        return info if node_type is None else info[node_type]

    # --- models ---------------------------------------------------------------------------
    def install_checkpoint(self, path: Path, name: str | None = None) -> str:
        """Symlink a checkpoint file into models/checkpoints; returns the name ComfyUI lists."""
        name = name or path.name
        link = self.base_dir / "models" / "checkpoints" / name
        if link.is_symlink() or link.exists():
            link.unlink()
        link.symlink_to(path.resolve())
        return name

    # --- prompts --------------------------------------------------------------------------
    def queue_prompt(self, prompt: dict[str, Any], extra_data: dict[str, Any] | None = None) -> str:
        body: dict[str, Any] = {"prompt": prompt, "client_id": self.client_id}
        if extra_data:
            body["extra_data"] = extra_data
        return str(self.request("POST", "/prompt", body)["prompt_id"])

    def wait_for(self, prompt_id: str, timeout: float) -> dict[str, Any]:
        """Poll /history until the prompt finished; returns its history entry.

        Raises on execution error or timeout (after asking the server to interrupt it).
        """
        deadline = time.monotonic() + timeout
        delay = 0.2
        while time.monotonic() < deadline:
            self.assert_alive()
            hist = self.get(f"/history/{prompt_id}")
            entry = hist.get(prompt_id) if hist else None
            if entry and entry.get("status", {}).get("completed") is not None:
                status = entry["status"]
                if status.get("status_str") == "error" or not status.get("completed"):
                    raise ComfyServerError(
                        f"prompt {prompt_id} failed: {_errors(status)}\n{self.log_tail()}"
                    )
                return entry
            time.sleep(delay)
            delay = min(delay * 1.5, 2.0)
        try:
            self.request("POST", "/interrupt", {})
        finally:
            raise ComfyServerError(
                f"prompt {prompt_id} did not finish in {timeout:.0f} s\n{self.log_tail()}"
            )

    def run_prompt(self, prompt: dict[str, Any], timeout: float) -> dict[str, Any]:
        return self.wait_for(self.queue_prompt(prompt), timeout)

    def output_files(self, entry: dict[str, Any]) -> dict[str, list[Path]]:
        """Files each output node reported, as paths under this base directory, by node id."""
        roots = {"output": "output", "temp": "temp", "input": "input"}
        files: dict[str, list[Path]] = {}
        for node_id, out in entry.get("outputs", {}).items():
            paths: list[Path] = []
            for items in out.values():
                if not isinstance(items, list):
                    continue
                for item in items:
                    if isinstance(item, dict) and "filename" in item:
                        folder = roots.get(item.get("type", "output"), "output")
                        paths.append(
                            self.base_dir / folder / item.get("subfolder", "") / item["filename"]
                        )
            files[node_id] = paths
        return files

    # --- lifecycle ------------------------------------------------------------------------
    def assert_alive(self) -> None:
        if self.process.poll() is not None:
            raise ComfyServerError(
                f"ComfyUI exited with {self.process.returncode}\n{self.log_tail()}"
            )

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def log_tail(self, chars: int = 6000) -> str:
        return "--- ComfyUI log tail ---\n" + self.log_text()[-chars:]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=30)


def start_server(
    base_dir: Path,
    paths: ComfyPaths,
    timeout: float = START_TIMEOUT_S,
    extra_args: tuple[str, ...] = (),
    require_pack: bool = True,
) -> ComfyServer:
    """Start ComfyUI on a free loopback port and wait until /object_info answers.

    Fails if the pack did not import (ComfyUI itself keeps running when a custom node fails).
    """
    port = free_port()
    log_path = base_dir / "comfyui.log"
    cmd = [
        str(paths.python),
        str(paths.comfyui / "main.py"),
        "--cpu",
        "--listen",
        "127.0.0.1",
        "--port",
        str(port),
        "--base-directory",
        str(base_dir),
        "--database-url",
        f"sqlite:///{base_dir / 'user' / 'comfyui.db'}",
        "--disable-auto-launch",
        "--disable-api-nodes",
        *extra_args,
    ]
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env.setdefault("HF_HUB_OFFLINE", "1")
    env["PYTHONUNBUFFERED"] = "1"  # the log must show an error when it happens
    log = open(log_path, "wb")  # noqa: SIM115 - the child owns it for its whole life
    try:
        proc = subprocess.Popen(
            cmd,
            cwd=str(base_dir),
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
        )
    finally:
        log.close()
    server = ComfyServer(f"http://127.0.0.1:{port}", base_dir, proc, log_path)
    deadline = time.monotonic() + timeout
    try:
        while True:
            server.assert_alive()
            try:
                server.get("/system_stats", timeout=5)
                break
            except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
                pass
            if time.monotonic() > deadline:
                raise ComfyServerError(
                    f"ComfyUI did not answer within {timeout:.0f} s\n{server.log_tail()}"
                )
            time.sleep(0.5)
        text = server.log_text()
        failed = [ln for ln in text.splitlines() if "IMPORT FAILED" in ln and PACK_NAME in ln]
        if require_pack and failed:
            raise ComfyServerError(f"the pack failed to import\n{server.log_tail()}")
    except BaseException:
        server.stop()
        raise
    return server


def output_root(name: str) -> Path:
    """test-output/<name> in the repository (ignored by git); created on demand."""
    path = REPO_ROOT / "test-output" / name
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture(scope="session")
def comfy_server() -> Iterator[ComfyServer]:
    """One real ComfyUI server for the whole session (skips when the runtime is not set up)."""
    paths = ComfyPaths.from_env()
    if paths is None:
        pytest.skip(
            "COMFYUI_PATH is not set: run scripts/setup.sh and `source $LSE_CACHE/env.sh`"
            " (scripts/test.sh does both)"
        )
    tmp = Path(tempfile.mkdtemp(prefix="lse-comfy-"))
    # LRU caching: a prompt that repeats work an earlier one did (the browser test queues the
    # same reduced prompt the run test sends; workflows share samplers) reuses its results
    # instead of re-sampling; the default cache keeps only the previous prompt's nodes.
    server = start_server(make_base_directory(tmp), paths, extra_args=("--cache-lru", "500"))
    try:
        yield server
    finally:
        server.stop()
        keep = output_root("server") / "comfyui.log"
        try:
            shutil.copyfile(server.log_path, keep)
        except OSError:
            pass
        shutil.rmtree(tmp, ignore_errors=True)
