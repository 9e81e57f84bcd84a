"""Profiles and charts follow the table's view, in a real browser.

Vera (viewer) is shared "Appointments" (260 rows, 8 columns). She filters the table to Dr.
Chen's 65 rows and opens Profile: the first profile runs in the background here (the threshold
is lowered for the test), the page shows its progress and fills in by itself, and it says it is
a profile of 65 rows where doctor = Dr. Chen. Back to the table in that view, then Charts: the
form shows only the fields of the chosen chart; she draws bars split by a second column
(stacked), a line over a single year (its point is drawn) and a scatter, each of Dr. Chen's rows
only. axe-core finds no serious or critical problem; no console errors; no page scrolls
sideways.

Screenshots: tests/artifacts/profile-chart-<step>.png, and profile-<width>-<scheme>.png and
chart-<width>-<scheme>.png at 1366 and 800 px wide in light and dark.
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
DOCTORS = ["Dr. Chen", "Dr. Okafor", "Dr. Silva", "Dr. Novak"]
STATUSES = ["booked", "seen", "cancelled"]
HEADERS = ["id", "patient", "doctor", "status", "day", "attended", "fee", "minutes"]
CHEN_ROWS = sum(1 for i in range(1, 261) if DOCTORS[i % 4] == "Dr. Chen")  # 65


def _csv() -> str:
    lines = [",".join(HEADERS)]
    for i in range(1, 261):
        lines.append(
            f"{i},Patient {i:03d},{DOCTORS[i % 4]},{STATUSES[i % 3]},"
            f"2024-{i % 12 + 1:02d}-{i % 28 + 1:02d},{'yes' if i % 5 < 3 else 'no'},"
            f"{40 + i % 7 * 12.5:.2f},{15 + i % 4 * 15}"
        )
    return "\n".join(lines) + "\n"


FIELDS = ("column", "by", "stack", "date", "agg", "value", "period", "x", "y")


@dataclass(frozen=True)
class Site:
    url: str
    dataset_id: int


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    from waitress.server import create_server

    from server.datasets import sharing
    from server.db import database

    app = make_app(tmp_path_factory.mktemp("profile-chart") / "data")
    app.config["PROFILE_BACKGROUND_ROWS"] = 50  # so that this journey sees it in the background
    eddie = make_user("eddie", "editor", display_name="Eddie Editor")
    vera = make_user("vera", "viewer", display_name="Vera Viewer")
    dataset = make_dataset(app, eddie, _csv(), name=NAME)
    sharing.share(dataset, by=eddie, user=vera, can_edit=False)
    database.close()
    server = create_server(app, host="127.0.0.1", port=0, threads=4)
    thread = threading.Thread(target=server.run, name="waitress-charts", daemon=True)
    thread.start()
    try:
        yield Site(f"http://127.0.0.1:{server.effective_port}", dataset.id)
    finally:
        server.close()
        thread.join(timeout=5)


def _clean(log) -> None:
    errors = unexpected_errors(log.errors, 200)
    assert errors == [], "\n".join(errors)
    log.errors.clear()


def _shown_fields(page) -> set[str]:
    return {
        name
        for name in FIELDS
        if page.locator(f".chart-form #{name}").is_visible()
        and page.locator(f".chart-form #{name}").is_enabled()
    }


def _draw(page) -> None:
    with page.expect_navigation():
        page.get_by_role("button", name="Draw", exact=True).click()


def test_profile_and_charts_follow_the_view(site: Site, browser, monkeypatch) -> None:
    from playwright.sync_api import expect

    from server.datasets.reading import profile_jobs

    # The background profile pauses after two columns until the progress has been seen.
    release = threading.Event()
    real = profile_jobs.profile_view

    def paused(con, columns, scope, progress):
        def step(done, column):
            progress(done, column)
            if done == 2:
                release.wait(20)

        return real(con, columns, scope, step)

    monkeypatch.setattr(profile_jobs, "profile_view", paused)

    table = f"{site.url}/datasets/{site.dataset_id}"
    said = f"of {CHEN_ROWS} rows where doctor = Dr. Chen"
    axe = load_axe()
    context, page, log = new_page(browser, width=1366)
    context.set_default_timeout(15_000)
    try:
        assert sign_in(page, site.url, "vera").status == 200
        page.goto(f"{table}?c3.eq=Dr.+Chen")
        expect(page.locator(".chip")).to_have_count(1)

        # Profile: follows the view, worked out in the background, then shown.
        with page.expect_navigation():
            page.get_by_role("link", name="Profile", exact=True).click()
        assert "c3.eq=Dr.+Chen" in page.url
        progress = page.locator("[data-profile-progress]")
        expect(progress.locator("[data-progress-text]")).to_have_text(
            f"2 of {len(HEADERS)} columns done (now: doctor)"
        )
        assert progress.locator("progress").evaluate("p => p.value") == 25
        expect(page.locator(".view-scope")).to_contain_text(f"Profile {said}")
        shot(page, "profile-chart-00-working")
        assert serious_violations(page, axe) == []
        release.set()
        expect(page.locator(".profile-card")).to_have_count(len(HEADERS))  # filled in by itself
        expect(page.locator(".view-scope")).to_contain_text(f"Profile {said}")
        doctor = page.locator(".profile-card", has=page.locator("h2", has_text="doctor"))
        expect(doctor.locator("tbody tr")).to_have_count(1)
        expect(doctor.locator("tbody tr")).to_have_text(f"Dr. Chen{CHEN_ROWS}")
        status = page.locator(".profile-card", has=page.locator("h2", has_text="status"))
        chen_status = {
            s: sum(1 for i in range(1, 261) if i % 4 == 0 and STATUSES[i % 3] == s)
            for s in STATUSES
        }
        for value, n in chen_status.items():
            expect(status.locator("tbody tr", has_text=value)).to_contain_text(str(n))
        shot(page, "profile-chart-01-profile")
        assert serious_violations(page, axe) == []
        assert_fits_width(page)

        # Back to the table in the same view, then Charts.
        with page.expect_navigation():
            page.get_by_role("link", name="Back to the table in this view").click()
        expect(page.locator(".chip")).to_have_count(1)
        with page.expect_navigation():
            page.get_by_role("link", name="Charts", exact=True).click()
        expect(page.locator(".view-scope")).to_contain_text(f"Chart {said}")

        # The form shows only what the chosen chart uses.
        kind = page.locator("#kind")
        kind.select_option("bar")
        assert _shown_fields(page) == {"column", "by"}
        page.locator("#by").select_option("c6")
        assert _shown_fields(page) == {"column", "by", "stack"}
        kind.select_option("histogram")
        assert _shown_fields(page) == {"column"}
        kind.select_option("line")
        assert _shown_fields(page) == {"date", "agg", "period"}
        page.locator("#agg").select_option("sum")
        assert _shown_fields(page) == {"date", "agg", "value", "period"}
        kind.select_option("scatter")
        assert _shown_fields(page) == {"x", "y"}
        shot(page, "profile-chart-02-form")

        # Bars of status, split by attended, stacked: Dr. Chen's rows only.
        kind.select_option("bar")
        page.locator("#column").select_option("c4")
        page.locator("#by").select_option("c6")
        page.locator("#stack").select_option("stacked")
        _draw(page)
        assert "c3.eq=Dr.+Chen" in page.url and "stack=stacked" in page.url
        assert "date=" not in page.url and "x=" not in page.url  # hidden fields are not sent
        parts = page.locator("svg.chart rect.chart-series title").all_text_contents()
        assert sum(int(t.rsplit(": ", 1)[1]) for t in parts) == CHEN_ROWS
        expect(page.locator(".chart-legend text")).to_have_count(2)
        shot(page, "profile-chart-03-bars")
        assert serious_violations(page, axe) == []

        # A line over one year draws its point.
        kind.select_option("line")
        page.locator("#date").select_option("c5")
        page.locator("#agg").select_option("count")
        page.locator("#period").select_option("year")
        _draw(page)
        expect(page.locator("svg.chart circle.chart-point")).to_have_count(1)
        point = page.locator("svg.chart circle.chart-point title")
        assert point.text_content() == f"2024: {CHEN_ROWS}"
        shot(page, "profile-chart-04-line")

        # A scatter of fee against id.
        kind.select_option("scatter")
        page.locator("#x").select_option("c1")
        page.locator("#y").select_option("c7")
        _draw(page)
        expect(page.locator("svg.chart circle.chart-point")).to_have_count(CHEN_ROWS)
        chart_url = page.url

        for scheme in ("light", "dark"):
            page.emulate_media(color_scheme=scheme)
            for width in (1366, 800):
                page.set_viewport_size({"width": width, "height": 800})
                page.goto(chart_url)
                expect(page.locator("svg.chart")).to_be_visible()
                assert_fits_width(page)
                shot(page, f"chart-{width}-{scheme}")
                page.goto(f"{site.url}/datasets/{site.dataset_id}/profile?c3.eq=Dr.+Chen")
                expect(page.locator(".profile-card")).to_have_count(len(HEADERS))
                assert_fits_width(page)
                shot(page, f"profile-{width}-{scheme}")
            page.set_viewport_size({"width": 1366, "height": 800})
            page.goto(chart_url)
            assert serious_violations(page, axe) == []

        # A view with no rows says so.
        page.goto(f"{site.url}/datasets/{site.dataset_id}/profile?c3.eq=Dr.+Nobody")
        expect(page.locator("p.empty")).to_contain_text("No rows in this view")
        assert serious_violations(page, axe) == []
        _clean(log)
    finally:
        context.close()
