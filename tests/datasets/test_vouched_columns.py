"""A column whose every value the batch conversion read (``1.234,56``, ``31.12.2024``,
``31.12.2024 23:59:59``) is not checked again after the load: the dataset, its flagged values
and their row numbers are exactly those of a load that checks every column, in one piece or
in two halves, whatever misfits the file holds and wherever they are."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from server.datasets.loading import bulk_load, split_load
from server.datasets.loading.bulk_load import ConvertedRows
from server.datasets.loading.pipeline import load_file
from server.datasets.storage import make_columns
from server.importers import inspect_file
from server.importers.column_batches import column_converter
from server.importers.delimited import SPLIT_SENTINEL
from server.importers.readings import Reading, converter

MISFITS = {  # row number: (amount, day, moment, count)
    3: ("NA", "03.01.2020", "03.01.2020 10:00:00", "3"),
    40: ("1.234,5x", "31.02.2020", "03.01.2020 25:00:00", "n/a"),
    900: ("+1,5", "2020-01-05", "05.01.2020", "007"),
    2100: ("12.345.678.901.234.567.890,5", "", "", ""),
    2500: ("1,5", "05.13.2020", "x", "1.234"),
    2999: ("-0,25", "n/a", "03.01.2020 10:00", "-"),
}


def european_csv(rows: int, misfits: dict[int, tuple] | None = None) -> str:
    lines = ["id;amount;day;moment;count;active;note"]
    for n in range(1, rows + 1):
        amount = f"{n * 1234.5:,.2f}".translate(str.maketrans(",.", ".,"))
        day = f"{n % 28 + 1:02d}.{n % 12 + 1:02d}.{2000 + n % 25}"
        moment = f"{day} {n % 24:02d}:{n % 60:02d}:{(n * 7) % 60:02d}"
        values = (amount, day, moment, str(n * 3))
        values = (misfits or {}).get(n, values)
        lines.append(f'{n};{";".join(values)};{"ja" if n % 2 else "nein"};"note; {n}"')
    return "\n".join(lines) + "\n"


def stored(path: Path) -> list[tuple]:
    con = sqlite3.connect(path)
    try:
        names = [row[1] for row in con.execute("PRAGMA table_info(rows)")]
        typed = ", ".join(f"typeof({n}), {n}" for n in names)
        return con.execute(f"SELECT rowid, {typed} FROM rows ORDER BY rowid").fetchall()
    finally:
        con.close()


def flagged(outcome) -> tuple:
    result = outcome.result
    return (
        [(p.row, p.column, p.value, p.message) for p in outcome.problems],
        result.problem_count,
        result.misfits,
        result.missing,
        result.rows,
    )


def load(source: Path, dest: Path, monkeypatch, *, split: bool, vouch: bool, **kwargs):
    with monkeypatch.context() as patch:
        patch.setattr(split_load, "MIN_BYTES", 0 if split else 10**15)
        if not vouch:  # every column checked, as before the conversion vouched for any
            patch.setattr(ConvertedRows, "fitting", lambda self: set())
        started = []
        real_start = split_load.HelperHalf.start

        def start(self, *args, **kw):
            started.append(self.start_byte)
            return real_start(self, *args, **kw)

        patch.setattr(split_load.HelperHalf, "start", start)
        outcome = load_file(source, dest, inspect_file(source), **kwargs)
    assert bool(started) == split
    return outcome


@pytest.mark.parametrize("bad_values", ["keep", "empty"])
def test_vouched_columns_store_and_flag_exactly_what_a_full_check_does(
    tmp_path, monkeypatch, bad_values
):
    source = tmp_path / "european.csv"
    source.write_text(european_csv(3000, MISFITS), encoding="utf-8")
    reference = load(
        source, tmp_path / "ref.sqlite", monkeypatch, split=False, vouch=False,
        bad_values=bad_values,
    )  # fmt: skip
    assert [c.type for c in reference.columns] == [
        "integer", "real", "date", "datetime", "integer", "boolean", "text",
    ]  # fmt: skip
    assert reference.result.problem_count == 6 and reference.result.missing  # found
    for split in (False, True):
        dest = tmp_path / f"vouched-{split}.sqlite"
        outcome = load(source, dest, monkeypatch, split=split, vouch=True, bad_values=bad_values)
        assert stored(dest) == stored(tmp_path / "ref.sqlite"), split
        assert flagged(outcome) == flagged(reference), split


def test_a_clean_european_file_has_its_converted_columns_vouched_for(tmp_path, monkeypatch):
    source = tmp_path / "european.csv"
    source.write_text(european_csv(3000), encoding="utf-8")
    checked = []
    real_check = bulk_load.check_values

    def check_values(con, columns, *args, **kwargs):
        checked.append([c.name for c in columns])
        return real_check(con, columns, *args, **kwargs)

    monkeypatch.setattr(bulk_load, "check_values", check_values)
    outcome = load(source, tmp_path / "d.sqlite", monkeypatch, split=False, vouch=True)
    reference = load(source, tmp_path / "r.sqlite", monkeypatch, split=False, vouch=False)
    # amount, day and moment were read by the batch readers; id, count, active are checked.
    assert checked == [["c1", "c5", "c6", "c7"], [f"c{i}" for i in range(1, 8)]]
    assert outcome.problem_count == reference.problem_count == 0
    assert stored(tmp_path / "d.sqlite") == stored(tmp_path / "r.sqlite")
    assert stored(tmp_path / "d.sqlite")[0][3:9] == (
        "real", 1234.5, "text", "2001-02-02", "text", "2001-02-02 01:01:07",
    )  # fmt: skip


@pytest.mark.parametrize(
    ("kind", "reading", "values", "fits"),
    [
        ("real", Reading("", ",", "."), ["1.234,56", "", "-0,5"], True),
        ("real", Reading("", ",", "."), ["1.234,56", "+1,5"], False),  # value by value
        ("real", Reading("", ",", "."), ["1.234,56", "NA"], False),
        ("integer", Reading("", ",", "."), ["1.234", "17"], True),
        ("integer", Reading("", ",", "."), ["1.234.567.890.123.456.789"], False),  # too long
        ("date", Reading("dmy"), ["31.12.2024", ""], True),
        ("date", Reading("dmy"), ["31.12.2024", "31.02.2024"], False),  # kept as written
        ("date", Reading("dmy"), ["2024-12-31"], False),  # given back as written: checked
        ("datetime", Reading("dmy"), ["31.12.2024 23:59:59", "31.12.2024", ""], True),
        ("datetime", Reading("dmy"), ["31.12.2024 24:00:00"], False),
        ("datetime", Reading("dmy"), ["31.02.2024 10:00:00"], False),
    ],
)
def test_a_conversion_vouches_only_for_values_its_fast_reader_read(kind, reading, values, fits):
    convert = column_converter(kind, reading)
    convert(values)
    assert convert.fits is fits


def test_only_a_last_sentinel_row_is_passed_over(tmp_path):
    columns = make_columns(["amount"], ["real"])
    reading = [Reading("", ",", ".")]
    sentinel = [SPLIT_SENTINEL]
    last = ConvertedRows([["1,5"], ["2,5"], sentinel], columns, reading, sentinel_last=True)
    assert list(last) == [["1.5"], ["2.5"], sentinel]
    assert last.fitting() == {"c1"}
    rows = [sentinel] + [["1,5"] for _ in range(bulk_load.BATCH_ROWS)] + [sentinel]
    rows[bulk_load.BATCH_ROWS - 1] = sentinel  # the end of the first batch, not the last row
    inner = ConvertedRows(rows, columns, reading, sentinel_last=True)
    assert sum(1 for row in inner if row == sentinel) == 3
    assert inner.fitting() == set()
    unsplit = ConvertedRows([["1,5"], sentinel], columns, reading)
    assert list(unsplit) == [[1.5], sentinel]  # the batch went value by value
    assert unsplit.fitting() == set()


@pytest.mark.parametrize(
    ("kind", "reading", "values"),
    [
        ("real", Reading("", ",", "."), ["1.234,56", "1\n2", "3"]),
        ("real", Reading("", ",", "."), ["1,5\n", "2"]),
        ("integer", Reading("", ",", " "), ["1 234", "12\n345", "\n"]),
        ("datetime", Reading("dmy"), ["31.12.2024 23:59:59", "31.12.2024 10:00:00\n 11:00:00"]),
        ("datetime", Reading("dmy"), ["31.12.2024\n 10:00:00", "01.01.2025"]),
    ],
)
def test_a_value_with_a_newline_is_converted_as_one_by_one(kind, reading, values):
    # A batch is matched as one text of lines: a newline inside a value must not pass for
    # the end of one (a quoted newline in a CSV cell).
    convert, each = column_converter(kind, reading), converter(kind, reading)
    assert convert(values) == [each(v) for v in values]
    assert convert.fits is False
