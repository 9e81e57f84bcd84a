"""The bulk load's fast readings of European numbers and date-times give exactly what the
general readers give, value by value and type by type."""

import pytest

from server.importers.readings import Reading, _fast_reader, reader

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
