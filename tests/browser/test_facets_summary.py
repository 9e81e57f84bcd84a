"""Facets and summaries as a person uses them, in a real browser.

Vera (viewer) is shared "Appointments" (260 rows) read-only. On the table she opens the facets
(fetched by the page's script after it has rendered), chooses "Dr. Chen" under doctor — the
filter shows as a chip and the facets, still open, now count Dr. Chen's rows — then a range of
fees. The Summary button carries that view to the summary page, which first explains what to
choose; she groups by status and month with a count and a mean fee, sees the table and its
chart, then status against doctor as a pivot table. A viewer not shared the dataset gets 404.
axe-core finds no serious or critical problem; no console errors; nothing scrolls sideways.

Screenshots: tests/artifacts/facets-<step>.png, and facets-table-/summary-<width>-<scheme>.png
at 1366 and 800 px wide, light and dark.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from tests.browser.appointments import DOCTORS, NAME, ROWS, STATUSES, appointments_csv
from tests.browser.helpers import (
    assert_fits_width,
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

    app = make_app(tmp_path_factory.mktemp("facets") / "data")
    eddie = make_user("eddie", "editor", display_name="Eddie Editor")
    vera = make_user("vera", "viewer", display_name="Vera Viewer")
    make_user("otto", "viewer", display_name="Otto Outsider")
    dataset = make_dataset(app, eddie, appointments_csv(), name=NAME)
    sharing.share(dataset, by=eddie, user=vera, can_edit=False)
    database.close()
    server = create_server(app, host="127.0.0.1", port=0, threads=4)
    thread = threading.Thread(target=server.run, name="waitress-facets", daemon=True)
    thread.start()
    try:
        yield Site(f"http://127.0.0.1:{server.effective_port}", dataset.id)
    finally:
        server.close()
        thread.join(timeout=5)


def _clean(log, status: int = 200) -> None:
    errors = unexpected_errors(log.errors, status)
    assert errors == [], "\n".join(errors)
    log.errors.clear()


def _navigate(page, action) -> None:
    with page.expect_navigation() as navigation:
        action()
    response = navigation.value
    assert response is not None and response.status == 200, page.url


def _facet(page, label: str):
    return page.locator("section.facet").filter(
        has=page.locator("h3.facet-title", has_text=re.compile(f"^{re.escape(label)}$"))
    )


def _loaded(page) -> None:
    from playwright.sync_api import expect

    expect(page.locator('section.facet[aria-busy="true"]')).to_have_count(0)


def test_a_viewer_narrows_the_table_with_facets_and_summarizes_the_view(
    site: Site, browser
) -> None:
    from playwright.sync_api import expect

    table_url = f"{site.url}/datasets/{site.dataset_id}"
    context, page, log = new_page(browser, width=1366)
    context.set_default_timeout(15_000)
    try:
        assert sign_in(page, site.url, "vera").status == 200
        page.goto(table_url)
        panel = page.locator("details#facets")
        expect(panel).not_to_have_attribute("open", "")
        # Nothing is counted until the panel is opened.
        expect(page.locator('section.facet[aria-busy="true"]')).to_have_count(13)
        panel.locator("summary").click()
        _loaded(page)
        doctor = _facet(page, "doctor")
        for name in DOCTORS:
            expect(doctor.get_by_role("link", name=re.compile(f"^{name} 65$"))).to_be_visible()
        shot(page, "facets-01-open")

        # One click on a value: the table narrows to it and the filter shows as a chip.
        _navigate(page, lambda: doctor.get_by_role("link", name=re.compile("^Dr. Chen")).click())
        expect(page.locator(".chip")).to_have_count(1)
        expect(page.locator(".chip").first).to_contain_text("doctor is Dr. Chen")
        expect(page.locator(".table-meta")).to_contain_text("65 of 260 rows match")
        # The panel is still open, and now counts the narrowed view.
        expect(panel).to_have_attribute("open", "")
        _loaded(page)
        chosen = _facet(page, "doctor").locator("a.is-chosen")
        expect(chosen).to_have_text(re.compile("Dr. Chen\\s+65"))
        status = _facet(page, "status").locator("a.facet-item:not(.facet-blank)")
        counts = [int(t.split()[-1]) for t in status.all_inner_texts()]
        assert sum(counts) == 65 and len(counts) == len(STATUSES)
        shot(page, "facets-02-chosen")
        axe = load_axe()
        assert serious_violations(page, axe) == []  # the table with its facets open

        # A range of fees: "at least" and "at most" chips, exactly the rows it counted.
        fee = _facet(page, "fee").locator("a.facet-item:not(.facet-blank)").first
        count = fee.inner_text().split()[-1]
        _navigate(page, fee.click)
        expect(page.locator(".chip")).to_have_count(3)
        expect(page.locator(".table-meta")).to_contain_text(f"{count} of 260 rows match")
        expect(page.locator(".chips")).to_contain_text("fee at least")
        expect(page.locator(".chips")).to_contain_text("fee at most")
        shot(page, "facets-03-range")

        # The chosen value's link takes the filter off again.
        _loaded(page)
        _navigate(page, lambda: _facet(page, "doctor").locator("a.is-chosen").click())
        expect(page.locator(".chip")).to_have_count(2)
        _clean(log)

        # Summary, for the view (the fee range): first it explains what to choose.
        page.goto(f"{table_url}?c3.eq=Dr.+Chen")
        _navigate(page, lambda: page.get_by_role("link", name="Summary", exact=True).click())
        assert "c3.eq=Dr.+Chen" in page.url
        expect(page.locator("main h1")).to_have_text("Summary")
        expect(page.get_by_role("heading", name="Choose how to group the rows")).to_be_visible()
        expect(page.locator(".chips")).to_contain_text("doctor is Dr. Chen")
        assert serious_violations(page, axe) == []
        shot(page, "facets-04-summary-start")

        expect(page.get_by_label("as a pivot table")).to_be_hidden()
        page.get_by_label("Group by").select_option(label="status")
        page.get_by_label("Then by").select_option(label="day")
        page.locator("#then_period").select_option("month")
        page.get_by_label("Compute").select_option("count")
        page.locator("#fn2").select_option("mean")
        page.locator("#of2").select_option(label="fee")
        _navigate(page, lambda: page.get_by_role("button", name="Summarize").click())
        table = page.locator("table.summary-table")
        expect(table.locator("thead th")).to_have_text(
            ["status", "day (month)", "Rows", "Mean of fee"]
        )
        counts = [int(t) for t in table.locator("tbody tr td:nth-of-type(1)").all_inner_texts()]
        assert sum(counts) == 65
        expect(page.locator(".chart-frame svg")).to_be_visible()
        expect(page.get_by_role("link", name="Export as CSV")).to_have_count(0)  # no export right
        assert serious_violations(page, axe) == []
        assert_fits_width(page)
        shot(page, "facets-05-summary")

        # The form shows only what the choices use: no "dates by" for doctor, no "of" for a
        # count, the pivot choice only with two groupings.
        expect(page.locator("#by_period")).to_be_hidden()
        expect(page.locator("#of1")).to_be_hidden()
        page.get_by_label("Then by").select_option(label="doctor")
        expect(page.locator("#then_period")).to_be_hidden()
        page.locator("#fn2").select_option("")
        expect(page.locator("#of2")).to_be_hidden()
        expect(page.get_by_label("as a pivot table")).to_be_visible()
        page.get_by_label("as a pivot table").check()
        _navigate(page, lambda: page.get_by_role("button", name="Summarize").click())
        expect(table.locator("thead th")).to_have_text(["status", "Dr. Chen"])
        assert serious_violations(page, axe) == []
        shot(page, "facets-06-pivot")
        _clean(log)

        # Two widths, light and dark: the table with its facets open, and the summary.
        summary_url = page.url
        for scheme in ("light", "dark"):
            page.emulate_media(color_scheme=scheme)
            for width in (1366, 800):
                page.set_viewport_size({"width": width, "height": 800})
                page.goto(f"{table_url}?c3.eq=Dr.+Chen")
                _loaded(page)
                page.evaluate("document.fonts.ready")
                assert_fits_width(page)
                shot(page, f"facets-table-{width}-{scheme}")
                page.goto(summary_url.replace("layout=pivot", "layout=list"))
                page.evaluate("document.fonts.ready")
                assert_fits_width(page)
                shot(page, f"summary-{width}-{scheme}")
            assert serious_violations(page, axe) == []
        _clean(log)
    finally:
        context.close()

    # Otto was not shared the dataset: its facets and summaries are not his to see.
    context, page, log = new_page(browser)
    try:
        assert sign_in(page, site.url, "otto").status == 200
        for path in ("facets/c3", "summary?by=c3&fn1=count"):
            response = page.goto(f"{table_url}/{path}")
            assert response is not None and response.status == 404
            assert "Dr. Chen" not in page.content()
        _clean(log, 404)
    finally:
        context.close()
    assert ROWS == 260
