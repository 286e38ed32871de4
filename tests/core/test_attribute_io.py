"""Attribute files: round trip, and every kind of bad file raises AttributeFileError (point 8)."""

from __future__ import annotations

import dataclasses
import json
import os
import pickle
import struct
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file
from safetensors.torch import save as st_save

from svd_core import (
    FORMAT_VERSION,
    AttributeFileError,
    AVIConfig,
    apply_attribute,
    decompose,
    learn_attribute,
    load_attribute,
    recompose,
    save_attribute,
)
from svd_core.attribute_io import MAX_HEADER_BYTES
from svd_core.errors import SVDEditError


@pytest.fixture(scope="module")
def attribute():
    g = torch.Generator().manual_seed(5)
    x = torch.randn(1, 4, 16, 12, generator=g)
    z = torch.randn(1, 4, 16, 12, generator=g)
    return learn_attribute(
        decompose(x),
        decompose(z),
        AVIConfig(ks=5, kt=4, steps=12),
        name="smile",
        source_prompt="a person",
        target_prompt="a smiling person",
        step=9,
        delta=3,
    )


@pytest.fixture
def saved(attribute, tmp_path):
    path = tmp_path / "smile.safetensors"
    save_attribute(attribute, path)
    return path


def _parts(path):
    """(tensors, metadata) of a saved attribute, read with plain safetensors."""
    from safetensors import safe_open

    with safe_open(str(path), "pt") as f:
        return {k: f.get_tensor(k) for k in f.keys()}, dict(f.metadata())


def _write(path, tensors, metadata):
    path.write_bytes(st_save(tensors, metadata=metadata))


def _raises(path, match):
    with pytest.raises(AttributeFileError, match=match):
        load_attribute(path)


def test_round_trip(attribute, saved):
    loaded = load_attribute(saved)
    for name in (
        "name",
        "config",
        "channels",
        "height",
        "width",
        "ks",
        "kt",
        "final_loss",
        "optimum_loss",
        "num_pairs",
        "source_prompt",
        "target_prompt",
        "step",
        "delta",
        "frames",
    ):
        assert getattr(loaded, name) == getattr(attribute, name), name
    for k, v in attribute.predictor.items():
        assert torch.equal(loaded.predictor[k], v)
    for name in ("target_U", "target_S", "target_Vh", "loss_history"):
        assert torch.equal(getattr(loaded, name), getattr(attribute, name))
    x = decompose(torch.randn(2, 4, 16, 12))
    y_loaded = recompose(apply_attribute(x, loaded))
    assert torch.equal(y_loaded, recompose(apply_attribute(x, attribute)))
    assert isinstance(AttributeFileError("x"), ValueError)


def test_save_is_atomic(attribute, tmp_path, monkeypatch):
    path = tmp_path / "sub" / "a.safetensors"
    save_attribute(attribute, path)  # creates the folder
    before = path.read_bytes()
    assert sorted(os.listdir(path.parent)) == ["a.safetensors"]

    def boom(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", boom)
    # The OS error comes back in words, as the pack's own error (a node shows it as such).
    with pytest.raises(AttributeFileError, match=r"disk full.*Nothing was written") as err:
        save_attribute(attribute, path)
    assert isinstance(err.value.__cause__, OSError)
    assert path.read_bytes() == before  # the old file is intact
    assert sorted(os.listdir(path.parent)) == ["a.safetensors"]  # no temporary left


def test_save_into_a_path_that_cannot_be_a_folder(attribute, tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the folder should be")
    with pytest.raises(AttributeFileError, match="cannot write into the folder"):
        save_attribute(attribute, blocker / "a.safetensors")
    assert blocker.read_text() == "a file where the folder should be"


def test_header_starting_with_0x80_still_loads(attribute, tmp_path):
    # The header length's low byte is the file's first byte; 0x80 must not look like pickle.
    for pad in range(300):
        path = tmp_path / f"p{pad}.safetensors"
        att = type(attribute)(**{**attribute.__dict__, "name": "n" * pad})
        save_attribute(att, path)
        if path.read_bytes()[0] == 0x80:
            assert load_attribute(path).name == "n" * pad
            return
        path.unlink()
    pytest.fail("no padding produced a header length with low byte 0x80")


@pytest.mark.parametrize("keep", [0, 4, 8, 20, -1, -100])
def test_truncated(saved, keep):
    raw = saved.read_bytes()
    saved.write_bytes(raw[:keep] if keep >= 0 else raw[:keep])
    _raises(saved, "truncated|JSON|damaged")


def test_wrong_shape(saved):
    tensors, meta = _parts(saved)
    tensors["predictor.l1.weight"] = torch.zeros(7, 3)
    _write(saved, tensors, meta)
    _raises(saved, "l1.weight.*shape")


def test_wrong_target_shape(saved):
    tensors, meta = _parts(saved)
    tensors["target.U"] = tensors["target.U"][:, :8].contiguous()
    _write(saved, tensors, meta)
    _raises(saved, "target_U.*shape")


@pytest.mark.parametrize("dtype", [torch.float64, torch.float16, torch.int32])
def test_wrong_dtype(saved, dtype):
    tensors, meta = _parts(saved)
    tensors["predictor.l2.bias"] = tensors["predictor.l2.bias"].to(dtype)
    _write(saved, tensors, meta)
    _raises(saved, "dtype")


def test_non_finite_tensor(saved):
    tensors, meta = _parts(saved)
    tensors["predictor.l3.weight"][0, 0] = float("nan")
    _write(saved, tensors, meta)
    _raises(saved, "NaN")


@pytest.mark.parametrize("change", ["missing_tensor", "extra_tensor"])
def test_missing_or_extra_tensor(saved, change):
    tensors, meta = _parts(saved)
    if change == "missing_tensor":
        del tensors["loss_history"]
    else:
        tensors["payload"] = torch.zeros(3)
    _write(saved, tensors, meta)
    _raises(saved, "unexpected tensors")


@pytest.mark.parametrize(
    "edit, match",
    [
        (lambda m: m.pop("config"), "missing"),
        (lambda m: m.pop("attribute"), "missing"),
        (lambda m: m.update(extra="1"), "unknown"),
        (lambda m: m.update(format="pt"), "not a latent-svd-edit"),
        (lambda m: m.update(format_version="v1"), "format_version"),
        (lambda m: m.update(format_version="0"), "format_version"),
        (lambda m: m.update(config="{not json"), "JSON"),
        (lambda m: m.update(config=json.dumps({"ks": 5})), "missing"),
    ],
)
def test_bad_metadata(saved, edit, match):
    tensors, meta = _parts(saved)
    edit(meta)
    _write(saved, tensors, meta)
    _raises(saved, match)


@pytest.mark.parametrize(
    "field, value, match",
    [
        ("channels", "4", "channels"),
        ("final_loss", None, "final_loss"),
        ("name", 3, "name"),
        ("ks", 99, "ks"),
        ("extra", 1, "unknown"),
        ("step", 1.5, "step"),
    ],
)
def test_bad_attribute_fields(saved, field, value, match):
    tensors, meta = _parts(saved)
    info = json.loads(meta["attribute"])
    info[field] = value
    meta["attribute"] = json.dumps(info)
    _write(saved, tensors, meta)
    _raises(saved, match)


def test_missing_attribute_field(saved):
    tensors, meta = _parts(saved)
    info = json.loads(meta["attribute"])
    del info["optimum_loss"]
    meta["attribute"] = json.dumps(info)
    _write(saved, tensors, meta)
    _raises(saved, "missing.*optimum_loss")


def test_nan_in_metadata_json(saved):
    tensors, meta = _parts(saved)
    meta["attribute"] = meta["attribute"].replace('"final_loss": ', '"final_loss": NaN, "x": ')
    _write(saved, tensors, meta)
    _raises(saved, "JSON|non-finite")


def test_newer_format_version(saved):
    tensors, meta = _parts(saved)
    meta["format_version"] = str(FORMAT_VERSION + 1)
    _write(saved, tensors, meta)
    _raises(saved, "newer latent-svd-edit")


FIXTURES = Path(__file__).with_name("fixtures")


def test_a_version_1_file_still_loads_and_edits_with_a_target():
    """A file written by format version 1 (committed) loads, has no mean edit, and edits a
    latent with a target."""
    att = load_attribute(FIXTURES / "attribute_format_v1.safetensors")
    assert att.mean_edit is None and att.pair_mode == ""
    assert (att.name, att.ks, att.kt, att.step, att.delta) == ("smile", 3, 2, 6, 3)
    ref = load_file(str(FIXTURES / "attribute_format_v1_expected.safetensors"))
    x = decompose(ref["x"])
    out = recompose(apply_attribute(x, att, x, 1.0))
    assert out.shape == ref["x"].shape and torch.isfinite(out).all()
    with pytest.raises(SVDEditError, match="no mean edit"):
        apply_attribute(x, att, reuse="mean_edit")


def test_a_version_1_file_without_a_target_says_it_needs_one():
    """The stored-target mode is gone: without a mean edit the file needs a target, in words."""
    att = load_attribute(FIXTURES / "attribute_format_v1.safetensors")
    x = decompose(load_file(str(FIXTURES / "attribute_format_v1_expected.safetensors"))["x"])
    with pytest.raises(SVDEditError) as err:
        apply_attribute(x, att)
    message = str(err.value)
    assert "format version 1" in message and "needs a target" in message
    assert "connect a target latent" in message


def test_mean_edit_and_pair_mode_round_trip(attribute, saved):
    back = load_attribute(saved)
    assert back.mean_edit is not None and attribute.mean_edit is not None
    assert torch.equal(back.mean_edit, attribute.mean_edit)
    assert back.pair_mode == attribute.pair_mode
    tensors, meta = _parts(saved)
    # Written with the lowest version that holds it: packs that read version 2 load it.
    assert meta["format_version"] == "2" and FORMAT_VERSION == 4
    assert back.reuse_references is None and back.reuse_step is None


def test_an_unreadable_pairing_is_written_as_version_3(attribute, tmp_path):
    """A pairing the learn node could not read survives a round trip; only such a file needs
    version 3 (a pack that reads up to version 2 says to update instead of failing on it)."""
    path = tmp_path / "unreadable.safetensors"
    save_attribute(dataclasses.replace(attribute, pair_mode="unreadable"), path)
    assert load_attribute(path).pair_mode == "unreadable"
    tensors, meta = _parts(path)
    assert meta["format_version"] == "3"
    meta["format_version"] = "2"
    _write(path, tensors, meta)
    _raises(path, "version-2 file cannot record pair_mode 'unreadable'")


def test_reuse_tensors_are_written_as_version_4(tmp_path):
    """References and edits for the aligned reuse survive a round trip; only a file with them
    needs version 4, and a file claiming an older version cannot carry them."""
    g = torch.Generator().manual_seed(6)
    x = torch.randn(2, 4, 16, 12, generator=g)
    z = x + torch.randn(2, 4, 16, 12, generator=g)
    refs = x + 0.5 * torch.randn(2, 4, 16, 12, generator=g)
    att = learn_attribute(
        decompose(x),
        decompose(z),
        AVIConfig(ks=5, kt=4, steps=4),
        reuse_references=decompose(refs),
        pair_mode="branched",
        reuse_step=12,
    )
    path = tmp_path / "reuse.safetensors"
    save_attribute(att, path)
    back = load_attribute(path)
    assert back.reuse_step == 12 and back.num_pairs == 2
    torch.testing.assert_close(back.reuse_references, refs, atol=1e-4, rtol=0)
    assert back.reuse_edits is not None and att.reuse_edits is not None
    assert torch.equal(back.reuse_edits, att.reuse_edits)
    tensors, meta = _parts(path)
    assert meta["format_version"] == "4"
    meta["format_version"] = "3"
    info = json.loads(meta["attribute"])
    del info["reuse_step"]
    meta["attribute"] = json.dumps(info)
    _write(path, tensors, meta)
    _raises(path, "version-3 file cannot carry a 'reuse_references' tensor")
    del tensors["reuse_edits"]
    meta["format_version"] = "4"
    info["reuse_step"] = 12
    meta["attribute"] = json.dumps(info)
    _write(path, tensors, meta)
    _raises(path, "reuse_references and reuse_edits come together")


def test_a_version_1_file_with_a_mean_edit_is_refused(saved):
    tensors, meta = _parts(saved)
    meta["format_version"] = "1"
    info = json.loads(meta["attribute"])
    del info["pair_mode"]
    meta["attribute"] = json.dumps(info)
    _write(saved, tensors, meta)
    _raises(saved, "version-1 file cannot carry")


def test_safetensors_without_metadata(tmp_path):
    path = tmp_path / "lora.safetensors"
    path.write_bytes(st_save({"lora_up.weight": torch.zeros(4, 4)}))
    _raises(path, "not a latent-svd-edit attribute")


class _Evil:
    def __reduce__(self):
        return (os.mkdir, ("PWNED_BY_PICKLE",))


def test_pickle_renamed(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "evil.safetensors"
    path.write_bytes(pickle.dumps({"x": _Evil()}))
    _raises(path, "pickle")
    zipped = tmp_path / "ckpt.safetensors"
    torch.save({"w": torch.zeros(3)}, zipped)
    _raises(zipped, "pickle")
    assert not (tmp_path / "PWNED_BY_PICKLE").exists()


def test_oversized_header(tmp_path):
    # Claims a huge header: refused before anything is read or parsed.
    claim = tmp_path / "claim.safetensors"
    claim.write_bytes(struct.pack("<Q", 50 * MAX_HEADER_BYTES) + b"{}")
    _raises(claim, "header claims")
    # A real, but oversized, header (valid JSON padded past the limit).
    big = tmp_path / "big.safetensors"
    header = json.dumps({"__metadata__": {"pad": "x" * (MAX_HEADER_BYTES + 10)}}).encode()
    big.write_bytes(struct.pack("<Q", len(header)) + header)
    _raises(big, "header claims")


def test_header_is_garbage(tmp_path):
    path = tmp_path / "g.safetensors"
    path.write_bytes(struct.pack("<Q", 6) + b"\xff\xfe\x00abc")
    _raises(path, "UTF-8|JSON")
    path.write_bytes(struct.pack("<Q", 2) + b"[]")
    _raises(path, "JSON object")


def test_offsets_outside_file(saved):
    raw = saved.read_bytes()
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8 : 8 + n])
    header["loss_history"]["data_offsets"] = [0, 10**9]
    new = json.dumps(header).encode()
    saved.write_bytes(struct.pack("<Q", len(new)) + new + raw[8 + n :])
    _raises(saved, "outside the file|size does not match")


def test_not_a_file(tmp_path):
    _raises(tmp_path / "missing.safetensors", "no such file")
    _raises(tmp_path, "no such file")
