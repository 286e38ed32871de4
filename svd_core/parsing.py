"""The list widgets' text: index lists such as "0,1,2", "0-3" or "0, 4-6", and the strength
sweep's numbers: widget text, checked here where it enters."""

from __future__ import annotations

import re

from .errors import SVDEditError
from .validation import check_finite_number, check_indices

_SEPARATORS = re.compile(r"[,;\s]+")
_RANGE = re.compile(r"^(\d+)\s*-\s*(\d+)$")
MAX_STRENGTHS = 64


def split_entries(text: str) -> list[str]:
    """The non-empty entries of a list separated by commas, semicolons or white space."""
    return [t for t in _SEPARATORS.split(text.strip()) if t]


def parse_index_list(text: str, limit: int, what: str, empty_means_all: bool) -> list[int]:
    """0-based indices below ``limit`` from ``text``; sorted, repeats dropped.

    Entries are whole numbers or inclusive ranges ``a-b``, separated by commas, semicolons or
    spaces. An empty text (or "all") gives every index when ``empty_means_all``, else an error.
    Raises SVDEditError naming the bad entry and the valid range.
    """
    # Normalise "a - b" to "a-b" before splitting on spaces.
    tokens = split_entries(re.sub(r"\s*-\s*", "-", text))
    if not tokens or (len(tokens) == 1 and tokens[0].lower() == "all"):
        if empty_means_all:
            return list(range(limit))
        raise SVDEditError(f'{what} is empty: write 0-based numbers such as "0,1,2" or "0-3".')
    out: set[int] = set()
    for token in tokens:
        match = _RANGE.match(token)
        if match:
            lo, hi = int(match.group(1)), int(match.group(2))
            if lo > hi:
                raise SVDEditError(
                    f'{what}: range "{token}" is backwards; write it as "{hi}-{lo}".'
                )
        elif token.isdigit():
            lo = hi = int(token)
        else:
            raise SVDEditError(
                f'{what}: "{token}" is not a 0-based number or a range like "0-3" '
                "(negative numbers are not allowed)."
            )
        # Only the range's ends: a huge range is refused without building it.
        check_indices([lo, hi], limit, what)
        out.update(range(lo, hi + 1))
    return sorted(out)


def parse_strengths(text: str) -> list[float]:
    """``"0, 0.25, 0.5"`` -> ``[0.0, 0.25, 0.5]``; commas, semicolons or spaces separate.

    Order and repeats are kept (the LATENT batch follows the list). Negative values are
    allowed (they push away from the target). Raises SVDEditError with the offending token.
    """
    tokens = split_entries(text)
    if not tokens:
        raise SVDEditError(
            'the strengths list is empty: write numbers separated by commas, e.g. "0, 0.5, 1".'
        )
    if len(tokens) > MAX_STRENGTHS:
        raise SVDEditError(
            f"{len(tokens)} strengths is too many for one batch: use at most {MAX_STRENGTHS}."
        )
    values: list[float] = []
    for token in tokens:
        try:
            value = float(token)
        except ValueError:
            raise SVDEditError(
                f'"{token}" in the strengths list is not a number: write numbers separated by '
                'commas, e.g. "0, 0.25, 0.5, 0.75, 1".'
            ) from None
        values.append(check_finite_number(value, f'strength "{token}"'))
    return values
