"""Each dataset's rows live in a SQLite file of their own under ``datasets/`` in the data folder.

A file per dataset keeps a long import from ever holding the application database's write lock
(people keep signing in and browsing), makes an import all-or-nothing by construction (the
rows are written to a temporary file that only becomes a dataset when it is complete), and lets
the bulk load run with the journal off. Everything SQLite-specific about dataset rows lives here.

Inside, the table is ``rows`` with columns ``c1`` … ``cN``: identifiers Sheaf makes, never
taken from the file. Values are bound exactly as read; SQLite converts them (column affinity and
a small expression per type), then one scan finds the values that did not fit.
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from ..importers.types import FALSE_WORDS, TRUE_WORDS

STORAGE_TYPES = {
    "integer": "INTEGER",
    "real": "REAL",
    "boolean": "INTEGER",
    "date": "TEXT",
    "datetime": "TEXT",
    "text": "TEXT",
}
PROBLEM_CAP = 100_000  # problems listed one by one; beyond that they are counted


@dataclass(frozen=True)
class Column:
    name: str  # c1, c2, … (the SQL identifier)
    label: str  # what the file called it
    type: str  # one of importers.types.TYPES


def make_columns(labels: list[str], types: list[str]) -> list[Column]:
    return [
        Column(f"c{i}", label, kind)
        for i, (label, kind) in enumerate(zip(labels, types, strict=True), 1)
    ]


@dataclass
class Problem:
    row: int
    column: str  # the column's label
    value: str
    message: str


@dataclass
class LoadResult:
    rows: int
    problems: list[Problem] = field(default_factory=list)
    problem_count: int = 0
    warnings: list[str] = field(default_factory=list)
    seconds_load: float = 0.0
    seconds_check: float = 0.0
    seconds_index: float = 0.0


class BadValues(Exception):
    """Values did not fit their column's type and the person chose to refuse the import."""

    def __init__(self, result: LoadResult) -> None:
        super().__init__(f"{result.problem_count:,} values do not fit their column's type.")
        self.result = result


def _insert_expression(index: int, kind: str) -> str:
    param = f"?{index}"
    if kind == "boolean":
        words = [f"WHEN '{w}' THEN 1" for w in (*TRUE_WORDS, "1")]
        words += [f"WHEN '{w}' THEN 0" for w in (*FALSE_WORDS, "0")]
        return f"CASE lower(trim({param})) {' '.join(words)} WHEN '' THEN NULL ELSE {param} END"
    if kind in ("date", "datetime"):
        return f"NULLIF(trim({param}), '')"
    return f"NULLIF({param}, '')"


def _bad_value(column: Column) -> str:
    """SQL that is true for a stored value that does not fit the column's type."""
    c = column.name
    return {
        "integer": f"typeof({c}) NOT IN ('integer', 'null')",
        "real": f"typeof({c}) NOT IN ('real', 'integer', 'null')",
        "boolean": f"({c} IS NOT NULL AND (typeof({c}) != 'integer' OR {c} NOT IN (0, 1)))",
        "date": f"({c} IS NOT NULL AND date({c}) IS NOT {c})",
        "datetime": f"({c} IS NOT NULL AND datetime({c}) IS NULL)",
    }.get(column.type, "0")


_TYPE_MESSAGES = {
    "integer": "is not a whole number",
    "real": "is not a number",
    "boolean": "is not yes/no (true, false, yes, no, 1, 0)",
    "date": "is not a date (YYYY-MM-DD)",
    "datetime": "is not a date and time (YYYY-MM-DD HH:MM:SS)",
}


def connect(path: Path, *, readonly: bool = False) -> sqlite3.Connection:
    uri = f"file:{path}?mode=ro" if readonly else f"file:{path}"
    con = sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False)
    con.execute("PRAGMA busy_timeout = 10000")
    return con


def write_dataset(
    path: Path,
    columns: list[Column],
    rows: Iterable[list],
    *,
    refuse_bad_values: bool = False,
    base: Path | None = None,
    after_load: Callable[[], None] | None = None,
) -> LoadResult:
    """Write ``rows`` to a new dataset file at ``path``, all or nothing.

    The rows go to ``path`` + ``.partial`` first, which becomes ``path`` only when complete; on
    any exception (including a cancel raised by the row stream) it is deleted. With ``base``,
    the new file starts as a copy of that dataset file (appending). Bad values become empty
    and are listed, or, with ``refuse_bad_values``, raise :class:`BadValues`.
    """
    partial = path.with_name(path.name + ".partial")
    partial.unlink(missing_ok=True)
    try:
        result = _write(partial, columns, rows, refuse_bad_values, base, after_load)
        _durable_rename(partial, path)
        return result
    except BaseException:
        partial.unlink(missing_ok=True)
        raise


def _write(partial, columns, rows, refuse_bad_values, base, after_load) -> LoadResult:
    start = time.perf_counter()
    if base is not None:
        source = connect(base, readonly=True)
        target = sqlite3.connect(partial)
        with target:
            source.backup(target)
        source.close()
        target.close()
    con = connect(partial)
    try:
        # A partial file is thrown away on any failure, so the bulk load needs no journal.
        con.execute("PRAGMA journal_mode = OFF")
        con.execute("PRAGMA synchronous = OFF")
        con.execute("PRAGMA cache_size = -32768")
        first_new = 1
        if base is None:
            definitions = ", ".join(f"{c.name} {STORAGE_TYPES[c.type]}" for c in columns)
            con.execute(f"CREATE TABLE rows ({definitions})")
        else:
            con.execute("DROP TABLE IF EXISTS rows_fts")
            first_new = con.execute("SELECT coalesce(max(rowid), 0) + 1 FROM rows").fetchone()[0]
        values = ", ".join(_insert_expression(i, c.type) for i, c in enumerate(columns, 1))
        con.execute("BEGIN")
        con.executemany(f"INSERT INTO rows VALUES ({values})", rows)
        con.execute("COMMIT")
        loaded = time.perf_counter()
        if after_load:
            after_load()
        result = _check(con, columns, first_new, refuse_bad_values)
        result.seconds_load = loaded - start
        result.seconds_check = time.perf_counter() - loaded
        indexed = time.perf_counter()
        build_search_index(con, columns)
        result.seconds_index = time.perf_counter() - indexed
        result.rows = con.execute("SELECT count(*) FROM rows").fetchone()[0]
        con.execute("PRAGMA journal_mode = WAL")
    finally:
        con.close()
    return result


def _check(
    con: sqlite3.Connection, columns: list[Column], first_new: int, refuse: bool
) -> LoadResult:
    result = LoadResult(rows=0)
    checked = [c for c in columns if c.type != "text"]
    texts = [c for c in columns if c.type == "text"]
    sums = [f"sum({_bad_value(c)})" for c in checked]
    sums += [f"sum(instr({c.name}, char(0)) > 0)" for c in texts]
    if not sums:
        return result
    counts = con.execute(
        f"SELECT {', '.join(sums)} FROM rows WHERE rowid >= ?",
        (first_new,),
    ).fetchone()
    con.execute("BEGIN")
    for column, count in zip(checked, counts[: len(checked)], strict=True):
        if not count:
            continue
        result.problem_count += count
        room = max(0, PROBLEM_CAP - len(result.problems))
        for rowid, value in con.execute(
            f"SELECT rowid, {column.name} FROM rows WHERE rowid >= ? AND {_bad_value(column)} "
            "ORDER BY rowid LIMIT ?",
            (first_new, room),
        ):
            result.problems.append(
                Problem(
                    rowid - first_new + 1,
                    column.label,
                    str(value)[:200],
                    _TYPE_MESSAGES[column.type],
                )
            )
        if not refuse:
            con.execute(
                f"UPDATE rows SET {column.name} = NULL WHERE rowid >= ? AND {_bad_value(column)}",
                (first_new,),
            )
    for column, count in zip(texts, counts[len(checked) :], strict=True):
        if count:
            # SQLite's replace() stops at a NUL, so clean these (rare) cells in Python.
            dirty = con.execute(
                f"SELECT rowid, {column.name} FROM rows "
                f"WHERE rowid >= ? AND instr({column.name}, char(0)) > 0",
                (first_new,),
            ).fetchall()
            con.executemany(
                f"UPDATE rows SET {column.name} = NULLIF(?, '') WHERE rowid = ?",
                [(value.replace("\x00", ""), rowid) for rowid, value in dirty],
            )
            result.warnings.append(f"{count} cells of {column.label} held NUL characters, removed.")
    con.execute("COMMIT")
    result.problems.sort(key=lambda p: p.row)
    if refuse and result.problem_count:
        raise BadValues(result)
    return result


def build_search_index(con: sqlite3.Connection, columns: list[Column]) -> None:
    """An FTS5 index over the text columns (external content: the text is not stored twice)."""
    texts = [c.name for c in columns if c.type == "text"]
    con.execute("DROP TABLE IF EXISTS rows_fts")
    if not texts:
        return
    con.execute(
        f"CREATE VIRTUAL TABLE rows_fts USING fts5({', '.join(texts)}, content='rows', "
        "content_rowid='rowid', tokenize='unicode61 remove_diacritics 2')"
    )
    con.execute("INSERT INTO rows_fts (rows_fts) VALUES ('rebuild')")


def _durable_rename(source: Path, target: Path) -> None:
    with open(source, "rb+") as handle:
        os.fsync(handle.fileno())
    os.replace(source, target)
    if hasattr(os, "O_DIRECTORY"):
        fd = os.open(target.parent, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def read_rows(path: Path, columns: list[Column], limit: int, offset_rowid: int = 0) -> list[tuple]:
    """Rows after ``offset_rowid`` in storage order (keyset, never OFFSET)."""
    con = connect(path, readonly=True)
    try:
        names = ", ".join(c.name for c in columns)
        return con.execute(
            f"SELECT rowid, {names} FROM rows WHERE rowid > ? ORDER BY rowid LIMIT ?",
            (offset_rowid, limit),
        ).fetchall()
    finally:
        con.close()
