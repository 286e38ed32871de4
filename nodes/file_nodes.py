"""Save and load attributes as .safetensors files in models/svd_attributes (like LoRAs)."""

from __future__ import annotations

import os

import folder_paths
from comfy_api.latest import io, ui

from ..svd_core import Attribute, load_attribute, save_attribute
from .common import PackNode
from .compat import search_aliases
from .paths import FOLDER, attribute_files, checked_filename, save_directory
from .provenance import describe_attribute
from .types import CATEGORY, AttributeType

SAVE = "Save Singular Value Attribute"
LOAD = "Load Singular Value Attribute"


class SaveSingularAttribute(PackNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id="SaveSingularAttribute",
            display_name=SAVE,
            category=CATEGORY,
            **search_aliases("save attribute"),
            description=f"Saves a learned singular value attribute as one .safetensors file "
            f"in models/{FOLDER} (no code). Load it in other workflows with 'Load Singular "
            "Value Attribute'.",
            is_output_node=True,
            inputs=[
                AttributeType.Input(
                    "attribute",
                    tooltip="The attribute to save (from 'Learn Attribute from Pair').",
                ),
                io.String.Input(
                    "filename",
                    default="attribute",
                    tooltip=f"File name inside models/{FOLDER} without folders; "
                    "'.safetensors' is added.",
                ),
                io.Boolean.Input(
                    "overwrite",
                    default=False,
                    tooltip="Replace an existing file of the same name (off: the node "
                    "reports an error instead).",
                ),
            ],
            outputs=[
                io.String.Output(
                    "saved_filename",
                    display_name="filename",
                    tooltip="The saved file's name as 'Load Singular Value Attribute' lists it.",
                ),
            ],
        )

    @classmethod
    def execute(cls, attribute: Attribute, filename: str, overwrite: bool) -> io.NodeOutput:
        name = checked_filename(filename)
        save_attribute(attribute, os.path.join(save_directory(), name), overwrite=overwrite)
        return io.NodeOutput(name, ui=ui.PreviewText(f"saved models/{FOLDER}/{name}"))


class LoadSingularAttribute(PackNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id="LoadSingularAttribute",
            display_name=LOAD,
            category=CATEGORY,
            **search_aliases("load attribute"),
            description=f"Loads an attribute file from models/{FOLDER} (safetensors only; "
            "nothing is executed) for 'Apply Singular Value Edit'. Shows where the attribute "
            "came from: its prompt pair (when recorded), edit step and training latents.",
            inputs=[
                io.Combo.Input(
                    "attribute_name",
                    options=attribute_files(),
                    tooltip=f"An attribute file in models/{FOLDER} (press R / refresh after "
                    "adding files).",
                ),
            ],
            outputs=[
                AttributeType.Output(
                    "attribute",
                    display_name="attribute",
                    tooltip="The loaded attribute: connect 'Apply Singular Value Edit'.",
                ),
                io.String.Output(
                    "provenance",
                    display_name="provenance",
                    tooltip="Where the attribute came from, as text: its name, source and "
                    "target prompts (when the file records them), edit step, and the latents "
                    "and losses of its training (also shown on the node).",
                ),
            ],
        )

    @classmethod
    def fingerprint_inputs(cls, attribute_name: str) -> object:
        # A replaced file (same name) must be re-read, not served from ComfyUI's cache.
        path = _attribute_path(attribute_name)
        if path is None:
            return attribute_name
        stat = os.stat(path)
        return (attribute_name, stat.st_mtime_ns, stat.st_size)

    @classmethod
    def validate_inputs(cls, attribute_name: str) -> bool | str:
        # Naming the input here replaces ComfyUI's own dropdown check (0.33 runs one before
        # any node, saying only "Value not in list") with the message that says the fix.
        return True if _attribute_path(attribute_name) else f"{LOAD}: {_missing(attribute_name)}"

    @classmethod
    def execute(cls, attribute_name: str) -> io.NodeOutput:
        path = _attribute_path(attribute_name)
        if path is None:  # removed between validation and the run
            raise ValueError(_missing(attribute_name))
        attribute = load_attribute(path)
        text = describe_attribute(attribute)
        return io.NodeOutput(attribute, text, ui=ui.PreviewText(text))


def _attribute_path(attribute_name: str) -> str | None:
    return folder_paths.get_full_path(FOLDER, attribute_name)


def _missing(attribute_name: str) -> str:
    return (
        f"{attribute_name!r} is not in models/{FOLDER}; put the file there and "
        "refresh the list (R)."
    )
