"""Facets and summaries through their pages and the JSON API: the figures, the links a facet
makes, the empty states, clear messages for bad choices, the audited CSV export, and who may
see them (a viewer not shared the dataset gets 404 everywhere)."""

from __future__ import annotations

import csv
import html
import io
import re

import pytest

from server.datasets import sharing
from server.models import AuditEvent
from tests.helpers import make_dataset

CITIES = ["Oslo", "Lisbon", "Quito"]
CSV = "id,city,ok,day,fee\n" + "".join(
    f"{i},{CITIES[i % 3]},{'yes' if i % 2 else 'no'},2024-0{i % 3 + 1}-{i % 28 + 1:02d},{i * 10}\n"
    for i in range(1, 31)
)  # 30 rows: 10 per city; fee = 10 times id
# Columns: c1 id, c2 city, c3 ok, c4 day, c5 fee


@pytest.fixture
def shared(app, people):
    """Eddie's dataset, shared read-only with Vera."""
    dataset = make_dataset(app, people["editor"], CSV, "Visits")
    sharing.share(dataset, by=people["editor"], user=people["viewer"], can_edit=False)
    return dataset


@pytest.fixture
def private(app, people):
    return make_dataset(app, people["editor"], CSV, "Private visits")


def items(fragment: str) -> list[tuple[str, str, str]]:
    """(label, count, link) of each facet item."""
    found = re.findall(
        r'<a class="facet-item[^"]*" href="([^"]+)"[^>]*><span class="facet-label">([^<]*)</span>'
        r' <span class="facet-count">([^<]*)</span>',
        fragment,
    )
    return [(html.unescape(label), count, html.unescape(link)) for link, label, count in found]


def test_the_table_page_has_a_facets_panel_and_a_summary_button_with_the_view(
    shared, viewer_client
):
    page = viewer_client.get(f"/datasets/{shared.id}?c2.eq=Oslo&q=").get_data(as_text=True)
    slots = re.findall(r'data-facet-url="([^"]+)"', page)
    assert [html.unescape(s) for s in slots] == [
        f"/datasets/{shared.id}/facets/c{i}?c2.eq=Oslo" for i in range(1, 6)
    ]
    assert f'href="/datasets/{shared.id}/summary?c2.eq=Oslo">Summary</a>' in page
    # No script in the page: the panel is filled by sheaf.js (the CSP allows no inline script).
    assert "<script>" not in page


def test_a_facet_counts_the_views_values_and_links_to_the_narrowed_table(shared, viewer_client):
    fragment = viewer_client.get(f"/datasets/{shared.id}/facets/c2").get_data(as_text=True)
    assert "<h3" in fragment and "<html" not in fragment
    assert items(fragment) == [
        ("Lisbon", "10", f"/datasets/{shared.id}?c2.eq=Lisbon"),
        ("Oslo", "10", f"/datasets/{shared.id}?c2.eq=Oslo"),
        ("Quito", "10", f"/datasets/{shared.id}?c2.eq=Quito"),
    ]
    # With a filter, the counts follow it and the links keep it.
    narrowed = viewer_client.get(f"/datasets/{shared.id}/facets/c3?c2.eq=Oslo&sort=c1")
    assert items(narrowed.get_data(as_text=True)) == [
        ("no", "5", f"/datasets/{shared.id}?sort=c1&c2.eq=Oslo&c3.eq=no"),
        ("yes", "5", f"/datasets/{shared.id}?sort=c1&c2.eq=Oslo&c3.eq=yes"),
    ]


def test_a_chosen_value_is_marked_and_its_link_removes_the_filter(shared, viewer_client):
    fragment = viewer_client.get(f"/datasets/{shared.id}/facets/c2?c2.eq=Oslo").get_data(
        as_text=True
    )
    assert items(fragment) == [("Oslo", "10", f"/datasets/{shared.id}")]
    assert 'class="facet-item is-chosen"' in fragment and 'aria-current="true"' in fragment


def test_a_facets_link_shows_a_chip_and_exactly_the_rows_it_counted(shared, viewer_client):
    fragment = viewer_client.get(f"/datasets/{shared.id}/facets/c5").get_data(as_text=True)
    ranges = items(fragment)
    assert [(label, count) for label, count, _ in ranges] == [
        ("0 to 50", "4"),
        ("50 to 100", "5"),
        ("100 to 150", "5"),
        ("150 to 200", "5"),
        ("200 to 250", "5"),
        ("250 to 300", "5"),
        ("300 to 350", "1"),
    ]
    link = ranges[1][2]
    assert link == f"/datasets/{shared.id}?c5.min=50&c5.max=90"
    table = viewer_client.get(link).get_data(as_text=True)
    assert "5 of 30 rows match" in table
    assert re.search(r'<li class="chip"><span>fee at least <strong>50</strong>', table)
    assert re.search(r'<li class="chip"><span>fee at most <strong>90</strong>', table)


def test_dates_come_as_months_and_empty_cells_as_their_own_item(app, people, editor_client):
    dataset = make_dataset(
        app, people["editor"], "day,note\n2024-01-05,a\n2024-03-02,b\n,c\n2024-03-09,\n", "D"
    )
    fragment = editor_client.get(f"/datasets/{dataset.id}/facets/c1").get_data(as_text=True)
    assert items(fragment) == [
        ("2024-01", "1", f"/datasets/{dataset.id}?c1.min=2024-01-05&c1.max=2024-01-05"),
        ("2024-03", "2", f"/datasets/{dataset.id}?c1.min=2024-03-02&c1.max=2024-03-09"),
        ("(empty)", "1", f"/datasets/{dataset.id}?c1.empty=1"),
    ]
    assert "By month." in fragment


def test_facet_empty_states_say_something_plain(app, people, editor_client, shared):
    blank = make_dataset(app, people["editor"], "id,note\n1,\n2,\n", "Blank notes")
    fragment = editor_client.get(f"/datasets/{blank.id}/facets/c2").get_data(as_text=True)
    assert "Every row in this view is empty here (2 rows)." in fragment
    none = editor_client.get(f"/datasets/{shared.id}/facets/c2?c2.eq=Nowhere")
    assert "No rows in this view: remove a filter or change the search" in none.get_data(
        as_text=True
    )


def test_a_facet_of_a_bad_view_says_why_and_an_unknown_column_is_404(shared, viewer_client):
    bad = viewer_client.get(f"/datasets/{shared.id}/facets/c2?c5.min=lots")
    assert bad.status_code == 200
    assert "fee: “lots” is not a whole number." in html.unescape(bad.get_data(as_text=True))
    assert viewer_client.get(f"/datasets/{shared.id}/facets/c99").status_code == 404
    assert viewer_client.get(f"/datasets/{shared.id}/facets/rowid").status_code == 404


def test_the_summary_page_explains_itself_before_any_grouping(shared, viewer_client):
    page = viewer_client.get(f"/datasets/{shared.id}/summary").get_data(as_text=True)
    assert "Choose how to group the rows" in page
    assert "summary-table" not in page and "notice-error" not in page
    form = re.search(r'<form method="get" class="summary-form".*?</form>', page, re.S).group(0)
    assert "csrf_token" not in form  # a GET that changes nothing


def _table(page: str) -> list[list[str]]:
    body = re.search(r'<table class="table table-compact summary-table">(.*?)</table>', page, re.S)
    rows = re.findall(r"<tr>(.*?)</tr>", body.group(1), re.S)
    return [
        [
            html.unescape(re.sub(r"<[^>]+>", "", c)).strip()
            for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", r, re.S)
        ]
        for r in rows
    ]


def test_a_summary_by_city_with_count_sum_and_median(shared, viewer_client):
    url = f"/datasets/{shared.id}/summary?by=c2&fn1=count&fn2=sum&of2=c5&fn3=median&of3=c5"
    page = viewer_client.get(url).get_data(as_text=True)
    fees = {city: [i * 10 for i in range(1, 31) if CITIES[i % 3] == city] for city in CITIES}
    assert _table(page) == [
        ["city", "Rows", "Sum of fee", "Median of fee"],
        *[
            [
                city,
                "10",
                f"{sum(fees[city]):,}",
                f"{sorted(fees[city])[4] / 2 + sorted(fees[city])[5] / 2:g}",
            ]
            for city in sorted(CITIES)
        ],
    ]
    assert "3 groups" in page and '<svg xmlns="http://www.w3.org/2000/svg"' in page
    assert "Rows by city" in page  # the chart's title
    # Looked at again, it comes from the cache (its table and chart as rendered the first time).
    again = viewer_client.get(url).get_data(as_text=True)
    section = r'<section class="panel summary-result".*</section>'
    assert re.search(section, again, re.S).group(0) == re.search(section, page, re.S).group(0)
    pivot = viewer_client.get(url + "&then=c3&layout=pivot").get_data(as_text=True)
    assert "Pivot table" in pivot and "Pivot table" not in again


def test_a_summary_follows_the_views_filters_and_groups_dates_by_month(shared, viewer_client):
    url = f"/datasets/{shared.id}/summary?c3.eq=yes&by=c4&by_period=month&fn1=count"
    page = viewer_client.get(url).get_data(as_text=True)
    odd = [i for i in range(1, 31) if i % 2]
    expected = {f"2024-0{m}": sum(1 for i in odd if i % 3 + 1 == m) for m in (1, 2, 3)}
    assert _table(page)[1:] == [[k, str(v)] for k, v in sorted(expected.items())]
    assert "for the rows of your view" in page and "ok is <strong>yes</strong>" in page
    # The form keeps the view's filter, so a new grouping stays on the same rows.
    assert '<input type="hidden" name="c3.eq" value="yes">' in page


def test_a_two_column_summary_as_a_pivot_table(shared, viewer_client):
    url = f"/datasets/{shared.id}/summary?by=c2&then=c3&fn1=count&layout=pivot"
    rows = _table(viewer_client.get(url).get_data(as_text=True))
    assert rows == [
        ["city", "no", "yes"],
        ["Lisbon", "5", "5"],
        ["Oslo", "5", "5"],
        ["Quito", "5", "5"],
    ]


def test_a_summary_of_a_view_with_no_rows_says_so(shared, viewer_client):
    page = viewer_client.get(f"/datasets/{shared.id}/summary?c2.eq=Nowhere&by=c2&fn1=count")
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and "0 groups" in text
    assert "No rows in this view, so there is nothing to group." in text


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("by=c99&fn1=count", "“c99” is not a column of this dataset."),
        ("by=c2&fn1=average", "“average” is not something a summary computes."),
        ("by=c2&fn1=sum&of1=c2", "Sum needs a number column: city holds text."),
        ("by=c2&fn1=sum", "Choose a column."),
        (
            "by=c2&fn1=min&of1=c3",
            "Minimum needs a number, date or text column: ok holds yes or no.",
        ),
        ("by=c2&by_period=month&fn1=count", "city holds no dates"),
        ("by=c4&by_period=fortnight&fn1=count", "“fortnight” is not a period"),
        ("by=c2&then=c2&fn1=count", "Choose a different column from the first."),
        ("by=c2&fn1=count&c5.min=lots", "fee: “lots” is not a whole number."),
    ],
)
def test_bad_summary_choices_get_a_clear_message_not_a_500(shared, viewer_client, query, message):
    response = viewer_client.get(f"/datasets/{shared.id}/summary?{query}")
    assert response.status_code == 400
    assert message in html.unescape(response.get_data(as_text=True))
    api = viewer_client.get(f"/api/v1/datasets/{shared.id}/summary?{query}")
    assert api.status_code == 400 and message in api.get_json()["error"]


def test_the_summary_csv_is_the_table_and_its_export_is_audited(shared, editor_client):
    url = f"/datasets/{shared.id}/summary.csv?c3.eq=no&by=c2&fn1=count&fn2=mean&of2=c5"
    response = editor_client.get(url)
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "Visits summary.csv" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    evens = {c: [i * 10 for i in range(2, 31, 2) if CITIES[i % 3] == c] for c in CITIES}
    assert rows == [
        ["city", "Rows", "Mean of fee"],
        *[[c, str(len(evens[c])), repr(sum(evens[c]) / len(evens[c]))] for c in sorted(CITIES)],
    ]
    event = AuditEvent.get(AuditEvent.action == "dataset.summary_exported")
    details = event.details_dict
    assert event.object_id == str(shared.id) or event.object_id == shared.id
    assert details["view"] == {"c3.eq": "no"} and details["rows"] == 3
    assert details["summary"]["by"] == "c2"


def test_exporting_a_summary_needs_the_export_permission(shared, viewer_client):
    response = viewer_client.get(f"/datasets/{shared.id}/summary.csv?by=c2&fn1=count")
    assert response.status_code == 403
    page = viewer_client.get(f"/datasets/{shared.id}/summary?by=c2&fn1=count")
    assert "Export as CSV" not in page.get_data(as_text=True)
    assert not AuditEvent.select().where(AuditEvent.action == "dataset.summary_exported").exists()


def test_the_api_gives_facets_and_summaries_as_json(shared, viewer_client):
    facet = viewer_client.get(f"/api/v1/datasets/{shared.id}/facets/c3?c2.eq=Oslo").get_json()
    assert facet["kind"] == "values" and facet["empty"] == 0
    assert [(i["label"], i["count"], i["filters"]) for i in facet["items"]] == [
        ("no", 5, {"c3.eq": "no"}),
        ("yes", 5, {"c3.eq": "yes"}),
    ]
    found = viewer_client.get(
        f"/api/v1/datasets/{shared.id}/summary?by=c2&fn1=max&of1=c5&c3.eq=yes"
    ).get_json()
    assert found["headers"] == ["city", "Maximum of fee"]
    assert found["rows"] == [["Lisbon", 250], ["Oslo", 270], ["Quito", 290]]
    missing = viewer_client.get(f"/api/v1/datasets/{shared.id}/summary")
    assert missing.status_code == 400 and "group by" in missing.get_json()["error"]
    assert viewer_client.get(f"/api/v1/datasets/{shared.id}/facets/c99").status_code == 404


def test_a_viewer_not_shared_the_dataset_sees_none_of_it(private, viewer_client):
    for url in (
        f"/datasets/{private.id}/facets/c2",
        f"/datasets/{private.id}/summary",
        f"/datasets/{private.id}/summary?by=c2&fn1=count",
        f"/api/v1/datasets/{private.id}/facets/c2",
        f"/api/v1/datasets/{private.id}/summary?by=c2&fn1=count",
    ):
        response = viewer_client.get(url)
        assert response.status_code == 404, url
        assert "Oslo" not in response.get_data(as_text=True)
