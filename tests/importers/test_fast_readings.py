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
    "0.123",
    "-007",
    "-0",
    "00",
    "0,123",
    "0'123.5",
    "-0,5",
    "1 234",
    "0 123,5",
    "12345678901234567,5",
    "1.234.567.890.123,45",
    "4\u066319",  # an Arabic-Indic digit: Python reads it, SQLite does not
    "1\u06f5",
    "7\u066340,9095",
    "4\uff11",  # a fullwidth digit
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
    "01.01.2024 00:00:0\uff10",  # a fullwidth digit
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


def written(reading: Reading):
    """Numbers as ``reading`` writes them, with or without thousands marks."""

    def write(n: int, decimals: int, grouped: bool) -> str:
        number = n / 10**decimals
        text = f"{number:,.{decimals}f}" if grouped else f"{number:.{decimals}f}"
        return text.translate(str.maketrans({",": reading.thousands, ".": reading.decimal}))

    return st.builds(write, st.integers(-(10**13), 10**13), st.integers(0, 3), st.booleans())


@pytest.mark.parametrize("kind", ["integer", "real"])
@pytest.mark.parametrize("reading", READINGS)
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_any_batch_in_any_reading_is_stored_as_one_by_one(kind, reading, data):
    """The batch's check by shapes (digits folded, leading zeros looked for apart) accepts
    exactly the batches whose every value the careful reader reads as a plain number."""
    values = data.draw(
        st.lists(st.one_of(written(reading), st.sampled_from(NUMBERS)), min_size=1, max_size=30)
    )
    mine, theirs = both_ways(kind, reading, values)
    assert mine == theirs


def fixed_dates(with_time: bool):
    """Dates written dd.mm.yyyy (or mm/dd/yyyy…), every part two or four digits, valid or
    not: days 00 to 32, months 00 to 13, years around the leap rules and the year 0, hours
    00 to 29."""
    years = st.one_of(
        st.sampled_from([0, 1, 1900, 2000, 2023, 2024, 2100, 2400, 9999]), st.integers(0, 9999)
    )
    day = st.builds(
        lambda d, m, y: f"{d:02d}.{m:02d}.{y:04d}",
        st.integers(0, 32),
        st.integers(0, 13),
        years,
    )
    if not with_time:
        return day
    return st.builds(
        lambda d, h, m, s: f"{d} {h:02d}:{m:02d}:{s:02d}",
        day,
        st.integers(0, 29),
        st.integers(0, 69),
        st.integers(0, 69),
    )


@pytest.mark.parametrize("kind", ["date", "datetime"])
@pytest.mark.parametrize("order", ["dmy", "mdy"])
@pytest.mark.parametrize("separator", [".", "/", "-"])
@settings(max_examples=80, deadline=None)
@given(data=st.data())
def test_a_batch_of_fixed_width_dates_is_stored_as_one_by_one(kind, order, separator, data):
    """The batch rearranged by slices (importers/column_batches.py ``_fixed_width``) stores
    what each value read alone stores: the ISO value, or the text as written if no day (31
    April, 29 February of 2023 or 1900, month 13, the year 0) or no time (24:00, :60)."""
    values = data.draw(
        st.lists(fixed_dates(kind == "datetime"), min_size=1, max_size=25).map(
            lambda texts: [t.replace(".", separator) for t in texts]
        )
    )
    reading = Reading(order)
    one = converter(kind, reading)
    assert stored(kind, column_converter(kind, reading)(values)) == stored(
        kind, [one(v) for v in values]
    )


def test_fixed_width_dates_are_rearranged_at_once_when_every_one_fits():
    convert = column_converter("datetime", Reading("dmy"))
    assert convert(["29.02.2024 23:59:59", "01.12.0001 00:00:00"]) == [
        "2024-02-29 23:59:59",
        "0001-12-01 00:00:00",
    ]
    assert convert.fits
    days = column_converter("date", Reading("mdy"))
    assert days(["12/31/2024", "02/29/2000"]) == ["2024-12-31", "2000-02-29"]
    assert days.fits
    assert days(["02/29/1900", "12/31/2024"]) == ["02/29/1900", "2024-12-31"]  # kept as written
    assert not days.fits  # the column is checked after the load


@pytest.mark.parametrize(
    ("kind", "reading", "values"),
    [
        ("integer", Reading("", ",", "."), ["4\u066319", "12"]),
        ("real", Reading("", ",", " "), ["7\u066340,9095", "1\u00a0234,5"]),
        ("datetime", Reading("dmy"), ["01.01.2024 00:00:0\uff10", "01.01.2024 00:00:00"]),
    ],
)
def test_digits_of_other_scripts_never_pass_as_fitting(kind, reading, values):
    """Python's \\d takes any script's digits, SQLite reads only 0-9: a batch holding one goes
    value by value (stored as one by one) and the column is checked after the load."""
    convert = column_converter(kind, reading)
    assert stored(kind, convert(values)) == stored(
        kind, [converter(kind, reading)(v) for v in values]
    )
    assert not convert.fits
