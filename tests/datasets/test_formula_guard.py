"""Text a spreadsheet would run as a formula is neutralised by its value, not by its column's
declared type, in every CSV Sheaf writes (exports and the import's problem list, header rows
included) and in Excel; the SQL fast path and the Python guard follow the same rule; numbers
stay numbers."""

from __future__ import annotations

import csv
import io
import json
import sqlite3

import pytest

from server.datasets.catalog import columns_of, dataset_file
from server.formula_guard import SEPARATOR, any_risky, is_risky, neutralise, neutralise_sql
from tests.datasets.helpers import run_import
from tests.helpers import make_dataset, signed_in

RISKY = [
    "=1+2",
    "+1",
    "-2+3",
    "@SUM(A1)",
    "\t=1",
    "\r=1",
    "\n=1+1",  # line feed: OWASP's list since 2023
    "\uff1d1+1",  # full-width equals sign
    "\uff0b1",
    "\uff0d1",
    "\uff20SUM(A1)",
    " =1+1",  # leading space, which some spreadsheets skip
    "\u00a0@cmd",
    "\u3000=1",
    "  \t -1",
]
HARMLESS = ["", "plain", "1-2", "a=b", "'=already", " x", "\u3000", "\u200b=1", "2024-01-02"]


def test_the_python_and_sql_guards_agree_on_every_first_character():
    values = RISKY + HARMLESS
    for code in range(0x3100):
        values += [chr(code) + "1", " " + chr(code) + "1"]
    values += [chr(code) + "x" for code in range(0xFF00, 0xFF60)]
    con = sqlite3.connect(":memory:")
    con.execute("CREATE TABLE t (v)")
    con.executemany("INSERT INTO t VALUES (?)", [(v,) for v in values])
    through_sql = [row[0] for row in con.execute(f"SELECT {neutralise_sql('v')} FROM t")]
    assert through_sql == [neutralise(v) for v in values]
    for value in RISKY:
        assert neutralise(value) == "'" + value, repr(value)
    for value in HARMLESS:
        assert neutralise(value) == value, repr(value)


def test_the_batch_check_misses_no_risky_text():
    """any_risky (the CSV export's check of a column of a batch at once) finds every text
    is_risky finds, wherever it stands among others; it may only raise a false alarm."""
    values = RISKY + HARMLESS
    for code in range(0x3100):
        values += [chr(code) + "1", " " + chr(code) + "1"]
    for value in values:
        for texts in ([value], ["plain", value, "x"], ["", value]):
            joined = SEPARATOR + SEPARATOR.join(t.encode() for t in texts)
            assert any_risky(joined) >= any(map(is_risky, texts)), repr(value)
    calm = [t.encode() for t in ["plain", "1-2", "a=b", "'=already", "2024", "王伟", "", "x, y"]]
    assert not any_risky(SEPARATOR + SEPARATOR.join(calm))
    assert any_risky(SEPARATOR + SEPARATOR.join([*calm, "\uff1d1".encode()]))


@pytest.mark.parametrize("number", [-3, -2.5, 0, 7, 1e300, None])
def test_numbers_and_nulls_stay_as_they_are(number):
    con = sqlite3.connect(":memory:")
    assert con.execute(f"SELECT {neutralise_sql('?1')}", (number,)).fetchone()[0] == number
    assert neutralise(number) == number


@pytest.fixture
def mixed(app, people):
    """A dataset of every type whose cells hold risky text in every column, numbers among
    them: text in a number column happens (a cell edit, an older file, a restored one)."""
    dataset = make_dataset(
        app,
        people["editor"],
        "id,amount,day,flag,\uff1dnote\n"
        + "".join(f"{i},{i}.5,2024-01-0{i},yes,plain\n" for i in range(1, 5)),
        name="Mixed",
    )
    assert [c.type for c in columns_of(dataset)] == ["integer", "real", "date", "boolean", "text"]
    con = sqlite3.connect(dataset_file(app.config["DATA_DIR"], dataset.storage_key))
    with con:
        con.executemany(
            "UPDATE rows SET c1 = ?, c2 = ?, c3 = ?, c4 = ?, c5 = ? WHERE rowid = ?",
            [
                ("=1+2", "@SUM(A1)", "\n=cmd", " =1+1", "\uff1d1+1", 1),
                (-7, -3.5, "\r=1", "+A1", "\u3000-1+1", 2),
                ("\uff0b9", "\t=x", "2024-01-03", 0, "-2+3", 3),
            ],
        )
    con.close()
    return dataset


EXPECTED = [
    ["id", "amount", "day", "flag", "'\uff1dnote"],
    ["'=1+2", "'@SUM(A1)", "'\n=cmd", "' =1+1", "'\uff1d1+1"],
    ["-7", "-3.5", "'\r=1", "'+A1", "'\u3000-1+1"],
    ["'\uff0b9", "'\t=x", "2024-01-03", "false", "'-2+3"],
    ["4", "4.5", "2024-01-04", "true", "plain"],
]


@pytest.mark.parametrize("fmt", ["csv", "csv-bom"])
def test_csv_exports_neutralise_text_in_every_column(app, people, mixed, fmt):
    client = signed_in(app, "eddie")
    response = client.get(f"/datasets/{mixed.id}/export?format={fmt}")
    assert response.status_code == 200
    text = response.get_data().decode("utf-8").removeprefix("\ufeff")
    assert list(csv.reader(io.StringIO(text, newline=""))) == EXPECTED


def test_excel_neutralises_the_same_cells_and_json_keeps_the_data(app, people, mixed):
    import python_calamine_plus as python_calamine

    client = signed_in(app, "eddie")
    xlsx = client.get(f"/datasets/{mixed.id}/export?format=xlsx").get_data()
    grid = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(xlsx)).get_sheet_by_index(0)
    rows = grid.to_python()
    assert rows[0] == EXPECTED[0]
    assert rows[1] == EXPECTED[1]
    assert rows[2][:2] == [-7, -3.5], "numbers stay numbers"
    neutralised = ["'\r=1", "'\u3000-1+1", "'\uff0b9", "'\t=x"]
    assert [rows[2][2], rows[2][4], rows[3][0], rows[3][1]] == neutralised
    records = json.loads(client.get(f"/datasets/{mixed.id}/export?format=json").get_data())
    assert records[0]["id"] == "=1+2" and records[1]["id"] == -7


def test_the_problem_list_neutralises_every_cell_and_its_labels(app, people):
    editor = signed_in(app, "eddie")
    content = '"\uff1dcmd|x",n\n1,1\n"\n=1+1",2\n\uff0b3,3\n'.encode()
    job = run_import(app, editor, content, type_0="integer")
    response = editor.get(f"/import/{job.id}/problems.csv")
    assert response.status_code == 200
    text = response.get_data(as_text=True).lstrip("\ufeff")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert rows[0] == ["row", "column", "value", "problem"]
    assert [row[1:3] for row in rows[1:]] == [
        ["'\uff1dcmd|x", "'\n=1+1"],
        ["'\uff1dcmd|x", "'\uff0b3"],
    ]
