"""Row rules in the browser: the owner says "each doctor sees the rows where doctor is their
user name" on the Sharing page's Row rules; two doctors sign in in turn with Switch user and each
sees only their own appointments, counts, chart and export. Screenshots: rules-*.png (light
and dark, 1366 and 800 px); axe on the rules page."""

from __future__ import annotations

import csv
import io
import re
import threading
from collections.abc import Iterator

import pytest

from server.db import database
from server.models import DatasetShare
from tests.browser.helpers import (
    assert_fits_width,
    load_axe,
    new_page,
    serious_violations,
    shot,
    sign_in,
    unexpected_errors,
)
from tests.helpers import PASSWORD, make_dataset, make_role, make_user

pytestmark = pytest.mark.browser

CSV = (
    "date,doctor,patient,minutes\n"
    "2024-03-01,dana,Alma Quist,30\n"
    "2024-03-01,omar,Bruno Zell,45\n"
    "2024-03-02,dana,Carla Vint,15\n"
    "2024-03-02,omar,Dario Yupp,60\n"
    "2024-03-03,nils,Elsa Wrenn,20\n"
    "2024-03-04,dana,Fabio Xant,25\n"
)
PATIENTS = {
    "dana": {"Alma Quist", "Carla Vint", "Fabio Xant"},
    "omar": {"Bruno Zell", "Dario Yupp"},
}
EVERYONE = {"Alma Quist", "Bruno Zell", "Carla Vint", "Dario Yupp", "Elsa Wrenn", "Fabio Xant"}


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int]]:
    from waitress.server import create_server

    from tests.helpers import make_app

    app = make_app(tmp_path_factory.mktemp("rules") / "data")
    eddie = make_user("eddie", "editor", display_name="Eddie Editor")
    doctor = make_role("Doctor", ["datasets.export"])
    make_user("dana", doctor, display_name="Dana Doe")
    make_user("omar", doctor, display_name="Omar Oak")
    dataset = make_dataset(app, eddie, CSV, name="Appointments")
    DatasetShare.create(dataset=dataset, role=doctor)
    database.close()
    server = create_server(app, host="127.0.0.1", port=0, threads=4)
    thread = threading.Thread(target=server.run, name="waitress-rules", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.effective_port}", dataset.id
    finally:
        server.close()
        thread.join(timeout=5)


def patients_on(page) -> set[str]:
    return set(page.locator("table.table-data tbody td").all_inner_texts()) & EVERYONE


def switch_to(page, login: str) -> None:
    from playwright.sync_api import expect

    page.get_by_role("button", name="Switch user").click()
    expect(page).to_have_url(re.compile(r"/sign-in"))
    page.get_by_label("Sign-in name").fill(login)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("button", name="Switch user")).to_be_visible()


def test_each_doctor_sees_only_their_appointments(site, browser):
    from playwright.sync_api import expect

    base, dataset_id = site
    table_url = f"{base}/datasets/{dataset_id}"
    context, page, log = new_page(browser, width=1366)
    try:
        sign_in(page, base, "eddie")
        page.goto(f"{table_url}/sharing")
        page.get_by_role("link", name="Row rules").click()
        expect(page.get_by_role("heading", name="Row rules of Appointments")).to_be_visible()
        expect(page.get_by_text("always see every row")).to_be_visible()
        page.get_by_label("Who").select_option(label="Everyone with the Doctor role")
        page.get_by_label("Column").select_option(label="doctor")
        page.get_by_label("equals their own user name").check()
        page.get_by_role("button", name="Add the rule").click()
        expect(page.get_by_text("Rule added")).to_be_visible()
        expect(page.get_by_text("would see 3 of 6 rows")).to_be_visible()  # Dana
        expect(page.get_by_text("would see 2 of 6 rows")).to_be_visible()  # Omar
        page.goto(table_url)
        assert patients_on(page) == EVERYONE  # the owner: every row

        for login, mine in PATIENTS.items():
            switch_to(page, login)
            page.goto(table_url)
            assert patients_on(page) == mine, login
            expect(page.get_by_text(f"{len(mine)} rows", exact=True)).to_be_visible()
            shot(page, f"rules-{login}-table")
            page.goto(f"{table_url}?q=Elsa")
            assert patients_on(page) == set()
            page.goto(f"{table_url}/chart?kind=bar&column=c2")
            chart = page.locator("svg").first.inner_html()
            assert login in chart and not {"dana", "omar", "nils"} - {login} & set(
                re.findall(r">(\w+)<", chart)
            )
            answer = page.request.get(f"{table_url}/export?format=csv")
            exported = list(csv.reader(io.StringIO(answer.text())))
            assert {row[2] for row in exported[1:]} == mine, login
        assert unexpected_errors(log.errors, 200) == []
    finally:
        context.close()


def test_the_rules_page_looks_right_and_is_accessible(site, browser):
    base, dataset_id = site
    axe = load_axe()
    for scheme in ("light", "dark"):
        for width in (1366, 800):
            context, page, log = new_page(browser, scheme, width)
            try:
                sign_in(page, base, "eddie")
                page.goto(f"{base}/datasets/{dataset_id}/sharing/rules")
                assert_fits_width(page)
                shot(page, f"rules-page-{scheme}-{width}")
                if scheme == "light" and width == 1366:
                    assert serious_violations(page, axe) == []
                    # A rule with no value: the reason, on the page, nothing added.
                    page.get_by_label("Who").select_option(label="Dana Doe (dana)")
                    page.get_by_label("Column").select_option(label="patient")
                    page.get_by_label("equals", exact=True).check()
                    page.get_by_role("button", name="Add the rule").click()
                    assert "Type the value the column must hold." in page.content()
                    shot(page, "rules-page-refused")
                    assert serious_violations(page, axe) == []
                assert unexpected_errors(log.errors, 400) == []
            finally:
                context.close()
