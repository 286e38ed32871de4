"""Semantic benchmark: does an attribute learned from one prompt pair transfer to new seeds?

    python -m benchmarks.semantic.run_benchmark            # full table (200 held-out seeds)
    python -m benchmarks.semantic.run_benchmark --quick    # a smoke run (16 seeds)

Writes ``benchmarks/semantic/results.json`` and the tables in ``benchmarks/semantic/README.md``
(between the BENCHMARK markers). Everything runs from the committed weights on the CPU.
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import time
from dataclasses import replace
from pathlib import Path

import torch

import svd_core

from . import world
from .models import World, load_world
from .pipeline import EDITS, Edit, apply, finish, learn, sample_pairs, score
from .readme import write_section

HERE = Path(__file__).parent
RESULTS = HERE / "results.json"
OBSERVATIONS = HERE / "observations.json"
CAPTIONS = HERE / "captions.json"

#: The benchmark's AVI setting: 4 of 16 components, the same share as the default 16 of SD's 64.
BASE_CONFIG = svd_core.AVIConfig(ks=4, kt=4)
STRENGTHS = (0.5, 1.0, 2.0, 3.0)
RAW_STRENGTHS = (0.5, 1.0, 2.0)
TRAIN_SEEDS = tuple(range(16))
TEST_SEED0 = 10_000


class EditRun:
    """One edit on the held-out seeds; rows are computed on demand and stored in ``res``.

    Rows already in ``res["rows"]`` (a resumed run) are not recomputed. Latents, source images
    and learned attributes are kept in memory between passes.
    """

    def __init__(
        self,
        w: World,
        edit: Edit,
        k: int,
        delta: int,
        test_seeds: list[int],
        config: svd_core.AVIConfig,
        res: dict,
        log,
    ) -> None:
        self.w, self.edit, self.k, self.delta, self.seeds = w, edit, k, delta, test_seeds
        self.config, self.res, self.log = config, res, log
        res.setdefault("rows", {})
        res["title"] = (
            f'{edit.attribute}: prompt "{world.caption(edit.source_tokens)}" -> '
            f'"{world.caption(edit.target_tokens)}"'
        )
        self._attrs: dict[str, object] = {}
        self._ready = False

    def _prepare(self) -> None:
        """Sample the pairs and source images (skipped when every wanted row is stored)."""
        if self._ready:
            return
        w, edit, k, delta = self.w, self.edit, self.k, self.delta
        self.train = sample_pairs(w, edit, TRAIN_SEEDS, k, delta)
        self.test = sample_pairs(w, edit, self.seeds, k, delta)
        self.source_images = finish(w, edit.source_tokens, self.seeds, k, self.test.x)
        self.source_values, _ = w.scene.read_attributes(self.source_images)
        self._ready = True

    def attribute(self, name: str, cfg: svd_core.AVIConfig):
        if name not in self._attrs:
            self._attrs[name] = learn(self.train, cfg, self.edit, self.k, self.delta)
            if name == "base":
                att = self._attrs[name]
                self.res["attribute_loss"] = {
                    "final_loss": round(att.final_loss, 6),
                    "optimum_loss": round(att.optimum_loss, 6),
                }
        return self._attrs[name]

    def row_makers(self) -> dict:
        """name -> function returning the edited images [B, 3, 32, 32] (after _prepare)."""
        w, k, d = self.w, self.k, self.delta
        x = self.test.x if self._ready else None
        z = self.test.z if self._ready else None
        src, tgt, seeds = self.edit.source_tokens, self.edit.target_tokens, self.seeds
        cfg = self.config

        def avi(a: float, name: str = "base", c: svd_core.AVIConfig = cfg):
            return lambda: finish(w, src, seeds, k, apply(self.attribute(name, c), self.test, a))

        makers = {
            "source prompt (no edit)": lambda: self.source_images,
            "target prompt alone": lambda: finish(w, tgt, seeds, k + d, z),
            f"prompt switch at step {k}": lambda: finish(w, tgt, seeds, k, x),
        }
        for a in RAW_STRENGTHS:
            makers[f"raw difference x+{a:g}(z-x)"] = lambda a=a: finish(
                w, src, seeds, k, x + a * (z - x)
            )
        for a in STRENGTHS:
            makers[f"AVI strength {a:g}"] = avi(a)
        ablations = {
            "AVI without L1 (target)": replace(cfg, w_target=0.0),
            "AVI without L2 (source)": replace(cfg, w_source=0.0),
            "AVI without L3 (target sv)": replace(cfg, w_target_sv=0.0),
            "AVI without L4 (source sv)": replace(cfg, w_source_sv=0.0),
            "AVI keep_tail off": replace(cfg, keep_tail=False),
        }
        for name, c in ablations.items():
            makers[name] = avi(1.0, name, c)
        return makers

    def compute(self, names: list[str], save) -> None:
        for name in names:
            if name in self.res["rows"]:
                continue
            self._prepare()
            images = self.row_makers()[name]()
            sc = score(self.edit, images, self.source_images, self.source_values, self.w.scene)
            self.res["rows"][name] = sc.as_dict()
            self.log(f"  {self.edit.key:8s} {name:34s} {self.res['rows'][name]}")
            save()
        # Keep the table in a fixed order whatever order the passes ran in.
        order = list(self.row_makers())
        self.res["rows"] = {n: self.res["rows"][n] for n in order if n in self.res["rows"]}


#: Rows computed first for every edit, then the rest (so a cut-short run has the core table).
CORE_ROWS = (
    "source prompt (no edit)",
    "target prompt alone",
    "prompt switch at step {k}",
    "raw difference x+1(z-x)",
    "AVI strength 1",
    "AVI strength 2",
    "AVI without L1 (target)",
    "AVI without L2 (source)",
    "AVI without L3 (target sv)",
    "AVI without L4 (source sv)",
    "AVI keep_tail off",
)


def observation_neighbourhood(w: World, seeds: list[int], kdim: int) -> dict:
    """Observation 1: subspace distance between consecutive steps vs between seeds / at random."""
    tok = torch.zeros(len(world.ATTRIBUTES), dtype=torch.long)
    lat = [w.run(tok, seeds, 0, 0)]
    for i in range(w.steps):
        lat.append(w.run(tok, seeds, i, i + 1, x_start=lat[-1]))
    svds = [svd_core.decompose(x) for x in lat]
    g = torch.Generator().manual_seed(0)
    size = w.latent_size
    rand = torch.linalg.qr(torch.randn(4000, size, kdim, generator=g))[0]
    rand2 = torch.linalg.qr(torch.randn(4000, size, kdim, generator=g))[0]
    cos = torch.linalg.svdvals(rand.transpose(-1, -2) @ rand2).clamp(0, 1)
    random_d = torch.linalg.vector_norm(torch.arccos(cos), dim=-1).mean().item()
    per_step = []
    for i in range(w.steps):
        nxt = svd_core.subspace_distance(svds[i], svds[i + 1], kdim).mean().item()
        shifted = svd_core.decompose(torch.roll(lat[i + 1], 1, dims=0))
        other = svd_core.subspace_distance(svds[i + 1], shifted, kdim).mean().item()
        per_step.append(
            {"step": i, "to_next_step": round(nxt, 4), "other_seed_same_step": round(other, 4)}
        )
    return {
        "k": kdim,
        "random_subspaces": round(random_d, 4),
        "dimension": size,
        "max_possible": round(math.sqrt(kdim) * math.pi / 2, 4),
        "steps": per_step,
    }


def observation_components(
    w: World, seeds: list[int], steps: tuple[int, ...], n_comp: int, factor: float, log
) -> dict:
    """Observations 2 and 3: scale one singular value (all channels) at a step, continue,
    count how often each attribute changes; then compare the rankings between steps."""
    tok = torch.zeros(len(world.ATTRIBUTES), dtype=torch.long)
    table: dict[int, list[list[float]]] = {}
    for s in steps:
        x = w.run(tok, seeds, 0, s)
        base, _ = w.scene.read_attributes(finish(w, tok, seeds, s, x))
        svd = svd_core.decompose(x)
        rates = []
        for i in range(n_comp):
            edited = svd_core.recompose(svd_core.scale_singular_values(svd, factor, [i]))
            vals, _ = w.scene.read_attributes(finish(w, tok, seeds, s, edited))
            changed = (vals != base)[:, : len(world.NAMES)]  # attributes, not the placement
            rates.append([round(v, 4) for v in changed.float().mean(0).tolist()])
        table[s] = rates
        log(f"  components at step {s}: done")
    ranking = {}
    for a, name in enumerate(world.NAMES):
        per = {}
        for s in steps:
            col = torch.tensor([table[s][i][a] for i in range(n_comp)])
            per[str(s)] = {
                "order": torch.argsort(col, descending=True, stable=True).tolist(),
                "top_rate": round(col.max().item(), 4),
            }
        ranking[name] = per
    return {
        "factor": factor,
        "steps": list(steps),
        "components": n_comp,
        "change_rate": {str(s): v for s, v in table.items()},
        "ranking": ranking,
    }


def caption_following(w: World, n: int, log) -> dict:
    """Fully specified random prompts; fraction of attributes (and whole images) read back."""
    g = torch.Generator().manual_seed(12345)
    combos = world.all_combinations()
    pick = combos[torch.randint(0, combos.shape[0], (n,), generator=g)]
    seeds = list(range(50_000, 50_000 + n))
    imgs = []
    for i in range(0, n, 256):
        lat = w.run(pick[i : i + 256] + 1, seeds[i : i + 256])
        imgs.append(w.decode(lat))
    vals, rms = w.scene.read_attributes(torch.cat(imgs))
    ok = vals[:, : pick.shape[1]] == pick
    res = {
        "prompts": n,
        "all_attributes": round(ok.all(1).float().mean().item(), 4),
        "per_attribute": {
            nm: round(ok[:, i].float().mean().item(), 4) for i, nm in enumerate(world.NAMES)
        },
        "mean_attribute": round(ok.float().mean().item(), 4),
        "readout_rms": round(rms.mean().item(), 4),
    }
    # Single-attribute prompts: does the one named attribute show?
    single = []
    for i, a in enumerate(world.ATTRIBUTES):
        for v in range(len(a.values)):
            tok = torch.zeros(len(world.ATTRIBUTES), dtype=torch.long)
            tok[i] = v + 1
            sd = list(range(60_000, 60_000 + 8))
            vv, _ = w.scene.read_attributes(w.decode(w.run(tok, sd)))
            single.append((vv[:, i] == v).float().mean().item())
    res["single_attribute_prompts"] = round(sum(single) / len(single), 4)
    log(f"  caption following: {res}")
    return res


def fmt_table(edit_key: str, res: dict) -> str:
    loss = res.get("attribute_loss", {"final_loss": math.nan, "optimum_loss": math.nan})
    lines = [
        f"### {edit_key}: {res['title']}",
        "",
        f"AVI training loss {loss['final_loss']:.4f} (exact optimum {loss['optimum_loss']:.4f}).",
        "",
        "| method | edit success | identity kept | pixel distance outside | readout RMS |",
        "|---|---|---|---|---|",
    ]
    for name, r in res["rows"].items():
        lines.append(
            f"| {name} | {r['success']:.1%} | {r['identity']:.1%} | "
            f"{r['pixel_distance_outside']:.4f} | {r['readout_rms']:.4f} |"
        )
    return "\n".join(lines)


def render(results: dict) -> str:
    m = results["meta"]
    cf = results.get("caption_following") or {
        "prompts": 0,
        "all_attributes": math.nan,
        "mean_attribute": math.nan,
        "per_attribute": {},
        "single_attribute_prompts": math.nan,
    }
    out = [
        f"Run: {m['date']} on {m['machine']}, {m['seconds']:.0f} s, {m['test_seeds']} held-out "
        f"seeds, {m['train_seeds']} training seeds, N={m['steps']} DDIM steps, CFG {m['cfg']}, "
        f"edit step k={m['k']}, delta={m['delta']}, AVI config {m['config']}.",
        "",
        "#### Caption following",
        "",
        f"Fully specified prompts ({cf['prompts']}): all seven attributes right "
        f"{cf['all_attributes']:.1%}, mean per attribute {cf['mean_attribute']:.1%} "
        f"({', '.join(f'{k} {v:.0%}' for k, v in cf['per_attribute'].items())}). "
        f"Single-attribute prompts: named attribute shown {cf['single_attribute_prompts']:.1%}.",
        "",
    ]
    for key, res in results["edits"].items():
        out += [fmt_table(key, res), ""]
    if "observation_1" not in results:
        return "\n".join(out)
    o1 = results["observation_1"]
    out += [
        "#### Observation 1: small neighbourhood",
        "",
        f"Grassmann distance of the top-{o1['k']} left singular subspaces, mean over seeds "
        f"and channels (random {o1['k']}-dim subspaces of R^{o1.get('dimension', 16)}: "
        f"{o1['random_subspaces']:.3f}; "
        f"maximum {o1['max_possible']:.3f}).",
        "",
        "| step i | d(step i, step i+1) | d(seed, other seed) at step i+1 |",
        "|---|---|---|",
    ]
    for r in o1["steps"]:
        out.append(f"| {r['step']} | {r['to_next_step']:.3f} | {r['other_seed_same_step']:.3f} |")
    if "observation_2_3" not in results:
        return "\n".join(out)
    o2 = results["observation_2_3"]
    out += [
        "",
        "#### Observations 2 and 3: which component changes which attribute",
        "",
        f"Scale singular value i (0 = largest) by {o2['factor']} in every channel at a step, "
        "finish with the empty prompt, read out: fraction of seeds whose attribute changed.",
        "",
    ]
    for s in o2["steps"]:
        out += [
            f"Step {s} of {results['meta']['steps']}:",
            "",
            "| component | " + " | ".join(world.NAMES) + " |",
            "|---" * (len(world.NAMES) + 1) + "|",
        ]
        for i, rates in enumerate(o2["change_rate"][str(s)]):
            out.append(f"| {i} | " + " | ".join(f"{v:.0%}" for v in rates) + " |")
        out.append("")
    out += [
        "Ranking of components by change rate (most effective first) per step:",
        "",
        "| attribute | " + " | ".join(f"step {s}" for s in o2["steps"]) + " |",
        "|---" * (len(o2["steps"]) + 1) + "|",
    ]
    for name, per in o2["ranking"].items():
        cells = [
            " ".join(map(str, per[str(s)]["order"][:4])) + f" ({per[str(s)]['top_rate']:.0%})"
            for s in o2["steps"]
        ]
        out.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--seeds", type=int, default=200)
    ap.add_argument("--k", type=int, default=6, help="edit step (default round(0.3 N))")
    ap.add_argument("--delta", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument(
        "--resume",
        action="store_true",
        help="keep the sections already in results.json (a cut-short run)",
    )
    ap.add_argument("--quick", action="store_true", help="16 seeds, prints, writes nothing")
    ap.add_argument(
        "--observations-only",
        action="store_true",
        help="only the paper's three observations, into observations.json "
        "(can run beside the main run; the main run merges the file)",
    )
    ap.add_argument(
        "--captions-only",
        action="store_true",
        help="only caption following, into captions.json (merged likewise)",
    )
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    n = 16 if args.quick else args.seeds
    start = time.time()

    def log(msg: str) -> None:
        print(f"[{time.time() - start:6.0f}s] {msg}", flush=True)

    w = load_world()
    test_seeds = list(range(TEST_SEED0, TEST_SEED0 + n))
    obs_seeds = test_seeds[: min(n, 32)]
    if args.captions_only:
        CAPTIONS.write_text(json.dumps(caption_following(w, 128, log), indent=1))
        return
    if args.observations_only:
        t0 = time.time()
        obs = {"observation_1": observation_neighbourhood(w, obs_seeds, 4)}
        obs["observation_2_3"] = observation_components(w, obs_seeds, (4, 6, 8), 8, 2.0, log)
        obs["seconds"] = round(time.time() - t0, 1)
        OBSERVATIONS.write_text(json.dumps(obs, indent=1))
        log("done")
        return
    results: dict = json.loads(RESULTS.read_text()) if args.resume and RESULTS.exists() else {}
    results.setdefault("edits", {})
    if CAPTIONS.exists():
        results.setdefault("caption_following", json.loads(CAPTIONS.read_text()))
    if OBSERVATIONS.exists():
        for key, v in json.loads(OBSERVATIONS.read_text()).items():
            if key.startswith("observation"):
                results.setdefault(key, v)
    elapsed = results.get("meta", {}).get("seconds", 0.0) if args.resume else 0.0

    def save() -> None:
        results["meta"] = {
            "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
            "machine": f"{platform.machine()} CPU, {torch.get_num_threads()} threads (shared)",
            "seconds": round(elapsed + time.time() - start, 1),
            "test_seeds": n,
            "train_seeds": len(TRAIN_SEEDS),
            "steps": w.steps,
            "cfg": w.cfg,
            "k": args.k,
            "delta": args.delta,
            "config": BASE_CONFIG.to_dict(),
        }
        if not args.quick:
            RESULTS.write_text(json.dumps(results, indent=1))
            write_section("BENCHMARK", render(results))

    runs = {}
    core = [r.format(k=args.k) for r in CORE_ROWS]
    for edit in EDITS:
        res = results["edits"].setdefault(edit.key, {})
        runs[edit.key] = EditRun(w, edit, args.k, args.delta, test_seeds, BASE_CONFIG, res, log)
        runs[edit.key].compute(core, save)
    if "caption_following" not in results:
        results["caption_following"] = caption_following(w, 32 if args.quick else 128, log)
        save()
    save()
    if "observation_1" not in results:
        results["observation_1"] = observation_neighbourhood(w, obs_seeds, 4)
        save()
    if "observation_2_3" not in results:
        results["observation_2_3"] = observation_components(
            w, test_seeds[: min(n, 32)], (4, 6, 8), 8, 2.0, log
        )
        save()
    for run in runs.values():
        run.compute(list(run.row_makers()), save)
    save()  # the last compute() put its rows in table order after its last save
    log("done")
    if args.quick:
        print(render(results))


if __name__ == "__main__":
    main()
