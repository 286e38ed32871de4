"""Must-show 4 (files): no pickle is ever loaded; unsafe names are refused by Save and Load;
no half-written file is left after a crash or a Cancel during a save."""

from __future__ import annotations

import io
import os
import pickle
from pathlib import Path

import pytest
import torch
from harness.comfy_runtime import ComfyRuntime, ComfyRuntimeError
from reliability.support import display_name, failure, latent, learn, node, with_sinks

import svd_core

pytestmark = pytest.mark.comfy


class _Evil:
    """Unpickling this creates a marker file (what a malicious checkpoint would do)."""

    def __init__(self, marker: Path) -> None:
        self.marker = str(marker)

    def __reduce__(self):  # noqa: ANN204
        return (open, (self.marker, "w"))


def _evil_payloads(marker: Path) -> dict[str, bytes]:
    buf = io.BytesIO()
    torch.save({"state_dict": _Evil(marker)}, buf)
    return {f"pickle-protocol-{p}": pickle.dumps(_Evil(marker), protocol=p) for p in (0, 2, 5)} | {
        "torch-save-zip": buf.getvalue()
    }


def test_pickles_are_never_loaded(rt: ComfyRuntime, tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    payloads = _evil_payloads(marker)
    # Control: the payloads really execute when unpickled (so the test can fail).
    pickle.loads(payloads["pickle-protocol-2"])
    assert marker.exists()
    marker.unlink()

    folder = rt.model_folder("svd_attributes")
    folder.mkdir(parents=True, exist_ok=True)
    for name, blob in payloads.items():
        path = folder / f"evil-{name}.safetensors"
        path.write_bytes(blob)
        with pytest.raises(svd_core.AttributeFileError):
            svd_core.load_attribute(path)
        # Through the Load node inside ComfyUI, too.
        result = rt.run_prompt(
            with_sinks({"l": node("LoadSingularAttribute", attribute_name=path.name)}, "l")
        )
        fail = failure(result)
        assert fail.node_type == "LoadSingularAttribute"
        assert fail.message.startswith(display_name(rt, "LoadSingularAttribute") + ":")
        assert "pickle" in fail.message or "safetensors" in fail.message, fail
        assert not marker.exists(), f"{name} was unpickled"
        path.unlink()


BAD_NAMES = [
    "../escape",
    "sub/dir",
    "sub\\dir",
    "/tmp/abs",
    "C:evil",
    ".hidden",
    "a\x00b",
    "new\nline",
    "",
    "   ",
    "..",
    "ümlaut",
    "semi;colon",
    "x" * 200,
]


def _learned_graph(filename: str, overwrite: bool = False) -> dict:
    return {
        "s": latent((1, 4, 8, 8), seed=1),
        "t": latent((1, 4, 8, 8), seed=2),
        "ds": node("LatentSVDDecompose", latent=["s", 0], rank=0),
        "dt": node("LatentSVDDecompose", latent=["t", 0], rank=0),
        "l": learn("ds", "dt"),
        "sv": node(
            "SaveSingularAttribute", attribute=["l", 0], filename=filename, overwrite=overwrite
        ),
    }


def _tree(root: Path) -> set[str]:
    """Every file under ``root`` but ComfyUI's temp/ (node previews such as the loss curve)."""
    return {
        str(p.relative_to(root))
        for p in root.rglob("*")
        if p.is_file() and p.relative_to(root).parts[0] != "temp"
    }


@pytest.mark.parametrize("name", BAD_NAMES, ids=[repr(n)[:20] for n in BAD_NAMES])
def test_save_refuses_unsafe_names(rt: ComfyRuntime, name: str) -> None:
    before = _tree(rt.base_dir)
    fail = failure(rt.run_prompt(_learned_graph(name)))
    assert fail.node_type == "SaveSingularAttribute", fail
    assert fail.message.startswith(display_name(rt, "SaveSingularAttribute") + ":"), fail
    assert "name" in fail.message.lower(), fail
    assert _tree(rt.base_dir) == before  # nothing written anywhere


@pytest.mark.parametrize(
    "name",
    [
        "../outside.safetensors",
        "/etc/passwd",
        "..\\outside.safetensors",
        "sub/../../outside.safetensors",
    ],
)
def test_load_refuses_names_outside_its_folder(rt: ComfyRuntime, name: str) -> None:
    # A valid attribute right outside the folder must not be reachable by a crafted name.
    folder = rt.model_folder("svd_attributes")
    saved = rt.run_prompt(_learned_graph("inside", overwrite=True))
    assert saved.success, saved.error_message()
    (folder.parent / "outside.safetensors").write_bytes(
        (folder / "inside.safetensors").read_bytes()
    )
    # Through ComfyUI (validation, then the node): refused, naming the node.
    try:
        result = rt.run_prompt(
            with_sinks({"l": node("LoadSingularAttribute", attribute_name=name)}, "l"),
            outputs=["l"],
        )
    except ComfyRuntimeError as exc:  # ComfyUI's own "value not in list"
        assert "attribute_name" in str(exc)
    else:
        fail = failure(result)
        assert fail.node_type == "LoadSingularAttribute" and "l" not in result.node_outputs
        assert fail.message.startswith(display_name(rt, "LoadSingularAttribute") + ":"), fail
    # The node itself (a client skipping validation) resolves nothing outside.
    cls = rt.node_class("LoadSingularAttribute")
    with pytest.raises(ValueError, match=display_name(rt, "LoadSingularAttribute")):
        cls.execute(attribute_name=name)


class _DiskFull(OSError):
    pass


@pytest.mark.parametrize("stop", ["crash", "cancel"])
def test_failed_save_leaves_no_partial_file(
    rt: ComfyRuntime, monkeypatch: pytest.MonkeyPatch, stop: str
) -> None:
    folder = rt.model_folder("svd_attributes")
    saved = rt.run_prompt(_learned_graph("keep-me", overwrite=True))
    assert saved.success, saved.error_message()
    original = (folder / "keep-me.safetensors").read_bytes()
    before = _tree(folder)
    real_fdopen = os.fdopen
    written: list[int] = []
    interrupt = rt.model_management.InterruptProcessingException

    class HalfWriter:
        """A file that writes half of what it is given, then fails (disk full / Cancel)."""

        def __init__(self, f: io.BufferedWriter) -> None:
            self.f = f

        def __enter__(self) -> HalfWriter:
            return self

        def __exit__(self, *exc: object) -> None:
            self.f.close()

        def write(self, data: bytes) -> int:
            self.f.write(data[: len(data) // 2])
            self.f.flush()
            written.append(len(data) // 2)
            raise _DiskFull("No space left on device") if stop == "crash" else interrupt()

        def __getattr__(self, name: str) -> object:
            return getattr(self.f, name)

    def fdopen(fd: int, *args: object, **kwargs: object) -> object:
        return HalfWriter(real_fdopen(fd, *args, **kwargs))

    # The pack's own write path: svd_core.attribute_io writes through os.fdopen.
    monkeypatch.setattr(os, "fdopen", fdopen)
    for filename, overwrite in (("keep-me", True), ("brand-new", False)):
        graph = _learned_graph(filename, overwrite=overwrite)
        graph["l"]["inputs"]["seed"] = 7  # a new attribute, so the save really runs
        result = rt.run_prompt(graph)
        assert not result.success
        if stop == "cancel":
            assert result.interrupted
        else:
            err = failure(result)
            assert err.node_type == "SaveSingularAttribute"
            # In words, naming the node and the cause, not a bare OSError traceback.
            assert "Save Singular Value Attribute" in err.message, err.message
            assert "No space left on device" in err.message
            assert "disk full" in err.message and "unchanged" in err.message
    monkeypatch.undo()
    assert written, "the save never reached the write"
    # No temporary or partial file, the old file intact, no new file.
    assert _tree(folder) == before
    assert (folder / "keep-me.safetensors").read_bytes() == original
    assert isinstance(svd_core.load_attribute(folder / "keep-me.safetensors"), svd_core.Attribute)
