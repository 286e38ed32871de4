"""Editing a photo on the semantic world: drawn faces (not generated ones) through the pack's photo
path, against plain img2img with the target prompt.

The photo path, as in example_workflows/edit_photo_with_attribute.json and the "Edit Photo with
Attribute" blueprint: encode the drawn face, add noise to the level of step k
(x_k = x_0 + sigma_k * noise: ComfyUI's AddNoise with the sigmas from k on), run the target prompt
from k to k + delta (z), apply the attribute learned on generated pairs (the generation
benchmark's 16 training seeds, at the same k) with z as target, continue from k with the source
prompt, decode, read out. Baseline: re-generate from step k with the target prompt (img2img at
the same noise level). Scores against the drawn face's true attributes: success = the target
value is read out, identity = the six other attributes are unchanged.

    python -m benchmarks.semantic.photo_benchmark [--faces 200] [--ks 4 8 12 16] [--threads 1]
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import torch

from . import world
from .models import World, load_world
from .pipeline import EDITS, Edit, Pairs, apply, finish, learn, sample_pairs, score
from .readme import write_section
from .run_benchmark import BASE_CONFIG, TRAIN_SEEDS

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "photo_results.json"
FACE_SEED = 424242
NOISE_SEED0 = 50_000
STRENGTHS = (1.0, 2.0, 3.0)


def drawn_faces(edit: Edit, n: int) -> tuple[torch.Tensor, torch.Tensor]:
    """n faces with random attributes, the edited one never already at the target value.
    Returns (images [n, 3, 32, 32] in [0, 1], values [n, 7] 0-based)."""
    g = torch.Generator().manual_seed(FACE_SEED)
    values = torch.stack([torch.randint(0, m, (n,), generator=g) for m in world.N_VALUES], 1)
    others = [v for v in range(world.N_VALUES[edit.index]) if v != edit.target_index]
    pick = torch.randint(0, len(others), (n,), generator=g)
    values[:, edit.index] = torch.tensor(others)[pick]
    images = torch.stack([world.draw(tuple(int(v) for v in row)) for row in values])
    return images, values


def photo_rows(
    w: World, edit: Edit, k: int, delta: int, images: torch.Tensor, seeds: list[int]
) -> dict[str, torch.Tensor]:
    """method -> edited images [n, 3, 32, 32]."""
    src, tgt = edit.source_tokens, edit.target_tokens
    with torch.no_grad():
        x0 = w.ae.encode(images)
    x_k = x0 + float(w.sigmas[k]) * w.noise(seeds)  # AddNoise with the sigmas from k on
    z = w.run(tgt, seeds, k, k + delta, x_start=x_k)  # the target branch from the photo
    attribute = learn(sample_pairs(w, edit, TRAIN_SEEDS, k, delta), BASE_CONFIG, edit, k, delta)
    pairs = Pairs(tuple(seeds), x_k, z)
    rows = {
        "re-generated from step k, source prompt (strength 0)": finish(w, src, seeds, k, x_k),
        "img2img: target prompt from step k": finish(w, tgt, seeds, k, x_k),
    }
    for a in STRENGTHS:
        rows[f"AVI strength {a:g}"] = finish(w, src, seeds, k, apply(attribute, pairs, a))
    return rows


def render(results: dict) -> str:
    m = results["meta"]
    ks = m["ks"]
    out = [
        f"Run: {m['date']} on {m['machine']}, {m['seconds']:.0f} s, {m['faces']} drawn faces "
        f"per edit (the edited attribute never already at the target value), N={m['steps']} "
        f"steps, delta={m['delta']}, attribute learned on {m['train_seeds']} generated "
        f"training pairs at the same k, AVI config {m['config']}. Cells: edit success / "
        "identity kept (the six other attributes of the drawn face read back unchanged).",
        "",
    ]
    for key, res in results["edits"].items():
        out += [
            f"#### {key}: {res['title']}",
            "",
            "| method | " + " | ".join(f"k={k}" for k in ks) + " |",
            "|---" * (len(ks) + 1) + "|",
        ]
        methods = list(next(iter(res["by_k"].values())))
        for name in methods:
            cells = [
                f"{res['by_k'][str(k)][name]['success']:.0%} / "
                f"{res['by_k'][str(k)][name]['identity']:.0%}"
                for k in ks
            ]
            out.append(f"| {name} | " + " | ".join(cells) + " |")
        out.append("")
    return "\n".join(out).rstrip()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--faces", type=int, default=200)
    ap.add_argument("--ks", type=int, nargs="+", default=[4, 8, 12, 16])
    ap.add_argument("--delta", type=int, default=3)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--quick", action="store_true", help="16 faces, prints, writes nothing")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    n = 16 if args.quick else args.faces
    start = time.time()
    w = load_world()
    seeds = list(range(NOISE_SEED0, NOISE_SEED0 + n))
    results: dict = {"edits": {}}
    for edit in EDITS:
        images, values = drawn_faces(edit, n)
        res = results["edits"].setdefault(
            edit.key,
            {
                "title": f"{edit.attribute} -> {edit.target_value} (source prompt "
                f'"{world.caption(edit.source_tokens)}", target prompt '
                f'"{world.caption(edit.target_tokens)}")',
                "by_k": {},
            },
        )
        for k in args.ks:
            rows = photo_rows(w, edit, k, args.delta, images, seeds)
            res["by_k"][str(k)] = {
                name: score(edit, im, images, values).as_dict() for name, im in rows.items()
            }
            for name, sc in res["by_k"][str(k)].items():
                print(
                    f"[{time.time() - start:5.0f}s] {edit.key:8s} k={k:2d} {name:52s} "
                    f"success {sc['success']:.0%} identity {sc['identity']:.0%}",
                    flush=True,
                )
    results["meta"] = {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "machine": f"{platform.machine()} CPU, {torch.get_num_threads()} thread(s) (shared)",
        "seconds": round(time.time() - start, 1),
        "faces": n,
        "ks": args.ks,
        "delta": args.delta,
        "steps": w.steps,
        "train_seeds": len(TRAIN_SEEDS),
        "config": BASE_CONFIG.to_dict(),
    }
    if args.quick:
        print(render(results))
        return
    RESULTS.write_text(json.dumps(results, indent=1) + "\n")
    write_section("PHOTO", render(results))


if __name__ == "__main__":
    main()
