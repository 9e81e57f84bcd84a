"""Saved views as people use them, in a real browser.

Eddie owns "Appointments". He filters it by doctor, hides a column and saves that as a view
shared with everyone who may read the dataset (the Views menu first says how, when there is
none). Vera, shared the dataset read-only, opens it from her Views menu: the table comes back
filtered and arranged. A column renamed since, the view still works; the column dropped, it
says why in words and opens the table with what still applies. Vera may not rename or delete
Eddie's view; Eddie renames and then deletes it. Help opens from every page's footer.

Screenshots: tests/artifacts/views-<step>.png, and views-<page>-<width>-<scheme>.png at 1366
and 800 px wide in light and dark; axe-core finds no serious or critical problem on the new
pages, no page logs a console error, and none scrolls sideways.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

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

NAME = "Appointments"
CSV = "id,patient,doctor,status,minutes\n" + "".join(
    f"{i},Patient {i:03d},{['Dr. Chen', 'Dr. Okafor', 'Dr. Silva'][i % 3]},"
    f"{['booked', 'seen'][i % 2]},{15 + i % 4 * 15}\n"
    for i in range(1, 61)
)


@dataclass(frozen=True)
class Site:
    url: str
    dataset_id: int
    app: object


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    from waitress.server import create_server

    from server.datasets import sharing
    from server.db import database

    app = make_app(tmp_path_factory.mktemp("views") / "data")
    eddie = make_user("eddie", "editor", display_name="Eddie Editor")
    vera = make_user("vera", "viewer", display_name="Vera Viewer")
    dataset = make_dataset(app, eddie, CSV, name=NAME)
    sharing.share(dataset, by=eddie, user=vera, can_edit=False)
    database.close()
    server = create_server(app, host="127.0.0.1", port=0, threads=4)
    thread = threading.Thread(target=server.run, name="waitress-views", daemon=True)
    thread.start()
    try:
        yield Site(f"http://127.0.0.1:{server.effective_port}", dataset.id, app)
    finally:
        server.close()
        thread.join(timeout=5)


def _step(site: Site, kind: str, **params) -> None:
    """A cleaning step by Eddie, as the Clean page would make it."""
    from server.datasets.cleaning.steps import apply_step
    from server.db import database
    from server.models import Dataset, User

    with site.app.test_request_context():
        dataset = Dataset.get_by_id(site.dataset_id)
        eddie = User.get(User.login == "eddie")
        apply_step(dataset, kind, params, eddie, site.app.config["DATA_DIR"], dataset.version)
    database.close()


def _navigate(page, action) -> None:
    with page.expect_navigation() as navigation:
        action()
    response = navigation.value
    assert response is not None and response.status == 200, page.url


def _clean(log) -> None:
    errors = unexpected_errors(log.errors, 200)
    assert errors == [], "\n".join(errors)
    log.errors.clear()


def _headers(page) -> list[str]:
    return page.locator("table.table-data thead th[data-column] a.sort-link").all_inner_texts()


def test_save_share_open_and_outlive_a_change(site: Site, browser) -> None:
    from playwright.sync_api import expect

    table_url = f"{site.url}/datasets/{site.dataset_id}"
    axe = load_axe()

    # Eddie: filter, hide a column, save the view shared.
    context, page, log = new_page(browser, width=1366)
    page.on("dialog", lambda dialog: dialog.accept())
    try:
        assert sign_in(page, site.url, "eddie").status == 200
        page.goto(f"{table_url}?c3.eq=Dr.+Chen")
        columns = page.locator("details#columns-menu")
        columns.locator("summary").click()
        _navigate(page, lambda: columns.get_by_label("minutes", exact=True).uncheck())
        page.keyboard.press("Escape")
        views = page.locator("details#views-menu")
        expect(views.locator("summary")).to_have_text("Views")
        views.locator("summary").click()
        expect(views).to_contain_text("No saved views yet.")
        shot(page, "views-01-menu-empty")
        assert serious_violations(page, axe) == []
        views.get_by_label("Save this view as").fill("Dr. Chen's visits")
        views.get_by_label(f"Share it with everyone who may read {NAME}").check()
        _navigate(page, lambda: views.get_by_role("button", name="Save view").click())
        expect(page.locator(".flashes")).to_contain_text(
            "The view Dr. Chen's visits is saved; everyone who may read this dataset"
        )
        expect(page.locator(".chip")).to_contain_text("doctor is Dr. Chen")  # still filtered
        expect(views.locator("summary")).to_have_text("Views (1)")
        _clean(log)
    finally:
        context.close()

    # Vera: her table is as imported until she opens Eddie's view.
    context, page, log = new_page(browser, width=1366)
    page.on("dialog", lambda dialog: dialog.accept())
    try:
        assert sign_in(page, site.url, "vera").status == 200
        page.goto(table_url)
        assert "minutes" in _headers(page)
        views = page.locator("details#views-menu")
        views.locator("summary").click()
        link = views.get_by_role("link", name="Dr. Chen's visits")
        expect(views).to_contain_text("shared, by Eddie Editor")
        shot(page, "views-02-menu-shared")
        _navigate(page, link.click)
        expect(page.locator(".chip")).to_contain_text("doctor is Dr. Chen")
        expect(page.locator(".table-meta p")).to_contain_text("20 of 60 rows match")
        assert "minutes" not in _headers(page)
        shot(page, "views-03-opened")

        # The list: Vera reads it but may not rename or delete Eddie's view.
        page.goto(f"{table_url}/views")
        expect(page.locator("main h1")).to_have_text(f"Views of {NAME}")
        card = page.locator("section.saved-view")
        expect(card).to_contain_text("doctor is “Dr. Chen” · 4 of 5 columns")
        expect(card.get_by_role("button", name="Rename")).to_have_count(0)
        _clean(log)

        # A renamed column: the view still works, under the column's new name.
        _step(site, "rename", column="c3", label="physician")
        page.goto(f"{table_url}/views")
        _navigate(page, lambda: page.get_by_role("link", name="Dr. Chen's visits").click())
        expect(page.locator(".chip")).to_contain_text("physician is Dr. Chen")

        # The column dropped: the view says why, and opens what still applies.
        _step(site, "drop", column="c3")
        page.goto(f"{table_url}/views")
        _navigate(page, lambda: page.get_by_role("link", name="Dr. Chen's visits").click())
        expect(page.locator("main h1")).to_have_text("Dr. Chen's visits no longer applies as saved")
        expect(page.get_by_role("alert")).to_contain_text(
            "It keeps the rows where doctor is “Dr. Chen”, and this dataset no longer has a "
            "column doctor."
        )
        expect(page.get_by_role("button", name="Delete this view")).to_have_count(0)
        shot(page, "views-04-no-longer-applies")
        assert serious_violations(page, axe) == []
        _navigate(
            page,
            lambda: page.get_by_role("link", name="Open the table with what still applies").click(),
        )
        expect(page.locator(".table-meta p")).to_have_text("60 rows")
        _clean(log)
    finally:
        context.close()

    # The pages at two widths, light and dark, checked by axe; then Eddie renames and deletes.
    for scheme in ("light", "dark"):
        for width in (1366, 800):
            context, page, log = new_page(browser, scheme, width)
            page.on("dialog", lambda dialog: dialog.accept())
            try:
                assert sign_in(page, site.url, "eddie").status == 200
                page.goto(table_url)
                page.locator("details#views-menu > summary").click()
                page.evaluate("document.fonts.ready")
                assert_fits_width(page)
                shot(page, f"views-table-{width}-{scheme}")
                page.goto(f"{table_url}/views")
                page.evaluate("document.fonts.ready")
                assert_fits_width(page)
                shot(page, f"views-list-{width}-{scheme}")
                assert serious_violations(page, axe) == []
                page.goto(f"{site.url}/help/datasets")
                page.evaluate("document.fonts.ready")
                assert_fits_width(page)
                shot(page, f"views-help-{width}-{scheme}")
                assert serious_violations(page, axe) == []
                _clean(log)
            finally:
                context.close()

    context, page, log = new_page(browser, width=1366)
    page.on("dialog", lambda dialog: dialog.accept())
    try:
        assert sign_in(page, site.url, "eddie").status == 200
        page.goto(f"{table_url}/views")
        page.get_by_label("New name for Dr. Chen's visits").fill("Old Chen view")
        _navigate(page, lambda: page.get_by_role("button", name="Rename").click())
        expect(page.locator(".flashes")).to_contain_text(
            "The view Dr. Chen's visits is now called Old Chen view."
        )
        _navigate(page, lambda: page.get_by_role("button", name="Delete").click())
        expect(page.locator(".flashes")).to_contain_text("The view Old Chen view is deleted.")
        expect(page.locator(".empty-state")).to_contain_text("No saved views yet.")
        shot(page, "views-05-empty-list")
        assert serious_violations(page, axe) == []

        # Help from the footer; links between docs stay inside the app.
        _navigate(page, lambda: page.locator("footer").get_by_role("link", name="Help").click())
        expect(page.locator("main h1")).to_have_text("Help")
        _navigate(page, lambda: page.get_by_role("link", name="Working with datasets").click())
        expect(page.locator("main h1")).to_have_text("Working with datasets")
        assert serious_violations(page, axe) == []
        _clean(log)
    finally:
        context.close()
