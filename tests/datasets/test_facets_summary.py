"""Facets and summaries computed in SQL match the data: values asserted on a small table, and
summaries compared with a plain-Python reference on tables Hypothesis makes up."""

from __future__ import annotations

import sqlite3
import statistics
from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from server.datasets.reading import facets, summary
from server.datasets.reading.browse import BadView, Filter, View
from server.datasets.storage import Column

COLUMNS = [
    Column("c1", "city", "text"),
    Column("c2", "amount", "integer"),
    Column("c3", "price", "real"),
    Column("c4", "day", "date"),
    Column("c5", "paid", "boolean"),
]
BY_LABEL = {c.label: c for c in COLUMNS}
ROWS = [
    ("Oslo", 3, 1.5, "2024-01-03", 1),
    ("Lima", 1, 2.25, "2024-01-09", 0),
    ("Oslo", 4, None, "2024-02-10", 1),
    ("Oslo", 1, 7.0, "2024-02-11", None),
    ("Porto", 5, 9.5, "2024-03-30", 0),
    ("Lima", 9, 3.0, None, 1),
    (None, "n/a", 4.0, "2024-03-01", 1),  # "n/a": kept as written, not a whole number
]


def table(rows: list[tuple], columns: list[Column] = COLUMNS) -> sqlite3.Connection:
    con = sqlite3.connect(":memory:")
    con.execute(f"CREATE TABLE rows ({', '.join(c.name for c in columns)})")
    con.executemany(f"INSERT INTO rows VALUES ({', '.join('?' * len(columns))})", rows)
    return con


def test_a_text_facet_counts_the_views_values_most_common_first():
    found = facets.facet(table(ROWS), COLUMNS, BY_LABEL["city"], View(), True)
    assert found.kind == "values" and not found.more
    assert [(i.label, i.count) for i in found.items] == [("Oslo", 3), ("Lima", 2), ("Porto", 1)]
    assert found.items[0].filters == {"c1.eq": "Oslo"}
    assert found.empty == 1


def test_a_facet_follows_the_views_filters():
    view = View(filters=(Filter("c5", "eq", "yes"),))
    found = facets.facet(table(ROWS), COLUMNS, BY_LABEL["city"], view, True)
    assert [(i.label, i.count) for i in found.items] == [("Oslo", 2), ("Lima", 1)]
    assert found.empty == 1


def test_a_yes_no_facet_says_yes_and_no_and_filters_by_them():
    found = facets.facet(table(ROWS), COLUMNS, BY_LABEL["paid"], View(), True)
    assert [(i.label, i.count, i.filters) for i in found.items] == [
        ("yes", 4, {"c5.eq": "yes"}),
        ("no", 2, {"c5.eq": "no"}),
    ]
    assert found.empty == 1


def test_a_top_values_facet_says_when_there_are_more():
    rows = [(f"v{i:02d}", i, 1.0, "2024-01-01", 1) for i in range(15) for _ in range(i + 1)]
    found = facets.facet(table(rows), COLUMNS, BY_LABEL["city"], View(), True)
    assert found.more and len(found.items) == facets.TOP
    assert found.items[0].label == "v14" and found.items[0].count == 15


def test_number_ranges_have_round_edges_and_filter_exactly_what_they_count():
    con = table(ROWS)
    found = facets.facet(con, COLUMNS, BY_LABEL["amount"], View(), True)
    assert found.kind == "ranges"
    # 1 to 9 in whole-number steps of 1: one range per value present; "n/a" left out.
    assert [(i.label, i.count) for i in found.items] == [
        ("1", 2),
        ("3", 1),
        ("4", 1),
        ("5", 1),
        ("9", 1),
    ]
    price = facets.facet(con, COLUMNS, BY_LABEL["price"], View(), True)
    assert [(i.label, i.count) for i in price.items] == [
        ("1 to 2", 1),
        ("2 to 3", 1),
        ("3 to 4", 1),
        ("4 to 5", 1),
        ("7 to 8", 1),
        ("9 to 10", 1),
    ]
    assert price.empty == 1
    # Each range's filters narrow the view to exactly the rows it counted.
    for item in price.items:
        view = View.from_args(item.filters, COLUMNS)
        from server.datasets.reading.browse import where

        clause, params = where(view, COLUMNS, True)
        assert con.execute(f"SELECT count(*) FROM rows WHERE {clause}", params).fetchone()[0] == (
            item.count
        )


def test_date_ranges_are_calendar_periods():
    found = facets.facet(table(ROWS), COLUMNS, BY_LABEL["day"], View(), True)
    assert found.period == "month"
    assert [(i.label, i.count, i.filters) for i in found.items] == [
        ("2024-01", 2, {"c4.min": "2024-01-03", "c4.max": "2024-01-09"}),
        ("2024-02", 2, {"c4.min": "2024-02-10", "c4.max": "2024-02-11"}),
        ("2024-03", 2, {"c4.min": "2024-03-01", "c4.max": "2024-03-30"}),
    ]
    narrow = View(filters=(Filter("c4", "max", "2024-01-20"),))
    days = facets.facet(table(ROWS), COLUMNS, BY_LABEL["day"], narrow, True)
    assert days.period == "day" and [i.label for i in days.items] == ["2024-01-03", "2024-01-09"]


def test_a_column_with_no_values_and_a_view_with_no_rows_give_blank_facets():
    con = table([(None, None, None, None, None), (None, None, None, None, None)])
    for column in COLUMNS:
        found = facets.facet(con, COLUMNS, column, View(), True)
        assert found.blank and found.empty == 2
    none = View(filters=(Filter("c1", "eq", "Nowhere"),))
    found = facets.facet(table(ROWS), COLUMNS, BY_LABEL["amount"], none, True)
    assert found.blank and found.empty == 0


def test_the_facet_cache_keeps_a_facet_until_the_version_changes():
    cache, con = facets.FacetCache(), table(ROWS)
    first, cached = cache.get(con, "v1", COLUMNS, BY_LABEL["city"], View(), True)
    assert not cached
    con.execute("DELETE FROM rows")
    again, cached = cache.get(con, "v1", COLUMNS, BY_LABEL["city"], View(), True)
    assert cached and again is first
    fresh, cached = cache.get(con, "v2", COLUMNS, BY_LABEL["city"], View(), True)
    assert not cached and fresh.blank


def g(label: str, period: str = "") -> summary.Grouping:
    return summary.Grouping(BY_LABEL[label], period)


def m(function: str, label: str | None = None) -> summary.Measure:
    return summary.Measure(function, BY_LABEL[label] if label else None)


def test_a_summary_by_one_column_with_every_function():
    measures = [m("count"), m("sum", "amount"), m("median", "price")]
    found = summary.summarize(table(ROWS), COLUMNS, View(), True, [g("city")], measures)
    assert found.headers == ["city", "Rows", "Sum of amount", "Median of price"]
    assert found.rows == [
        (None, 1, None, 4.0),
        ("Lima", 2, 10, 2.625),
        ("Oslo", 3, 8, 4.25),
        ("Porto", 1, 5, 9.5),
    ]
    more = [m("distinct", "day"), m("min", "day"), m("max", "price")]
    found = summary.summarize(table(ROWS), COLUMNS, View(), True, [g("city")], more)
    assert found.rows[2] == ("Oslo", 3, "2024-01-03", 7.0)
    means = summary.summarize(
        table(ROWS), COLUMNS, View(), True, [g("city")], [m("mean", "amount")]
    )
    assert means.rows[2] == ("Oslo", pytest.approx(8 / 3))


def test_a_summary_by_two_columns_with_a_date_period_and_a_filter():
    view = View(filters=(Filter("c1", "in", "Oslo|Lima"),))
    found = summary.summarize(
        table(ROWS), COLUMNS, view, True, [g("day", "quarter"), g("city")], [m("count")]
    )
    assert found.rows == [(None, "Lima", 1), ("2024-Q1", "Lima", 1), ("2024-Q1", "Oslo", 3)]
    table_of = summary.pivot(found)
    assert table_of.row_keys == [None, "2024-Q1"] and table_of.column_keys == ["Lima", "Oslo"]
    assert table_of.cells[("2024-Q1", "Oslo")] == 3 and (None, "Oslo") not in table_of.cells


@pytest.mark.parametrize(
    ("groupings", "measures", "message"),
    [
        ([], [m("count")], "Choose a column to group by."),
        ([g("city"), g("city")], [m("count")], "two different columns"),
        ([g("city", "month")], [m("count")], "city holds no dates"),
        ([g("day", "fortnight")], [m("count")], "is not a period"),
        ([g("city")], [], "Choose what to compute"),
        ([g("city")], [m("sum", "city")], "Sum of city: that needs a number column."),
        ([g("city")], [m("average", "amount")], "is not something a summary computes"),
        ([g("city")], [summary.Measure("median")], "choose the column"),
    ],
)
def test_a_summary_that_cannot_be_made_says_why(groupings, measures, message):
    with pytest.raises(summary.SummaryError, match=message):
        summary.summarize(table(ROWS), COLUMNS, View(), True, groupings, measures)


def test_a_summary_of_a_bad_view_is_a_bad_view():
    view = View(filters=(Filter("c2", "min", "lots"),))
    with pytest.raises(BadView, match="not a whole number"):
        summary.summarize(table(ROWS), COLUMNS, view, True, [g("city")], [m("count")])


def test_the_summary_cache_keeps_a_summary_until_the_version_changes():
    cache, con = summary.SummaryCache(), table(ROWS)
    first, cached = cache.get(con, "v1", COLUMNS, View(), True, [g("city")], [m("count")])
    assert not cached and len(first.rows) == 4
    con.execute("DELETE FROM rows")
    _, cached = cache.get(con, "v1", COLUMNS, View(), True, [g("city")], [m("count")])
    assert cached
    fresh, cached = cache.get(con, "v2", COLUMNS, View(), True, [g("city")], [m("count")])
    assert not cached and fresh.rows == []


# --- Property test: the SQL summary against a plain-Python one ------------------------------

DAY0 = date(2023, 12, 20)


def period_key(text, period: str):
    if not period:
        return text
    day = date.fromisoformat(text[:10])
    return {
        "day": text[:10],
        "week": (day - timedelta(days=day.weekday())).isoformat(),
        "month": text[:7],
        "quarter": f"{text[:4]}-Q{(day.month + 2) // 3}",
        "year": text[:4],
    }[period]


def reference(rows, groupings, measures, keep) -> dict[tuple, list]:
    """The summary in plain Python: group, then compute each measure over a group's rows."""
    index = {c.name: i for i, c in enumerate(COLUMNS)}
    groups: dict[tuple, list] = {}
    for row in rows:
        if not keep(row):
            continue
        key = []
        for grouping in groupings:
            value = row[index[grouping.column.name]]
            key.append(None if value is None else period_key(value, grouping.period))
        groups.setdefault(tuple(key), []).append(row)
    out = {}
    for key, members in groups.items():
        figures = []
        for measure in measures:
            if measure.function == "count":
                figures.append(len(members))
                continue
            raw = [r[index[measure.column.name]] for r in members]
            if measure.function == "distinct":
                figures.append(len({v for v in raw if v is not None}))
                continue
            numbers = measure.column.type in ("integer", "real")
            values = [
                v for v in raw if v is not None and (not numbers or isinstance(v, int | float))
            ]
            if not values:
                figures.append(
                    0.0 if measure.function == "sum" and measure.column.type == "real" else None
                )
                continue
            figures.append(
                {
                    "sum": sum,
                    "mean": statistics.mean,
                    "median": statistics.median,
                    "min": min,
                    "max": max,
                }[measure.function](values)
            )
        out[key] = figures
    return out


row_strategy = st.tuples(
    st.sampled_from(["Oslo", "Lima", "Porto", None]),
    st.one_of(st.none(), st.integers(-1000, 1000), st.just("n/a")),
    st.one_of(st.none(), st.integers(-500, 500).map(lambda n: n / 4)),
    st.one_of(st.none(), st.integers(0, 150).map(lambda n: (DAY0 + timedelta(n)).isoformat())),
    st.sampled_from([0, 1, None]),
)
grouping_strategy = st.one_of(
    st.sampled_from(["city", "paid", "amount"]).map(lambda label: g(label)),
    st.sampled_from(["", *summary.PERIODS]).map(lambda period: g("day", period)),
)
measure_strategy = st.one_of(
    st.just(m("count")),
    st.tuples(
        st.sampled_from(["sum", "mean", "median", "min", "max", "distinct"]),
        st.sampled_from(["amount", "price"]),
    ).map(lambda pair: m(*pair)),
    st.sampled_from(["min", "max", "distinct"]).map(lambda f: m(f, "day")),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rows=st.lists(row_strategy, max_size=60),
    groupings=st.lists(grouping_strategy, min_size=1, max_size=2, unique_by=lambda x: x.column),
    measures=st.lists(measure_strategy, min_size=1, max_size=3),
    low=st.one_of(st.none(), st.integers(-1000, 1000)),
)
def test_summaries_match_a_plain_python_reference(rows, groupings, measures, low):
    view = View(filters=(Filter("c2", "min", str(low)),)) if low is not None else View()

    def keep(row) -> bool:
        return low is None or (isinstance(row[1], int) and row[1] >= low)

    found = summary.summarize(table(rows), COLUMNS, view, True, groupings, measures)
    expected = reference(rows, groupings, measures, keep)
    width = len(groupings)
    got = {tuple(r[:width]): list(r[width:]) for r in found.rows}
    assert set(got) == set(expected)
    for key, figures in expected.items():
        assert got[key] == [pytest.approx(f) if isinstance(f, float) else f for f in figures], key
    # Groups come in SQLite's order of the keys.
    assert len(found.rows) == len(expected) and not found.truncated


# --- Property test: facets against plain Python ---------------------------------------------


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=st.lists(row_strategy, max_size=60), label=st.sampled_from(list(BY_LABEL)))
def test_facets_count_what_plain_python_counts(rows, label):
    from collections import Counter

    from server.datasets.reading.browse import where

    con = table(rows)
    column = BY_LABEL[label]
    index = COLUMNS.index(column)
    found = facets.facet(con, COLUMNS, column, View(), True)
    values = [r[index] for r in rows]
    assert found.empty == values.count(None)
    present = [v for v in values if v is not None]
    if found.kind == "values":
        counts = Counter(present)
        assert [i.count for i in found.items] == sorted(counts.values(), reverse=True)[: facets.TOP]
        assert all(counts[i.value] == i.count for i in found.items)
        assert found.more == (len(counts) > facets.TOP)
    else:
        fitting = [v for v in present if not isinstance(v, str) or column.type == "date"]
        assert sum(i.count for i in found.items) == len(fitting)
    for item in found.items:
        if item.filters:  # each item's filters select exactly the rows it counted
            clause, params = where(View.from_args(item.filters, COLUMNS), COLUMNS, True)
            sql = f"SELECT count(*) FROM rows WHERE {clause}"
            assert con.execute(sql, params).fetchone()[0] == item.count, item


def test_datetime_ranges_reach_the_last_moment():
    columns = [Column("c1", "at", "datetime")]
    rows = [("2024-03-01 08:00:00",), ("2024-03-01 23:59:59",), ("2024-03-03 10:30:00",)]
    found = facets.facet(table(rows, columns), columns, columns[0], View(), True)
    assert found.period == "day"
    assert [(i.label, i.count) for i in found.items] == [("2024-03-01", 2), ("2024-03-03", 1)]
    assert found.items[0].filters == {
        "c1.min": "2024-03-01 08:00:00",
        "c1.max": "2024-03-01 23:59:59",
    }


def test_a_sum_past_sqlites_whole_numbers_is_added_as_a_floating_point_number():
    rows = [("Oslo", 2**62, None, None, None), ("Oslo", 2**62, None, None, None)]
    found = summary.summarize(table(rows), COLUMNS, View(), True, [g("city")], [m("sum", "amount")])
    assert found.rows == [("Oslo", pytest.approx(2.0**63))]
