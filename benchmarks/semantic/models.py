"""The small latent diffusion models of the semantic benchmark: autoencoder, UNets, DDIM sampler.

Two worlds share this code. The first: image [B, 3, 32, 32] in [0, 1] <-> latent
[B, 4, 16, 16] (scaled to unit std, like SD's ``scale_factor``), a UNet conditioned on the
summed attribute tokens by FiLM. The second (``world_placed``): image [B, 3, 64, 64] <-> latent
[B, 4, 32, 32], a UNet conditioned by cross-attention over one embedding per token, as SD's
UNet attends to its text encoder's per-word embeddings. Both predict noise (epsilon) on the SD
scaled-linear schedule (T = 1000). Sampling follows ComfyUI's
k-diffusion convention, so a latent "at step k" is ``x0 + sigma_k * noise`` with leftover noise
kept, exactly what ``KSamplerAdvanced(end_at_step=k, return_with_leftover_noise=enable)``
returns; ``run`` continues from any step, like a second ``KSamplerAdvanced`` with
``add_noise=disable``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

import torch
from safetensors import safe_open
from safetensors.torch import load_file, save_file
from torch import nn
from torch.nn import functional as F

from . import world, world_placed

LATENT_CHANNELS = 4
EMB = 128
WEIGHTS = Path(__file__).with_name("weights") / "semantic_world.safetensors"
WEIGHTS_PLACED = Path(__file__).with_name("weights") / "placed_world.safetensors"


class AutoEncoder(nn.Module):
    """Deterministic conv autoencoder, [3, S, S] -> [4, S/2, S/2] -> [3, S, S] (S = 32 or 64)."""

    def __init__(self, width: int = 16) -> None:
        super().__init__()
        self.encoder = nn.Sequential(
            nn.Conv2d(3, width, 3, padding=1),
            nn.SiLU(),
            nn.Conv2d(width, 2 * width, 3, stride=2, padding=1),
            nn.SiLU(),
            nn.Conv2d(2 * width, 2 * width, 3, padding=1),
            nn.SiLU(),
            nn.Conv2d(2 * width, LATENT_CHANNELS, 1),
        )
        self.decoder = nn.Sequential(
            nn.Conv2d(LATENT_CHANNELS, 2 * width, 3, padding=1),
            nn.SiLU(),
            nn.Conv2d(2 * width, 2 * width, 3, padding=1),
            nn.SiLU(),
            nn.Upsample(scale_factor=2, mode="nearest"),
            nn.Conv2d(2 * width, width, 3, padding=1),
            nn.SiLU(),
            nn.Conv2d(width, 3, 3, padding=1),
        )
        self.register_buffer("scale", torch.ones(()))

    def encode(self, images: torch.Tensor) -> torch.Tensor:
        """[B, 3, S, S] in [0, 1] -> [B, 4, S/2, S/2], unit std over the dataset."""
        return self.encoder(images * 2 - 1) * self.scale

    def decode(self, latents: torch.Tensor) -> torch.Tensor:
        """[B, 4, S/2, S/2] -> [B, 3, S, S] in [0, 1]."""
        return (self.decoder(latents / self.scale) + 1).mul(0.5).clamp(0, 1)


def timestep_embedding(t: torch.Tensor, dim: int = EMB) -> torch.Tensor:
    """Sinusoidal embedding of float timesteps [B] -> [B, dim]."""
    half = dim // 2
    freqs = torch.exp(-math.log(10000.0) * torch.arange(half, dtype=torch.float32) / half)
    args = t.float()[:, None] * freqs[None]
    return torch.cat([torch.cos(args), torch.sin(args)], dim=1)


class Block(nn.Module):
    """Residual block with FiLM from the (time + tokens) embedding."""

    def __init__(self, cin: int, cout: int) -> None:
        super().__init__()
        self.norm1 = nn.GroupNorm(8, cin)
        self.conv1 = nn.Conv2d(cin, cout, 3, padding=1)
        self.film = nn.Linear(EMB, 2 * cout)
        self.norm2 = nn.GroupNorm(8, cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1)
        self.skip = nn.Conv2d(cin, cout, 1) if cin != cout else nn.Identity()

    def forward(self, x: torch.Tensor, emb: torch.Tensor) -> torch.Tensor:
        h = self.conv1(F.silu(self.norm1(x)))
        scale, shift = self.film(emb)[:, :, None, None].chunk(2, dim=1)
        h = self.norm2(h) * (1 + scale) + shift
        h = self.conv2(F.silu(h))
        return self.skip(x) + h


class UNet(nn.Module):
    """Tiny UNet on [B, 4, 16, 16]: 16 -> 8 -> 4 -> 8 -> 16, FiLM-conditioned everywhere."""

    def __init__(self, c: int = 32) -> None:
        super().__init__()
        self.time = nn.Sequential(nn.Linear(EMB, EMB), nn.SiLU(), nn.Linear(EMB, EMB))
        # One embedding table per attribute; row 0 of each is "unspecified".
        self.tokens = nn.ModuleList(nn.Embedding(n + 1, EMB) for n in world.N_VALUES)
        self.cond = nn.Sequential(nn.SiLU(), nn.Linear(EMB, EMB))
        self.conv_in = nn.Conv2d(LATENT_CHANNELS, c, 3, padding=1)
        self.d1 = Block(c, c)
        self.down1 = nn.Conv2d(c, 2 * c, 3, stride=2, padding=1)
        self.d2 = Block(2 * c, 2 * c)
        self.down2 = nn.Conv2d(2 * c, 3 * c, 3, stride=2, padding=1)
        self.m1 = Block(3 * c, 3 * c)
        self.m2 = Block(3 * c, 3 * c)
        self.up2 = nn.Conv2d(3 * c, 2 * c, 3, padding=1)
        self.u2 = Block(4 * c, 2 * c)
        self.up1 = nn.Conv2d(2 * c, c, 3, padding=1)
        self.u1 = Block(2 * c, c)
        self.norm_out = nn.GroupNorm(8, c)
        self.conv_out = nn.Conv2d(c, LATENT_CHANNELS, 3, padding=1)

    def context(self, tok: torch.Tensor) -> torch.Tensor:
        """tok [B, 7] long -> the prompt's conditioning, the summed embeddings [B, EMB]."""
        return sum(table(tok[:, i]) for i, table in enumerate(self.tokens))

    def forward(self, x: torch.Tensor, t: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        """x [B, 4, 16, 16], t [B] float timesteps, cond: tokens [B, 7] long or a context
        from :meth:`context` -> eps [B, 4, 16, 16]."""
        emb = self.time(timestep_embedding(t))
        if cond.is_floating_point():
            emb = emb + cond
        else:  # the tokens one by one, in the order the weights were trained with
            for i, table in enumerate(self.tokens):
                emb = emb + table(cond[:, i])
        emb = self.cond(emb)
        h1 = self.d1(self.conv_in(x), emb)
        h2 = self.d2(self.down1(h1), emb)
        h = self.m2(self.m1(self.down2(h2), emb), emb)
        h = self.up2(F.interpolate(h, scale_factor=2, mode="nearest"))
        h = self.u2(torch.cat([h, h2], dim=1), emb)
        h = self.up1(F.interpolate(h, scale_factor=2, mode="nearest"))
        h = self.u1(torch.cat([h, h1], dim=1), emb)
        return self.conv_out(F.silu(self.norm_out(h)))


class CrossAttention(nn.Module):
    """Image features attend to the token embeddings: [B, C, H, W] x [B, L, EMB] -> [B, C, H, W]."""

    def __init__(self, c: int, heads: int = 4) -> None:
        super().__init__()
        self.heads = heads
        self.norm = nn.GroupNorm(8, c)
        self.q = nn.Linear(c, c, bias=False)
        self.kv = nn.Linear(EMB, 2 * c, bias=False)
        self.out = nn.Linear(c, c)

    def forward(self, x: torch.Tensor, ctx: torch.Tensor) -> torch.Tensor:
        b, c, h, w = x.shape
        q = self.q(self.norm(x).flatten(2).transpose(1, 2))
        k, v = self.kv(ctx).chunk(2, dim=-1)
        q, k, v = (t.view(b, -1, self.heads, c // self.heads).transpose(1, 2) for t in (q, k, v))
        a = F.scaled_dot_product_attention(q, k, v).transpose(1, 2).reshape(b, h * w, c)
        return x + self.out(a).transpose(1, 2).view(b, c, h, w)


class CrossAttentionUNet(nn.Module):
    """UNet on [B, 4, 32, 32]: 32 -> 16 -> 8 -> 4 and back, SD-style conditioning.

    Time enters every residual block by FiLM; the prompt enters only through cross-attention
    at 16, 8 and 4, over a context of one embedding per token: a null token (always present,
    like SD's start token) and one per attribute, whose "unspecified" row plays the padding
    token. Nothing sums the tokens into one vector, so a word acts where the attention puts it.
    """

    def __init__(self, c: int = 32) -> None:
        super().__init__()
        self.time = nn.Sequential(nn.Linear(EMB, EMB), nn.SiLU(), nn.Linear(EMB, EMB))
        self.tokens = nn.ModuleList(nn.Embedding(n + 1, EMB) for n in world.N_VALUES)
        self.null = nn.Parameter(torch.randn(1, 1, EMB) * 0.02)
        self.slot = nn.Parameter(torch.randn(1, len(world.N_VALUES) + 1, EMB) * 0.02)
        self.conv_in = nn.Conv2d(LATENT_CHANNELS, c, 3, padding=1)
        self.down0 = nn.Conv2d(c, 2 * c, 3, stride=2, padding=1)
        self.d1, self.a1 = Block(2 * c, 2 * c), CrossAttention(2 * c)
        self.down1 = nn.Conv2d(2 * c, 3 * c, 3, stride=2, padding=1)
        self.d2, self.a2 = Block(3 * c, 3 * c), CrossAttention(3 * c)
        self.down2 = nn.Conv2d(3 * c, 4 * c, 3, stride=2, padding=1)
        self.m1, self.am = Block(4 * c, 4 * c), CrossAttention(4 * c)
        self.m2 = Block(4 * c, 4 * c)
        self.up2 = nn.Conv2d(4 * c, 3 * c, 3, padding=1)
        self.u2, self.au2 = Block(6 * c, 3 * c), CrossAttention(3 * c)
        self.up1 = nn.Conv2d(3 * c, 2 * c, 3, padding=1)
        self.u1, self.au1 = Block(4 * c, 2 * c), CrossAttention(2 * c)
        self.up0 = nn.Conv2d(2 * c, c, 3, padding=1)
        self.u0 = nn.Conv2d(2 * c, c, 3, padding=1)
        self.norm_out = nn.GroupNorm(8, c)
        self.conv_out = nn.Conv2d(c, LATENT_CHANNELS, 3, padding=1)

    def context(self, tok: torch.Tensor) -> torch.Tensor:
        """tok [B, 7] long -> per-token embeddings [B, 8, EMB] (null token first)."""
        per_token = [table(tok[:, i]) for i, table in enumerate(self.tokens)]
        ctx = torch.cat([self.null.expand(tok.shape[0], 1, EMB), torch.stack(per_token, 1)], 1)
        return ctx + self.slot

    def forward(self, x: torch.Tensor, t: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        """x [B, 4, 32, 32], t [B] float timesteps, cond: tokens [B, 7] long or a context
        from :meth:`context` -> eps [B, 4, 32, 32]."""
        emb = self.time(timestep_embedding(t))
        ctx = cond if cond.is_floating_point() else self.context(cond)
        h0 = self.conv_in(x)
        h1 = self.a1(self.d1(self.down0(h0), emb), ctx)
        h2 = self.a2(self.d2(self.down1(h1), emb), ctx)
        h = self.m2(self.am(self.m1(self.down2(h2), emb), ctx), emb)
        h = self.up2(F.interpolate(h, scale_factor=2, mode="nearest"))
        h = self.au2(self.u2(torch.cat([h, h2], dim=1), emb), ctx)
        h = self.up1(F.interpolate(h, scale_factor=2, mode="nearest"))
        h = self.au1(self.u1(torch.cat([h, h1], dim=1), emb), ctx)
        h = self.up0(F.interpolate(h, scale_factor=2, mode="nearest"))
        h = self.u0(F.silu(torch.cat([h, h0], dim=1)))
        return self.conv_out(F.silu(self.norm_out(h)))


def alphas_cumprod(T: int = 1000) -> torch.Tensor:
    """SD's scaled-linear schedule. [T] float64."""
    betas = torch.linspace(0.00085**0.5, 0.012**0.5, T, dtype=torch.float64) ** 2
    return torch.cumprod(1 - betas, dim=0)


@dataclass(frozen=True)
class Kind:
    """What tells the worlds apart: the drawing and read-out module, the UNet, the weights."""

    name: str
    scene: ModuleType
    unet: type[nn.Module]
    weights: Path


KINDS: dict[str, Kind] = {
    "faces": Kind("faces", world, UNet, WEIGHTS),
    "placed": Kind("placed", world_placed, CrossAttentionUNet, WEIGHTS_PLACED),
}


@dataclass(frozen=True)
class World:
    """The trained model: autoencoder + UNet + sampler settings, and the world it draws.

    ``scene`` is the world's module (``world`` or ``world_placed``): ``SIZE``,
    ``templates()``, ``read_attributes(images)``, ``edit_region(attribute)``. Shapes below use
    S = scene.SIZE and L = S / 2 (16 or 32).
    """

    ae: AutoEncoder
    unet: nn.Module
    steps: int = 20
    cfg: float = 7.0
    kind: Kind = KINDS["faces"]
    #: Images through the UNet so far (one classifier-free-guided call per image and step).
    unet_calls: list[int] = field(default_factory=lambda: [0], compare=False)

    @property
    def scene(self) -> ModuleType:
        return self.kind.scene

    @property
    def latent_size(self) -> int:
        return self.scene.SIZE // 2

    @property
    def timesteps(self) -> torch.Tensor:
        """ComfyUI "normal" scheduler: evenly spaced timesteps 999 -> 0, then sigma 0. [steps]"""
        return torch.linspace(999, 0, self.steps, dtype=torch.float64)

    @property
    def sigmas(self) -> torch.Tensor:
        """[steps + 1] float64, last entry 0."""
        ac = alphas_cumprod()
        t = self.timesteps
        # Interpolate log-sigma between integer timesteps, as ComfyUI does.
        log_sig = (((1 - ac) / ac) ** 0.5).log()
        lo, hi = t.floor().long(), t.ceil().long()
        w = t - lo
        sig = ((1 - w) * log_sig[lo] + w * log_sig[hi]).exp()
        return torch.cat([sig, torch.zeros(1, dtype=torch.float64)])

    def noise(self, seeds: Sequence[int]) -> torch.Tensor:
        """Unit Gaussian noise, one generator per seed (batch-independent). [B, 4, L, L]"""
        out = []
        size = self.latent_size
        for s in seeds:
            g = torch.Generator().manual_seed(int(s))
            out.append(torch.randn(LATENT_CHANNELS, size, size, generator=g))
        return torch.stack(out)

    @torch.no_grad()
    def context(self, tok: torch.Tensor) -> torch.Tensor:
        """A prompt's conditioning as the UNet reads it (what ``CLIPTextEncode`` gives and
        ``ConditioningAverage`` blends): tok [7] or [B, 7] long -> [B, ...] float."""
        return self.unet.context(tok[None] if tok.dim() == 1 else tok)

    @torch.no_grad()
    def eps(self, x: torch.Tensor, step: int, cond: torch.Tensor) -> torch.Tensor:
        """Classifier-free-guided noise prediction for the k-diffusion latent x at ``step``;
        counts one UNet call per image in ``unet_calls``.

        x [B, 4, L, L], cond: tokens [B, 7] long or a context [B, ...] -> [B, 4, L, L].
        """
        b = x.shape[0]
        self.unet_calls[0] += b
        sigma = float(self.sigmas[step])
        tt = self.timesteps[step].float().expand(b)
        x_in = x / math.sqrt(sigma**2 + 1)
        uncond = torch.zeros(b, len(world.N_VALUES), dtype=torch.long)
        if cond.is_floating_point():
            uncond = self.unet.context(uncond)
        e = self.unet(torch.cat([x_in, x_in]), torch.cat([tt, tt]), torch.cat([cond, uncond]))
        e_c, e_u = e.chunk(2)
        return e_u + self.cfg * (e_c - e_u)

    @torch.no_grad()
    def run(
        self,
        tok: torch.Tensor,
        seeds: Sequence[int],
        from_step: int = 0,
        to_step: int | None = None,
        x_start: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """DDIM (= Euler on eps) from ``from_step`` to ``to_step``; returns the latent there.

        tok: [7] or [B, 7] long, or a context from :meth:`context` (blended prompts).
        x_start: [B, 4, L, L] latent at ``from_step`` (leftover
        noise kept); None starts from the seeds' noise times sigma at ``from_step``, like
        ``add_noise=enable`` on an empty latent. Result [B, 4, L, L], noisy unless
        ``to_step == steps``.
        """
        to_step = self.steps if to_step is None else to_step
        if not 0 <= from_step <= to_step <= self.steps:
            raise ValueError(f"need 0 <= from_step <= to_step <= {self.steps}")
        sig = self.sigmas
        if x_start is None:
            x = self.noise(seeds) * float(sig[from_step])
        else:
            x = x_start.float().clone()
        if tok.is_floating_point():
            tok = tok.expand(x.shape[0], *tok.shape[1:])
        else:
            tok = tok.expand(x.shape[0], -1) if tok.dim() == 1 else tok
        for i in range(from_step, to_step):
            s, s_next = float(sig[i]), float(sig[i + 1])
            e = self.eps(x, i, tok)
            denoised = x - s * e
            x = denoised + s_next * e
        return x

    @torch.no_grad()
    def decode(self, latents: torch.Tensor) -> torch.Tensor:
        """[B, 4, L, L] clean latents -> [B, 3, S, S] images in [0, 1]."""
        return self.ae.decode(latents)


def save_world(ae: AutoEncoder, unet: nn.Module, path: Path, metadata: dict[str, str]) -> None:
    """Both networks in one .safetensors (prefixes ``ae.`` and ``unet.``), written atomically.

    ``metadata["world"]`` names the kind (``KINDS``); files without it are the first world's.
    """
    tensors = {f"ae.{k}": v.detach().contiguous() for k, v in ae.state_dict().items()}
    tensors.update({f"unet.{k}": v.detach().contiguous() for k, v in unet.state_dict().items()})
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    save_file(tensors, str(tmp), metadata=metadata)
    tmp.replace(path)


def load_world(path: Path | str = WEIGHTS, steps: int = 20, cfg: float = 7.0) -> World:
    """Load weights (no pickle) into an eval-mode World; ``path`` may be a kind's name."""
    if isinstance(path, str) and path in KINDS:
        path = KINDS[path].weights
    with safe_open(str(path), "pt") as f:
        kind = KINDS[(f.metadata() or {}).get("world", "faces")]
    state = load_file(str(path))
    ae, unet = AutoEncoder(), kind.unet()
    ae.load_state_dict({k[3:]: v for k, v in state.items() if k.startswith("ae.")})
    unet.load_state_dict({k[5:]: v for k, v in state.items() if k.startswith("unet.")})
    ae.eval()
    unet.eval()
    return World(ae=ae, unet=unet, steps=steps, cfg=cfg, kind=kind)
