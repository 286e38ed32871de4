"""Parse index-list widgets such as "0,1,2", "0-3" or "0, 4-6" (pure Python)."""

from __future__ import annotations

import re

_SEPARATORS = re.compile(r"[,;\s]+")
_RANGE = re.compile(r"^(\d+)\s*-\s*(\d+)$")
MAX_ENTRIES = 1 << 16


def parse_index_list(text: str, limit: int, what: str, empty_means_all: bool) -> list[int]:
    """0-based indices below ``limit`` from ``text``; sorted, repeats dropped.

    Entries are whole numbers or inclusive ranges ``a-b``, separated by commas, semicolons or
    spaces. An empty text (or "all") gives every index when ``empty_means_all``, else an error.
    Raises ValueError naming the bad entry and the valid range.
    """
    if not isinstance(text, str):
        raise ValueError(f"{what} must be text such as \"0,1,2\" or \"0-3\".")
    # Normalise "a - b" to "a-b" before splitting on spaces.
    cleaned = re.sub(r"\s*-\s*", "-", text.strip())
    tokens = [t for t in _SEPARATORS.split(cleaned) if t]
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
                '(negative numbers are not allowed).'
            )
        if hi >= limit:
            raise ValueError(
                f"{what}: {hi} is out of range; valid values are 0..{limit - 1}."
            )
        if hi - lo + 1 > MAX_ENTRIES:
            raise ValueError(f'{what}: range "{token}" is too long.')
        out.update(range(lo, hi + 1))
    return sorted(out)
