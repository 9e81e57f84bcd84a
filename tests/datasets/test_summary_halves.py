"""A large view's summary shared by two threads (each on its own connection, making the groups
on one side of a pivot value) gives exactly what one statement gives: every figure to the last
digit, flagged values in their own groups, medians and distinct counts, the first groups when
there are too many, a sum past SQLite's whole numbers, and a person limited by row rules."""

from __future__ import annotations

import sqlite3
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from unittest import mock

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from server.datasets import row_rules
from server.datasets.reading import summary
from server.datasets.reading.browse import Filter, View
from server.datasets.reading.restricted import restrict
from server.datasets.sharing import share
from server.datasets.storage import Column
from server.models import Dataset
from server.sqlite_files import connect
from tests.helpers import make_dataset, make_role, make_user, signed_in

COLUMNS = [
    Column("c1", "city", "text"),
    Column("c2", "amount", "integer"),
    Column("c3", "price", "real"),
    Column("c4", "day", "date"),
]
BY = {c.label: c for c in COLUMNS}


def g(label: str, period: str = "") -> summary.Grouping:
    return summary.Grouping(BY[label], period)


def m(function: str, label: str | None = None) -> summary.Measure:
    return summary.Measure(function, BY[label] if label else None)


def stored(rows: list[tuple], folder: Path) -> Path:
    """A dataset-like file holding ``rows`` in table ``rows``."""
    path = folder / "rows.sqlite"
    con = sqlite3.connect(path)
    con.execute(f"CREATE TABLE rows ({', '.join(c.name for c in COLUMNS)})")
    con.executemany("INSERT INTO rows VALUES (?, ?, ?, ?)", rows)
    con.commit()
    con.close()
    return path


@contextmanager
def shared_from_any_size() -> Iterator[None]:
    with mock.patch.object(summary, "SHARE_FROM", 1):
        yield


class Opener:
    """Opens the second thread's connections, counting them (each must be closed)."""

    def __init__(self, path: Path, clauses=None) -> None:
        self.path, self.clauses, self.opened = path, clauses, []

    def __call__(self) -> sqlite3.Connection:
        con = connect(self.path)
        if self.clauses is not None:
            restrict(con, self.clauses)
        self.opened.append(con)
        return con


def both(path: Path, view: View, groupings, measures, clauses=None):
    """The summary made by one statement, and made shared (with the connections opened)."""
    con = connect(path)
    if clauses is not None:
        restrict(con, clauses)
    try:
        alone = summary.summarize(con, COLUMNS, view, True, groupings, measures)
        opener = Opener(path, clauses)
        with shared_from_any_size():
            pivot = summary.split_point(con, COLUMNS, view, True, groupings, measures)
            halves = summary.summarize(con, COLUMNS, view, True, groupings, measures, opener)
    finally:
        con.close()
    return alone, halves, pivot, opener


def assert_closed(opener: Opener) -> None:
    for con in opener.opened:
        with pytest.raises(sqlite3.ProgrammingError):
            con.execute("SELECT 1")


row_strategy = st.tuples(
    st.sampled_from(["Oslo", "Lima", "Porto", "Åre", None]),
    st.one_of(st.none(), st.integers(-1000, 1000), st.just("n/a")),  # "n/a": flagged
    st.one_of(
        st.none(),
        st.floats(-1e6, 1e6, allow_nan=False).map(lambda x: round(x, 2)),
        st.just("about 3"),
    ),
    st.one_of(
        st.none(),
        st.sampled_from(["2023-12-31", "2024-01-01", "2024-02-29", "2024-07-15", "2025-03-01"]),
        st.sampled_from(["2023-02-30", "soon", "2024-13-01"]),  # flagged: not dates
    ),
)
grouping_strategy = st.one_of(
    st.sampled_from(["city", "amount", "price"]).map(lambda label: g(label)),
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


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rows=st.lists(row_strategy, max_size=80),
    groupings=st.lists(grouping_strategy, min_size=1, max_size=2, unique_by=lambda x: x.column),
    measures=st.lists(measure_strategy, min_size=1, max_size=3),
    low=st.one_of(st.none(), st.integers(-1000, 1000)),
)
def test_a_shared_summary_is_exactly_the_one_statements(rows, groupings, measures, low):
    view = View(filters=(Filter("c2", "min", str(low)),)) if low is not None else View()
    with tempfile.TemporaryDirectory() as folder:
        alone, halves, pivot, opener = both(stored(rows, Path(folder)), view, groupings, measures)
    assert halves.rows == alone.rows  # ==, not approximately: sums to the last digit
    assert halves.truncated == alone.truncated
    assert len(opener.opened) == (0 if pivot is None else 1)
    assert_closed(opener)


DECIMALS = [("Oslo", 1, 0.1, "2024-01-05"), ("Lima", 2, 0.2, "2024-03-01")] * 40 + [
    ("Oslo", 3, 0.7, "2023-02-30"),  # not a date: its own group, its price still counts
    ("Lima", 4, 1e-9, "soon"),
    ("Porto", 5, 0.3, None),
    (None, 6, 0.3, "2025-12-31"),
]


def test_flagged_dates_keep_their_own_groups_when_shared(tmp_path):
    groupings, measures = [g("city"), g("day", "year")], [m("sum", "price"), m("median", "price")]
    alone, halves, pivot, opener = both(stored(DECIMALS, tmp_path), View(), groupings, measures)
    assert pivot == "Oslo" and len(opener.opened) == 1
    assert [row[:2] for row in halves.rows] == [
        (None, "2025"),
        ("Lima", "2024"),
        ("Lima", "soon"),
        ("Oslo", "2023-02-30"),
        ("Oslo", "2024"),
        ("Porto", None),
    ]
    sums = {row[:2]: row[2] for row in halves.rows}
    total = 0.0
    for _ in range(40):
        total += 0.1  # in the rows' order, as one statement adds them
    assert sums[("Oslo", "2024")] == total and sums[("Oslo", "2023-02-30")] == 0.7
    assert halves.rows == alone.rows


def test_a_shared_summary_keeps_the_first_groups_in_order(tmp_path):
    rows = [(f"city {n:03}", n, n / 3, None) for n in range(60)]
    path = stored(rows, tmp_path)
    with mock.patch.object(summary, "MAX_GROUPS", 25):
        alone, halves, pivot, _ = both(path, View(), [g("city")], [m("sum", "price")])
    assert pivot == "city 030"
    assert halves.truncated and alone.truncated
    assert [row[0] for row in halves.rows] == [f"city {n:03}" for n in range(25)]
    assert halves.rows == alone.rows


def test_a_sum_past_whole_numbers_in_one_half_makes_every_sum_a_float(tmp_path):
    rows = [("Lima", 1, None, None), ("Oslo", 2**62, None, None), ("Oslo", 2**62, None, None)]
    alone, halves, pivot, opener = both(
        stored(rows, tmp_path), View(), [g("city")], [m("sum", "amount")]
    )
    assert pivot == "Oslo"
    assert halves.rows == alone.rows == [("Lima", 1.0), ("Oslo", 2.0**63)]
    assert isinstance(halves.rows[0][1], float)  # as one statement retried with floats gives
    assert_closed(opener)


def test_a_limited_persons_shared_summary_counts_only_their_rows(tmp_path):
    rows = [(city, n, n / 7, f"2024-0{n % 9 + 1}-01") for n in range(90) for city in ("A", "B")]
    rows += [("C", 1, 1.0, "2024-01-01"), ("Lima", 2, 2.0, "2024-02-01")]
    path = stored(rows, tmp_path)
    clauses = [("c1", ["A", "Lima"])]
    groupings, measures = [g("day", "month"), g("city")], [m("count"), m("mean", "price")]
    alone, halves, pivot, opener = both(path, View(), groupings, measures, clauses)
    (tmp_path / "mine").mkdir()
    mine = stored([r for r in rows if r[0] in ("A", "Lima")], tmp_path / "mine")
    reference, *_ = both(mine, View(), groupings, measures)
    assert pivot is not None and len(opener.opened) == 1
    assert halves.rows == alone.rows == reference.rows
    assert {row[1] for row in halves.rows} == {"A", "Lima"}
    assert_closed(opener)


def test_a_small_view_is_made_by_one_statement(tmp_path):
    path = stored(DECIMALS, tmp_path)
    con = connect(path)
    opener = Opener(path)
    found = summary.summarize(con, COLUMNS, View(), True, [g("city")], [m("count")], opener)
    assert opener.opened == [] and found.rows[1] == ("Lima", 41)
    with shared_from_any_size():  # one plain grouping read from its index: no sort to share
        assert summary.split_point(con, COLUMNS, View(), True, [g("city")], [m("count")]) is None
    con.close()


def test_a_limited_persons_summary_page_is_shared_over_http(app, people, monkeypatch):
    """Through the web layer: the second connection is opened with the person's rules."""
    doctor = make_role("Doctor", ["datasets.export"])
    make_user("dana", doctor, display_name="Dana Doe")
    lines = ["id,doctor,minutes"] + [
        f"{n},{('dana', 'omar', 'nils')[n % 3]},{n % 50}" for n in range(1, 301)
    ]
    dataset = make_dataset(app, people["editor"], "\n".join(lines) + "\n", name="Visits")
    share(dataset, by=people["editor"], role=doctor)
    row_rules.add_rule(
        dataset,
        role=doctor,
        column="c2",
        kind="user_name",
        values=[],
        data_dir=app.config["DATA_DIR"],
    )
    dataset = Dataset.get_by_id(dataset.id)
    monkeypatch.setattr(summary, "SHARE_FROM", 1)
    opened = []
    from server.datasets.web import analysis_pages

    real = analysis_pages.open_rows
    monkeypatch.setattr(analysis_pages, "open_rows", lambda d: opened.append(d.id) or real(d))
    dana = signed_in(app, "dana")
    query = "by=c3&then=c2&fn1=sum&of1=c3&fn2=count"
    answer = dana.get(f"/api/v1/datasets/{dataset.id}/summary?{query}").get_json()
    mine = [n for n in range(1, 301) if n % 3 == 1]
    expected = {}
    for n in mine:
        figures = expected.setdefault(n % 50, [0, 0])
        figures[0] += n % 50
        figures[1] += 1
    assert {row[0]: row[2:] for row in answer["rows"]} == expected
    assert {row[1] for row in answer["rows"]} == {"dana"}
    assert opened == [dataset.id]


def test_a_searched_and_filtered_summary_is_the_same_shared(app, people, monkeypatch):
    lines = ["id,city,note,amount,day"] + [
        f"{n},{('Oslo', 'Lima', 'Porto', '')[n % 4]},{('refund late', 'paid')[n % 3 == 0]},"
        f"{'n/a' if n == 22 else n / 8},{'soon' if n == 23 else f'2024-0{n % 9 + 1}-1{n % 7}'}"
        for n in range(1, 401)
    ]
    dataset = make_dataset(app, people["editor"], "\n".join(lines) + "\n", name="Refunds")
    from server.datasets.web import analysis_pages

    real, opened = analysis_pages.open_rows, []
    monkeypatch.setattr(analysis_pages, "open_rows", lambda d: opened.append(d.id) or real(d))
    client = signed_in(app, people["editor"].login)
    query = "q=refund&c1.min=20&by=c2&then=c5&then_period=month&fn1=sum&of1=c4&fn2=median&of2=c4"
    url = f"/api/v1/datasets/{dataset.id}/summary?{query}"
    found = {}
    for share_from in (10**9, 1):
        monkeypatch.setattr(summary, "SHARE_FROM", share_from)
        monkeypatch.setattr(analysis_pages, "summary_cache", summary.SummaryCache())
        answer = client.get(url).get_json()
        assert "rows" in answer, answer
        found[share_from] = answer["rows"]
    assert found[1] == found[10**9] and opened == [dataset.id]  # shared once, the same
    assert {row[0] for row in found[1]} == {None, "Lima", "Oslo", "Porto"}
    assert {row[1] for row in found[1]} >= {"2024-02", "2024-09", "soon"}


def test_a_summary_by_year_first_issplit_on_the_stored_dates_only_when_that_is_exact(tmp_path):
    day = BY["day"]
    assert summary.split_on(summary.Grouping(day, "year"), "2024") == "+c4"
    assert summary.split_on(summary.Grouping(day, "year"), "2024-05") != "+c4"
    assert summary.split_on(summary.Grouping(day, "week"), "2024-01-01") != "+c4"
    # "2024-05" (not a date, kept as written) is its own group between 2024 and 2025: a split
    # there on the stored text would send 2024-06-01 to the other half than 2024-01-01.
    rows = [("Oslo", 1, 0.1, "2024-01-01"), ("Oslo", 1, 0.2, "2024-06-01")] * 5
    rows += [("Lima", 1, 0.3, "2024-05")] * 3 + [("Lima", 1, 0.4, "2025-02-02")] * 6
    groupings, measures = [g("day", "year"), g("city")], [m("sum", "price"), m("count")]
    alone, halves, pivot, _ = both(stored(rows, tmp_path), View(), groupings, measures)
    assert pivot == "2024-05"
    assert [row[:2] for row in halves.rows] == [
        ("2024", "Oslo"),
        ("2024-05", "Lima"),
        ("2025", "Lima"),
    ]
    assert halves.rows == alone.rows and halves.rows[0][3] == 10
