"""The `svd_attributes` model folder and safe attribute file names."""

from __future__ import annotations

import os
import re

import folder_paths

FOLDER = "svd_attributes"
EXTENSION = ".safetensors"
MAX_NAME = 128

# Letters, digits, space, dot, dash, underscore; must start with a letter or digit.
_SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ._-]*$")


def register_folder() -> None:
    """Register ComfyUI model folder `svd_attributes` (models/svd_attributes); idempotent.

    Users may add more locations under the same key in extra_model_paths.yaml.
    """
    folder_paths.add_model_folder_path(FOLDER, os.path.join(folder_paths.models_dir, FOLDER))


def attribute_files() -> list[str]:
    """The attribute files ComfyUI lists in the folder (only .safetensors), sorted."""
    return sorted(
        f for f in folder_paths.get_filename_list(FOLDER) if f.lower().endswith(EXTENSION)
    )


def save_directory() -> str:
    """Where new attribute files go: the first registered `svd_attributes` folder."""
    return folder_paths.get_folder_paths(FOLDER)[0]


def checked_filename(filename: str) -> str:
    """``filename`` with ".safetensors" appended if missing, or ValueError saying what is wrong.

    Refuses anything that could leave the folder or confuse a file system: path separators,
    "..", absolute paths, drive letters, control and other unusual characters, hidden names.
    """
    name = filename.strip()
    hint = 'use a plain name made of letters, digits, "-", "_", "." and spaces, e.g. "smile".'
    if not name:
        raise ValueError(f"the filename is empty; {hint}")
    if "/" in name or "\\" in name or os.sep in name or (os.altsep and os.altsep in name):
        raise ValueError(
            f"the filename {filename!r} contains a path separator; the "
            f"file is always saved in models/{FOLDER}. Please {hint}"
        )
    if ".." in name:
        raise ValueError(f"the filename {filename!r} contains '..'; {hint}")
    if os.path.isabs(name) or ":" in name:
        raise ValueError(
            f"the filename {filename!r} looks like an absolute path or a "
            f"drive; the file is always saved in models/{FOLDER}. Please {hint}"
        )
    if not _SAFE_NAME.match(name):
        raise ValueError(
            f"the filename {filename!r} has unusual characters or starts with a dot; {hint}"
        )
    if not name.lower().endswith(EXTENSION):
        name += EXTENSION
    if len(name) > MAX_NAME:
        raise ValueError(f"the filename is {len(name)} characters long; use at most {MAX_NAME}.")
    return name
