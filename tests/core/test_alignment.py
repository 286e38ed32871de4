"""Edits carried to where the subject sits (svd_core.alignment)."""

from __future__ import annotations

import pytest
import torch

from svd_core.alignment import aligned_mean_edit, displacements, shifted


def _subjects(g: torch.Generator, n: int) -> torch.Tensor:
    """n latents [n, 4, 32, 32] with a random 8 x 8 patch at the same place, zeros elsewhere."""
    out = torch.zeros(n, 4, 32, 32)
    out[:, :, 4:12, 6:14] = torch.randn(n, 4, 8, 8, generator=g)
    return out


@pytest.mark.parametrize("dy,dx", [(0, 0), (5, -3), (-3, 9), (12, 12)])
def test_displacement_is_found_through_noise(dy: int, dx: int) -> None:
    g = torch.Generator().manual_seed(0)
    reference = _subjects(g, 1)
    latent = shifted(reference, dy, dx) + 0.3 * torch.randn(1, 4, 32, 32, generator=g)
    shifts, score = displacements(latent, reference, 16)
    assert shifts.tolist() == [[[dy, dx]]]
    assert 0.5 < float(score) <= 1.0


def test_displacement_stays_within_max_shift() -> None:
    g = torch.Generator().manual_seed(1)
    reference = _subjects(g, 1)
    shifts, _ = displacements(shifted(reference, 10, 0), reference, 4)
    assert shifts.abs().max() <= 4


def test_shifted_moves_and_fills_zeros() -> None:
    t = torch.arange(16.0).reshape(1, 4, 4)
    out = shifted(t, 1, -2)
    assert out[0, 1:, :2].tolist() == t[0, :3, 2:].tolist()
    assert out[0, 0].abs().sum() == 0 and out[0, :, 2:].abs().sum() == 0


def test_each_pair_edit_lands_on_the_new_subject() -> None:
    """Two training pairs with their subject in different places; the new latent's subject is
    somewhere else again: both edits arrive on it, so the average is their shared edit there."""
    g = torch.Generator().manual_seed(2)
    subject = _subjects(g, 1)[0]
    edit = torch.zeros(4, 32, 32)
    edit[:, 8:10, 8:12] = 1.0  # the "mouth", inside the subject
    sources = torch.stack([shifted(subject, 0, 0), shifted(subject, 10, 4)])
    edits = torch.stack([shifted(edit, 0, 0), shifted(edit, 10, 4)])
    new = shifted(subject, 6, 12)[None] + 0.2 * torch.randn(1, 4, 32, 32, generator=g)
    out = aligned_mean_edit(new, sources, edits)
    assert out.shape == (1, 4, 32, 32)
    torch.testing.assert_close(out[0], shifted(edit, 6, 12), atol=1e-5, rtol=0)
    # The plain per-position mean puts half of each edit in the wrong place.
    assert (edits.mean(0) - shifted(edit, 6, 12)).abs().max() == pytest.approx(1.0)


def test_pairs_that_do_not_line_up_weigh_nothing() -> None:
    g = torch.Generator().manual_seed(3)
    subject = _subjects(g, 1)[0]
    sources = torch.stack([subject, -subject])  # anti-correlated everywhere: weight 0
    edits = torch.stack([torch.ones(4, 32, 32), 5 * torch.ones(4, 32, 32)])
    out = aligned_mean_edit(subject[None], sources, edits, max_shift=0)
    torch.testing.assert_close(out[0], edits[0])
