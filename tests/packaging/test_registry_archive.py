"""The archive the Comfy Registry would get: `comfy node validate` and `comfy node pack` (comfy-cli,
the Registry's own tool) on a copy of this checkout, and the archive's file list checked."""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from types import ModuleType

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
# Top-level entries a user's install may hold, and those it must hold.
ALLOWED = {
    "__init__.py",
    "nodes",
    "svd_core",
    "web",
    "example_workflows",
    "subgraphs",
    "docs",
    "LICENSE",
    "README.md",
    "pyproject.toml",
    "requirements.txt",
}
REQUIRED = {
    "__init__.py",
    "nodes",
    "svd_core",
    "web",
    "example_workflows",
    "LICENSE",
    "README.md",
    "pyproject.toml",
    "requirements.txt",
}
MAX_BYTES = 1_500_000


def _comfy(*args: str, cwd: Path) -> str:
    comfy = Path(sys.executable).parent / "comfy"
    assert comfy.exists(), "comfy-cli is not installed (requirements-dev.txt)"
    done = subprocess.run(
        [str(comfy), "--skip-prompt", "--no-enable-telemetry", *args],
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout + done.stderr  # comfy-cli prints its verdict to either


@pytest.fixture(scope="module")
def checkout(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The files git would publish (tracked, plus new files not ignored), in a fresh repository:
    comfy-cli packs git-tracked files only."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPO_ROOT,
        capture_output=True,
        check=True,
    ).stdout
    dest = tmp_path_factory.mktemp("registry") / "latent-svd-edit"
    for name in filter(None, listed.decode().split("\0")):
        source = REPO_ROOT / name
        if source.is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, dest / name)
    subprocess.run(["git", "init", "-q"], cwd=dest, check=True)
    subprocess.run(["git", "add", "-A"], cwd=dest, check=True)
    return dest


def test_registry_validation_passes(checkout: Path) -> None:
    assert "passed" in _comfy("node", "validate", cwd=checkout)


def test_pack_holds_the_pack_and_nothing_else(checkout: Path) -> None:
    _comfy("node", "pack", cwd=checkout)
    archive = checkout / "node.zip"
    with zipfile.ZipFile(archive) as zf:
        names = zf.namelist()
    top = {name.split("/", 1)[0] for name in names}
    assert top <= ALLOWED, f"unexpected in the archive: {sorted(top - ALLOWED)}"
    assert REQUIRED <= top, f"missing from the archive: {sorted(REQUIRED - top)}"
    assert "nodes/attribute_nodes.py" in names and "svd_core/avi.py" in names
    workflows = [n for n in names if n.startswith("example_workflows/") and n.endswith(".json")]
    assert len(workflows) >= 5
    assert not [n for n in names if n.endswith((".pyc", ".safetensors", ".pt"))]
    assert archive.stat().st_size < MAX_BYTES, archive.stat().st_size


def _world_files_in(root: Path, package: str) -> ModuleType:
    """``nodes/test_world/world_files.py`` of the pack at ``root``, imported as the pack's
    module (stdlib only, so no ComfyUI is needed), with ``package`` standing for the pack."""
    pack = ModuleType(package)
    pack.__path__ = [str(root)]
    sys.modules[package] = pack
    name = f"{package}.nodes.test_world.world_files"
    spec = importlib.util.spec_from_file_location(name, root / "nodes/test_world/world_files.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_test_world_weights_stay_in_the_git_checkout(checkout: Path, tmp_path: Path) -> None:
    """The Registry archive leaves benchmarks/ (the worlds' code and 12 MB of weights) out:
    the loader, unpacked from the archive, says to git clone; in the checkout it loads."""
    if not (checkout / "node.zip").is_file():
        _comfy("node", "pack", cwd=checkout)
    unpacked = tmp_path / "unpacked"
    with zipfile.ZipFile(checkout / "node.zip") as zf:
        names = zf.namelist()
        zf.extractall(unpacked)
    assert "nodes/test_world/world_files.py" in names
    assert "web/docs/LoadTestWorld.md" in names
    assert not [n for n in names if n.startswith("benchmarks/")]
    try:
        archived = _world_files_in(unpacked, "lse_registry_archive")
        with pytest.raises(FileNotFoundError, match="git clone https://github.com/"):
            archived.load("faces")
        cloned = _world_files_in(REPO_ROOT, "lse_git_checkout")
        assert cloned.load("faces").kind.name == "faces"
    finally:
        for key in [k for k in sys.modules if k.startswith(("lse_registry_archive", "lse_git"))]:
            del sys.modules[key]
