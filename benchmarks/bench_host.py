"""The pack inside a real ComfyUI: its nodes' time against the sampler's, and UNet calls.

Boots ComfyUI 0.3.75 in this process (``harness.comfy_runtime.boot``: real executor, the pack
loaded through ``nodes.load_custom_node``) and runs API-format prompts:

* ``edit``: the learn-and-apply graph of the README (``harness.graphs.edit_workflow``): source
  ``KSamplerAdvanced`` to step k, target to k + delta, decompose both, learn, apply (with the
  target), recompose, continue from k to N with the source prompt.
* ``plain``: the same model, prompt and seed, one ``KSamplerAdvanced`` for all N steps.
* ``reuse``: a saved attribute applied to a new image without a target run (load, source to
  k, decompose, apply, recompose, continue): the pack's cheaper second mode.

How time is measured: ComfyUI's executor runs each node through one coroutine,
``execution.execute(server, dynprompt, caches, node_id, ...)``. For the duration of a run the
benchmark replaces that module attribute with a wrapper that calls the original and records
wall time (``perf_counter``) and process CPU time per node id and class type; it is restored
afterwards. Nothing in ComfyUI is stubbed: every node runs unchanged. The sum over nodes is
checked against the prompt's total wall time (``coverage``).

UNet evaluations are counted by an ``APPLY_MODEL`` wrapper on a clone of the model
(``benchmarks/host_models.py``), attributed to the sampler node that was running.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
for _p in (str(REPO_ROOT), str(REPO_ROOT / "tests")):
    if _p not in sys.path:
        sys.path.append(_p)  # appended: ComfyUI's own `nodes`/`comfy` must win name clashes

from benchmarks.timing import fmt_ratio, fmt_seconds, machine_info, table  # noqa: E402

SAMPLER_TYPES = frozenset(
    {"KSamplerAdvanced", "KSampler", "SamplerCustom", "SamplerCustomAdvanced"}
)
BENCH_PACK_FILE = "lse_bench_nodes.py"
SAVED_NAME = "lse_benchmark_attribute"
SINK = "90"  # LSEBenchSink: an output node on the final latent (KSamplerAdvanced is not one)


@dataclass(frozen=True)
class HostSettings:
    """One host benchmark configuration (see the module docstring for the graphs)."""

    model: str = "tiny"  # "tiny" (test model) or "sd21" (SD2.1-size UNet, random weights)
    width: int = 512  # pixels; the latent is width / 8
    steps: int = 10  # N
    k: int = 3  # edit step (method default round(0.3 N))
    delta: int = 3  # target offset (method default +3)
    cfg: float = 5.0
    sampler_name: str = "euler"  # one UNet evaluation per step
    learn_steps: int = 200  # the Learn node's default (AVIConfig().steps)
    learning_rate: float = 4e-3  # the Learn node's default (AVIConfig().lr)
    reps: int = 3
    warmup: bool = True
    plain: bool = True  # also time the plain generation (edit / plain ratios)
    model_seed: int = 0
    seed: int = 42

    def expected_calls(self) -> dict[str, int]:
        """UNet evaluations per graph for a one-evaluation-per-step sampler (euler)."""
        n, k, d = self.steps, self.k, self.delta
        return {"plain": n, "edit": k + (k + d) + (n - k), "reuse": k + (n - k)}

    def rows_per_call(self, batch: int = 1) -> int:
        """Batch rows per UNet call: cond and uncond together with CFG (cfg 1 skips uncond)."""
        return batch * (2 if self.cfg != 1.0 else 1)


@dataclass(frozen=True)
class NodeRecord:
    node_id: str
    class_type: str
    wall_s: float
    cpu_s: float
    unet_calls: int
    unet_rows: int


@dataclass
class NodeTimer:
    """Wraps ``execution.execute`` (ComfyUI's per-node coroutine) to time every node."""

    execution: Any
    counter: Any
    records: list[NodeRecord] = field(default_factory=list)

    @contextlib.contextmanager
    def installed(self) -> Iterator[list[NodeRecord]]:
        original = self.execution.execute
        records: list[NodeRecord] = []

        async def timed(
            server: Any, dynprompt: Any, caches: Any, node_id: str, *args: Any, **kwargs: Any
        ) -> Any:
            class_type = dynprompt.get_node(node_id)["class_type"]
            calls0, rows0 = self.counter.snapshot()
            w0, c0 = time.perf_counter(), time.process_time()
            try:
                return await original(server, dynprompt, caches, node_id, *args, **kwargs)
            finally:
                wall, cpu = time.perf_counter() - w0, time.process_time() - c0
                calls1, rows1 = self.counter.snapshot()
                records.append(
                    NodeRecord(str(node_id), class_type, wall, cpu, calls1 - calls0, rows1 - rows0)
                )

        self.execution.execute = timed
        try:
            yield records
        finally:
            self.execution.execute = original
            self.records = records


@dataclass(frozen=True)
class RunResult:
    """One executed prompt, split into pack / sampler / other node time."""

    graph: str
    total_s: float
    pack_s: float
    sampler_s: float
    other_s: float
    pack_cpu_s: float
    sampler_cpu_s: float
    unet_calls: int
    unet_rows: int
    per_node: list[dict[str, Any]]

    @property
    def ratio(self) -> float:
        return self.pack_s / self.sampler_s

    @property
    def ratio_cpu(self) -> float:
        return self.pack_cpu_s / self.sampler_cpu_s

    @property
    def coverage(self) -> float:
        return (self.pack_s + self.sampler_s + self.other_s) / self.total_s


def write_bench_pack(base_dir: Path) -> None:
    """The benchmark-only custom node file (imports benchmarks/host_models.py)."""
    custom = base_dir / "custom_nodes"
    custom.mkdir(parents=True, exist_ok=True)
    (custom / BENCH_PACK_FILE).write_text(
        '"""Benchmark-only node (benchmarks/host_models.py); not part of the pack."""\n'
        "import sys\n\n"
        f"for _p in ({str(REPO_ROOT)!r}, {str(REPO_ROOT / 'tests')!r}):\n"
        "    if _p not in sys.path:\n"
        "        sys.path.append(_p)\n\n"
        "from benchmarks.host_models import NODE_CLASS_MAPPINGS  # noqa: E402,F401\n"
    )


def boot_runtime() -> Any:
    """Boot (once per process) the in-process ComfyUI with the benchmark node installed."""
    from harness import comfy_runtime

    if comfy_runtime._RUNTIME is not None:  # noqa: SLF001 - already booted by this process
        runtime = comfy_runtime._RUNTIME  # noqa: SLF001
        if "LSEBenchModel" not in runtime.nodes.NODE_CLASS_MAPPINGS:
            raise RuntimeError(
                "ComfyUI was booted without the benchmark node; run the host "
                "benchmark in its own process"
            )
        return runtime
    base = Path(tempfile.mkdtemp(prefix="lse-bench-"))
    import atexit

    atexit.register(shutil.rmtree, base, True)
    write_bench_pack(base)
    runtime = comfy_runtime.boot(base)
    if "LSEBenchModel" not in runtime.nodes.NODE_CLASS_MAPPINGS:
        raise RuntimeError("the benchmark node did not load; see ComfyUI's log above")
    return runtime


# --- graphs -------------------------------------------------------------------------------


def _edit_settings(s: HostSettings) -> Any:
    from harness.graphs import EditSettings

    return EditSettings(
        model_seed=s.model_seed,
        seed=s.seed,
        width=s.width,
        height=s.width,
        steps=s.steps,
        k=s.k,
        delta=s.delta,
        cfg=s.cfg,
        sampler_name=s.sampler_name,
        learn_steps=s.learn_steps,
        learning_rate=s.learning_rate,
    )


def _bench_model_node(s: HostSettings) -> dict[str, Any]:
    return {"class_type": "LSEBenchModel", "inputs": {"kind": s.model, "seed": s.model_seed}}


def _with_sink(prompt: dict[str, Any], final: str) -> dict[str, Any]:
    prompt[SINK] = {"class_type": "LSEBenchSink", "inputs": {"value": [final, 0]}}
    return prompt


def edit_graph(s: HostSettings, save: bool = False) -> dict[str, Any]:
    from harness.graphs import IDS, edit_workflow

    prompt = edit_workflow(_edit_settings(s), reference=False)
    prompt[IDS.model] = _bench_model_node(s)
    if save:
        prompt["60"] = {
            "class_type": "SaveSingularAttribute",
            "inputs": {"attribute": [IDS.learn, 0], "filename": SAVED_NAME, "overwrite": True},
        }
    return _with_sink(prompt, IDS.final)


def plain_graph(s: HostSettings) -> dict[str, Any]:
    from harness.graphs import IDS

    edit = edit_graph(s)
    prompt = {i: edit[i] for i in (IDS.model, IDS.source_text, IDS.negative_text, IDS.empty_latent)}
    sampler = copy.deepcopy(edit[IDS.source_sampler])
    sampler["inputs"].update(
        start_at_step=0, end_at_step=10000, return_with_leftover_noise="disable"
    )
    prompt[IDS.final] = sampler
    return _with_sink(prompt, IDS.final)


def reuse_graph(s: HostSettings) -> dict[str, Any]:
    """Apply the saved attribute with its stored mean edit: no target sampler run."""
    from harness.graphs import IDS

    edit = edit_graph(s)
    keep = (
        IDS.model,
        IDS.source_text,
        IDS.negative_text,
        IDS.empty_latent,
        IDS.source_sampler,
        IDS.decompose_source,
        IDS.recompose,
        IDS.final,
    )
    prompt = {i: copy.deepcopy(edit[i]) for i in keep}
    prompt["61"] = {
        "class_type": "LoadSingularAttribute",
        "inputs": {"attribute_name": SAVED_NAME + ".safetensors"},
    }
    prompt[IDS.apply] = {
        "class_type": "ApplySingularEdit",
        "inputs": {
            "latent_svd": [IDS.decompose_source, 0],
            "attribute": ["61", 0],
            "strength": 1.0,
        },
    }
    return _with_sink(prompt, IDS.final)


# --- running ------------------------------------------------------------------------------


def run_graph(runtime: Any, name: str, prompt: dict[str, Any], output: str) -> RunResult:
    """Execute ``prompt`` from an empty cache with every node timed; checks the output."""
    import torch

    from benchmarks.host_models import COUNTER

    pack_types = runtime.pack_node_ids()
    timer = NodeTimer(runtime.execution, COUNTER)
    with timer.installed() as records:
        t0 = time.perf_counter()
        result = runtime.run_prompt(prompt, outputs=[output], fresh_cache=True)
        total = time.perf_counter() - t0
    if not result.success:
        raise RuntimeError(f"{name} graph failed: {result.error_message()}")
    samples = result.output(output)[0]["samples"]
    if not bool(torch.isfinite(samples).all()):
        raise RuntimeError(f"{name} graph produced a non-finite latent")

    def total_of(pred: Any, attr: str) -> float:
        return sum(getattr(r, attr) for r in records if pred(r.class_type))

    def is_pack(t: str) -> bool:
        return t in pack_types

    def is_sampler(t: str) -> bool:
        return t in SAMPLER_TYPES

    def is_other(t: str) -> bool:
        return not is_pack(t) and not is_sampler(t)

    return RunResult(
        graph=name,
        total_s=total,
        pack_s=total_of(is_pack, "wall_s"),
        sampler_s=total_of(is_sampler, "wall_s"),
        other_s=total_of(is_other, "wall_s"),
        pack_cpu_s=total_of(is_pack, "cpu_s"),
        sampler_cpu_s=total_of(is_sampler, "cpu_s"),
        unet_calls=sum(r.unet_calls for r in records),
        unet_rows=sum(r.unet_rows for r in records),
        per_node=[asdict(r) for r in records],
    )


def _median(values: list[float]) -> float:
    return float(statistics.median(values))


def bench_model(runtime: Any, s: HostSettings, reuse_graph_too: bool = True) -> dict[str, Any]:
    """Time the edit graph against the plain one for ``s.model``; count UNet calls."""
    from harness.graphs import IDS

    from benchmarks.host_models import build

    if s.warmup:  # first-call costs (model load, allocator) belong to neither side
        small = replace(s, steps=1, k=1, delta=0, width=min(s.width, 256))
        run_graph(runtime, "plain", plain_graph(small), IDS.final)
    edits: list[RunResult] = []
    plains: list[RunResult] = []
    for _ in range(s.reps):  # interleaved so slow drift of the shared machine hits both
        if s.plain:
            plains.append(run_graph(runtime, "plain", plain_graph(s), IDS.final))
        edits.append(run_graph(runtime, "edit", edit_graph(s, save=reuse_graph_too), IDS.final))
    reuse = run_graph(runtime, "reuse", reuse_graph(s), IDS.final) if reuse_graph_too else None

    expected = s.expected_calls()
    rows = s.rows_per_call()
    counts = {"edit": {"calls": edits[-1].unet_calls, "rows": edits[-1].unet_rows}}
    if plains:
        counts["plain"] = {"calls": plains[-1].unet_calls, "rows": plains[-1].unet_rows}
    if reuse is not None:
        counts["reuse"] = {"calls": reuse.unet_calls, "rows": reuse.unet_rows}
    per_sampler = {
        r["node_id"]: r["unet_calls"]
        for r in edits[-1].per_node
        if r["class_type"] in SAMPLER_TYPES
    }
    counts_ok = all(
        c["calls"] == expected[g] and c["rows"] == expected[g] * rows for g, c in counts.items()
    )
    edit_sampler = _median([r.sampler_s for r in edits])
    plain_sampler = _median([r.sampler_s for r in plains]) if plains else None
    plain_total = _median([r.total_s for r in plains]) if plains else None
    return {
        "settings": asdict(s),
        "latent": [1, 4, s.width // 8, s.width // 8],
        "unet_params": build(s.model, s.model_seed).unet_params,
        "pack_over_sampler": _median([r.ratio for r in edits]),
        "pack_over_sampler_cpu": _median([r.ratio_cpu for r in edits]),
        "pack_over_sampler_all": [r.ratio for r in edits],
        "pack_s": _median([r.pack_s for r in edits]),
        "sampler_s": edit_sampler,
        "other_s": _median([r.other_s for r in edits]),
        "total_s": _median([r.total_s for r in edits]),
        "coverage": _median([r.coverage for r in edits]),
        "node_s": _per_class(edits),
        "plain_sampler_s": plain_sampler,
        "plain_total_s": plain_total,
        "edit_over_plain_sampler": None if plain_sampler is None else edit_sampler / plain_sampler,
        "edit_over_plain_total": None
        if plain_total is None
        else _median([r.total_s for r in edits]) / plain_total,
        "reuse_pack_over_sampler": None if reuse is None else reuse.ratio,
        "reuse_over_plain_total": None
        if reuse is None or plain_total is None
        else reuse.total_s / plain_total,
        "unet_calls": counts,
        "unet_calls_per_sampler_node": per_sampler,
        "unet_calls_expected": {g: expected[g] for g in counts},
        "unet_rows_per_call_expected": rows,
        "unet_calls_match_formula": counts_ok,
        "runs": {
            "edit": [asdict(r) for r in edits],
            "plain": [asdict(r) for r in plains],
            "reuse": None if reuse is None else asdict(reuse),
        },
    }


def _per_class(runs: list[RunResult]) -> dict[str, float]:
    """Median wall seconds per class type (summed within a run) over ``runs``."""
    per: dict[str, list[float]] = {}
    for run in runs:
        sums: dict[str, float] = {}
        for r in run.per_node:
            sums[r["class_type"]] = sums.get(r["class_type"], 0.0) + r["wall_s"]
        for k, v in sums.items():
            per.setdefault(k, []).append(v)
    return {k: _median(v) for k, v in sorted(per.items())}


#: The quick path: the smoke test runs it (tiny model, 32 x 32 latent, short learning).
QUICK = HostSettings(model="tiny", width=256, steps=6, k=2, delta=1, learn_steps=20, reps=1)
#: Tiny model, full run: 512 x 512, N = 10, k = round(0.3 N) = 3, delta = 3 (method defaults).
TINY = HostSettings(model="tiny", reps=3)
#: SD2.1-size UNet: 512 x 512, few steps (N = 4, k = 1, delta = 1: 6 UNet evaluations in the
#: edit graph) because one CFG evaluation of an 865M-parameter UNet takes tens of seconds on
#: 2 CPU cores. Fewer steps make the pack's share LARGER (its cost does not depend on N), so
#: the ratio is conservative; learning runs the node's default 200 steps.
SD21 = HostSettings(model="sd21", steps=4, k=1, delta=1, reps=1)


def run(settings: list[HostSettings], threads: int = 0) -> dict[str, Any]:
    """The host benchmark for each setting (the reuse graph only for small models).

    ``threads``: torch intra-op threads for the whole ComfyUI process; 0 keeps torch's default
    (what a user's ComfyUI runs with). The test harness would otherwise pin 1 thread.
    """
    import torch

    os.environ["LSE_TEST_TORCH_THREADS"] = str(int(threads))  # read by harness boot()
    runtime = boot_runtime()
    results: dict[str, Any] = {"machine": machine_info(), "models": {}}
    with torch.inference_mode(False):
        for s in settings:
            results["models"][s.model] = bench_model(runtime, s, reuse_graph_too=s.model == "tiny")
    results["machine_after"] = {"load_average": machine_info()["load_average"]}
    return results


def report(results: dict[str, Any]) -> str:
    rows = []
    for kind, r in results["models"].items():
        s = r["settings"]
        c = r["unet_calls"]
        rows.append(
            [
                kind,
                f"{r['unet_params'] / 1e6:.1f}M",
                f"{s['width']}px N={s['steps']} k={s['k']} d={s['delta']}",
                fmt_seconds(r["pack_s"]),
                fmt_seconds(r["sampler_s"]),
                f"{100 * r['pack_over_sampler']:.2f}%",
                f"{100 * r['pack_over_sampler_cpu']:.2f}%",
                "/".join(str(c[g]["calls"]) if g in c else "-" for g in ("plain", "edit", "reuse")),
                "yes" if r["unet_calls_match_formula"] else "NO",
                fmt_ratio(r["edit_over_plain_sampler"]),
            ]
        )
    return table(
        [
            "model",
            "UNet",
            "graph",
            "pack",
            "sampler",
            "pack/sampler",
            "(cpu)",
            "UNet calls plain/edit/reuse",
            "=formula",
            "edit/plain sampler",
        ],
        rows,
    )


def _parse(default: object, text: str) -> object:
    if isinstance(default, bool):
        return text.lower() in ("1", "true", "yes", "on")
    return type(default)(text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--quick",
        action="store_true",
        help="tiny model only, 256 px, N=6, 20 learning steps, 1 repetition",
    )
    parser.add_argument("--models", default="tiny,sd21", help="comma list of tiny, sd21")
    parser.add_argument(
        "--sd21", default="", help="override SD2.1 settings, e.g. 'steps=3,k=1,delta=1,width=256'"
    )
    parser.add_argument("--tiny-reps", type=int, default=TINY.reps)
    parser.add_argument(
        "--threads",
        type=int,
        default=None,
        help="torch threads in ComfyUI (default: torch's own; quick: 1)",
    )
    parser.add_argument("--out-dir", type=Path, default=None)
    parser.add_argument(
        "--name", default=None, help="JSON file stem (default host, host_quick with --quick)"
    )
    args = parser.parse_args(argv)
    from benchmarks.timing import write_results

    if args.quick:
        settings = [QUICK]
    else:
        chosen = args.models.split(",")
        sd21 = replace(
            SD21,
            **{
                k: _parse(getattr(SD21, k), v)
                for k, v in (kv.split("=") for kv in args.sd21.split(",") if kv)
            },
        )
        settings = ([replace(TINY, reps=args.tiny_reps)] if "tiny" in chosen else []) + (
            [sd21] if "sd21" in chosen else []
        )
    threads = args.threads if args.threads is not None else (1 if args.quick else 0)
    res = run(settings, threads)
    print(report(res))
    name = args.name or ("host_quick" if args.quick else "host")
    print("wrote", write_results(name, res, args.out_dir))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
