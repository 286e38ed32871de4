"""Train a semantic world's autoencoder and token-conditioned latent diffusion model (CPU).

    nice -n 15 python -m benchmarks.semantic.train --ae-minutes 4 --unet-minutes 25
    python -m benchmarks.semantic.train --world placed --ae-minutes 5 --unet-minutes 90

Both phases are bounded by wall time, not step counts, because the machine is shared; the
log records the steps actually done. The UNet's EMA weights are checkpointed to
the world's weights file (``weights/semantic_world.safetensors`` or ``placed_world.safetensors``)
every ``--checkpoint-seconds`` so a cut-short run is usable.
Training is not part of the test suite.
"""

from __future__ import annotations

import argparse
import copy
import json
import math
import time
from pathlib import Path

import torch
from safetensors import safe_open
from torch.nn import functional as F

from .models import KINDS, AutoEncoder, Kind, alphas_cumprod, load_world, save_world
from .world import N_VALUES

LOGS = {
    "faces": Path(__file__).with_name("weights") / "train_log.json",
    "placed": Path(__file__).with_name("weights") / "placed_train_log.json",
}


def _chunked(fn, x: torch.Tensor, chunk: int = 512) -> torch.Tensor:
    return torch.cat([fn(x[i : i + chunk]) for i in range(0, x.shape[0], chunk)])


def train_ae(kind: Kind, minutes: float, seed: int) -> tuple[AutoEncoder, dict]:
    """Fit the autoencoder on all templates; return it with its latent scale set to 1/std."""
    torch.manual_seed(seed)
    labels, images = kind.scene.templates()
    ae = AutoEncoder()
    opt = torch.optim.Adam(ae.parameters(), lr=2e-3)
    start, step, losses = time.time(), 0, []
    while time.time() - start < minutes * 60:
        idx = torch.randint(0, images.shape[0], (64,))
        x = images[idx]
        z = ae.encoder(x * 2 - 1)
        # Latent noise makes the decoder tolerate imperfect latents from the diffusion model.
        z_noisy = z + 0.1 * z.detach().std() * torch.randn_like(z)
        rec = ae.decoder(z_noisy)
        loss = F.mse_loss(rec, x * 2 - 1) + 1e-4 * z.pow(2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        step += 1
        if step % 50 == 0:
            losses.append((step, round(loss.item(), 6)))
            print(f"ae step {step} loss {loss.item():.5f}", flush=True)
    ae.eval()
    with torch.no_grad():
        z = _chunked(lambda x: ae.encoder(x * 2 - 1), images)
        ae.scale.fill_(1.0 / z.std().item())
        rec = _chunked(lambda x: ae.decode(ae.encode(x)), images)
    read, _ = kind.scene.read_attributes(rec)
    acc = (read == labels).all(1).float().mean().item()
    info = {
        "steps": step,
        "seconds": round(time.time() - start),
        "losses": losses,
        "reconstruction_readout_accuracy": acc,
        "scale": ae.scale.item(),
    }
    print(f"ae done: {step} steps, readout accuracy on reconstructions {acc:.4f}", flush=True)
    return ae, info


def drop_tokens(combos: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """0-based combos [B, 7] -> tokens: each attribute unspecified with p=0.5, all with p=0.1."""
    tok = combos + 1
    keep = torch.rand(tok.shape, generator=gen) >= 0.5
    keep &= torch.rand(tok.shape[0], 1, generator=gen) >= 0.1
    return tok * keep


def train_unet(
    kind: Kind,
    ae: AutoEncoder,
    minutes: float,
    seed: int,
    checkpoint_seconds: float,
    meta: dict,
    batch: int,
    init: torch.nn.Module | None = None,
    step0: int = 0,
    lr: float = 1.5e-3,
    lr_end: float = 1.0,
    out: Path | None = None,
    offset_noise: float = 0.0,
) -> tuple[torch.nn.Module, dict]:
    """Epsilon-prediction training; ``init`` continues from saved (EMA) weights.

    The learning rate warms up over 100 steps, then follows a cosine over the run's wall time
    from ``lr`` down to ``lr * lr_end`` (``lr_end=1``: constant).

    ``offset_noise`` adds ``offset_noise * N(0, 1)`` per image and channel to the training
    noise (offset noise, as in many SD fine-tunes). Without it a 32x32 latent's channel means
    survive even t = 999 (the backgrounds' means differ by up to 4x the noise mean's std), so
    the model reads a global colour off the seed's noise and never learns it from the prompt.
    """
    torch.manual_seed(seed + step0)
    gen = torch.Generator().manual_seed(seed + step0)
    out = kind.weights if out is None else out
    labels, images = kind.scene.templates()
    combos = labels[:, : len(N_VALUES)]  # the placement column (second world) is never prompted
    with torch.no_grad():
        latents = _chunked(ae.encode, images)
    del images
    unet = kind.unet() if init is None else copy.deepcopy(init).train()
    ema = copy.deepcopy(unet).eval()
    opt = torch.optim.AdamW(unet.parameters(), lr=1e-3, weight_decay=0.0)
    ac = alphas_cumprod().float()
    start, last_ckpt, step, losses = time.time(), time.time(), step0, []
    run_loss, run_steps = 0.0, 0
    while time.time() - start < minutes * 60:
        idx = torch.randint(0, latents.shape[0], (batch,), generator=gen)
        x0 = latents[idx]
        tok = drop_tokens(combos[idx], gen)
        t = torch.randint(0, 1000, (batch,), generator=gen)
        noise = torch.randn(x0.shape, generator=gen)
        if offset_noise:
            noise = noise + offset_noise * torch.randn(batch, x0.shape[1], 1, 1, generator=gen)
        a = ac[t].view(-1, 1, 1, 1)
        xt = a.sqrt() * x0 + (1 - a).sqrt() * noise
        loss = F.mse_loss(unet(xt, t.float(), tok), noise)
        frac = min(1.0, (time.time() - start) / (minutes * 60))
        cosine = lr_end + (1 - lr_end) * 0.5 * (1 + math.cos(math.pi * frac))
        for g in opt.param_groups:
            g["lr"] = lr * cosine * min(1.0, (step - step0 + 1) / 100)
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(unet.parameters(), 1.0)
        opt.step()
        decay = min(0.999, (1 + step - step0) / (10 + step - step0))
        with torch.no_grad():
            for pe, p in zip(ema.parameters(), unet.parameters(), strict=True):
                pe.lerp_(p, 1 - decay)
        step += 1
        run_loss += loss.item()
        run_steps += 1
        if step % 100 == 0:
            # A resumed run's first entry averages only the steps up to the round hundred.
            losses.append((step, round(run_loss / run_steps, 5)))
            print(
                f"unet step {step} loss {run_loss / run_steps:.5f} t={time.time() - start:.0f}s",
                flush=True,
            )
            run_loss, run_steps = 0.0, 0
        if time.time() - last_ckpt > checkpoint_seconds:
            save_world(ae, ema, out, {"unet_steps": str(step), **meta})
            last_ckpt = time.time()
    save_world(ae, ema, out, {"unet_steps": str(step), **meta})
    return ema, {
        "steps": step,
        "batch": batch,
        "seconds": round(time.time() - start),
        "losses": losses,
    }


def plot_losses(log: dict, png: Path) -> None:
    """The UNet's loss curve over every run in ``log`` (mean of each 100 steps), log scale."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3.2), dpi=100)
    runs = [run for run in log["runs"] if run["unet"]["losses"]]
    for i, run in enumerate(runs):
        offset = run["args"].get("offset_noise", 0.0)
        label = f"UNet run {i + 1}" + (f", offset noise {offset}" if offset else "")
        ax.plot(*zip(*run["unet"]["losses"], strict=True), label=label, lw=1.2)
    ax.set(xlabel="UNet step", ylabel="epsilon MSE", yscale="log")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(png)
    plt.close(fig)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--world", choices=sorted(KINDS), default="faces")
    ap.add_argument("--ae-minutes", type=float, default=4.0)
    ap.add_argument("--unet-minutes", type=float, default=25.0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--checkpoint-seconds", type=float, default=120.0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--lr", type=float, default=1.5e-3)
    ap.add_argument(
        "--lr-end",
        type=float,
        default=1.0,
        help="final learning rate as a fraction of --lr (cosine over the run)",
    )
    ap.add_argument(
        "--offset-noise",
        type=float,
        default=0.0,
        help="std of a per-image, per-channel constant added to the training noise",
    )
    ap.add_argument(
        "--out",
        type=Path,
        default=None,
        help="where to write the weights (default: the world's committed file)",
    )
    ap.add_argument(
        "--plot",
        type=Path,
        default=None,
        help="only draw the world's loss curve from its log into this PNG",
    )
    ap.add_argument(
        "--resume",
        action="store_true",
        help="keep the saved autoencoder and continue the saved UNet",
    )
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    kind = KINDS[args.world]
    weights = kind.weights
    args.out = weights if args.out is None else args.out
    meta = {"seed": str(args.seed), "format": "semantic-world-1", "world": kind.name}
    # A scratch --out keeps its own log beside it, so the committed log changes only with the
    # committed weights.
    log_path = LOGS[kind.name] if args.out == weights else args.out.with_suffix(".log.json")
    history = log_path if log_path.exists() else LOGS[kind.name]
    if args.plot is not None:
        plot_losses(json.loads(history.read_text()), args.plot)
        return
    log = json.loads(history.read_text()) if args.resume and history.exists() else {"runs": []}
    if args.resume:
        # Continue a scratch file if it exists (a cut-short run), else the committed weights.
        source = args.out if args.out.exists() else weights
        saved = load_world(source)
        ae, init = saved.ae, saved.unet
        step0 = int(safe_open(str(source), "pt").metadata()["unet_steps"])
    else:
        ae, ae_info = train_ae(kind, args.ae_minutes, args.seed)
        log["ae"] = ae_info
        init, step0 = None, 0
        save_world(ae, kind.unet(), args.out, {"unet_steps": "0", **meta})
    unet, unet_info = train_unet(
        kind,
        ae,
        args.unet_minutes,
        args.seed,
        args.checkpoint_seconds,
        meta,
        args.batch,
        init,
        step0,
        args.lr,
        args.lr_end,
        args.out,
        args.offset_noise,
    )
    run_args = {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()}
    log.setdefault("runs", []).append({"args": run_args, "unet": unet_info})
    log_path.write_text(json.dumps(log, indent=1))
    print("done", flush=True)


if __name__ == "__main__":
    main()
