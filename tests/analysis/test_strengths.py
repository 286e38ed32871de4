"""The strength list of the strength sweep."""

from __future__ import annotations

import pytest


def test_strengths_keep_order_repeats_and_signs(strengths) -> None:
    assert strengths.parse_strengths("0, 0.25, 0.5, 0.75, 1") == [0.0, 0.25, 0.5, 0.75, 1.0]
    assert strengths.parse_strengths(" -1 ;0.5  0.5,\n2e-1 ") == [-1.0, 0.5, 0.5, 0.2]


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("", "empty"),
        (" , ", "empty"),
        ("0, half, 1", '"half"'),
        ("0, nan", "not finite"),
        ("inf", "not finite"),
    ],
)
def test_strengths_refuse_bad_text_with_the_culprit(strengths, text: str, fragment: str) -> None:
    with pytest.raises(ValueError, match=fragment):
        strengths.parse_strengths(text)


def test_strengths_are_bounded(strengths) -> None:
    limit = strengths.MAX_STRENGTHS
    assert len(strengths.parse_strengths(", ".join(["1"] * limit))) == limit
    with pytest.raises(ValueError, match="too many"):
        strengths.parse_strengths(", ".join(["1"] * (limit + 1)))
