"""The prompt words of the test worlds: comma-separated phrases -> the world's tokens.

Pure Python (no torch, no ComfyUI). The attribute table comes from the world that is loaded
(``benchmarks/semantic/world.py``'s ``ATTRIBUTES``: a name and its values each), so the words
follow the weights. One phrase per value: ``"<value> <attribute>"`` ("blonde hair", "tan
skin", "sky background"), except the mouth ("smiling", "neutral", "frowning") and the glasses
("glasses", "no glasses"). A prompt names at most one value per attribute; an attribute it
does not name is left to the seed (token 0), so the empty prompt is the unconditional one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

#: Phrases that do not follow "<value> <attribute>".
SPECIAL: dict[tuple[str, str], str] = {
    ("mouth", "smiling"): "smiling",
    ("mouth", "neutral"): "neutral",
    ("mouth", "frowning"): "frowning",
    ("glasses", "on"): "glasses",
    ("glasses", "off"): "no glasses",
}


class AttributeLike(Protocol):
    name: str
    values: tuple[str, ...]


def phrase(attribute: str, value: str) -> str:
    """The words that name ``value`` of ``attribute`` in a prompt."""
    return SPECIAL.get((attribute, value), f"{value} {attribute}")


@dataclass(frozen=True)
class Vocabulary:
    """Every phrase of a world and the token it stands for.

    Attributes:
        names: the attributes in token order (7 in both worlds).
        phrases: phrase -> (attribute index, token value 1..n).
    """

    names: tuple[str, ...]
    phrases: dict[str, tuple[int, int]]

    @classmethod
    def from_attributes(cls, attributes: Sequence[AttributeLike]) -> Vocabulary:
        phrases = {
            phrase(a.name, v): (i, j + 1)
            for i, a in enumerate(attributes)
            for j, v in enumerate(a.values)
        }
        return cls(tuple(a.name for a in attributes), phrases)

    def known(self) -> str:
        """The known phrases, grouped by attribute, for error messages and help."""
        groups = []
        for i, name in enumerate(self.names):
            words = [p for p, (a, _) in self.phrases.items() if a == i]
            groups.append(f"{name}: {' / '.join(words)}")
        return "; ".join(groups)

    def tokens(self, prompt: str) -> list[int]:
        """``"smiling, blonde hair"`` -> one token per attribute (0 = unspecified).

        Raises ValueError naming the unknown words (and listing the known ones) or the
        attribute given two values.
        """
        out = [0] * len(self.names)
        unknown = []
        for part in prompt.lower().split(","):
            words = " ".join(part.split())
            if not words:
                continue
            if words not in self.phrases:
                unknown.append(words)
                continue
            index, value = self.phrases[words]
            if out[index] and out[index] != value:
                raise ValueError(f"the prompt names two values of '{self.names[index]}'; keep one")
            out[index] = value
        if unknown:
            listed = ", ".join(f"'{w}'" for w in unknown)
            raise ValueError(
                f"the test world does not know {listed}; write comma-separated phrases from "
                f"this list (or leave the prompt empty): {self.known()}"
            )
        return out
