"""Filters, sort, search and keyset pages return exactly what a plain Python reference computes."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from server.datasets.reading import browse
from server.datasets.storage import build_search_index, make_columns

COLUMNS = make_columns(["n", "word", "x"], ["integer", "text", "real"])
WORDS = ["apple", "Apple pie", "banana", "cherry", "date", "ápple", "50% off", "under_score", ""]

rows_strategy = st.lists(
    st.tuples(
        st.one_of(st.none(), st.integers(-5, 5)),
        st.one_of(st.none(), st.sampled_from(WORDS[:-1])),
        st.one_of(st.none(), st.sampled_from([-1.5, 0.0, 2.25, 3.0])),
    ),
    max_size=40,
)
filter_strategy = st.one_of(
    st.tuples(st.just("c1"), st.sampled_from(["eq", "min", "max"]), st.integers(-5, 5).map(str)),
    st.tuples(
        st.just("c1"),
        st.just("in"),
        st.lists(st.integers(-5, 5), min_size=1, max_size=3).map(lambda v: "|".join(map(str, v))),
    ),
    st.tuples(
        st.sampled_from(["c1", "c2", "c3"]), st.sampled_from(["empty", "notempty"]), st.just("1")
    ),
    st.tuples(
        st.just("c2"),
        st.sampled_from(["contains", "eq"]),
        st.sampled_from(["app", "Apple", "50%", "_", "an", "pie"]),
    ),
    st.tuples(
        st.just("c3"), st.sampled_from(["min", "max"]), st.sampled_from(["-1.5", "0", "2.5"])
    ),
)
view_strategy = st.builds(
    lambda search, sort, desc, filters: browse.View(
        search=search,
        sort=sort,
        descending=desc,
        filters=tuple(browse.Filter(*f) for f in filters),
    ),
    st.sampled_from(["", "apple", "pie", "cherry date"]),
    st.sampled_from([None, "c1", "c2", "c3"]),
    st.booleans(),
    st.lists(filter_strategy, max_size=2),
)


def make_table(path: Path, rows: list[tuple]) -> sqlite3.Connection:
    con = sqlite3.connect(path, isolation_level=None)
    con.execute("CREATE TABLE rows (c1 INTEGER, c2 TEXT, c3 REAL)")
    con.executemany("INSERT INTO rows VALUES (?, ?, ?)", rows)
    build_search_index(con, COLUMNS)
    return con


def reference(rows: list[tuple], view: browse.View) -> list[int]:
    """The rowids the view should show, in order, computed in plain Python."""

    def keep(values):
        by = dict(zip(["c1", "c2", "c3"], values, strict=True))
        for f in view.filters:
            value = by[f.column]
            if f.op == "empty" and value is not None:
                return False
            if f.op == "notempty" and value is None:
                return False
            if f.op in ("eq", "min", "max", "in", "contains") and value is None:
                return False
            if f.op == "eq" and value != (f.value if f.column == "c2" else _num(f.value, f.column)):
                return False
            if f.op == "min" and value < _num(f.value, f.column):
                return False
            if f.op == "max" and value > _num(f.value, f.column):
                return False
            if f.op == "in" and value not in {int(v) for v in f.value.split("|")}:
                return False
            if f.op == "contains" and f.value.lower() not in value.lower():
                return False
        if view.search:
            text = (by["c2"] or "").lower()
            tokens = _tokens(text)
            for word in _tokens(view.search.lower()):
                if not any(t.startswith(word) for t in tokens):
                    return False
        return True

    kept = [(rowid, values) for rowid, values in enumerate(rows, start=1) if keep(values)]
    if view.sort:
        index = int(view.sort[1:]) - 1
        nulls = [r for r in kept if r[1][index] is None]
        values = [r for r in kept if r[1][index] is not None]
        values.sort(key=lambda r: (r[1][index], r[0]), reverse=view.descending)
        nulls.sort(key=lambda r: r[0], reverse=view.descending)
        kept = values + nulls if view.descending else nulls + values
    elif view.descending:
        kept.reverse()
    return [rowid for rowid, _ in kept]


def _num(text: str, column: str):
    return int(text) if column == "c1" else float(text)


def _tokens(text: str) -> list[str]:
    import re
    import unicodedata

    plain = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    return re.findall(r"\w+", plain)


def walk_forward(con, view, size):
    seen, after = [], None
    for _ in range(100):
        page = browse.page(con, COLUMNS, view, size, after=after)
        seen.extend(row[0] for row in page.rows)
        if not page.has_next:
            return seen
        after = page.next_cursor
    raise AssertionError("pages never ended")


def walk_backward(con, view, size):
    seen = []
    page = browse.page(con, COLUMNS, view, size, last=True)
    for _ in range(100):
        seen[:0] = [row[0] for row in page.rows]
        if not page.has_prev:
            return seen
        page = browse.page(con, COLUMNS, view, size, before=page.prev_cursor)
    raise AssertionError("pages never ended")


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(rows=rows_strategy, view=view_strategy, size=st.integers(1, 7))
def test_pages_forward_and_backward_match_the_reference(tmp_path_factory, rows, view, size):
    con = make_table(tmp_path_factory.mktemp("b") / "d.sqlite", rows)
    try:
        expected = reference(rows, view)
        # Keyset pages walked forward from the first and backward from the last page.
        assert walk_forward(con, view, size) == expected
        assert walk_backward(con, view, size) == expected
        clause, params = browse.where(view, COLUMNS, True)
        assert con.execute(f"SELECT count(*) FROM rows WHERE {clause}", params).fetchone()[
            0
        ] == len(expected)
    finally:
        con.close()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"c1.min": "ten"}, "is not a whole number"),
        ({"c1.min": "1" + "0" * 27}, "beyond any whole number"),
        ({"c1.in": "1|99999999999999999999999"}, "beyond any whole number"),
        ({"c3.eq": "1,5"}, "is not a number"),
        ({"c3.min": "nan"}, "is not a number"),
        ({"c3.max": "inf"}, "is not a number"),
        ({"c2.min": "a"}, "does not apply"),
    ],
)
def test_bad_filters_are_explained(args, message):
    view = browse.View.from_args(args, COLUMNS)
    with pytest.raises(browse.BadView, match=message):
        browse.where(view, COLUMNS, True)


def test_a_filter_reads_a_value_as_a_cell_edit_does():
    """One reading of typed values: a filter's value is what the same text typed in a cell
    would store (spaces in a number are thousands separators)."""
    from server.datasets.cleaning.rows import parse_value

    view = browse.View.from_args({"c1.eq": "1 000", "c3.min": " 2.5"}, COLUMNS)
    _clause, params = browse.where(view, COLUMNS, True)
    by_name = {c.name: c for c in COLUMNS}
    assert params == [parse_value(by_name["c1"], "1 000"), parse_value(by_name["c3"], " 2.5")]
    assert params == [1000, 2.5]


def test_view_arguments_ignore_unknown_columns_and_round_trip():
    view = browse.View.from_args(
        {
            "q": " pie ",
            "sort": "c2",
            "dir": "desc",
            "c1.min": "2",
            "c9.eq": "x",
            "c2.contains": "",
            "c3.empty": "1",
            "sort_by": "rowid; DROP TABLE rows",
        },
        COLUMNS,
    )
    assert view == browse.View(
        search="pie",
        sort="c2",
        descending=True,
        filters=(browse.Filter("c1", "min", "2"), browse.Filter("c3", "empty", "1")),
    )
    assert browse.View.from_args(view.args(), COLUMNS) == view


def test_search_text_is_never_fts_syntax():
    assert browse.fts_query('pie" OR c1:* NEAR(') == '"pie"* "OR"* "c1"* "NEAR"*'


def test_a_damaged_cursor_is_refused(tmp_path):
    con = make_table(tmp_path / "d.sqlite", [(1, "a", 1.0)])
    with pytest.raises(browse.BadView, match="damaged"):
        browse.page(con, COLUMNS, browse.View(), 10, after="%%%")


def test_search_sets_are_kept_per_query_and_pruned(tmp_path):
    con = make_table(tmp_path / "d.sqlite", [(i, f"apple {i % 7}", 1.0) for i in range(100)])
    first, count = browse.search_set(con, browse.fts_query("apple"))
    assert count == 100 and browse.search_set(con, browse.fts_query("apple")) == (first, 100)
    for word in range(browse.SEARCH_SETS_KEPT + 5):
        browse.search_set(con, browse.fts_query(f"w{word}"))
    kept = con.execute(
        "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name LIKE 'search%'"
    ).fetchone()[0]
    assert kept == browse.SEARCH_SETS_KEPT
