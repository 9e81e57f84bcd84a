""".xlsx sheets are streamed and converted a batch of rows at a time, column by column: the
result must be exactly what converting each cell on its own gives, values that do not fit their
column must still be found, and a sheet that breaks half-way must leave nothing behind."""

import zipfile
from datetime import date, datetime

import pytest

from server.datasets.loading.bulk_load import count_excel_errors, write_dataset
from server.datasets.loading.pipeline import load_file
from server.importers import UnreadableFile, excel, inspect_file, iter_rows, readings_for
from server.importers.readings import DEFAULT_MISSING
from server.sqlite_files import connect
from tests.helpers import read_rows
from tests.importers.helpers import ROWS, minimal_workbook, typical, workbook


def rows_of(path, checked):
    sample = inspect_file(path)
    rows = iter_rows(path, sample.options, len(sample.labels), lambda *a: None, None, checked)
    return [[None if v == "" else v for v in row] for row in rows]


def test_batches_give_exactly_what_converting_each_cell_gives(tmp_path):
    rows = [typical(i) for i in range(ROWS)]
    rows[10] = [None] * 7  # an empty row in the middle: no row
    rows[2100][0] = "n/a"  # odd values in the second batch
    rows[2101][2] = "someday"
    rows[2102][4] = 7
    rows[2103][5] = True
    rows[2104][1] = "#N/A"  # an Excel error word typed as text: kept, as the errors are
    path = workbook(tmp_path / "mixed.xlsx", rows)
    fast = rows_of(path, checked=False)
    assert fast == rows_of(path, checked=True)
    assert len(fast) == ROWS - 1
    assert fast[0] == [0, None, "2020-01-01", "2021-01-01", "true", None, "00000"]
    assert fast[1][3] == "2021-02-02 01:01:01"
    assert fast[1][1] == 0.125 and fast[1][5] == 'name 1, "quoted" é 北京'
    assert fast[2099][0] == "n/a" and fast[2100][2] == "someday"
    assert fast[2101][4] == 7 and fast[2102][5] == "true" and fast[2103][1] == "#N/A"


def test_values_that_do_not_fit_are_found_in_a_streamed_sheet(tmp_path):
    rows = [typical(i) for i in range(ROWS)]
    rows[3000][0] = "unknown"
    rows[3001][2] = "2024-02-30"
    rows[3002][3] = "noon"
    rows[3003][4] = 7
    path = workbook(tmp_path / "bad.xlsx", rows)
    sample = inspect_file(path)
    outcome = load_file(path, tmp_path / "bad.db", sample)
    assert [c.type for c in outcome.columns] == [
        "integer",
        "real",
        "date",
        "datetime",
        "boolean",
        "text",
        "text",
    ]
    found = {(p.row, p.column, p.value) for p in outcome.problems}
    assert found == {
        (3001, "n", "unknown"),
        (3002, "day", "2024-02-30"),
        (3003, "at", "noon"),
        (3004, "ok", "7"),
    }
    stored = read_rows(tmp_path / "bad.db", outcome.columns, limit=ROWS)
    assert stored[3000][1:2] == ("unknown",) and stored[2999][1:] == (  # kept as written
        2999,
        2999 / 8,
        "2020-12-04",
        "2021-12-04 23:59:59",
        0,
        'name 2999, "quoted" é 北京',
        "02999",
    )


def test_a_clean_sheet_needs_no_check_after_the_load(tmp_path):
    path = workbook(tmp_path / "clean.xlsx", [typical(i) for i in range(ROWS)])
    sample = inspect_file(path)
    rows = iter_rows(path, sample.options, 7, lambda *a: None, None, False)
    assert sum(1 for _ in rows) == ROWS
    kinds = ["integer", "real", "date", "datetime", "boolean", "text", "text"]
    assert rows.fitting(kinds) == set(range(7))
    assert rows.fitting(["integer", "integer", "text", "date", "integer", "real", "real"]) == {
        0,
        2,
    }


def test_a_number_beyond_64_bits_loads_as_a_decimal(tmp_path):
    rows = [[i, i * 10] for i in range(3000)]
    rows[2500] = [2500, 1e20]
    path = workbook(tmp_path / "big.xlsx", rows, header=("n", "amount"))
    sample = inspect_file(path)
    outcome = load_file(path, tmp_path / "big.db", sample, ["integer", "real"])
    stored = read_rows(tmp_path / "big.db", outcome.columns, limit=3000)
    assert outcome.result.rows == 3000 and not outcome.problems
    assert stored[2500][1:] == (2500, 1e20) and stored[2499][1:] == (2499, 24990.0)


def test_a_whole_number_written_with_a_point_is_stored_as_a_sheet_read_whole_stores_it(tmp_path):
    """3.0 (written "3.0", as some writers do) is the whole number 3 in a text column too."""
    rows = [["n", "note", "amount"]] + [[i, 3.0 if i % 2 else f"t{i}", 2.0] for i in range(40)]
    path = minimal_workbook(tmp_path / "points.xlsx", rows)
    sample = inspect_file(path)
    outcome = load_file(path, tmp_path / "points.db", sample, ["integer", "text", "real"])
    stored = read_rows(tmp_path / "points.db", outcome.columns, limit=100)
    assert stored[0][1:] == (0, "t0", 2.0) and stored[1][1:] == (1, "3", 2.0)
    fast, checked = rows_of(path, checked=False)[1], rows_of(path, checked=True)[1]
    assert (
        [(type(v), v) for v in fast]
        == [(type(v), v) for v in checked]
        == [(int, 1), (int, 3), (int, 2)]
    )


def test_the_preview_reads_the_first_rows_only_and_a_broken_sheet_leaves_nothing(tmp_path):
    path = minimal_workbook(tmp_path / "broken.xlsx", [["n"], *[[i] for i in range(3000)]])
    broken = tmp_path / "broken2.xlsx"

    with zipfile.ZipFile(path) as source, zipfile.ZipFile(broken, "w") as target:
        for info in source.infolist():
            data = source.read(info)
            if info.filename.endswith("sheet1.xml"):
                data = data.replace(b'<row r="2900">', b'<row r="2900"><c r="A2900"><v>1</c></row>')
            target.writestr(info, data)
    sample = inspect_file(broken)
    assert sample.labels == ["n"] and sample.rows[0] == [0]
    dest = tmp_path / "broken.db"
    with pytest.raises(UnreadableFile, match="The sheet 'Data' cannot be read"):
        load_file(broken, dest, sample)
    assert not dest.exists() and not list(tmp_path.glob("*.partial"))


def test_a_panic_of_the_reader_becomes_a_message():
    class PanicException(BaseException):  # how pyo3 raises a Rust panic
        pass

    def rows():
        yield [1]
        raise PanicException("index out of bounds")

    with pytest.raises(UnreadableFile, match="the reader gave up on it"):
        list(excel._streamed(rows(), "Data"))
    with pytest.raises(KeyboardInterrupt), excel._reading("The sheet"):
        raise KeyboardInterrupt


def test_a_row_of_only_excel_errors_is_no_row_on_either_path(tmp_path):
    path = minimal_workbook(
        tmp_path / "errors.xlsx",
        [["n", "name"], [1, "x"], [("e", "#DIV/0!"), ("e", "#N/A")], [2, "y", ("e", "#N/A")]],
    )
    assert rows_of(path, checked=False) == rows_of(path, checked=True) == [[1, "x"], [2, "y"]]
    problems = []
    sample = inspect_file(path)
    list(iter_rows(path, sample.options, 2, lambda *p: problems.append(p), None, False))
    assert problems == []  # an error beyond the table is no value dropped


def test_whole_floats_in_every_mix_of_kinds_are_stored_as_each_cell_alone_gives(tmp_path):
    """The search for 3.0 picks the floats out by their class (C-level passes): a column of
    floats only, floats with whole numbers, floats with text, and all three, in text and number
    columns, give what converting each cell on its own gives, in the stored file too."""
    header = ["floats", "with_ints", "with_text", "all", "as_real", "as_int"]
    rows = [header]
    for i in range(2500):  # two batches: the whole float only in the second for some columns
        late = 3.0 if i == 2301 else i + 0.5  # written "3.0" and "2303.5"
        rows.append(
            [
                4.0 if i == 7 else i + 0.25,
                late if i % 2 else i,
                7.0 if i == 11 else f"t{i}" if i % 3 else i + 0.75,
                [i, i + 0.5, f"w{i}", 12.0][i % 4],
                5.0 if i % 2 else i,
                6.0 if i % 2 else i,
            ]
        )
    path = minimal_workbook(tmp_path / "kinds.xlsx", rows)
    fast, checked = rows_of(path, checked=False), rows_of(path, checked=True)
    assert [[(type(v), v) for v in r] for r in fast] == [[(type(v), v) for v in r] for r in checked]
    assert fast[7][0] == 4 and fast[2301][1] == 3 and fast[11][2] == 7 and fast[3][3] == 12
    sample = inspect_file(path)
    kinds = ["text", "text", "text", "text", "real", "integer"]
    outcome = load_file(path, tmp_path / "kinds.db", sample, kinds)
    stored = read_rows(tmp_path / "kinds.db", outcome.columns, limit=3000)
    assert stored[7][1] == "4" and stored[8][1] == "8.25" and stored[2301][2] == "3"
    assert stored[11][3] == "7" and stored[3][4] == "12" and stored[2][4] == "w2"
    assert stored[1][5:] == (5.0, 6) and stored[2][5:] == (2.0, 2)
    assert [type(v) for v in stored[1][5:]] == [float, int]


def test_excel_errors_are_counted_as_before_and_a_sheet_without_them_skips_the_count(tmp_path):
    """The stream notes whether any cell held an Excel error's text; with none, the scan that
    counts them after the load is skipped, and the count is the scan's where there are some
    (error cells and text written like one alike, past the first batch too)."""
    rows = [typical(i) for i in range(ROWS)]
    clean = workbook(tmp_path / "clean.xlsx", rows)
    sample = inspect_file(clean)
    streamed = iter_rows(clean, sample.options, 7, lambda *a: None, None, False)
    assert sum(1 for _ in streamed) == ROWS and streamed.error_free()
    outcome = load_file(clean, tmp_path / "clean.db", sample)
    assert outcome.result.excel_errors == {}
    assert count_excel_errors(connect(tmp_path / "clean.db"), outcome.columns, 1) == {}

    rows[3100][5] = "#N/A"  # typed as text
    rows[4400][1] = "#DIV/0!"
    typed = workbook(tmp_path / "typed.xlsx", rows)
    sample = inspect_file(typed)
    streamed = iter_rows(typed, sample.options, 7, lambda *a: None, None, False)
    assert sum(1 for _ in streamed) == ROWS and not streamed.error_free()
    outcome = load_file(typed, tmp_path / "typed.db", sample)
    assert outcome.result.excel_errors == {"name": 1, "ratio": 1}
    assert count_excel_errors(connect(tmp_path / "typed.db"), outcome.columns, 1) == {
        "name": 1,
        "ratio": 1,
    }

    cells = minimal_workbook(
        tmp_path / "cells.xlsx",
        [["n", "v"]] + [[i, ("e", "#DIV/0!") if i == 2500 else i] for i in range(3000)],
    )
    outcome = load_file(cells, tmp_path / "cells.db", inspect_file(cells))
    assert outcome.result.excel_errors == {"v": 1}


POOL = [
    7,
    2.5,
    3.0,
    True,
    False,
    "",
    None,
    "Ja",
    "TRUE",
    "yes",
    "1",
    "0",
    "false",
    "maybe",
    "#N/A",
    "2024-02-30",
    "2024-03-01",
    "2024-03-01 10:00:00",
    date(2023, 5, 6),
    datetime(2023, 5, 6, 7, 8, 9),
    datetime(2023, 5, 6),
    " ",
]


def _stored(db, columns):
    con = connect(db)
    try:
        picked = ", ".join(f"typeof({c.name}), {c.name}" for c in columns)
        return con.execute(f"SELECT {picked} FROM rows ORDER BY rowid").fetchall()
    finally:
        con.close()


@pytest.mark.parametrize("shift", range(6))
def test_columns_given_as_stored_hold_what_the_insert_sql_makes_of_every_value(tmp_path, shift):
    """A streamed sheet gives its yes/no, number, date and text columns as SQLite stores them
    (the insert binds them plainly); every kind of value in every type of column is stored,
    value by value and type by type, as the checked rows through the insert's SQL store it.
    The first batch's yes/no column holds booleans only, the next ones everything."""
    header = ("n", "ratio", "ok", "day", "at", "note")
    rows = []
    for i in range(4500):
        row = [POOL[(i * (c + 1) + c) % len(POOL)] for c in range(6)]
        if i < 2000:
            row[2] = i % 3 == 0
        rows.append(row)
    path = workbook(tmp_path / "every.xlsx", rows, header=header)
    sample = inspect_file(path)
    kinds = ["integer", "real", "boolean", "date", "datetime", "text"]
    kinds = kinds[shift:] + kinds[:shift]
    outcome = load_file(path, tmp_path / "fast.db", sample, kinds)
    streamed = iter_rows(path, sample.options, 6, lambda *a: None, None, False)
    assert streamed.give_as_stored(dict(enumerate(kinds))) == {
        i for i, k in enumerate(kinds) if k != "datetime"
    }
    checked = iter_rows(path, sample.options, 6, lambda *a: None, None, True)
    write_dataset(  # as the load reads them again when the stream fails (no columns given)
        tmp_path / "checked.db",
        outcome.columns,
        checked,
        readings=readings_for(sample, kinds),
        markers=DEFAULT_MISSING,
        excel=True,
    )
    fast, slow = (
        _stored(tmp_path / "fast.db", outcome.columns),
        _stored(tmp_path / "checked.db", outcome.columns),
    )
    assert len(fast) == len(slow) > 4000
    assert fast == slow
    if kinds[2] == "boolean":  # booleans only, bound as they come: 1 and 0
        con = connect(tmp_path / "fast.db")
        first = con.execute("SELECT c3 FROM rows WHERE rowid <= 3").fetchall()
        con.close()
        assert first == [(1,), (0,), (0,)]
