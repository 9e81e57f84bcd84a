"""The CSV export (export.csv_select read by SQLite, then export.csv_chunks) writes exactly
what csv.writer writes for the stored rows with the formula guard applied to every text, in
any column: numbers as Python writes them, booleans as true/false, NULL as an empty cell, text
that did not fit its column's type as written (neutralised when risky). csv_chunks works a
column of a batch at a time; these tests compare it byte for byte with the plain csv.writer
over many batches, of values chosen to hit every branch (quotes, line breaks, risky starts,
NUL characters, a number in a text column)."""

from __future__ import annotations

import csv
import io
import random
import sqlite3

import pytest

from server.datasets.reading import browse, export
from server.datasets.storage import STORAGE_TYPES, Column
from server.formula_guard import neutralise

TEXTS = [
    "",
    "plain",
    "Ann",
    'Bo "B"',
    "line\nbreak",
    "crlf\r\nin",
    "cr\ronly",
    "comma, here",
    "王伟",
    "Ø",
    "'=1+1",
    "=1+2",
    "+1",
    "-2+3",
    "@SUM(A1)",
    "\t=1",
    "\n=1",
    "\uff1d1",
    " =1+1",
    "\u00a0@cmd",
    "\u3000-1",
    " x",
    "\u3000",
    "1-2",
    "a\x00=b",
    "\x00",
    '"',
    ",",
    "2024-01-02",
    "true",
]
NUMBERS = [0, 1, -7, 2**62, -3.5, 0.1 + 0.2, 1e16, 1e-7, 2.0, float("inf"), float("-inf")]
TYPES = ["text", "date", "datetime", "integer", "real", "boolean"]


def _table(rows: list[tuple], types: list[str]) -> tuple[sqlite3.Connection, list[Column]]:
    columns = [Column(f"c{i}", f"Col {i}", kind) for i, kind in enumerate(types, 1)]
    con = sqlite3.connect(":memory:")
    declared = ", ".join(f"{c.name} {STORAGE_TYPES[c.type]}" for c in columns)
    con.execute(f"CREATE TABLE rows ({declared})")
    marks = ", ".join("?" * len(columns))
    con.executemany(f"INSERT INTO rows VALUES ({marks})", rows)
    return con, columns


def _reference(con: sqlite3.Connection, columns: list[Column], bom: bool = False) -> bytes:
    """What the export must write: csv.writer over the stored values, each neutralised in
    Python, booleans spelled out."""

    def cell(column: Column, value: object) -> object:
        if column.type == "boolean" and value in (0, 1) and not isinstance(value, str):
            return "true" if value == 1 else "false"
        return neutralise(value)

    con.text_factory = str  # as stored (the export reads its text as bytes)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    if bom:
        buffer.write("\ufeff")
    writer.writerow([neutralise(c.label) for c in columns])
    names = ", ".join(c.name for c in columns)
    for row in con.execute(f"SELECT {names} FROM rows ORDER BY rowid"):
        writer.writerow([cell(c, v) for c, v in zip(columns, row, strict=True)])
    return buffer.getvalue().encode()


def _exported(con: sqlite3.Connection, columns: list[Column], bom: bool = False) -> list[bytes]:
    batches = export.csv_batches(con, columns, browse.View(), False)
    return list(export.csv_chunks(columns, batches, bom=bom))


def _value(rng: random.Random, kind: str, calm: bool) -> object:
    """A value a column of ``kind`` may hold; ``calm`` keeps to values needing no quotes and
    no guard, so some batches take the path where a column needs neither."""
    if rng.random() < 0.1:
        return None
    if calm:
        return rng.choice(["plain", "Ann", "王伟", "Ø", "1-2", "2024-01-02", 5, 2.5])
    if kind in ("integer", "real"):
        return rng.choice(NUMBERS) if rng.random() < 0.8 else rng.choice(TEXTS)
    if kind == "boolean":
        return rng.choice([0, 1, 1, 0, 2, 0.5, 1.0, "=1", "maybe", ""])
    return rng.choice(TEXTS)


@pytest.mark.parametrize("seed", range(12))
def test_the_export_is_what_csv_writer_writes(seed, monkeypatch):
    monkeypatch.setattr(export, "BATCH", 7)  # many batches: calm ones and troubled ones
    rng = random.Random(seed)
    width = 1 if seed % 4 == 0 else rng.randint(2, 7)
    types = [rng.choice(TYPES) for _ in range(width)]
    rows = []
    for block in range(12):
        calm = block % 3 == 0
        rows += [tuple(_value(rng, kind, calm) for kind in types) for _ in range(7)]
    con, columns = _table(rows, types)
    chunks = _exported(con, columns)
    assert b"".join(chunks) == _reference(con, columns)
    assert len(chunks) == 12  # one per batch, the header with the first


def test_guard_booleans_numbers_nulls_and_values_that_did_not_fit():
    rows = [
        ("=1+2", "@SUM(A1)", "-3", 1, "\t=x", None),
        (None, -3.5, "2024-01-03", 0, 'comma, "quoted"', -7),
        ("plain", 0.1 + 0.2, None, None, "", "+A1"),
        ("\u3000-1+1", "n/a", "+1", "yes", "\uff0b9", 1e16),
    ]
    con, columns = _table(rows, ["text", "real", "date", "boolean", "text", "integer"])
    assert b"".join(_exported(con, columns)).decode() == (
        "Col 1,Col 2,Col 3,Col 4,Col 5,Col 6\r\n"
        "'=1+2,'@SUM(A1),'-3,true,'\t=x,\r\n"
        ',-3.5,2024-01-03,false,"comma, ""quoted""",-7\r\n'
        "plain,0.30000000000000004,,,,'+A1\r\n"
        "'\u3000-1+1,n/a,'+1,yes,'\uff0b9,10000000000000000\r\n"  # integer affinity
    )


def test_a_text_column_holding_a_number_is_written_as_csv_writer_would():
    con, columns = _table([("a", "b"), ("c", "d")], ["text", "text"])
    con.execute("CREATE TABLE other (c1 INTEGER, c2 TEXT)")  # a column whose type changed
    con.execute("INSERT INTO other VALUES (-5, '=x'), (2.5, 'y')")
    con.execute("DROP TABLE rows")
    con.execute("ALTER TABLE other RENAME TO rows")
    assert b"".join(_exported(con, columns)) == _reference(con, columns)
    assert b"".join(_exported(con, columns)).endswith(b"-5,'=x\r\n2.5,y\r\n")


@pytest.mark.parametrize("bom", [False, True])
def test_the_header_is_neutralised_and_no_rows_is_the_header(bom):
    con, columns = _table([], ["text", "real"])
    columns = [Column("c1", "Name, full", "text"), Column("c2", "=Sum", "real")]
    chunks = _exported(con, columns, bom=bom)
    assert chunks == [("\ufeff" if bom else "").encode() + b'"Name, full",\'=Sum\r\n']


def test_a_one_column_line_with_an_empty_cell_is_quoted_as_csv_writer_does():
    con, columns = _table([("",), (None,), ("x",)], ["text"])
    assert b"".join(_exported(con, columns)) == b'Col 1\r\n""\r\n""\r\nx\r\n'
    assert b"".join(_exported(con, columns)) == _reference(con, columns)
