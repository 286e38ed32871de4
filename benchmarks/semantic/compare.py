"""The same benchmark on both semantic worlds, and the side-by-side table.

    python -m benchmarks.semantic.compare --world faces    # the first world (FiLM, 4x16x16)
    python -m benchmarks.semantic.compare --world placed   # the second (cross-attention, 4x32x32)
    python -m benchmarks.semantic.compare                  # both, then the table
    python -m benchmarks.semantic.compare --quick          # 16 seeds, prints, writes nothing

Each world's results go into ``compare.json`` under its name (a one-world run keeps the other
world's); the side-by-side table is written between the COMPARE markers of README.md.

Per world, on the same held-out seeds and settings (k = 6 of 20, 16 training pairs, AVI
``ks = kt`` = a quarter of the latent's side, the share SD's default 16 of 64 has):
caption following; per edit the target prompt alone and the prompt switch at k (no dial: their
own success / identity), then every mode the pack offers scored by identity at matched (90 %)
success with the paired bootstrap against the switch (``sweeps.matched``); and the paper's
three observations (``run_benchmark``'s functions, 32 seeds).
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from collections.abc import Callable
from pathlib import Path

import torch

from . import world
from .models import KINDS, World, load_world
from .readme import write_section
from .run_benchmark import caption_following, observation_components, observation_neighbourhood
from .sweeps import EDIT, Bed, judge_edit, matched, pct

HERE = Path(__file__).parent
RESULTS = HERE / "compare.json"
K, PAIRS = 6, 16
#: (label, Bed.edit_fn method, delta): the paper's mode, its raw yardstick, the pack's branched
#: mode with its raw yardstick, and the stored mean edit (no target run at apply time).
METHODS: tuple[tuple[str, str, int], ...] = (
    ("paper AVI, independent target, d=3", "independent", 3),
    ("paper AVI, independent target, d=0", "independent", 0),
    ("raw difference x+s(z-x), d=3", "raw independent", 3),
    ("branched AVI, d=2", "branched", 2),
    ("raw branched x+s(z_t-x_s), d=2", "raw branched", 2),
    ("mean edit (branched, d=2), stored", "mean edit", 2),
)


def measure(w: World, n: int, log: Callable[[str], None]) -> dict:
    """Every row of one world. ``n`` held-out seeds."""
    t0 = time.time()
    bed = Bed(w, n, log)
    gen = torch.Generator().manual_seed(0)
    ks = w.latent_size // 4
    out: dict = {
        "latent": [4, w.latent_size, w.latent_size],
        "ks": ks,
        "seeds": n,
        "caption_following": caption_following(w, 32 if n < 64 else 128, log),
        "edits": {},
    }
    for key, edit in EDIT.items():
        judge = judge_edit([edit])
        tok = edit.target_tokens

        def plain(k: int, judge=judge, tok=tok) -> tuple[torch.Tensor, torch.Tensor]:
            return bed.outcome(k, n, bed.x(k, False, n), judge, tok)

        switch, alone = plain(K), plain(0)
        rows = {
            "target prompt alone": _rate(alone),
            f"prompt switch at step {K}": _rate(switch),
        }
        for label, method, d in METHODS:
            c = bed.curve(K, n, bed.edit_fn(key, method, K, d, ks, PAIRS, n), judge)
            rows[label] = matched(c, switch, gen)
            log(f"  {key:8s} {label:40s} id@90 {pct(rows[label]['identity_at_90'])}")
        out["edits"][key] = rows
    obs_seeds = bed.seeds(False, min(n, 32))
    out["observation_1"] = observation_neighbourhood(w, obs_seeds, 4)
    out["observation_2_3"] = observation_components(w, obs_seeds, (4, 6, 8), 8, 2.0, log)
    out["meta"] = {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "machine": f"{platform.machine()} CPU, {torch.get_num_threads()} threads",
        "seconds": round(time.time() - t0),
        "finishes": bed.finishes,
    }
    return out


def _rate(outcome: tuple[torch.Tensor, torch.Tensor]) -> dict:
    success, identity = (t.float().mean().item() for t in outcome)
    return {"success": success, "identity": identity}


def _cell(row: dict) -> str:
    """``success / identity`` for the dial-less rows, ``identity at 90 % (diff [CI])`` else."""
    if "identity_at_90" not in row:
        return f"{pct(row['success'])} / {pct(row['identity'])}"
    if row["identity_at_90"] != row["identity_at_90"]:
        return f"n/r (max success {pct(row['max_success'])})"
    out = f"{pct(row['identity_at_90'])} ({100 * row['diff']:+.1f}"
    ci = row.get("diff_ci")
    return out + (f" [{100 * ci[0]:+.1f}, {100 * ci[1]:+.1f}])" if ci else ")")


def _observations(res: dict) -> dict[str, str]:
    """The paper's three observations in one cell each."""
    o1 = res["observation_1"]["steps"][:15]
    step = sum(r["to_next_step"] for r in o1) / len(o1)
    seed = sum(r["other_seed_same_step"] for r in o1) / len(o1)
    o23 = res["observation_2_3"]
    rates = o23["change_rate"]["6"][0]
    top = {n: rates[i] for i, n in enumerate(world.NAMES)}
    ranking = o23["ranking"]
    mouth = ", ".join(f"step {s}: {ranking['mouth'][str(s)]['order'][0]}" for s in o23["steps"])
    random = res["observation_1"]["random_subspaces"]
    return {
        "1. neighbourhood: top-4 subspace distance, step to step (steps 0-14) vs seed to seed, "
        "random": f"{step:.2f} vs {seed:.2f}, random {random:.2f}",
        "2. component 0 x2 at step 6 changes (background / hair / mouth / glasses)": " / ".join(
            f"{100 * top[a]:.0f} %" for a in ("background", "hair", "mouth", "glasses")
        ),
        "3. the mouth's most effective component": mouth,
    }


def render(results: dict) -> str:
    names = [n for n in ("faces", "placed") if n in results]
    head = "| | " + " | ".join(_world_title(results[n], n) for n in names) + " |"
    lines = [
        "Cells: success / identity kept for the rows without a dial; else identity kept at "
        "90 % success (points against the prompt switch at step 6, 95 % paired bootstrap "
        "interval). n/r: 90 % success not reached on the strength ladder.",
        "",
        head,
        "|---" * (len(names) + 1) + "|",
    ]
    cf = {n: results[n]["caption_following"] for n in names}
    lines.append(
        "| caption following (all attributes / worst attribute) | "
        + " | ".join(
            f"{pct(c['all_attributes'])} / {pct(min(c['per_attribute'].values()))}"
            for c in cf.values()
        )
        + " |"
    )
    for key in EDIT:
        lines.append(f"| **{key}** |" + " |" * len(names))
        for row in results[names[0]]["edits"][key]:
            cells = [_cell(results[n]["edits"][key][row]) for n in names]
            lines.append(f"| {row} | " + " | ".join(cells) + " |")
    lines.append("| **the paper's observations** |" + " |" * len(names))
    obs = {n: _observations(results[n]) for n in names}
    for label in obs[names[0]]:
        lines.append(f"| {label} | " + " | ".join(obs[n][label] for n in names) + " |")
    runs = "; ".join(
        f"{n}: {results[n]['meta']['date']}, {results[n]['meta']['machine']}, "
        f"{results[n]['meta']['seconds']} s"
        for n in names
    )
    return "\n".join([*lines, "", f"Runs: {runs}."])


def _world_title(res: dict, name: str) -> str:
    lat = "x".join(map(str, res["latent"]))
    how = "FiLM, summed tokens" if name == "faces" else "cross-attention, per-token"
    return f"{name} ({lat}, {how}; ks = kt = {res['ks']}; {res['seeds']} seeds)"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--world", choices=sorted(KINDS), nargs="*", default=sorted(KINDS))
    ap.add_argument("--seeds", type=int, default=100)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--quick", action="store_true", help="16 seeds, prints, writes nothing")
    ap.add_argument("--render-only", action="store_true", help="rewrite the table from the json")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    start = time.time()

    def log(msg: str) -> None:
        print(f"[{time.time() - start:6.0f}s] {msg}", flush=True)

    results = json.loads(RESULTS.read_text()) if RESULTS.exists() and not args.quick else {}
    if not args.render_only:
        for name in args.world:
            log(f"world {name}")
            results[name] = measure(load_world(name), 16 if args.quick else args.seeds, log)
            if not args.quick:
                RESULTS.write_text(json.dumps(results, indent=1))
    table = render(results)
    if args.quick:
        print(table)
    else:
        write_section("COMPARE", table)
    log("done")


if __name__ == "__main__":
    main()
