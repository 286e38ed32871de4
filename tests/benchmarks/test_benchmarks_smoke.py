"""The benchmark suite's code paths in --quick mode: output shape and sanity, never timings.

The CI machine is shared, so no test here compares a time with a threshold. What must hold
on any machine: every figure is finite and positive, the core sweep covers the grid the README
documents, memory figures are consistent, and the UNet evaluations counted inside a real
ComfyUI run equal the formula (plain N; edited k + (k + delta) + (N - k); reuse N).
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from benchmarks import bench_memory, run_all

REPO = Path(__file__).resolve().parents[2]


def _positive(value: Any, what: str) -> None:
    assert isinstance(value, int | float), f"{what} is {value!r}"
    assert math.isfinite(value) and value > 0, f"{what} = {value}"


def test_full_core_grid_is_the_documented_one() -> None:
    shapes = run_all.core_shapes(quick=False)
    assert len(shapes) == len(set(shapes)) == 3 * 2 * 3
    assert {s[0] for s in shapes} == {1, 4, 16}
    assert {s[1] for s in shapes} == {4, 16}
    assert {(s[2], s[3]) for s in shapes} == {(64, 64), (96, 96), (128, 128)}


def test_core_and_learning_quick() -> None:
    core = run_all.run_core(quick=True, reps=1, device="cpu")
    assert [p["shape"] for p in core["points"]] == [list(s) for s in run_all.QUICK_CORE_SHAPES]
    for p in core["points"]:
        for key in ("ours_s", "bare_torch_s", "numpy_loop_s", "ours_over_bare", "numpy_over_ours"):
            _positive(p[key], f"{p['shape']} {key}")
        # the ratios are the medians' ratios, not something else
        assert p["ours_over_bare"] == pytest.approx(p["ours_s"] / p["bare_torch_s"])
        assert p["round_trip_rel_error"] < 1e-5
    assert core["max_ours_over_bare"] == max(p["ours_over_bare"] for p in core["points"])
    assert "max ours/bare" in run_all.core_table(core)

    learn = run_all.run_learn(reps=1, device="cpu")
    _positive(learn["learn_s"], "learn_s")
    _positive(learn["solve_s"], "solve_s")
    assert learn["learn_over_solve"] == pytest.approx(learn["learn_s"] / learn["solve_s"])
    for name, conv in learn["convergence"].items():
        # the exact optimum is a lower bound of what training reaches
        assert conv["final_loss"] >= conv["optimum_loss"] * (1 - 1e-6), name
        _positive(conv["ratio"], f"{name} final/optimum")
    assert "learn / solve" in run_all.learn_table(learn)


def test_memory_quick() -> None:
    ops = ("decompose", "learn_attribute")
    res = bench_memory.run(quick=True, ops=ops)
    rows = res["measurements"]
    assert [m["op"] for m in rows] == list(ops) * len(bench_memory.QUICK_SHAPES)
    for m in rows:
        n = math.prod(m["shape"])
        assert m["input_bytes"] == 4 * n
        assert m["peak_kib"] >= m["rss_before_kib"] > 0
        assert m["peak_delta_bytes"] == (m["peak_kib"] - m["rss_before_kib"]) * 1024
        assert 0 <= m["peak_delta_bytes"] < 2**30
        _positive(m["seconds"], "seconds")
    assert "peak/input" in bench_memory.report(res)


@pytest.mark.comfy
def test_host_quick_counts_unet_calls_by_the_formula(tmp_path: Path) -> None:
    if not (
        os.environ.get("COMFYUI_PATH") and Path(os.environ["COMFYUI_PATH"], "main.py").is_file()
    ):
        pytest.skip("COMFYUI_PATH is not set: run scripts/setup.sh and source env.sh")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    proc = subprocess.run(
        [
            sys.executable,
            str(REPO / "benchmarks" / "bench_host.py"),
            "--quick",
            "--out-dir",
            str(tmp_path),
        ],
        cwd=str(REPO),
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    data = json.loads((tmp_path / "host_quick.json").read_text())
    assert set(data["models"]) == {"tiny"}
    r = data["models"]["tiny"]
    s = r["settings"]
    n, k, d = s["steps"], s["k"], s["delta"]
    calls = {g: c["calls"] for g, c in r["unet_calls"].items()}
    assert calls == {"plain": n, "edit": n + k + d, "reuse": n}
    # CFG evaluates cond and uncond in one batched call: 2 rows per call at batch 1
    assert all(c["rows"] == 2 * c["calls"] for c in r["unet_calls"].values())
    assert sorted(r["unet_calls_per_sampler_node"].values()) == sorted([k, k + d, n - k])
    assert r["unet_calls_match_formula"] is True
    for key in (
        "pack_s",
        "sampler_s",
        "pack_over_sampler",
        "pack_over_sampler_cpu",
        "plain_sampler_s",
        "edit_over_plain_sampler",
        "reuse_pack_over_sampler",
    ):
        _positive(r[key], key)
    assert r["pack_over_sampler"] == pytest.approx(r["pack_s"] / r["sampler_s"])
    assert 0.5 < r["coverage"] <= 1.0 + 1e-9
    # every pack node of the graph was timed, under its own class name
    for node in (
        "LatentSVDDecompose",
        "LearnAttributeFromPair",
        "ApplySingularEdit",
        "LatentRecompose",
    ):
        assert node in r["node_s"]
    assert "pack/sampler" in run_all.host_table(data)
