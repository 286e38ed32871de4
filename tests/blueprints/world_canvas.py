"""One canvas on the test world, copied once per seed into a single prompt (the blueprints'
end-to-end tests on the test world)."""

from __future__ import annotations

from typing import Any

STRENGTH = 1.5
SENTINEL_SEED = 987_654_321  # the canvas's seed, replaced by each seed in the copies
WIDGETS = {
    "source_prompt": "",
    "target_prompt": "smiling",
    "negative_prompt": "",
    "seed": SENTINEL_SEED,
    "steps": 20,
    "cfg": 7.0,
    "edit_step": 6,
    "delta": 2,
    "strength": STRENGTH,
    "width": 128,
    "height": 128,
}


def per_seed(prompt: dict[str, Any], seeds: range) -> dict[str, Any]:
    """``prompt`` once per seed in one prompt: ids prefixed, the sentinel seed replaced."""
    out: dict[str, Any] = {}
    for seed in seeds:
        for nid, node in prompt.items():
            inputs = {}
            for key, value in node["inputs"].items():
                if isinstance(value, list) and len(value) == 2 and isinstance(value[0], str):
                    value = [f"s{seed}.{value[0]}", value[1]]
                elif value == SENTINEL_SEED:
                    value = seed
                elif key == "filename_prefix":
                    value = f"world_e2e/{value}_{seed:02d}"
                inputs[key] = value
            out[f"s{seed}.{nid}"] = {**node, "inputs": inputs}
    return out
