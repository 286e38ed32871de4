"""The text widgets' parsers, as the loaded pack uses them (index lists, file names)."""

from __future__ import annotations

import pytest
from harness.comfy_runtime import ComfyRuntime

pytestmark = pytest.mark.comfy


@pytest.mark.parametrize(("text", "expected"), [
    ("0", [0]),
    ("0,1,2", [0, 1, 2]),
    ("0-3", [0, 1, 2, 3]),
    (" 5, 0 - 2 ;7 ", [0, 1, 2, 5, 7]),
    ("3,3,1", [1, 3]),
    ("", list(range(8))),
    ("all", list(range(8))),
])
def test_index_lists(comfy_runtime: ComfyRuntime, text: str, expected: list[int]) -> None:
    parsing = comfy_runtime.pack_module("nodes.parsing")
    assert parsing.parse_index_list(text, 8, "channels", empty_means_all=True) == expected


@pytest.mark.parametrize(("text", "needle"), [
    ("-1", "negative"), ("1.5", '"1.5"'), ("8", "0..7"), ("2-9", "0..7"), ("4-2", "2-4"),
])
def test_bad_index_lists_say_what_to_write(comfy_runtime: ComfyRuntime, text: str,
                                           needle: str) -> None:
    parsing = comfy_runtime.pack_module("nodes.parsing")
    with pytest.raises(ValueError, match="indices") as info:
        parsing.parse_index_list(text, 8, "indices", empty_means_all=False)
    assert needle in str(info.value)


@pytest.mark.parametrize(("name", "expected"), [
    ("smile", "smile.safetensors"),
    ("smile.safetensors", "smile.safetensors"),
    ("old man v2.1", "old man v2.1.safetensors"),
    ("  young_2 ", "young_2.safetensors"),
])
def test_good_file_names(comfy_runtime: ComfyRuntime, name: str, expected: str) -> None:
    paths = comfy_runtime.pack_module("nodes.paths")
    assert paths.checked_filename("Save", name) == expected


def test_overlong_file_name_is_refused(comfy_runtime: ComfyRuntime) -> None:
    paths = comfy_runtime.pack_module("nodes.paths")
    with pytest.raises(ValueError, match="at most 128"):
        paths.checked_filename("Save", "a" * 200)
