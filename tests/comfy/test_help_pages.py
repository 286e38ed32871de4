"""The help pages the frontend's node library shows (web/docs/<NodeId>.md), and the short texts
that the long help moved out of: every tooltip one sentence, every description at most two.

The frontend (ComfyUI_frontend's nodeHelpService) fetches a custom node's page from
``/extensions/<pack folder>/docs/<NodeId>/<locale>.md``, then ``.../docs/<NodeId>.md``; ComfyUI
serves the pack's WEB_DIRECTORY under ``/extensions/<pack folder>/``.
"""

from __future__ import annotations

import re
import urllib.request
from typing import Any

import pytest
from harness.server import PACK_NAME, REPO_ROOT, ComfyServer

pytestmark = [pytest.mark.comfy]

DOCS = REPO_ROOT / "web" / "docs"
SECTIONS = ("## Wiring", "## Inputs", "## Outputs", "## Example")
# A sentence ends at . ! or ? followed by white space or the end; "e.g.", "i.e." and an
# ellipsis ("s_1 >= s_2 >= ...") do not.
_ABBREVIATIONS = re.compile(r"\b(e\.g|i\.e|etc|vs)\.|\.\.\.", re.IGNORECASE)
_SENTENCE_END = re.compile(r"[.!?](?=\s|$)")


def sentences(text: str) -> int:
    """How many sentences `text` has (a last one without a full stop counts)."""
    text = _ABBREVIATIONS.sub("", text.strip())
    if not text:
        return 0
    ends = len(_SENTENCE_END.findall(text))
    return ends + (0 if _SENTENCE_END.search(text[-1:]) else 1)


def test_sentence_counter() -> None:
    assert sentences("One. Two.") == 2
    assert sentences("Strength 0.5, e.g. 'smile' (0.7T); ends without a stop") == 1
    assert sentences("One? Two! three") == 3
    assert sentences("Plots s_1 >= s_2 >= ... per channel. Connect a second.") == 2


@pytest.fixture(scope="module")
def pack_info(comfy_server: ComfyServer) -> dict[str, dict[str, Any]]:
    info = comfy_server.object_info()
    nodes = {k: v for k, v in info.items() if v["python_module"] == f"custom_nodes.{PACK_NAME}"}
    assert len(nodes) >= 12, sorted(nodes)
    return nodes


def _section(page: str, title: str) -> str:
    match = re.search(rf"^{re.escape(title)}\n(.*?)(?=^## |\Z)", page, re.S | re.M)
    assert match, f"no '{title}' section"
    return match.group(1)


def test_every_node_has_a_help_page_naming_every_input(pack_info: dict[str, Any]) -> None:
    assert {p.stem for p in DOCS.glob("*.md")} == set(pack_info), "one page per node, no more"
    for node_id, node in pack_info.items():
        page = (DOCS / f"{node_id}.md").read_text()
        assert page.startswith(f"# {node['display_name']}\n"), node_id
        positions = [page.find(f"\n{s}\n") for s in SECTIONS]
        assert all(p > 0 for p in positions) and positions == sorted(positions), (
            f"{node_id}: sections {SECTIONS} in this order"
        )
        inputs = [*node["input"].get("required", {}), *node["input"].get("optional", {})]
        listed = re.findall(r"^- \*\*(\w+)\*\*:", _section(page, "## Inputs"), re.M)
        assert listed == inputs, f"{node_id}: the Inputs section lists {listed}, not {inputs}"
        outputs = re.findall(r"^- \*\*(\w+)\*\*:", _section(page, "## Outputs"), re.M)
        assert outputs == node["output_name"], f"{node_id}: Outputs section"
        assert max(map(len, page.splitlines())) <= 100, f"{node_id}: a line over 100 columns"


def test_tooltips_are_one_sentence_and_descriptions_at_most_two(
    pack_info: dict[str, Any],
) -> None:
    for node_id, node in pack_info.items():
        assert 1 <= sentences(node["description"]) <= 2, f"{node_id}: {node['description']}"
        for section in ("required", "optional"):
            for name, entry in node["input"].get(section, {}).items():
                tooltip = entry[1].get("tooltip", "")
                assert sentences(tooltip) == 1, f"{node_id}.{name}: {tooltip}"
        for name, tooltip in zip(node["output_name"], node["output_tooltips"], strict=True):
            assert sentences(tooltip) == 1, f"{node_id} output {name}: {tooltip}"


def test_the_server_serves_each_page_where_the_frontend_fetches_it(
    comfy_server: ComfyServer, pack_info: dict[str, Any]
) -> None:
    for node_id in pack_info:
        url = f"{comfy_server.url}/extensions/{PACK_NAME}/docs/{node_id}.md"
        with urllib.request.urlopen(url, timeout=30) as resp:
            served = resp.read().decode()
        assert served == (DOCS / f"{node_id}.md").read_text(), url
