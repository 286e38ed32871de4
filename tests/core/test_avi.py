"""learn_attribute / apply_attribute / solve_pair (docs/method.md sections 3-4)."""

from __future__ import annotations

import pytest
import torch

from svd_core import (
    Attribute,
    AVIConfig,
    SVDEditError,
    apply_attribute,
    decompose,
    edit_delta,
    learn_attribute,
    recompose,
    solve_pair,
    strength_sweep,
)


def rel(a: torch.Tensor, b: torch.Tensor) -> float:
    return float((a - b).abs().max() / b.abs().max())


def pair_random(gen, shape=(1, 4, 48, 48)):
    return torch.randn(*shape, generator=gen), torch.randn(*shape, generator=gen)


def pair_structured(gen, structured, shape=(1, 4, 48, 48)):
    x = structured(shape, 6, 0.3, gen)
    z = x + 0.6 * structured(shape, 3, 0.0, gen) + 0.1 * torch.randn(*shape, generator=gen)
    return x, z


# --- 3. identity -------------------------------------------------------------------------


@pytest.mark.parametrize("strength", [1.0, -3.0, 0.37, 10.0])
def test_untrained_attribute_is_identity(strength, gen):
    x, z = pair_random(gen, (2, 4, 24, 20))
    sx, sz = decompose(x), decompose(z)
    att = learn_attribute(sx, sz, AVIConfig(steps=0))
    assert att.loss_history.shape == (0,)
    out = apply_attribute(sx, att, sz, strength)
    assert out.shape == sx.shape and out.dtype == sx.dtype
    assert rel(recompose(out), x) <= 1e-5
    assert rel(recompose(apply_attribute(sx, att, None, strength)), x) <= 1e-5
    assert float(edit_delta(sx, att, sz).abs().max()) == 0.0


def test_strength_zero_returns_input_object(gen):
    x, z = pair_random(gen, (1, 4, 16, 16))
    sx, sz = decompose(x), decompose(z)
    att = learn_attribute(sx, sz, AVIConfig(steps=30))
    assert apply_attribute(sx, att, sz, 0.0) is sx
    assert apply_attribute(sx, att, None, 0) is sx
    # A trained attribute at strength 1 does change it (so the check above is not vacuous).
    assert rel(recompose(apply_attribute(sx, att, sz, 1.0)), x) > 1e-3


def test_strength_interpolates_linearly(gen):
    x, z = pair_random(gen, (1, 4, 16, 16))
    sx, sz = decompose(x), decompose(z)
    att = learn_attribute(sx, sz, AVIConfig(steps=40))
    y1 = recompose(apply_attribute(sx, att, sz, 1.0))
    yh = recompose(apply_attribute(sx, att, sz, 0.5))
    ym = recompose(apply_attribute(sx, att, sz, -1.0))
    assert rel(yh, 0.5 * (x + y1)) < 1e-4
    assert rel(ym, 2 * x - y1) < 1e-4


def test_apply_keeps_low_precision_dtype(gen):
    x, z = pair_random(gen, (1, 4, 16, 16))
    sx, sz = decompose(x.half()), decompose(z.half())
    att = learn_attribute(sx, sz, AVIConfig(steps=5))
    out = apply_attribute(sx, att, sz, 1.0)
    assert out.dtype == torch.float16 and recompose(out).dtype == torch.float16


# --- 4. convergence ----------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["random", "structured"])
def test_default_training_reaches_the_exact_optimum(kind, gen, structured):
    x, z = (
        pair_random(gen, (1, 4, 64, 64))
        if kind == "random"
        else pair_structured(gen, structured, (1, 4, 64, 64))
    )
    sx, sz = decompose(x), decompose(z)
    att = learn_attribute(sx, sz)  # defaults
    opt = solve_pair(sx, sz)
    assert att.loss_history.shape == (AVIConfig().steps,)
    assert abs(att.optimum_loss - opt.loss) <= 1e-9 * max(1.0, opt.loss)
    assert att.final_loss <= 1.01 * att.optimum_loss + 1e-6
    assert att.final_loss >= att.optimum_loss - 1e-9  # the optimum is a lower bound
    assert att.final_loss < float(att.loss_history[0])  # and training did something


# --- 5. what the loss weights mean ---------------------------------------------------------


def _dense_projection(x, z, sx, sz, ks, kt):
    """Projection of z onto the affine set R + span(E, F), by dense least squares."""
    E = torch.einsum("bchi,bciw->bcihw", sx.U[..., :ks], sx.Vh[..., :ks, :])
    F = torch.einsum("bchi,bciw->bcihw", sz.U[..., :kt], sz.Vh[..., :kt, :])
    G = torch.cat([E, F], dim=2).double().flatten(-2)  # [B, C, k, H*W]
    R = (x - recompose(decompose(x, rank=ks))).double().flatten(-2)
    coef = torch.linalg.lstsq(G.transpose(-1, -2), (z.double().flatten(-2) - R).unsqueeze(-1))
    proj = R + torch.einsum("bck,bckn->bcn", coef.solution.squeeze(-1), G)
    return proj.reshape(x.shape).float()


def test_target_weight_dominant_approaches_target_projection(gen, structured):
    x, z = pair_structured(gen, structured, (1, 4, 40, 40))
    sx, sz = decompose(x), decompose(z)
    cfg = AVIConfig(w_target=1.0, w_source=1e-3, w_target_sv=1e-4, w_source_sv=1e-4)
    att = learn_attribute(sx, sz, cfg)
    y = recompose(apply_attribute(sx, att, sz, 1.0))
    proj = _dense_projection(x, z, sx, sz, att.ks, att.kt)
    dist = float((x - z).norm())
    assert float((y - proj).norm()) < 0.02 * dist
    assert float((y - z).norm()) < 0.8 * dist  # the edit moved towards the target


def test_source_weight_dominant_stays_at_source(gen, structured):
    x, z = pair_structured(gen, structured, (1, 4, 40, 40))
    sx, sz = decompose(x), decompose(z)
    cfg = AVIConfig(w_target=1e-3, w_source=1.0, w_target_sv=1e-4, w_source_sv=1e-4)
    att = learn_attribute(sx, sz, cfg)
    y = recompose(apply_attribute(sx, att, sz, 1.0))
    assert float((y - x).norm()) < 0.01 * float((x - z).norm())


# --- 6. determinism ----------------------------------------------------------------------


def test_same_seed_gives_bit_identical_weights(gen):
    x, z = pair_random(gen, (2, 4, 24, 24))
    sx, sz = decompose(x), decompose(z)
    cfg = AVIConfig(steps=60, seed=7)
    a1 = learn_attribute(sx, sz, cfg)
    a2 = learn_attribute(sx, sz, cfg)
    for k in a1.predictor:
        assert torch.equal(a1.predictor[k], a2.predictor[k]), k
    assert torch.equal(a1.loss_history, a2.loss_history)
    a3 = learn_attribute(sx, sz, AVIConfig(steps=60, seed=8))
    assert not torch.equal(a1.predictor["l1.weight"], a3.predictor["l1.weight"])


# --- 7. several pairs, held-out pair ----------------------------------------------------


def test_several_pairs_train_one_predictor_that_generalises(gen, structured):
    c, h, w = 4, 32, 32
    pattern = 0.8 * structured((1, c, h, w), 2, 0.0, gen)  # the "attribute"

    def pairs(n):
        x = structured((n, c, h, w), 6, 0.2, gen)
        return x, x + pattern + 0.05 * torch.randn(n, c, h, w, generator=gen)

    x, z = pairs(4)
    att = learn_attribute(decompose(x), decompose(z))
    assert att.num_pairs == 4
    assert att.final_loss <= 1.05 * att.optimum_loss + 1e-6
    xh, zh = pairs(1)
    sxh, szh = decompose(xh), decompose(zh)
    d0 = float((recompose(apply_attribute(sxh, att, szh, 0.0)) - zh).norm())
    d1 = float((recompose(apply_attribute(sxh, att, szh, 1.0)) - zh).norm())
    assert d1 < 0.8 * d0


def test_batch_one_target_broadcasts(gen):
    x = torch.randn(3, 4, 16, 16, generator=gen)
    z = torch.randn(1, 4, 16, 16, generator=gen)
    cfg = AVIConfig(steps=30)
    a1 = learn_attribute(decompose(x), decompose(z), cfg)
    a2 = learn_attribute(decompose(x), decompose(z.expand(3, -1, -1, -1)), cfg)
    assert torch.allclose(a1.predictor["l1.weight"], a2.predictor["l1.weight"], atol=1e-6)
    out1 = recompose(apply_attribute(decompose(x), a1, decompose(z)))
    out2 = recompose(apply_attribute(decompose(x), a1, decompose(z.expand(3, -1, -1, -1))))
    assert rel(out1, out2) < 1e-5


# --- modes, video, callbacks, errors -------------------------------------------------------


def test_mean_edit_is_the_average_learned_edit_and_the_default_without_target(gen):
    x, z = pair_random(gen, (3, 4, 16, 12))
    sx, sz = decompose(x), decompose(z)
    att = learn_attribute(sx, sz, AVIConfig(steps=30))
    assert att.mean_edit is not None and att.mean_edit.shape == (4, 16, 12)
    assert rel(att.mean_edit, edit_delta(sx, att, sz).mean(0)) < 1e-5
    new = decompose(torch.randn(2, 4, 16, 12, generator=gen))
    out = recompose(apply_attribute(new, att, strength=-1.5))
    assert rel(out, recompose(new) - 1.5 * att.mean_edit) < 1e-5
    assert rel(out, recompose(apply_attribute(new, att, strength=-1.5, reuse="mean_edit"))) == 0
    with pytest.raises(SVDEditError, match="reuse applies only without a target"):
        apply_attribute(new, att, sz.select_batch(0), reuse="mean_edit")
    with pytest.raises(SVDEditError, match="reuse must be"):
        apply_attribute(new, att, reuse="mean")
    # An image attribute on video: every frame gets the same mean edit.
    video = torch.randn(1, 4, 2, 16, 12, generator=gen)
    out_v = recompose(apply_attribute(decompose(video), att))
    assert rel(out_v, video + att.mean_edit.unsqueeze(1)) < 1e-5


def test_branched_mode_adds_the_edit_between_the_branches(gen, structured):
    """x + s * (y(x_s, z_t) - x_s): the edit is taken between the branches, added to x."""
    x = structured((2, 4, 16, 16), 6, 0.3, gen)
    xs = x + 0.1 * torch.randn(2, 4, 16, 16, generator=gen)
    zt = xs + 0.5 * structured((2, 4, 16, 16), 2, 0.0, gen)
    att = learn_attribute(
        decompose(xs), decompose(zt), AVIConfig(ks=4, kt=4, steps=40), pair_mode="branched"
    )
    assert att.pair_mode == "branched"
    sxs, szt = decompose(xs), decompose(zt)
    out = recompose(apply_attribute(decompose(x), att, szt, 0.7, source_branch=sxs))
    assert rel(out, x + 0.7 * edit_delta(sxs, att, szt)) < 1e-5
    with pytest.raises(SVDEditError, match="source_branch needs its target"):
        apply_attribute(decompose(x), att, None, 1.0, source_branch=sxs)
    with pytest.raises(SVDEditError, match="source_branch"):
        other = decompose(torch.randn(2, 4, 16, 12, generator=gen))
        apply_attribute(decompose(x), att, szt, 1.0, source_branch=other)
    with pytest.raises(SVDEditError, match="pair_mode"):
        learn_attribute(decompose(xs), decompose(zt), AVIConfig(steps=1), pair_mode="other")


def test_a_target_is_applied_the_way_the_attribute_was_learned(gen, structured):
    """An attribute that recorded its pairing refuses the other wiring, at any strength and in
    the sweep alike; the mean edit (no target) and unrecorded attributes serve every wiring."""
    x = structured((1, 4, 16, 16), 6, 0.3, gen)
    xs = x + 0.1 * torch.randn(1, 4, 16, 16, generator=gen)
    zt = xs + 0.5 * structured((1, 4, 16, 16), 2, 0.0, gen)
    sx, sxs, szt = decompose(x), decompose(xs), decompose(zt)
    cfg = AVIConfig(ks=4, kt=4, steps=5)
    branched = learn_attribute(sxs, szt, cfg, pair_mode="branched")
    paper = learn_attribute(sx, szt, cfg, pair_mode="independent")
    unrecorded = learn_attribute(sx, szt, cfg)
    for strength in (0.0, 1.0):
        with pytest.raises(SVDEditError, match="branched pairs.*connect .* as source_branch"):
            apply_attribute(sx, branched, szt, strength)
        with pytest.raises(SVDEditError, match="independent pairs.*disconnect source_branch"):
            apply_attribute(sx, paper, szt, strength, source_branch=sxs)
    with pytest.raises(SVDEditError, match="branched pairs"):
        strength_sweep(sx, branched, [0.0, 1.0], szt)
    with pytest.raises(SVDEditError, match="independent pairs"):
        strength_sweep(sx, paper, [1.0], szt, sxs)
    # The matching wiring, the mean edit and an unrecorded attribute in either wiring work.
    for att, target, branch in (
        (branched, szt, sxs),
        (paper, szt, None),
        (branched, None, None),
        (paper, None, None),
        (unrecorded, szt, None),
        (unrecorded, szt, sxs),
    ):
        out = recompose(apply_attribute(sx, att, target, 1.0, source_branch=branch))
        (swept,) = strength_sweep(sx, att, [1.0], target, branch)
        assert rel(swept, out) < 1e-5
        assert rel(out, x) > 1e-4


def test_two_branched_edits_in_a_row_add_up(gen, structured):
    """Composition: the second edit does not depend on the latent it is added to."""
    x = structured((1, 4, 16, 16), 6, 0.3, gen)
    edits = []
    for _ in range(2):
        xs = x + 0.1 * torch.randn(1, 4, 16, 16, generator=gen)
        zt = xs + 0.5 * structured((1, 4, 16, 16), 2, 0.0, gen)
        att = learn_attribute(decompose(xs), decompose(zt), AVIConfig(ks=4, kt=4, steps=20))
        edits.append((att, decompose(xs), decompose(zt)))
    (a1, s1, t1), (a2, s2, t2) = edits
    once = apply_attribute(decompose(x), a1, t1, 1.0, source_branch=s1)
    twice = recompose(apply_attribute(once, a2, t2, -0.5, source_branch=s2))
    expect = x + edit_delta(s1, a1, t1) - 0.5 * edit_delta(s2, a2, t2)
    assert rel(twice, expect) < 1e-4


def test_video_latents(gen):
    x = torch.randn(1, 4, 3, 16, 12, generator=gen)
    z = x + 0.5 * torch.randn(1, 4, 3, 16, 12, generator=gen)
    sx, sz = decompose(x), decompose(z)
    # T frames of one channel share the predictor's channel input, so it needs more steps
    # than a single image pair to reach the per-matrix optimum.
    att = learn_attribute(sx, sz, AVIConfig(ks=6, kt=6, steps=400))
    assert att.frames == 3 and att.target_U.shape == (4, 3, 16, 6)
    assert att.final_loss <= 1.01 * att.optimum_loss + 1e-6
    out = apply_attribute(sx, att, None, 1.0)
    assert out.shape == x.shape
    # An image attribute applied without a target broadcasts its target over the frames.
    img = learn_attribute(decompose(x[:, :, 0]), decompose(z[:, :, 0]), AVIConfig(steps=5))
    assert apply_attribute(sx, img, None, 1.0).shape == x.shape
    with pytest.raises(SVDEditError, match="frames"):
        apply_attribute(decompose(x[:, :, :2]), att, None, 1.0)


def test_progress_called_and_cancel_propagates(gen):
    x, z = pair_random(gen, (1, 4, 16, 16))
    calls: list[tuple[int, int]] = []
    learn_attribute(
        decompose(x), decompose(z), AVIConfig(steps=250), progress=lambda i, n: calls.append((i, n))
    )
    assert calls[0] == (0, 250) and calls[-1] == (250, 250)
    assert 3 <= len(calls) <= 110
    assert [c[0] for c in calls] == sorted(c[0] for c in calls)

    class Cancelled(Exception):
        pass

    def cancel(i: int, n: int) -> None:
        if i >= 20:
            raise Cancelled

    threads = torch.get_num_threads()
    with pytest.raises(Cancelled):
        learn_attribute(decompose(x), decompose(z), AVIConfig(steps=250), progress=cancel)
    assert torch.get_num_threads() == threads  # restored after the exception


def test_training_works_under_inference_mode(gen):
    x, z = pair_random(gen, (1, 4, 16, 16))
    cfg = AVIConfig(steps=40)
    ref = learn_attribute(decompose(x), decompose(z), cfg)
    with torch.inference_mode():
        sx, sz = decompose(x), decompose(z)
        att = learn_attribute(sx, sz, cfg)
        out = apply_attribute(sx, att, sz, 1.0)
    assert torch.equal(att.predictor["l2.weight"], ref.predictor["l2.weight"])
    assert out.shape == x.shape


def test_provenance_and_name(gen):
    x, z = pair_random(gen, (1, 4, 8, 8))
    att = learn_attribute(
        decompose(x),
        decompose(z),
        AVIConfig(steps=1),
        name="smile",
        source_prompt="a person",
        target_prompt="a smiling person",
        step=9,
        delta=3,
    )
    assert (att.name, att.source_prompt, att.target_prompt, att.step, att.delta) == (
        "smile",
        "a person",
        "a smiling person",
        9,
        3,
    )
    assert isinstance(att, Attribute)
    with pytest.raises(SVDEditError, match="unknown provenance"):
        learn_attribute(decompose(x), decompose(z), AVIConfig(steps=1), seed_note="x")


def test_shape_errors(gen):
    sx = decompose(torch.randn(2, 4, 16, 16, generator=gen))
    att = learn_attribute(
        sx, decompose(torch.randn(2, 4, 16, 16, generator=gen)), AVIConfig(steps=2)
    )
    with pytest.raises(SVDEditError, match="batch"):
        learn_attribute(sx, decompose(torch.randn(3, 4, 16, 16, generator=gen)))
    with pytest.raises(SVDEditError, match="same C, H, W"):
        learn_attribute(sx, decompose(torch.randn(2, 4, 16, 12, generator=gen)))
    with pytest.raises(SVDEditError, match="16-channel|channels"):
        apply_attribute(decompose(torch.randn(1, 16, 16, 16, generator=gen)), att)
    other = decompose(torch.randn(1, 4, 24, 24, generator=gen))
    with pytest.raises(SVDEditError, match="16x16"):
        apply_attribute(other, att)  # the mean edit needs the same H, W
    # With its own target, another size works.
    tgt = decompose(torch.randn(1, 4, 24, 24, generator=gen))
    assert apply_attribute(other, att, tgt).shape == (1, 4, 24, 24)
    with pytest.raises(SVDEditError, match="rank"):
        low = decompose(torch.randn(1, 4, 16, 16, generator=gen), rank=4)
        apply_attribute(low, att, decompose(torch.randn(1, 4, 16, 16, generator=gen)))
    with pytest.raises(SVDEditError, match="LatentSVD"):
        apply_attribute(torch.randn(1, 4, 16, 16), att)  # type: ignore[arg-type]
    with pytest.raises(SVDEditError, match="finite"):
        apply_attribute(sx, att, None, float("inf"))


def test_empty_matrices_are_refused(gen):
    x = torch.randn(1, 4, 12, 12, generator=gen)
    z = torch.randn(1, 4, 12, 12, generator=gen)
    x_hole = x.clone()
    x_hole[0, 2] = 0.0
    with pytest.raises(SVDEditError, match="source latent is .*zeros at batch 0, channel 2"):
        learn_attribute(decompose(x_hole), decompose(z), AVIConfig(steps=2))
    with pytest.raises(SVDEditError, match="target latent"):
        learn_attribute(decompose(x), decompose(torch.zeros_like(z)), AVIConfig(steps=2))
    with pytest.raises(SVDEditError, match="source latent"):  # 1e-9 of the target's scale
        learn_attribute(decompose(x * 1e-9), decompose(z), AVIConfig(steps=2))
    att = learn_attribute(decompose(x), decompose(z), AVIConfig(steps=2))
    with pytest.raises(SVDEditError, match="cannot apply"):
        apply_attribute(decompose(torch.zeros_like(x)), att, decompose(z))


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"ks": 0}, "ks"),
        ({"steps": -1}, "steps"),
        ({"lr": 0.0}, "lr"),
        ({"w_target": -1.0}, "w_target"),
        ({"w_target": 0.0, "w_source": 0.0}, "both 0"),
        ({"keep_tail": 1}, "keep_tail"),
        ({"hidden": 2.5}, "hidden"),
        ({"lr": float("nan")}, "lr"),
    ],
)
def test_config_validation(kwargs, match):
    with pytest.raises(SVDEditError, match=match):
        AVIConfig(**kwargs)


def test_config_dict_round_trip():
    cfg = AVIConfig(ks=8, kt=4, keep_tail=False, steps=10, lr=1e-2, seed=3)
    assert AVIConfig.from_dict(cfg.to_dict()) == cfg
    with pytest.raises(SVDEditError, match="unknown"):
        AVIConfig.from_dict({**cfg.to_dict(), "extra": 1})


def test_components_are_clipped_to_small_matrices(gen):
    x = torch.randn(1, 4, 6, 10, generator=gen)
    att = learn_attribute(decompose(x), decompose(x + 1.0), AVIConfig(steps=3))
    assert (att.ks, att.kt) == (6, 6)
    assert apply_attribute(decompose(x), att).shape == x.shape


def test_strength_sweep_is_apply_at_every_strength_without_a_decomposition_each(gen):
    x, z = pair_random(gen, (2, 4, 16, 12))
    sx, sz = decompose(x.half()), decompose(z)
    att = learn_attribute(sx, sz, AVIConfig(steps=20))
    strengths = [0.0, 1.0, -0.5, 1.0]
    edits = strength_sweep(sx, att, strengths, sz)
    assert [e.dtype for e in edits] == [torch.float16] * 4  # the source's dtype, like recompose
    assert torch.equal(edits[0], recompose(sx))  # strength 0: the input, exactly
    assert torch.equal(edits[1], edits[3])  # one edit y - x serves every strength
    for s, e in zip(strengths[1:3], edits[1:3], strict=True):
        assert rel(e.float(), recompose(apply_attribute(sx, att, sz, s)).float()) < 2e-3
    with pytest.raises(SVDEditError, match="strength"):
        strength_sweep(sx, att, [0.0, float("nan")], sz)
    # Without a target the sweep adds the mean edit, as Apply does.
    (mean,) = strength_sweep(sx, att, [2.0], None)
    assert rel(mean.float(), recompose(apply_attribute(sx, att, None, 2.0)).float()) < 2e-3
