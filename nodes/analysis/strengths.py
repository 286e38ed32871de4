"""Parse the strength list of the strength sweep (pure Python)."""

from __future__ import annotations

import math
import re

MAX_STRENGTHS = 64

_SEPARATORS = re.compile(r"[,;\s]+")


def _tokens(text: str) -> list[str]:
    return [t for t in _SEPARATORS.split(text.strip()) if t]


def parse_strengths(text: str) -> list[float]:
    """``"0, 0.25, 0.5"`` -> ``[0.0, 0.25, 0.5]``; commas, semicolons or spaces separate.

    Order and repeats are kept (the LATENT batch follows the list). Negative values are
    allowed (they push away from the target). Raises ValueError with the offending token.
    """
    tokens = _tokens(text)
    if not tokens:
        raise ValueError(
            'the strengths list is empty: write numbers separated by commas, e.g. "0, 0.5, 1".'
        )
    if len(tokens) > MAX_STRENGTHS:
        raise ValueError(
            f"{len(tokens)} strengths is too many for one batch: use at most {MAX_STRENGTHS}."
        )
    values: list[float] = []
    for token in tokens:
        try:
            value = float(token)
        except ValueError:
            raise ValueError(
                f'"{token}" in the strengths list is not a number: write numbers separated by '
                'commas, e.g. "0, 0.25, 0.5, 0.75, 1".'
            ) from None
        if not math.isfinite(value):
            raise ValueError(f'strength "{token}" is not finite: use ordinary numbers.')
        values.append(value)
    return values

