"""The 'Try it on the test world' template runs as shipped (no reduction) on the real server and
shows what it says: the edited column smiles, the rest of each face is kept, in well under a
minute of execution on a CPU."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from harness.server import ComfyServer
from harness.workflow_format import NodeSpec, ui_to_api
from workflows.support import WORKFLOW_DIR, load_workflow
from workflows.world_readout import identity_kept, read_columns, smiles

pytestmark = [pytest.mark.comfy, pytest.mark.slow]

NAME = "try_on_test_world"
BATCH = 8
#: Execution on the server, as a user runs it. Measured on the 2-core CI machine at load ~2:
#: 1.9 s (ComfyUI 0.3.75) and 6.6 s (0.33.0); shared with other jobs at load 8, up to 59 s
#: (the server's two torch threads spin against them). The bound leaves room for that.
EXECUTION_LIMIT_S = 120.0


def _execution_seconds(entry: dict[str, Any]) -> float:
    stamps = {event: data["timestamp"] for event, data in entry["status"]["messages"]}
    return (stamps["execution_success"] - stamps["execution_start"]) / 1000.0


@pytest.fixture(scope="module")
def shipped_run(
    comfy_server: ComfyServer, specs: dict[str, NodeSpec]
) -> tuple[dict[str, Any], list[Path], float]:
    prompt = ui_to_api(load_workflow(WORKFLOW_DIR / f"{NAME}.json"), specs)
    t0 = time.perf_counter()
    entry = comfy_server.run_prompt(prompt, timeout=600)
    wall = time.perf_counter() - t0
    (save,) = [nid for nid, node in prompt.items() if node["class_type"] == "SaveImage"]
    files = sorted(comfy_server.output_files(entry)[save])
    print(f"\n{NAME}: execution {_execution_seconds(entry):.1f} s, wall {wall:.1f} s")
    return entry, files, wall


def test_the_template_needs_no_model_file() -> None:
    wf = load_workflow(WORKFLOW_DIR / f"{NAME}.json")
    types = {n["type"] for n in wf["nodes"]}
    assert "LoadTestWorld" in types and "CheckpointLoaderSimple" not in types
    assert Path(WORKFLOW_DIR / f"{NAME}.jpg").is_file(), "the Templates browser's thumbnail"


def test_the_template_runs_as_shipped_in_seconds(
    shipped_run: tuple[dict[str, Any], list[Path], float],
) -> None:
    entry, files, _ = shipped_run
    assert len(files) == BATCH  # one row per new seed
    assert _execution_seconds(entry) < EXECUTION_LIMIT_S


def test_the_edited_column_smiles_and_keeps_the_faces(
    shipped_run: tuple[dict[str, Any], list[Path], float],
) -> None:
    _, files, _ = shipped_run
    unedited, edited, window = read_columns(files)
    # Measured when the template was made: 2 of 8 smile unedited, 7 edited, 8 in the window;
    # every other attribute kept on 8 of 8 in both.
    assert smiles(edited).sum() >= 6 > smiles(unedited).sum()
    assert smiles(window).sum() >= 6
    assert identity_kept(edited, unedited).sum() >= 6
    assert identity_kept(window, unedited).sum() >= 6
