"""Editing in the browser: an editor changes a cell in the table and a row in its form, adds and
deletes rows, undoes and redoes, goes back three versions; a second person's stale edit is
refused with the message; a viewer sees no edit controls. Screenshots: editing-NN-*.png."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from server.db import database
from server.models import DatasetShare
from tests.browser.helpers import new_page, shot, sign_in, unexpected_errors
from tests.helpers import make_app, make_dataset, make_user

pytestmark = pytest.mark.browser

CSV = (
    "patient,doctor,visit,paid,amount\n"
    "Ann Berg,Dr. Chen,2024-03-01,yes,120.5\n"
    "Bo Lind,Dr. Okafor,2024-03-02,no,80\n"
    "Cai Wu,Dr. Chen,2024-03-04,yes,99.9\n"
)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int]]:
    from waitress.server import create_server

    app = make_app(tmp_path_factory.mktemp("editing") / "data")
    eddie = make_user("eddie", "editor", display_name="Eddie Editor")
    make_user("erin", "editor", display_name="Erin Editor")
    vera = make_user("vera", "viewer", display_name="Vera Viewer")
    dataset = make_dataset(app, eddie, CSV, name="Appointments")
    DatasetShare.create(dataset=dataset, role=eddie.role, can_edit=True)
    DatasetShare.create(dataset=dataset, user=vera)
    database.close()
    server = create_server(app, host="127.0.0.1", port=0, threads=4)
    thread = threading.Thread(target=server.run, name="waitress-editing", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.effective_port}", dataset.id
    finally:
        server.close()
        thread.join(timeout=5)


def cells(page, column: int) -> list[str]:
    return page.locator(f"table.table-data tbody tr td:nth-child({column + 1})").all_inner_texts()


def test_an_editor_edits_undoes_and_goes_back(site, browser):
    from playwright.sync_api import expect

    base, dataset_id = site
    table_url = f"{base}/datasets/{dataset_id}"
    context, page, log = new_page(browser)
    number = iter(range(1, 100))

    def step(name: str) -> None:
        shot(page, f"editing-{next(number):02d}-{name}")

    try:
        sign_in(page, base, "eddie")
        page.goto(table_url)
        expect(page.get_by_role("link", name="Add a row")).to_be_visible()
        # A cell, in the table: double-click, type, Enter.
        cell = page.locator("table.table-data tbody tr").nth(1).locator("td").nth(2)
        cell.dblclick()
        cell.locator("input").fill("Dr. Chen")
        cell.locator("input").press("Enter")
        expect(cell).to_have_text("Dr. Chen")
        step("cell-saved")
        # A refused value says why in place, and Escape leaves the cell as it was.
        amount = page.locator("table.table-data tbody tr").nth(0).locator("td").nth(5)
        amount.dblclick()
        amount.locator("input").fill("lots")
        amount.locator("input").press("Enter")
        expect(amount.locator(".cell-error")).to_contain_text("is not a number")
        step("cell-refused")
        amount.locator("input").press("Escape")
        expect(amount).to_have_text("120.5")
        # A whole row, in its form.
        page.get_by_role("link", name="Edit row 3").click()
        expect(page.locator("main h1")).to_have_text("Edit row 3")
        page.get_by_label("patient").fill("Cai Wu-Berg")
        page.get_by_label("amount").fill("101.25")
        step("row-form")
        page.get_by_role("button", name="Save the row").click()
        expect(page.locator(".flashes")).to_contain_text("Saved: Edited 2 cells of row 3")
        # Add a row, then delete two.
        page.get_by_role("link", name="Add a row").click()
        page.get_by_label("patient").fill("Dee Moss")
        page.get_by_label("doctor").fill("Dr. Okafor")
        page.get_by_label("visit").fill("2024-03-05")
        page.get_by_label("paid").select_option("no")
        page.get_by_label("amount").fill("45")
        page.get_by_role("button", name="Add the row").click()
        expect(page.locator(".flashes")).to_contain_text("Added a row")
        page.goto(table_url)
        assert cells(page, 1) == ["Ann Berg", "Bo Lind", "Cai Wu-Berg", "Dee Moss"]
        page.get_by_label("Choose row 1").check()
        page.get_by_label("Choose row 2").check()
        page.once("dialog", lambda dialog: dialog.accept())
        page.get_by_role("button", name="Delete chosen rows").click()
        expect(page.locator(".flashes")).to_contain_text("Deleted 2 rows")
        assert cells(page, 1) == ["Cai Wu-Berg", "Dee Moss"]
        step("rows-deleted")
        # Undo, redo, and the history.
        page.get_by_role("link", name="History").click()
        page.get_by_role("button", name="Undo the last change").click()
        expect(page.locator(".flashes")).to_contain_text("Undid: Deleted 2 rows")
        page.get_by_role("button", name="Redo").click()
        expect(page.locator(".flashes")).to_contain_text("Redid: Deleted 2 rows")
        step("history")
        # Go back three versions (to before the row was added), after the confirmation.
        page.locator("#version-3").get_by_role("link", name="Go back to this version").click()
        expect(page.locator("main h1")).to_have_text("Go back to version 3?")
        step("go-back-confirm")
        page.get_by_role("button", name="Go back to version 3").click()
        expect(page.locator(".flashes")).to_contain_text("has the rows of version 3")
        page.goto(table_url)
        assert cells(page, 1) == ["Ann Berg", "Bo Lind", "Cai Wu-Berg"]
        assert cells(page, 2) == ["Dr. Chen", "Dr. Chen", "Dr. Chen"]
        step("went-back")
        # The row's own history: who changed which cell from what to what.
        page.goto(f"{table_url}/rows/3/history")
        expect(page.locator(".cell-changes").first).to_contain_text("amount: 99.9 → 101.25")
        step("row-history")
        assert unexpected_errors(log.errors, 400) == []
    finally:
        context.close()


def test_a_stale_edit_is_refused_and_a_viewer_sees_no_edit_controls(site, browser):
    from playwright.sync_api import expect

    base, dataset_id = site
    first, page_a, log_a = new_page(browser)
    second, page_b, _log_b = new_page(browser)
    third, page_v, log_v = new_page(browser)
    try:
        sign_in(page_a, base, "eddie")
        sign_in(page_b, base, "erin")
        form = f"{base}/datasets/{dataset_id}/rows/1/edit"
        page_a.goto(form)
        page_b.goto(form)
        page_a.get_by_label("patient").fill("Ann B. Berg")
        page_a.get_by_role("button", name="Save the row").click()
        expect(page_a.locator(".flashes")).to_contain_text("Saved")
        page_b.get_by_label("patient").fill("Anne Berg")
        page_b.get_by_role("button", name="Save the row").click()
        notice = page_b.locator(".notice-error")
        expect(notice).to_contain_text("Eddie Editor changed this dataset after you opened it")
        expect(notice).to_contain_text("Nothing was changed.")
        shot(page_b, "editing-stale-refused")

        sign_in(page_v, base, "vera")
        page_v.goto(f"{base}/datasets/{dataset_id}")
        expect(page_v.locator("table[data-edit-cell]")).to_have_count(0)
        expect(page_v.get_by_role("link", name="Add a row")).to_have_count(0)
        page_v.locator("table.table-data tbody td").nth(1).dblclick()
        expect(page_v.locator("table.table-data tbody input")).to_have_count(0)
        page_v.get_by_role("link", name="History").click()
        expect(page_v.get_by_role("button", name="Undo the last change")).to_have_count(0)
        expect(page_v.get_by_role("link", name="Go back to this version")).to_have_count(0)
        shot(page_v, "editing-viewer-history")
        assert unexpected_errors(log_a.errors, 200) == []
        assert unexpected_errors(log_v.errors, 200) == []
    finally:
        for context in (first, second, third):
            context.close()
