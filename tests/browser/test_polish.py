"""Polish journeys (#19), in Chromium at 1366 and 800 px wide: the first sign-in with a
temporary password, the import form's "existing dataset" choice shown only when it applies,
a 13-column preview that scrolls in its box (also at 1920 px), and recipes: saved, found on the
Recipes page, renamed and run on another dataset. Every page is checked not to scroll
sideways."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from typing import NamedTuple

import pytest

from tests.browser.helpers import assert_fits_width, new_page, shot, sign_in, submit
from tests.helpers import make_app, make_dataset, make_user

WIDTHS = (1366, 800)
APPOINTMENT_COLUMNS = [
    "Appointment reference number", "Patient surname", "Patient first name", "Date of birth",
    "Appointment date", "Time", "Doctor", "Department", "Status", "Amount charged", "Paid",
    "Insurance provider", "Notes from the front desk",
]  # fmt: skip


class Site(NamedTuple):
    base: str


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    from waitress.server import create_server

    from server.db import database

    app = make_app(tmp_path_factory.mktemp("polish") / "data")
    eddie = make_user("eddie", "editor", display_name="Eddie Editor")
    make_dataset(app, eddie, "id,name\n1,Ada\n", name="Patients")
    for width in WIDTHS:
        make_dataset(app, eddie, "id,name\n1,  Ada  \n2, Grace\n", name=f"January {width}")
        make_dataset(app, eddie, "Name,ID\n  Hedy ,7\n", name=f"March {width}")
        make_user(f"cook{width}", "editor", display_name="Cook")
    for width in WIDTHS:
        make_user(f"temp{width}", "viewer", display_name="Tess Temp", must_change_password=True)
    database.close()
    server = create_server(app, host="127.0.0.1", port=0, threads=4)
    thread = threading.Thread(target=server.run, name="waitress-polish", daemon=True)
    thread.start()
    try:
        yield Site(f"http://127.0.0.1:{server.effective_port}")
    finally:
        server.close()
        thread.join(timeout=5)


@pytest.mark.parametrize("width", WIDTHS)
def test_first_sign_in_asks_only_for_the_new_password(site: Site, browser, width: int) -> None:
    from playwright.sync_api import expect

    context, page, log = new_page(browser, width=width)
    try:
        sign_in(page, site.base, f"temp{width}")
        expect(page).to_have_url(re.compile(r"/account/password$"))
        expect(page.get_by_label("Current password")).to_have_count(0)
        expect(page.get_by_label("New password", exact=True)).to_be_focused()
        assert_fits_width(page)
        shot(page, f"polish-first-password-{width}")
        page.get_by_label("New password", exact=True).fill("a phrase of my own")
        page.get_by_label("New password again").fill("a phrase of my own")
        response = submit(page, "Change password")
        assert response is not None and response.status == 200
        expect(page.get_by_text("Your password is changed.")).to_be_visible()
        expect(page.get_by_role("heading", name="Hello, Tess Temp")).to_be_visible()
        assert log.errors == [], "\n".join(log.errors)
    finally:
        context.close()


@pytest.mark.parametrize("width", WIDTHS)
def test_existing_dataset_appears_only_for_adding_or_replacing(
    site: Site, browser, width: int
) -> None:
    from playwright.sync_api import expect

    context, page, log = new_page(browser, width=width)
    try:
        sign_in(page, site.base, "eddie")
        page.goto(site.base + "/import")
        page.get_by_label("File").set_input_files(
            {"name": "more.csv", "mimeType": "text/csv", "buffer": b"id,name\n2,Grace\n"}
        )
        with page.expect_navigation(url=re.compile(r"/import/\d+/preview$")):
            page.get_by_role("button", name="Read the file").click()
        target = page.get_by_label("Existing dataset", exact=True)
        expect(target).to_be_hidden()
        assert_fits_width(page)
        shot(page, f"polish-import-new-{width}")
        page.get_by_label("Rows added to an existing dataset").check()
        expect(target).to_be_visible()
        assert "Patients" in target.evaluate("s => Array.from(s.options, o => o.text)")
        shot(page, f"polish-import-append-{width}")
        page.get_by_label("A replacement for an existing dataset's rows").check()
        expect(target).to_be_visible()
        page.get_by_label("A new dataset").check()
        expect(target).to_be_hidden()
        assert log.errors == [], "\n".join(log.errors)
    finally:
        context.close()


def _appointments_csv(rows: int = 30) -> bytes:
    lines = [",".join(APPOINTMENT_COLUMNS)]
    note = "called twice, left a message with the daughter " * 2
    for i in range(rows):
        lines.append(
            f"A{i:05d},Müller,Jürgen,03/04/1970,12.03.2024,10:30,Dr. Chen,Cardiology,booked,"
            f'"1.234,50",ja,AOK,"{note}"'
        )
    return ("\n".join(lines) + "\n").encode("utf-8")


@pytest.mark.parametrize("width", (*WIDTHS, 1920))
def test_a_wide_preview_scrolls_in_its_box_not_the_page(site: Site, browser, width: int) -> None:
    context, page, log = new_page(browser, width=width)
    try:
        sign_in(page, site.base, "eddie")
        page.goto(site.base + "/import")
        page.get_by_label("File").set_input_files(
            {"name": "appointments.csv", "mimeType": "text/csv", "buffer": _appointments_csv()}
        )
        with page.expect_navigation(url=re.compile(r"/import/\d+/preview$")):
            page.get_by_role("button", name="Read the file").click()
        box = page.locator(".table-scroll").first
        inner, outer = box.evaluate("b => [b.scrollWidth, b.clientWidth]")
        assert inner > outer, "the 13 columns should need the box's own scrollbar"
        assert_fits_width(page)
        shot(page, f"polish-wide-preview-{width}")
        assert log.errors == [], "\n".join(log.errors)
    finally:
        context.close()


@pytest.mark.parametrize("width", WIDTHS)
def test_a_recipe_is_saved_found_renamed_and_run(site: Site, browser, width: int) -> None:
    from playwright.sync_api import expect

    context, page, log = new_page(browser, width=width)
    try:
        sign_in(page, site.base, f"cook{width}")  # a new editor: no recipes yet
        page.get_by_role("navigation", name="Main").get_by_role("link", name="Recipes").click()
        expect(page.locator("main h1")).to_have_text("Your recipes")
        expect(page.get_by_text("No recipes yet.")).to_be_visible()
        assert_fits_width(page)
        shot(page, f"polish-recipes-empty-{width}")
        context.clear_cookies()

        sign_in(page, site.base, "eddie")
        page.goto(site.base + "/datasets")
        page.get_by_role("link", name=f"January {width}").click()
        page.get_by_role("link", name="Clean", exact=True).click()
        page.get_by_text("Trim spaces", exact=True).first.click()
        page.get_by_label("Column").first.select_option(label="name (text)")
        page.get_by_role("button", name="Trim spaces").click()
        expect(page.locator(".notice-success")).to_contain_text("spaces trimmed in name")
        page.get_by_label("Save these steps as a recipe").fill(f"Tidy names {width}")
        page.get_by_role("button", name="Save recipe").click()
        expect(page.locator(".notice-success")).to_contain_text(
            f"Saved the recipe Tidy names {width}"
        )

        page.get_by_role("navigation", name="Main").get_by_role("link", name="Recipes").click()
        card = page.locator("section.recipe", has_text=f"Tidy names {width}")
        expect(card.locator(".recipe-steps li")).to_have_text(["Trim spaces in name"])
        card.get_by_label(f"New name for Tidy names {width}").fill(f"Trim names {width}")
        card.get_by_role("button", name="Rename").click()
        expect(page.locator(".notice-success")).to_contain_text(f"now called Trim names {width}")
        assert_fits_width(page)
        shot(page, f"polish-recipes-{width}")

        page.goto(site.base + "/datasets")
        page.get_by_role("link", name=f"March {width}").click()
        page.locator(".page-head .actions").get_by_role("link", name="Recipes").click()
        card = page.locator("section.recipe", has_text=f"Trim names {width}")
        page.once("dialog", lambda dialog: dialog.accept())
        card.get_by_role("button", name=f"Run on March {width} now").click()
        expect(page.locator(".notice-success")).to_contain_text("Undo takes the whole recipe back")
        cells = page.locator("table.table-data tbody td").all_inner_texts()
        assert "Hedy" in [c.strip() for c in cells] and "  Hedy " not in cells
        assert (
            page.locator("table.table-data tbody td", has_text="Hedy").first.inner_text() == "Hedy"
        )
        shot(page, f"polish-recipe-ran-{width}")
        assert log.errors == [], "\n".join(log.errors)
    finally:
        context.close()
