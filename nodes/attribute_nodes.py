"""Learn an attribute from one (source, target) pair and apply it to a latent (AVI)."""

from __future__ import annotations

from typing import Any

import comfy.model_management
import comfy.utils
from comfy_api.latest import io, ui

from ..svd_core import Attribute, AVIConfig, apply_attribute, learn_attribute
from ..svd_core.config import MAX_COMPONENTS, MAX_HIDDEN
from .common import PackNode
from .compat import advanced, search_aliases
from .plotting import loss_curve_image
from .provenance import apply_note, learn_provenance, reuse_step_note
from .types import CATEGORY, AttributeType, LatentSVDType, SingularLatent

LEARN = "Learn Attribute from Pair (singular values)"
APPLY = "Apply Singular Value Edit"

_DEFAULTS = AVIConfig()
MAX_STEPS = 100_000
MAX_SEED = 2**31 - 1
#: The training widgets whose AVIConfig field has another name (the rest share theirs).
CONFIG_FIELDS = {"k_source": "ks", "k_target": "kt", "learning_rate": "lr"}


def _weight(name: str, default: float, what: str) -> io.Float.Input:
    return io.Float.Input(
        name,
        default=default,
        min=0.0,
        max=100.0,
        step=0.01,
        tooltip=f"Weight of {what} (0 switches the term off).",
        **advanced(),
    )


def _training_inputs() -> list[io.Input]:
    """The training widgets (AVIConfig's fields, see CONFIG_FIELDS), in their saved order."""
    return [
        io.Int.Input(
            "k_source",
            default=_DEFAULTS.ks,
            min=1,
            max=MAX_COMPONENTS,
            tooltip="How many of the source's largest singular components the "
            "predictor re-weights (clipped to min(H, W)).",
        ),
        io.Int.Input(
            "k_target",
            default=_DEFAULTS.kt,
            min=1,
            max=MAX_COMPONENTS,
            tooltip="How many of the target's largest singular components are mixed "
            "in (clipped to min(H, W)).",
        ),
        io.Boolean.Input(
            "keep_tail",
            default=_DEFAULTS.keep_tail,
            **advanced(),
            tooltip="Keep the source's small singular components beyond k_source, "
            "including the noise the sampler still expects (recommended).",
        ),
        io.Int.Input(
            "steps",
            default=_DEFAULTS.steps,
            min=1,
            max=MAX_STEPS,
            tooltip="Adam steps of training (the loss curve shows whether it reached "
            "the exact optimum).",
        ),
        io.Float.Input(
            "learning_rate",
            default=_DEFAULTS.lr,
            min=1e-6,
            max=1.0,
            step=0.0001,
            round=0.000001,
            **advanced(),
            tooltip="Peak Adam learning rate (cosine decay to 1/100 of it).",
        ),
        _weight(
            "w_target",
            _DEFAULTS.w_target,
            "L1 = ||y - z||^2 / ||z||^2 (reach the target attribute)",
        ),
        _weight(
            "w_source",
            _DEFAULTS.w_source,
            "L2 = ||y - x||^2 / ||x||^2 (keep the source identity)",
        ),
        _weight(
            "w_target_sv",
            _DEFAULTS.w_target_sv,
            "L3: target singular values stay natural (without it colours saturate)",
        ),
        _weight(
            "w_source_sv",
            _DEFAULTS.w_source_sv,
            "L4: source singular values stay natural (without it quality drops)",
        ),
        io.Int.Input(
            "seed",
            default=_DEFAULTS.seed,
            min=0,
            max=MAX_SEED,
            **advanced(),
            tooltip="Seed of the predictor's initial weights (training is "
            "deterministic for a given seed).",
        ),
        io.Int.Input(
            "hidden",
            default=_DEFAULTS.hidden,
            min=1,
            max=MAX_HIDDEN,
            **advanced(),
            tooltip="Width of the predictor's two hidden layers.",
        ),
    ]


class LearnAttributeFromPair(PackNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id="LearnAttributeFromPair",
            display_name=LEARN,
            category=CATEGORY,
            **search_aliases("learn attribute", "prompt pair", "concept"),
            description="Learns an attribute from a source and a target latent (Attribute "
            "Vector Integration over their singular components) and shows the loss curve. "
            "The help page (?) shows the two pairings and how to wire them.",
            # The running prompt and this node's id: the source of the prompt texts.
            hidden=[io.Hidden.prompt, io.Hidden.unique_id],
            inputs=[
                LatentSVDType.Input(
                    "source",
                    tooltip="Decomposition of the source latent (the source branch, or the "
                    "step-k latent for the paper's pairs).",
                ),
                LatentSVDType.Input(
                    "target",
                    tooltip="Decomposition of the target latent, the same shape as the "
                    "source or batch 1.",
                ),
                *_training_inputs(),
                io.String.Input(
                    "name",
                    default="attribute",
                    tooltip="A label stored in the attribute (e.g. 'smile').",
                ),
                LatentSVDType.Input(
                    "reuse_reference",
                    optional=True,
                    tooltip="Optional, branch pairs: the source branch continued to a later "
                    "step (about 0.6 N); then Apply without a target follows the subject.",
                ),
            ],
            outputs=[
                AttributeType.Output(
                    "attribute",
                    display_name="attribute",
                    tooltip="The learned attribute: connect 'Apply Singular Value Edit' or "
                    "'Save Singular Value Attribute'.",
                ),
                io.Image.Output(
                    "loss_curve",
                    display_name="loss_curve",
                    tooltip="The training loss against the step, with the exact optimum "
                    "dashed (also shown on the node).",
                ),
            ],
        )

    @classmethod
    def execute(
        cls,
        source: SingularLatent,
        target: SingularLatent,
        name: str,
        reuse_reference: SingularLatent | None = None,
        **settings: Any,
    ) -> io.NodeOutput:
        config = AVIConfig(**{CONFIG_FIELDS.get(k, k): v for k, v in settings.items()})
        pbar = comfy.utils.ProgressBar(config.steps)

        def progress(step: int, total: int) -> None:
            pbar.update_absolute(step, total)
            # Cancel: raises InterruptProcessingException, which learn_attribute propagates.
            comfy.model_management.throw_exception_if_processing_interrupted()

        graph = cls.hidden  # ComfyUI's hidden inputs (the running prompt), not the widget
        provenance = learn_provenance(
            getattr(graph, "prompt", None), getattr(graph, "unique_id", None)
        )
        # Training needs no autograd (svd_core/training.py), so ComfyUI's inference_mode stays.
        attribute = learn_attribute(
            source.svd,
            target.svd,
            config,
            progress=progress,
            name=name,
            reuse_references=None if reuse_reference is None else reuse_reference.svd,
            **provenance,
        )
        image = loss_curve_image(
            attribute.loss_history, attribute.optimum_loss, attribute.final_loss, title=name
        )
        return io.NodeOutput(attribute, image, ui=ui.PreviewImage(image, cls=cls))


class ApplySingularEdit(PackNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id="ApplySingularEdit",
            display_name=APPLY,
            category=CATEGORY,
            **search_aliases("apply attribute", "edit latent", "attribute strength"),
            description="Edits a latent's singular value decomposition with a learned "
            "attribute: edited = x + strength * edit. The help page (?) says which edit each "
            "wiring (target, source_branch, neither) applies.",
            # The running prompt and this node's id: the step its latent comes from.
            hidden=[io.Hidden.prompt, io.Hidden.unique_id],
            inputs=[
                LatentSVDType.Input(
                    "latent_svd",
                    tooltip="Decomposition of the latent to edit (source prompt, step k).",
                ),
                AttributeType.Input(
                    "attribute",
                    tooltip="From 'Learn Attribute from Pair' or 'Load Singular Value Attribute'.",
                ),
                io.Float.Input(
                    "strength",
                    default=1.0,
                    min=-10.0,
                    max=10.0,
                    step=0.05,
                    tooltip="0 = unchanged, 1 = the learned edit, between = interpolation, "
                    "negative = away from the target.",
                ),
                io.Boolean.Input(
                    "local",
                    default=True,
                    optional=True,
                    tooltip="With target and source_branch, keep the edit where the two "
                    "branches differ (on the subject); the other modes ignore it.",
                ),
                LatentSVDType.Input(
                    "target",
                    optional=True,
                    tooltip="Optional decomposition of this image's own target latent, made "
                    "like the attribute's training targets (without it the attribute's reuse "
                    "edit is added).",
                ),
                LatentSVDType.Input(
                    "source_branch",
                    optional=True,
                    tooltip="Optional, with target: the source prompt continued from this "
                    "latent for the same delta steps (needed for branch-learned attributes).",
                ),
            ],
            outputs=[
                LatentSVDType.Output(
                    "edited",
                    display_name="latent_svd",
                    tooltip="Decomposition of the edited latent: connect 'Latent Recompose'.",
                ),
            ],
        )

    @classmethod
    def execute(
        cls,
        latent_svd: SingularLatent,
        attribute: Attribute,
        strength: float,
        local: bool = True,
        target: SingularLatent | None = None,
        source_branch: SingularLatent | None = None,
    ) -> io.NodeOutput:
        edited = apply_attribute(
            latent_svd.svd,
            attribute,
            target=None if target is None else target.svd,
            strength=strength,
            source_branch=None if source_branch is None else source_branch.svd,
            local=local,
        )
        note = apply_note(attribute, target is not None)
        if target is None:
            graph = cls.hidden  # ComfyUI's hidden inputs (the running prompt)
            prompt, node_id = getattr(graph, "prompt", None), getattr(graph, "unique_id", None)
            note = reuse_step_note(prompt, node_id, attribute)
        return io.NodeOutput(
            latent_svd.replace_svd(edited), ui=None if note is None else ui.PreviewText(note)
        )
