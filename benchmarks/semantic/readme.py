"""The generated tables of benchmarks/semantic/README.md: each run owns one marked section."""

from __future__ import annotations

from pathlib import Path

README = Path(__file__).resolve().parent / "README.md"


def write_section(marker: str, text: str, readme: Path = README) -> None:
    """Replace what stands between ``<!-- MARKER:START -->`` and ``<!-- MARKER:END -->`` with
    ``text`` (the pair is appended when the README has none yet)."""
    start, end = f"<!-- {marker}:START -->", f"<!-- {marker}:END -->"
    body = readme.read_text() if readme.exists() else ""
    if start not in body:
        body += f"\n{start}\n{end}\n"
    a, b = body.index(start) + len(start), body.index(end)
    readme.write_text(body[:a] + "\n" + text + "\n" + body[b:])
