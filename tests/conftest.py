"""Suite-wide rules. Under CI=true a skipped test fails the run: a skip in CI hides a defect.
Every run's summary names the browser tests it could not run (no Chromium here, for instance)."""

from __future__ import annotations

import os

import pytest


def _ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def _skipped_browser_tests(reporter: pytest.TerminalReporter) -> list[tuple[str, str]]:
    """(test id, reason) of every skipped test marked `browser`."""
    out = []
    for report in reporter.stats.get("skipped", []):
        if "browser" not in getattr(report, "keywords", {}):
            continue
        longrepr = report.longrepr
        reason = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)
        out.append((report.nodeid, reason.removeprefix("Skipped: ")))
    return out


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    skipped = _skipped_browser_tests(terminalreporter)
    if not skipped:
        return
    terminalreporter.section("browser tests not run", yellow=True)
    for reason in sorted({reason for _, reason in skipped}):
        terminalreporter.write_line(f"why: {reason}")
    for nodeid, _ in skipped:
        terminalreporter.write_line(f"not run: {nodeid}")


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if not _ci():
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = reporter.stats.get("skipped", []) if reporter else []
    if skipped:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
        if reporter:
            reporter.write_line(
                f"CI=true: {len(skipped)} skipped test(s) count as failures", red=True
            )
