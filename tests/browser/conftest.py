"""Browser-test fixtures: the real app served by waitress on a free local port, Debian's
headless Chromium driven by Playwright (sync API), and a fresh browser context per test.

Nothing is downloaded: Playwright's own browsers are never used (no ``playwright install``).
Without /usr/bin/chromium or the ``playwright`` package the browser tests are skipped."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import ARTIFACTS, make_app

VIEWPORT = {"width": 1280, "height": 800}


def shot(page, name: str) -> Path:
    """Save a full-page screenshot as tests/artifacts/<name>.png and return its path."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A fresh Sheaf (empty data folder, so first run) served by waitress; yields its base URL."""
    from waitress.server import create_server

    app = make_app(tmp_path_factory.mktemp("browser") / "data")
    server = create_server(app, host="127.0.0.1", port=0, threads=4)
    thread = threading.Thread(target=server.run, name="waitress", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.effective_port}"
    finally:
        server.close()
        thread.join(timeout=5)


class ConsoleLog:
    """Console errors, uncaught exceptions and CSP violations seen by one page."""

    def __init__(self) -> None:
        self.errors: list[str] = []

    def watch(self, page) -> None:
        page.on(
            "console",
            lambda msg: (
                self.errors.append(f"console.{msg.type}: {msg.text} ({msg.location})")
                if msg.type == "error"
                else None
            ),
        )
        page.on("pageerror", lambda error: self.errors.append(f"page error: {error}"))
        # CSP violations are logged as console errors by Chromium; surface the DOM event too,
        # in case a future Chromium reports them only there.
        page.add_init_script(
            "document.addEventListener('securitypolicyviolation', function (e) {"
            " console.error('CSP violation: ' + e.violatedDirective + ' blocked ' + e.blockedURI);"
            "});"
        )


@pytest.fixture
def console() -> ConsoleLog:
    return ConsoleLog()


@pytest.fixture
def page(browser, console: ConsoleLog):
    """A page in a new browser context (own cookies), with its console errors collected."""
    context = browser.new_context(viewport=VIEWPORT)
    context.set_default_timeout(10_000)
    page = context.new_page()
    console.watch(page)
    try:
        yield page
    finally:
        context.close()
