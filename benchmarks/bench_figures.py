"""Wall time of the analysis figures on a 16-channel latent, as their nodes draw them.

    python benchmarks/bench_figures.py [--reps 5] [--baseline REV] [--out PATH]

For a ``[1, 16, 128, 128]`` float32 latent (SD3/Flux size at 1024 px), with the nodes'
default sizes and settings, it times what each figure node's ``execute`` does after input
checks: the svd_core selection, the matplotlib figure and its rendering to an IMAGE tensor.

- spectrum: every channel's 128 singular values, source and target overlaid (16 panels);
- components: the top 4 rank-1 components of every channel (64 heat maps);
- distance: the top-16 subspace distance per channel (16 bars);
- sweep: the strength sweep's edits at strengths 0, 0.25, 0.5, 0.75, 1 (no figure; the
  baseline applies the attribute, one decomposition per strength, as the node once did).

The figure module is loaded from its file (it imports no ComfyUI), so this runs in any
Python with torch and matplotlib. ``--baseline REV`` also times the figure module of git
revision ``REV``, interleaved rep by rep with the current one (a shared machine's load hits
both alike). Prints a table; ``--out`` writes the JSON rows (default
``benchmarks/results/figures.json``).
"""

from __future__ import annotations

import argparse
import importlib.util
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import ModuleType

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.timing import (  # noqa: E402
    Timing,
    fmt_ratio,
    fmt_seconds,
    machine_info,
    table,
    write_results,
)
from svd_core import (  # noqa: E402
    AVIConfig,
    apply_attribute,
    decompose,
    item_components,
    learn_attribute,
    recompose,
    select_matrices,
    strength_sweep,
    subspace_distance,
)

SHAPE = (1, 16, 128, 128)


FIGURES = "nodes/analysis/figures.py"


def load_figures(path: Path = ROOT / FIGURES, name: str = "_bench_figures") -> ModuleType:
    """The figure module from ``path`` under a private name (the pack's `nodes` needs
    ComfyUI)."""
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def figure_calls(figures: ModuleType, per_strength: bool = False) -> dict[str, object]:
    """One zero-argument callable per analysis node, doing the node's work after its checks.

    per_strength: the strength sweep as it was before, one apply (and SVD) per strength.
    """
    g = torch.Generator().manual_seed(0)
    a = decompose(torch.randn(SHAPE, generator=g))
    b = decompose(torch.randn(SHAPE, generator=g) * 1.5)
    attribute = learn_attribute(a, b, AVIConfig(steps=20))
    strengths = [0.0, 0.25, 0.5, 0.75, 1.0]
    channels = list(range(SHAPE[1]))

    def spectrum() -> torch.Tensor:
        spectra = [select_matrices(s.S, s, 0, 0).cpu() for s in (a, b)]
        fig = figures.spectrum_figure(
            spectra, ["source", "target"], 1024, 768, "", channel_numbers=channels
        )
        return figures.render(fig, 1024, 768)

    def components() -> torch.Tensor:
        comps, values = item_components(a, 4, 0, 0)
        fig = figures.components_figure(comps, values, channels, 1024, 768)
        return figures.render(fig, 1024, 768)

    def distance() -> torch.Tensor:
        rows = subspace_distance(a, b, 16, "left").cpu().reshape(-1, SHAPE[1])
        fig = figures.distance_figure(rows, 16, 768, 512)
        return figures.render(fig, 768, 512)

    def sweep() -> list[torch.Tensor]:
        if per_strength:
            return [recompose(apply_attribute(a, attribute, b, s)) for s in strengths]
        return strength_sweep(a, attribute, strengths, b)

    return {"spectrum": spectrum, "components": components, "distance": distance, "sweep": sweep}


def baseline_figures(rev: str, folder: Path) -> ModuleType:
    """The figure module as it was at git revision ``rev``."""
    text = subprocess.run(
        ["git", "show", f"{rev}:{FIGURES}"], cwd=ROOT, check=True, capture_output=True, text=True
    ).stdout
    path = folder / "baseline_figures.py"
    path.write_text(text)
    return load_figures(path, "_bench_baseline_figures")


def interleaved(variants: dict[str, dict[str, object]], reps: int) -> dict[str, dict]:
    """Timing of every (variant, figure), the variants alternating rep by rep."""
    for calls in variants.values():  # warm-up: fonts, caches, lazy imports
        for fn in calls.values():
            fn()
    samples: dict[tuple[str, str], list[float]] = {}
    for rep in range(reps):
        order = list(variants) if rep % 2 == 0 else list(reversed(variants))
        for variant in order:
            for figure, fn in variants[variant].items():
                t0 = time.perf_counter()
                fn()
                samples.setdefault((variant, figure), []).append(time.perf_counter() - t0)
    out: dict[str, dict] = {}
    for (variant, figure), times in samples.items():
        out.setdefault(figure, {})[variant] = Timing.of(times).to_dict()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--baseline", default=None, help="git revision to compare with")
    parser.add_argument("--out", type=Path, default=None, help="write the rows as JSON here")
    args = parser.parse_args()
    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory() as tmp:
        variants = {"current": figure_calls(load_figures())}
        if args.baseline:
            variants = {
                "baseline": figure_calls(
                    baseline_figures(args.baseline, Path(tmp)), per_strength=True
                ),
                **variants,
            }
        rows = interleaved(variants, args.reps)
    names = list(variants)
    print(f"figures on {list(SHAPE)}, median (min) of {args.reps}, interleaved:")
    body = []
    for figure, by_variant in rows.items():
        cells = [
            f"{fmt_seconds(by_variant[v]['median_s'])} ({fmt_seconds(by_variant[v]['min_s'])})"
            for v in names
        ]
        if args.baseline:
            cells.append(
                fmt_ratio(by_variant["baseline"]["median_s"] / by_variant["current"]["median_s"])
            )
        body.append([figure, *cells])
    print(table(["figure", *names, *(["speed-up"] if args.baseline else [])], body))
    out = args.out or Path("benchmarks/results/figures.json")
    data = {
        "shape": list(SHAPE),
        "baseline": args.baseline,
        "reps": args.reps,
        "machine": machine_info(),
        "rows": rows,
    }
    print(write_results(out.stem, data, ROOT / out.parent if not out.is_absolute() else out.parent))


if __name__ == "__main__":
    main()
