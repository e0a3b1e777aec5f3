"""Browser tests: the real app served on 127.0.0.1 in a thread, driven by Playwright with Debian's
chromium (never a downloaded browser). Without chromium they skip locally and fail under CI=true."""

from __future__ import annotations

import json
import os
import shutil
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from catalog.extensions import db

CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
SCREENSHOT_DIR = Path(__file__).resolve().parents[2] / "test-output" / "screenshots"


def pytest_collection_modifyitems(config, items):
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.fspath).parents:
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    if not Path(CHROMIUM).exists():
        if IN_CI:
            pytest.fail(f"chromium is required under CI=true but {CHROMIUM} does not exist")
        pytest.skip("chromium is not installed (make test installs it as root)")
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--disable-quic",
        ],
    }


@pytest.fixture
def backend() -> str:
    """Browser tests run on SQLite only (the data layer is covered on both databases elsewhere)."""
    return "sqlite"


@pytest.fixture
def live_server(app):
    """Serve the test app on a free local port; yields its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=5)
        db.session.remove()


@pytest.fixture
def screenshot(page, request):
    """screenshot("step-name") saves test-output/screenshots/<test>/<nn>-step-name.png."""
    folder = SCREENSHOT_DIR / request.node.name.replace("[", "-").replace("]", "")
    folder.mkdir(parents=True, exist_ok=True)
    counter = {"n": 0}

    def take(name: str) -> Path:
        counter["n"] += 1
        path = folder / f"{counter['n']:02d}-{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


AXE_SCRIPT = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
AXE_DIR = Path(__file__).resolve().parents[2] / "test-output" / "axe"
BLOCKING_IMPACTS = ("serious", "critical")


@pytest.fixture(scope="session")
def axe_source() -> str:
    """axe-core's script from node_modules (`make test` runs `npm ci` from package-lock.json)."""
    if not AXE_SCRIPT.exists():
        if IN_CI:
            pytest.fail(f"axe-core is required under CI=true but {AXE_SCRIPT} does not exist")
        pytest.skip("axe-core is not installed (run `npm ci`, as make test does)")
    return AXE_SCRIPT.read_text(encoding="utf-8")


@pytest.fixture
def axe(page, axe_source):
    """axe(name) runs axe-core on the page shown (WCAG 2.1 A/AA rules and best practices),
    writes test-output/axe/<name>.json and returns the serious and critical violations.

    The script is evaluated through the DevTools protocol, which the page's CSP does not govern,
    so the app's strict script-src needs no exception for the tests."""
    AXE_DIR.mkdir(parents=True, exist_ok=True)

    def run(name: str) -> list[dict]:
        if not page.evaluate("() => typeof window.axe === 'object'"):
            page.evaluate(axe_source + "\n;undefined")
        result = page.evaluate(
            """async () => {
                const r = await axe.run(document, {resultTypes: ['violations']});
                return r.violations.map(v => ({
                    id: v.id, impact: v.impact, help: v.help,
                    nodes: v.nodes.map(n => ({target: n.target, summary: n.failureSummary}))
                }));
            }"""
        )
        summary = {
            "page": name,
            "url": page.url,
            "violations": result,
            "counts": {
                impact: sum(len(v["nodes"]) for v in result if v["impact"] == impact)
                for impact in ("critical", "serious", "moderate", "minor")
            },
        }
        (AXE_DIR / f"{name}.json").write_text(json.dumps(summary, indent=2), encoding="utf-8")
        return [v for v in result if v["impact"] in BLOCKING_IMPACTS]

    return run
