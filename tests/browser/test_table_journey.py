"""The table page as a person works in it, in a real browser.

Vera (viewer) is shared "Appointments" (260 rows, 13 columns) read-only. She hides a column and
moves another through the Columns menu, widens one by dragging its header's edge, filters by
doctor and removes the filter with its chip, jumps to a page by number, and moves with the
keyboard (arrows between cells, Page Down to the next page, "/" to the search box). Her
layout is her own: Eddie, who owns the dataset, still sees it as imported. axe-core finds no
serious or critical problem with the menus open and a chip shown.

Screenshots: tests/artifacts/table-<step>.png (table-01b-scrolled: the header row and the row
numbers in place with the rows scrolled down and right), and table-<width>-<scheme>.png at 1366
and 800 px wide in light and dark.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from tests.browser.appointments import HEADERS, NAME, appointments_csv
from tests.browser.helpers import (
    load_axe,
    new_page,
    serious_violations,
    shot,
    sign_in,
    unexpected_errors,
)
from tests.helpers import make_app, make_dataset, make_user

pytestmark = pytest.mark.browser


@dataclass(frozen=True)
class Site:
    url: str
    dataset_id: int


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    from waitress.server import create_server

    from server.datasets import sharing
    from server.db import database

    app = make_app(tmp_path_factory.mktemp("table") / "data")
    eddie = make_user("eddie", "editor", display_name="Eddie Editor")
    vera = make_user("vera", "viewer", display_name="Vera Viewer")
    dataset = make_dataset(app, eddie, appointments_csv(), name=NAME)
    sharing.share(dataset, by=eddie, user=vera, can_edit=False)
    database.close()
    server = create_server(app, host="127.0.0.1", port=0, threads=4)
    thread = threading.Thread(target=server.run, name="waitress-table", daemon=True)
    thread.start()
    try:
        yield Site(f"http://127.0.0.1:{server.effective_port}", dataset.id)
    finally:
        server.close()
        thread.join(timeout=5)


def _headers(page) -> list[str]:
    return page.locator("table.table-data thead th[data-column] a.sort-link").all_inner_texts()


def _ids(page) -> list[int]:
    texts = page.locator("table.table-data tbody td.rownum").all_inner_texts()
    return [int(t) for t in texts]


def _navigate(page, action) -> None:
    with page.expect_navigation() as navigation:
        action()
    response = navigation.value
    assert response is not None and response.status == 200, page.url


def _clean(log) -> None:
    errors = unexpected_errors(log.errors, 200)
    assert errors == [], "\n".join(errors)
    log.errors.clear()


def test_a_viewer_arranges_filters_pages_and_keys_through_the_table(site: Site, browser) -> None:
    from playwright.sync_api import expect

    table_url = f"{site.url}/datasets/{site.dataset_id}"
    context, page, log = new_page(browser)
    context.set_default_timeout(15_000)
    page.set_viewport_size({"width": 1366, "height": 800})
    try:
        assert sign_in(page, site.url, "vera").status == 200
        page.goto(table_url)
        expect(page.locator("main h1")).to_have_text(NAME)
        assert _headers(page) == HEADERS
        expect(page.locator(".pager .page-of")).to_have_text("Page 1 of 6")
        expect(page.locator("details.filters-panel")).not_to_have_attribute("open", "")
        # Empty cells are quiet (a dash), but the word is still there for screen readers.
        empty = page.locator("table.table-data tbody .empty-cell").first
        assert empty.evaluate("e => getComputedStyle(e).fontSize") == "0px"
        shot(page, "table-01-start")

        # The header row and the row numbers stay in view while the rows scroll.
        region = page.get_by_role("region", name=f"Rows of {NAME}")
        region.evaluate("r => { r.scrollTop = 600; r.scrollLeft = 400; }")
        top = region.evaluate("r => r.getBoundingClientRect().top")
        left = region.evaluate("r => r.getBoundingClientRect().left")
        header_top = page.locator("thead th[data-column]").first.evaluate(
            "e => e.getBoundingClientRect().top"
        )
        rownum_left = (
            page.locator("tbody td.rownum").nth(20).evaluate("e => e.getBoundingClientRect().left")
        )
        assert abs(header_top - top) < 3 and abs(rownum_left - left) < 3
        shot(page, "table-01b-scrolled")
        # The box fits in the window: its horizontal scrollbar is in reach.
        assert region.evaluate("r => r.getBoundingClientRect().height") <= 800
        region.evaluate("r => { r.scrollTop = 0; r.scrollLeft = 0; }")

        # Columns: hide "notes", then move "status" before "doctor".
        menu = page.locator("details#columns-menu")
        menu.locator("summary").click()
        _navigate(page, lambda: menu.get_by_label("notes", exact=True).uncheck())
        assert "notes" not in _headers(page)
        expect(menu.locator("summary")).to_have_text("Columns (1 hidden)")
        expect(menu).to_have_attribute("open", "")  # back on the menu, still open
        _navigate(page, lambda: menu.get_by_role("button", name="Move status up").click())
        headers = _headers(page)
        assert headers.index("status") == headers.index("doctor") - 1
        expect(page.get_by_role("button", name="Move status up")).to_be_focused()
        _navigate(page, lambda: page.get_by_role("button", name="Move status up").click())
        headers = _headers(page)
        assert headers[:4] == ["id", "status", "patient", "doctor"], headers
        shot(page, "table-02-columns-menu")
        page.keyboard.press("Escape")
        expect(menu).not_to_have_attribute("open", "")

        # Widths: drag the right edge of "patient" 120 px wider; kept after a reload.
        patient = page.locator('thead th[data-column="c2"]')
        before = patient.bounding_box()
        handle = patient.locator(".col-resize").bounding_box()
        assert before and handle
        x, y = handle["x"] + handle["width"] / 2, handle["y"] + handle["height"] / 2
        with page.expect_response(lambda r: r.url.endswith("/layout")) as saved:
            page.mouse.move(x, y)
            page.mouse.down()
            page.mouse.move(x + 60, y, steps=4)
            page.mouse.move(x + 120, y, steps=4)
            page.mouse.up()
        assert saved.value.status == 200
        page.reload()
        after = page.locator('thead th[data-column="c2"]').bounding_box()
        assert after and abs(after["width"] - (before["width"] + 120)) < 4, (before, after)
        assert "notes" not in _headers(page)

        # Filters: the form opens on demand; the hint follows the operator.
        page.locator("details.filters-panel > summary").click()
        doctor_op = page.get_by_label("How to filter doctor")
        doctor_op.select_option(label="one of")
        expect(page.locator('[data-filter-hint="c3"]')).to_contain_text("a|b|c")
        doctor_op.select_option(label="contains")
        expect(page.locator('[data-filter-hint="c3"]')).to_have_text("part of the text")
        doctor_op.select_option(label="is")
        page.locator("#f-c3").fill("Dr. Chen")
        attended = page.locator("#f-c6")
        assert attended.evaluate("e => e.tagName") == "SELECT"  # yes/no is a choice
        assert page.locator("#f-c5").get_attribute("type") == "date"
        shot(page, "table-03-filters-open")
        _navigate(page, lambda: page.get_by_role("button", name="Apply filters").click())
        chips = page.get_by_role("list", name="Active filters")
        expect(chips.locator(".chip")).to_have_count(1)
        expect(chips.locator(".chip")).to_contain_text("doctor is Dr. Chen")
        expect(page.locator(".table-meta p")).to_contain_text("65 of 260 rows match")
        expect(page.locator("details.filters-panel")).not_to_have_attribute("open", "")
        shot(page, "table-04-chip")
        _navigate(
            page,
            lambda: chips.get_by_role("link", name="Remove the filter: doctor is Dr. Chen").click(),
        )
        expect(page.get_by_role("list", name="Active filters")).to_have_count(0)
        expect(page.locator(".table-meta p")).to_have_text("260 rows")

        # Pages: go to page 4 by number, then to the last by its link.
        pager = page.get_by_role("navigation", name="Pages")
        pager.get_by_label("Go to page").fill("4")
        _navigate(page, lambda: pager.get_by_role("button", name="Go").click())
        expect(pager.locator(".page-of")).to_have_text("Page 4 of 6")
        assert _ids(page)[0] == 151
        _navigate(page, lambda: pager.get_by_role("link", name="6", exact=True).click())
        expect(pager.locator(".page-of")).to_have_text("Page 6 of 6")
        assert _ids(page) == list(range(251, 261))
        page.goto(f"{table_url}?page=99")
        expect(page.get_by_role("alert")).to_contain_text("There are only 6 pages")

        # Keyboard: arrows between cells, Page Down to the next page, "/" to search.
        page.goto(f"{table_url}?page=2")
        first = page.locator("tbody tr").first.locator("td").nth(1)
        first.click()
        expect(first).to_be_focused()
        page.keyboard.press("ArrowRight")
        page.keyboard.press("ArrowDown")
        focused = page.evaluate(
            "() => [document.activeElement.cellIndex,"
            " document.activeElement.parentElement.sectionRowIndex]"
        )
        assert focused == [2, 1]
        page.keyboard.press("ArrowLeft")
        page.keyboard.press("ArrowLeft")
        assert page.evaluate("() => document.activeElement.className") == "rownum"
        _navigate(page, lambda: page.keyboard.press("PageDown"))
        expect(pager.locator(".page-of")).to_have_text("Page 3 of 6")
        assert _ids(page)[0] == 101
        _navigate(page, lambda: page.keyboard.press("PageUp"))
        expect(pager.locator(".page-of")).to_have_text("Page 2 of 6")
        page.keyboard.press("/")
        expect(page.get_by_label("Search the text columns")).to_be_focused()
        page.keyboard.type("Patient 007")
        expect(page.get_by_label("Search the text columns")).to_have_value("Patient 007")
        _clean(log)

        # Screenshots at two widths, light and dark, with a chip and the layout applied.
        filtered = f"{table_url}?c3.eq=Dr.+Chen&c4.in=seen|booked"
        axe = load_axe()
        for scheme in ("light", "dark"):
            page.emulate_media(color_scheme=scheme)
            for width in (1366, 800):
                page.set_viewport_size({"width": width, "height": 800})
                page.goto(filtered)
                expect(page.locator(".chip")).to_have_count(2)
                page.evaluate("document.fonts.ready")
                shot(page, f"table-{width}-{scheme}")
            page.set_viewport_size({"width": 1366, "height": 800})
            assert serious_violations(page, axe) == []
            menu.locator("summary").click()
            page.locator("details.filters-panel > summary").click()
            assert serious_violations(page, axe) == []
        _clean(log)
    finally:
        context.close()

    # Vera's layout is hers: Eddie, the owner, still has the columns as imported.
    context, page, log = new_page(browser)
    try:
        assert sign_in(page, site.url, "eddie").status == 200
        page.goto(table_url)
        assert _headers(page) == HEADERS
        # Reset brings Vera's back (checked through the menu's own button).
        _clean(log)
    finally:
        context.close()

    context, page, log = new_page(browser)
    try:
        assert sign_in(page, site.url, "vera").status == 200
        page.goto(table_url)
        assert _headers(page) != HEADERS
        menu = page.locator("details#columns-menu")
        menu.locator("summary").click()
        _navigate(page, lambda: menu.get_by_role("button", name="Reset").click())
        assert _headers(page) == HEADERS
        expect(page.get_by_role("status").or_(page.locator(".flashes"))).to_contain_text(
            "back in the dataset's own order"
        )
        _clean(log)
    finally:
        context.close()
