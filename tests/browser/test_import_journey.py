"""The import journey in a real browser: an editor drags a CSV onto the upload form, checks and
adjusts the guessed column types, watches the progress bar, opens the result and the dataset.
A second test refuses a file with a bad value and then imports it with the value stored as
empty (its problems downloaded as CSV); a third shows the preview in a dark colour scheme.

Each step is saved as tests/artifacts/import-NN-*.png. The big file (200,000 rows) is large
enough that the progress page is usually seen before the import ends; when the import wins
the race the progress screenshot is skipped, not failed.
"""

from __future__ import annotations

import base64
import csv
import io
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import pytest

from tests.browser.helpers import ConsoleLog, new_page, shot
from tests.helpers import PASSWORD, make_app, make_user

pytestmark = pytest.mark.browser

EDITOR_LOGIN = "eddie"
EDITOR_NAME = "Eddie Editor"
BIG_ROWS = 200_000
BIG_NAME = "Orders 2024"
EXPECTED_TYPES = {
    "id": "Whole number",
    "amount": "Decimal number",
    "day": "Date",
    "active": "Yes / no",
    "code": "Text",
    "note": "Text",
}


@dataclass(frozen=True)
class Site:
    url: str
    data_dir: Path


# --- data ------------------------------------------------------------------------------------
def _row(i: int) -> list[str]:
    return [
        str(i),
        f"{i * 1.25:.2f}",  # 1.25, 2.50, 3.75, 5.00 …: trailing zeros show whether it is text
        (date(2020, 1, 1) + timedelta(days=i % 1500)).isoformat(),
        "yes" if i % 3 else "no",
        f"{(i * 123) % 100_000:05d}",  # 00123, 00246 …: leading zeros must survive
        f'Box {i % 97}, shelf {i % 11}: "fragile", handle with care',
    ]


def orders_csv(rows: int) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["id", "amount", "day", "active", "code", "note"])
    writer.writerows(_row(i) for i in range(1, rows + 1))
    return buffer.getvalue().encode("utf-8")


# --- helpers ---------------------------------------------------------------------------------
def _sign_in(page, base: str) -> None:
    from playwright.sync_api import expect

    page.goto(base + "/sign-in")
    page.get_by_label("Sign-in name").fill(EDITOR_LOGIN)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name=f"Hello, {EDITOR_NAME}")).to_be_visible()


def _open_import(page) -> None:
    from playwright.sync_api import expect

    page.get_by_role("navigation", name="Main").get_by_role(
        "link", name="Import", exact=True
    ).click()
    expect(page).to_have_url(re.compile(r"/import$"))
    expect(page.get_by_role("heading", name="Import a file")).to_be_visible()


def _drop_file(page, name: str, content: bytes) -> None:
    """Drag ``content`` onto the drop zone as a file called ``name``, the way a person would:
    dragenter, dragover and drop, carrying a DataTransfer that holds a real File."""
    transfer = page.evaluate_handle(
        """([name, data]) => {
            const binary = atob(data);
            const bytes = new Uint8Array(binary.length);
            for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
            const transfer = new DataTransfer();
            transfer.items.add(new File([bytes], name, { type: "text/csv" }));
            return transfer;
        }""",
        [name, base64.b64encode(content).decode("ascii")],
    )
    zone = page.locator("form[data-dropzone] [data-dropzone-target]")
    zone.dispatch_event("dragenter", {"dataTransfer": transfer})
    zone.dispatch_event("dragover", {"dataTransfer": transfer})
    assert "is-over" in (zone.get_attribute("class") or "")
    with page.expect_navigation(url=re.compile(r"/import/\d+/preview$")):
        zone.dispatch_event("drop", {"dataTransfer": transfer})
    transfer.dispose()


def _upload(page, name: str, content: bytes) -> None:
    """Choose the file with the file input and press the button (the non-drag way)."""
    page.get_by_label("File").set_input_files(
        {"name": name, "mimeType": "text/csv", "buffer": content}
    )
    with page.expect_navigation(url=re.compile(r"/import/\d+/preview$")):
        page.get_by_role("button", name="Read the file").click()


def _type_select(page, column: str):
    return page.get_by_label(f"Type of {column}", exact=True)


def _selected_label(select) -> str:
    return select.evaluate("s => s.options[s.selectedIndex].text")


def _click_import(page) -> None:
    with page.expect_navigation(url=re.compile(r"/import/\d+$")) as navigation:
        page.get_by_role("button", name="Import", exact=True).click()
    response = navigation.value
    assert response is not None and response.status == 200, (
        f"the import's status page answered {response and response.status}: {page.content()[:500]}"
    )


def _wait_for_result(page, timeout: float = 30_000) -> None:
    """The status page reloads itself when the import ends; wait for the finished page."""
    page.locator(".notice-success, .notice-warning, .notice-error, .notice-info").first.wait_for(
        timeout=timeout
    )
    page.wait_for_load_state("load")


def _assert_clean(log: ConsoleLog) -> None:
    assert log.errors == [], "\n".join(log.errors)


# --- the site --------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    from waitress.server import create_server

    from server.db import database

    data_dir = tmp_path_factory.mktemp("imports") / "data"
    app = make_app(data_dir)
    make_user(EDITOR_LOGIN, "editor", display_name=EDITOR_NAME)
    database.close()

    server = create_server(app, host="127.0.0.1", port=0, threads=4)
    thread = threading.Thread(target=server.run, name="waitress-imports", daemon=True)
    thread.start()
    try:
        yield Site(f"http://127.0.0.1:{server.effective_port}", data_dir)
    finally:
        server.close()
        thread.join(timeout=5)


# --- tests -----------------------------------------------------------------------------------
def test_drag_adjust_watch_and_open(site: Site, browser) -> None:
    from playwright.sync_api import expect

    content = orders_csv(BIG_ROWS)
    context, page, log = new_page(browser)
    try:
        _sign_in(page, site.url)

        # 1. The upload page, from the main navigation.
        _open_import(page)
        expect(page.locator("[data-dropzone-target]")).to_contain_text("Drop a file here")
        shot(page, "import-01-upload")

        # 2. Drag the file in: the page puts it into the file input and submits the form.
        _drop_file(page, "orders.csv", content)

        # 3. The preview: the guessed types, then adjust one and name the dataset.
        expect(page.get_by_role("heading", name="orders.csv")).to_be_visible()
        expect(page.get_by_role("heading", name="Columns and the first rows")).to_be_visible()
        for column, label in EXPECTED_TYPES.items():
            assert _selected_label(_type_select(page, column)) == label, column
        preview = page.get_by_role("region", name="Preview of the first rows")
        expect(preview.get_by_role("cell", name="00123", exact=True)).to_be_visible()
        expect(preview.locator("tbody tr").first).to_contain_text('"fragile"')
        expect(page.get_by_label("Dataset name")).to_have_value("orders")
        shot(page, "import-02-preview")

        _type_select(page, "amount").select_option(label="Text")
        page.get_by_label("Dataset name").fill(BIG_NAME)

        # 4. Import: the progress page while it runs, then the result.
        _click_import(page)
        progress = page.locator("progress#import-progress")
        progress_text = page.locator("[data-progress-text]")
        saw_progress = False
        if progress.count():
            try:
                expect(progress).to_be_visible(timeout=1_000)
                expect(progress_text).to_contain_text(
                    re.compile(r"rows? read|Starting"), timeout=1_000
                )
                expect(page.get_by_role("button", name="Cancel")).to_be_visible(timeout=1_000)
                shot(page, "import-03-progress")
                saw_progress = True
                # Once the page has polled, the bar shows how far the read has got.
                expect(progress_text).to_contain_text(re.compile(r"of \d+ MB"), timeout=3_000)
                # A poll can come before the first bytes are read; a later one moves the bar.
                above_zero = re.compile(r"^(?!0*\.?0*$)[\d.]+(e-\d+)?$")
                expect(progress).to_have_attribute("value", above_zero, timeout=5_000)
                shot(page, "import-03-progress")
            except AssertionError:
                # The import ended (and the page reloaded) between two of these steps.
                if page.locator("progress#import-progress").count():
                    raise
        print(f"progress page seen: {saw_progress}")

        _wait_for_result(page)
        success = page.locator(".notice-success")
        expect(success).to_contain_text(f"{BIG_ROWS:,} rows")
        expect(success).to_contain_text("imported into")
        dataset_link = success.get_by_role("link", name=BIG_NAME)
        expect(dataset_link).to_be_visible()
        expect(page.locator("progress")).to_have_count(0)
        columns = page.locator(".column-list")
        expect(columns.locator("li", has_text="amount").locator(".pill")).to_have_text("Text")
        expect(columns.locator("li", has_text="id").locator(".pill")).to_have_text("Whole number")
        shot(page, "import-04-result")

        # 5. The dataset: first rows, the adjusted column's type, codes unchanged.
        dataset_link.click()
        expect(page).to_have_url(re.compile(r"/datasets/\d+$"))
        expect(page.get_by_role("heading", name=BIG_NAME)).to_be_visible()
        expect(page.locator("main .page-head")).to_contain_text(f"{BIG_ROWS:,} rows")
        table = page.get_by_role("region", name=f"Rows of {BIG_NAME}")
        header = table.locator("thead th", has_text="amount")
        expect(header.locator(".type-tag")).to_have_text("Text")
        expect(table.locator("thead th", has_text="id").locator(".type-tag")).to_have_text(
            "Whole number"
        )
        rows = table.locator("tbody tr")
        expect(rows).to_have_count(50)
        first = rows.first.locator("td")
        expect(first.nth(1)).to_have_text("1")  # id
        expect(first.nth(2)).to_have_text("1.25")  # amount
        expect(first.nth(5)).to_have_text("00123")  # code
        expect(first.nth(6)).to_have_text('Box 1, shelf 1: "fragile", handle with care')
        second = rows.nth(1).locator("td")
        expect(second.nth(2)).to_have_text("2.50")  # text keeps the trailing zero
        expect(second.nth(5)).to_have_text("00246")
        expect(table.get_by_role("cell", name="00123", exact=True)).to_have_count(1)
        shot(page, "import-05-dataset")

        _assert_clean(log)
    finally:
        context.close()


def test_bad_value_refused_then_kept_as_written(site: Site, browser) -> None:
    from playwright.sync_api import expect

    content = b"n\n1\nx\n3\n"
    context, page, log = new_page(browser)
    try:
        _sign_in(page, site.url)
        page.goto(site.url + "/datasets")
        datasets_before = page.locator("main table tbody tr").count()

        # Refuse: the import fails, lists the bad value, and leaves no dataset.
        _open_import(page)
        _drop_file(page, "numbers.csv", content)
        _type_select(page, "n").select_option(label="Whole number")
        page.get_by_label("Dataset name").fill("Refused numbers")
        page.get_by_label("Refuse the import").check()
        _click_import(page)
        _wait_for_result(page)
        error = page.locator(".notice-error")
        expect(error).to_contain_text("refuse")
        expect(error).to_contain_text("nothing was changed")
        problems = page.locator("section.panel", has=page.get_by_role("heading", name="Problems"))
        problem_rows = problems.locator("tbody tr")
        expect(problem_rows).to_have_count(1)
        cells = problem_rows.first.locator("td")
        expect(cells.nth(0)).to_have_text("2")
        expect(cells.nth(1)).to_have_text("n")
        expect(cells.nth(2)).to_have_text("x")
        expect(cells.nth(3)).to_contain_text("whole number")
        shot(page, "import-06-refused")

        page.goto(site.url + "/datasets")
        expect(page.get_by_role("link", name="Refused numbers")).to_have_count(0)
        expect(page.locator("main table tbody tr")).to_have_count(datasets_before)

        # The same file, with the default: the bad value kept as written and marked, listed.
        _open_import(page)
        _drop_file(page, "numbers.csv", content)
        expect(page.locator(".notice-warning")).to_have_count(0)  # the refusal is not "done"
        _type_select(page, "n").select_option(label="Whole number")
        page.get_by_label("Dataset name").fill("Kept numbers")
        expect(page.get_by_label("Keep them as written, marked as not fitting")).to_be_checked()
        _click_import(page)
        _wait_for_result(page)
        success = page.locator(".notice-warning")
        expect(success).to_contain_text("3 rows")
        expect(success).to_contain_text("with 1 problem listed below")
        expect(success.get_by_role("link", name="Kept numbers")).to_be_visible()
        problem_rows = page.locator("section.panel", has_text="Problems").locator("tbody tr")
        expect(problem_rows).to_have_count(1)
        expect(problem_rows.first.locator("td").nth(2)).to_have_text("x")
        shot(page, "import-07-problems")

        with page.expect_download() as info:
            page.get_by_role("link", name="Download all as CSV").click()
        download = info.value
        assert download.suggested_filename == "numbers-problems.csv"
        text = Path(download.path()).read_text(encoding="utf-8-sig")
        lines = list(csv.reader(io.StringIO(text)))
        assert lines[0] == ["row", "column", "value", "problem"]
        assert len(lines) == 2 and lines[1][:3] == ["2", "n", "x"], lines

        page.goto(site.url + "/datasets")
        expect(page.get_by_role("link", name="Kept numbers")).to_be_visible()
        expect(page.get_by_role("link", name="Refused numbers")).to_have_count(0)
        page.get_by_role("link", name="Kept numbers").click()
        flagged = page.locator("td.misfit")
        expect(flagged).to_have_count(1)
        expect(flagged).to_have_text("x")  # kept exactly as the file had it, and marked
        shot(page, "import-08-kept-and-marked")

        _assert_clean(log)
    finally:
        context.close()


def test_preview_in_dark_colour_scheme(site: Site, browser) -> None:
    from playwright.sync_api import expect

    context, page, log = new_page(browser, "dark")
    try:
        _sign_in(page, site.url)
        _open_import(page)
        _upload(page, "orders-sample.csv", orders_csv(40))
        expect(page.get_by_role("heading", name="Columns and the first rows")).to_be_visible()
        for column, label in EXPECTED_TYPES.items():
            assert _selected_label(_type_select(page, column)) == label, column
        page.evaluate("document.fonts.ready")
        shot(page, "import-08-preview-dark")
        _assert_clean(log)
    finally:
        context.close()


def test_a_workbook_is_previewed_imported_and_shown(site: Site, browser, tmp_path) -> None:
    """An .xlsx through the same pages: the sheet named, dates and yes/no read as such, the
    rows streamed in the import's helper process."""
    from playwright.sync_api import expect

    from tests.importers.helpers import typical, workbook

    path = workbook(tmp_path / "visits.xlsx", [typical(i) for i in range(3000)])
    context, page, log = new_page(browser)
    try:
        _sign_in(page, site.url)
        _open_import(page)
        _upload(page, "visits.xlsx", path.read_bytes())
        expect(page.get_by_role("heading", name="visits.xlsx")).to_be_visible()
        expect(page.get_by_label("Sheet")).to_have_value("Data")
        for column, label in {
            "n": "Whole number",
            "ratio": "Decimal number",
            "day": "Date",
            "at": "Date and time",
            "ok": "Yes / no",
            "code": "Text",
        }.items():
            assert _selected_label(_type_select(page, column)) == label, column
        shot(page, "import-09-workbook-preview")
        _click_import(page)
        _wait_for_result(page)
        success = page.locator(".notice-success")
        expect(success).to_contain_text("3,000 rows")
        success.get_by_role("link", name="visits").click()
        table = page.get_by_role("region", name="Rows of visits")
        second = table.locator("tbody tr").nth(1).locator("td")
        expect(second.nth(1)).to_have_text("1")
        expect(second.nth(3)).to_have_text("2020-02-02")
        expect(second.nth(4)).to_have_text("2021-02-02 01:01:01")
        expect(second.nth(7)).to_have_text("00001")
        shot(page, "import-10-workbook-dataset")
        _assert_clean(log)
    finally:
        context.close()


def european_csv() -> bytes:
    """A clinic's appointments as a German office writes them: semicolons, cp1252, day-first
    dates, decimal commas, ja/nein, and a few odd values a person typed."""
    lines = ["Patient;Termin;Betrag;Bezahlt;Notiz"]
    for i in range(1, 301):
        day = date(2024, 1, 1) + timedelta(days=i % 200)
        fee = "unbekannt" if i % 37 == 0 else ("n/a" if i % 50 == 0 else f"{i * 12.5:,.2f}")
        fee = fee.replace(",", " ").replace(".", ",").replace(" ", ".")
        lines.append(f"Müller {i};{day:%d.%m.%Y};{fee};{'ja' if i % 3 else 'nein'};Größe {i % 7}")
    return ("\n".join(lines) + "\n").encode("cp1252")


def test_a_european_file_is_read_as_written(site: Site, browser) -> None:
    """The preview says what it read (day first, decimal comma, fit counts), the import asks
    before flagging, the result is a warning with a link to the flagged cells, which show."""
    from playwright.sync_api import expect

    context, page, log = new_page(browser)
    try:
        _sign_in(page, site.url)
        _open_import(page)
        _upload(page, "termine.csv", european_csv())
        assert _selected_label(_type_select(page, "Termin")) == "Date"
        assert _selected_label(_type_select(page, "Betrag")) == "Decimal number"
        assert _selected_label(_type_select(page, "Bezahlt")) == "Yes / no"
        expect(page.get_by_label("Decimal mark in Betrag")).to_have_value(",")
        expect(page.locator(".fit-count").nth(1)).to_contain_text(
            "286 of 294 fit; not: unbekannt; 6 read as empty"
        )
        shot(page, "import-20-european-preview")

        page.get_by_role("button", name="Import", exact=True).click()
        expect(page.locator("[data-ask-first]")).to_contain_text("kept as written and flagged")
        shot(page, "import-21-european-confirm")
        with page.expect_navigation(url=re.compile(r"/import/\d+$")):
            page.get_by_role("button", name="Import anyway").click()
        _wait_for_result(page)
        expect(page.locator(".notice-warning").first).to_contain_text("300 rows")
        expect(page.get_by_role("heading", name="Values that did not fit")).to_be_visible()
        shot(page, "import-22-european-result")

        page.get_by_role("link", name="Show them").click()
        expect(page.locator("td.misfit").first).to_contain_text("unbekannt")
        shot(page, "import-23-european-flagged")
        _assert_clean(log)
    finally:
        context.close()
