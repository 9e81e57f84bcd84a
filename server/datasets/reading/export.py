"""Exporting a view of a dataset to CSV, Excel or JSON, streamed in constant memory.

Text that a spreadsheet would run as a formula gets a leading apostrophe in CSV and Excel
output, in any column (server/formula_guard.py has the rule); JSON is data, written as stored.
Numbers are written as numbers, so a negative amount stays a number.
"""

from __future__ import annotations

import csv
import io
import json
import re
import sqlite3
import tempfile
from collections.abc import Iterator
from pathlib import Path

from ...formula_guard import SEPARATOR, any_risky, is_risky, neutralise, neutralise_sql
from ..storage import Column
from .browse import View, where

FORMATS = {
    "csv": "CSV",
    "csv-bom": "CSV for Excel (UTF-8 with BOM)",
    "xlsx": "Excel",
    "json": "JSON",
}
MEDIA_TYPES = {
    "csv": "text/csv",
    "csv-bom": "text/csv",
    "json": "application/json",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
BATCH = 1000


def _display(column: Column, value: object) -> object:
    if column.type == "boolean" and value in (0, 1):
        return bool(value)
    return value


def batches_of(
    con: sqlite3.Connection,
    columns: list[Column],
    view: View,
    searchable: bool,
    select: list[str] | None = None,
) -> Iterator[list[tuple]]:
    """The view's rows in its order, a batch at a time (``select``: one SQL expression per
    column, the plain columns by default)."""
    clause, params = where(view, columns, searchable)
    direction = "DESC" if view.descending else "ASC"
    order = f"{view.sort} {direction}, rowid {direction}" if view.sort else "rowid"
    expressions = ", ".join(select or [c.name for c in columns])
    cursor = con.execute(f"SELECT {expressions} FROM rows WHERE {clause} ORDER BY {order}", params)
    while batch := cursor.fetchmany(BATCH):
        yield batch


def rows_of(
    con: sqlite3.Connection, columns: list[Column], view: View, searchable: bool
) -> Iterator[tuple]:
    """Every row of the view in its order."""
    for batch in batches_of(con, columns, view, searchable):
        yield from batch


TEXT_TYPES = ("text", "date", "datetime")  # stored as text (TEXT affinity), or NULL
_NEEDS_QUOTES = re.compile(b'[,"\r\n]')  # what makes csv.writer (excel dialect) quote a field


def csv_select(columns: list[Column]) -> list[str]:
    """Each column as :func:`csv_chunks` wants it, worked out by SQLite, NULL as ``''``.
    A text column (text, date, datetime) comes out as stored: csv_chunks checks a whole batch
    of it for the formula guard at once. Any other column can hold numbers and text that did
    not fit its type: its text goes through the formula guard's SQL, an integer comes out as
    its digits (as Python writes it), a real as a number for Python to write (SQLite writes
    some with other digits), and a boolean as ``true`` or ``false``."""
    expressions = []
    for c in columns:
        if c.type in TEXT_TYPES:
            expressions.append(f"ifnull({c.name}, '')")
            continue
        typed = (
            f"CASE typeof({c.name}) WHEN 'integer' THEN CAST({c.name} AS TEXT) "
            f"WHEN 'null' THEN '' ELSE {neutralise_sql(c.name)} END"
        )
        if c.type == "boolean":
            typed = f"CASE {c.name} WHEN 1 THEN 'true' WHEN 0 THEN 'false' ELSE {typed} END"
        expressions.append(typed)
    return expressions


def csv_batches(
    con: sqlite3.Connection, columns: list[Column], view: View, searchable: bool
) -> Iterator[list[tuple]]:
    """The view's rows for :func:`csv_chunks`, a batch at a time: selected with
    :func:`csv_select`, their text as UTF-8 bytes (``con`` is the export's own: its text
    stays bytes), which saves decoding it only to encode it again."""
    con.text_factory = bytes
    return batches_of(con, columns, view, searchable, csv_select(columns))


def csv_chunks(columns: list[Column], batches: Iterator[list[tuple]], bom: bool) -> Iterator[bytes]:
    """CSV for ``batches`` of rows from :func:`csv_batches`, one chunk per batch (the header
    with the first), byte for byte what ``csv.writer`` writes (UTF-8) for the rows with the
    formula guard applied to every text."""
    texts = frozenset(i for i, c in enumerate(columns) if c.type in TEXT_TYPES)
    head = io.StringIO()
    if bom:
        head.write("\ufeff")
    csv.writer(head, lineterminator="\r\n").writerow([neutralise(c.label) for c in columns])
    first = head.getvalue().encode()
    for batch in batches:
        try:
            lines = _lines(batch, texts)
        except TypeError:  # a text column holding a number (or text as str): csv.writer decides
            lines = _written(batch, texts)
        yield first + lines
        first = b""
    if first:
        yield first


def _lines(batch: list[tuple], texts: frozenset[int]) -> bytes:
    """The batch's CSV lines as csv.writer writes them, worked out a column at a time, which
    is about twice as fast: each column's values joined once, and one regex scan of that
    says whether any needs the formula guard, another whether any needs quotes (most
    columns need neither); only then is each value of that column looked at. Raises
    TypeError when a column of ``texts`` holds something other than bytes."""
    fields = []
    # Every row of a batch has the same width (one SELECT): zip need not check it.
    for index, values in enumerate(zip(*batch, strict=False)):
        if index in texts:
            joined = SEPARATOR + SEPARATOR.join(values)
            if any_risky(joined):
                values = [_neutralised(v) for v in values]
            if _NEEDS_QUOTES.search(joined):
                values = [_quoted(v) if _NEEDS_QUOTES.search(v) else v for v in values]
        else:
            values = _typed(values)
        fields.append(values)
    if len(fields) == 1:  # csv.writer quotes a line's only field when it is empty
        fields = [[v or b'""' for v in fields[0]]]
    lines = b"\r\n".join(map(b",".join, zip(*fields, strict=False)))
    return lines + b"\r\n" if lines else lines  # no rows, no line


def _typed(values: tuple) -> list[bytes]:
    """A typed column's values from csv_select (text, and reals) as csv.writer writes them:
    a real as ``repr`` gives it. A column of text only, or of reals only, goes in one go."""
    try:
        joined = b"".join(values)
    except TypeError:  # reals among them
        try:  # reals never need quotes
            return "\x00".join(map(float.__repr__, values)).encode().split(b"\x00")
        except TypeError:  # not only reals
            values = [v if v.__class__ is bytes else _number(v) for v in values]
            joined = b"".join(values)
    if _NEEDS_QUOTES.search(joined):
        return [_quoted(v) if _NEEDS_QUOTES.search(v) else v for v in values]
    return list(values)


def _number(value: float | int) -> bytes:
    """Raises TypeError for anything but a number (text as str: csv.writer decides)."""
    return (float.__repr__ if value.__class__ is float else int.__repr__)(value).encode()


def _neutralised(value: bytes) -> bytes:
    return b"'" + value if is_risky(value.decode()) else value


def _quoted(value: bytes) -> bytes:
    return b'"' + value.replace(b'"', b'""') + b'"'


def _written(batch: list[tuple], texts: frozenset[int]) -> bytes:
    """The batch as csv.writer writes it, each value looked at in turn (the slow way)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    for row in batch:
        values = [v.decode() if isinstance(v, bytes) else v for v in row]
        writer.writerow([neutralise(v) if i in texts else v for i, v in enumerate(values)])
    return buffer.getvalue().encode()


def json_chunks(columns: list[Column], rows: Iterator[tuple]) -> Iterator[bytes]:
    yield b"[\n"
    first = True
    labels = [c.label for c in columns]
    parts = []
    for row in rows:
        record = {label: _display(c, v) for label, c, v in zip(labels, columns, row, strict=True)}
        parts.append(("" if first else ",\n") + json.dumps(record, ensure_ascii=False))
        first = False
        if len(parts) >= 2000:
            yield "".join(parts).encode()
            parts.clear()
    parts.append("\n]\n")
    yield "".join(parts).encode()


def xlsx_file(columns: list[Column], rows: Iterator[tuple], sheet_name: str) -> Path:
    """Write the rows to a temporary .xlsx (xlsxwriter's constant-memory mode) and return it;
    the caller streams and then deletes it."""
    import xlsxwriter

    handle = tempfile.NamedTemporaryFile(suffix=".xlsx", delete=False)  # noqa: SIM115
    handle.close()
    workbook = xlsxwriter.Workbook(
        handle.name,
        {
            "constant_memory": True,
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "strings_to_numbers": False,
            "default_date_format": "yyyy-mm-dd",
        },
    )
    sheet = workbook.add_worksheet(_sheet_title(sheet_name))
    bold = workbook.add_format({"bold": True})
    for index, column in enumerate(columns):
        sheet.write_string(0, index, str(neutralise(column.label)), bold)
    for number, row in enumerate(rows, start=1):
        for index, (column, value) in enumerate(zip(columns, row, strict=True)):
            if value is None:
                continue
            if column.type in ("integer", "real") and isinstance(value, int | float):
                sheet.write_number(number, index, value)
            elif column.type == "boolean" and value in (0, 1):
                sheet.write_boolean(number, index, bool(value))
            else:
                sheet.write_string(number, index, str(neutralise(str(value)))[:32767])
    workbook.close()
    return Path(handle.name)


def _sheet_title(name: str) -> str:
    cleaned = "".join("_" if ch in "[]:*?/\\" else ch for ch in name).strip("'") or "Data"
    return cleaned[:31]
