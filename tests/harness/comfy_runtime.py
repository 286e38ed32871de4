"""A real ComfyUI inside the test process: boot once, then run API-format prompts.

Nothing is stubbed: this imports the ComfyUI tree at ``$COMFYUI_PATH`` (pinned 0.3.75 by
``scripts/setup.sh``), lays out a temporary ``--base-directory`` whose
``custom_nodes/latent-svd-edit`` is a symlink to this repository (so the pack loads through
ComfyUI's own ``nodes.load_custom_node``), builds a real ``server.PromptServer`` and executes
prompts with ``execution.validate_prompt`` + ``execution.PromptExecutor`` exactly like the
server's prompt worker does.

ComfyUI keeps process-global state (parsed CLI args, folder paths, loaded node classes), so a
process boots at most once: :func:`boot` is idempotent and every test folder shares the result.

Usage from any test folder (pytest puts ``tests/`` on sys.path, see pyproject.toml)::

    from harness.comfy_runtime import comfy_runtime  # noqa: F401  (session fixture)

    def test_x(comfy_runtime):
        result = comfy_runtime.run_prompt(prompt, outputs=["7"])
        latent = result.output("7")[0]

Order matters when importing ComfyUI (see docs/comfyui.md in the shared notes):
``args.cpu`` / ``args.base_directory`` before ``comfy.model_management`` / ``folder_paths``;
``$COMFYUI_PATH`` first on sys.path (this repository's ``nodes/`` package and ``tests/comfy``
would shadow ComfyUI's ``nodes.py`` / ``comfy``); ``utils.extra_config`` before ``nodes``.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
import tempfile
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from harness.comfy_versions import COMPAT
from harness.server import PACK_NAME, REPO_ROOT
from harness.server import make_base_directory as pack_base_directory

TESTS_ROOT = REPO_ROOT / "tests"
TEST_PACK_FILE = "lse_test_nodes.py"

#: listener(value, total, node_id) called on every ComfyUI progress-bar update.
ProgressListener = Callable[[int, int, "str | None"], None]


class ComfyRuntimeError(RuntimeError):
    """ComfyUI could not be booted (runtime missing) or a prompt did not validate."""


@dataclass(frozen=True)
class ProgressEvent:
    """One ``comfy.utils.ProgressBar`` update as ComfyUI's progress hook saw it."""

    value: int
    total: int
    node_id: str | None


@dataclass(frozen=True)
class PromptResult:
    """What one executed prompt produced.

    Attributes:
        prompt_id: the id the prompt ran under.
        success: ComfyUI's own verdict (``PromptExecutor.success`` and no interrupt).
        interrupted: the run ended with ``execution_interrupted`` (Cancel).
        ui: ``{node_id: ui dict}`` (what ``/history`` reports under ``outputs``, plus the
            cached ui of requested nodes that were served from the cache).
        node_outputs: ``{node_id: tuple of outputs}`` for the requested node ids; each output is
            the value the node returned (first element of ComfyUI's per-list output).
        messages: ``[(event, data)]`` status messages, e.g. ``execution_error`` details.
        progress: progress-bar updates seen during this prompt.
    """

    prompt_id: str
    success: bool
    interrupted: bool
    ui: dict[str, Any]
    node_outputs: dict[str, tuple[Any, ...]]
    messages: list[tuple[str, dict[str, Any]]]
    progress: list[ProgressEvent]

    def output(self, node_id: str) -> tuple[Any, ...]:
        if node_id not in self.node_outputs:
            raise KeyError(
                f"node {node_id!r} has no outputs; ran: {sorted(self.node_outputs)}"
                f"; error: {self.error_message()}"
            )
        return self.node_outputs[node_id]

    def error(self) -> dict[str, Any] | None:
        """The ``execution_error`` message data, or None."""
        for event, data in self.messages:
            if event == "execution_error":
                return data
        return None

    def error_message(self) -> str:
        err = self.error()
        if err is None:
            return ""
        return (
            f"{err.get('node_type')}: {err.get('exception_type')}: {err.get('exception_message')}"
        )


@dataclass
class ComfyRuntime:
    """Handles on a booted in-process ComfyUI. Build it with :func:`boot`.

    Attributes (ComfyUI's own modules, imported from ``$COMFYUI_PATH``):
        nodes, execution, server, folder_paths, model_management, comfy_utils.
    """

    base_dir: Path
    comfyui_path: Path
    nodes: ModuleType
    execution: ModuleType
    server_module: ModuleType
    folder_paths: ModuleType
    model_management: ModuleType
    comfy_utils: ModuleType
    prompt_server: Any
    executor: Any
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _progress: list[ProgressEvent] = field(default_factory=list)
    _listeners: list[ProgressListener] = field(default_factory=list)

    # --- prompts ----------------------------------------------------------------------------
    def validate(self, prompt: dict[str, Any]) -> tuple[bool, Any, list[str], dict[str, Any]]:
        """``execution.validate_prompt``: (ok, error, output node ids, node_errors)."""
        valid = asyncio.run(self.execution.validate_prompt(uuid.uuid4().hex, prompt, None))
        return bool(valid[0]), valid[1], list(valid[2]), dict(valid[3])

    def run_prompt(
        self,
        prompt: dict[str, Any],
        outputs: list[str] | tuple[str, ...] = (),
        fresh_cache: bool = False,
    ) -> PromptResult:
        """Validate and execute an API-format prompt; return the outputs of ``outputs`` nodes.

        ``outputs`` may name any node (output node or not): it is added to the execution list
        like the server's partial execution, and its cached outputs are returned. The executor
        keeps ComfyUI's CLASSIC cache between prompts (as the server does); ``fresh_cache``
        drops it first. Raises ComfyRuntimeError when validation fails; execution errors are
        returned in the result (``success`` False, ``error()``).
        """
        ok, error, good_outputs, node_errors = self.validate(prompt)
        if not ok:
            raise ComfyRuntimeError(f"prompt did not validate: {error}; node errors: {node_errors}")
        execute = list(dict.fromkeys([*good_outputs, *outputs]))
        prompt_id = uuid.uuid4().hex
        with self._lock:
            if fresh_cache:
                self.executor.reset()
            self._progress.clear()
            self.executor.execute(prompt, prompt_id, {}, execute)
            messages = list(self.executor.status_messages)
            interrupted = any(ev == "execution_interrupted" for ev, _ in messages)
            history = getattr(self.executor, "history_result", {}) or {}
            ui = dict(history.get("outputs", {}))
            node_outputs: dict[str, tuple[Any, ...]] = {}
            for node_id in outputs:
                entry = self.cached_entry(node_id)
                if entry is not None:
                    node_outputs[node_id] = tuple(o[0] if len(o) == 1 else o for o in entry.outputs)
                    # A node served from the cache reports its ui only to a websocket
                    # client; the cache entry still holds it.
                    if node_id not in ui and entry.ui:
                        ui[node_id] = entry.ui.get("output", entry.ui)
            return PromptResult(
                prompt_id=prompt_id,
                success=bool(self.executor.success) and not interrupted,
                interrupted=interrupted,
                ui=ui,
                node_outputs=node_outputs,
                messages=messages,
                progress=list(self._progress),
            )

    def cached_entry(self, node_id: str) -> Any:
        """The executor's output-cache entry of ``node_id`` (``.outputs``, ``.ui``), or None."""
        return COMPAT.cached_output(self.executor.caches.outputs, node_id)

    # --- progress / cancel ------------------------------------------------------------------
    def add_progress_listener(self, listener: ProgressListener) -> None:
        """Call ``listener(value, total, node_id)`` on every progress-bar update (until removed)."""
        self._listeners.append(listener)

    def remove_progress_listener(self, listener: ProgressListener) -> None:
        self._listeners.remove(listener)

    def interrupt(self) -> None:
        """What the Cancel button does (``POST /interrupt`` -> ``nodes.interrupt_processing``)."""
        self.nodes.interrupt_processing(True)

    def _progress_hook(
        self,
        value: int,
        total: int,
        preview: Any = None,
        prompt_id: str | None = None,
        node_id: str | None = None,
    ) -> None:
        # Mirrors main.py's hijack_progress: honour Cancel first, then report.
        from comfy_execution.progress import get_progress_state
        from comfy_execution.utils import get_executing_context

        ctx = get_executing_context()
        if node_id is None and ctx is not None:
            node_id = ctx.node_id
        self.model_management.throw_exception_if_processing_interrupted()
        if node_id is not None:
            get_progress_state().update_progress(node_id, value, total, preview)
        self._progress.append(ProgressEvent(int(value), int(total), node_id))
        for listener in list(self._listeners):
            listener(int(value), int(total), node_id)

    # --- paths ------------------------------------------------------------------------------
    def model_folder(self, name: str) -> Path:
        """The first registered folder for model type ``name`` (e.g. "svd_attributes")."""
        return Path(self.folder_paths.get_folder_paths(name)[0])

    def node_class(self, node_id: str) -> Any:
        return self.nodes.NODE_CLASS_MAPPINGS[node_id]

    @property
    def pack_path(self) -> str:
        """The pack folder as ComfyUI's loader saw it (custom_nodes/latent-svd-edit)."""
        return os.path.join(self.folder_paths.get_folder_paths("custom_nodes")[0], PACK_NAME)

    def pack_node_ids(self) -> set[str]:
        """Every node id ComfyUI's loader registered from this pack."""
        module = f"custom_nodes.{PACK_NAME}"
        return {
            node_id
            for node_id, cls in self.nodes.NODE_CLASS_MAPPINGS.items()
            if getattr(cls, "RELATIVE_PYTHON_MODULE", None) == module
        }

    def pack_module(self, name: str = "") -> ModuleType:
        """A module of the pack as ComfyUI imported it, e.g. ``pack_module("svd_core")``.

        Values the nodes produce are instances of these modules' classes (not of a separately
        imported ``svd_core``), so use this to build or inspect them.
        """
        import importlib

        # nodes.load_custom_node names the package after its path, dots escaped.
        base = self.pack_path.replace(".", "_x_")
        return importlib.import_module(f"{base}.{name}" if name else base)


_RUNTIME: ComfyRuntime | None = None
_BOOT_LOCK = threading.Lock()


def comfyui_path() -> Path | None:
    """``$COMFYUI_PATH`` when it holds a ComfyUI tree, else None."""
    value = os.environ.get("COMFYUI_PATH")
    if not value or not (Path(value) / "main.py").is_file():
        return None
    return Path(value).resolve()


def test_pack_source() -> str:
    """Source of the test-only node pack written into the temporary custom_nodes folder.

    It exists only in test base directories (never in the pack): a real model needs a node that
    outputs it, and a tiny random-weight SD model cannot be saved as a checkpoint that
    ComfyUI's model detection recognises (it matches only full-size configs).
    """
    return f'''"""Test-only nodes from tests/harness/comfy_runtime.py (not part of the pack)."""
import sys

_TESTS = {str(TESTS_ROOT)!r}
if _TESTS not in sys.path:
    sys.path.append(_TESTS)  # appended: ComfyUI's own packages must win name clashes

from harness.tiny_sd import TINY_NODE_CLASS_MAPPINGS as NODE_CLASS_MAPPINGS  # noqa: E402

NODE_DISPLAY_NAME_MAPPINGS = {{k: k for k in NODE_CLASS_MAPPINGS}}
'''


def make_base_directory(root: Path, with_test_nodes: bool = True) -> Path:
    """Lay out a ComfyUI base directory at ``root`` with this pack symlinked into custom_nodes.

    With ``with_test_nodes`` it also gets the test-only node pack (tiny random-weight models).
    """
    pack_base_directory(root)
    if with_test_nodes:
        (root / "custom_nodes" / TEST_PACK_FILE).write_text(test_pack_source())
    return root


def boot(base_dir: Path | None = None) -> ComfyRuntime:
    """Import and initialise ComfyUI in this process (once); returns the shared runtime.

    ``base_dir``: an empty folder to use as ``--base-directory`` (default: a new temp folder,
    removed at exit). Ignored after the first call. Raises ComfyRuntimeError when
    ``$COMFYUI_PATH`` is not set up.
    """
    global _RUNTIME
    with _BOOT_LOCK:
        if _RUNTIME is not None:
            return _RUNTIME
        comfy_root = comfyui_path()
        if comfy_root is None:
            raise ComfyRuntimeError(
                "COMFYUI_PATH is not set to a ComfyUI tree: run scripts/setup.sh and "
                "`source ~/.cache/latent-svd-edit/env.sh` (scripts/test.sh does both)"
            )
        if base_dir is None:
            base_dir = Path(tempfile.mkdtemp(prefix="lse-inproc-"))
            import atexit

            atexit.register(shutil.rmtree, base_dir, True)
        make_base_directory(base_dir)

        root = str(comfy_root)
        if root in sys.path:
            sys.path.remove(root)
        sys.path.insert(0, root)
        # A `nodes` / `comfy` / `utils` imported from elsewhere would be the wrong module.
        for name in ("nodes", "comfy", "utils", "server", "execution", "folder_paths"):
            mod = sys.modules.get(name)
            if mod is not None and not str(getattr(mod, "__file__", "") or "").startswith(root):
                del sys.modules[name]

        import comfy.cli_args

        args = comfy.cli_args.args
        args.cpu = True
        args.base_directory = str(base_dir)
        args.disable_api_nodes = True

        import folder_paths  # noqa: I001 - reads args.base_directory at import
        import comfy.model_management as model_management
        import comfy.utils as comfy_utils
        import utils.extra_config  # noqa: F401 - must precede `import nodes`
        import execution
        import nodes
        import server

        if Path(folder_paths.base_path).resolve() != base_dir.resolve():
            raise ComfyRuntimeError(
                f"folder_paths was imported before boot() with base {folder_paths.base_path}"
            )

        import torch

        # The test models are tiny: torch's thread pool costs more than it saves, and on a
        # shared 2-core machine a 2-thread torch spins against the other processes (measured
        # there: one edit graph 59 s with 2 threads, 4-9 s with 1). LSE_TEST_TORCH_THREADS
        # overrides it (0 = leave torch's default).
        threads = int(os.environ.get("LSE_TEST_TORCH_THREADS", "1"))
        if threads > 0:
            torch.set_num_threads(threads)

        loop = asyncio.new_event_loop()
        prompt_server = server.PromptServer(loop)
        asyncio.run(nodes.init_extra_nodes(init_custom_nodes=True, init_api_nodes=False))
        executor = execution.PromptExecutor(
            prompt_server, cache_type=execution.CacheType.CLASSIC, cache_args=COMPAT.cache_args()
        )
        runtime = ComfyRuntime(
            base_dir=base_dir,
            comfyui_path=comfy_root,
            nodes=nodes,
            execution=execution,
            server_module=server,
            folder_paths=folder_paths,
            model_management=model_management,
            comfy_utils=comfy_utils,
            prompt_server=prompt_server,
            executor=executor,
        )
        comfy_utils.set_progress_bar_global_hook(runtime._progress_hook)
        _RUNTIME = runtime
        return runtime


@pytest.fixture(scope="session")
def comfy_runtime() -> Iterator[ComfyRuntime]:
    """The in-process ComfyUI for the session (skips, which fails under CI, when not set up)."""
    if comfyui_path() is None:
        pytest.skip(
            "COMFYUI_PATH is not set: run scripts/setup.sh and "
            "`source ~/.cache/latent-svd-edit/env.sh` (scripts/test.sh does both)"
        )
    yield boot()
