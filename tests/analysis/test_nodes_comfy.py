"""The figure nodes inside a real ComfyUI 0.3.75 (in-process PromptExecutor).

Latents enter through ComfyUI's own LoadLatent from files written into the test base
directory, then 'Latent Singular Value Decompose' (the pack's core node) feeds the analysis
nodes: no model needed, so these run in a second or two.
"""

from __future__ import annotations

import math
import re
from typing import Any

import pytest
import torch
from analysis.comfy_latents import orthogonal_pair, write_latent
from harness.graphs import node

from svd_core import decompose, rank_one_components

W, H = 480, 360
SIZE = {"width": W, "height": H}


def _rand(seed: int, shape: tuple[int, ...]) -> torch.Tensor:
    return torch.randn(shape, generator=torch.Generator().manual_seed(seed))


@pytest.fixture(scope="module")
def files(comfy_runtime) -> dict[str, Any]:
    inputs = comfy_runtime.base_dir / "input"
    a, b = orthogonal_pair(24, 20, 3, 4)
    tensors = {
        "src": _rand(1, (2, 4, 24, 20)),
        "tgt": _rand(2, (2, 4, 24, 20)) * 2,
        "flux": _rand(3, (1, 16, 12, 12)),
        "video": _rand(4, (1, 4, 3, 12, 10)),
        "orth_a": a,
        "orth_b": b,
    }
    return {k: (write_latent(inputs, f"lse_analysis_{k}", t), t) for k, t in tensors.items()}


def _decomposed(files: dict[str, Any], *names: str) -> dict[str, Any]:
    prompt: dict[str, Any] = {}
    for name in names:
        prompt[f"load_{name}"] = node("LoadLatent", latent=files[name][0])
        prompt[name] = node("LatentSVDDecompose", latent=[f"load_{name}", 0], rank=0)
    return prompt


def _spectrum(src: str, second: str | None = None, **kw: Any) -> dict[str, Any]:
    inputs = {
        "latent_svd": [src, 0],
        "label": "source",
        "max_index": 0,
        "channels": "",
        "batch_index": 0,
        "frame": 0,
        "title": "",
        "second_label": "target",
        **SIZE,
        **kw,
    }
    if second:
        inputs["second_latent_svd"] = [second, 0]
    return node("LatentSingularSpectrum", **inputs)


def _components(src: str, **kw: Any) -> dict[str, Any]:
    inputs = {
        "latent_svd": [src, 0],
        "count": 3,
        "channels": "",
        "weighted": False,
        "batch_index": 0,
        "frame": 0,
        "title": "",
        **SIZE,
        **kw,
    }
    return node("SingularComponentsPreview", **inputs)


def _distance(a: str, b: str, k: int, **kw: Any) -> dict[str, Any]:
    return node(
        "LatentSubspaceDistance",
        latent_svd_a=[a, 0],
        latent_svd_b=[b, 0],
        k=k,
        side="left",
        title="",
        **SIZE,
        **kw,
    )


def _figure_prompt(files: dict[str, Any]) -> dict[str, Any]:
    p = _decomposed(files, "src", "tgt", "flux", "video", "orth_a", "orth_b")
    p["spec"] = _spectrum("src", "tgt", batch_index=1)
    p["spec16"] = _spectrum("flux", max_index=5, channels="2, 5-6, 15")
    p["spec_video"] = _spectrum("video", frame=2)
    p["comp"] = _components("src", channels="1, 3", batch_index=1, weighted=True)
    p["comp_video"] = _components("video", frame=1, count=2)
    p["same"] = _distance("src", "src", 6)
    p["orth"] = _distance("orth_a", "orth_b", 3)
    p["pair"] = _distance("src", "tgt", 6)
    return p


FIGURES = ["spec", "spec16", "spec_video", "comp", "comp_video", "same", "orth", "pair"]


@pytest.fixture(scope="module")
def run(comfy_runtime, files):
    result = comfy_runtime.run_prompt(_figure_prompt(files), outputs=FIGURES, fresh_cache=True)
    assert result.success, result.error_message()
    return result


def _image(run, node_id: str) -> torch.Tensor:
    out = run.output(node_id)
    return out[1] if node_id in ("same", "orth", "pair") else out[0]


def test_every_figure_has_the_size_and_ink_and_a_preview(run, comfy_runtime) -> None:
    for node_id in FIGURES:
        image = _image(run, node_id)
        assert image.shape == (1, H, W, 3) and image.dtype == torch.float32, node_id
        pixels = image[0].reshape(-1, 3)
        assert float(pixels.min()) < 0.2 and float(pixels.max()) > 0.9, node_id
        assert len(torch.unique(pixels, dim=0)) > 50, node_id
        previews = run.ui[node_id]["images"]
        assert len(previews) == 1 and previews[0]["type"] == "temp"
        saved = comfy_runtime.base_dir / "temp" / previews[0]["subfolder"] / previews[0]["filename"]
        assert saved.is_file()


def test_node_pixels_are_the_figure_of_the_decomposition(run, files, figures) -> None:
    src, tgt = decompose(files["src"][1]), decompose(files["tgt"][1])
    expected = figures.render(
        figures.spectrum_figure(
            [src.S[1], tgt.S[1]],
            ["source", "target"],
            W,
            H,
            "Singular value spectrum per channel (batch item 1)",
        ),
        W,
        H,
    )
    assert torch.equal(_image(run, "spec"), expected)
    flux = decompose(files["flux"][1])
    chosen = [2, 5, 6, 15]
    fig = figures.spectrum_figure(
        [flux.S[0, chosen, :5]],
        ["source"],
        W,
        H,
        "Singular value spectrum per channel (batch item 0)",
        channel_numbers=chosen,
    )
    expected = figures.render(fig, W, H)
    assert torch.equal(_image(run, "spec16"), expected)
    video = decompose(files["video"][1])
    expected = figures.render(
        figures.spectrum_figure(
            [video.S[0, :, 2]],
            ["source"],
            W,
            H,
            "Singular value spectrum per channel (batch item 0, frame 2)",
        ),
        W,
        H,
    )
    assert torch.equal(_image(run, "spec_video"), expected)
    comps = rank_one_components(src, 3, weighted=True)[1, [1, 3]]
    expected = figures.render(
        figures.components_figure(comps, src.S[1, [1, 3], :3], [1, 3], W, H, "", weighted=True),
        W,
        H,
    )
    assert torch.equal(_image(run, "comp"), expected)


def test_identical_inputs_give_identical_images(run, comfy_runtime, files) -> None:
    # A fresh executor cache recomputes everything; one node of each kind keeps it short.
    kinds = ["spec", "comp", "pair"]
    full = _figure_prompt(files)
    prompt = {k: v for k, v in full.items() if k in kinds or k.endswith(("src", "tgt"))}
    again = comfy_runtime.run_prompt(prompt, outputs=kinds, fresh_cache=True)
    assert again.success, again.error_message()
    for node_id in kinds:
        assert torch.equal(_image(again, node_id), _image(run, node_id)), node_id


def test_distance_is_zero_for_one_subspace_and_maximal_for_orthogonal_ones(run) -> None:
    same, _, text = run.output("same")
    assert isinstance(same, float) and same == pytest.approx(0.0, abs=5e-3)
    orth, _, text_orth = run.output("orth")
    assert orth == pytest.approx(math.pi / 2 * math.sqrt(3), abs=1e-4)
    lines = text_orth.splitlines()
    assert lines[0].endswith(f"(maximum {math.pi / 2 * math.sqrt(3):.4f})")
    assert [ln.split(": ")[0] for ln in lines[1:]] == [f"channel {c}" for c in range(4)] + ["mean"]
    for line in lines[1:]:
        assert float(line.split(": ")[1]) == pytest.approx(math.pi / 2 * math.sqrt(3), abs=1e-4)
    pair = run.output("pair")[0]
    assert 0.0 < pair < math.pi / 2 * math.sqrt(6)


def test_distance_k_is_clipped_to_the_rank(comfy_runtime, files, run) -> None:
    prompt = _figure_prompt(files)
    prompt["orth"] = {**prompt["orth"], "inputs": {**prompt["orth"]["inputs"], "k": 64}}
    result = comfy_runtime.run_prompt(prompt, outputs=["orth"])
    assert result.success, result.error_message()
    mean, _, text = result.output("orth")
    # 24 x 20 matrices: k = 20 is the whole row space (right) / 20 of 24 dims (left).
    assert text.splitlines()[0].startswith("Grassmann distance of the top-20 subspaces")
    assert 0.0 < mean <= math.pi / 2 * math.sqrt(20)


@pytest.mark.parametrize(
    ("node_id", "change", "message"),
    [
        (
            "pair",
            {"latent_svd_b": ["flux", 0]},
            r"^Latent Subspace Distance: cannot compare subspaces of latents with shapes",
        ),
        ("comp", {"count": 21}, r"^Singular Components Preview: count 21 is more than the 20"),
        ("comp", {"channels": "0, 9"}, r"^Singular Components Preview: channels: 9 is out of"),
        ("spec16", {"channels": "16"}, r"^Latent Singular Value Spectrum: channels: 16 is out"),
        (
            "spec",
            {"second_latent_svd": ["flux", 0]},
            r"^Latent Singular Value Spectrum: the two latents have different channel counts",
        ),
        ("spec", {"batch_index": 2}, r"^Latent Singular Value Spectrum: batch index 2 is out"),
        ("spec_video", {"frame": 3}, r"^Latent Singular Value Spectrum: frame 3 is out of range"),
    ],
)
def test_bad_input_names_the_node_and_the_fix(
    comfy_runtime, files, node_id, change, message
) -> None:
    prompt = _figure_prompt(files)
    prompt[node_id] = {**prompt[node_id], "inputs": {**prompt[node_id]["inputs"], **change}}
    result = comfy_runtime.run_prompt(prompt, outputs=[node_id])
    assert not result.success and result.error() is not None
    assert re.search(message, result.error()["exception_message"]), result.error_message()


def test_schemas_are_documented(comfy_runtime) -> None:
    for node_id in (
        "LatentSingularSpectrum",
        "SingularComponentsPreview",
        "LatentSubspaceDistance",
        "AttributeStrengthSweep",
    ):
        schema = comfy_runtime.node_class(node_id).define_schema()
        assert schema.category == "latent/singular value edit/analysis"
        assert "SVD" not in schema.display_name and schema.description
        for item in [*schema.inputs, *schema.outputs]:
            assert item.tooltip, f"{node_id}.{item.id} has no tooltip"
