"""The text widgets: strength lists and channel lists."""

from __future__ import annotations

import pytest


def test_strengths_keep_order_repeats_and_signs(parsing) -> None:
    assert parsing.parse_strengths("0, 0.25, 0.5, 0.75, 1") == [0.0, 0.25, 0.5, 0.75, 1.0]
    assert parsing.parse_strengths(" -1 ;0.5  0.5,\n2e-1 ") == [-1.0, 0.5, 0.5, 0.2]


@pytest.mark.parametrize(
    ("text", "fragment"),
    [("", "empty"), (" , ", "empty"), ("0, half, 1", '"half"'), ("0, nan", "not finite"),
     ("inf", "not finite")],
)  # fmt: skip
def test_strengths_refuse_bad_text_with_the_culprit(parsing, text: str, fragment: str) -> None:
    with pytest.raises(ValueError, match=fragment):
        parsing.parse_strengths(text)


def test_strengths_are_bounded(parsing) -> None:
    limit = parsing.MAX_STRENGTHS
    assert len(parsing.parse_strengths(", ".join(["1"] * limit))) == limit
    with pytest.raises(ValueError, match="too many"):
        parsing.parse_strengths(", ".join(["1"] * (limit + 1)))


def test_channels(parsing) -> None:
    assert parsing.parse_channels("", 4) == [0, 1, 2, 3]
    assert parsing.parse_channels(" ALL ", 3) == [0, 1, 2]
    assert parsing.parse_channels("3, 1, 3", 4) == [3, 1]
    with pytest.raises(ValueError, match=r"channel 4 does not exist.*0\.\.3"):
        parsing.parse_channels("0, 4", 4)
    with pytest.raises(ValueError, match='"x"'):
        parsing.parse_channels("x", 4)
