"""The native ComfyUI toolbox against the pack's edits, on both semantic worlds.

    python -m benchmarks.semantic.toolbox                  # both worlds: toolbox.json, README
    python -m benchmarks.semantic.toolbox --world placed   # one world (keeps the other's rows)
    python -m benchmarks.semantic.toolbox --quick          # 16 / 8 seeds, prints, writes nothing

``x`` is the source prompt to step k (leftover noise kept); N = 20 steps, k = 6.

Native graphs (no pack node):
- **switch**: the target prompt from step k (``ConditioningSetTimestepRange``); no dial;
- **window**: the target prompt for ``w`` steps from k, then the source prompt again
  (dial: w = 1 .. N - k; w = N - k is the switch);
- **blend**: ``ConditioningAverage`` of the target into the source prompt at weight ``b``
  from step k to the end (dial: b in (0, 1]; b = 1 is the switch);
- **blend window**: the blend for the shortest window that reaches the level (dial: b);
- **photo**: img2img from step k with the target prompt, and the window from k.

Pack edits (``x_s``, ``z_t``: the source and the target prompt continued from ``x`` for
``delta`` steps; ``y``: the learned predictor's output on their singular components):
- **AVI at k**: ``x + s (y - x_s)``, continued from k (cost N + 2 delta);
- **AVI at k+d**: ``x_s + s (y - x_s)``, continued from k + delta: the source branch is the
  first steps of the continuation (cost N + delta);
- **raw at k / k+d**: the same with ``y = z_t`` (no learning). Raw at k + delta with s = 1
  *is* the window w = delta.

Score: identity kept at the level L of success, interpolated along each dial (strength 0 or
w = 0 is the unedited source). L = 90 % where a native graph reaches it, else the best
success a native graph reaches. The **best native** graph of an edit is the one that keeps
most identity at L; every row gets a paired bootstrap interval (same resampled seeds for both
curves) of its difference to it. UNet calls per image are counted on one seed (one
classifier-free-guided call per step; learning the attribute is not counted, it is done once).
"""

from __future__ import annotations

import argparse
import copy
import json
import math
import platform
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import torch

import svd_core

from . import world
from .models import KINDS, World, load_world
from .pipeline import Edit
from .readme import write_section
from .sweeps import EDIT, EMPTY, TEST_SEED0, Bed, Curve, interpolate, judge_edit, pct

HERE = Path(__file__).parent
RESULTS = HERE / "toolbox.json"
K, PAIRS, LEVEL, BOOTSTRAP = 6, 16, 0.9, 1000
STRENGTHS = (0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 2.0, 2.5, 3.0, 4.0, 6.0)
BLENDS = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.8, 1.0)
#: Edit -> images [n, 3, S, S] at one dial value.
Run = Callable[[float], torch.Tensor]
#: One pack candidate: (delta, ks or None for the raw difference, added at k?, how).
Pack = tuple[int, int | None, bool, str]
#: The edit towards the opposite prompt, for removing an attribute: what a native graph
#: switches to, and what the pack can learn instead of going negative.
OPPOSITE = {"smile": Edit("neutral", "mouth", "", "neutral")}


@dataclass(frozen=True)
class Row:
    """One graph of one edit: its name, whether ComfyUI has it natively, its dial values
    (searched from ``start`` towards the level) and what one dial value gives."""

    name: str
    native: bool
    dial: tuple[float, ...]
    start: int
    run: Run


class Toolbox(Bed):
    """The sweeps' bed plus windows, blends and edits continued from ``k + delta``."""

    def __init__(self, w: World, n: int, log: Callable[[str], None]) -> None:
        super().__init__(w, n, log)
        self.n = n

    def fresh(self, n: int) -> Toolbox:
        """A bed of the same kind on ``n`` seeds."""
        return Toolbox(self.w, n, self.log)

    def target_tokens(self, key: str) -> torch.Tensor:
        return {**EDIT, **{e.key: e for e in OPPOSITE.values()}}[key].target_tokens

    def finish_from(self, step: int, lat: torch.Tensor, cond: torch.Tensor = EMPTY):
        self.finishes += 1
        seeds = self.seeds(False, lat.shape[0])
        return self.w.decode(self.w.run(cond, seeds, step, self.w.steps, x_start=lat))

    def window(self, cond: torch.Tensor, w: int) -> torch.Tensor:
        """Images: ``cond`` from k to k + w, then the source prompt."""
        x = self.x(K, False, self.n)
        lat = self.w.run(cond, self.seeds(False, self.n), K, K + w, x_start=x)
        return self.finish_from(K + w, lat)

    def blend(self, tok: torch.Tensor, b: float) -> torch.Tensor:
        """``ConditioningAverage(target, source, b)``: the contexts mixed, [1, ...]."""
        return torch.lerp(self.w.context(EMPTY), self.w.context(tok), b)

    def branches(self, tok: torch.Tensor, d: int) -> tuple[torch.Tensor, torch.Tensor]:
        return self.branch(EMPTY, K, d, False, self.n), self.branch(tok, K, d, False, self.n)

    def avi(self, key: str, d: int, ks: int) -> svd_core.Attribute:
        return self.attribute(key, "branched", K, d, ks, PAIRS)

    def edited(
        self, key: str, d: int, ks: int | None, at_k: bool, s: float, how: str = ""
    ) -> torch.Tensor:
        """Images of the pack's edit: AVI (``ks``) or raw (``None``), at k or at k + d;
        ``how`` = "local" keeps it where the branches differ (``svd_core.branch_mask``),
        "rank r" only its top r singular components per channel, "mean" adds the attribute's
        stored mean edit to ``x`` at k instead (no branches: the reuse without a target)."""
        if how == "mean":
            x = svd_core.decompose(self.x(K, False, self.n))
            y = svd_core.apply_attribute(x, self.avi(key, d, ks or 16), None, s)
            return self.finish_from(K, svd_core.recompose(y))
        xs, zt = self.branches(self.target_tokens(key), d)
        if ks is None:
            delta = zt - xs
        else:
            y = svd_core.apply_attribute(
                svd_core.decompose(xs),
                self.avi(key, d, ks),
                svd_core.decompose(zt),
                1.0,
                source_branch=svd_core.decompose(xs),
            )
            delta = svd_core.recompose(y) - xs
        if how == "local":
            delta = delta * svd_core.branch_mask(zt - xs)
        elif how.startswith("rank"):
            u, sv, vh = torch.linalg.svd(delta, full_matrices=False)
            r = int(how.split()[1])
            delta = (u[..., :r] * sv[..., None, :r]) @ vh[..., :r, :]
        if at_k:
            return self.finish_from(K, self.x(K, False, self.n) + s * delta)
        return self.finish_from(K + d, xs + s * delta)


FACE_SEED = 424242


def drawn_faces(scene: ModuleType, key: str, n: int) -> tuple[torch.Tensor, torch.Tensor]:
    """n drawn faces ("photos") with random attributes (and, on the second world, random
    placements), the edited one never at the target value. Returns (images [n, 3, S, S],
    the read-out they should give [n, 7] or [n, 8])."""
    edit = EDIT[key]
    g = torch.Generator().manual_seed(FACE_SEED)
    values = torch.stack([torch.randint(0, m, (n,), generator=g) for m in world.N_VALUES], 1)
    others = [v for v in range(world.N_VALUES[edit.index]) if v != edit.target_index]
    values[:, edit.index] = torch.tensor(others)[torch.randint(0, len(others), (n,), generator=g)]
    places = getattr(scene, "PLACEMENTS", ((0.0, 0.0, 1.0),))
    where = torch.randint(0, len(places), (n,), generator=g)
    images = torch.stack(
        [
            world.draw(tuple(int(v) for v in row), places[int(p)], scene.SIZE)
            for row, p in zip(values, where, strict=True)
        ]
    )
    if len(places) > 1:
        values = torch.cat([values, where[:, None]], 1)
    return images, values


class PhotoToolbox(Toolbox):
    """The same rows on drawn faces: ``x`` is the encoded photo with noise added to the level
    of step k (``AddNoise`` with the sigmas from k on); identity is against the drawn face."""

    def __init__(self, w: World, n: int, log: Callable[[str], None], key: str) -> None:
        super().__init__(w, n, log)
        self.images, self.values = drawn_faces(w.scene, key, n)

    def x(self, k: int, train: bool, n: int) -> torch.Tensor:
        if train:
            return super().x(k, train, n)

        def noised() -> torch.Tensor:
            with torch.no_grad():
                x0 = self.w.ae.encode(self.images)
            return x0 + float(self.w.sigmas[k]) * self.w.noise(self.seeds(False, n))

        return self._memo(("photo", k, n), noised)

    def source(self, k: int, n: int) -> torch.Tensor:
        return self.values[:n]

    def fresh(self, n: int) -> Toolbox:
        bed = PhotoToolbox.__new__(PhotoToolbox)
        Toolbox.__init__(bed, self.w, n, self.log)
        bed.images, bed.values = self.images[:n], self.values[:n]
        return bed


class SmilingSeeds(Toolbox):
    """The toolbox on the held-out seeds whose unedited generation smiles (the first ``n``
    from ``TEST_SEED0`` on), to measure removing the smile."""

    def __init__(self, w: World, n: int, log: Callable[[str], None]) -> None:
        super().__init__(w, n, log)
        self.chosen = smiling_seeds(w, n)

    def seeds(self, train: bool, n: int | None = None) -> list[int]:
        return super().seeds(True, n) if train else self.chosen[: n or self.n]

    def fresh(self, n: int) -> Toolbox:
        bed = SmilingSeeds.__new__(SmilingSeeds)
        Toolbox.__init__(bed, self.w, n, self.log)
        bed.chosen = self.chosen[:n]
        return bed


def smiling_seeds(w: World, n: int, batch: int = 64) -> list[int]:
    """The first ``n`` held-out seeds whose unedited generation (source prompt) smiles."""
    smile = EDIT["smile"]
    found: list[int] = []
    start = TEST_SEED0
    while len(found) < n:
        seeds = list(range(start, start + batch))
        x = w.run(EMPTY, seeds, 0, K)
        vals, _ = w.scene.read_attributes(w.decode(w.run(EMPTY, seeds, K, w.steps, x_start=x)))
        smiles = vals[:, smile.index] == smile.target_index
        found += [s for s, hit in zip(seeds, smiles.tolist(), strict=True) if hit]
        start += batch
    return found[:n]


WINDOW = "prompt window, w steps from k"


def native_rows(bed: Toolbox, tok: torch.Tensor) -> list[Row]:
    """Switch, window and blend towards the prompt ``tok``."""
    n_after = bed.w.steps - K
    windows = tuple(float(w) for w in range(1, n_after + 1))
    return [
        Row(
            "prompt switch at k",
            True,
            (1.0,),
            0,
            lambda s: bed.finish_from(K, bed.x(K, False, bed.n), tok),
        ),
        Row(WINDOW, True, windows, 0, lambda s: bed.window(tok, int(s))),
        Row(
            "conditioning blend from k, weight b",
            True,
            BLENDS,
            3,
            lambda s: bed.finish_from(K, bed.x(K, False, bed.n), bed.blend(tok, s)),
        ),
    ]


def blend_window_row(bed: Toolbox, tok: torch.Tensor, w: int) -> Row:
    return Row(
        f"blend over the window w={w}, weight b",
        True,
        BLENDS,
        5,
        lambda s: bed.window(bed.blend(tok, s), w),
    )


def pack_row(
    bed: Toolbox,
    key: str,
    d: int,
    ks: int | None,
    at_k: bool,
    how: str = "",
    sign: float = 1.0,
    note: str = "",
) -> Row:
    """The pack's edit of ``key`` at strengths ``sign * STRENGTHS`` (-1: removing it);
    ``note`` ends the row's name."""
    if how == "mean":
        name = f"stored mean edit (no target run), ks={ks}, at k (x + s mean)"
    else:
        what = (f"AVI ks={ks}" if ks is not None else "raw z_t - x_s") + (f" {how}" if how else "")
        where = "at k (x + s edit)" if at_k else "at k+d (x_s + s edit)"
        name = f"{what}, {where}, d={d}"
    return Row(
        name + note,
        False,
        tuple(sign * s for s in STRENGTHS),
        STRENGTHS.index(1.0),
        lambda s: bed.edited(key, d, ks, at_k, s, how),
    )


def trace(bed: Toolbox, row: Row, judge: Callable, level: float) -> Curve:
    """The row's per-seed outcomes at dial values searched from ``row.start`` until ``level``
    is bracketed (plus one value beyond when the upper one is within 5 points of it)."""
    c = Curve()
    src = bed.source(K, bed.n)
    c.success[0.0], c.identity[0.0] = judge(src, src)

    def at(i: int) -> float:
        v = row.dial[i]
        if v not in c.success:
            vals, _ = bed.w.scene.read_attributes(row.run(v))
            c.success[v], c.identity[v] = judge(vals, src)
        return c.success[v].float().mean().item()

    i = row.start
    if at(i) >= level:
        while i > 0 and at(i - 1) >= level:
            i -= 1
    else:
        while i + 1 < len(row.dial) and at(i + 1) < level:
            i += 1
        if i + 1 == len(row.dial):
            return c
        i += 1
    if i + 1 < len(row.dial) and at(i) < level + 0.05:
        at(i + 1)
    return c


def stacked(c: Curve) -> tuple[list[float], torch.Tensor, torch.Tensor]:
    """Dial values by magnitude, success and identity [P, n] float64."""
    order = sorted(c.success, key=abs)
    succ = torch.stack([c.success[v].double() for v in order])
    ident = torch.stack([c.identity[v].double() for v in order])
    return order, succ, ident


def score(c: Curve, level: float) -> dict:
    """Identity and dial value at ``level`` (NaN where never reached), best success."""
    order, succ, ident = stacked(c)
    sm = succ.mean(1)
    dial = float("nan")
    for j in range(1, len(order)):
        if sm[j] >= level:
            a = (level - sm[j - 1]) / max(float(sm[j] - sm[j - 1]), 1e-12)
            dial = order[j - 1] + float(a) * (order[j] - order[j - 1])
            break
    return {
        "identity": interpolate(sm[None], ident.mean(1)[None], level)[0].item(),
        "dial": dial,
        "max_success": float(sm.max()),
        "points": [
            (v, float(s), float(i)) for v, s, i in zip(order, sm, ident.mean(1), strict=True)
        ],
    }


def paired(a: Curve, b: Curve, level: float, gen: torch.Generator) -> dict:
    """Bootstrap 95 % interval of identity(a) - identity(b) at ``level``, same seeds."""
    _, sa, ia = stacked(a)
    _, sb, ib = stacked(b)
    n = sa.shape[1]
    idx = torch.randint(0, n, (BOOTSTRAP, n), generator=gen)
    da = interpolate(sa[:, idx].mean(2).T, ia[:, idx].mean(2).T, level)
    db = interpolate(sb[:, idx].mean(2).T, ib[:, idx].mean(2).T, level)
    diff = da - db
    good = diff[~diff.isnan()]
    out = {"not_reached": round(1 - good.numel() / BOOTSTRAP, 3)}
    if good.numel():
        out["ci"] = torch.quantile(good, torch.tensor([0.025, 0.975], dtype=good.dtype)).tolist()
    return out


def unet_calls(main: Toolbox, make: Callable[[Toolbox], Row]) -> int:
    """UNet calls per image of the row ``make`` builds, at dial value 1 (or its first),
    counted on one fresh seed; the learned attributes are shared with ``main`` (learning
    is done once per attribute, not per image)."""
    bed = main.fresh(1)
    bed.cache = {k: v for k, v in main.cache.items() if k[0] == "att"}
    row = make(bed)
    main.w.unet_calls[0] = 0
    row.run(1.0 if 1.0 in row.dial else row.dial[0])
    return main.w.unet_calls[0]


def measure_edit(
    bed: Toolbox,
    key: str,
    sweep: bool,
    gen: torch.Generator,
    photo: bool = False,
    only: str | None = None,
) -> dict:
    """Every row of one edit on ``bed``'s seeds (``photo``: the rows a photo gets; ``only``:
    the natives and the pack rows of that variant, e.g. "local")."""
    return measure_rows(bed, key, makers(key, pack_rows(bed, key, sweep, photo, only)), gen, photo)


def pack_rows(bed: Toolbox, key: str, sweep: bool, photo: bool, only: str | None) -> list[Pack]:
    """The pack's candidates of one edit: (delta, ks or None for raw, at k?, how)."""
    pack = [(2, 16, True, ""), (2, 16, False, ""), (2, None, True, ""), (2, None, False, "")]
    pack += [(2, None, False, "local"), (2, 16, False, "local")]
    if not photo:
        pack += [(1, None, False, "")]
    if sweep:
        pack += [(1, 16, False, ""), (3, 16, False, ""), (3, None, False, "")]
        pack += [(2, 4, False, ""), (2, 8, False, ""), (2, bed.w.latent_size, False, "")]
        pack += [(1, None, False, "local"), (2, None, False, "rank 4")]
    if only is not None:
        pack = [p for p in pack if p[3] == only]
    return pack


#: Removing the smile: the default, the raw local difference, the unmasked AVI at k + d and
#: the stored mean edit, all at negative strength.
REMOVAL_PACK: list[Pack] = [
    (2, 16, False, "local"),
    (2, None, False, "local"),
    (2, 16, False, ""),
    (2, 16, True, "mean"),
]


def makers(
    key: str, pack: list[Pack], sign: float = 1.0, note: str = ""
) -> list[Callable[[Toolbox], Row]]:
    """The rows of ``pack`` for the edit ``key``, each as a function of a bed."""
    return [
        lambda b, d=d, ks=ks, at_k=at_k, how=how: pack_row(b, key, d, ks, at_k, how, sign, note)
        for d, ks, at_k, how in pack
    ]


def measure_rows(
    bed: Toolbox,
    key: str,
    makers: list[Callable[[Toolbox], Row]],
    gen: torch.Generator,
    photo: bool = False,
    remove: bool = False,
) -> dict:
    """The native rows towards the target prompt (``remove``: towards ``OPPOSITE[key]``,
    success = the attribute gone), then the rows ``makers`` build, each scored against the
    best native row."""
    judge = judge_edit([EDIT[key]], negate=remove)
    tok = OPPOSITE[key].target_tokens if remove else EDIT[key].target_tokens
    curves: dict[str, tuple[Row, Curve, int]] = {}

    def add(make: Callable[[Toolbox], Row], level: float) -> None:
        t0 = time.time()
        row = make(bed)
        c = trace(bed, row, judge, level)
        curves[row.name] = (row, c, unet_calls(bed, make))
        sc = score(c, level)
        bed.log(
            f"  {key:8s} {row.name:44s} id {pct(sc['identity'])} at {sc['dial']:.2f}, max "
            f"{pct(sc['max_success'])}, {curves[row.name][2]} calls [{time.time() - t0:.0f}s]"
        )

    for i in range(3):
        add(lambda b, i=i: native_rows(b, tok)[i], LEVEL)
    native_best = max(score(c, LEVEL)["max_success"] for _, c, _ in curves.values())
    level = LEVEL if native_best >= LEVEL else native_best
    w_dial = score(curves[WINDOW][1], level)["dial"]
    w_star = min(bed.w.steps - K, math.ceil(w_dial)) if w_dial == w_dial else bed.w.steps - K
    if not photo:
        add(lambda b: blend_window_row(b, tok, w_star), level)
    for make in makers:
        add(make, level)

    scores = {name: score(c, level) for name, (_, c, _) in curves.items()}
    natives = [name for name, (row, _, _) in curves.items() if row.native]
    best = max(natives, key=lambda m: _or(scores[m]["identity"], -1.0))
    rows = []
    for name, (row, c, calls) in curves.items():
        r = {"method": name, "native": row.native, "unet_calls": calls, **scores[name]}
        if name != best:
            r.update(paired(c, curves[best][1], level, gen))
            r["diff"] = r["identity"] - scores[best]["identity"]
        rows.append(r)
    return {"level": level, "best_native": best, "rows": rows}


def _or(v: float, default: float) -> float:
    return default if v != v else v


def measure(
    name: str,
    n: int,
    n_sweep: int,
    keys: list[str],
    log: Callable[[str], None],
    only: str | None = None,
) -> dict:
    """One world: the main rows of every edit on ``n`` seeds, the sweeps (delta, ks) of
    smile and hair on ``n_sweep`` (``only``: the natives and that variant's rows, no
    sweeps)."""
    w = load_world(name)
    gen = torch.Generator().manual_seed(0)
    t0 = time.time()
    out: dict = {"seeds": n, "sweep_seeds": n_sweep, "edits": {}}
    main = Toolbox(w, n, log)
    for key in keys:
        log(f"{name}: {key}, {n} seeds")
        out["edits"][key] = measure_edit(main, key, False, gen, only=only)
    if only is not None:
        return out
    small = Toolbox(w, n_sweep, log)
    small.cache = {k: v for k, v in main.cache.items() if k[0] == "att"}
    out["sweeps"] = {}
    for key in ("smile", "hair"):
        log(f"{name}: sweeps of {key}, {n_sweep} seeds")
        out["sweeps"][key] = measure_edit(small, key, True, gen)
    out["seconds"] = round(time.time() - t0, 1)
    out["cpu_seconds"] = round(time.process_time(), 1)
    out["date"] = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    out["machine"] = f"{platform.machine()} CPU, {torch.get_num_threads()} thread(s)"
    return out


def measure_photos(name: str, n: int, keys: list[str], log: Callable[[str], None]) -> dict:
    """One world's photo rows: ``n`` drawn faces per edit."""
    w = load_world(name)
    gen = torch.Generator().manual_seed(0)
    t0 = time.time()
    out: dict = {"seeds": n, "edits": {}}
    for key in keys:
        log(f"{name} photos: {key}, {n} faces")
        out["edits"][key] = measure_edit(PhotoToolbox(w, n, log, key), key, False, gen, True)
    out["seconds"] = round(time.time() - t0, 1)
    out["date"] = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    return out


def measure_removal(name: str, n: int, log: Callable[[str], None]) -> dict:
    """One world's removal rows: ``n`` held-out seeds that smile, made not to."""
    w = load_world(name)
    gen = torch.Generator().manual_seed(0)
    t0 = time.time()
    bed = SmilingSeeds(w, n, log)
    log(f"{name} removal: {n} smiling seeds from {bed.chosen[0]} to {bed.chosen[-1]}")
    out: dict = {"seeds": n, "edits": {}}
    opp = OPPOSITE["smile"]
    rows = makers("smile", REMOVAL_PACK, -1.0, ", negative strength")
    # The pack learned towards the opposite prompt instead, at positive strength.
    rows += makers(opp.key, REMOVAL_PACK[:2], 1.0, f", towards {opp.attribute}={opp.target_value}")
    out["edits"]["smile"] = measure_rows(bed, "smile", rows, gen, remove=True)
    out["seconds"] = round(time.time() - t0, 1)
    out["date"] = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    return out


def merged_rows(old: dict, new: dict) -> dict:
    """``old``'s results of a world with the rows of a partial run (``--only``) put in: a
    row of the same method is replaced, a new one goes after the others.  The natives are
    deterministic, so the best native and the level are the same in both."""
    out = copy.deepcopy(old)
    for key, edit in new["edits"].items():
        rows = {r["method"]: r for r in out["edits"][key]["rows"]}
        rows.update({r["method"]: r for r in edit["rows"]})
        out["edits"][key]["rows"] = list(rows.values())
    return out


def _cell(r: dict) -> str:
    if r["identity"] != r["identity"]:
        return f"n/r ({pct(r['max_success'])})"
    out = pct(r["identity"])
    if "diff" in r:
        out += f" ({100 * r['diff']:+.1f}"
        if "ci" in r:
            out += f" [{100 * r['ci'][0]:+.1f}, {100 * r['ci'][1]:+.1f}]"
        out += ")"
    else:
        out = f"**{out}** (best native)"
    return out


def _table(results: dict, part: str, heads: list[tuple[str, str]]) -> list[str]:
    """Rows = methods, columns = (world, edit)."""
    cols = [(wn, key, results[wn][part][key]) for wn, key in heads if key in results[wn][part]]
    names: list[str] = []
    for _, _, e in cols:
        names += [r["method"] for r in e["rows"] if r["method"] not in names]
    head = ["method (UNet calls per image)"] + [
        f"{wn} {key} (L = {pct(e['level'])})" for wn, key, e in cols
    ]
    lines = ["| " + " | ".join(head) + " |", "|---" * len(head) + "|"]
    for name in names:
        cells, calls = [], ""
        for _, _, e in cols:
            r = next((r for r in e["rows"] if r["method"] == name), None)
            cells.append("" if r is None else _cell(r))
            calls = calls or ("" if r is None else str(r["unet_calls"]))
        lines.append(f"| {name} ({calls}) | " + " | ".join(cells) + " |")
    return lines


def _part(
    results: dict, suffix: str, title: str, intro: str, unit: str, keys: list[str]
) -> list[str]:
    """The table of the runs stored as "<world> <suffix>" (photos, removal), if any."""
    runs = [f"{wn} {suffix}" for wn in KINDS if f"{wn} {suffix}" in results]
    if not runs:
        return []
    when = ", ".join(
        f"{r}: {results[r]['seeds']} {unit}, {results[r]['date']}, {results[r]['seconds']:.0f} s"
        for r in runs
    )
    lines = ["", title, "", intro + when + ".", ""]
    return lines + _table(results, "edits", [(r, key) for r in runs for key in keys])


def render(results: dict) -> str:
    worlds = [wn for wn in KINDS if wn in results]
    out = [
        "Cells: identity kept (%) at the level L of success (90 %, or the best a native graph "
        "reaches), interpolated along each dial; in brackets, points against the best native "
        "graph of that edit with its 95 % paired bootstrap interval. n/r: L not reached (best "
        "success in brackets). k = 6 of N = 20; AVI learned on 16 branched pairs.",
        "",
    ]
    for wn in worlds:
        r = results[wn]
        out.append(
            f"- {wn}: {r['seeds']} held-out seeds (sweeps {r['sweep_seeds']}), {r['date']}, "
            f"{r['machine']}, {r['seconds']:.0f} s wall, {r['cpu_seconds']:.0f} s CPU."
        )
    out += ["", "#### Every edit, default settings", ""]
    out += _table(results, "edits", [(wn, key) for wn in worlds for key in EDIT])
    out += ["", "#### Sweeps of delta and ks (fewer seeds)", ""]
    out += _table(results, "sweeps", [(wn, key) for wn in worlds for key in ("smile", "hair")])
    out += _part(
        results,
        "photos",
        "#### Photos: drawn faces, noised to step k (img2img = the switch from the photo)",
        "",
        "faces per edit",
        list(EDIT),
    )
    out += _part(
        results,
        "removal",
        "#### Removing a smile: held-out seeds that smile unedited; success = not smiling",
        "Natives switch to the opposite prompt (mouth=neutral); the pack's rows run at "
        "negative strength. ",
        "seeds",
        ["smile"],
    )
    return "\n".join(out)


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--world", choices=list(KINDS), nargs="*", default=list(KINDS))
    ap.add_argument("--seeds", type=int, default=100)
    ap.add_argument("--sweep-seeds", type=int, default=48)
    ap.add_argument("--edits", nargs="*", default=list(EDIT))
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--photos", type=int, default=0, help="measure the photo rows on N faces")
    ap.add_argument("--remove", type=int, default=0, help="removing a smile, on N smiling seeds")
    ap.add_argument("--only", help="the natives and this variant's rows (e.g. local), merged in")
    ap.add_argument("--quick", action="store_true", help="16 / 8 seeds, prints, writes nothing")
    ap.add_argument("--render-only", action="store_true")
    args = ap.parse_args()
    results: dict = {}
    if not args.render_only:
        torch.set_num_threads(args.threads)
        n, n_sweep = (16, 8) if args.quick else (args.seeds, args.sweep_seeds)
        start = time.time()

        def log(msg: str) -> None:
            print(f"[{time.time() - start:6.0f}s] {msg}", flush=True)

        for wn in args.world:
            if args.photos:
                results[f"{wn} photos"] = measure_photos(wn, args.photos, args.edits, log)
            elif args.remove:
                results[f"{wn} removal"] = measure_removal(wn, args.remove, log)
            else:
                results[wn] = measure(wn, n, n_sweep, args.edits, log, args.only)
    if not args.quick:  # re-read: the other world may have been measured meanwhile
        old = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
        if args.only:
            results = {wn: merged_rows(old[wn], new) for wn, new in results.items()}
        results = {**old, **results}
    text = render(results)
    print(text)
    if not args.quick:
        RESULTS.write_text(json.dumps(results, indent=1))
        write_section("TOOLBOX", text)


if __name__ == "__main__":
    main()
