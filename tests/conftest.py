"""Shared fixtures: an app on a temporary data folder, one person of every role and a signed-in
client for each, and Debian's Chromium through Playwright. Plain helpers live in
tests/helpers.py."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from flask import Flask

from server.models import User
from tests.helpers import (
    CHROMIUM,
    CHROMIUM_ARGS,
    Client,
    make_app,
    make_role,
    make_user,
    require_browser,
    signed_in,
)

WINDOWS_RULES = Path(__file__).with_name("windows_rules")

if os.environ.get("SHEAF_WINDOWS_RULES") == "1":
    # Windows' file rules (tests/windows_rules/sitecustomize.py) in this process, and through
    # PYTHONPATH in every Python it starts: spawned helpers, servers, crash workers.
    os.environ["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(WINDOWS_RULES), os.environ.get("PYTHONPATH")) if p
    )
    from tests.windows_rules import sitecustomize

    sitecustomize.install()


@pytest.fixture
def app(tmp_path: Path) -> Flask:
    # No app context is held open here: Flask would share it (and ``g``) between requests.
    return make_app(tmp_path / "data")


@pytest.fixture
def anon(app: Flask) -> Client:
    return app.test_client()


@pytest.fixture
def people(app: Flask) -> dict[str, User]:
    """One person per role; 'custom' holds a made-up role that may only read the audit log."""
    auditor = make_role("Auditor", ["audit.view"])
    return {
        "admin": make_user("ada", "admin", display_name="Ada Admin"),
        "editor": make_user("eddie", "editor", display_name="Eddie Editor"),
        "viewer": make_user("vera", "viewer", display_name="Vera Viewer"),
        "custom": make_user("cus", auditor, display_name="Cus Auditor"),
    }


@pytest.fixture
def admin_client(app: Flask, people) -> Client:
    return signed_in(app, "ada")


@pytest.fixture
def editor_client(app: Flask, people) -> Client:
    return signed_in(app, "eddie")


@pytest.fixture
def viewer_client(app: Flask, people) -> Client:
    return signed_in(app, "vera")


@pytest.fixture
def custom_client(app: Flask, people) -> Client:
    return signed_in(app, "cus")


@pytest.fixture(scope="session")
def playwright_instance():
    require_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="session")
def browser(playwright_instance):
    browser = playwright_instance.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    try:
        yield browser
    finally:
        browser.close()
