"""Sweeps of the edit's settings on the semantic world, against the prompt switch at step k.

    python -m benchmarks.semantic.sweeps              # every sweep, results into sweeps.json
    python -m benchmarks.semantic.sweeps --quick      # 16/8 seeds, prints, writes nothing

Every method is scored by **identity at matched success**: the share of held-out seeds whose
six other attributes are unchanged, read off the method's strength curve where 90 % of the
seeds show the target value (linear interpolation between the two strengths that bracket
90 %; strength 0 is the unedited source: its success, 100 % identity). The strengths are
searched on a ladder from 1 up or down until 90 % is bracketed, plus one point beyond when
the upper point is close to 90 %. The prompt switch at step k has no strength dial: its own
success and identity are shown and the difference is taken against its identity.
A paired bootstrap over the held-out seeds (same seeds for every method) gives the 95 %
interval of ``identity(method at 90 %) - identity(prompt switch)``.

Methods (pipeline.py for the graph; ``x`` = source prompt to step k):

- **switch**: the target prompt from step k (``ConditioningSetTimestepRange``), no edit;
- **independent d**: the paper: ``z`` = target prompt from step 0 to ``k + d``; AVI learned
  on (x, z) pairs and applied with the seed's own ``z``;
- **branched d**: ``x_s`` / ``z_t`` = source / target prompt continued from ``x`` for ``d``
  steps; AVI learned on (x_s, z_t) and applied as ``x + s * (y(x_s, z_t) - x_s)``;
- **mean edit d**: the branched attribute's stored mean edit added to ``x`` (no target run);
- **raw branched d**: ``x + s * (z_t - x_s)``, no learning (the yardstick of the branched
  edit: AVI with ks = kt = min(H, W) is exactly a multiple of it).
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import torch

import svd_core

from . import world
from .models import World, load_world
from .pipeline import EDITS, Edit
from .readme import write_section

HERE = Path(__file__).parent
RESULTS = HERE / "sweeps.json"

LEVEL = 0.9
LADDER = (0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0)
TRAIN_SEED0, TEST_SEED0 = 0, 10_000
BOOTSTRAP = 1000
BASE_K, BASE_DELTA, BASE_KS, BASE_PAIRS = 6, 3, 4, 16

EDIT = {e.key: e for e in EDITS}
EMPTY = world.tokens()


@dataclass
class Curve:
    """Per-seed outcomes of one method at several strengths (0 = the unedited source)."""

    success: dict[float, torch.Tensor] = field(default_factory=dict)  # strength -> [n] bool
    identity: dict[float, torch.Tensor] = field(default_factory=dict)

    def points(self) -> list[tuple[float, float, float]]:
        return [
            (s, self.success[s].float().mean().item(), self.identity[s].float().mean().item())
            for s in sorted(self.success, key=abs)
        ]


def interpolate(succ: torch.Tensor, ident: torch.Tensor, level: float) -> torch.Tensor:
    """Identity where success first reaches ``level`` along the points (by |strength|).

    succ, ident: [R, P] (P points ordered by |strength|, point 0 the source). Returns [R],
    NaN where the curve never reaches the level.
    """
    reach = succ >= level
    first = torch.where(
        reach.any(1), reach.float().argmax(1), torch.full_like(reach[:, 0], -1, dtype=torch.long)
    )
    out = torch.full(succ.shape[:1], float("nan"), dtype=torch.float64)
    ok = first >= 0
    hi = first.clamp_min(0)
    lo = (hi - 1).clamp_min(0)
    r = torch.arange(succ.shape[0])
    s_lo, s_hi = succ[r, lo], succ[r, hi]
    i_lo, i_hi = ident[r, lo], ident[r, hi]
    span = (s_hi - s_lo).clamp_min(1e-12)
    frac = torch.where(hi == 0, torch.ones_like(s_hi), ((level - s_lo) / span).clamp(0, 1))
    val = i_lo + frac * (i_hi - i_lo)
    out[ok] = val[ok].double()
    return out


def at_level(points: list, level: float) -> float:
    """Identity where the mean curve ``points`` [(strength, success, identity)] first reaches
    ``level`` (a point estimate, no interval); NaN when it never does."""
    succ = torch.tensor([[p[1] for p in points]], dtype=torch.float64)
    ident = torch.tensor([[p[2] for p in points]], dtype=torch.float64)
    return interpolate(succ, ident, level)[0].item()


def derive(r: dict) -> None:
    """Fields computed from a row's points: identity at the prompt switch's own success."""
    if "points" in r and "switch_success" in r:
        r["identity_at_switch_success"] = at_level(r["points"], r["switch_success"] - 1e-9)


def matched(
    curve: Curve, switch: tuple[torch.Tensor, torch.Tensor] | None, gen: torch.Generator
) -> dict:
    """Identity at 90 % success, its strength, and the paired bootstrap against the switch."""
    order = sorted(curve.success, key=abs)
    succ = torch.stack([curve.success[s].double() for s in order])  # [P, n]
    ident = torch.stack([curve.identity[s].double() for s in order])
    n = succ.shape[1]
    point = interpolate(succ.mean(1)[None], ident.mean(1)[None], LEVEL)[0].item()
    sm = succ.mean(1)
    strength = float("nan")
    for j in range(1, len(order)):
        if sm[j] >= LEVEL:
            a = (LEVEL - sm[j - 1]) / max(float(sm[j] - sm[j - 1]), 1e-12)
            strength = order[j - 1] + float(a) * (order[j] - order[j - 1])
            break
    out = {
        "identity_at_90": point,
        "strength_at_90": strength,
        "max_success": float(sm.max()),
        "points": curve.points(),
    }
    if switch is not None:
        idx = torch.randint(0, n, (BOOTSTRAP, n), generator=gen)
        bs = interpolate(succ[:, idx].mean(2).T, ident[:, idx].mean(2).T, LEVEL)
        sw = switch[1].double()[idx].mean(1)
        diff = bs - sw
        good = diff[~diff.isnan()]
        out["switch_success"] = switch[0].float().mean().item()
        out["switch_identity"] = switch[1].float().mean().item()
        out["diff"] = point - out["switch_identity"]
        if good.numel() > 0:
            q = torch.quantile(good, torch.tensor([0.025, 0.975], dtype=good.dtype))
            out["diff_ci"] = q.tolist()
        out["bootstrap_not_reached"] = round(1 - good.numel() / BOOTSTRAP, 3)
        derive(out)
    return out


class Bed:
    """The world, cached latents and source images; runs and scores edits."""

    def __init__(self, w: World, n_test: int, log: Callable[[str], None]) -> None:
        self.w, self.log = w, log
        self.n_test = n_test
        self.cache: dict[tuple, object] = {}
        self.finishes = 0

    def seeds(self, train: bool, n: int | None = None) -> list[int]:
        if train:
            return list(range(TRAIN_SEED0, TRAIN_SEED0 + BASE_PAIRS))
        return list(range(TEST_SEED0, TEST_SEED0 + (n or self.n_test)))

    def _memo(self, key: tuple, fn: Callable[[], object]):
        if key not in self.cache:
            self.cache[key] = fn()
        return self.cache[key]

    # Latents ------------------------------------------------------------------------------
    def x(self, k: int, train: bool, n: int) -> torch.Tensor:
        return self._memo(("x", k, train, n), lambda: self.w.run(EMPTY, self.seeds(train, n), 0, k))

    def z_independent(self, tok: torch.Tensor, k: int, d: int, train: bool, n: int):
        return self._memo(
            ("zi", tuple(tok.tolist()), k, d, train, n),
            lambda: self.w.run(tok, self.seeds(train, n), 0, k + d),
        )

    def branch(self, tok: torch.Tensor, k: int, d: int, train: bool, n: int):
        return self._memo(
            ("br", tuple(tok.tolist()), k, d, train, n),
            lambda: self.w.run(tok, self.seeds(train, n), k, k + d, x_start=self.x(k, train, n)),
        )

    def source(self, k: int, n: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Source images' read-out [n, 7] (second world [n, 8]: and the placement), the
        reference of identity."""

        def make():
            vals, _ = self.w.scene.read_attributes(self.finish(k, self.x(k, False, n)))
            return vals

        return self._memo(("src", k, n), make)

    def finish(self, k: int, x_k: torch.Tensor, tok: torch.Tensor = EMPTY) -> torch.Tensor:
        self.finishes += 1
        seeds = self.seeds(False, x_k.shape[0])
        return self.w.decode(self.w.run(tok, seeds, k, self.w.steps, x_start=x_k))

    # Attributes ---------------------------------------------------------------------------
    def target_tokens(self, key: str) -> torch.Tensor:
        """The target prompt of the edit ``key``."""
        return EDIT[key].target_tokens

    def attribute(self, edit_keys: str, mode: str, k: int, d: int, ks: int, pairs: int):
        """AVI attribute of one edit learned on ``pairs`` training seeds."""

        def make():
            tok = self.target_tokens(edit_keys)
            if mode == "independent":
                src = self.x(k, True, None)
                tgt = self.z_independent(tok, k, d, True, None)
            else:
                src = self.branch(EMPTY, k, d, True, None)
                tgt = self.branch(tok, k, d, True, None)
            cfg = svd_core.AVIConfig(ks=ks, kt=ks)
            return svd_core.learn_attribute(
                svd_core.decompose(src[:pairs]),
                svd_core.decompose(tgt[:pairs]),
                cfg,
                name=edit_keys,
                pair_mode=mode,
                step=k,
                delta=d,
            )

        return self._memo(("att", edit_keys, mode, k, d, ks, pairs), make)

    # Edits as functions of strength ------------------------------------------------------
    def edit_fn(
        self, edit_key: str, method: str, k: int, d: int, ks: int, pairs: int, n: int
    ) -> Callable[[torch.Tensor, float], torch.Tensor]:
        """(latent at step k [n, 4, L, L], strength) -> edited latent (composable)."""
        tok = EDIT[edit_key].target_tokens
        if method == "independent":
            att = self.attribute(edit_key, "independent", k, d, ks, pairs)
            z = svd_core.decompose(self.z_independent(tok, k, d, False, n))
            return lambda lat, s: svd_core.recompose(
                svd_core.apply_attribute(svd_core.decompose(lat), att, z, s)
            )
        if method == "branched":
            att = self.attribute(edit_key, "branched", k, d, ks, pairs)
            xs = svd_core.decompose(self.branch(EMPTY, k, d, False, n))
            zt = svd_core.decompose(self.branch(tok, k, d, False, n))
            return lambda lat, s: svd_core.recompose(
                svd_core.apply_attribute(svd_core.decompose(lat), att, zt, s, source_branch=xs)
            )
        if method == "mean edit":
            att = self.attribute(edit_key, "branched", k, d, ks, pairs)
            return lambda lat, s: svd_core.recompose(
                svd_core.apply_attribute(svd_core.decompose(lat), att, None, s)
            )
        if method == "mean edit (independent)":
            att = self.attribute(edit_key, "independent", k, d, ks, pairs)
            return lambda lat, s: svd_core.recompose(
                svd_core.apply_attribute(svd_core.decompose(lat), att, None, s)
            )
        if method == "raw independent":
            z = self.z_independent(tok, k, d, False, n)
            return lambda lat, s: lat + s * (z - lat)
        if method == "raw branched":
            xs = self.branch(EMPTY, k, d, False, n)
            zt = self.branch(tok, k, d, False, n)
            return lambda lat, s: lat + s * (zt - xs)
        raise ValueError(method)

    def outcome(
        self, k: int, n: int, lat: torch.Tensor, judge: Callable, tok: torch.Tensor = EMPTY
    ) -> tuple[torch.Tensor, torch.Tensor]:
        vals, _ = self.w.scene.read_attributes(self.finish(k, lat, tok))
        return judge(vals, self.source(k, n))

    def curve(
        self,
        k: int,
        n: int,
        apply: Callable[[torch.Tensor, float], torch.Tensor],
        judge: Callable,
        sign: float = 1.0,
    ) -> Curve:
        """Strengths on the ladder until 90 % success is bracketed (see the module doc)."""
        c = Curve()
        x = self.x(k, False, n)
        src = self.source(k, n)
        c.success[0.0], c.identity[0.0] = judge(src, src)

        def at(s: float) -> float:
            s = sign * s
            if s not in c.success:
                c.success[s], c.identity[s] = self.outcome(k, n, apply(x, s), judge)
            return c.success[s].float().mean().item()

        i = LADDER.index(1.0)
        if at(LADDER[i]) >= LEVEL:
            while i > 0 and at(LADDER[i - 1]) >= LEVEL:
                i -= 1
        else:
            while i + 1 < len(LADDER) and at(LADDER[i + 1]) < LEVEL:
                i += 1
            if i + 1 == len(LADDER):
                return c  # never reaches the level
            i += 1  # LADDER[i] is the first point at or above the level
        if i + 1 < len(LADDER) and at(LADDER[i]) < LEVEL + 0.05:
            at(LADDER[i + 1])  # a point beyond, so bootstrap resamples still cross
        return c


def judge_edit(edits: Sequence[Edit], want: Sequence[int] | None = None, negate: bool = False):
    """Per-seed (success, identity): success = every edited attribute shows its target value
    (``negate``: does not show it); identity = every other read-out column (attributes, and
    the second world's placement) equals the source's."""
    idx = [e.index for e in edits]
    vals_wanted = [e.target_index for e in edits] if want is None else list(want)

    def judge(vals: torch.Tensor, src: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        others = [j for j in range(vals.shape[1]) if j not in idx]
        hit = torch.stack([vals[:, i] == v for i, v in zip(idx, vals_wanted, strict=True)], 1)
        succ = (~hit).all(1) if negate else hit.all(1)
        return succ, (vals[:, others] == src[:, others]).all(1)

    return judge


def run(n_main: int, n_sweep: int, log: Callable[[str], None], only: set[str] | None) -> dict:
    w = load_world()
    bed = Bed(w, n_main, log)
    gen = torch.Generator().manual_seed(0)
    out: dict = {}

    def switch(
        k: int, n: int, tok: torch.Tensor, judge, what: str
    ) -> tuple[torch.Tensor, torch.Tensor]:
        return bed._memo(
            ("switch", k, n, tuple(tok.tolist()), what),
            lambda: bed.outcome(k, n, bed.x(k, False, n), judge, tok),
        )

    def row(edit_key: str, method: str, k: int, d: int, ks: int, pairs: int, n: int) -> dict:
        # The sweeps share their default row (k 6, ks 4, 16 pairs): computed once.
        return bed._memo(
            ("row", edit_key, method, k, d, ks, pairs, n),
            lambda: new_row(edit_key, method, k, d, ks, pairs, n),
        )

    def new_row(edit_key: str, method: str, k: int, d: int, ks: int, pairs: int, n: int) -> dict:
        e = EDIT[edit_key]
        judge = judge_edit([e])
        sw = switch(k, n, e.target_tokens, judge, edit_key)
        t0 = time.time()
        c = bed.curve(k, n, bed.edit_fn(edit_key, method, k, d, ks, pairs, n), judge)
        r = {
            "edit": edit_key,
            "method": method,
            "k": k,
            "delta": d,
            "ks": ks,
            "pairs": pairs,
            "seeds": n,
            **matched(c, sw, gen),
        }
        log(
            f"  {edit_key:8s} {method:24s} k={k} d={d} ks={ks} pairs={pairs}: "
            f"id@90 {r['identity_at_90']:.3f} (s={r['strength_at_90']:.2f}) vs switch "
            f"{r['switch_identity']:.3f} [{time.time() - t0:.0f}s]"
        )
        return r

    def want(name: str) -> bool:
        return only is None or name in only

    # 1. delta, both pair modes, every edit (the main table).
    if want("delta"):
        rows = []
        for key in EDIT:
            for d in (0, 1, 2, 3):
                rows.append(row(key, "independent", BASE_K, d, BASE_KS, BASE_PAIRS, n_main))
            for d in (1, 2, 3):
                rows.append(row(key, "branched", BASE_K, d, BASE_KS, BASE_PAIRS, n_main))
            rows.append(row(key, "raw branched", BASE_K, BASE_DELTA, BASE_KS, BASE_PAIRS, n_main))
            rows.append(row(key, "mean edit", BASE_K, BASE_DELTA, BASE_KS, BASE_PAIRS, n_main))
            rows.append(row(key, "mean edit (independent)", BASE_K, 0, BASE_KS, BASE_PAIRS, n_main))
        out["delta"] = rows
    # 2. edit step k, smile (fewer seeds).
    if want("k"):
        rows = []
        for k in (4, 6, 8, 10):
            for m, d in (("independent", 0), ("branched", BASE_DELTA), ("mean edit", BASE_DELTA)):
                rows.append(row("smile", m, k, d, BASE_KS, BASE_PAIRS, n_sweep))
        out["k"] = rows
    # 3. ks = kt, smile.
    if want("ks"):
        rows = []
        for ks in (2, 4, 8, 16):
            for m, d in (("independent", 0), ("branched", BASE_DELTA), ("mean edit", BASE_DELTA)):
                rows.append(row("smile", m, BASE_K, d, ks, BASE_PAIRS, n_sweep))
        out["ks"] = rows
    # 4. training pairs, smile.
    if want("pairs"):
        rows = []
        for p in (1, 2, 4, 8, 16):
            for m in ("branched", "mean edit"):
                rows.append(row("smile", m, BASE_K, BASE_DELTA, BASE_KS, p, n_sweep))
        out["pairs"] = rows
    # 5. negative strength: remove the smile (success = mouth not smiling).
    if want("negative"):
        e = EDIT["smile"]
        judge = judge_edit([e], negate=True)
        n = n_sweep
        rows = []
        for name, tok in (
            ("neutral", world.tokens(mouth="neutral")),
            ("frowning", world.tokens(mouth="frowning")),
        ):
            succ, ident = switch(BASE_K, n, tok, judge, "not smiling")
            rows.append(
                {
                    "method": f"switch to mouth={name}",
                    "success": succ.float().mean().item(),
                    "identity": ident.float().mean().item(),
                    "seeds": n,
                }
            )
        sw = switch(BASE_K, n, world.tokens(mouth="neutral"), judge, "not smiling")
        for m in ("branched", "mean edit"):
            c = bed.curve(
                BASE_K,
                n,
                bed.edit_fn("smile", m, BASE_K, BASE_DELTA, BASE_KS, BASE_PAIRS, n),
                judge,
                sign=-1.0,
            )
            r = {"method": f"{m} (smile), negative strength", "seeds": n, **matched(c, sw, gen)}
            log(f"  negative {m}: id@90 {r['identity_at_90']:.3f} s={r['strength_at_90']:.2f}")
            rows.append(r)
        out["negative"] = rows
    # 6. two attributes at once: two apply steps in a row, against a prompt with both words.
    if want("two"):
        es = [EDIT["smile"], EDIT["glasses"]]
        judge = judge_edit(es)
        n = n_sweep
        both = world.tokens(mouth="smiling", glasses="on")
        sw = switch(BASE_K, n, both, judge, "both")
        rows = [
            {
                "method": "switch to mouth=smiling, glasses=on",
                "success": sw[0].float().mean().item(),
                "identity": sw[1].float().mean().item(),
                "seeds": n,
            }
        ]
        for m, d in (("independent", 0), ("branched", BASE_DELTA), ("mean edit", BASE_DELTA)):
            f1 = bed.edit_fn("smile", m, BASE_K, d, BASE_KS, BASE_PAIRS, n)
            f2 = bed.edit_fn("glasses", m, BASE_K, d, BASE_KS, BASE_PAIRS, n)
            c = bed.curve(BASE_K, n, lambda lat, s, f1=f1, f2=f2: f2(f1(lat, s), s), judge)
            r = {
                "method": f"{m}: smile then glasses (two apply steps)",
                "seeds": n,
                **matched(c, sw, gen),
            }
            log(f"  two {m}: id@90 {r['identity_at_90']:.3f} vs switch {r['switch_identity']:.3f}")
            rows.append(r)
        out["two"] = rows
    out["finishes"] = bed.finishes
    return out


def pct(v: float) -> str:
    return "n/r" if v != v else f"{100 * v:.1f}"


def strength_cell(r: dict) -> str:
    s = r["strength_at_90"]
    if s != s:
        return f"n/r (max success {pct(r['max_success'])})"
    return f"{s:.2f}"


def diff_cell(r: dict) -> str:
    """``identity - switch [95 % CI]`` in points; n/r when 90 % is not reached."""
    if r["identity_at_90"] != r["identity_at_90"]:
        return "n/r"
    ci = r.get("diff_ci")
    out = f"{100 * r['diff']:+.1f}"
    if ci:
        out += f" [{100 * ci[0]:+.1f}, {100 * ci[1]:+.1f}]"
    if r.get("bootstrap_not_reached", 0) > 0.05:
        out += f" ({100 * r['bootstrap_not_reached']:.0f} % of resamples n/r)"
    return out


def fmt_rows(rows: list[dict], keys: Sequence[str]) -> list[str]:
    head = [
        *keys,
        "switch success / identity",
        "identity at 90 % success",
        "strength at 90 %",
        "identity - switch [95 % CI]",
        "identity at the switch's success",
        "seeds",
    ]
    lines = ["| " + " | ".join(head) + " |", "|---" * len(head) + "|"]
    for r in rows:
        cells = [str(r[k]) for k in keys]
        cells += [
            f"{pct(r['switch_success'])} / {pct(r['switch_identity'])}",
            pct(r["identity_at_90"]),
            strength_cell(r),
            diff_cell(r),
            pct(r.get("identity_at_switch_success", float("nan"))),
            str(r["seeds"]),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def render(res: dict) -> str:
    m = res["meta"]
    cpu = f" ({m['cpu_seconds']:.0f} s CPU)" if "cpu_seconds" in m else ""
    out = [
        f"Run: {m['date']}, {m['machine']}, {m['seconds']:.0f} s wall{cpu}, load average "
        f"{m['load_before']} before / {m['load_after']} after, {res['finishes']} denoising "
        f"runs to the end. Defaults of every sweep: k = {BASE_K} of 20, ks = kt = {BASE_KS}, "
        f"{BASE_PAIRS} training pairs, delta {BASE_DELTA} for the branched modes, delta 0 for "
        "the independent one (its best, table 1). n/r: 90 % not reached on the ladder "
        f"(strength up to {LADDER[-1]:g}).",
        "",
    ]
    if "delta" in res:
        out += ["#### 1. Pair mode and delta (k = 6)", ""]
        out += fmt_rows(res["delta"], ("edit", "method", "delta"))
        out.append("")
    for key, title, cols in (
        ("k", "2. Edit step k (smile)", ("method", "k", "delta")),
        ("ks", "3. ks = kt (smile)", ("method", "ks")),
        ("pairs", "4. Training pairs (smile)", ("method", "pairs")),
    ):
        if key in res:
            out += [f"#### {title}", ""] + fmt_rows(res[key], cols) + [""]
    if "negative" in res:
        out += [
            "#### 5. Negative strength: remove the smile (success = mouth not smiling)",
            "",
            "| method | success | identity | identity at 90 % success | strength at 90 % | "
            "identity - switch to neutral [95 % CI] | seeds |",
            "|---" * 7 + "|",
        ]
        for r in res["negative"]:
            if "points" not in r:
                out.append(
                    f"| {r['method']} | {pct(r['success'])} | {pct(r['identity'])} | | "
                    f"| | {r['seeds']} |"
                )
            else:
                out.append(
                    f"| {r['method']} | | | {pct(r['identity_at_90'])} | "
                    f"{strength_cell(r)} | {diff_cell(r)} | {r['seeds']} |"
                )
        out.append("")
    if "two" in res:
        out += [
            "#### 6. Two attributes at once: smile and glasses (success = both shown)",
            "",
            "| method | success | identity (other 5) | identity at 90 % success | "
            "strength at 90 % (both) | identity - switch [95 % CI] | identity at the "
            "switch's success | seeds |",
            "|---" * 8 + "|",
        ]
        for r in res["two"]:
            if "points" not in r:
                out.append(
                    f"| {r['method']} | {pct(r['success'])} | {pct(r['identity'])} | | "
                    f"| | | {r['seeds']} |"
                )
            else:
                out.append(
                    f"| {r['method']} | | | {pct(r['identity_at_90'])} | "
                    f"{strength_cell(r)} | {diff_cell(r)} | "
                    f"{pct(r.get('identity_at_switch_success', float('nan')))} | "
                    f"{r['seeds']} |"
                )
        out.append("")
    return "\n".join(out)


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--seeds", type=int, default=100, help="held-out seeds of table 1")
    ap.add_argument("--sweep-seeds", type=int, default=64, help="held-out seeds of tables 2-6")
    ap.add_argument("--only", nargs="*", help="delta k ks pairs negative two")
    ap.add_argument("--quick", action="store_true", help="16/8 seeds, prints, writes nothing")
    ap.add_argument(
        "--render-only",
        action="store_true",
        help="recompute the derived columns from sweeps.json and rewrite the tables",
    )
    args = ap.parse_args()
    if args.render_only:
        res = json.loads(RESULTS.read_text())
        for rows in res.values():
            for r in rows if isinstance(rows, list) else ():
                derive(r)
        RESULTS.write_text(json.dumps(res, indent=1))
        write_section("SWEEPS", render(res))
        return
    torch.set_num_threads(1)
    n_main, n_sweep = (16, 8) if args.quick else (args.seeds, args.sweep_seeds)
    load_before = " ".join(f"{v:.2f}" for v in __import__("os").getloadavg())
    start = time.time()

    def log(msg: str) -> None:
        print(f"[{time.time() - start:6.0f}s] {msg}", flush=True)

    res = run(n_main, n_sweep, log, set(args.only) if args.only else None)
    res["meta"] = {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "machine": f"{platform.machine()} CPU, 1 torch thread",
        "seconds": round(time.time() - start, 1),
        # CPU time of this process: what the wall time would be on an otherwise idle core.
        "cpu_seconds": round(time.process_time(), 1),
        "load_before": load_before,
        "load_after": " ".join(f"{v:.2f}" for v in __import__("os").getloadavg()),
    }
    text = render(res)
    print(text)
    if not args.quick:
        RESULTS.write_text(json.dumps(res, indent=1))
        write_section("SWEEPS", text)
    log("done")


if __name__ == "__main__":
    main()
