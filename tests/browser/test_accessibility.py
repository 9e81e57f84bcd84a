"""Accessibility: axe-core, from the npm registry, runs in every page an admin can open (and the
sign-in page), in light and dark colour schemes. No serious or critical violation may remain.

axe-core is fetched once (a pinned version, checked against the registry's SHA-512) into
tests/.cache/; it runs in the test browser only and never ships with Sheaf."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from tests.browser.helpers import VIEWPORT, load_axe, serious_violations
from tests.helpers import PASSWORD, make_app, make_user
from tests.permission_matrix import MATRIX, case_url

pytestmark = pytest.mark.browser

# Pages that are not HTML (downloads, JSON, images) or do not exist once set up.
NOT_PAGES = {
    "static",
    "auth.setup",
    "datasets.dataset_export",
    "datasets.dataset_chart_svg",
    "datasets.dataset_profile_status",
    "imports.import_problems",
    "imports.import_progress",
    "backups.backup_file",
    "analysis.dataset_facet",  # a fragment the table page loads (checked there, open)
}


@pytest.fixture(scope="module")
def axe_source() -> str:
    return load_axe()


@pytest.fixture(scope="module")
def pages(tmp_path_factory) -> Iterator[tuple[str, list[tuple[str, str]]]]:
    """A served app with one of everything; yields its URL and (name, path) of every page."""
    from waitress.server import create_server

    app = make_app(tmp_path_factory.mktemp("a11y") / "data")
    make_user("ada", "admin", display_name="Ada Admin")
    make_user("eddie", "editor", display_name="Eddie Editor")
    make_user("vera", "viewer")
    paths = []
    for endpoint, method in sorted(MATRIX):
        if method != "GET" or endpoint in NOT_PAGES or endpoint.startswith("api."):
            continue
        if MATRIX[(endpoint, method)]["admin"] != 200:
            continue  # not the admin's page (an editor's own import, say)
        paths.append((endpoint, case_url(app, endpoint, method, "admin")))
    server = create_server(app, host="127.0.0.1", port=0, threads=4)
    thread = threading.Thread(target=server.run, name="waitress-a11y", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.effective_port}", paths
    finally:
        server.close()
        thread.join(timeout=5)


def _violations(page, axe: str) -> list[str]:
    return serious_violations(page, axe)


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_no_serious_accessibility_violations(browser, axe_source, pages, scheme):
    base, paths = pages
    context = browser.new_context(color_scheme=scheme, viewport=VIEWPORT)
    context.set_default_timeout(10_000)
    page = context.new_page()
    problems = {}
    try:
        page.goto(base + "/sign-in")
        if found := _violations(page, axe_source):
            problems["sign-in"] = found
        page.get_by_label("Sign-in name").fill("ada")
        page.get_by_label("Password").fill(PASSWORD)
        with page.expect_navigation():
            page.get_by_role("button", name="Sign in").click()
        assert len(paths) > 15, paths
        for endpoint, path in paths:
            response = page.goto(base + path)
            assert response is not None and response.status == 200, (endpoint, path)
            if found := _violations(page, axe_source):
                problems[endpoint] = found
    finally:
        context.close()
    assert problems == {}, "\n".join(f"{k}: {v}" for k, v in problems.items())
