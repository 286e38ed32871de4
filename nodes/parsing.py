"""Parse the list widgets: index lists such as "0,1,2", "0-3" or "0, 4-6", and the strength
sweep's numbers (pure Python: the tests load this file without ComfyUI)."""

from __future__ import annotations

import math
import re

_SEPARATORS = re.compile(r"[,;\s]+")
_RANGE = re.compile(r"^(\d+)\s*-\s*(\d+)$")
MAX_ENTRIES = 1 << 16
MAX_STRENGTHS = 64


def split_entries(text: str) -> list[str]:
    """The non-empty entries of a list separated by commas, semicolons or white space."""
    return [t for t in _SEPARATORS.split(text.strip()) if t]


def parse_index_list(text: str, limit: int, what: str, empty_means_all: bool) -> list[int]:
    """0-based indices below ``limit`` from ``text``; sorted, repeats dropped.

    Entries are whole numbers or inclusive ranges ``a-b``, separated by commas, semicolons or
    spaces. An empty text (or "all") gives every index when ``empty_means_all``, else an error.
    Raises ValueError naming the bad entry and the valid range.
    """
    if not isinstance(text, str):
        raise ValueError(f'{what} must be text such as "0,1,2" or "0-3".')
    # Normalise "a - b" to "a-b" before splitting on spaces.
    tokens = split_entries(re.sub(r"\s*-\s*", "-", text))
    if not tokens or (len(tokens) == 1 and tokens[0].lower() == "all"):
        if empty_means_all:
            return list(range(limit))
        raise ValueError(f'{what} is empty: write 0-based numbers such as "0,1,2" or "0-3".')
    out: set[int] = set()
    for token in tokens:
        match = _RANGE.match(token)
        if match:
            lo, hi = int(match.group(1)), int(match.group(2))
            if lo > hi:
                raise ValueError(f'{what}: range "{token}" is backwards; write it as "{hi}-{lo}".')
        elif token.isdigit():
            lo = hi = int(token)
        else:
            raise ValueError(
                f'{what}: "{token}" is not a 0-based number or a range like "0-3" '
                "(negative numbers are not allowed)."
            )
        if hi >= limit:
            raise ValueError(f"{what}: {hi} is out of range; valid values are 0..{limit - 1}.")
        if hi - lo + 1 > MAX_ENTRIES:
            raise ValueError(f'{what}: range "{token}" is too long.')
        out.update(range(lo, hi + 1))
    return sorted(out)


def parse_strengths(text: str) -> list[float]:
    """``"0, 0.25, 0.5"`` -> ``[0.0, 0.25, 0.5]``; commas, semicolons or spaces separate.

    Order and repeats are kept (the LATENT batch follows the list). Negative values are
    allowed (they push away from the target). Raises ValueError with the offending token.
    """
    tokens = split_entries(text)
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
