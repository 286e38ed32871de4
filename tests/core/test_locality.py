"""The local edit: the branched edit kept where the two branches differ."""

from __future__ import annotations

import torch

from svd_core import (
    AVIConfig,
    apply_attribute,
    branch_mask,
    decompose,
    edit_delta,
    learn_attribute,
    recompose,
    strength_sweep,
)


def test_branch_mask_is_one_where_the_branches_differ_most_and_zero_where_they_agree() -> None:
    d = torch.zeros(2, 4, 20, 20)
    d[0, :, 2:8, 3:9] = 1.0  # item 0: a patch (9 % of the latent)
    d[1, 1, 10:20, :] = -0.5  # item 1: the lower half, one channel
    m = branch_mask(d)
    assert m.shape == (2, 1, 20, 20)
    assert float(m.min()) >= 0.0 and float(m.max()) <= 1.0
    assert torch.all(m[0, 0, 3:7, 4:8] == 1.0)  # inside the patch
    assert torch.all(m[0, 0, 12:, 12:] == 0.0)  # far from it
    assert torch.all(m[1, 0, 11:19, 1:19] == 1.0) and torch.all(m[1, 0, :8, :] == 0.0)
    # Per item: scaling one item's difference changes nothing; no difference, no mask.
    assert torch.allclose(branch_mask(d * torch.tensor([3.0, 0.1])[:, None, None, None]), m)
    assert torch.equal(branch_mask(torch.zeros(1, 4, 8, 8)), torch.zeros(1, 1, 8, 8))


def test_branch_mask_of_a_video_latent_keeps_its_frames() -> None:
    d = torch.zeros(1, 16, 3, 12, 12)
    d[0, :, 1, :6, :6] = 1.0
    m = branch_mask(d)
    assert m.shape == (1, 1, 3, 12, 12)
    assert torch.all(m[0, 0, 1, :4, :4] == 1.0)
    assert torch.all(m[0, 0, 0] == 0.0) and torch.all(m[0, 0, 2] == 0.0)


def test_local_edit_is_the_branched_edit_times_the_mask_and_leaves_the_rest(
    gen: torch.Generator, structured
) -> None:
    """edited = x_s + s * m * (y - x_s), m = branch_mask(z_t - x_s): where the target branch
    equals the source branch the edited latent is the source branch itself."""
    xs = structured((2, 4, 16, 16), 6, 0.3, gen)
    zt = xs.clone()
    zt[..., 4:10, 5:11] += 0.8 * torch.randn(2, 4, 6, 6, generator=gen)
    sxs, szt = decompose(xs), decompose(zt)
    att = learn_attribute(sxs, szt, AVIConfig(ks=4, kt=4, steps=30), pair_mode="branched")
    full = edit_delta(sxs, att, szt)
    mask = branch_mask(zt - xs)
    out = recompose(apply_attribute(sxs, att, szt, 0.8, source_branch=sxs, local=True))
    assert torch.allclose(out, xs + 0.8 * mask * full, atol=1e-4)
    far = mask == 0
    assert far.sum() > 0
    assert torch.allclose(out[far.expand_as(out)], xs[far.expand_as(xs)], atol=1e-4)
    plain = recompose(apply_attribute(sxs, att, szt, 0.8, source_branch=sxs, local=False))
    assert (plain - out).abs().max() > 1e-2  # the mask removes part of the edit
    (swept,) = strength_sweep(sxs, att, [0.8], szt, sxs, local=True)
    assert torch.allclose(swept, out, atol=1e-4)
    # Strength 0 is the input itself; without branches local changes nothing.
    assert apply_attribute(sxs, att, szt, 0.0, source_branch=sxs, local=True) is sxs
    a = recompose(apply_attribute(sxs, att, None, 2.0, local=True))
    b = recompose(apply_attribute(sxs, att, None, 2.0, local=False))
    assert torch.equal(a, b)
