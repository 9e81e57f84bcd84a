"""Profiles and charts follow the table's view (filters and search) and say so; bars split by a
second column, lines with a marker on every point, scatter plots; bad chart input is a
sentence, never a 500; a large dataset's first profile runs in the background."""

from __future__ import annotations

import threading
import time
import xml.etree.ElementTree as ET
from collections import Counter

import pytest

from server.datasets.catalog import columns_of
from server.datasets.reading import charts, profile_jobs
from server.datasets.reading.browse import View
from server.datasets.reading.profile import ProfileCache, profile_column, profile_view
from server.datasets.reading.scope import EVERY, Scope, describe
from server.datasets.web.access import rows_of
from tests.helpers import make_dataset

DOCTORS = ["Dr. Chen", "Dr. Diaz", "Dr. Chen", "Dr. Okafor"]
STATUSES = ["done", "missed", "done", "booked", "done"]
ROWS = [
    {
        "doctor": DOCTORS[i % 4],
        "status": STATUSES[i % 5],
        "minutes": 10 + (i * 7) % 40,
        "fee": round(20 + (i * 3.5) % 60, 2),
        "day": f"2024-{i % 3 + 1:02d}-{i % 27 + 1:02d}",
    }
    for i in range(60)
]
BODY = "doctor,status,minutes,fee,day\n" + "".join(
    f"{r['doctor']},{r['status']},{r['minutes']},{r['fee']},{r['day']}\n" for r in ROWS
)
CHEN = [r for r in ROWS if r["doctor"] == "Dr. Chen"]
NS = "{http://www.w3.org/2000/svg}"


@pytest.fixture
def dataset(app, people):
    return make_dataset(app, people["editor"], BODY, name="Appointments")


def names(dataset):
    return {c.label: c for c in columns_of(dataset)}


def page(client, url, status=200):
    response = client.get(url)
    assert response.status_code == status, response.get_data(as_text=True)[-2000:]
    return response.get_data(as_text=True)


def svg_root(client, url):
    response = client.get(url)
    assert response.status_code == 200 and response.mimetype == "image/svg+xml"
    return ET.fromstring(response.get_data(as_text=True))  # noqa: S314 - our own SVG


def titles(root, cls):
    return [e.find(f"{NS}title").text for e in root.iter() if e.get("class") == cls]


# --- the view as rows, and in words ----------------------------------------------------------


def test_scope_and_words_of_a_view(app, dataset):
    columns = columns_of(dataset)
    view = View.from_args({"c1.eq": "Dr. Chen", "c3.min": "20", "q": "done", "sort": "c3"}, columns)
    assert (
        describe(view, columns) == "doctor = Dr. Chen and minutes at least 20 and matching “done”"
    )
    assert describe(View(), columns) == ""
    sorted_other_way = View.from_args({"c1.eq": "Dr. Chen", "c3.min": "20", "q": "done"}, columns)
    assert Scope.of(view, columns, True) == Scope.of(sorted_other_way, columns, True)
    assert Scope.of(View(), columns, True) == EVERY


def test_profile_of_a_filtered_view_counts_only_its_rows(app, dataset):
    columns = names(dataset)
    every = columns_of(dataset)
    scope = Scope.of(View.from_args({"c1.eq": "Dr. Chen"}, every), every, False)
    with app.app_context(), rows_of(dataset) as con:
        status = profile_column(con, columns["status"], scope)
        minutes = profile_column(con, columns["minutes"], scope)
    assert status.count == len(CHEN)
    assert status.top == sorted(
        Counter(r["status"] for r in CHEN).items(), key=lambda kv: (-kv[1], kv[0])
    )
    chen_minutes = sorted(r["minutes"] for r in CHEN)
    assert (minutes.minimum, minutes.maximum) == (chen_minutes[0], chen_minutes[-1])
    assert minutes.mean == pytest.approx(sum(chen_minutes) / len(chen_minutes))
    assert sum(n for _, _, n in minutes.histogram) == len(CHEN)


def test_profile_page_says_which_rows_and_links_back(editor_client, dataset):
    body = page(editor_client, f"/datasets/{dataset.id}/profile?c1.eq=Dr.+Chen&sort=c3")
    assert f"Profile of {len(CHEN)} rows where <strong>doctor = Dr. Chen</strong>" in body
    assert f'href="/datasets/{dataset.id}?sort=c3&amp;c1.eq=Dr.+Chen"' in body  # back, same view
    assert f'href="/datasets/{dataset.id}/profile">Profile of the whole dataset' in body
    chen_done = sum(r["status"] == "done" for r in CHEN)
    assert f">done</a></td><td>{chen_done}</td>" in body
    # The chart links of each column keep the view.
    assert "kind=bar&amp;column=c2&amp;sort=c3&amp;c1.eq=Dr.+Chen" in body
    whole = page(editor_client, f"/datasets/{dataset.id}/profile")
    assert "Profile of all 60 rows" in whole
    assert f">done</a></td><td>{sum(r['status'] == 'done' for r in ROWS)}</td>" in whole


def test_profile_follows_a_search(editor_client, dataset):
    body = page(editor_client, f"/datasets/{dataset.id}/profile?q=missed")
    missed = sum(r["status"] == "missed" for r in ROWS)
    assert f"Profile of {missed} rows where <strong>matching “missed”</strong>" in body
    assert f">missed</a></td><td>{missed}</td>" in body and ">done</a></td>" not in body


def test_a_view_that_cannot_apply_says_why(editor_client, dataset):
    body = page(editor_client, f"/datasets/{dataset.id}/profile?c3.min=lots")
    assert "“lots” is not a whole number" in body and "The whole dataset is shown instead" in body
    assert "Profile of all 60 rows" in body


def test_profiles_are_cached_per_view(app, dataset):
    cache = ProfileCache()
    columns = columns_of(dataset)
    chen = Scope.of(View.from_args({"c1.eq": "Dr. Chen"}, columns), columns, False)
    diaz = Scope.of(View.from_args({"c1.eq": "Dr. Diaz"}, columns), columns, False)
    with app.app_context(), rows_of(dataset) as con:
        first, cached = cache.get(con, "v1", columns, chen)
        assert not cached and first[0].count == len(CHEN)
        assert cache.get(con, "v1", columns, chen) == (first, True)
        other, cached = cache.get(con, "v1", columns, diaz)
        assert not cached and other[0].count == sum(r["doctor"] == "Dr. Diaz" for r in ROWS)
        assert cache.get(con, "v2", columns, chen)[1] is False  # the data changed


def test_table_buttons_carry_the_view(editor_client, dataset):
    body = page(editor_client, f"/datasets/{dataset.id}?c1.eq=Dr.+Chen&q=done")
    assert f'href="/datasets/{dataset.id}/profile?q=done&amp;c1.eq=Dr.+Chen">Profile' in body
    assert f'href="/datasets/{dataset.id}/chart?q=done&amp;c1.eq=Dr.+Chen">Charts' in body


def test_an_empty_view_says_so(editor_client, dataset):
    body = page(editor_client, f"/datasets/{dataset.id}/profile?c1.eq=Dr.+Nobody")
    assert "No rows in this view, so there is nothing to profile" in body
    assert "profile-card" not in body
    body = page(editor_client, f"/datasets/{dataset.id}/chart?c1.eq=Dr.+Nobody&kind=bar&column=c2")
    assert "No rows in this view, so there is nothing to chart" in body and "<svg" not in body


# --- charts ----------------------------------------------------------------------------------


def test_bar_chart_of_a_filtered_view(editor_client, dataset):
    root = svg_root(
        editor_client, f"/datasets/{dataset.id}/chart.svg?kind=bar&column=c2&c1.eq=Dr.+Chen"
    )
    counts = Counter(r["status"] for r in CHEN)
    expected = [f"{v}: {n}" for v, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]
    assert titles(root, "chart-bar") == expected
    body = page(editor_client, f"/datasets/{dataset.id}/chart?kind=bar&column=c2&c1.eq=Dr.+Chen")
    assert f"Chart of {len(CHEN)} rows where <strong>doctor = Dr. Chen</strong>" in body
    # The download keeps the view and the chart.
    assert "chart.svg?c1.eq=Dr.+Chen&amp;kind=bar&amp;column=c2" in body
    # The form carries the view along to the next chart.
    assert '<input type="hidden" name="c1.eq" value="Dr. Chen">' in body


@pytest.mark.parametrize("stack", ["grouped", "stacked"])
def test_bars_split_by_a_second_column(app, editor_client, dataset, stack):
    url = f"/datasets/{dataset.id}/chart.svg?kind=bar&column=c1&by=c2&stack={stack}"
    root = svg_root(editor_client, url)
    pairs = Counter((r["doctor"], r["status"]) for r in ROWS)
    expected = {f"{d}, {s}: {n}" for (d, s), n in pairs.items()}
    assert set(titles(root, "chart-series")) == expected
    legend = [t.text for t in root.iter(f"{NS}text") if t.text in ("done", "missed", "booked")]
    assert sorted(legend) == ["booked", "done", "missed"]
    rects = [r for r in root.iter(f"{NS}rect") if r.get("class") == "chart-series"]
    chen = [r for r in rects if r.find(f"{NS}title").text.startswith("Dr. Chen,")]
    xs = {r.get("x") for r in chen}
    # Stacked parts share one x; side by side each has its own.
    assert len(xs) == (1 if stack == "stacked" else len(chen))
    with app.app_context(), rows_of(dataset) as con:
        columns = names(dataset)
        chart = charts.split_bar_chart(
            con, columns["doctor"], columns["status"], stacked=stack == "stacked"
        )
    assert chart.values == [
        float(n) for n in sorted(Counter(r["doctor"] for r in ROWS).values(), reverse=True)
    ]
    heads, _ = chart.table()
    assert heads[0] == "doctor" and heads[-1] == "Total"


def test_split_bars_put_the_rest_in_other(app, people):
    body = "kind,colour\n" + "".join(f"a,c{i % 9}\n" for i in range(90)) + "a,\n"
    dataset = make_dataset(app, people["editor"], body, name="Many")
    columns = names(dataset)
    with app.app_context(), rows_of(dataset) as con:
        chart = charts.split_bar_chart(con, columns["kind"], columns["colour"])
    assert [name for name, _ in chart.series][-1] == charts.OTHER
    assert len(chart.series) == len(charts.PALETTE) + 1
    assert chart.series[-1][1] == [float(3 * 10 + 1)]  # three colours of ten, and one empty
    assert chart.values == [91.0]


def test_a_single_period_draws_its_point(editor_client, dataset):
    url = f"/datasets/{dataset.id}/chart.svg?kind=line&date=c5&period=year&agg=count"
    root = svg_root(editor_client, url)
    assert titles(root, "chart-point") == ["2024: 60"]
    assert not [e for e in root.iter(f"{NS}polyline")]  # one point: no line, but a marker
    assert "1 point;" in root.find(f"{NS}desc").text
    root = svg_root(editor_client, url.replace("year", "month") + "&c1.eq=Dr.+Chen")
    months = Counter(r["day"][:7] for r in CHEN)
    assert titles(root, "chart-point") == [f"{m}: {n}" for m, n in sorted(months.items())]
    assert len(list(root.iter(f"{NS}polyline"))) == 1


def test_scatter_of_two_number_columns(app, editor_client, dataset):
    root = svg_root(
        editor_client, f"/datasets/{dataset.id}/chart.svg?kind=scatter&x=c3&y=c4&c1.eq=Dr.+Chen"
    )
    assert len(titles(root, "chart-point")) == len(CHEN)
    assert root.find(f"{NS}title").text == "fee against minutes"
    columns = names(dataset)
    with app.app_context(), rows_of(dataset) as con:
        chart = charts.scatter_chart(con, columns["minutes"], columns["fee"])
        sample = charts.scatter_chart(con, columns["minutes"], columns["fee"], limit=7)
    assert chart.points == [(float(r["minutes"]), float(r["fee"])) for r in ROWS]
    assert sample.points == [(float(r["minutes"]), float(r["fee"])) for r in ROWS[::9]]
    assert sample.note == "7 of 60 rows are drawn (every 9th, in row order)."


def test_scatter_of_huge_and_equal_numbers_draws(app, people):
    body = "a,b,c\n1e300,5,7\n-1e300,5,7\n1.5e308,5,7\n-1.5e308,5,7\n"
    dataset = make_dataset(app, people["editor"], body, name="Huge")
    columns = names(dataset)
    with app.app_context(), rows_of(dataset) as con:
        chart = charts.scatter_chart(con, columns["a"], columns["b"])
        same = charts.scatter_chart(con, columns["b"], columns["c"])
    root = ET.fromstring(charts.svg(chart))  # noqa: S314 - our own SVG
    assert len(titles(root, "chart-point")) == 4
    root = ET.fromstring(charts.svg(same))  # noqa: S314 - our own SVG
    assert titles(root, "chart-point") == ["5, 7"] * 4


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("kind=pie", "Choose a kind of chart"),
        ("kind=bar", "Choose the column whose values to count."),
        ("kind=bar&column=c99", "That column is not in this dataset"),
        ("kind=bar&column=c1&by=c1", "Split the bars by another column"),
        ("kind=bar&column=c1&by=c2&stack=sideways", "Choose bars side by side or stacked."),
        ("kind=histogram&column=c1", "doctor holds text"),
        ("kind=line", "Choose a date column."),
        ("kind=line&date=c1", "doctor is not a date column."),
        ("kind=line&date=c5&agg=sum", "Sum and mean need a number column"),
        ("kind=line&date=c5&agg=median", "Choose count, sum or mean"),
        ("kind=scatter&x=c3", "Choose a number column for up (Y)."),
        ("kind=scatter&x=c1&y=c3", "doctor is not a number column"),
        ("kind=scatter&x=c3&y=c3", "Choose two different number columns."),
    ],
)
def test_bad_chart_input_is_a_sentence(editor_client, dataset, query, message):
    body = page(editor_client, f"/datasets/{dataset.id}/chart?{query}", status=400)
    assert message in body and "<svg" not in body
    assert editor_client.get(f"/datasets/{dataset.id}/chart.svg?{query}").status_code == 400


def test_fields_of_other_charts_are_ignored(editor_client, dataset):
    # Left over from other kinds: a bad date column, a scatter's text column, a sum's value.
    url = f"/datasets/{dataset.id}/chart?kind=bar&column=c2&date=c1&x=c1&agg=sum&value=c1&stack=x"
    body = page(editor_client, url)
    assert "Most common values of status" in body
    download = 'chart.svg?kind=bar&amp;column=c2"'
    assert download in body  # only the fields the chart uses
    body = page(editor_client, f"/datasets/{dataset.id}/chart?kind=line&date=c5&agg=count&value=c1")
    assert "Rows per month" in body


def test_palette_is_okabe_ito(editor_client, dataset):
    root = svg_root(editor_client, f"/datasets/{dataset.id}/chart.svg?kind=bar&column=c1&by=c2")
    fills = {r.get("fill") for r in root.iter(f"{NS}rect") if r.get("class") == "chart-series"}
    assert fills <= {*charts.PALETTE, charts.OTHER_COLOUR} and len(fills) == 3


def test_a_viewer_not_shared_the_dataset_gets_404(viewer_client, dataset):
    for path in ("profile", "profile/status", "chart", "chart.svg"):
        for query in ("", "?c1.eq=Dr.+Chen&kind=bar&column=c1"):
            assert viewer_client.get(f"/datasets/{dataset.id}/{path}{query}").status_code == 404


# --- a large dataset's first profile, in the background --------------------------------------


def wait_for(client, url, seconds=20):
    deadline = time.monotonic() + seconds
    seen = []
    while time.monotonic() < deadline:
        answer = client.get(url).get_json()
        seen.append(answer)
        if answer["status"] in ("done", "failed"):
            return answer, seen
        time.sleep(0.05)
    raise AssertionError(f"still {seen[-1]}")


def test_a_large_first_profile_runs_in_the_background(app, editor_client, dataset):
    # "Large" for this test: the dataset (60 rows) is, though the view (30 rows) is not; a
    # filtered profile scans every row all the same.
    app.config["PROFILE_BACKGROUND_ROWS"] = 50
    body = page(editor_client, f"/datasets/{dataset.id}/profile?c1.eq=Dr.+Chen")
    assert f'data-profile-progress="/datasets/{dataset.id}/profile/status?c1.eq=Dr.+Chen"' in body
    assert "Working out the profile" in body and "profile-card" not in body
    answer, _ = wait_for(editor_client, f"/datasets/{dataset.id}/profile/status?c1.eq=Dr.+Chen")
    assert answer == {
        "status": "done",
        "done": 5,
        "total": 5,
        "percent": 100,
        "column": "",
        "error": None,
        "rows": len(CHEN),
    }
    body = page(editor_client, f"/datasets/{dataset.id}/profile?c1.eq=Dr.+Chen")
    assert "profile-card" in body and "kept from the first look" in body
    # What the background worked out is what the request would have.
    from server.datasets.web import profile_pages

    columns = columns_of(dataset)
    scope = Scope.of(View.from_args({"c1.eq": "Dr. Chen"}, columns), columns, False)
    version = f"{dataset.storage_key}:{dataset.updated_at}"
    with app.app_context(), rows_of(dataset) as con:
        assert profile_pages.profiles.peek(version, columns, scope) == profile_view(
            con, columns, scope
        )


def test_background_progress_goes_column_by_column(app, dataset, monkeypatch):
    release, reached = threading.Event(), threading.Event()
    real = profile_jobs.profile_view

    def slow(con, columns, scope, progress):
        def step(done, column):
            progress(done, column)
            if done == 2:
                reached.set()
                release.wait(10)

        return real(con, columns, scope, step)

    monkeypatch.setattr(profile_jobs, "profile_view", slow)
    runner = profile_jobs.ProfileRunner(ProfileCache())
    columns = columns_of(dataset)
    with app.app_context():
        from server.datasets.web.access import open_rows

        key = ProfileCache.key("v", columns)
        job = runner.start(key, columns, EVERY, lambda: open_rows(dataset))
        assert runner.start(key, columns, EVERY, lambda: pytest.fail("joins")) is job
    assert reached.wait(10)
    assert job.status() == {
        "status": "running",
        "done": 2,
        "total": 5,
        "percent": 40,
        "column": "minutes",
        "error": None,
    }
    release.set()
    assert job.finished.wait(10) and job.status()["status"] == "done"
    with app.app_context(), rows_of(dataset) as con:
        assert runner.cache.peek("v", columns) == profile_view(con, columns)
    assert runner.job(key) is None  # the cache answers from now on


def test_a_failed_background_profile_says_so(app, dataset, monkeypatch):
    def broken(con, columns, scope, progress):
        raise OSError("disk gone")

    monkeypatch.setattr(profile_jobs, "profile_view", broken)
    runner = profile_jobs.ProfileRunner(ProfileCache())
    with app.app_context():
        from server.datasets.web.access import open_rows

        job = runner.start(("k",), columns_of(dataset), EVERY, lambda: open_rows(dataset))
    assert job.finished.wait(10)
    assert job.status()["status"] == "failed" and "could not be worked out" in job.status()["error"]


def test_a_search_waiting_for_its_index_is_left_out_meanwhile(editor_client, dataset, monkeypatch):
    from server.datasets.reading import browse

    def building(con, view):
        if view.search:
            raise browse.IndexBuilding(40)

    monkeypatch.setattr(browse, "require_search_index", building)
    body = page(editor_client, f"/datasets/{dataset.id}/profile?q=missed&c1.eq=Dr.+Chen")
    assert "The search index is being built (40%)" in body and "the filters apply" in body
    assert f"Profile of {len(CHEN)} rows where <strong>doctor = Dr. Chen</strong>" in body
    body = page(editor_client, f"/datasets/{dataset.id}/chart?q=missed&kind=bar&column=c2")
    assert "The search index is being built (40%)" in body and "Chart of all 60 rows" in body


def test_most_common_values_open_their_rows_in_the_table(editor_client, dataset):
    body = page(editor_client, f"/datasets/{dataset.id}/profile?c1.eq=Dr.+Chen")
    link = f'href="/datasets/{dataset.id}?c1.eq=Dr.+Chen&amp;c2.eq=done"'
    assert link in body
    table = page(editor_client, f"/datasets/{dataset.id}?c1.eq=Dr.+Chen&c2.eq=done")
    chen_done = sum(r["status"] == "done" for r in CHEN)
    assert f"{chen_done} of 60 rows match" in table
    minutes = CHEN[0]["minutes"]
    assert f'href="/datasets/{dataset.id}?c1.eq=Dr.+Chen&amp;c3.eq={minutes}"' in body


def test_a_long_legend_fits_the_chart(app, people):
    body = "kind,colour\n" + "".join(
        f"a,{'a very long name of a colour number ' + str(i % 9)}\n" for i in range(90)
    )
    dataset = make_dataset(app, people["editor"], body, name="Long names")
    columns = names(dataset)
    with app.app_context(), rows_of(dataset) as con:
        root = ET.fromstring(  # noqa: S314 - our own SVG
            charts.svg(charts.split_bar_chart(con, columns["kind"], columns["colour"]))
        )
    legend = next(g for g in root.iter(f"{NS}g") if g.get("class") == "chart-legend")
    texts = legend.findall(f"{NS}text")
    assert len(texts) == 7 and texts[0].find(f"{NS}title").text.endswith("number 0")
    last = float(texts[-1].get("x")) + 7 * len(texts[-1].text)
    assert last <= charts.WIDTH
