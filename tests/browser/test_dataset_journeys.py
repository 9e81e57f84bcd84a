"""Journeys 4 to 7 in a real browser, as two people in two browser contexts.

Eddie (editor) owns "Payments 2024" (300 generated rows: id, name, city, amount, day) and
"Private notes", which he never shares. Through the real pages he browses the first (paging,
sorting, filters, search), opens its profile and a chart, cleans it with recorded steps (trim,
upper case, undo, title case) and saves them as a recipe, shares it read-only with Vera, and
exports the filtered and sorted view. Vera (viewer, no export permission) then sees only that
dataset, can browse it but not change, share, delete or export it, and gets the 404 page for
the dataset that is not shared with her.

Each step is saved as tests/artifacts/journey-NN-*.png (light scheme), plus the table and the
chart in a dark scheme. Every page's console must stay free of errors and CSP violations.
"""

from __future__ import annotations

import csv
import io
import json
import re
import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import pytest

from tests.browser.helpers import new_page, shot, sign_in, unexpected_errors
from tests.helpers import make_app, make_dataset, make_user

pytestmark = pytest.mark.browser

ROWS = 300
PAGE_SIZE = 50  # the app's default
SHARED = "Payments 2024"
PRIVATE = "Private notes"
FIRST = ["Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Frances", "Radia", "Ken"]
LAST = ["Lovelace", "Hopper", "Turing", "Dijkstra", "Liskov", "Knuth", "Allen", "Perlman"]
CITIES = ["Lisbon", "Oslo", "Porto", "Quito", "Tartu"]
FILTER_CITY = "Oslo"
FILTER_MIN = 400
SEARCH = "Hopper"
# The pager's links (their arrows are guillemets, not < and >).
NEXT, PREVIOUS = "Next \u203a", "\u2039 Previous"
FIRST_PAGE, LAST_PAGE = "\u00ab First", "Last \u00bb"


@dataclass(frozen=True)
class Row:
    id: int
    name: str  # as stored: some padded with spaces, some in lower case
    city: str
    amount: float
    day: str

    @property
    def clean_name(self) -> str:
        """The name after trimming and title case."""
        return self.name.strip().title()


def _rows() -> list[Row]:
    rows = []
    for i in range(1, ROWS + 1):
        name = f"{FIRST[i % len(FIRST)]} {LAST[i % len(LAST)]}"
        if i % 9 == 0:
            name = name.lower()
        if i % 7 == 0:
            name = f"  {name} "
        rows.append(
            Row(
                id=i,
                name=name,
                city=CITIES[(i * i + i // 7) % len(CITIES)],
                amount=((i * 7919) % 100_000) / 100,  # distinct, 0.00 … 999.99
                day=(date(2024, 1, 1) + timedelta(days=i)).isoformat(),
            )
        )
    return rows


DATA = _rows()


def _csv(rows: list[Row]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["id", "name", "city", "amount", "day"])
    writer.writerows([r.id, r.name, r.city, f"{r.amount:.2f}", r.day] for r in rows)
    return buffer.getvalue()


@dataclass(frozen=True)
class Site:
    url: str
    shared_id: int
    private_id: int


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    from waitress.server import create_server

    from server.db import database

    app = make_app(tmp_path_factory.mktemp("journeys") / "data")
    eddie = make_user("eddie", "editor", display_name="Eddie Editor")
    make_user("vera", "viewer", display_name="Vera Viewer")
    shared = make_dataset(app, eddie, _csv(DATA), name=SHARED)
    private = make_dataset(app, eddie, "id,note\n1,Salary review\n2,Do not share\n", PRIVATE)
    database.close()

    server = create_server(app, host="127.0.0.1", port=0, threads=4)
    thread = threading.Thread(target=server.run, name="waitress-journeys", daemon=True)
    thread.start()
    try:
        yield Site(f"http://127.0.0.1:{server.effective_port}", shared.id, private.id)
    finally:
        server.close()
        thread.join(timeout=5)


# --- helpers ---------------------------------------------------------------------------------
class Steps:
    """Numbered screenshots: journey-01-<name>.png, journey-02-… in the order taken."""

    def __init__(self) -> None:
        self.n = 0

    def __call__(self, page, name: str) -> None:
        self.n += 1
        page.evaluate("document.fonts.ready")
        shot(page, f"journey-{self.n:02d}-{name}")


def _table(page):
    return page.get_by_role("region", name=f"Rows of {SHARED}")


def _column_texts(page, index: int) -> list[str]:
    """The texts of one column of the visible rows (0 is the row number, 1 is id, …)."""
    return _table(page).locator(f"tbody tr td:nth-child({index + 1})").all_inner_texts()


def _ids(page) -> list[int]:
    return [int(t) for t in _column_texts(page, 1)]


def _meta(page):
    return page.locator(".table-meta p")


def _click(page, locator, url: str | re.Pattern | None = None):
    """Click something that navigates; the response must be a 200."""
    with page.expect_navigation(**({"url": url} if url else {})) as navigation:
        locator.click()
    response = navigation.value
    assert response is not None and response.status == 200, (
        f"{page.url} answered {response and response.status}"
    )
    return response


def _step(page, title: str):
    return page.locator("details.step", has=page.locator("summary", has_text=title))


def _clean_step(page, title: str, column: str, **selects: str) -> None:
    """Open one step's section, choose its column (and other selects), and apply it."""
    step = _step(page, title)
    step.locator("summary").click()
    step.get_by_label("Column").select_option(label=f"{column} (text)")
    for label, option in selects.items():
        step.get_by_label(label, exact=True).select_option(label=option)
    _click(page, step.get_by_role("button", name=title))


def _assert_clean(log, status: int = 200) -> None:
    errors = unexpected_errors(log.errors, status)
    assert errors == [], "\n".join(errors)
    log.errors.clear()


# --- the journeys ----------------------------------------------------------------------------
def test_editor_shares_and_viewer_sees(site: Site, browser) -> None:
    from playwright.sync_api import expect

    base, step = site.url, Steps()
    table_url = f"{base}/datasets/{site.shared_id}"
    by_amount = sorted(DATA, key=lambda r: r.amount, reverse=True)
    filtered = [r for r in by_amount if r.city == FILTER_CITY and r.amount >= FILTER_MIN]
    found = [r for r in DATA if SEARCH.lower() in r.name.lower()]
    assert 0 < len(filtered) < PAGE_SIZE and 0 < len(found) < PAGE_SIZE

    eddie_context, page, log = new_page(browser)
    try:
        # --- 4. Eddie browses ----------------------------------------------------------------
        assert sign_in(page, base, "eddie").status == 200
        expect(page.locator("main h1")).to_have_text("Hello, Eddie Editor")
        step(page, "eddie-home")

        nav = page.get_by_role("navigation", name="Main")
        _click(page, nav.get_by_role("link", name="Datasets"))
        listing = page.locator("main table tbody tr")
        expect(listing).to_have_count(2)
        expect(page.get_by_role("link", name=PRIVATE)).to_be_visible()
        step(page, "eddie-datasets")

        _click(page, page.get_by_role("link", name=SHARED), table_url)
        expect(page.locator("main h1")).to_have_text(SHARED)
        expect(page.locator("main .page-head")).to_contain_text("300 rows · 5 columns")
        expect(_meta(page)).to_have_text("300 rows")
        assert _ids(page) == list(range(1, PAGE_SIZE + 1))
        for name in ("Profile", "Charts", "Clean", "Sharing", "Delete"):
            expect(page.get_by_role("link", name=name, exact=True)).to_be_visible()
        expect(page.get_by_role("link", name=FIRST_PAGE)).to_have_count(0)
        step(page, "table")

        pager = page.get_by_role("navigation", name="Pages")
        _click(page, pager.get_by_role("link", name=NEXT))
        assert _ids(page) == list(range(51, 101))
        step(page, "page-2")

        _click(page, pager.get_by_role("link", name=LAST_PAGE))
        assert _ids(page) == list(range(251, 301))
        expect(pager.get_by_role("link", name=NEXT)).to_have_count(0)
        step(page, "last-page")

        _click(page, pager.get_by_role("link", name=PREVIOUS))
        assert _ids(page) == list(range(201, 251))
        _click(page, pager.get_by_role("link", name=FIRST_PAGE))
        assert _ids(page) == list(range(1, 51))
        expect(pager.get_by_role("link", name=PREVIOUS)).to_have_count(0)

        # Sort: a click on the header sorts smallest first, a second click largest first.
        header = _table(page).locator("thead a.sort-link", has_text="amount")
        _click(page, header)
        expect(_table(page).locator("thead th[aria-sort]")).to_have_attribute(
            "aria-sort", "ascending"
        )
        assert float(_column_texts(page, 4)[0]) == min(r.amount for r in DATA)
        _click(page, header)
        expect(_table(page).locator("thead th[aria-sort]")).to_have_attribute(
            "aria-sort", "descending"
        )
        expect(_meta(page)).to_have_text("300 rows · sorted by amount, largest first")
        amounts = [float(t) for t in _column_texts(page, 4)]
        assert amounts[0] == by_amount[0].amount
        assert amounts == [r.amount for r in by_amount[:PAGE_SIZE]]
        step(page, "sorted-by-amount")
        _click(page, pager.get_by_role("link", name=NEXT))
        assert _ids(page) == [r.id for r in by_amount[PAGE_SIZE : 2 * PAGE_SIZE]]
        _click(page, pager.get_by_role("link", name=FIRST_PAGE))

        # Filters: city is Oslo, amount at least 400 (the sort is kept).
        page.locator("details.filters-panel > summary").click()
        page.get_by_label("How to filter city").select_option(label="is")
        city_field = page.locator(".filter-field", has=page.get_by_label("How to filter city"))
        city_field.locator("input[type=text]").fill(FILTER_CITY)
        page.get_by_label("How to filter amount").select_option(label="at least")
        amount_field = page.locator(".filter-field", has=page.get_by_label("How to filter amount"))
        amount_field.locator("input[type=text]").fill(str(FILTER_MIN))
        step(page, "filters-filled")
        _click(page, page.get_by_role("button", name="Apply filters"))
        expect(_meta(page)).to_have_text(
            f"{len(filtered)} of 300 rows match · sorted by amount, largest first"
        )
        expect(page.locator("details.filters-panel > summary")).to_have_text("Filters (2)")
        assert _ids(page) == [r.id for r in filtered]
        expect(pager.get_by_role("link")).to_have_count(0)
        filtered_url = page.url
        assert "sort=" in filtered_url and "dir=desc" in filtered_url
        step(page, "filtered")

        # Full-text search, on its own.
        _click(page, page.get_by_role("link", name="Remove all filters"))  # the chips' link
        expect(page.locator("details.filters-panel > summary")).to_have_text("Filters")
        page.get_by_label("Search the text columns").fill(SEARCH)
        _click(page, page.get_by_role("button", name="Search", exact=True))
        expect(_meta(page)).to_contain_text(f"{len(found)} of 300 rows match")
        names = _column_texts(page, 2)
        assert len(names) == len(found)
        assert all(SEARCH.lower() in n.lower() for n in names), names
        step(page, "searched")

        # Profile: of the searched rows, as the page says; then of the whole dataset, a card
        # per column; numbers show quartiles, text its most common values.
        _click(page, page.get_by_role("link", name="Profile", exact=True))
        expect(page.locator("main h1")).to_have_text(f"Profile of {SHARED}")
        expect(page.locator(".view-scope")).to_contain_text(
            f"Profile of {len(found)} rows where matching “{SEARCH}”"
        )
        _click(page, page.get_by_role("link", name="Profile of the whole dataset"))
        expect(page.locator(".view-scope")).to_contain_text("Profile of all 300 rows")
        cards = page.locator("section.profile-card")
        expect(cards).to_have_count(5)
        amount_card = cards.filter(has=page.get_by_role("heading", name="amount"))
        expect(amount_card.locator("dt", has_text="Median")).to_be_visible()
        expect(amount_card.locator("dd").nth(1)).to_have_text("300")  # distinct
        city_card = cards.filter(has=page.get_by_role("heading", name="city"))
        expect(city_card.locator("tbody tr")).to_have_count(len(CITIES))
        step(page, "profile")

        # Charts: top values of city, as an SVG, with the numbers behind it.
        _click(page, page.locator("nav.breadcrumbs").get_by_role("link", name=SHARED))
        _click(page, page.get_by_role("link", name="Charts", exact=True))
        expect(page.locator("main h1")).to_have_text("Charts")
        page.get_by_label("Chart", exact=True).select_option(label="Bars")
        page.get_by_label("Column", exact=True).select_option(label="city")
        _click(page, page.get_by_role("button", name="Draw"))
        picture = page.locator(".chart-frame svg[role=img]")
        expect(picture).to_be_visible()
        expect(picture.locator("rect")).not_to_have_count(0)
        numbers = page.locator("details", has=page.locator("summary", has_text="numbers behind"))
        numbers.locator("summary").click()
        cells = numbers.locator("tbody tr")
        expect(cells).to_have_count(len(CITIES))
        shown = {
            row.locator("td").nth(0).inner_text(): int(row.locator("td").nth(1).inner_text())
            for row in cells.all()
        }
        assert shown == dict(Counter(r.city for r in DATA)), shown
        step(page, "chart")
        with page.expect_download() as info:
            page.get_by_role("link", name="Download as SVG").click()
        svg = Path(info.value.path()).read_text(encoding="utf-8")
        assert "<svg" in svg and "Oslo" in svg, svg[:200]
        assert info.value.suggested_filename.endswith(".svg")

        page.emulate_media(color_scheme="dark")
        step(page, "chart-dark")
        page.goto(table_url)
        step(page, "table-dark")
        page.emulate_media(color_scheme="light")
        _assert_clean(log)

        # --- 5. Eddie cleans it with recorded steps -------------------------------------------
        _click(page, page.get_by_role("link", name="Clean", exact=True))
        expect(page.locator("main h1")).to_have_text(f"Clean {SHARED}")
        history = page.locator("ol.versions > li")
        expect(history).to_have_count(1)  # the import: every dataset starts at version 1
        expect(history.nth(0)).to_contain_text("Imported")
        _clean_step(page, "Trim spaces", "name")
        padded = sum(1 for r in DATA if r.name != r.name.strip())
        expect(page.locator(".flashes")).to_contain_text(
            f"Trim spaces: spaces trimmed in name ({padded} rows)"
        )
        step(page, "clean-trimmed")

        _clean_step(page, "Change case", "name", Case="UPPER")
        expect(history).to_have_count(3)
        expect(history.nth(0)).to_contain_text("Change case")
        expect(history.nth(0)).to_contain_text("upper case")
        expect(history.nth(0)).to_contain_text("current")
        expect(history.nth(1)).to_contain_text("Trim spaces")
        for item in history.all()[:2]:
            expect(item).to_contain_text("Eddie Editor")
        step(page, "clean-history")

        _click(page, page.get_by_role("button", name="Undo the last change"))
        expect(page.locator(".flashes")).to_contain_text(
            "Undone. Now at version 4: Undid: Change case: name in upper case"
        )
        expect(history).to_have_count(4)  # undo is a version too: nothing is rewritten
        expect(history.nth(0)).to_contain_text("Undid: Change case")
        step(page, "clean-undone")

        # The trim step is still there to undo or to save as a recipe, and the undo to redo.
        expect(page.get_by_role("button", name="Undo the last change")).to_be_visible()
        expect(page.get_by_role("button", name="Redo")).to_be_visible()
        expect(page.get_by_label("Save these steps as a recipe")).to_be_visible()
        _clean_step(page, "Change case", "name", Case="Title")
        expect(history).to_have_count(5)
        expect(page.get_by_role("button", name="Redo")).to_have_count(0)
        page.get_by_label("Save these steps as a recipe").fill("Payments clean-up")
        _click(page, page.get_by_role("button", name="Save recipe"))
        expect(page.locator(".flashes")).to_contain_text("Saved the recipe Payments clean-up")
        step(page, "recipe-saved")

        # --- 6. Eddie shares it with Vera, read only -----------------------------------------
        _click(page, page.locator("nav.breadcrumbs a"))
        _click(page, page.get_by_role("link", name="Sharing", exact=True))
        expect(page.locator("main h1")).to_have_text(f"Who can see {SHARED}")
        page.get_by_label("Share with").select_option(label="Vera Viewer (vera)")
        page.get_by_label("Read only").check()
        step(page, "sharing-form")
        _click(page, page.get_by_role("button", name="Share", exact=True))
        expect(page.locator(".flashes")).to_contain_text("Shared.")
        access = page.locator("main table tbody tr", has_text="Vera Viewer")
        expect(access).to_contain_text("Read only")
        step(page, "shared")

        # --- 7. Eddie exports the filtered, sorted view --------------------------------------
        page.goto(filtered_url)
        expect(_meta(page)).to_contain_text(f"{len(filtered)} of 300 rows match")
        exports = page.locator(".export-links")
        for label in ("CSV", "CSV for Excel (UTF-8 with BOM)", "Excel", "JSON"):
            expect(exports.get_by_role("link", name=label, exact=True)).to_be_visible()
        step(page, "export")
        with page.expect_download() as info:
            exports.get_by_role("link", name="CSV", exact=True).click()
        assert info.value.suggested_filename == "Payments 2024.csv"
        lines = list(csv.reader(io.StringIO(Path(info.value.path()).read_text("utf-8"))))
        assert lines[0] == ["id", "name", "city", "amount", "day"]
        assert [[int(a), b, c, float(d), e] for a, b, c, d, e in lines[1:]] == [
            [r.id, r.clean_name, r.city, r.amount, r.day] for r in filtered
        ]
        with page.expect_download() as info:
            exports.get_by_role("link", name="JSON", exact=True).click()
        records = json.loads(Path(info.value.path()).read_text("utf-8"))
        assert [r["id"] for r in records] == [r.id for r in filtered]
        _assert_clean(log)
    finally:
        eddie_context.close()

    # --- 6 (cont.). Vera sees only what is shared with her -----------------------------------
    vera_context, page, log = new_page(browser)
    try:
        assert sign_in(page, base, "vera").status == 200
        _click(
            page, page.get_by_role("navigation", name="Main").get_by_role("link", name="Datasets")
        )
        expect(page.locator("main table tbody tr")).to_have_count(1)
        expect(page.get_by_role("link", name=SHARED)).to_be_visible()
        expect(page.get_by_role("link", name=PRIVATE)).to_have_count(0)
        step(page, "vera-datasets")

        _click(page, page.get_by_role("link", name=SHARED), table_url)
        expect(page.locator("main .page-head .pill")).to_have_text("read only")
        for name in ("Profile", "Charts"):
            expect(page.get_by_role("link", name=name, exact=True)).to_be_visible()
        for name in ("Clean", "Rename or describe", "Sharing", "Delete", "CSV", "Excel", "JSON"):
            expect(page.get_by_role("link", name=name, exact=True)).to_have_count(0)
        expect(page.locator(".export-links")).to_have_count(0)
        # The cleaned names (trimmed, title case) are what she sees.
        assert _column_texts(page, 2)[:10] == [r.clean_name for r in DATA[:10]]
        step(page, "vera-table")

        pager = page.get_by_role("navigation", name="Pages")
        _click(page, pager.get_by_role("link", name=NEXT))
        assert _ids(page) == list(range(51, 101))
        _click(page, _table(page).locator("thead a.sort-link", has_text="day"))
        _click(page, _table(page).locator("thead a.sort-link", has_text="day"))
        assert _ids(page)[0] == ROWS
        step(page, "vera-sorted")

        # What she may not do answers 403; what she may not see answers 404.
        for path in ("clean", "sharing", "export?format=csv", "delete"):
            response = page.request.get(f"{table_url}/{path}", max_redirects=0)
            assert response.status == 403, (path, response.status)
        response = page.goto(f"{base}/datasets/{site.private_id}")
        assert response is not None and response.status == 404
        expect(page.locator("main h1")).to_have_text("Not found")
        expect(page.locator("main .error-code")).to_have_text("404")
        expect(page.locator("main")).not_to_contain_text("Salary review")
        step(page, "vera-not-found")
        response = page.request.get(f"{base}/datasets/{site.private_id}/export?format=csv")
        assert response.status in (403, 404), response.status
        assert "Salary review" not in response.text()
        _assert_clean(log, status=404)
    finally:
        vera_context.close()
