"""Reuse without a target: the aligned edit (svd_core.edits.reuse_aligned_edit) follows the
subject of a new latent, at any size, and is what Apply adds when the attribute carries
references; the stored mean edit stays the default for attributes without them."""

from __future__ import annotations

import pytest
import torch

from svd_core import (
    AVIConfig,
    SVDEditError,
    apply_attribute,
    decompose,
    learn_attribute,
    recompose,
    reuse_aligned_edit,
    reuse_mean_edit,
    strength_sweep,
)

CONFIG = AVIConfig(ks=4, kt=4, steps=4)


def _scene(g: torch.Generator, size: tuple[int, int], at: tuple[int, int]) -> torch.Tensor:
    """A latent ``[4, *size]``: faint noise and one 8 x 8 "subject" (the same for every seed)
    with its corner at ``at``."""
    subject = torch.Generator().manual_seed(99)
    patch = 3 * torch.randn(4, 8, 8, generator=subject)
    out = 0.1 * torch.randn(4, *size, generator=g)
    out[:, at[0] : at[0] + 8, at[1] : at[1] + 8] += patch
    return out


def _edit_at(size: tuple[int, int], at: tuple[int, int]) -> torch.Tensor:
    """The attribute: +1 on a 2 x 4 "mouth" inside the subject."""
    out = torch.zeros(4, *size)
    out[:, at[0] + 5 : at[0] + 7, at[1] + 2 : at[1] + 6] = 1.0
    return out


@pytest.fixture(scope="module")
def learned():
    """Branched pairs on three seeds whose subject sits in different places; the references
    are the sources themselves (a later step of the same scene)."""
    g = torch.Generator().manual_seed(0)
    places = [(2, 3), (14, 6), (8, 18)]
    x = torch.stack([_scene(g, (32, 32), p) for p in places])
    z = x + torch.stack([_edit_at((32, 32), p) for p in places])
    att = learn_attribute(
        decompose(x),
        decompose(z),
        CONFIG,
        reuse_references=decompose(x),
        pair_mode="branched",
        reuse_step=12,
    )
    return att, x, z


def _mouth_share(edit: torch.Tensor, size: tuple[int, int], at: tuple[int, int]) -> float:
    """How much of the edit's energy falls on the new subject's mouth."""
    mouth = _edit_at(size, at) > 0
    return float(edit.pow(2)[mouth.expand_as(edit)].sum() / edit.pow(2).sum())


def test_the_aligned_edit_lands_on_a_subject_placed_elsewhere(learned):
    att, _, _ = learned
    g = torch.Generator().manual_seed(1)
    new = _scene(g, (32, 32), (20, 20))[None]
    aligned = reuse_aligned_edit(decompose(new), att)
    assert aligned.shape == (1, 4, 32, 32)
    assert _mouth_share(aligned[0], (32, 32), (20, 20)) > 0.9
    # The per-position mean edit puts its energy where the training subjects were.
    assert _mouth_share(reuse_mean_edit(decompose(new), att), (32, 32), (20, 20)) < 0.2


def test_apply_without_a_target_adds_the_aligned_edit_by_default(learned):
    att, _, _ = learned
    g = torch.Generator().manual_seed(2)
    new = decompose(_scene(g, (32, 32), (4, 12))[None])
    edited = recompose(apply_attribute(new, att, strength=2.0))
    expected = recompose(new) + 2.0 * reuse_aligned_edit(new, att)
    torch.testing.assert_close(edited, expected, atol=1e-4, rtol=1e-4)
    mean = recompose(apply_attribute(new, att, strength=2.0, reuse="mean_edit"))
    assert (mean - edited).abs().max() > 0.1
    swept = strength_sweep(new, att, [0.0, 2.0])
    torch.testing.assert_close(swept[1], edited, atol=1e-4, rtol=1e-4)


def test_the_aligned_edit_carries_over_to_another_size(learned):
    """An attribute learned at 32 x 32 edits a 40 x 56 latent where its subject is; the mean
    edit refuses that size in words."""
    att, _, _ = learned
    g = torch.Generator().manual_seed(3)
    new = decompose(_scene(g, (40, 56), (27, 41))[None])
    edit = reuse_aligned_edit(new, att)
    assert edit.shape == (1, 4, 40, 56)
    assert _mouth_share(edit[0], (40, 56), (27, 41)) > 0.9
    with pytest.raises(SVDEditError, match="applies only at the size it was learned on"):
        apply_attribute(new, att, reuse="mean_edit")


def test_an_image_attribute_edits_every_frame_of_a_video(learned):
    att, _, _ = learned
    g = torch.Generator().manual_seed(4)
    frames = [_scene(g, (32, 32), (4 + 3 * t, 10)) for t in range(3)]
    video = torch.stack(frames, 1)[None]  # [1, 4, 3, 32, 32]
    edit = reuse_aligned_edit(decompose(video), att)
    assert edit.shape == video.shape
    for t in range(3):
        assert _mouth_share(edit[0, :, t], (32, 32), (4 + 3 * t, 10)) > 0.9


def test_learning_with_references_stores_the_local_edits(learned):
    att, x, z = learned
    assert att.reuse_step == 12
    assert att.reuse_references is not None and att.reuse_edits is not None
    torch.testing.assert_close(att.reuse_references, x, atol=1e-4, rtol=0)
    # Kept where the branches differ: the edit's mouth is in, the background out.
    torch.testing.assert_close(att.reuse_edits, z - x, atol=1e-4, rtol=0)


def test_references_are_checked_where_they_enter(learned):
    _, x, z = learned
    bad = [
        ({"pair_mode": "independent"}, decompose(x), "needs branch pairs"),
        ({}, decompose(x[:2]), "must have the source's shape"),
        ({}, decompose(torch.zeros_like(x)), "all zeros"),
    ]
    for provenance, refs, match in bad:
        with pytest.raises(SVDEditError, match=match):
            learn_attribute(decompose(x), decompose(z), CONFIG, reuse_references=refs, **provenance)


def test_without_references_the_aligned_reuse_says_how_to_get_them(learned):
    _, x, z = learned
    plain = learn_attribute(decompose(x), decompose(z), CONFIG, pair_mode="branched")
    assert plain.reuse_references is None
    new = decompose(x[:1])
    with pytest.raises(SVDEditError, match="learned without reuse_reference"):
        apply_attribute(new, plain, reuse="aligned")
    # The default stays the stored mean edit.
    edited = recompose(apply_attribute(new, plain, strength=1.0))
    torch.testing.assert_close(edited, x[:1] + plain.mean_edit, atol=1e-4, rtol=1e-4)


def test_each_item_of_a_batch_gets_the_edit_where_its_own_subject_is(learned):
    att, _, _ = learned
    g = torch.Generator().manual_seed(5)
    places = [(20, 20), (3, 15)]
    batch = torch.stack([_scene(g, (32, 32), p) for p in places])
    edit = reuse_aligned_edit(decompose(batch), att)
    for item, place in enumerate(places):
        assert _mouth_share(edit[item], (32, 32), place) > 0.9
