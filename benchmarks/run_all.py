"""Every benchmark of the pack in one command: a table per section, one JSON file.

    $LSE_VENV/bin/python benchmarks/run_all.py            # full run (CPU), ~30-60 min
    $LSE_VENV/bin/python benchmarks/run_all.py --quick    # code paths only, ~2-5 min
    python3 benchmarks/run_all.py --device cuda --only core,learn,memory   # GPU (gpu_bench.sh)

Sections (each reports ratios against a baseline measured in the same run, medians):

* ``core``: ``recompose(decompose(L))`` against a bare batched ``torch.linalg.svd`` + matmul
  and a naive per-matrix numpy loop, for ``L [B, C, H, W]``, B in {1, 4, 16}, C in {4, 16},
  H = W in {64, 96, 128} (``bench_core.bench_decompose``);
* ``learn``: ``learn_attribute`` (defaults) against ``solve_pair`` on a ``[1, 4, 96, 96]`` pair,
  and how close training gets to the exact optimum (``bench_core.bench_avi``);
* ``host``: the pack's nodes against the sampler nodes inside a real ComfyUI run, and UNet
  evaluations per edited image (``bench_host.py``, in a subprocess: ComfyUI boots once per
  process);
* ``memory``: peak RSS of each core operation against its input size (``bench_memory.py``).

Writes ``benchmarks/results/all.json`` (``all_quick.json`` with ``--quick``; ``--out-dir``
elsewhere) with the machine description.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from benchmarks.timing import (  # noqa: E402
    fmt_ratio,
    fmt_seconds,
    machine_info,
    table,
    write_results,
)

SECTIONS = ("core", "learn", "host", "memory")
CORE_BATCHES = (1, 4, 16)
CORE_CHANNELS = (4, 16)
CORE_SIZES = (64, 96, 128)
QUICK_CORE_SHAPES = ((1, 4, 32, 32), (2, 4, 32, 32))
CORE_GOAL = 1.3  # decompose + recompose within 1.3x of bare torch
LEARN_GOAL_S = 1.0  # learn_attribute defaults on [1, 4, 96, 96], 2-core CPU


def core_shapes(quick: bool) -> list[tuple[int, int, int, int]]:
    if quick:
        return list(QUICK_CORE_SHAPES)
    return [(b, c, h, h) for c in CORE_CHANNELS for h in CORE_SIZES for b in CORE_BATCHES]


def run_core(quick: bool, reps: int, device: str) -> dict[str, Any]:
    """The decompose + recompose sweep; one entry per shape."""
    from benchmarks.bench_core import bench_decompose

    points = []
    for shape in core_shapes(quick):
        r = bench_decompose(reps, device, shape=shape)
        t = r["times"]
        points.append(
            {
                "shape": list(shape),
                "ours_s": t["ours"]["median_s"],
                "bare_torch_s": t["bare_torch"]["median_s"],
                "numpy_loop_s": t["numpy_loop"]["median_s"],
                "ours_over_bare": r["ratio_vs_bare_torch"],
                "numpy_over_ours": r["speedup_vs_numpy_loop"],
                "round_trip_rel_error": r["round_trip_rel_error"],
                "times": t,
            }
        )
    ratios = [p["ours_over_bare"] for p in points]
    return {
        "reps": reps,
        "device": device,
        "goal_ours_over_bare": CORE_GOAL,
        "points": points,
        "max_ours_over_bare": max(ratios),
        "median_ours_over_bare": sorted(ratios)[len(ratios) // 2],
        "all_within_goal": all(r <= CORE_GOAL for r in ratios),
    }


def run_learn(reps: int, device: str) -> dict[str, Any]:
    from benchmarks.bench_core import bench_avi

    r = bench_avi(reps, device)
    learn = r["times"]["learn_attribute"]["median_s"]
    return {
        **r,
        "learn_s": learn,
        "solve_s": r["times"]["solve_pair"]["median_s"],
        "goal_learn_s": LEARN_GOAL_S,
        "learn_within_goal": learn <= LEARN_GOAL_S,
    }


def run_host(quick: bool, out_dir: Path, extra: list[str]) -> dict[str, Any]:
    """bench_host.py in its own process (ComfyUI's globals are per process)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    cmd = [
        sys.executable,
        str(REPO_ROOT / "benchmarks" / "bench_host.py"),
        "--out-dir",
        str(out_dir),
        *(["--quick"] if quick else []),
        *extra,
    ]
    proc = subprocess.run(cmd, env=env, cwd=str(REPO_ROOT), capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(
            f"bench_host.py failed (rc {proc.returncode}):\n"
            f"{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}"
        )
    return json.loads((out_dir / ("host_quick.json" if quick else "host.json")).read_text())


def run_memory(quick: bool, device: str) -> dict[str, Any]:
    from benchmarks.bench_memory import run

    return run(quick=quick, device=device)


# --- tables -------------------------------------------------------------------------------


def core_table(core: dict[str, Any]) -> str:
    rows = [
        [
            "x".join(map(str, p["shape"])),
            fmt_seconds(p["ours_s"]),
            fmt_seconds(p["bare_torch_s"]),
            fmt_seconds(p["numpy_loop_s"]),
            fmt_ratio(p["ours_over_bare"]),
            fmt_ratio(p["numpy_over_ours"]),
        ]
        for p in core["points"]
    ]
    return (
        table(
            ["latent [B,C,H,W]", "ours", "bare torch", "numpy loop", "ours/bare", "numpy/ours"],
            rows,
        )
        + f"\nmax ours/bare {core['max_ours_over_bare']:.3f} (goal <= {CORE_GOAL}); "
        f"{core['reps']} reps, medians, device {core['device']}"
    )


def learn_table(learn: dict[str, Any]) -> str:
    conv = learn["convergence"]
    rows = [
        ["learn_attribute (defaults)", fmt_seconds(learn["learn_s"])],
        ["solve_pair (exact optimum)", fmt_seconds(learn["solve_s"])],
        ["learn / solve", fmt_ratio(learn["learn_over_solve"])],
    ]
    rows += [[f"final/optimum loss ({k})", f"{v['ratio']:.5f}"] for k, v in conv.items()]
    return (
        table(["[1,4,96,96] pair", "value"], rows) + f"\nlearning goal <= {LEARN_GOAL_S:.0f} s: "
        f"{'met' if learn['learn_within_goal'] else 'NOT met'}"
    )


def host_table(host: dict[str, Any]) -> str:
    from benchmarks.bench_host import report

    return report(host)


def memory_table(memory: dict[str, Any]) -> str:
    from benchmarks.bench_memory import report

    return report(memory)


TABLES = {"core": core_table, "learn": learn_table, "host": host_table, "memory": memory_table}


def check_finite(obj: Any, path: str = "") -> list[str]:
    """Paths of non-finite floats anywhere in ``obj`` (a result must never hide a NaN)."""
    bad: list[str] = []
    if isinstance(obj, float) and not math.isfinite(obj):
        bad.append(path)
    elif isinstance(obj, dict):
        for k, v in obj.items():
            bad += check_finite(v, f"{path}.{k}")
    elif isinstance(obj, list | tuple):
        for i, v in enumerate(obj):
            bad += check_finite(v, f"{path}[{i}]")
    return bad


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--quick",
        action="store_true",
        help="small shapes, 1-2 reps, tiny host model: checks the code paths",
    )
    parser.add_argument(
        "--only", default=",".join(SECTIONS), help=f"comma list of sections: {','.join(SECTIONS)}"
    )
    parser.add_argument("--device", default="cpu", help="cpu or cuda (core/learn/memory)")
    parser.add_argument(
        "--reps", type=int, default=None, help="timing repetitions (default 7, quick 2)"
    )
    parser.add_argument(
        "--out-dir", type=Path, default=None, help="where JSON goes (default benchmarks/results)"
    )
    parser.add_argument(
        "--host-args", default="", help='extra bench_host.py arguments, e.g. "--models tiny"'
    )
    parser.add_argument("--note", default="", help="free text stored with the results")
    parser.add_argument("--name", default="", help="JSON file stem (default all / all_quick)")
    args = parser.parse_args(argv)

    sections = [s for s in args.only.split(",") if s]
    unknown = set(sections) - set(SECTIONS)
    if unknown:
        parser.error(f"unknown sections {sorted(unknown)}; choose from {SECTIONS}")
    if args.device != "cpu" and "host" in sections:
        parser.error("the host section runs ComfyUI on CPU; leave it out with --device cuda")
    reps = args.reps or (2 if args.quick else 7)
    out_dir = args.out_dir or REPO_ROOT / "benchmarks" / "results"
    out_dir.mkdir(parents=True, exist_ok=True)

    results: dict[str, Any] = {
        "machine": machine_info(args.device),
        "quick": args.quick,
        "reps": reps,
        "note": args.note,
        "sections": {},
        "seconds": {},
        "complete": False,
    }
    stem = "all_quick" if args.quick else "all"
    if args.device != "cpu":
        stem += f"_{args.device.split(':')[0]}"
    if args.name:
        stem = args.name
    for name in sections:
        t0 = time.perf_counter()
        if name == "core":
            res = run_core(args.quick, reps, args.device)
        elif name == "learn":
            res = run_learn(1 if args.quick else reps, args.device)
        elif name == "host":
            res = run_host(args.quick, out_dir, args.host_args.split())
        else:
            res = run_memory(args.quick, args.device)
        results["sections"][name] = res
        results["seconds"][name] = round(time.perf_counter() - t0, 1)
        print(f"\n== {name} ({results['seconds'][name]:.0f} s) ==")
        print(TABLES[name](res), flush=True)
        write_results(stem, results, out_dir)  # a long run keeps what it finished
    results["machine_after"] = {"load_average": machine_info(args.device)["load_average"]}
    bad = check_finite(results["sections"])
    results["non_finite"] = bad
    results["complete"] = True
    path = write_results(stem, results, out_dir)
    print(
        f"\nmachine: {results['machine']['nproc']} CPUs, {results['machine']['cpu_model']}, "
        f"torch {results['machine']['torch']}, load {results['machine']['load_average']}"
    )
    print(f"wrote {path}")
    if bad:
        print(f"NON-FINITE values: {bad}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
