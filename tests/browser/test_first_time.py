"""First-time pages and plain numbers (#19 items 5 and 7), in Chromium at 1366 and 800 px wide.

An editor who has just imported "Charges" (5,030 rows, six empty amounts) opens each page this
round added before anything has happened on it: the history with only the import, saved views,
summaries, the facets panel, row rules and the dataset's recipes. Each says what it is for and
what to do first, and fits the window. The profile shows a mean as 12,490.12 and six empty cells
as "6 (0.1%)". Screenshots: tests/artifacts/first-time-<page>-<width>.png.
"""

from __future__ import annotations

import statistics
import threading
from collections.abc import Iterator
from typing import NamedTuple

import pytest

from tests.browser.helpers import assert_fits_width, new_page, shot, sign_in
from tests.helpers import make_app, make_dataset, make_user

WIDTHS = (1366, 800)
AMOUNTS = [12490.123 + (i % 7) * 0.5 for i in range(5024)]


class Site(NamedTuple):
    base: str
    dataset_id: int


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    from waitress.server import create_server

    from server.db import database

    app = make_app(tmp_path_factory.mktemp("first-time") / "data")
    erin = make_user("erin", "editor", display_name="Erin Editor")
    body = "amount,doctor\n" + "".join(
        f"{a},Dr. {'Chen' if i % 2 else 'Okafor'}\n" for i, a in enumerate(AMOUNTS)
    )
    body += ",Dr. Chen\n" * 6
    dataset = make_dataset(app, erin, body, name="Charges")
    database.close()
    server = create_server(app, host="127.0.0.1", port=0, threads=4)
    thread = threading.Thread(target=server.run, name="waitress-first-time", daemon=True)
    thread.start()
    try:
        yield Site(f"http://127.0.0.1:{server.effective_port}", dataset.id)
    finally:
        server.close()
        thread.join(timeout=5)


FIRST_TIME = [
    ("history", "history", "Only the import so far."),
    ("views", "views", "No saved views yet."),
    ("summary", "summary", "Rows grouped by one or two columns"),
    ("rules", "sharing/rules", "No rules yet: everyone the dataset is shared with sees every row."),
    ("recipes", "recipes", "No recipes"),
]


@pytest.mark.parametrize("width", WIDTHS)
def test_each_new_page_says_what_it_is_for_the_first_time(site: Site, browser, width: int):
    from playwright.sync_api import expect

    context, page, log = new_page(browser, width=width)
    try:
        sign_in(page, site.base, "erin")
        for name, path, sentence in FIRST_TIME:
            page.goto(f"{site.base}/datasets/{site.dataset_id}/{path}")
            expect(page.locator("main")).to_contain_text(sentence)
            assert_fits_width(page)
            shot(page, f"first-time-{name}-{width}")

        page.goto(f"{site.base}/datasets/{site.dataset_id}")
        page.locator("details#facets > summary").click()
        panel = page.locator("details#facets")
        expect(panel).to_contain_text("The most common values of each column in this view")
        expect(page.locator('section.facet[aria-busy="true"]')).to_have_count(0)
        title = page.locator("h3.facet-title", has_text="doctor")
        doctor = panel.locator("section.facet", has=title)
        expect(doctor).to_contain_text("Dr. Chen")
        expect(doctor).to_contain_text("2,518")  # 2,512 and the six empty amounts
        assert_fits_width(page)
        shot(page, f"first-time-facets-{width}")
        assert log.errors == [], "\n".join(log.errors)
    finally:
        context.close()


@pytest.mark.parametrize("width", WIDTHS)
def test_the_profile_shows_plain_numbers(site: Site, browser, width: int):
    from playwright.sync_api import expect

    context, page, log = new_page(browser, width=width)
    try:
        sign_in(page, site.base, "erin")
        page.goto(f"{site.base}/datasets/{site.dataset_id}/profile")
        main = page.locator("main")
        expect(main).to_contain_text(f"{statistics.mean(AMOUNTS):,.2f}")
        expect(main).to_contain_text("6 (0.1%)")
        expect(main).to_contain_text("5,030 rows")
        assert "e+0" not in main.inner_text()
        assert_fits_width(page)
        shot(page, f"first-time-profile-{width}")
        assert log.errors == [], "\n".join(log.errors)
    finally:
        context.close()
