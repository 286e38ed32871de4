"""Full-batch Adam training of the predictor with a hand-written backward pass.

The network is three tiny layers over ``M = B * C`` rows, so autograd and ``torch.optim``
bookkeeping would cost ~10x the arithmetic.  Here the parameters live in one flat buffer,
the backward pass is written out (and checked against autograd in the tests), and the Adam
update (PyTorch's formula, ``betas = (0.9, 0.999)``, ``eps = 1e-8``) is six in-place ops on
that buffer.  No autograd at all, so it also runs under ``torch.inference_mode()``.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

import torch

from .predictor import PREDICTOR_KEYS
from .quadratic import QuadraticLoss

BETA1 = 0.9
BETA2 = 0.999
ADAM_EPS = 1e-8

#: Longest pause (seconds) between progress calls when steps are slow: the caller checks
#: Cancel in the callback, so a sparse 1 % schedule of a 100k-step run would ignore Cancel
#: for seconds.
PROGRESS_MAX_GAP_S = 0.25

#: The cosine schedule decays the learning rate to ``lr * LR_FLOOR`` at the last step.
LR_FLOOR = 0.01


def cosine_lr(lr: float, step: int, steps: int) -> float:
    """Learning rate at ``step`` (0-based) of ``steps``: cosine from ``lr`` to ``lr*LR_FLOOR``."""
    t = step / max(steps - 1, 1)
    return lr * (LR_FLOOR + (1.0 - LR_FLOOR) * 0.5 * (1.0 + math.cos(math.pi * t)))


def _dsilu(x: torch.Tensor) -> torch.Tensor:
    sig = torch.sigmoid(x)
    return sig * (1.0 + x * (1.0 - sig))


class FlatPredictor:
    """Predictor weights as views into one flat float64 buffer, with forward + gradient."""

    def __init__(self, params: dict[str, torch.Tensor]) -> None:
        self.shapes = {k: tuple(params[k].shape) for k in PREDICTOR_KEYS}
        self.flat = torch.cat([params[k].detach().reshape(-1) for k in PREDICTOR_KEYS]).to(
            torch.float64
        )
        self.views: dict[str, torch.Tensor] = {}
        offset = 0
        for k in PREDICTOR_KEYS:
            n = math.prod(self.shapes[k])
            self.views[k] = self.flat[offset : offset + n].view(self.shapes[k])
            offset += n

    def state(self) -> dict[str, torch.Tensor]:
        """Copies of the weights (float64)."""
        return {k: v.clone() for k, v in self.views.items()}

    def loss_and_grad(
        self,
        q: QuadraticLoss,
        inputs: torch.Tensor,
        base: torch.Tensor,
        scale: torch.Tensor,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Loss (0-d) and its gradient w.r.t. the flat buffer.

        inputs ``[M, n_in]``, base ``[M, k]``, scale ``[M, 1]``: ``c = base + scale * o``.
        """
        p = self.views
        h1p = torch.addmm(p["l1.bias"], inputs, p["l1.weight"].t())
        h1 = torch.nn.functional.silu(h1p)
        h2p = torch.addmm(p["l2.bias"], h1, p["l2.weight"].t())
        h2 = torch.nn.functional.silu(h2p)
        o = torch.addmm(p["l3.bias"], h2, p["l3.weight"].t())
        c = torch.addcmul(base, scale, o)
        r = torch.baddbmm(q.g.unsqueeze(-1), q.A, c.unsqueeze(-1)).squeeze(-1)  # A c + g
        m = c.shape[0]
        # L = mean(c.(Ac + 2g) + e) = mean(c.(r + g) + e);  dL/dc = 2 r / M  (A symmetric).
        loss = ((r + q.g) * c).sum() / m + q.e.mean()
        do = r * (scale * (2.0 / m))
        dh2p = (do @ p["l3.weight"]) * _dsilu(h2p)
        dh1p = (dh2p @ p["l2.weight"]) * _dsilu(h1p)
        grad = torch.cat(
            [
                (dh1p.t() @ inputs).reshape(-1),
                dh1p.sum(0),
                (dh2p.t() @ h1).reshape(-1),
                dh2p.sum(0),
                (do.t() @ h2).reshape(-1),
                do.sum(0),
            ]
        )
        return loss, grad


def train_predictor(
    q: QuadraticLoss,
    params: dict[str, torch.Tensor],
    inputs: torch.Tensor,
    base: torch.Tensor,
    scale: torch.Tensor,
    steps: int,
    lr: float,
    progress: Callable[[int], None] | None = None,
    progress_every: int = 1,
) -> tuple[dict[str, torch.Tensor], torch.Tensor]:
    """Run ``steps`` full-batch Adam steps from ``params``.

    Returns the trained weights (float64) and the ``[steps]`` float64 loss before each step.
    ``progress(i)`` is called after step ``i`` (1-based) every ``progress_every`` steps and
    after the last one, and also whenever :data:`PROGRESS_MAX_GAP_S` has passed since the
    previous call; an exception it raises propagates.
    """
    net = FlatPredictor(params)
    flat = net.flat
    m = torch.zeros_like(flat)
    v = torch.zeros_like(flat)
    history = torch.empty(steps, dtype=torch.float64)
    last_report = time.monotonic()
    for i in range(steps):
        loss, g = net.loss_and_grad(q, inputs, base, scale)
        history[i] = loss
        t = i + 1
        m.mul_(BETA1).add_(g, alpha=1.0 - BETA1)
        v.mul_(BETA2).addcmul_(g, g, value=1.0 - BETA2)
        bc1 = 1.0 - BETA1**t
        bc2 = 1.0 - BETA2**t
        denom = v.sqrt().div_(math.sqrt(bc2)).add_(ADAM_EPS)
        flat.addcdiv_(m, denom, value=-cosine_lr(lr, i, steps) / bc1)
        if progress is not None and (
            t % progress_every == 0
            or t == steps
            or time.monotonic() - last_report >= PROGRESS_MAX_GAP_S
        ):
            progress(t)
            last_report = time.monotonic()
    return net.state(), history
