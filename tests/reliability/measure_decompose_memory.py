"""Peak extra memory of ``svd_core.decompose`` on one latent, measured in THIS process.

Run as a script (a fresh process per measurement, so nothing else's allocations interfere):

    python tests/reliability/measure_decompose_memory.py 16,16,128,128 float32 [threads]

prints one JSON line: input_bytes (the latent as given), result_bytes (U, S, Vh), peak_delta
(bytes above the resident set before the call, at the peak, result included) and the method.

tracemalloc does not see torch's allocations, so the kernel's counters are used: the peak
resident set (``VmHWM``) is reset through ``/proc/self/clear_refs`` (Linux >= 4.0) right before
the call; where that is not writable a 1 ms psutil sampler thread records the peak instead.
"""

from __future__ import annotations

import gc
import json
import sys
import threading
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from svd_core import decompose  # noqa: E402


def _kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


def _reset_peak() -> bool:
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def main() -> None:
    shape = tuple(int(s) for s in sys.argv[1].split(","))
    dtype = getattr(torch, sys.argv[2] if len(sys.argv) > 2 else "float32")
    if len(sys.argv) > 3:
        torch.set_num_threads(int(sys.argv[3]))
    latent = torch.randn(shape, generator=torch.Generator().manual_seed(0)).to(dtype)
    decompose(torch.randn(2, 4, 16, 16))  # page in LAPACK and the allocator's arenas
    gc.collect()
    if _reset_peak():
        method = "VmHWM"
        before = _kib("VmRSS") * 1024
        svd = decompose(latent)
        peak = _kib("VmHWM") * 1024
    else:
        import psutil

        method = "psutil-1ms"
        proc = psutil.Process()
        before = proc.memory_info().rss
        peak_box = [before]
        done = threading.Event()

        def sample() -> None:
            while not done.is_set():
                peak_box[0] = max(peak_box[0], proc.memory_info().rss)
                done.wait(0.001)

        thread = threading.Thread(target=sample)
        thread.start()
        svd = decompose(latent)
        done.set()
        thread.join()
        peak = max(peak_box[0], proc.memory_info().rss)
    result = sum(t.numel() * t.element_size() for t in (svd.U, svd.S, svd.Vh))
    print(
        json.dumps(
            {
                "shape": list(shape),
                "dtype": str(dtype).removeprefix("torch."),
                "input_bytes": latent.numel() * latent.element_size(),
                "float32_input_bytes": latent.numel() * 4,
                "result_bytes": result,
                "peak_delta": peak - before,
                "method": method,
            }
        )
    )


if __name__ == "__main__":
    main()
