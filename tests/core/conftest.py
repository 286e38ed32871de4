"""Fixtures for the svd_core tests: seeded latents, no ComfyUI."""

from __future__ import annotations

import pytest
import torch

from svd_core.avi import single_thread


@pytest.fixture
def gen() -> torch.Generator:
    return torch.Generator().manual_seed(1234)


def low_rank_plus_noise(
    shape: tuple[int, ...], rank: int, noise: float, gen: torch.Generator
) -> torch.Tensor:
    """A structured latent ``[..., H, W]``: rank-``rank`` signal plus Gaussian noise."""
    *lead, h, w = shape
    a = torch.randn(*lead, h, rank, generator=gen)
    b = torch.randn(*lead, rank, w, generator=gen)
    return (a @ b) / rank**0.5 + noise * torch.randn(*shape, generator=gen)


@pytest.fixture
def structured():
    return low_rank_plus_noise


@pytest.fixture(autouse=True)
def _one_thread():
    """Run each core test single-threaded, then restore torch's setting.

    The test machine is a small CPU shared by parallel jobs; there OpenMP threads spin
    against each other and batched SVDs of small matrices run ~20x slower with 2 threads
    than with 1.  Results do not depend on the thread count.
    """
    with single_thread():
        yield
