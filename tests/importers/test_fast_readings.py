"""The bulk load's fast readings of European numbers and date-times give exactly what the
general readers give, value by value and type by type; and a batch of a column converted at
once (importers/column_batches.py) is stored by SQLite exactly as its values converted one by
one, type and value, those that fit and those that do not (kept as written)."""

import sqlite3

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from server.datasets.storage import STORAGE_TYPES, value_expression
from server.importers.column_batches import column_converter
from server.importers.readings import Reading, _fast_reader, converter, reader

NUMBERS = [
    "1.234,56",
    "-1.234,56",
    "+1,5",
    ",5",
    "007",
    "007,5",
    "0,5",
    "0",
    "1.23,4",
    "1234,5",
    "1.234",
    "12.345.678",
    "1,2e3",
    "",
    "-",
    " 1,5",
    "1.234.567.890.123.456",
    "123456789012345",
    "1234567890123456",
    "abc",
    "1 234,5",
    "1\u00a0234,5",
    "1.234,",
    "1.234,5 €",
    "1,234.56",
    "1'234.5",
    "9.007.199.254.740.993",
]
MOMENTS = [
    "22.01.2013 09:01:37",
    "01/02/2013 23:59:59",
    "2013-01-02 24:00:00",
    "22.01.2013 9:01:37",
    "22.01.2013",
    "31.02.2013 10:00:00",
    "22.01.2013 10:00:00Z",
    "22.01.2013  10:00:00",
    "x y",
    "22.01.13 10:11:12",
    "2013-01-22 10:11:12",
    "22.01.2013 10:60:00",
]
READINGS = [
    Reading("", ",", "."),
    Reading("", ",", ""),
    Reading("", ",", " "),
    Reading("", ".", ","),
    Reading("", ".", "'"),
]


@pytest.mark.parametrize("kind", ["integer", "real"])
@pytest.mark.parametrize("reading", READINGS)
def test_numbers_read_as_the_general_reader_reads_them(kind, reading):
    fast, general = _fast_reader(kind, reading), reader(kind, reading)
    for text in NUMBERS:
        mine, theirs = fast(text), general(text)
        assert (mine, type(mine)) == (theirs, type(theirs)), text


@pytest.mark.parametrize("order", ["dmy", "mdy", ""])
def test_date_times_read_as_the_general_reader_reads_them(order):
    fast, general = _fast_reader("datetime", Reading(order)), reader("datetime", Reading(order))
    for text in MOMENTS * 2:  # the second time from the cache of days
        assert fast(text) == general(text), text


DATES = ["31.12.2024", "01.02.2013", "1.2.2013", "31.02.2013", "2013-01-22", "", "x", "13/01/24"]


def stored(kind: str, values: list) -> list[tuple]:
    con = sqlite3.connect(":memory:")
    con.execute(f"CREATE TABLE t (c {STORAGE_TYPES[kind]})")
    insert = f"INSERT INTO t VALUES ({value_expression('?1', kind)})"
    con.executemany(insert, [(v,) for v in values])
    return con.execute("SELECT typeof(c), c FROM t ORDER BY rowid").fetchall()


def both_ways(kind: str, reading: Reading, values: list) -> tuple[list, list]:
    one, batch = converter(kind, reading), column_converter(kind, reading)
    return stored(kind, [one(v) for v in values]), stored(kind, batch(values))


@pytest.mark.parametrize("kind", ["integer", "real"])
@pytest.mark.parametrize("reading", READINGS)
def test_numbers_are_stored_as_one_by_one(kind, reading):
    for text in NUMBERS:  # each alone: a batch of one, fitting or not
        assert both_ways(kind, reading, [text])[0] == both_ways(kind, reading, [text])[1], text
    mine, theirs = both_ways(kind, reading, NUMBERS)  # together: the careful way for all
    assert mine == theirs


@pytest.mark.parametrize("order", ["dmy", "mdy"])
def test_dates_and_date_times_are_stored_as_one_by_one(order):
    reading = Reading(order)
    for kind, values in (("date", DATES), ("datetime", MOMENTS + DATES)):
        convert = column_converter(kind, reading)
        for _ in range(2):  # the second time from the remembered days
            for text in values:
                assert stored(kind, convert([text])) == both_ways(kind, reading, [text])[0], text
            assert stored(kind, convert(values)) == both_ways(kind, reading, values)[0]


def test_a_value_that_does_not_fit_is_kept_as_written_in_its_batch():
    convert = column_converter("real", Reading("", ",", "."))
    assert convert(["1.234,56", "", "-0,5"]) == ["1234.56", "", "-0.5"]
    assert convert(["1.234,56", "12.5", "+1,5"]) == [1234.56, "12.5", 1.5]  # one by one
    moments = column_converter("datetime", Reading("dmy"))
    assert moments(["31.12.2024 23:59:59", ""]) == ["2024-12-31 23:59:59", ""]
    assert moments(["31.12.2024 23:59:59", "31.02.2024 10:00:00"]) == [
        "2024-12-31 23:59:59",
        "31.02.2024 10:00:00",
    ]


european = st.builds(
    lambda n, d: f"{n / 10**d:,.{d}f}".translate(str.maketrans(",.", ".,")),
    st.integers(-(10**12), 10**12),
    st.integers(0, 3),
)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(european, st.sampled_from(NUMBERS)), min_size=1, max_size=40))
def test_any_batch_of_european_numbers_is_stored_as_one_by_one(values):
    mine, theirs = both_ways("real", Reading("", ",", "."), values)
    assert mine == theirs
