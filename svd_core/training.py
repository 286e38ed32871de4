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

from .predictor import PREDICTOR_KEYS, coefficients
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


class FlatPredictor:
    """Predictor weights as views into one flat float64 buffer, with forward + gradient.

    The gradient is written into a second flat buffer through ``out=`` views, so a step
    allocates little and launches few ops (what dominates at these sizes).
    """

    def __init__(self, params: dict[str, torch.Tensor]) -> None:
        self.shapes = {k: tuple(params[k].shape) for k in PREDICTOR_KEYS}
        self.flat = torch.cat([params[k].detach().reshape(-1) for k in PREDICTOR_KEYS]).to(
            torch.float64
        )
        self.grad = torch.zeros_like(self.flat)
        self.views = self._split(self.flat)
        self.grad_views = self._split(self.grad)

    def _split(self, buf: torch.Tensor) -> dict[str, torch.Tensor]:
        views: dict[str, torch.Tensor] = {}
        offset = 0
        for k in PREDICTOR_KEYS:
            n = math.prod(self.shapes[k])
            views[k] = buf[offset : offset + n].view(self.shapes[k])
            offset += n
        return views

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
        """Loss (0-d) and its gradient w.r.t. the flat buffer (``self.grad``, overwritten).

        inputs ``[M, n_in]``; base ``[M, k]`` and scale ``[M, 1]`` from
        :func:`~svd_core.predictor.coefficient_frame`.
        """
        p, gv = self.views, self.grad_views
        m = base.shape[0]
        h1p = torch.addmm(p["l1.bias"], inputs, p["l1.weight"].t())
        s1 = torch.sigmoid(h1p)
        h1 = h1p * s1
        h2p = torch.addmm(p["l2.bias"], h1, p["l2.weight"].t())
        s2 = torch.sigmoid(h2p)
        h2 = h2p * s2
        o = torch.addmm(p["l3.bias"], h2, p["l3.weight"].t())
        c = coefficients(o, base, scale)
        r = torch.baddbmm(q.g.unsqueeze(-1), q.A, c.unsqueeze(-1)).squeeze(-1)  # A c + g
        # L = mean(c.(Ac + 2g) + e) = mean(c.(r + g)) + mean(e);  dL/dc = 2 r / M (A symmetric).
        loss = ((r + q.g) * c).sum() / m + q.e.mean()
        do = r * (scale * (2.0 / m))
        # silu'(x) = s + silu(x) (1 - s) with s = sigmoid(x).
        dh2p = (do @ p["l3.weight"]) * torch.addcmul(s2 + h2, h2, s2, value=-1.0)
        dh1p = (dh2p @ p["l2.weight"]) * torch.addcmul(s1 + h1, h1, s1, value=-1.0)
        torch.mm(dh1p.t(), inputs, out=gv["l1.weight"])
        torch.sum(dh1p, 0, out=gv["l1.bias"])
        torch.mm(dh2p.t(), h1, out=gv["l2.weight"])
        torch.sum(dh2p, 0, out=gv["l2.bias"])
        torch.mm(do.t(), h2, out=gv["l3.weight"])
        torch.sum(do, 0, out=gv["l3.bias"])
        return loss, self.grad


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
    losses: list[torch.Tensor] = []
    last_report = time.monotonic()
    for i in range(steps):
        loss, g = net.loss_and_grad(q, inputs, base, scale)
        losses.append(loss)
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
    history = torch.stack(losses) if losses else torch.empty(0, dtype=torch.float64)
    return net.state(), history
