"""latent-svd-edit: a ComfyUI node pack that edits diffusion latents through their channel-wise
singular value decomposition (learn an attribute from one prompt pair, apply it anywhere).

ComfyUI imports this folder as a package (custom_nodes/latent-svd-edit); everything inside uses
relative imports because a bare `import nodes` would be ComfyUI's own nodes.py.
"""

from __future__ import annotations

from importlib.util import find_spec
from typing import Any

NODE_CLASS_MAPPINGS: dict[str, Any] = {}
NODE_DISPLAY_NAME_MAPPINGS: dict[str, str] = {}

# pytest imports this file while collecting tests/ (the repository root is a package) in a
# process without ComfyUI on sys.path; then there is nothing to register. Inside ComfyUI
# `comfy_api` is always importable, so a broken node module still fails loudly there.
if find_spec("comfy_api") is not None:
    from .nodes import NODE_CLASSES
    from .nodes.paths import register_folder

    register_folder()
    NODE_CLASS_MAPPINGS = {cls.define_schema().node_id: cls for cls in NODE_CLASSES}
    NODE_DISPLAY_NAME_MAPPINGS = {
        node_id: cls.define_schema().display_name for node_id, cls in NODE_CLASS_MAPPINGS.items()
    }

__all__ = ["NODE_CLASS_MAPPINGS", "NODE_DISPLAY_NAME_MAPPINGS"]
