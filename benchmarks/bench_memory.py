"""Peak memory of each svd_core operation against the size of its input.

tracemalloc does not see torch's allocations, so this measures the process's resident set
(RSS) instead, one fresh subprocess per (operation, shape):

1. import torch + svd_core, build the inputs (seeded), run the operation once on a tiny input
   so libraries (LAPACK kernels, the allocator's arenas) are paged in, ``gc.collect()``;
2. reset the kernel's peak-RSS counter (``echo 5 > /proc/self/clear_refs`` resets ``VmHWM``,
   Linux >= 4.0) and read the current ``VmRSS``;
3. run the operation once, keep its result alive, read ``VmHWM`` (the peak since the reset).

``peak_delta`` = ``VmHWM - VmRSS before``: the extra memory the operation needed at its peak,
result included. Where clear_refs is not writable, a 1 ms psutil RSS sampler thread is used
instead (it can miss a short spike; the JSON says which method ran). ``input_bytes`` is the
float32 latent ``[B, C, H, W]`` (for pair operations: one latent of the pair).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from benchmarks.timing import machine_info, table  # noqa: E402

OPERATIONS = (
    "decompose",
    "recompose",
    "scale_singular_values",
    "subspace_distance",
    "solve_pair",
    "learn_attribute",
    "apply_attribute",
)
FULL_SHAPES = ((1, 4, 64, 64), (1, 4, 128, 128), (4, 4, 128, 128), (16, 16, 128, 128))
QUICK_SHAPES = ((1, 4, 32, 32),)
#: learn_attribute on the largest shape is slow on 2 cores and adds nothing new.
LEARN_MAX_MATRICES = 64


def _status_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"{field} not in /proc/self/status")


def _can_reset_peak() -> bool:
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def _make(op: str, shape: tuple[int, ...], device: str = "cpu") -> tuple[Any, Any]:
    """(operation thunk, warm-up thunk) for ``op`` on a seeded latent of ``shape``."""
    import torch

    import svd_core as sc

    def inputs(shp: tuple[int, ...]) -> dict[str, Any]:
        gen = torch.Generator().manual_seed(0)
        x = torch.randn(shp, generator=gen)
        z = x + 0.3 * torch.randn(shp, generator=gen)
        return {"x": x.to(device), "z": z.to(device)}

    cfg = sc.AVIConfig()

    def build(shp: tuple[int, ...]) -> Any:
        d = inputs(shp)
        if op == "decompose":
            return lambda: sc.decompose(d["x"])
        sx, sz = sc.decompose(d["x"]), sc.decompose(d["z"])
        if op == "recompose":
            return lambda: sc.recompose(sx)
        if op == "scale_singular_values":
            return lambda: sc.scale_singular_values(sx, 2.0, [0, 1, 2])
        if op == "subspace_distance":
            return lambda: sc.subspace_distance(sx, sz, k=min(16, sx.rank))
        if op == "solve_pair":
            return lambda: sc.solve_pair(sx, sz, cfg)
        if op == "learn_attribute":
            return lambda: sc.learn_attribute(sx, sz, cfg)
        if op == "apply_attribute":
            attr = sc.learn_attribute(sx, sz, sc.AVIConfig(steps=2))
            return lambda: sc.apply_attribute(sx, attr, target=sz)
        raise ValueError(f"unknown operation {op!r}; one of {OPERATIONS}")

    tiny = (1, shape[1], 8, 8)
    return build(shape), build(tiny)


def measure_here(op: str, shape: tuple[int, ...]) -> dict[str, Any]:
    """Run in the fresh child process: the peak RSS increase of one ``op`` call."""
    import gc
    import threading
    import time

    import torch

    thunk, warm = _make(op, shape)
    warm()
    gc.collect()
    method = "VmHWM after clear_refs" if _can_reset_peak() else "psutil 1 ms sampler"
    before = _status_kib("VmRSS")
    if method.startswith("VmHWM"):
        t0 = time.perf_counter()
        result = thunk()
        seconds = time.perf_counter() - t0
        peak = _status_kib("VmHWM")
    else:
        import psutil

        proc, peak, done = psutil.Process(), before, threading.Event()

        def sample() -> None:
            nonlocal peak
            while not done.is_set():
                peak = max(peak, proc.memory_info().rss // 1024)
                time.sleep(0.001)

        th = threading.Thread(target=sample, daemon=True)
        th.start()
        t0 = time.perf_counter()
        result = thunk()
        seconds = time.perf_counter() - t0
        done.set()
        th.join()
        peak = max(peak, _status_kib("VmRSS"))
    after = _status_kib("VmRSS")
    del result
    n = 1
    for d in shape:
        n *= d
    input_bytes = n * torch.finfo(torch.float32).bits // 8
    return {
        "op": op,
        "shape": list(shape),
        "input_bytes": input_bytes,
        "rss_before_kib": before,
        "peak_kib": peak,
        "after_kib": after,
        "peak_delta_bytes": (peak - before) * 1024,
        "peak_over_input": (peak - before) * 1024 / input_bytes,
        "seconds": seconds,
        "method": method,
    }


def measure(
    ops: tuple[str, ...], shape: tuple[int, ...], timeout: float = 600
) -> list[dict[str, Any]]:
    """``measure_here`` for each of ``ops`` (in order) in one fresh Python process."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    proc = subprocess.run(
        [sys.executable, __file__, "--child", ",".join(ops), ",".join(map(str, shape))],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        cwd=str(REPO_ROOT),
    )
    if proc.returncode != 0:
        raise RuntimeError(f"memory child {ops} {shape} failed:\n{proc.stderr[-3000:]}")
    return [json.loads(line) for line in proc.stdout.strip().splitlines()[-len(ops) :]]


def measure_cuda(op: str, shape: tuple[int, ...], device: str = "cuda") -> dict[str, Any]:
    """Peak CUDA memory allocated by one ``op`` call beyond what was allocated before it
    (``torch.cuda.max_memory_allocated`` after ``reset_peak_memory_stats``; in-process: the
    caching allocator's own counters do not carry over between measurements)."""
    import time

    import torch

    thunk, warm = _make(op, shape, device)
    warm()
    torch.cuda.synchronize()
    before = torch.cuda.memory_allocated()
    torch.cuda.reset_peak_memory_stats()
    t0 = time.perf_counter()
    result = thunk()
    torch.cuda.synchronize()
    seconds = time.perf_counter() - t0
    peak = torch.cuda.max_memory_allocated()
    del result
    n = 1
    for d in shape:
        n *= d
    return {
        "op": op,
        "shape": list(shape),
        "input_bytes": n * 4,
        "peak_delta_bytes": peak - before,
        "peak_over_input": (peak - before) / (n * 4),
        "seconds": seconds,
        "method": "torch.cuda.max_memory_allocated",
    }


def run(
    quick: bool = False, ops: tuple[str, ...] = OPERATIONS, device: str = "cpu"
) -> dict[str, Any]:
    """Full: one fresh process per (operation, shape). Quick: one process runs every
    operation in turn on the small shape (the peak counter is reset before each).
    On CUDA every measurement runs in this process (see :func:`measure_cuda`)."""
    shapes = QUICK_SHAPES if quick else FULL_SHAPES
    rows: list[dict[str, Any]] = []
    for shape in shapes:
        todo = tuple(
            op
            for op in ops
            if not (op == "learn_attribute" and shape[0] * shape[1] > LEARN_MAX_MATRICES)
        )
        if device.startswith("cuda"):
            rows += [measure_cuda(op, shape, device) for op in todo]
        elif quick:
            rows += measure(todo, shape)
        else:
            for op in todo:
                rows += measure((op,), shape)
    return {
        "machine": machine_info(device),
        "device": device,
        "process_per_measurement": not quick and device == "cpu",
        "measurements": rows,
    }


def report(results: dict[str, Any]) -> str:
    body = [
        [
            m["op"],
            "x".join(map(str, m["shape"])),
            f"{m['input_bytes'] / 2**20:.2f}",
            f"{m['peak_delta_bytes'] / 2**20:.2f}",
            f"{m['peak_over_input']:.1f}x",
        ]
        for m in results["measurements"]
    ]
    method = {m["method"] for m in results["measurements"]}
    return (
        table(["operation", "latent", "input MiB", "peak +MiB", "peak/input"], body)
        + f"\n(peak increase per call, result included; method: "
        f"{', '.join(sorted(method))})"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--out-dir", type=Path, default=None)
    parser.add_argument("--child", nargs=2, metavar=("OPS", "SHAPE"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        shape = tuple(int(v) for v in args.child[1].split(","))
        for op in args.child[0].split(","):
            print(json.dumps(measure_here(op, shape)), flush=True)
        return 0
    from benchmarks.timing import write_results

    res = run(args.quick)
    print(report(res))
    print("wrote", write_results("memory_quick" if args.quick else "memory", res, args.out_dir))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
