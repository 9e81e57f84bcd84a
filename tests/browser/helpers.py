"""Helpers for the browser tests: screenshots, a page's console errors, and a fresh page that
signs in through the real form."""

from __future__ import annotations

import base64
import hashlib
import io
import re
import tarfile
import urllib.request
from pathlib import Path

import pytest

from tests.helpers import ARTIFACTS, PASSWORD

VIEWPORT = {"width": 1280, "height": 800}


def shot(page, name: str) -> Path:
    """Save a full-page screenshot as tests/artifacts/<name>.png and return its path."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


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


def assert_fits_width(page) -> None:
    """The page never scrolls sideways: wide tables scroll inside their own box."""
    scroll, inner = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert scroll <= inner, f"{page.url} is {scroll} px wide in a {inner} px window"


def new_page(browser, scheme: str = "light", width: int | None = None):
    """A page in a browser context of its own (own cookies), ``width`` px wide (VIEWPORT's
    by default), and its console log."""
    viewport = VIEWPORT if width is None else {**VIEWPORT, "width": width}
    context = browser.new_context(color_scheme=scheme, viewport=viewport)
    context.set_default_timeout(10_000)
    page = context.new_page()
    log = ConsoleLog()
    log.watch(page)
    return context, page, log


def submit(page, button_name: str):
    """Click a submit button and return the response of the navigation it causes."""
    with page.expect_navigation() as navigation:
        page.get_by_role("button", name=button_name, exact=True).click()
    return navigation.value


def sign_in(page, base: str, login: str, password: str = PASSWORD):
    """Sign in through the form; the response of the page it leads to."""
    page.goto(base + "/sign-in")
    page.get_by_label("Sign-in name").fill(login)
    page.get_by_label("Password").fill(password)
    return submit(page, "Sign in")


def unexpected_errors(errors: list[str], status: int) -> list[str]:
    """Console errors, less Chromium's own note that the document came with an error status."""
    expected = re.compile(
        rf"Failed to load resource: the server responded with a status of {status}\b"
    )
    return [e for e in errors if not (status >= 400 and expected.search(e))]


AXE_VERSION = "4.14.1"
AXE_TARBALL = f"https://registry.npmjs.org/axe-core/-/axe-core-{AXE_VERSION}.tgz"
AXE_SHA512 = (
    "FHfa+lmNjQZfJz1q8wKqIDwC6DExcHt/pkjNQb09a3NPjCKg2rhu5qb2S4r76ASyFNNtuFooJpZe37OgudVGtQ=="
)
CACHE = Path(__file__).parents[1] / ".cache" / f"axe-core-{AXE_VERSION}.min.js"
SERIOUS = ("serious", "critical")


def load_axe() -> str:
    """axe-core's script, fetched once from the npm registry (pinned, checked against its
    SHA-512) into tests/.cache/; skips the test when it cannot be fetched."""
    if not CACHE.exists():
        try:
            with urllib.request.urlopen(AXE_TARBALL, timeout=60) as answer:
                tarball = answer.read()
        except OSError as exc:
            pytest.skip(f"axe-core could not be fetched from the npm registry: {exc}")
        digest = base64.b64encode(hashlib.sha512(tarball).digest()).decode()
        assert digest == AXE_SHA512, "the axe-core tarball is not the one pinned"
        with tarfile.open(fileobj=io.BytesIO(tarball)) as archive:
            member = archive.extractfile("package/axe.min.js")
            assert member is not None
            CACHE.parent.mkdir(parents=True, exist_ok=True)
            CACHE.write_bytes(member.read())
    return CACHE.read_text(encoding="utf-8")


def serious_violations(page, axe: str) -> list[str]:
    """axe-core's serious and critical findings on the page as it is now."""
    page.evaluate(axe)
    result = page.evaluate("() => axe.run(document, {resultTypes: ['violations']})")
    found = []
    for violation in result["violations"]:
        if violation["impact"] in SERIOUS:
            targets = [", ".join(node["target"]) for node in violation["nodes"][:3]]
            found.append(f"{violation['impact']} {violation['id']}: {targets}")
    return found
