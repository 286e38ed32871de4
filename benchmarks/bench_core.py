"""Speed of svd_core against baselines measured in the same run.

    python benchmarks/bench_core.py [--reps 7] [--threads 1 0] [--device cpu]

For every thread setting (0 = torch's default) it measures, as medians over ``--reps``
repetitions with the candidates interleaved (so drifting machine load hits all alike):

1. ``recompose(decompose(L))`` of ``L [8, 4, 128, 128]`` float32, against a bare batched
   ``torch.linalg.svd`` + ``(U * S) @ Vh`` on the same tensor, and against a naive
   per-matrix numpy loop (``np.linalg.svd`` + reconstruction for each of the 32 matrices);
2. ``learn_attribute`` with default settings on a ``[1, 4, 96, 96]`` pair (inputs already
   decomposed), beside ``solve_pair`` (the exact optimum) on the same pair;
3. ``final_loss / optimum_loss`` with defaults on a random and a structured pair.

Prints a table and writes ``benchmarks/results/core.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from svd_core import (  # noqa: E402
    AVIConfig,
    decompose,
    learn_attribute,
    recompose,
    solve_pair,
)

RESULTS = ROOT / "benchmarks" / "results" / "core.json"


def _sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def interleaved(fns: dict[str, Callable[[], object]], reps: int, device: str) -> dict[str, dict]:
    """Median/min/all wall times (seconds) of each function, interleaved rep by rep."""
    for f in fns.values():  # warm-up (lazy init, allocator, caches)
        f()
    _sync(device)
    times: dict[str, list[float]] = {k: [] for k in fns}
    names = list(fns)
    for rep in range(reps):
        # Alternate the order so neither candidate always runs right after the other.
        for k in names if rep % 2 == 0 else names[::-1]:
            f = fns[k]
            _sync(device)
            t0 = time.perf_counter()
            f()
            _sync(device)
            times[k].append(time.perf_counter() - t0)
    return {
        k: {"median_s": statistics.median(v), "min_s": min(v), "all_s": v} for k, v in times.items()
    }


def bench_decompose(reps: int, device: str, shape: tuple[int, ...] = (8, 4, 128, 128)) -> dict:
    g = torch.Generator().manual_seed(0)
    x = torch.randn(*shape, generator=g).to(device)
    x_np = x.cpu().numpy()

    def ours() -> torch.Tensor:
        return recompose(decompose(x))

    def bare() -> torch.Tensor:
        u, s, vh = torch.linalg.svd(x, full_matrices=False)
        return (u * s.unsqueeze(-2)) @ vh

    def numpy_loop() -> np.ndarray:
        out = np.empty_like(x_np)
        flat_in = x_np.reshape(-1, *x_np.shape[-2:])
        flat_out = out.reshape(flat_in.shape)
        for i in range(flat_in.shape[0]):
            u, s, vh = np.linalg.svd(flat_in[i], full_matrices=False)
            flat_out[i] = (u * s) @ vh
        return out

    err = float((ours() - x).abs().max() / x.abs().max())
    t = interleaved({"ours": ours, "bare_torch": bare}, reps, device)
    # Separately: numpy's BLAS threads keep spinning after a call and would slow whatever
    # runs next, so the naive loop is not interleaved with the two torch candidates.
    t.update(interleaved({"numpy_loop": numpy_loop}, max(3, reps // 2), device))
    return {
        "shape": list(x.shape),
        "times": t,
        "ratio_vs_bare_torch": t["ours"]["median_s"] / t["bare_torch"]["median_s"],
        "speedup_vs_numpy_loop": t["numpy_loop"]["median_s"] / t["ours"]["median_s"],
        "round_trip_rel_error": err,
    }


def _pairs(device: str) -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
    g = torch.Generator().manual_seed(1)
    shape = (1, 4, 96, 96)
    x = torch.randn(*shape, generator=g)
    z = torch.randn(*shape, generator=g)

    def low_rank(rank: int) -> torch.Tensor:
        a = torch.randn(1, 4, 96, rank, generator=g)
        b = torch.randn(1, 4, rank, 96, generator=g)
        return (a @ b) / rank**0.5

    xs = low_rank(8) + 0.3 * torch.randn(*shape, generator=g)
    zs = xs + 0.6 * low_rank(3) + 0.1 * torch.randn(*shape, generator=g)
    return {"random": (x.to(device), z.to(device)), "structured": (xs.to(device), zs.to(device))}


def bench_avi(reps: int, device: str) -> dict:
    pairs = _pairs(device)
    sx, sz = (decompose(t) for t in pairs["random"])
    cfg = AVIConfig()
    t = interleaved(
        {
            "learn_attribute": lambda: learn_attribute(sx, sz, cfg),
            "solve_pair": lambda: solve_pair(sx, sz, cfg),
        },
        reps,
        device,
    )
    convergence = {}
    for name, (x, z) in pairs.items():
        a = learn_attribute(decompose(x), decompose(z), cfg)
        convergence[name] = {
            "final_loss": a.final_loss,
            "optimum_loss": a.optimum_loss,
            "ratio": a.final_loss / a.optimum_loss,
            "initial_loss": float(a.loss_history[0]),
        }
    return {
        "shape": [1, 4, 96, 96],
        "config": cfg.to_dict(),
        "times": t,
        "learn_over_solve": t["learn_attribute"]["median_s"] / t["solve_pair"]["median_s"],
        "convergence": convergence,
    }


def _load() -> list[float] | None:
    try:
        return list(os.getloadavg())
    except OSError:
        return None


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--reps", type=int, default=7)
    ap.add_argument(
        "--threads",
        type=int,
        nargs="+",
        default=[0],
        help="torch intra-op thread counts to run; 0 = torch's default",
    )
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--out", type=Path, default=RESULTS)
    args = ap.parse_args()

    default_threads = torch.get_num_threads()
    runs = []
    for th in args.threads:
        torch.set_num_threads(th if th > 0 else default_threads)
        load_before = _load()
        dec = bench_decompose(args.reps, args.device)
        avi = bench_avi(args.reps, args.device)
        runs.append(
            {
                "threads": torch.get_num_threads(),
                "loadavg_before": load_before,
                "loadavg_after": _load(),
                "decompose_recompose": dec,
                "learn_attribute": avi,
            }
        )
    torch.set_num_threads(default_threads)

    machine = {
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "numpy": np.__version__,
        "device": args.device,
        "device_name": torch.cuda.get_device_name() if args.device.startswith("cuda") else "cpu",
    }
    result = {
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "reps": args.reps,
        "machine": machine,
        "runs": runs,
    }

    print(
        f"machine: {machine['processor']}, {machine['cpu_count']} CPUs, "
        f"torch {machine['torch']}, device {machine['device_name']}, "
        f"{args.reps} reps, medians"
    )
    for r in runs:
        d, a = r["decompose_recompose"], r["learn_attribute"]
        dt, at = d["times"], a["times"]
        print(
            f"\n-- threads={r['threads']}  load avg before/after: "
            f"{r['loadavg_before']} / {r['loadavg_after']}"
        )
        print(f"{'measurement':44s} {'median':>10s} {'min':>10s}")
        for label, item in [
            ("decompose+recompose [8,4,128,128]", dt["ours"]),
            ("bare torch.linalg.svd + matmul", dt["bare_torch"]),
            ("numpy per-matrix loop", dt["numpy_loop"]),
            ("learn_attribute defaults [1,4,96,96]", at["learn_attribute"]),
            ("solve_pair [1,4,96,96]", at["solve_pair"]),
        ]:
            print(f"{label:44s} {item['median_s'] * 1e3:8.2f}ms {item['min_s'] * 1e3:8.2f}ms")
        print(f"ratio ours / bare torch: {d['ratio_vs_bare_torch']:.3f}  (goal <= 1.3)")
        print(f"speed-up vs numpy loop:  {d['speedup_vs_numpy_loop']:.2f}x")
        print(
            f"learn_attribute / solve_pair: {a['learn_over_solve']:.1f}x  (goal: learn <= 1 s;"
            f" median {at['learn_attribute']['median_s']:.3f} s)"
        )
        for name, c in a["convergence"].items():
            print(
                f"final/optimum loss ({name}): {c['ratio']:.5f}  "
                f"(final {c['final_loss']:.6f}, optimum {c['optimum_loss']:.6f}, "
                f"initial {c['initial_loss']:.6f})"
            )

    args.out.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.out.with_name(args.out.name + ".tmp")
    tmp.write_text(json.dumps(result, indent=2) + "\n")
    os.replace(tmp, args.out)
    print(f"\nwrote {args.out.relative_to(ROOT) if args.out.is_relative_to(ROOT) else args.out}")


if __name__ == "__main__":
    main()
