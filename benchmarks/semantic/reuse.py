"""Reuse without a target run: an attribute's training edits applied to new seeds, at cost N.

    python -m benchmarks.semantic.reuse --seeds 48 --pairs 16 64   # both worlds: reuse.json
    python -m benchmarks.semantic.reuse --quick                    # 16 seeds, writes nothing

Training pairs: the source and target branches of ``pairs`` seeds (k = 6, delta = 2); their
edits ``e_i = z_t - x_s``, kept where the branches differ (``svd_core.branch_mask``).
Rows for a new seed, every one at the cost of its plain generation (N UNet calls):
- **mean edit at k** (what *Apply* does without a target): ``x + s m``, ``m`` the attribute's
  stored per-position mean of the learned edits;
- **mean local edits at step t**: the source continued to step t, plus ``s mean_i e_i``;
- **aligned local edits at step t**: plus ``s a``, each ``e_i`` moved by the displacement that
  lines the training seed's source latent at step t up with the new one, averaged weighted
  by their correlation: what *Apply* adds without a target to an attribute learned with
  ``reuse_reference`` (``svd_core.reuse_aligned_edit``); the training latents at step t are
  stored with the attribute (learned once, not counted per image);
- the native rows of the toolbox (switch, window, blend from k) and the **prompt window from
  step t**, scored the same way (identity at 90 % success, paired bootstrap against the best
  native row).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import time
from collections.abc import Callable
from pathlib import Path

import torch

import svd_core
from svd_core.alignment import aligned_mean_edit
from svd_core.avi import reuse_tensors

from .models import KINDS, World, load_world
from .readme import write_section
from .sweeps import EMPTY, TRAIN_SEED0
from .toolbox import STRENGTHS, K, Row, Toolbox, _table, measure_rows

HERE = Path(__file__).parent
RESULTS = HERE / "reuse.json"
D, KS = 2, 16


class ReuseBed(Toolbox):
    """The toolbox with ``pairs`` training seeds and edits reused from them."""

    def __init__(self, w: World, n: int, log: Callable[[str], None], pairs: int) -> None:
        super().__init__(w, n, log)
        self.pairs = pairs

    def seeds(self, train: bool, n: int | None = None) -> list[int]:
        if train:
            return list(range(TRAIN_SEED0, TRAIN_SEED0 + (n or self.pairs)))
        return super().seeds(train, n)

    def fresh(self, n: int) -> Toolbox:
        return ReuseBed(self.w, n, self.log, self.pairs)

    def training_edits(self, key: str, kind: str, p: int) -> torch.Tensor:
        """The edits ``[p, C, H, W]`` of the first ``p`` training pairs (``kind``: raw, local
        or avi). Cached as part of the attribute (learned once, not per image)."""

        def make() -> torch.Tensor:
            xs = self.branch(EMPTY, K, D, True, None)[:p]
            zt = self.branch(self.target_tokens(key), K, D, True, None)[:p]
            if kind == "avi":
                att = self.attribute(key, "branched", K, D, KS, p)
                edits = svd_core.edit_delta(svd_core.decompose(xs), att, svd_core.decompose(zt))
            else:
                edits = zt - xs
                if kind == "local":
                    edits = edits * svd_core.branch_mask(edits)
            return edits

        return self._memo(("att", "training edits", key, kind, p), make)

    def reused(self, key: str, how: str, p: int, s: float) -> torch.Tensor:
        """Images of one reuse row learned on ``p`` pairs at strength ``s`` (see the module
        doc for ``how``)."""
        if how.startswith("mean"):
            att = self.attribute(key, "branched", K, D, KS, p)
            at_k = how == "mean at k"
            base = self.x(K, False, self.n) if at_k else self.branch(EMPTY, K, D, False, self.n)
            edited = base + s * att.mean_edit
            return self.finish_from(K if at_k else K + D, edited)
        kind, _, late = how.partition(" @")
        t = int(late) if late else K + D
        new = self.latent_at(t, False, self.n)
        if kind.startswith("mean "):  # the plain mean of the training edits, added late
            edits = self.training_edits(key, kind.split()[1], p)
            return self.finish_from(t, new + s * edits.mean(0))

        def references() -> torch.Tensor:
            return self._memo(
                ("att", "references", t, p), lambda: self.latent_at(t, True, None)[:p]
            )

        def edit() -> torch.Tensor:
            if kind == "local":  # what Apply adds without a target, through the shipped path
                return svd_core.reuse_aligned_edit(
                    svd_core.decompose(new), self.reusable(key, t, p)
                )
            return aligned_mean_edit(new, references(), self.training_edits(key, kind, p))

        a = self._memo(("aligned", key, how, p, self.n), edit)
        return self.finish_from(t, new + s * a)

    def reusable(self, key: str, t: int, p: int) -> svd_core.Attribute:
        """The attribute learned on ``p`` branched pairs with their source branches continued
        to step ``t`` as reuse references (what Learn stores with ``reuse_reference``)."""

        def make() -> svd_core.Attribute:
            xs = svd_core.decompose(self.branch(EMPTY, K, D, True, None)[:p])
            zt = svd_core.decompose(self.branch(self.target_tokens(key), K, D, True, None)[:p])
            refs = svd_core.decompose(self.latent_at(t, True, None)[:p])
            att = self.attribute(key, "branched", K, D, KS, p)
            return dataclasses.replace(att, **reuse_tensors(xs, zt, refs), reuse_step=t)

        return self._memo(("att", "reusable", key, t, p), make)

    def latent_at(self, t: int, train: bool, n: int | None) -> torch.Tensor:
        """The source prompt's latent at step ``t >= k + delta`` (the continuation's)."""
        xs = self.branch(EMPTY, K, D, train, n)
        if t == K + D:
            return xs
        seeds = self.seeds(train, n)
        return self._memo(
            ("late", t, train, n), lambda: self.w.run(EMPTY, seeds, K + D, t, x_start=xs)
        )

    def window_from(self, t: int, tok: torch.Tensor, w: int) -> torch.Tensor:
        """Images: the source prompt to step ``t``, ``tok`` for ``w`` steps, the source again."""
        lat = self.w.run(
            tok, self.seeds(False, self.n), t, t + w, x_start=self.latent_at(t, False, self.n)
        )
        return self.finish_from(t + w, lat)


def late_window_row(bed: ReuseBed, key: str, t: int) -> Row:
    """The native prompt window, started at the aligned edit's step ``t`` instead of k."""
    return Row(
        f"prompt window, w steps from step {t}",
        True,
        tuple(float(w) for w in range(1, bed.w.steps - t + 1)),
        0,
        lambda s: bed.window_from(t, bed.target_tokens(key), int(s)),
    )


def reuse_row(bed: ReuseBed, key: str, how: str, p: int) -> Row:
    kind, _, late = how.partition(" @")
    name = {"mean at k": "mean edit at k (today)", "mean at k+d": "mean edit at k+d"}.get(
        how,
        f"{kind} edits (not aligned)" if kind.startswith("mean ") else f"aligned {kind} edits",
    )
    name += f", at step {late}" if late else ""
    dial = STRENGTHS if how.startswith("mean") else LATE_STRENGTHS
    return Row(
        f"{name}, {p} pairs",
        False,
        dial,
        dial.index(1.0 if how.startswith("mean") else 4.0),
        lambda s: bed.reused(key, how, p, s),
    )


HOWS = ("mean at k", "mean local @12", "local @12")
#: The aligned edit is added late, where it needs more strength.
LATE_STRENGTHS = (1.0, 2.0, 3.0, 4.0, 6.0, 8.0, 12.0, 16.0)


def measure(
    name: str,
    n: int,
    keys: list[str],
    hows: list[str],
    pairs: list[int],
    late_steps: list[int],
    log: Callable[[str], None],
) -> dict:
    w = load_world(name)
    gen = torch.Generator().manual_seed(0)
    t0 = time.time()
    out: dict = {"seeds": n, "edits": {}}
    for key in keys:
        log(f"{name}: {key}, {n} seeds")
        rows = [lambda b, key=key, t=t: late_window_row(b, key, t) for t in late_steps]
        rows += [
            lambda b, how=how, p=p, key=key: reuse_row(b, key, how, p)
            for p in pairs
            for how in hows
        ]
        out["edits"][key] = measure_rows(ReuseBed(w, n, log, max(pairs)), key, rows, gen)
    out["seconds"] = round(time.time() - t0, 1)
    out["date"] = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--world", choices=list(KINDS), nargs="*", default=list(KINDS))
    ap.add_argument("--seeds", type=int, default=64)
    ap.add_argument("--edits", nargs="*", default=["smile", "hair"])
    ap.add_argument("--hows", nargs="*", default=list(HOWS))
    ap.add_argument("--pairs", type=int, nargs="*", default=[16])
    ap.add_argument("--late-windows", type=int, nargs="*", default=[12])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    start = time.time()

    def log(msg: str) -> None:
        print(f"[{time.time() - start:6.0f}s] {msg}", flush=True)

    n = 16 if args.quick else args.seeds
    results = {
        wn: measure(wn, n, args.edits, args.hows, args.pairs, args.late_windows, log)
        for wn in args.world
    }
    if not args.quick:
        old = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
        results = {**old, **results}
    text = "\n".join(_table(results, "edits", [(wn, k) for wn in results for k in args.edits]))
    print(text)
    if not args.quick:
        RESULTS.write_text(json.dumps(results, indent=1))
        write_section("REUSE", text)


if __name__ == "__main__":
    main()
