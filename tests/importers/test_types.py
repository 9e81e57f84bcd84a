"""Guessing column types from values: what a person would expect, codes and IDs left alone."""

import pytest

from server.importers.types import guess_type


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (["1", "-2", "+3", "0"], "integer"),
        (["1", "2.5", "-.5", "1e3"], "real"),
        (["1.25", "", None, "  "], "real"),
        (["yes", "No", "TRUE", "f"], "boolean"),
        (["2024-01-31", "1999-12-01"], "date"),
        (["2024-01-31 10:00:00", "2024-01-31T10:00", "2024-01-31T10:00:00.123+02:00"], "datetime"),
        (["2024-01-31 10:00:00", "2024-02-01"], "datetime"),  # a midnight, as Excel gives it
        (["", None], "text"),
        (["00123", "00456"], "text"),  # codes with leading zeros
        (["007", "12"], "text"),
        (["+44 20 7946 0958", "020 7946 0958"], "text"),  # phone numbers
        (["9223372036854775807", "1"], "text"),  # 19 digits: an identifier, not a quantity
        (["123456789012345", "1"], "integer"),  # 15 digits still count
        (["9223372036854775808"], "text"),  # beyond 64 bits
        (["2024-02-30"], "text"),  # no such day
        (["1,234.50"], "text"),  # thousands separators stay text unless parsed explicitly
        (["NaN", "inf"], "text"),
        (["1", "two"], "text"),
        ([1, 2.0], "integer"),  # typed values from Excel and JSON
        ([1.5, 2], "real"),
        ([True, False], "boolean"),
    ],
)
def test_guess_type(values, expected):
    assert guess_type(values) == expected


def test_stored_dates_that_do_not_fit_are_found(tmp_path):
    from server.datasets.loading.pipeline import load_file

    path = tmp_path / "d.csv"
    path.write_text(
        "day,at\n2024-01-31,2024-01-31 10:00:00\n2024-02-30,2024-01-31T25:00:00\n"
        "31/31/2024,2024-01-31 10:00:00junk\n2024-12-29,2024-02-29T10:00:00Z\n"
        "2024-13-01,2024-13-01 10:00:00\n2024-01-00,2024-02-01\n2024-00-10,2024-02-29 10:00\n"
    )
    from server.importers import inspect_file

    outcome = load_file(path, tmp_path / "d.sqlite", inspect_file(path), ["date", "datetime"])
    bad = {(p.row, p.column, p.value) for p in outcome.problems}
    assert bad == {
        (2, "day", "2024-02-30"),
        (3, "day", "31/31/2024"),
        (2, "at", "2024-01-31T25:00:00"),
        (3, "at", "2024-01-31 10:00:00junk"),
        (5, "day", "2024-13-01"),  # no month 13, no day 0, no month 0
        (5, "at", "2024-13-01 10:00:00"),
        (6, "day", "2024-01-00"),
        (7, "day", "2024-00-10"),
    }


def test_datetimes_keep_their_offsets_and_a_date_alone_is_midnight(tmp_path):
    from server.datasets.loading.pipeline import load_file
    from server.importers import inspect_file
    from tests.helpers import read_rows

    path = tmp_path / "t.csv"
    path.write_text(
        "at\n2024-01-05 23:00:00-05:00\n2024-01-05T01:00:00+05:00\n2024-01-02\n"
        "2024-01-02 10:00:00\n"
    )
    sample = inspect_file(path)
    outcome = load_file(path, tmp_path / "t.sqlite", sample)
    assert [c.type for c in outcome.columns] == ["datetime"] and not outcome.problems
    stored = [row[1] for row in read_rows(tmp_path / "t.sqlite", outcome.columns, 10)]
    assert stored == [
        "2024-01-05 23:00:00-05:00",
        "2024-01-05T01:00:00+05:00",
        "2024-01-02 00:00:00",  # so that a filter on 2024-01-02 00:00:00 finds it
        "2024-01-02 10:00:00",
    ]
    assert guess_type(["2024-01-05 10:00:00+0500"]) == "text"  # SQLite cannot read it
