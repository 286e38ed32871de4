"""Quick look at the model: caption following on a few prompts, and a PNG grid.

python -m benchmarks.semantic.samples --n 32 --png samples.png
python -m benchmarks.semantic.samples --world placed --n 48 --cfg 7
"""

from __future__ import annotations

import argparse
import time

import torch

from . import world
from .models import KINDS, load_world


def grid_png(images: torch.Tensor, path: str, cols: int = 8, zoom: int = 3) -> None:
    """images [B, 3, S, S] in [0, 1] -> one PNG (nearest-neighbour zoom)."""
    from PIL import Image

    b = images.shape[0]
    rows = (b + cols - 1) // cols
    pad = torch.ones(rows * cols - b, *images.shape[1:])
    g = torch.cat([images, pad]).repeat_interleave(zoom, 2).repeat_interleave(zoom, 3)
    s = g.shape[-1]
    g = g.view(rows, cols, 3, s, s).permute(0, 3, 1, 4, 2).reshape(rows * s, cols * s, 3)
    Image.fromarray((g * 255).round().byte().numpy()).save(path)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--n", type=int, default=32)
    ap.add_argument("--cfg", type=float, default=7.0)
    ap.add_argument("--png", default="")
    ap.add_argument("--world", choices=sorted(KINDS), default="faces")
    ap.add_argument("--weights", default="", help="a weights file (default: the world's)")
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    t0 = time.time()
    w = load_world(args.weights or args.world, cfg=args.cfg)
    g = torch.Generator().manual_seed(7)
    combos = world.all_combinations()
    pick = combos[torch.randint(0, combos.shape[0], (args.n,), generator=g)]
    imgs = w.decode(w.run(pick + 1, list(range(70_000, 70_000 + args.n))))
    vals, rms = w.scene.read_attributes(imgs)
    ok = vals[:, : pick.shape[1]] == pick
    print(
        f"cfg {args.cfg}: all {ok.all(1).float().mean():.3f} per attribute "
        f"{[round(v, 3) for v in ok.float().mean(0).tolist()]} rms {rms.mean():.3f} "
        f"({time.time() - t0:.0f}s)"
    )
    if args.png:
        grid_png(imgs, args.png)


if __name__ == "__main__":
    main()
