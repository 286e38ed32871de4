"""Fuzz the attribute-file loader with >= 10,000 hostile inputs.

Runs the generator of tests/reliability/test_attribute_fuzz.py (hypothesis; mutations of
valid attribute files: byte flips, truncations, header-length and JSON header edits, metadata
JSON edits, non-finite tensor data, pickles) and checks that ``svd_core.load_attribute`` raises
nothing but ``AttributeFileError`` (or returns a valid Attribute). Prints the count, the time
and the outcome counts; exits non-zero on the first other exception (with hypothesis's
minimal failing example).

    $LSE_VENV/bin/python benchmarks/fuzz_attribute_loader.py [--examples 10000]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import platform
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _fuzz_module():
    sys.path.insert(0, str(ROOT))  # svd_core
    path = ROOT / "tests" / "reliability" / "test_attribute_fuzz.py"
    spec = importlib.util.spec_from_file_location("lse_attribute_fuzz", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=10_000)
    args = parser.parse_args()
    fuzz = _fuzz_module()
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        outcomes = fuzz.run_fuzz(args.examples, Path(tmp))
    elapsed = time.perf_counter() - start
    total = sum(outcomes.counts.values())
    print(
        json.dumps(
            {
                "inputs": total,
                "seconds": round(elapsed, 1),
                "per_input_ms": round(1000 * elapsed / max(total, 1), 2),
                "outcomes": dict(outcomes.counts),
                "other_exceptions": 0,
                "machine": f"{platform.processor() or platform.machine()}, "
                f"{platform.python_version()}",
            },
            indent=1,
        )
    )
    return 0 if total >= args.examples else 1


if __name__ == "__main__":
    raise SystemExit(main())
