"""A procedural world of 32x32 faces whose attributes are known exactly.

Every image is a pure function of seven discrete attributes, so the set of possible images is
finite (1152 templates). Reading the attributes back from any RGB image is a nearest-template
search over that set: exact on clean images (each template maps to itself) and the maximum
likelihood read-out under pixel noise on generated ones.

Tokens: an attribute row is a ``[7]`` long tensor; value ``0`` means "unspecified" (the
attribute is left to the seed), values ``1..n`` pick one of the attribute's ``n`` options.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import torch

SIZE = 32


@dataclass(frozen=True)
class Attribute:
    name: str
    values: tuple[str, ...]


ATTRIBUTES: tuple[Attribute, ...] = (
    Attribute("background", ("grey", "sky", "mint", "pink")),
    Attribute("skin", ("pale", "tan", "brown")),
    Attribute("head", ("round", "long")),
    Attribute("eyes", ("high", "low")),
    Attribute("hair", ("black", "blonde", "red", "brown")),
    Attribute("mouth", ("smiling", "neutral", "frowning")),
    Attribute("glasses", ("off", "on")),
)
NAMES: tuple[str, ...] = tuple(a.name for a in ATTRIBUTES)
INDEX: dict[str, int] = {a.name: i for i, a in enumerate(ATTRIBUTES)}
N_VALUES: tuple[int, ...] = tuple(len(a.values) for a in ATTRIBUTES)

_BG = ((0.80, 0.80, 0.80), (0.55, 0.75, 0.95), (0.60, 0.90, 0.65), (0.95, 0.70, 0.80))
_SKIN = ((0.98, 0.85, 0.75), (0.85, 0.65, 0.45), (0.56, 0.38, 0.25))
_HAIR = ((0.10, 0.10, 0.10), (0.95, 0.85, 0.30), (0.85, 0.15, 0.10), (0.45, 0.25, 0.08))
_EYE = (0.05, 0.05, 0.15)
_GLASSES = (0.10, 0.20, 0.75)
_MOUTH = (0.25, 0.0, 0.05)
_EYE_ROW = (12, 15)
_MOUTH_COLS = range(12, 21)


def _colour(rgb: tuple[float, float, float]) -> torch.Tensor:
    return torch.tensor(rgb, dtype=torch.float32).view(3, 1, 1)


def _paint(img: torch.Tensor, mask: torch.Tensor, rgb: tuple[float, float, float]) -> None:
    img[:] = torch.where(mask, _colour(rgb), img)


def _mouth_rows(mouth: int) -> list[int]:
    """Top row of the 2-pixel-thick mouth stroke at each column of ``_MOUTH_COLS``."""
    rows = []
    for c in _MOUTH_COLS:
        bend = round(2.0 * ((c - 16) / 4.0) ** 2)
        rows.append((24 - bend, 23, 21 + bend)[mouth])
    return rows


def draw(
    values: tuple[int, ...],
    placement: tuple[float, float, float] = (0.0, 0.0, 1.0),
    size: int = SIZE,
) -> torch.Tensor:
    """One face from 0-based attribute values (no "unspecified"). Returns [3, size, size] in [0, 1].

    The face is designed on a 32x32 grid; ``placement = (x0, y0, scale)`` puts that grid's
    corner at pixel (x0, y0) of a ``size`` x ``size`` canvas, ``scale`` pixels per design pixel;
    every shape is evaluated at each pixel centre's design coordinates. The default draws the
    first world's centred 32x32 face.
    """
    bg, skin, head, eyes, hair, mouth, glasses = values
    x0, y0, scale = placement
    # Design coordinates of every pixel centre; at scale 1 and whole-pixel offsets this is the
    # first world's grid shifted, so its faces are unchanged.
    yy, xx = torch.meshgrid(
        (torch.arange(size, dtype=torch.float32) + 0.5 - y0) / scale,
        (torch.arange(size, dtype=torch.float32) + 0.5 - x0) / scale,
        indexing="ij",
    )
    img = _colour(_BG[bg]).expand(3, size, size).clone()
    cy, cx = 17.0, 16.0
    rx, ry = (10.5, 12.0) if head == 0 else (8.0, 13.5)
    inside = ((xx - cx) / rx) ** 2 + ((yy - cy) / ry) ** 2 <= 1.0
    outer = ((xx - cx) / (rx + 1.2)) ** 2 + ((yy - cy) / (ry + 1.2)) ** 2 <= 1.0
    _paint(img, inside, _SKIN[skin])
    _paint(img, outer & (yy < 10.5), _HAIR[hair])
    er = _EYE_ROW[eyes]
    if glasses:
        band = (yy >= er - 1) & (yy < er + 3) & (xx >= cx - 7) & (xx < cx + 7)
        _paint(img, band, _GLASSES)
    else:
        for ex in (12, 19):
            eye = (yy >= er) & (yy < er + 2) & (xx >= ex) & (xx < ex + 2)
            _paint(img, eye, _EYE)
    mouth_mask = torch.zeros(size, size, dtype=torch.bool)
    for c, r in zip(_MOUTH_COLS, _mouth_rows(mouth), strict=True):
        mouth_mask |= (xx >= c) & (xx < c + 1) & (yy >= r) & (yy < r + 2)
    _paint(img, mouth_mask, _MOUTH)
    return img


def all_combinations() -> torch.Tensor:
    """Every attribute combination, 0-based. [1152, 7] long."""
    return torch.tensor(list(itertools.product(*(range(n) for n in N_VALUES))), dtype=torch.long)


_TEMPLATES: tuple[torch.Tensor, torch.Tensor] | None = None


def templates() -> tuple[torch.Tensor, torch.Tensor]:
    """(combos [1152, 7] 0-based, images [1152, 3, 32, 32]); built once and cached."""
    global _TEMPLATES
    if _TEMPLATES is None:
        combos = all_combinations()
        images = torch.stack([draw(tuple(int(v) for v in row)) for row in combos])
        _TEMPLATES = (combos, images)
    return _TEMPLATES


def read_attributes(images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Nearest-template read-out.

    images: [B, 3, 32, 32] in [0, 1]. Returns (values [B, 7] 0-based, rms distance [B]) where the
    distance (RMS per pixel channel) to the winning template says how clean the image is.
    """
    combos, tmpl = templates()
    flat_t = tmpl.flatten(1)
    flat_i = images.detach().float().clamp(0, 1).flatten(1)
    d2 = (
        (flat_i * flat_i).sum(1, keepdim=True)
        - 2.0 * flat_i @ flat_t.T
        + (flat_t * flat_t).sum(1)[None]
    ).clamp_min(0)
    best = d2.argmin(1)
    rms = (d2.gather(1, best[:, None])[:, 0] / flat_t.shape[1]).sqrt()
    return combos[best], rms


def tokens(**spec: str) -> torch.Tensor:
    """A prompt as tokens: ``tokens(mouth="smiling")`` -> [7] long, unspecified attributes 0."""
    out = torch.zeros(len(ATTRIBUTES), dtype=torch.long)
    for name, value in spec.items():
        attr = ATTRIBUTES[INDEX[name]]
        out[INDEX[name]] = attr.values.index(value) + 1
    return out


def caption(tok: torch.Tensor) -> str:
    """Human-readable caption of a [7] token row."""
    parts = [
        f"{a.name}={a.values[int(t) - 1]}" for a, t in zip(ATTRIBUTES, tok, strict=True) if int(t)
    ]
    return ", ".join(parts) if parts else "(empty prompt)"


def edit_region(attribute: str) -> torch.Tensor:
    """Pixels an edit of ``attribute`` may change (union over all variants). [32, 32] bool."""
    combos, tmpl = templates()
    i = INDEX[attribute]
    region = torch.zeros(SIZE, SIZE, dtype=torch.bool)
    # Flip the attribute on every template and mark every pixel that moves.
    for v in range(N_VALUES[i]):
        other = combos.clone()
        other[:, i] = v
        idx = _combo_index(other)
        region |= (tmpl[idx] - tmpl).abs().amax(dim=(0, 1)) > 1e-6
    return region


def _combo_index(combos: torch.Tensor) -> torch.Tensor:
    """Row index in ``all_combinations()`` of each 0-based combo. [N, 7] -> [N]."""
    idx = torch.zeros(combos.shape[0], dtype=torch.long)
    for i, n in enumerate(N_VALUES):
        idx = idx * n + combos[:, i]
    return idx
