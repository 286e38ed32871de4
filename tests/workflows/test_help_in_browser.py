"""A node's help page in the REAL web UI (headless Chromium): search the node library for the
node, press its help button (?) and find the text of web/docs/<NodeId>.md in the library panel.

Frontends 1.32.9 (ComfyUI 0.3.75), 1.49.6 (0.33.0) and 1.58.1 all show help pages there. The
newest ones offer a "New Node Library Design" (setting Comfy.NodeLibrary.NewDesign, on by
default in 1.58) without that button; the test turns it off for its run, as a user would.
"""

from __future__ import annotations

import pytest
from harness.browser import ComfyPage
from harness.server import REPO_ROOT, output_root

pytestmark = [pytest.mark.browser, pytest.mark.comfy]

NODE = "LearnAttributeFromPair"
DISPLAY = "Learn Attribute from Pair (singular values)"
# Plain words from the page's first paragraph (no Markdown inside, so the rendering keeps them).
PHRASE = "a final to optimum ratio near 1 means training converged"

HELP_JS = """
const [name, phrase] = args;
const until = async (f, ms) => { const t = Date.now();
  while (Date.now() - t < ms) { const v = f(); if (v) return v;
    await new Promise(r => setTimeout(r, 250)); } return null; };
const setting = app.extensionManager.setting;
const newDesign = setting.get('Comfy.NodeLibrary.NewDesign');
if (newDesign) await setting.set('Comfy.NodeLibrary.NewDesign', false);
try {
  // The library's search box: 1.32 marks it .node-lib-search-box; later ones have one visible
  // "Search..." box in the sidebar.
  const box = () => document.querySelector('.node-lib-search-box input')
    || Array.from(document.querySelectorAll('input[placeholder="Search..."]'))
      .find(i => i.offsetParent);
  if (!box()) {
    await app.extensionManager.command.execute('Workspace.ToggleSidebarTab.node-library');
  }
  const input = await until(box, 15000);
  if (!input) throw new Error('the node library did not open');
  let typed = 0;
  const type = () => { input.focus(); input.value = name.split(' (')[0]; typed = Date.now();
    input.dispatchEvent(new Event('input', {bubbles: true})); };
  type();
  // 1.32 (PrimeVue tree): .tree-leaf; later: the [role=treeitem] row.
  const leaves = () => { const old = document.querySelectorAll('.tree-leaf');
    return old.length ? old : document.querySelectorAll('[role="treeitem"]'); };
  const leaf = await until(() => { const hit = Array.from(leaves())
    .find(e => e.innerText.trim() === name);
    if (!hit && Date.now() - typed > 2000) type(); return hit; }, 20000);
  if (!leaf) throw new Error('not found in the node library: ' + name);
  leaf.dispatchEvent(new MouseEvent('mouseover', {bubbles: true}));
  // 1.32 and 1.49: a .help-button with a question-mark icon; 1.58: a button with the same icon.
  const help = leaf.querySelector('.help-button') || Array.from(leaf.querySelectorAll('button'))
    .find(b => b.querySelector('.pi-question, [class*=question], [class*=help]'));
  if (!help) throw new Error('no help button on ' + name + ': ' + leaf.outerHTML.slice(0, 2000));
  help.click();
  const shown = await until(() => document.body.innerText.includes(phrase), 20000);
  return {newDesign: newDesign ?? null, shown: !!shown,
          version: window.__COMFYUI_FRONTEND_VERSION__ || null,
          text: document.body.innerText.slice(0, 2000)};
} finally {
  if (newDesign) await setting.set('Comfy.NodeLibrary.NewDesign', newDesign);
}
"""


def test_the_node_library_shows_a_nodes_help_page(page: ComfyPage) -> None:
    source = (REPO_ROOT / "web" / "docs" / f"{NODE}.md").read_text()
    assert PHRASE in " ".join(source.split()), "the phrase must come from the help page"
    result = page.js_async(HELP_JS, DISPLAY, PHRASE)
    page.screenshot(output_root("browser") / f"help_page_{result['version']}.png")
    assert result["shown"], f"the help page text did not show:\n{result['text']}"
    page.driver.find_element("tag name", "body").send_keys("\ue00c")  # Escape
