"""Writes example_workflows/*.json (UI format) from the node definitions of a LIVE ComfyUI server.

    source $LSE_CACHE/env.sh && $LSE_VENV/bin/python tests/harness/build_workflows.py [--thumbnails]

Each workflow is a description (harness.ui_graph): its nodes by name, where their inputs come
from, their place on the canvas, and its notes. Widget values are laid out from /object_info, so
the files stay consistent with the nodes; each file is validated before it is written. Lives
outside example_workflows/ because ComfyUI lists that folder.
"""

from __future__ import annotations

import io
import json
import shutil
import sys
import tempfile
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from harness.checkpoints import SPECS  # noqa: E402
from harness.graph_pieces import (  # noqa: E402
    Sampling,
    apply_and_continue,
    branches,
    continuation,
    decode,
    decompose,
    edit_steps,
    learn,
    noised_photo,
    prompt_encoders,
    reuse_reference,
    to_step,
)
from harness.server import REPO_ROOT, ComfyPaths, make_base_directory, start_server  # noqa: E402
from harness.ui_graph import Graph, Node, Nodes, Note, Pos, merge, write_validated  # noqa: E402
from harness.workflow_format import NodeSpec, node_specs, validate_ui_workflow  # noqa: E402

OUT_DIR = REPO_ROOT / "example_workflows"
SD21 = "v2-1_512-ema-pruned.safetensors"
SDXL = "sd_xl_base_1.0.safetensors"
PHOTO = "example.png"  # ships in ComfyUI's input/ folder; pick your own photo in Load Image
#: The example workflows' steps: the paper's 30 steps with k = round(0.3 N) = 9 (sweep table 2
#: kept 0.3 N), branches of DELTA steps (Edit Steps' default; sweep table 1).
STEPS, K, DELTA = 30, 9, 2
#: The template on the test world: the worlds' sampler (20 steps, cfg 7, k = round(0.3 N)),
#: learning seeds and new seeds (8 of each), the strength it ships with.
WORLD_STEPS, WORLD_K, WORLD_CFG, WORLD_BATCH = 20, 6, 7.0, 8
WORLD_SEEDS = {"learn": 42, "new": 4}
WORLD_STRENGTH = 1.5
#: Empty Latent Image size per world: the side SD's /8 makes the world's latent (16 or 32).
WORLD_SIZE = {"faces": 128, "placed": 256}
STRENGTH_TITLE = "Apply Singular Value Edit (strength)"

Workflow = tuple[Nodes, list[Note]]


# --- shared pieces -----------------------------------------------------------------------------


def base(ckpt_name: str, size: int, batch: int) -> Nodes:
    """The loader ("ckpt"), the three prompts and the empty latent ("latent")."""
    titles = ("Source prompt", "Target prompt: the attribute to learn", "Negative prompt")
    size_and_batch = {"width": size, "height": size, "batch_size": batch}
    return merge(
        {"ckpt": Node("CheckpointLoaderSimple", (0, 0), (320, 100), {"ckpt_name": ckpt_name})},
        prompt_encoders(360, titles),
        {"latent": Node("EmptyLatentImage", (0, 520), (320, 110), size_and_batch)},
    )


def branch_titles(s: Sampling) -> tuple[str, str]:
    return (
        f"Source branch: source prompt from k={s.k} to k+delta={s.target_step}",
        f"Target branch: target prompt from k={s.k} to k+delta={s.target_step}",
    )


def continue_titles(s: Sampling, what: str = "continue") -> tuple[str, str]:
    return (
        f"Edited: {what} from k+delta={s.target_step}",
        f"Unedited: {what} from k+delta={s.target_step}",
    )


def branched_pair(
    s: Sampling, y: float = 0, who: str = "Source", prefix: str = "", latent: str = "latent"
) -> Nodes:
    """x (the source prompt to step k, leftover noise kept; its sampler titled ``who``) and its
    two branches, decomposed, in rows from ``y``; every name starts with ``prefix``."""
    x = f"{prefix}x"
    step_k = to_step(s, (800, y), f"{who} to step k={s.k} (x)", s.k, latent=latent)
    rows = ((1160, y), (1160, y + 380))
    return merge({x: step_k}, branches(s, x, rows, branch_titles(s), prefix))


def decode_save(latent: str, pos: Pos, prefix: str, title: str) -> Nodes:
    save_pos = (pos[0] + 260, pos[1])
    return {
        f"decode_{latent}": decode(pos, latent),
        f"save_{latent}": Node(
            "SaveImage",
            save_pos,
            (420, 460),
            {"filename_prefix": prefix},
            title,
            {"images": f"decode_{latent}"},
        ),
    }


def side_by_side(x: float, prefix: str, title: str) -> Nodes:
    """The decoded unedited and edited images stitched left to right, saved."""
    stitch = {"direction": "right", "spacing_width": 8}
    images = {"image1": "decode_plain", "image2": "decode_edited"}
    return {
        "stitch": Node("ImageStitch", (x, 180), (300, 180), stitch, "Unedited | edited", images),
        "save": Node(
            "SaveImage",
            (x + 340, 0),
            (520, 360),
            {"filename_prefix": prefix},
            title,
            {"images": "stitch"},
        ),
    }


KNOB_NOTE = (
    "How it works (after Wang et al. 2025, arXiv 2502.02225): the source prompt is sampled to "
    "step k (x). From x, the source prompt and the target prompt each run delta more steps "
    "(the source and target branches: same noise level, so they differ only by the "
    "attribute). Each latent is split into singular components (channel-wise SVD). 'Learn "
    "Attribute from Pair' trains a small predictor on the two branches; 'Apply Singular Value "
    "Edit' takes the edit between the branches and adds it to the source branch where they "
    "differ (local); sampling then continues from step k + delta with the SOURCE prompt."
)
PAPER_NOTE = (
    "This graph uses noise-matched (branched) pairs: on the semantic test bed they kept "
    "15-22 points more identity at 90 % edit success than the paper's pairing (smile 69 vs "
    "55 %, hair 72 vs 50 %; benchmarks/semantic/README.md, table 1). The paper's pairing: a "
    "target sampler with the target prompt from step 0 (add_noise enable, same seed) to "
    "k + delta, its decomposition into Learn's target and Apply's target, x's decomposition "
    "into Learn's source and Apply's latent_svd, source_branch disconnected, the continuation "
    "from k. Its best delta on the test bed is 0 (the "
    "paper takes delta > 0). Glasses are the exception: there the paper's pairing at delta 0 "
    "ties the prompt switch and branched pairs did not reach 90 %."
)


def step_note(delta: int, branched: bool = True) -> str:
    """What k and delta mean in a hand-wired graph with the paper's 30 steps and k = 9."""
    if branched:
        where = (
            f"delta = {delta}: both branches start at k and stop at k + {delta} (add_noise "
            "disable, leftover noise enable; the sweeps kept most identity at delta 2)."
        )
    else:
        where = f"delta = {delta}: the target sampler stops at k + {delta} (the paper's choice)."
    return (
        "Edit step: k = end_at_step of the source sampler = start_at_step of the branches "
        "(default 9 of 30 steps, about 0.7T); the continuations start where the branches stop. "
        f"{where} Keep noise_seed, steps, cfg, sampler "
        "and scheduler identical in all samplers, or the latents do not match."
    )


# --- the workflows ----------------------------------------------------------------------------


def learn_workflow(ckpt_name: str, size: int, attribute_file: str) -> Workflow:
    s = Sampling(seed=42, steps=STEPS, cfg=7.0, k=K, delta=DELTA)
    keep = {"filename": attribute_file, "overwrite": True}
    reuse = (
        f"Source branch to the reuse step: source prompt from k+delta={s.target_step} "
        f"to {s.reuse_step}"
    )
    nodes = merge(
        base(ckpt_name, size, 1),
        branched_pair(s),
        reuse_reference(s, (1160, 760), reuse),
        {"learn": learn((1860, 0), "smile", reuse_reference="dreuse")},
        apply_and_continue(s, 2240, "learn.attribute", continue_titles(s)),
        {
            "decode_edited": decode((2960, 0), "edited"),
            "decode_plain": decode((2960, 380), "plain"),
        },
        side_by_side(3220, "latent_svd/unedited_vs_edited", "Unedited (left) | edited (right)"),
        {
            "keep": Node(
                "SaveSingularAttribute",
                (2240, 320),
                (320, 110),
                keep,
                inputs={"attribute": "learn.attribute"},
            )
        },
    )
    return nodes, learn_notes(s, attribute_file)


def learn_notes(s: Sampling, attribute_file: str) -> list[Note]:
    return [
        Note("What this workflow does", (0, 680), (700, 200), KNOB_NOTE),
        Note("The paper's pairing instead", (0, 920), (700, 230), PAPER_NOTE),
        Note("Edit step k and delta", (800, 1140), (680, 150), step_note(s.delta)),
        Note(
            "Learning knobs",
            (1860, 560),
            (380, 220),
            "Learn: k_source / k_target = how many top singular components are mixed (16; more "
            "kept more identity in every mode on the test bed, table 3); keep_tail keeps the rest "
            "of the source (noise the sampler still needs). The loss curve (shown on the node) "
            "should reach the dashed exact optimum; raise 'steps' if it does not. The four "
            "weights are the paper's losses: target, source, and the two 'keep singular values "
            "natural' terms.",
        ),
        Note(
            "Strength and saving",
            (2240, 480),
            (340, 280),
            "strength: 0 = unchanged (identical to the unedited image), 1 = the learned edit, "
            "0..1 interpolates, negative pushes away from the target prompt; the edit is added to "
            "the source branch where the branches differ (local). The attribute is saved to "
            f"models/svd_attributes/{attribute_file}.safetensors for 'apply_saved_attribute' "
            "(overwrite is on: re-running replaces it). The reuse reference (the source branch "
            f"continued to step {s.reuse_step}) makes it reusable on new seeds without a target "
            "run.",
        ),
    ]


def apply_workflow(ckpt_name: str, size: int, attribute_file: str) -> Workflow:
    s = Sampling(seed=1234, steps=STEPS, cfg=7.0, k=K, delta=DELTA)
    saved = {"attribute_name": f"{attribute_file}.safetensors"}
    nodes = merge(
        base(ckpt_name, size, 4),
        {"load": Node("LoadSingularAttribute", (1520, 760), (340, 80), saved)},
        branched_pair(s),
        apply_and_continue(
            s, 1900, "load.attribute", continue_titles(s), apply_title=STRENGTH_TITLE
        ),
        decode_save("edited", (2620, 0), "latent_svd/applied_edited", "Edited batch"),
        decode_save("plain", (2620, 520), "latent_svd/applied_unedited", "Unedited batch"),
    )
    return nodes, apply_notes(s)


def apply_notes(s: Sampling) -> list[Note]:
    return [
        Note(
            "What this workflow does",
            (0, 680),
            (700, 150),
            "Applies a saved attribute (run 'learn_attribute_from_prompt_pair' first, or drop "
            "any attribute .safetensors into models/svd_attributes and press R) to a batch of "
            "new seeds: each image of the batch gets its own noise, its own source latent x at "
            "step k and its own source and target branches from x (same prompts as training); "
            "the edit goes on its source branch, which then finishes from k + delta.",
        ),
        Note(
            "Strength, seeds, reuse without a target",
            (1900, 320),
            (340, 340),
            "strength (on 'Apply Singular Value Edit'): 0 = the unedited image, 1 = the learned "
            "edit, 0.5 = half way, negative = the opposite attribute. batch_size (Empty Latent "
            "Image) = how many new seeds; noise_seed picks them. Without target and "
            "source_branch no branch runs (cost of a plain generation): an attribute learned "
            "with reuse_reference (as the learn workflow saves it) adds its edits moved to "
            "where each seed's subject is; give Apply the seed's source latent at the reuse "
            f"step ({s.reuse_step} of {s.steps}), continue from there, strength about 2. "
            "Without references the stored mean edit is added (same image size only; "
            "strength about 3).",
        ),
        Note(
            "Attributes of the paper's pairing",
            (0, 860),
            (700, 120),
            "An attribute learned from the paper's pairs (target prompt from step 0, no "
            "source_branch) is applied the same way: a target sampler from step 0 to k + delta "
            "into target, source_branch disconnected. Apply refuses the other wiring.",
        ),
        Note("Edit step k and delta", (800, 760), (680, 150), step_note(s.delta)),
    ]


def explore_workflow(ckpt_name: str, size: int) -> Workflow:
    s = Sampling(seed=7, steps=30, cfg=7.0, k=9, delta=DELTA)
    factors = (0.0, 0.5, 1.5, 2.0)
    grid = "Grid: unchanged, then s_0 x " + ", ".join(str(f) for f in factors)
    nodes = merge(
        base(ckpt_name, size, 1),
        {
            "x": to_step(s, (800, 0), f"Sample to step k={s.k} (about 0.7T)", s.k),
            "dx": decompose((1160, 0), "x"),
        },
        *(scaled_row(row, factor) for row, factor in enumerate(factors)),
        {"cont": continuation(s, (2460, 0), f"Continue all from k={s.k}", "batch3", s.k)},
        decode_save("cont", (2820, 0), "latent_svd/explore_factor_grid", grid),
    )
    return nodes, explore_notes()


def scaled_row(row: int, factor: float) -> Nodes:
    """One row of the grid: s_0 scaled by ``factor``, recomposed, appended to the batch whose
    first item is x unchanged."""
    y = 160 + row * 260
    scale = {"indices": "0", "channels": "", "factor": factor}
    return {
        f"scale{row}": Node(
            "ScaleSingularValues",
            (1500, y),
            (320, 150),
            scale,
            f"Scale s_0 by {factor}",
            {"latent_svd": "dx"},
        ),
        f"rec{row}": Node(
            "LatentRecompose", (1860, y), (260, 60), inputs={"latent_svd": f"scale{row}"}
        ),
        f"batch{row}": Node(
            "LatentBatch",
            (2160, y),
            (240, 80),
            inputs={"samples1": f"batch{row - 1}" if row else "x", "samples2": f"rec{row}"},
        ),
    }


def explore_notes() -> list[Note]:
    return [
        Note(
            "What this workflow does",
            (0, 680),
            (700, 200),
            "The paper's exploration (observation 2): at step k (about 0.7T) the latent is split "
            "into singular components per channel and ONE singular value is scaled; sampling "
            "then continues unchanged. The saved grid shows the unchanged image first, then the "
            "factors. Change 'indices' (0 = largest; '1', '2-4', ...) to see which attribute "
            "each component carries, 'channels' to touch only some latent channels, and k "
            "(end_at_step here = start_at_step of the continuation) to see how the order moves "
            "with time (observation 3).",
        ),
        Note(
            "Factors",
            (1500, 1240),
            (420, 110),
            "factor: 1 = unchanged, 0 = remove the component, >1 amplify, negative flips it. "
            "Add rows by copying a Scale -> Recompose -> LatentBatch chain.",
        ),
    ]


ANALYSIS_LATER, ANALYSIS_STRENGTHS = 12, "0, 0.25, 0.5, 0.75, 1"


def analysis_workflow(ckpt_name: str, size: int) -> Workflow:
    """The paper's figures inside ComfyUI (analysis nodes): spectrum before/after an edit,
    components at 0.7T and 0.6T, their subspace distance, and a strength strip."""
    s = Sampling(seed=42, steps=30, cfg=7.0, k=9, delta=3)
    later, strengths = ANALYSIS_LATER, ANALYSIS_STRENGTHS
    edit = {"latent_svd": "dx", "attribute": "learn.attribute"}
    strip = f"Continue the whole strip from k={s.k}"
    nodes = merge(
        base(ckpt_name, size, 1),
        {
            "x": to_step(s, (800, 0), f"Source to step k={s.k} (0.7T)", s.k),
            "tx": to_step(
                s, (800, 380), f"Target to step k+delta={s.target_step}", s.target_step, "target"
            ),
            "dx": decompose((1160, 0), "x", "Decompose source (0.7T)"),
            "dtx": decompose((1160, 380), "tx", "Decompose target"),
            "later": to_step(s, (800, 760), f"Source to step {later} (0.6T)", later),
            "dlater": decompose((1160, 760), "later", "Decompose source (0.6T)"),
            "learn": learn((1500, 0), "smile", "dx", "dtx"),
            "apply": Node(
                "ApplySingularEdit",
                (1880, 0),
                (320, 120),
                {"strength": 1.0},
                inputs=edit | {"target": "dtx"},
            ),
        },
        analysis_figures(s, later),
        {
            "sweep": Node(
                "AttributeStrengthSweep",
                (1880, 300),
                (320, 140),
                {"strengths": strengths},
                inputs=edit | {"target_latent_svd": "dtx"},
            ),
            "cont": continuation(s, (1880, 760), strip, "sweep", s.k),
        },
        decode_save(
            "cont", (2240, 1260), "latent_svd/strength_strip", f"Strength strip: {strengths}"
        ),
    )
    return nodes, analysis_notes(s, later)


def analysis_figures(s: Sampling, later: int) -> Nodes:
    """Spectrum before/after the edit, the top components at k and at ``later``, and the
    distance of their subspaces."""
    at_k = f"step {s.k} (0.7T)"
    at_later = f"step {later} (0.6T)"
    spectrum = {
        "label": "before the edit",
        "second_label": "after the edit (strength 1)",
        "title": f"Singular values at {at_k}: before vs after the edit",
    }
    return {
        "spectrum": Node(
            "LatentSingularSpectrum",
            (2240, 0),
            (520, 620),
            spectrum,
            inputs={"latent_svd": "dx", "second_latent_svd": "apply"},
        ),
        "comp_k": Node(
            "SingularComponentsPreview",
            (2800, 0),
            (520, 620),
            {"count": 4, "title": components_title(s.k, s.steps, "0.7T")},
            inputs={"latent_svd": "dx"},
        ),
        "comp_later": Node(
            "SingularComponentsPreview",
            (3360, 0),
            (520, 620),
            {"count": 4, "title": components_title(later, s.steps, "0.6T")},
            inputs={"latent_svd": "dlater"},
        ),
        "dist": Node(
            "LatentSubspaceDistance",
            (2800, 680),
            (520, 520),
            {"k": 16, "title": f"Top-16 subspaces: {at_k} vs {at_later}"},
            inputs={"latent_svd_a": "dx", "latent_svd_b": "dlater"},
        ),
    }


def components_title(step: int, steps: int, when: str) -> str:
    return f"Top rank-1 components u_i v_i^T at step {step} of {steps} ({when})"


def analysis_notes(s: Sampling, later: int) -> list[Note]:
    return [
        Note(
            "What this workflow does",
            (0, 680),
            (700, 230),
            "The paper's figures, inside ComfyUI. Top: the singular value spectrum of the source "
            f"latent at step k = {s.k} of {s.steps} (about 0.7T) before and after the learned edit "
            "(log scale, one panel per latent channel). Right: the top rank-1 components of the "
            f"same generation at 0.7T and at step {later} (0.6T): the order of the components "
            "changes with time (observation 3), while the subspace distance chart shows that "
            "the top-16 subspaces move little between the two steps (observation 1; 0 = the "
            "same subspace, the dashed line = orthogonal).",
        ),
        Note(
            "Strength strip",
            (1500, 1260),
            (440, 200),
            "'Attribute Strength Sweep' applies the attribute at every strength of its list and "
            "returns one LATENT batch (item-major: each image's strip is contiguous), so ONE "
            "sampler run from step k gives the paper's interpolation strip. 0 = the unedited "
            "image, 1 = the learned edit, negative values push away from the target prompt.",
        ),
        Note(
            "Edit step k and delta",
            (800, 1140),
            (680, 150),
            step_note(s.delta, branched=False),
        ),
    ]


def photo_workflow(ckpt_name: str) -> Workflow:
    """Edit an image the user already has: encode it, add noise to the level of step k (core
    AddNoise with the scheduler's sigmas from k on), take the source and the target branch
    from there (each prompt from k to k + delta), learn, apply, continue with the source
    prompt. Every sampler takes steps, k and k + delta from 'Edit Steps' ("plan")."""
    s = Sampling(seed=42, steps=STEPS, cfg=7.0, k=K, delta=DELTA)
    titles = (
        "Source prompt: describes the photo",
        "Target prompt: the photo with the attribute",
        "Negative prompt",
    )
    photo = {"image": PHOTO}
    nodes = merge(
        {
            "ckpt": Node("CheckpointLoaderSimple", (0, 0), (320, 100), {"ckpt_name": ckpt_name}),
            "photo": Node("LoadImage", (0, 160), (320, 360), photo, "Your photo"),
        },
        prompt_encoders(360, titles),
        {"plan": edit_steps((0, 560), s)},
        noised_photo(s, 800, 1140, pixels="photo.IMAGE", vae="ckpt.VAE", model="ckpt.MODEL"),
        branches(s, "noisy", ((1140, 760), (1140, 380)), branch_titles(s), plan="plan"),
        {"learn": learn((1840, 0), "smile_photo")},
        apply_and_continue(
            s, 2220, "learn.attribute", continue_titles(s, "source prompt"), plan="plan"
        ),
        {
            "decode_plain": decode((2940, 380), "plain"),
            "decode_edited": decode((2940, 0), "edited"),
        },
        side_by_side(
            3200, "latent_svd/photo_edit", "Re-generated from step k (left) | edited (right)"
        ),
    )
    return nodes, photo_notes()


def photo_notes() -> list[Note]:
    return [
        Note(
            "What this workflow does",
            (0, 740),
            (760, 200),
            "Edits a photo you already have (Load Image: pick it, ideally at the model's size, "
            "512 px for SD 2.1). The photo is encoded, noise is added up to the level of step "
            "k (AddNoise with the scheduler's sigmas from k on: plain img2img at step k), and "
            "from there the source and the target prompt each run to k + delta (the branches). "
            "The attribute is learned from the branches, and the edit between them is added to "
            "the source branch where they differ; sampling continues from k + delta with the "
            "SOURCE prompt. Left: the photo re-generated without the edit; right: the edit. On "
            "drawn test faces "
            "plain img2img with the target prompt was as good (benchmarks/semantic/README.md, "
            "Editing a photo; measured with the paper's pairing).",
        ),
        Note(
            "Edit step k and delta",
            (800, 560),
            (600, 170),
            "Enter steps, the edit step k and delta ONCE in 'Edit Steps': every sampler, the "
            "scheduler and SplitSigmas take them from there. Small k keeps more of the photo "
            "(less noise is added) but leaves less room for the edit; large k edits more "
            "freely and keeps less. delta must be > 0 here (the branches run k -> k + "
            "delta). Describe the photo in the source prompt.",
        ),
        Note(
            "Learn or load",
            (2220, 300),
            (340, 200),
            "To use a saved attribute instead of learning one from this photo, replace 'Learn "
            "Attribute from Pair' by 'Load Singular Value Attribute' (one learned from branch "
            "pairs; for one of the paper's pairing wire it as the note on the learn workflow "
            "says). strength: 0 = the photo re-generated (identical to the left image), 1 = the "
            "learned edit, negative = the opposite attribute.",
        ),
    ]


def world_base(world: str, batch: int) -> Nodes:
    """The test world's loader and prompts (words it knows), the learning seeds' latent
    ("latent") and a second Empty Latent Image for the new seeds ("new_latent")."""
    titles = (
        "Source prompt (empty: every attribute left to the seed)",
        "Target prompt: the attribute to learn",
        "Negative prompt (empty)",
    )
    size = WORLD_SIZE[world]
    latent = {"width": size, "height": size, "batch_size": batch}
    return merge(
        {"ckpt": Node("LoadTestWorld", (0, 0), (320, 100), {"world": world})},
        prompt_encoders(360, titles, ("", "smiling", ""), (140, 140, 140)),
        {
            "latent": Node("EmptyLatentImage", (0, 560), (320, 130), latent, "Learning seeds"),
            "new_latent": Node("EmptyLatentImage", (0, 760), (320, 130), latent, "New seeds"),
        },
    )


def world_workflow(world: str) -> Workflow:
    """Learn "smiling" from one prompt pair on the test world and apply it to new seeds:
    unedited | edited | native prompt window, side by side, no checkpoint needed."""
    learning = Sampling(WORLD_SEEDS["learn"], WORLD_STEPS, WORLD_CFG, WORLD_K, DELTA)
    s = replace(learning, seed=WORLD_SEEDS["new"])
    window = f"Prompt window: the target prompt k={s.k}..{s.target_step}, then the source"
    nodes = merge(
        world_base(world, WORLD_BATCH),
        branched_pair(learning),
        {"learn": learn((1880, 0), "smile")},
        branched_pair(s, 1160, "New seeds", "new_", "new_latent"),
        apply_and_continue(
            s, 2280, "learn.attribute", continue_titles(s), "new_", STRENGTH_TITLE, WORLD_STRENGTH
        ),
        {"window": continuation(s, (2640, 760), window, "new_target_branch", s.target_step)},
        {
            f"decode_{name}": decode((3000, 200 * row), name)
            for row, name in enumerate(("plain", "edited", "window"))
        },
        world_row(),
    )
    return nodes, world_notes(s)


def world_row() -> Nodes:
    """unedited | edited | prompt window, enlarged (the world draws 32 px faces), saved."""
    stitch = {"direction": "right", "spacing_width": 2}
    enlarge = {"upscale_method": "nearest-exact", "scale_by": 4.0}
    row_title = "Unedited | edited | prompt window (one row per new seed)"
    return {
        "stitch": Node(
            "ImageStitch",
            (3260, 0),
            (300, 180),
            stitch,
            "Unedited | edited",
            {"image1": "decode_plain", "image2": "decode_edited"},
        ),
        "stitch_window": Node(
            "ImageStitch",
            (3260, 220),
            (300, 180),
            stitch,
            "... | prompt window",
            {"image1": "stitch", "image2": "decode_window"},
        ),
        "scale": Node(
            "ImageScaleBy",
            (3600, 0),
            (300, 110),
            enlarge,
            "Enlarge (the world draws 32 px faces)",
            {"image": "stitch_window"},
        ),
        "save": Node(
            "SaveImage",
            (3940, 0),
            (560, 700),
            {"filename_prefix": "latent_svd/test_world"},
            row_title,
            {"images": "scale"},
        ),
    }


def world_notes(s: Sampling) -> list[Note]:
    return [
        Note(
            "Try it on the test world",
            (0, 980),
            (700, 200),
            "No checkpoint needed: 'Load Test World' loads the pack's tiny trained test model "
            "(procedural 32 px faces; the words it knows are on its help page). Press Run: it "
            "learns 'smiling' from one prompt pair (empty source prompt, target 'smiling') on "
            f"{WORLD_BATCH} learning seeds, applies it to {WORLD_BATCH} new seeds and saves one "
            "row per new seed: unedited | edited | the native prompt window (the target prompt for "
            f"{s.delta} steps from k, then the source prompt; no pack needed). A few seconds on a "
            "CPU.",
        ),
        Note(
            "Strength and other attributes",
            (2280, 320),
            (340, 260),
            f"strength (on 'Apply Singular Value Edit'): {WORLD_STRENGTH} here (the benchmark "
            "needed about 1.6 for 90 % smiles on this world); 0 = the unedited image, negative = "
            "the opposite. Change the target prompt ('blonde hair', 'glasses', 'frowning') to "
            "learn another attribute, the New seeds' noise_seed for other faces.",
        ),
        Note(
            "Edit step k and delta",
            (800, 760),
            (680, 150),
            step_note(s.delta).replace("default 9 of 30 steps", f"{s.k} of {s.steps} here"),
        ),
    ]


WORKFLOWS: dict[str, Callable[[], Workflow]] = {
    "learn_attribute_from_prompt_pair": lambda: learn_workflow(SD21, 512, "smile_sd21"),
    "apply_saved_attribute": lambda: apply_workflow(SD21, 512, "smile_sd21"),
    "explore_singular_values": lambda: explore_workflow(SD21, 512),
    "analysis_figures": lambda: analysis_workflow(SD21, 512),
    "learn_attribute_from_prompt_pair_sdxl": lambda: learn_workflow(SDXL, 1024, "smile_sdxl"),
    "edit_photo_with_attribute": lambda: photo_workflow(SD21),
    "try_on_test_world": lambda: world_workflow("faces"),
}


def build_all(specs: dict[str, NodeSpec], out_dir: Path = OUT_DIR) -> dict[str, Path]:
    provided = set(SPECS) | {"smile_sd21.safetensors", "smile_sdxl.safetensors", PHOTO}

    def maker(describe: Callable[[], Workflow]) -> Callable[[], dict[str, Any]]:
        return lambda: Graph.of(specs, *describe()).to_json()

    return write_validated(
        {name: maker(describe) for name, describe in WORKFLOWS.items()},
        lambda wf: validate_ui_workflow(wf, specs, provided),
        out_dir,
    )


def render_thumbnails(server_url: str, paths: dict[str, Path]) -> None:
    """<name>.jpg beside each workflow: the real canvas in headless Chromium, fitted, resized."""
    from PIL import Image  # noqa: PLC0415

    from harness.browser import canvas_png, chromium, fit_graph, open_comfy  # noqa: PLC0415

    with chromium() as driver:
        page = open_comfy(driver, server_url)
        for name, path in paths.items():
            page.js_async(
                "await app.loadGraphData(args[0], true, true, args[1]);",
                json.loads(path.read_text()),
                name,
            )
            fit_graph(page)
            with Image.open(io.BytesIO(canvas_png(page))) as im:
                im = im.convert("RGB")
                im.thumbnail((640, 400))
                im.save(path.with_suffix(".jpg"), quality=85)
            print(f"wrote {path.with_suffix('.jpg').relative_to(REPO_ROOT)}")


def main() -> None:
    paths = ComfyPaths.from_env()
    if paths is None:
        raise SystemExit("source $LSE_CACHE/env.sh first (COMFYUI_PATH is not set)")
    tmp = Path(tempfile.mkdtemp(prefix="lse-build-wf-"))
    base_dir = make_base_directory(tmp)
    shipped = paths.comfyui / "input" / PHOTO  # ComfyUI's own example photo, for the thumbnail
    if shipped.is_file():
        shutil.copyfile(shipped, base_dir / "input" / PHOTO)
    server = start_server(base_dir, paths)
    try:
        specs = node_specs(server.object_info())
        written = build_all(specs)
        for name, path in written.items():
            print(f"wrote {path.relative_to(REPO_ROOT)} ({name})")
        if "--thumbnails" in sys.argv:
            server.request("POST", "/settings/Comfy.TutorialCompleted", True)
            render_thumbnails(server.url, written)
    finally:
        server.stop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
