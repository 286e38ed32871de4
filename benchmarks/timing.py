"""Shared benchmark plumbing: median timing, the machine description, JSON results.

Every benchmark reports ratios against a baseline measured in the same run (the machine may be
shared, so absolute seconds drift; ratios measured back to back drift much less).
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
RESULTS_DIR = REPO_ROOT / "benchmarks" / "results"


@dataclass(frozen=True)
class Timing:
    """Wall-clock seconds of ``reps`` repetitions (after ``warmup`` untimed calls)."""

    median_s: float
    min_s: float
    max_s: float
    reps: int

    @classmethod
    def of(cls, samples: list[float]) -> Timing:
        if not samples:
            raise ValueError("no timing samples")
        return cls(statistics.median(samples), min(samples), max(samples), len(samples))

    def to_dict(self) -> dict[str, float | int]:
        return asdict(self)


def time_call(
    fn: Callable[[], object], reps: int, warmup: int = 1, sync: Callable[[], None] | None = None
) -> Timing:
    """Median wall time of ``fn()``; ``sync`` (e.g. ``torch.cuda.synchronize``) runs before
    each clock read so asynchronous device work is inside the interval."""
    for _ in range(warmup):
        fn()
    if sync is not None:
        sync()
    samples = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        if sync is not None:
            sync()
        samples.append(time.perf_counter() - t0)
    return Timing.of(samples)


def cpu_model() -> str:
    """The first ``model name`` of /proc/cpuinfo (what the README quotes)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def load_average() -> tuple[float, float, float] | None:
    try:
        return os.getloadavg()
    except OSError:
        return None


def machine_info(device: str = "cpu") -> dict[str, Any]:
    """Facts a reader needs to weigh the numbers: cores, CPU, torch, load when measured."""
    import torch

    info: dict[str, Any] = {
        "nproc": os.cpu_count(),
        "cpu_model": cpu_model(),
        "torch": torch.__version__,
        "torch_threads": torch.get_num_threads(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "load_average": load_average(),
        "utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    try:
        import psutil

        info["memory_gib"] = round(psutil.virtual_memory().total / 2**30, 1)
    except ImportError:
        pass
    if device.startswith("cuda") and torch.cuda.is_available():
        info["gpu"] = torch.cuda.get_device_name(0)
        info["cuda"] = torch.version.cuda
    return info


def write_results(name: str, data: dict[str, Any], folder: Path | None = None) -> Path:
    """Write ``data`` to ``<folder>/<name>.json`` (atomically: temp name, then replace)."""
    folder = RESULTS_DIR if folder is None else folder
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.json"
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=1, sort_keys=False, default=str) + "\n")
    os.replace(tmp, path)
    return path


def fmt_ratio(x: float | None) -> str:
    return "-" if x is None else f"{x:.2f}x"


def fmt_seconds(x: float | None) -> str:
    if x is None:
        return "-"
    if x < 1e-3:
        return f"{x * 1e6:.0f} us"
    if x < 1:
        return f"{x * 1e3:.1f} ms"
    return f"{x:.2f} s"


def table(headers: list[str], rows: list[list[str]]) -> str:
    """A plain fixed-width text table."""
    widths = [
        max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)
    ]
    line = "  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True))
    out = [line, "  ".join("-" * w for w in widths)]
    out += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    return "\n".join(out)
