"""Attribute files: one ``.safetensors`` file, tensors plus JSON metadata.

Layout (format ``latent-svd-edit/attribute``, version :data:`FORMAT_VERSION`):

- tensors (all float32): ``predictor.l1.weight`` ... ``predictor.l3.bias``, ``target.U``,
  ``target.S``, ``target.Vh``, ``loss_history``; since version 2 optionally ``mean_edit``
  (``[C, H, W]`` or ``[C, T, H, W]``, the mean learned edit);
- metadata (safetensors' string map): ``format``, ``format_version``, ``config`` (JSON of
  :class:`AVIConfig`), ``attribute`` (JSON: name, C/H/W, ks/kt, frames, losses, provenance;
  since version 2 also ``pair_mode``; since version 3 it may be ``"unreadable"``; since
  version 4 ``reuse_step``, with the tensors ``reuse_references`` and ``reuse_edits``
  (``[P, C, H, W]`` or ``[P, C, T, H, W]``, for the aligned reuse edit)).

A file is written with the lowest version that holds it (version 4 only with reuse tensors,
version 3 only for an ``"unreadable"`` pairing), so every other file still loads in packs that
read version 2, and one that needs a later version is refused there as "made by a newer
latent-svd-edit". Version-1
files (no ``mean_edit``, no ``pair_mode``) still load: their attribute has
``mean_edit=None`` and ``pair_mode=""``.

Loading never unpickles anything and validates the whole file before building the
:class:`Attribute`; every problem is reported as :class:`AttributeFileError`.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from typing import Any

from safetensors.torch import load as st_load
from safetensors.torch import save as st_save

from .attribute import Attribute, check_fields, check_finite
from .config import AVIConfig
from .errors import AttributeFileError, SVDEditError
from .predictor import PREDICTOR_KEYS
from .validation import is_integer

FORMAT = "latent-svd-edit/attribute"
FORMAT_VERSION = 4
#: The format version that first holds a pair mode (the others exist since version 2).
PAIR_MODE_SINCE = {"unreadable": 3}
#: The format version that first holds the reuse references and edits.
REUSE_SINCE = 4

#: Refuse larger headers before parsing them (a real header is a few kB).
MAX_HEADER_BYTES = 1 << 20
#: Refuse larger files before reading them (a real attribute is well under 10 MB, or with the
#: reuse tensors of 64 SDXL pairs about 35 MB).
MAX_FILE_BYTES = 256 << 20

METADATA_KEYS = ("format", "format_version", "config", "attribute")
ATTRIBUTE_FIELDS_V1 = (
    "name",
    "channels",
    "height",
    "width",
    "ks",
    "kt",
    "frames",
    "num_pairs",
    "final_loss",
    "optimum_loss",
    "source_prompt",
    "target_prompt",
    "step",
    "delta",
)
#: The metadata fields of versions 2 and 3.
ATTRIBUTE_FIELDS = (*ATTRIBUTE_FIELDS_V1, "pair_mode")
#: The metadata fields of version 4.
ATTRIBUTE_FIELDS_V4 = (*ATTRIBUTE_FIELDS, "reuse_step")
TENSOR_KEYS = (
    *(f"predictor.{k}" for k in PREDICTOR_KEYS),
    "target.U",
    "target.S",
    "target.Vh",
    "loss_history",
)
#: Every tensor of an attribute file is float32 (F32): 4 bytes an element.
F32_BYTES = 4
#: Tensors a file may carry since version 2 (the reuse ones since version 4).
OPTIONAL_TENSOR_KEYS = ("mean_edit", "reuse_references", "reuse_edits")
REUSE_TENSOR_KEYS = ("reuse_references", "reuse_edits")


def _json_dumps(obj: Any) -> str:
    return json.dumps(obj, allow_nan=False, sort_keys=True, ensure_ascii=False)


def _reject_constant(name: str) -> float:
    raise ValueError(f"non-finite number {name} in JSON")


def _json_loads(text: str, what: str) -> Any:
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except ValueError as exc:
        raise AttributeFileError(f"{what} is not valid JSON ({exc}).") from exc


def save_attribute(
    attribute: Attribute, path: str | os.PathLike[str], overwrite: bool = True
) -> None:
    """Write ``attribute`` to ``path`` atomically.

    The file is written under a temporary name in the same folder and then moved over
    ``path`` with ``os.replace``, so a crash never leaves a half-written attribute. An OS
    error (disk full, read-only folder) comes back as :class:`AttributeFileError`; an
    existing file without ``overwrite`` as :class:`SVDEditError` (it is left unchanged).
    """
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    if not overwrite and os.path.exists(path):
        raise SVDEditError(
            f"{os.path.basename(path)} already exists in {folder}; choose another filename "
            "or switch 'overwrite' on to replace it."
        )
    tensors = {f"predictor.{k}": attribute.predictor[k].contiguous() for k in PREDICTOR_KEYS}
    tensors["target.U"] = attribute.target_U.contiguous()
    tensors["target.S"] = attribute.target_S.contiguous()
    tensors["target.Vh"] = attribute.target_Vh.contiguous()
    tensors["loss_history"] = attribute.loss_history.contiguous()
    if attribute.mean_edit is not None:
        tensors["mean_edit"] = attribute.mean_edit.contiguous()
    version = PAIR_MODE_SINCE.get(attribute.pair_mode, 2)
    if attribute.reuse_references is not None and attribute.reuse_edits is not None:
        tensors["reuse_references"] = attribute.reuse_references.contiguous()
        tensors["reuse_edits"] = attribute.reuse_edits.contiguous()
        version = REUSE_SINCE
    fields = ATTRIBUTE_FIELDS_V4 if version >= REUSE_SINCE else ATTRIBUTE_FIELDS
    meta = {f: getattr(attribute, f) for f in fields}
    metadata = {
        "format": FORMAT,
        "format_version": str(version),
        "config": _json_dumps(attribute.config.to_dict()),
        "attribute": _json_dumps(meta),
    }
    data = st_save({k: v.detach().cpu() for k, v in tensors.items()}, metadata=metadata)

    try:
        os.makedirs(folder, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".", suffix=".tmp", dir=folder)
    except OSError as exc:
        raise AttributeFileError(f"cannot write into the folder {folder} ({exc}).") from exc
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        # Disk full, quota, read-only mount: say so in words, and that nothing was lost.
        _discard(tmp)
        raise AttributeFileError(
            f"could not write {path} ({exc}); is the disk full or the folder read-only? "
            "Nothing was written: a file already saved under that name is unchanged."
        ) from exc
    except BaseException:
        _discard(tmp)
        raise


def _discard(tmp: str) -> None:
    if os.path.exists(tmp):
        os.unlink(tmp)


def _check_header(header: object, data_len: int) -> dict[str, str]:
    """Validate the parsed safetensors header; return its metadata."""
    if not isinstance(header, dict):
        raise AttributeFileError("the safetensors header is not a JSON object.")
    meta = header.get("__metadata__")
    if not isinstance(meta, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in meta.items()
    ):
        raise AttributeFileError(
            "the file has no attribute metadata: it is a safetensors file but not a "
            "latent-svd-edit attribute (a LoRA or checkpoint goes in another loader)."
        )
    names = set(header) - {"__metadata__"}
    missing = sorted(set(TENSOR_KEYS) - names)
    # Optional tensors are checked against the format version in _check_metadata.
    extra = sorted(names - set(TENSOR_KEYS) - set(OPTIONAL_TENSOR_KEYS))
    if missing or extra:
        raise AttributeFileError(f"unexpected tensors: missing {missing}, unknown {extra}.")
    for name in sorted(names):
        entry = header[name]
        if not isinstance(entry, dict) or set(entry) != {"dtype", "shape", "data_offsets"}:
            raise AttributeFileError(f"tensor {name!r} has a malformed header entry.")
        dtype, shape, offsets = entry["dtype"], entry["shape"], entry["data_offsets"]
        if dtype != "F32":
            raise AttributeFileError(
                f"tensor {name!r} has dtype {dtype!r}; expected float32 (F32)."
            )
        if not isinstance(shape, list) or not all(
            is_integer(d) and 0 <= d < (1 << 31) for d in shape
        ):
            raise AttributeFileError(f"tensor {name!r} has a malformed shape {shape!r}.")
        if (
            not isinstance(offsets, list)
            or len(offsets) != 2
            or not all(is_integer(o) for o in offsets)
        ):
            raise AttributeFileError(f"tensor {name!r} has malformed data offsets.")
        start, end = offsets
        if not 0 <= start <= end <= data_len:
            raise AttributeFileError(
                f"tensor {name!r} lies outside the file: the file is truncated or damaged."
            )
        if end - start != math.prod(shape) * F32_BYTES:
            raise AttributeFileError(f"tensor {name!r}: its size does not match its shape.")
    return meta


def _read_header(raw: bytes) -> tuple[dict[str, str], int]:
    if len(raw) < 8:
        raise AttributeFileError("the file is truncated (shorter than a safetensors header).")
    n = int.from_bytes(raw[:8], "little")
    # The first byte of a valid file is the header length's low byte, which is 0x80 for
    # about 1 file in 32: the pickle / zip signatures only count when the length is absurd.
    plausible = n <= MAX_HEADER_BYTES and 8 + n <= len(raw)
    if not plausible and (raw[:1] == b"\x80" or raw[:2] == b"PK"):
        raise AttributeFileError(
            "this is a Python pickle / PyTorch checkpoint, not a safetensors attribute; "
            "pickles can run code, so they are never loaded."
        )
    if n > MAX_HEADER_BYTES:
        raise AttributeFileError(
            f"the safetensors header claims {n} bytes (limit {MAX_HEADER_BYTES}): "
            "not an attribute file, or damaged."
        )
    if 8 + n > len(raw):
        raise AttributeFileError("the file is truncated (the header runs past its end).")
    try:
        text = raw[8 : 8 + n].decode("utf-8")
    except UnicodeDecodeError as exc:
        raise AttributeFileError("the header is not UTF-8 text: not a safetensors file.") from exc
    header = _json_loads(text, "the safetensors header")
    return _check_header(header, len(raw) - 8 - n), n


def _check_metadata(meta: dict[str, str]) -> tuple[AVIConfig, dict[str, Any], int]:
    fmt = meta.get("format")
    if fmt != FORMAT:
        raise AttributeFileError(
            f"metadata 'format' is {fmt!r}, not {FORMAT!r}: this safetensors file is not a "
            "latent-svd-edit attribute."
        )
    version_text = meta.get("format_version")
    if not isinstance(version_text, str) or not version_text.isdigit():
        raise AttributeFileError(f"metadata 'format_version' is malformed: {version_text!r}.")
    version = int(version_text)
    if version > FORMAT_VERSION:
        raise AttributeFileError(
            f"this attribute was made by a newer latent-svd-edit (file format version {version}; "
            f"this version reads up to {FORMAT_VERSION}): update the latent-svd-edit node pack."
        )
    if version < 1:
        raise AttributeFileError(f"metadata 'format_version' {version} is not valid.")
    extra = sorted(set(meta) - set(METADATA_KEYS))
    missing = sorted(set(METADATA_KEYS) - set(meta))
    if extra or missing:
        raise AttributeFileError(f"metadata keys: missing {missing}, unknown {extra}.")
    try:
        config = AVIConfig.from_dict(_json_loads(meta["config"], "metadata 'config'"))
    except AttributeFileError:
        raise
    except SVDEditError as exc:
        raise AttributeFileError(f"metadata 'config' is invalid: {exc}") from exc
    info = _json_loads(meta["attribute"], "metadata 'attribute'")
    if not isinstance(info, dict):
        raise AttributeFileError("metadata 'attribute' must be a JSON object.")
    fields = {1: ATTRIBUTE_FIELDS_V1, REUSE_SINCE: ATTRIBUTE_FIELDS_V4}.get(
        version, ATTRIBUTE_FIELDS
    )
    extra = sorted(set(info) - set(fields))
    missing = sorted(set(fields) - set(info))
    if extra or missing:
        raise AttributeFileError(
            f"metadata 'attribute' fields: missing {missing}, unknown {extra}."
        )
    return config, info, version


def _load(path: str) -> Attribute:
    if not os.path.isfile(path):
        raise AttributeFileError("no such file.")
    size = os.path.getsize(path)
    if size > MAX_FILE_BYTES:
        raise AttributeFileError(
            f"the file is {size} bytes, far larger than an attribute (limit {MAX_FILE_BYTES})."
        )
    with open(path, "rb") as f:
        raw = f.read(MAX_FILE_BYTES + 1)
    meta, _ = _read_header(raw)
    config, info, version = _check_metadata(meta)
    # The header is known to be sane; safetensors' own parser checks the rest (overlaps,
    # coverage) and never executes anything.
    tensors = st_load(raw)
    if version == 1 and "mean_edit" in tensors:
        raise AttributeFileError("a version-1 file cannot carry a 'mean_edit' tensor.")
    for key in REUSE_TENSOR_KEYS:
        if version < REUSE_SINCE and key in tensors:
            raise AttributeFileError(f"a version-{version} file cannot carry a {key!r} tensor.")
    mode = info.get("pair_mode")
    if isinstance(mode, str) and version < PAIR_MODE_SINCE.get(mode, 0):
        raise AttributeFileError(f"a version-{version} file cannot record pair_mode {mode!r}.")
    check_fields(info, config)
    attribute = Attribute(
        config=config,
        predictor={k: tensors[f"predictor.{k}"] for k in PREDICTOR_KEYS},
        target_U=tensors["target.U"],
        target_S=tensors["target.S"],
        target_Vh=tensors["target.Vh"],
        loss_history=tensors["loss_history"],
        mean_edit=tensors.get("mean_edit"),
        reuse_references=tensors.get("reuse_references"),
        reuse_edits=tensors.get("reuse_edits"),
        **info,
    )
    check_finite(attribute)
    return attribute


def load_attribute(path: str | os.PathLike[str]) -> Attribute:
    """Read and fully validate an attribute file.

    Raises:
        AttributeFileError: for anything wrong (missing, truncated, not safetensors, a
            pickle, oversized header, wrong/extra/missing tensors or metadata, wrong shapes
            or dtypes, non-finite values, a newer format version); the message names the
            file and the problem.
    """
    shown = os.fspath(path) if isinstance(path, (str, os.PathLike)) else repr(path)
    try:
        return _load(os.fspath(path))
    except SVDEditError as exc:  # AttributeFileError included
        raise AttributeFileError(f"cannot load attribute file {shown!r}: {exc}") from exc
    except Exception as exc:  # any parser/OS failure becomes one clear error type
        raise AttributeFileError(
            f"cannot load attribute file {shown!r}: {type(exc).__name__}: {exc}"
        ) from exc
