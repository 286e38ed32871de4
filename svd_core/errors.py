"""Error types raised by svd_core.

Every error is a ``ValueError`` subclass whose message says what is wrong and how to fix it,
so a node can show it to a ComfyUI user unchanged.
"""

from __future__ import annotations


class SVDEditError(ValueError):
    """Bad input to an svd_core function (shape, dtype, rank, configuration...)."""


class AttributeFileError(SVDEditError):
    """An attribute file cannot be read: damaged, not an attribute, or from a newer version."""
