"""The photo benchmark's building blocks on the trained semantic world: drawn faces are read back
exactly and never start at the target value; the photo path (encode, noise to step k, target
branch, apply, finish) gives finite faces, and at strength 0 it is the photo re-generated from
step k with the source prompt."""

from __future__ import annotations

import pytest
import torch

from benchmarks.semantic import photo_benchmark as pb
from benchmarks.semantic import world
from benchmarks.semantic.models import load_world
from benchmarks.semantic.pipeline import EDITS, Pairs, apply, finish

pytestmark = pytest.mark.slow
K, DELTA, N = 14, 3, 4


@pytest.mark.parametrize("edit", EDITS, ids=[e.key for e in EDITS])
def test_drawn_faces_read_back_exactly_and_start_away_from_the_target(edit) -> None:
    images, values = pb.drawn_faces(edit, 64)
    assert (values[:, edit.index] != edit.target_index).all()
    read, rms = world.read_attributes(images)
    assert torch.equal(read, values) and float(rms.max()) < 1e-2  # 0 up to float error


def test_photo_path_rows_and_strength_zero() -> None:
    torch.set_num_threads(1)
    w = load_world()
    edit = EDITS[0]
    images, _ = pb.drawn_faces(edit, N)
    seeds = list(range(pb.NOISE_SEED0, pb.NOISE_SEED0 + N))
    rows = pb.photo_rows(w, edit, K, DELTA, images, seeds)
    assert set(rows) >= {
        "re-generated from step k, source prompt (strength 0)",
        "img2img: target prompt from step k",
    }
    for name, im in rows.items():
        assert im.shape == (N, 3, 32, 32) and torch.isfinite(im).all(), name
    # strength 0 through decompose / apply / recompose is the re-generation from step k
    with torch.no_grad():
        x_k = w.ae.encode(images) + float(w.sigmas[K]) * w.noise(seeds)
    z = w.run(edit.target_tokens, seeds, K, K + DELTA, x_start=x_k)
    from benchmarks.semantic.pipeline import learn, sample_pairs  # noqa: PLC0415

    attr = learn(sample_pairs(w, edit, (0, 1), K, DELTA), pb.BASE_CONFIG, edit, K, DELTA)
    zero = finish(w, edit.source_tokens, seeds, K, apply(attr, Pairs(tuple(seeds), x_k, z), 0.0))
    regen = rows["re-generated from step k, source prompt (strength 0)"]
    assert float((zero - regen).abs().max()) < 1e-4
