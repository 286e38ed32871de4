"""latent-svd-edit: a ComfyUI node pack that edits diffusion latents through their channel-wise
singular value decomposition (learn an attribute from one prompt pair, apply it anywhere).

ComfyUI imports this folder as a package (custom_nodes/latent-svd-edit) and registers the nodes
through ``comfy_entrypoint`` (the V3 route, loaded by ComfyUI 0.3.75 and 0.33 alike). Everything
inside uses relative imports because a bare `import nodes` would be ComfyUI's own nodes.py.
"""

from __future__ import annotations

from importlib.util import find_spec

# pytest imports this file while collecting tests/ (the repository root is a package) in a
# process without ComfyUI on sys.path; then there is nothing to register. Inside ComfyUI
# `comfy_api` is always importable, so a broken node module still fails loudly there.
if find_spec("comfy_api") is not None:
    from comfy_api.latest import ComfyExtension, io

    from .nodes import NODE_CLASSES
    from .nodes.paths import register_folder

    class LatentSingularValueEdit(ComfyExtension):
        """The pack as ComfyUI's loader sees it: its node list."""

        async def get_node_list(self) -> list[type[io.ComfyNode]]:
            return list(NODE_CLASSES)

    async def comfy_entrypoint() -> LatentSingularValueEdit:
        # Registered here rather than in on_load, which 0.3.75 never calls.
        register_folder()
        return LatentSingularValueEdit()

    # Browser side: one small frontend extension (see web/js).
    WEB_DIRECTORY = "./web"

    __all__ = ["WEB_DIRECTORY", "comfy_entrypoint"]
