"""An output node for test and benchmark graphs: it accepts any value and does nothing.

ComfyUI runs only what an output node needs, and a graph whose last node is not an output
node (a sampler, a failing decompose) is not a valid prompt; one of these on each end makes
every listed node run. Registered under the caller's own name (the reliability tests'
``LSERelSink``, the host benchmark's ``LSEBenchSink``).
"""

from __future__ import annotations

from typing import Any


class AnySink:
    """Test-only output node with one input, ``value``, of any socket type."""

    @classmethod
    def INPUT_TYPES(cls) -> dict[str, Any]:  # noqa: N802 - ComfyUI's API name
        return {"required": {"value": ("*", {"tooltip": "Anything; ignored."})}}

    RETURN_TYPES = ()
    FUNCTION = "sink"
    OUTPUT_NODE = True
    CATEGORY = "testing"

    @classmethod
    def VALIDATE_INPUTS(cls, input_types: dict[str, Any]) -> bool:  # noqa: N802
        return True  # any socket type may connect

    def sink(self, value: Any) -> dict[str, Any]:
        return {}
