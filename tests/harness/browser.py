"""Headless Chromium driving the REAL ComfyUI frontend (comfyui-frontend-package) via Selenium.

Offline: Selenium Manager is disabled (SE_OFFLINE=true) and the Debian chromium/chromedriver are
used; a fresh --user-data-dir per session. `missing_reason()` says why a browser test must skip.
All waits are bounded and raise with what the page showed.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
CHROME_FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--window-size=1600,1000",
)
PAGE_TIMEOUT_S = 120.0


def missing_reason() -> str | None:
    """None when a browser test can run; else why not (names the packages to install)."""
    for path in (CHROMIUM, CHROMEDRIVER):
        if not path.exists():
            return (
                f"{path} is missing: `apt-get install chromium chromium-driver` "
                "(scripts/test.sh does this when it runs as root)"
            )
    try:
        import selenium  # noqa: F401, PLC0415
    except ImportError:
        return "selenium is not installed (requirements-dev.txt)"
    return None


class BrowserError(RuntimeError):
    """The page did not reach the expected state; the message carries the browser console."""


@dataclass
class ComfyPage:
    """The ComfyUI web app open in a headless Chromium."""

    driver: Any  # selenium.webdriver.Chrome

    def js(self, script: str, *args: Any) -> Any:
        return self.driver.execute_script(script, *args)

    def js_async(self, body: str, *args: Any, timeout: float = 120) -> Any:
        """Run an async JS body (may `await`); returns its JSON-serialisable result.

        Errors inside come back as {"__error__": message} and are raised here.
        """
        self.driver.set_script_timeout(timeout)
        script = (
            "const done = arguments[arguments.length - 1];"
            "(async (...args) => {" + body + "})(...Array.from(arguments).slice(0, -1))"
            ".then(r => done(JSON.stringify(r === undefined ? null : r)),"
            " e => done(JSON.stringify({__error__: String(e && e.stack || e)})));"
        )
        raw = self.driver.execute_async_script(script, *args)
        result = json.loads(raw)
        if isinstance(result, dict) and "__error__" in result:
            raise BrowserError(f"page script failed: {result['__error__']}\n{self.console()}")
        return result

    def wait_for(self, predicate_js: str, timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if self.js("return !!(" + predicate_js + ");"):
                    return
            except Exception:  # noqa: BLE001 - page still loading; keep polling until deadline
                pass
            time.sleep(0.5)
        raise BrowserError(f"timed out after {timeout:.0f} s waiting for {what}\n{self.console()}")

    def console(self) -> str:
        try:
            logs = self.driver.get_log("browser")
        except Exception:  # noqa: BLE001 - not every driver exposes logs
            return ""
        return "--- browser console ---\n" + "\n".join(
            f"{e.get('level')}: {e.get('message')}" for e in logs[-60:]
        )

    def screenshot(self, path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.driver.save_screenshot(str(path))
        return path


@contextmanager
def chromium() -> Iterator[Any]:
    """A headless Chromium WebDriver with a fresh profile; always quit."""
    from selenium import webdriver  # noqa: PLC0415
    from selenium.webdriver.chrome.service import Service  # noqa: PLC0415

    os.environ["SE_OFFLINE"] = "true"  # never let Selenium Manager reach the network
    profile = tempfile.mkdtemp(prefix="lse-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in CHROME_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    try:
        driver.set_page_load_timeout(PAGE_TIMEOUT_S)
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def open_comfy(driver: Any, url: str, timeout: float = PAGE_TIMEOUT_S) -> ComfyPage:
    """Load the ComfyUI app and wait until its graph and node definitions are ready."""
    driver.get(url)
    page = ComfyPage(driver)
    page.wait_for(
        "window.app && window.app.graph && window.app.canvas && "
        "window.LiteGraph && Object.keys(LiteGraph.registered_node_types).length > 100",
        timeout,
        "the ComfyUI app to register its node types",
    )
    return page


FIT_JS = """
const nodes = app.graph.nodes;
if (!nodes.length) return null;
let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
for (const n of nodes) {
  x0 = Math.min(x0, n.pos[0]); y0 = Math.min(y0, n.pos[1] - 40);
  x1 = Math.max(x1, n.pos[0] + n.size[0]); y1 = Math.max(y1, n.pos[1] + n.size[1]);
}
// Draw text and widgets at any zoom (the canvas drops them below a font size by default).
if ("min_font_size_for_lod" in app.canvas) app.canvas.min_font_size_for_lod = 0;
const el = app.canvas.canvas, dpr = window.devicePixelRatio || 1;
const w = el.width / dpr, h = el.height / dpr, pad = 40;
const s = Math.min((w - 2 * pad) / (x1 - x0), (h - 2 * pad) / (y1 - y0));
app.canvas.ds.scale = s;
app.canvas.ds.offset = [w / (2 * s) - (x0 + x1) / 2, h / (2 * s) - (y0 + y1) / 2];
app.canvas.setDirty(true, true);
app.canvas.draw(true, true);
await new Promise(r => setTimeout(r, 300));
return s;
"""


def fit_graph(page: ComfyPage) -> float | None:
    """Zoom and pan so the whole graph fits the canvas; returns the scale (None: empty graph)."""
    return page.js_async(FIT_JS)


def canvas_png(page: ComfyPage) -> bytes:
    """The graph canvas alone (no menus or overlays), as PNG bytes."""
    import base64  # noqa: PLC0415

    url = page.js("return app.canvas.canvas.toDataURL('image/png');")
    return base64.b64decode(url.split(",", 1)[1])


@pytest.fixture(scope="module", name="page")
def comfy_page(comfy_server: Any) -> Iterator[ComfyPage]:
    """The web UI of the session's server (harness.server.comfy_server) in a fresh headless
    Chromium, one per test module; skips (a failure under CI) without a browser."""
    reason = missing_reason()
    if reason:
        pytest.skip(reason)
    # A fresh profile would open the first-run template gallery over the canvas.
    comfy_server.request("POST", "/settings/Comfy.TutorialCompleted", True)
    # Frontend 1.58 turns on its "New Node Library Design" by default; the tests search and
    # drop nodes in the classic library (1.32 to 1.58 have it), which also shows help pages.
    comfy_server.request("POST", "/settings/Comfy.NodeLibrary.NewDesign", False)
    with chromium() as driver:
        yield open_comfy(driver, comfy_server.url)
