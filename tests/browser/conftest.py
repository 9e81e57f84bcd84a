"""Browser-test fixtures: the real app served by waitress on a free local port, Debian's
headless Chromium driven by Playwright (sync API), and a fresh browser context per test.

Nothing is downloaded: Playwright's own browsers are never used (no ``playwright install``).
Without /usr/bin/chromium or the ``playwright`` package the browser tests are skipped. Plain
helpers live in tests/browser/helpers.py."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from tests.browser.helpers import VIEWPORT, ConsoleLog
from tests.helpers import make_app


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
