"""The text widgets' parsers, as the loaded pack uses them (index lists, file names)."""

from __future__ import annotations

import pytest
from harness.comfy_runtime import ComfyRuntime

pytestmark = pytest.mark.comfy


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0", [0]),
        ("0,1,2", [0, 1, 2]),
        ("0-3", [0, 1, 2, 3]),
        (" 5, 0 - 2 ;7 ", [0, 1, 2, 5, 7]),
        ("3,3,1", [1, 3]),
        ("", list(range(8))),
        ("all", list(range(8))),
    ],
)
def test_index_lists(comfy_runtime: ComfyRuntime, text: str, expected: list[int]) -> None:
    parsing = comfy_runtime.pack_module("svd_core.parsing")
    assert parsing.parse_index_list(text, 8, "channels", empty_means_all=True) == expected


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("-1", "negative"),
        ("1.5", '"1.5"'),
        ("8", "0..7"),
        ("2-9", "0..7"),
        ("4-2", "2-4"),
    ],
)
def test_bad_index_lists_say_what_to_write(
    comfy_runtime: ComfyRuntime, text: str, needle: str
) -> None:
    parsing = comfy_runtime.pack_module("svd_core.parsing")
    with pytest.raises(ValueError, match="indices") as info:
        parsing.parse_index_list(text, 8, "indices", empty_means_all=False)
    assert needle in str(info.value)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("smile", "smile.safetensors"),
        ("smile.safetensors", "smile.safetensors"),
        ("old man v2.1", "old man v2.1.safetensors"),
        ("  young_2 ", "young_2.safetensors"),
    ],
)
def test_good_file_names(comfy_runtime: ComfyRuntime, name: str, expected: str) -> None:
    paths = comfy_runtime.pack_module("nodes.paths")
    assert paths.checked_filename(name) == expected


def test_overlong_file_name_is_refused(comfy_runtime: ComfyRuntime) -> None:
    paths = comfy_runtime.pack_module("nodes.paths")
    with pytest.raises(ValueError, match="at most 128"):
        paths.checked_filename("a" * 200)


def _walk_graph(sampler: str, text: object, end: int = 3) -> dict:
    """Learn node "9" fed by decompositions of two samplers' latents (API prompt format)."""
    graph: dict = {
        "1": {"class_type": "CLIPTextEncode", "inputs": {"text": text, "clip": ["0", 1]}},
        "2": {
            "class_type": "CLIPTextEncodeSDXL",
            "inputs": {"text_g": "smiling", "clip": ["0", 1]},
        },
        "3": {
            "class_type": "ConditioningCombine",
            "inputs": {"conditioning_1": ["2", 0], "conditioning_2": ["2", 0]},
        },
    }
    for sid, positive, stop in (("4", "1", end), ("5", "3", end + 2)):
        graph[sid] = {
            "class_type": sampler,
            "inputs": {
                "positive": [positive, 0],
                "negative": ["1", 0],
                "steps": 10,
                "end_at_step": stop,
            },
        }
        graph[f"d{sid}"] = {"class_type": "LatentSVDDecompose", "inputs": {"latent": [sid, 0]}}
    graph["9"] = {
        "class_type": "LearnAttributeFromPair",
        "inputs": {"source": ["d4", 0], "target": ["d5", 0]},
    }
    return graph


def test_learn_provenance_follows_the_graph(comfy_runtime: ComfyRuntime) -> None:
    provenance = comfy_runtime.pack_module("nodes.provenance")
    walk = provenance.learn_provenance
    assert walk(_walk_graph("KSamplerAdvanced", "a person"), "9") == {
        "source_prompt": "a person",
        "target_prompt": "smiling",
        "pair_mode": "independent",
        "step": 3,
        "delta": 2,
    }
    # Both prompts continued from the same step-k latent for the same steps: branched pairs,
    # k is where the branches start and delta how far they run.
    branched = _walk_graph("KSamplerAdvanced", "a person", end=5)
    for sid in ("4", "5"):
        branched[sid]["inputs"].update(start_at_step=3, end_at_step=5, add_noise="disable")
    assert walk(branched, "9") == {
        "source_prompt": "a person",
        "target_prompt": "smiling",
        "pair_mode": "branched",
        "step": 3,
        "delta": 2,
    }
    # Branches of different lengths, or one that adds noise again, are neither pairing: the
    # prompts and an unreadable pairing (Apply says so) are recorded.
    unreadable = {
        "source_prompt": "a person",
        "target_prompt": "smiling",
        "pair_mode": "unreadable",
    }
    for change in ({"end_at_step": 6}, {"add_noise": "enable"}):
        odd = _walk_graph("KSamplerAdvanced", "a person", end=5)
        for sid in ("4", "5"):
            odd[sid]["inputs"].update(start_at_step=3, end_at_step=5, add_noise="disable")
        odd["5"]["inputs"].update(change)
        assert walk(odd, "9") == unreadable, change
    # No end step below the sampler's steps (a sampler run to the end): unreadable too.
    assert walk(_walk_graph("KSamplerAdvanced", "a person", end=10000), "9") == unreadable
    # A text that comes from another node's output is not recorded.
    assert "source_prompt" not in walk(_walk_graph("KSampler", ["7", 0]), "9")
    # No sampler upstream: the pairing is unreadable; no graph, or not this node's: nothing.
    assert walk({"9": {"inputs": {}}}, "9") == {"pair_mode": "unreadable"}
    assert walk(None, "9") == {} and walk(_walk_graph("KSampler", "x"), "missing") == {}
