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

import functools
import sqlite3
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from ..importers.delimited import SPLIT_SENTINEL
from ..importers.types import FALSE_WORDS, TRUE_WORDS
from ..sqlite_files import connect, copy_file, durable_rename

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
    split_at: int | None = None  # where a helper process took over (a two-halves load)


class Stopped(Exception):
    """The load was stopped by its ``should_stop`` callback (a cancel)."""


class StartAgain(Exception):
    """The unchecked fast path met a row it cannot take: the load starts again from the
    checked rows."""


class RaggedRow(StartAgain):
    """A row had another number of cells than the table (only from the unchecked fast path)."""


class BadValues(Exception):
    """Values did not fit their column's type and the person chose to refuse the import."""

    def __init__(self, result: LoadResult) -> None:
        count = result.problem_count
        noun = "value does not fit its" if count == 1 else "values do not fit their"
        super().__init__(f"{count:,} {noun} column's type.")
        self.result = result

    def __reduce__(self):  # rebuilt from its result when an import's helper process sends it
        return (BadValues, (self.result,))


def _boolean_cases() -> str:
    # Exact spellings (true, True, TRUE…): lower() and trim() on every value cost 20% of a
    # load. The commonest come first, so a typical value matches in one to four comparisons.
    pairs = list(zip((*TRUE_WORDS, "1"), (*FALSE_WORDS, "0"), strict=True))
    cases = []
    for change in (str, str.title, str.upper):
        for true, false in pairs:
            for word, value in ((true, 1), (false, 0)):
                case = f"WHEN '{change(word)}' THEN {value}"
                if case not in cases:
                    cases.append(case)
    return " ".join(cases)


_BOOLEAN_CASES = _boolean_cases()


def _insert_expression(index: int, kind: str) -> str:
    return value_expression(f"?{index}", kind)


def value_expression(p: str, kind: str) -> str:
    """The SQL that stores ``p`` (a parameter or a column) as ``kind``.

    Only what column affinity cannot do is spelled out: empty text becomes NULL, yes/no words
    become 1/0, a date alone in a datetime column becomes its midnight. Values that do not fit
    are found afterwards by :func:`bad_value` (checking dates here instead made the load 20%
    slower than the scan after it).
    """
    if kind == "boolean":
        return f"CASE {p} {_BOOLEAN_CASES} WHEN '' THEN NULL ELSE {p} END"
    if kind == "datetime":  # a date alone is its midnight, stored as such so filters find it
        return (
            f"CASE length({p}) WHEN 10 THEN CASE WHEN date({p}, '+0 days') IS {p} "
            f"THEN {p} || ' 00:00:00' ELSE {p} END WHEN 0 THEN NULL ELSE {p} END"
        )
    return f"NULLIF({p}, '')"


def bad_value(column: Column) -> str:
    """SQL that is true for a stored value that does not fit the column's type.

    A date is valid when SQLite's date() gives it back unchanged: date() takes 2024-02-30 as it
    is, but date(…, '+0 days') rolls it over to March, and a month 13 or a day 00 comes back as
    NULL. A datetime in the usual form is tested the same way; other ISO forms (with T, without
    seconds, with a fraction or an offset) must parse, and their own date part must be valid
    (an offset may move the moment to another day). Faster
    than matching GLOB patterns first (a quarter of the cost of a check of every column).
    """
    c = column.name
    return {
        "integer": f"typeof({c}) NOT IN ('integer', 'null')",
        "real": f"typeof({c}) NOT IN ('real', 'integer', 'null')",
        "boolean": f"({c} IS NOT NULL AND (typeof({c}) != 'integer' OR {c} NOT IN (0, 1)))",
        "date": f"date({c}, '+0 days') IS NOT {c}",
        "datetime": f"(datetime({c}, '+0 days') IS NOT {c} AND (datetime({c}) IS NULL OR "
        f"date(substr({c}, 1, 10), '+0 days') IS NOT substr({c}, 1, 10)))",
    }.get(column.type, "0")


TYPE_MESSAGES = {
    "integer": "is not a whole number",
    "real": "is not a number",
    "boolean": "is not yes/no (true, false, yes, no, 1, 0)",
    "date": "is not a date (YYYY-MM-DD)",
    "datetime": "is not a date and time (YYYY-MM-DD HH:MM:SS)",
}


def write_dataset(
    path: Path,
    columns: list[Column],
    rows: Iterable[list],
    *,
    checked_rows: Callable[[], Iterable[list]] | None = None,
    refuse_bad_values: bool = False,
    base: Path | None = None,
    should_stop: Callable[[], bool] | None = None,
    text_may_hold_nul: bool = True,
    second_half: SecondHalf | None = None,
    fitting: Callable[[], set[str]] | None = None,
) -> LoadResult:
    """Write ``rows`` to a new dataset file at ``path``, all or nothing.

    The rows go to ``path`` + ``.partial`` first, which becomes ``path`` only when complete; on
    any exception it is deleted. ``rows`` may be an unchecked fast stream (a bare csv.reader):
    if a row has the wrong number of cells, the load starts again from ``checked_rows()``.
    With ``base``, the new file starts as a copy of that dataset (appending). Bad values
    become empty and are listed, or, with ``refuse_bad_values``, raise :class:`BadValues`.
    ``should_stop`` is asked every few milliseconds; True stops the load (:class:`Stopped`).
    With ``second_half``, ``rows`` is the first half of the file, ending in a sentinel row,
    and another process loads the second half meanwhile; if anything about the split is off,
    the load starts again from ``checked_rows()``. ``fitting()``, asked after the load, names
    the columns whose every value is known to fit (a reader that saw them all): the check
    passes over them.
    """
    partial = path.with_name(path.name + ".partial")
    partial.unlink(missing_ok=True)
    load = functools.partial(
        _write, partial, columns, refuse_bad_values, base, should_stop, text_may_hold_nul
    )
    try:
        try:
            result = load(rows, second_half, fitting)
        except StartAgain:
            if checked_rows is None:
                raise
            partial.unlink(missing_ok=True)
            result = load(checked_rows())  # no split, every column checked
        durable_rename(partial, path)
        return result
    except BaseException:
        partial.unlink(missing_ok=True)
        raise


def _write(
    partial,
    columns,
    refuse_bad_values,
    base,
    should_stop,
    nul,
    rows,
    second_half=None,
    fitting=None,
) -> LoadResult:
    start = time.perf_counter()
    if base is not None:
        copy_file(base, partial)
    con = connect(partial)
    try:
        first_new = 1
        if base is None:
            new_table(con, columns)
        else:
            _bulk_pragmas(con)
            con.execute("DROP TABLE IF EXISTS rows_fts")
            drop_search_sets(con)
            first_new = con.execute("SELECT coalesce(max(rowid), 0) + 1 FROM rows").fetchone()[0]
        if second_half is not None:
            second_half.start(partial, columns, refuse_bad_values, nul)
        bulk_insert(con, columns, rows, should_stop)
        if second_half is not None:
            _drop_sentinel_row(con)
        loaded = time.perf_counter()
        fine = fitting() if fitting is not None else set()
        unsure = [c for c in columns if c.name not in fine]
        result = check_values(con, unsure, first_new, refuse_bad_values, nul)
        if second_half is not None:
            _add_second_half(con, result, second_half.finish(should_stop))
            result.split_at = second_half.start_byte
        if refuse_bad_values and result.problem_count:
            raise BadValues(result)
        result.seconds_load = loaded - start
        result.seconds_check = time.perf_counter() - loaded
        indexed = time.perf_counter()
        build_search_index(con, columns)
        result.seconds_index = time.perf_counter() - indexed
        result.rows = con.execute("SELECT count(*) FROM rows").fetchone()[0]
        con.execute("PRAGMA journal_mode = WAL")
    finally:
        con.close()
        if second_half is not None:
            second_half.discard()
    return result


def _bulk_pragmas(con: sqlite3.Connection) -> None:
    # A partial file is thrown away on any failure, so the bulk load needs no journal.
    con.execute("PRAGMA journal_mode = OFF")
    con.execute("PRAGMA synchronous = OFF")
    con.execute("PRAGMA cache_size = -8192")


def new_table(con: sqlite3.Connection, columns: list[Column]) -> None:
    """The ``rows`` table in a new partial file, set up for a bulk load."""
    _bulk_pragmas(con)
    definitions = ", ".join(f"{c.name} {STORAGE_TYPES[c.type]}" for c in columns)
    con.execute(f"CREATE TABLE rows ({definitions})")


class SecondHalf(Protocol):
    """Loads the second half of a file into a dataset file of its own, in another process."""

    start_byte: int

    def start(self, partial: Path, columns: list[Column], refuse: bool, nul: bool) -> None: ...

    def finish(self, should_stop: Callable[[], bool] | None) -> tuple[Path, LoadResult]:
        """Wait for the other process: its file and result. Raises :class:`RaggedRow` if
        the load must start again, :class:`Stopped` on a cancel."""
        ...

    def discard(self) -> None: ...


def _drop_sentinel_row(con: sqlite3.Connection) -> None:
    """The first half ends in a row of sentinels only if it was split between records."""
    last = con.execute("SELECT rowid, c1 FROM rows ORDER BY rowid DESC LIMIT 1").fetchone()
    if last is None or last[1] != SPLIT_SENTINEL:
        raise RaggedRow("the file was not split between two records")
    con.execute("DELETE FROM rows WHERE rowid = ?", (last[0],))


def _add_second_half(
    con: sqlite3.Connection, result: LoadResult, half: tuple[Path, LoadResult]
) -> None:
    """Append the other process's rows (SQLite copies the records as they are) and its
    problems, numbered after this half's rows."""
    path, other = half
    offset = con.execute("SELECT count(*) FROM rows").fetchone()[0]
    con.execute("ATTACH DATABASE ? AS half", (str(path),))
    try:
        con.execute("BEGIN")
        con.execute("INSERT INTO main.rows SELECT * FROM half.rows")
        con.execute("COMMIT")
    finally:
        con.execute("DETACH DATABASE half")
    result.problem_count += other.problem_count
    for problem in other.problems[: max(0, PROBLEM_CAP - len(result.problems))]:
        problem.row += offset
        result.problems.append(problem)
    result.warnings.extend(other.warnings)


def bulk_insert(
    con: sqlite3.Connection,
    columns: list[Column],
    rows: Iterable[list],
    should_stop: Callable[[], bool] | None,
) -> None:
    """One statement, one transaction, a stream of rows: no per-row Python on this side."""
    values = ", ".join(_insert_expression(i, c.type) for i, c in enumerate(columns, 1))
    if should_stop is not None:
        con.set_progress_handler(should_stop, 200_000)
    con.execute("BEGIN")
    try:
        con.executemany(f"INSERT INTO rows VALUES ({values})", rows)
    except sqlite3.ProgrammingError as exc:
        con.execute("ROLLBACK")
        if "number of bindings" in str(exc):
            raise RaggedRow(str(exc)) from None
        raise
    except OverflowError as exc:  # an integer beyond 64 bits (the checked rows make it a float)
        con.execute("ROLLBACK")
        raise StartAgain(str(exc)) from None
    except sqlite3.OperationalError as exc:
        if con.in_transaction:
            con.execute("ROLLBACK")
        if "interrupted" in str(exc):
            raise Stopped() from None
        raise
    finally:
        con.set_progress_handler(None, 0)
    con.execute("COMMIT")


def check_values(
    con: sqlite3.Connection, columns: list[Column], first_new: int, refuse: bool, nul: bool = True
) -> LoadResult:
    """Find the values that did not fit their type (and NUL characters in text), in one scan
    when there are none; list each bad value when there are."""
    result = LoadResult(rows=0)
    checked = [c for c in columns if c.type != "text"]
    texts = [c for c in columns if c.type == "text"] if nul else []
    predicates = [bad_value(c) for c in checked]
    predicates += [f"instr({c.name}, char(0)) > 0" for c in texts]
    if not predicates:
        return result
    any_bad = con.execute(
        f"SELECT 1 FROM rows WHERE rowid >= ? AND ({' OR '.join(predicates)}) LIMIT 1",
        (first_new,),
    ).fetchone()
    if not any_bad:
        return result
    con.execute("BEGIN")
    for column in checked:
        bad = bad_value(column)
        count = con.execute(
            f"SELECT count(*) FROM rows WHERE rowid >= ? AND {bad}", (first_new,)
        ).fetchone()[0]
        if not count:
            continue
        result.problem_count += count
        room = max(0, PROBLEM_CAP - len(result.problems))
        for rowid, value in con.execute(
            f"SELECT rowid, {column.name} FROM rows WHERE rowid >= ? AND {bad} "
            "ORDER BY rowid LIMIT ?",
            (first_new, room),
        ):
            result.problems.append(
                Problem(
                    rowid - first_new + 1,
                    column.label,
                    str(value)[:200],
                    TYPE_MESSAGES[column.type],
                )
            )
        if not refuse:
            con.execute(
                f"UPDATE rows SET {column.name} = NULL WHERE rowid >= ? AND {bad}", (first_new,)
            )
    for column in texts:
        # SQLite's replace() stops at a NUL, so clean these (rare) cells in Python.
        dirty = con.execute(
            f"SELECT rowid, {column.name} FROM rows "
            f"WHERE rowid >= ? AND instr({column.name}, char(0)) > 0",
            (first_new,),
        ).fetchall()
        if dirty:
            con.executemany(
                f"UPDATE rows SET {column.name} = NULLIF(?, '') WHERE rowid = ?",
                [(value.replace("\x00", ""), rowid) for rowid, value in dirty],
            )
            result.warnings.append(
                f"{len(dirty)} cells of {column.label} held NUL characters, removed."
            )
    con.execute("COMMIT")
    result.problems.sort(key=lambda p: p.row)
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


def read_rows(path: Path, columns: list[Column], limit: int, offset_rowid: int = 0) -> list[tuple]:
    """Rows after ``offset_rowid`` in storage order (keyset, never OFFSET)."""
    con = connect(path)
    try:
        names = ", ".join(c.name for c in columns)
        return con.execute(
            f"SELECT rowid, {names} FROM rows WHERE rowid > ? ORDER BY rowid LIMIT ?",
            (offset_rowid, limit),
        ).fetchall()
    finally:
        con.close()


def append_rows(
    base: Path, base_columns: list[Column], fresh: Path, fresh_columns: list[Column]
) -> int:
    """Make ``fresh`` hold ``base``'s rows followed by its own (columns paired by position),
    in the base's columns; all or nothing. Returns the row count."""
    merged = fresh.with_name(fresh.name + ".merged")
    merged.unlink(missing_ok=True)
    try:
        copy_file(base, merged)
        con = connect(merged)
        try:
            con.execute("ATTACH DATABASE ? AS fresh", (str(fresh),))
            con.execute("DROP TABLE IF EXISTS rows_fts")
            drop_search_sets(con)
            con.execute(
                f"INSERT INTO rows ({', '.join(c.name for c in base_columns)}) "
                f"SELECT {', '.join(c.name for c in fresh_columns)} FROM fresh.rows ORDER BY rowid"
            )
            con.execute("DETACH DATABASE fresh")
            build_search_index(con, base_columns)
            total = con.execute("SELECT count(*) FROM rows").fetchone()[0]
        finally:
            con.close()
        durable_rename(merged, fresh)
    except BaseException:
        merged.unlink(missing_ok=True)
        raise
    return total


def drop_search_sets(con: sqlite3.Connection) -> None:
    """Forget the kept search results (see browse.search_set): a copy whose rows are about to
    change must not answer with the matches of the rows it came from."""
    names = [
        row[0]
        for row in con.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND substr(name, 1, 7) = 'search_'"
        )
    ]
    for name in names:
        con.execute(f"DROP TABLE IF EXISTS {name}")
