"""Column profiles match the data; charts are accessible SVG with their numbers alongside."""

from __future__ import annotations

import statistics
import xml.etree.ElementTree as ET

import pytest

from server.datasets.catalog import columns_of, dataset_file
from server.datasets.reading.profile import ProfileCache, profile_column
from server.sqlite_files import connect
from tests.helpers import make_dataset

AMOUNTS = [3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5]
CITIES = ["Oslo", "Lima", "Oslo", ""]
BODY = (
    "amount,day,city,ok\n"
    + "".join(
        f"{a},2024-0{i % 3 + 1}-1{i % 9},{CITIES[i % 4]},{'yes' if a > 3 else 'no'}\n"
        for i, a in enumerate(AMOUNTS)
    )
    + ",,,\n"
)


@pytest.fixture
def dataset(app, people):
    return make_dataset(app, people["editor"], BODY, name="Numbers")


def profiles_of(app, dataset):
    con = connect(dataset_file(app.config["DATA_DIR"], dataset.storage_key))
    try:
        return {p.column.label: p for p in (profile_column(con, c) for c in columns_of(dataset))}
    finally:
        con.close()


def test_numeric_profile_matches_python(app, dataset):
    amount = profiles_of(app, dataset)["amount"]
    assert (amount.count, amount.empty, amount.distinct) == (12, 1, 7)
    assert (amount.minimum, amount.maximum) == (1, 9)
    assert amount.mean == pytest.approx(statistics.mean(AMOUNTS))
    assert amount.stddev == pytest.approx(statistics.stdev(AMOUNTS))
    ordered = sorted(AMOUNTS)
    assert amount.quartiles == [ordered[2], ordered[5], ordered[8]]
    assert sum(n for _, _, n in amount.histogram) == len(AMOUNTS)
    assert amount.histogram[0][0] == 1 and amount.histogram[-1][1] == pytest.approx(9)


def test_text_date_and_boolean_profiles(app, dataset):
    found = profiles_of(app, dataset)
    city = found["city"]
    assert city.top == [("Oslo", 6), ("Lima", 3)] and city.empty == 3
    day = found["day"]
    assert day.minimum == "2024-01-10" and day.maximum == "2024-03-18"
    assert sum(n for _, _, n in day.histogram) == 11
    assert found["ok"].top == [(1, 6), (0, 5)]


def test_profiles_are_cached_until_the_data_changes(app, dataset):
    cache = ProfileCache()
    con = connect(dataset_file(app.config["DATA_DIR"], dataset.storage_key))
    columns = columns_of(dataset)
    first, cached = cache.get(con, "v1", columns)
    assert not cached
    again, cached = cache.get(con, "v1", columns)
    assert cached and again is first
    assert cache.get(con, "v2", columns)[1] is False
    con.close()


def test_profile_page(editor_client, dataset):
    page = editor_client.get(f"/datasets/{dataset.id}/profile").get_data(as_text=True)
    assert "Profile of Numbers" in page and "Oslo" in page and "Median" in page
    assert 'role="img"' in page


def svg_of(client, dataset_id, query):
    response = client.get(f"/datasets/{dataset_id}/chart.svg?{query}")
    assert response.status_code == 200 and response.mimetype == "image/svg+xml"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    return ET.fromstring(response.get_data(as_text=True))  # noqa: S314 - our own SVG


NS = "{http://www.w3.org/2000/svg}"


def test_bar_chart_of_top_values(editor_client, dataset):
    root = svg_of(editor_client, dataset.id, "kind=bar&column=c3")
    assert root.get("role") == "img" and root.find(f"{NS}title").text.startswith("Most common")
    bars = [r for r in root.iter(f"{NS}rect") if r.get("class") == "chart-bar"]
    assert [b.find(f"{NS}title").text for b in bars] == ["Oslo: 6", "Lima: 3"]
    assert "the highest is Oslo with 6" in root.find(f"{NS}desc").text


def test_line_chart_sums_per_month(editor_client, dataset):
    page = editor_client.get(
        f"/datasets/{dataset.id}/chart?kind=line&date=c2&agg=sum&value=c1&period=month"
    ).get_data(as_text=True)
    assert "Sum of amount per month" in page and "<polyline" in page
    monthly = {m: sum(a for i, a in enumerate(AMOUNTS) if i % 3 + 1 == m) for m in (1, 2, 3)}
    for month, total in monthly.items():
        assert f"<td>2024-0{month}</td><td>{total:,}</td>" in page


def test_histogram_and_refusals(editor_client, dataset):
    root = svg_of(editor_client, dataset.id, "kind=histogram&column=c1")
    assert len([r for r in root.iter(f"{NS}rect") if r.get("class") == "chart-bar"]) == 20
    page = editor_client.get(f"/datasets/{dataset.id}/chart?kind=histogram&column=c3").get_data(
        as_text=True
    )
    assert "holds text" in page
    page = editor_client.get(f"/datasets/{dataset.id}/chart?kind=line&date=c2&agg=mean").get_data(
        as_text=True
    )
    assert "need a number column" in page
    assert editor_client.get(f"/datasets/{dataset.id}/chart.svg?kind=bar").status_code == 400


def test_labels_are_escaped_in_the_svg(app, editor_client, people):
    evil = make_dataset(app, people["editor"], 'x\n"<script>alert(1)</script>"\n', name="<b>")
    body = editor_client.get(f"/datasets/{evil.id}/chart.svg?kind=bar&column=c1").get_data(
        as_text=True
    )
    assert "<script>" not in body and "&lt;script&gt;" in body
