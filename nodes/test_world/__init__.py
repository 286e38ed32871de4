"""The semantic benchmark's two test worlds inside ComfyUI (see node.py)."""

from __future__ import annotations

from .node import LoadTestWorld

__all__ = ["LoadTestWorld"]
