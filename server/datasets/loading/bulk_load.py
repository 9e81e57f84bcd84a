"""The bulk-load engine: rows streamed into a new dataset file with one statement and one
transaction, then one scan for the values that did not fit their column's type. Appends and
the two-halves load of a large file go through here too. The file format itself (columns,
types, the search index) is :mod:`..storage`'s."""

from __future__ import annotations

import functools
import sqlite3
import time
from collections import Counter, deque
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import chain, islice, repeat
from operator import itemgetter, setitem
from pathlib import Path
from typing import Protocol

from ...importers.column_batches import column_converter
from ...importers.delimited import SPLIT_SENTINEL
from ...importers.errors import ReadAgain
from ...importers.readings import Reading
from ...importers.types import EXCEL_ERRORS
from ...sqlite_files import connect, copy_file, durable_rename
from ..storage import (
    STORAGE_TYPES,
    TYPE_MESSAGES,
    Column,
    bad_value,
    build_search_index,
    drop_search_sets,
    value_expression,
)

PROBLEM_CAP = 100_000  # problems listed one by one; beyond that they are counted


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
    # Per column label: values that did not fit, values read as empty (missing markers),
    # Excel error cells (#DIV/0!…), each kept as written unless the person chose otherwise.
    misfits: dict[str, int] = field(default_factory=dict)
    missing: dict[str, int] = field(default_factory=dict)
    excel_errors: dict[str, int] = field(default_factory=dict)
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


def _insert_expression(index: int, kind: str, words: Sequence[str] = ()) -> str:
    return value_expression(f"?{index}", kind, words)


def write_dataset(
    path: Path,
    columns: list[Column],
    rows: Iterable[list],
    *,
    checked_rows: Callable[[], Iterable[list]] | None = None,
    bad_values: str = "keep",
    base: Path | None = None,
    should_stop: Callable[[], bool] | None = None,
    text_may_hold_nul: bool = True,
    second_half: SecondHalf | None = None,
    fitting: Callable[[], set[str]] | None = None,
    error_free: Callable[[], bool] | None = None,
    given: set[str] | None = None,
    readings: list[Reading] | None = None,
    markers: tuple[str, ...] = (),
    excel: bool = False,
) -> LoadResult:
    """Write ``rows`` to a new dataset file at ``path``, all or nothing.

    The rows go to ``path`` + ``.partial`` first, which becomes ``path`` only when complete; on
    any exception it is deleted. ``rows`` may be an unchecked fast stream (a bare csv.reader):
    if a row has the wrong number of cells, the load starts again from ``checked_rows()``, as
    it does when the reader raises ReadAgain (it must read the file another way).
    With ``base``, the new file starts as a copy of that dataset (appending). Values that do not
    fit their column are listed and, by ``bad_values``, kept as written ("keep", marked by not
    fitting), emptied ("empty"), or refused (:class:`BadValues`, "refuse").
    ``should_stop`` is asked every few milliseconds; True stops the load (:class:`Stopped`).
    With ``second_half``, ``rows`` is the first half of the file, ending in a sentinel row,
    and another process loads the second half meanwhile; if anything about the split is off,
    the load starts again from ``checked_rows()``. ``fitting()``, asked after the load, names
    the columns whose every value is known to fit (a reader that saw them all): the check
    passes over them; ``error_free()``, asked then too, True when that reader saw no Excel
    error's text in any cell (the count of them, a scan of every column, is skipped).
    ``given`` names the columns ``rows`` gives as SQLite stores them (bound as they are; not
    so the rows read again).
    ``readings`` say how each column writes its values (day-first dates, decimal commas…);
    ``markers`` are the words read as empty in typed columns (``NA``…).
    """
    partial = path.with_name(path.name + ".partial")
    partial.unlink(missing_ok=True)
    load = functools.partial(
        _write,
        partial,
        columns,
        bad_values,
        base,
        should_stop,
        text_may_hold_nul,
        Spec(readings, markers, excel),
    )
    try:
        try:
            result = load(rows, second_half, fitting, error_free, given or set())
        except (StartAgain, ReadAgain):  # ReadAgain: the reader reads it another way
            if checked_rows is None:
                raise
            partial.unlink(missing_ok=True)
            result = load(checked_rows())  # no split, every column checked
        if should_stop is not None and should_stop():  # e.g. a helper whose Sheaf was killed:
            raise Stopped()  # a file renamed in after the next start's clean-up would stay
        durable_rename(partial, path)
        return result
    except BaseException:
        partial.unlink(missing_ok=True)
        raise


@dataclass(frozen=True)
class Spec:
    """How to read the values: each column's reading, and the words that mean "empty"."""

    readings: list[Reading] | None = None
    markers: tuple[str, ...] = ()
    excel: bool = False  # a spreadsheet's rows: count its error cells


def _write(
    partial,
    columns,
    bad_values,
    base,
    should_stop,
    nul,
    spec,
    rows,
    second_half=None,
    fitting=None,
    error_free=None,
    given=frozenset(),
) -> LoadResult:
    start = time.perf_counter()
    if base is not None and second_half is not None:
        raise ValueError("an append is not loaded in two halves")  # see _add_second_half
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
            second_half.start(partial, columns, bad_values, nul, spec)
        converted = bulk_insert(
            con,
            columns,
            rows,
            should_stop,
            spec.readings,
            given,
            sentinel_last=second_half is not None,
        )
        if second_half is not None:
            _drop_sentinel_row(con)
        loaded = time.perf_counter()
        fine = converted | (fitting() if fitting is not None else set())
        unsure = [c for c in columns if c.name not in fine]
        # Counted before the check, which empties #N/A (a missing marker).
        counted = spec.excel and (error_free is None or not error_free())
        errors = count_excel_errors(con, columns, first_new) if counted else {}
        result = check_values(con, unsure, first_new, bad_values, nul, spec.markers)
        result.excel_errors = errors
        counted_rows = None
        if second_half is not None:
            counted_rows = _add_second_half(con, result, second_half.finish(should_stop))
            result.split_at = second_half.start_byte
        if bad_values == "refuse" and result.problem_count:
            raise BadValues(result)
        result.seconds_load = loaded - start
        result.seconds_check = time.perf_counter() - loaded
        indexed = time.perf_counter()
        build_search_index(con, columns)
        result.seconds_index = time.perf_counter() - indexed
        if counted_rows is None:
            counted_rows = con.execute("SELECT count(*) FROM rows").fetchone()[0]
        result.rows = counted_rows
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

    def start(
        self, partial: Path, columns: list[Column], on_bad: str, nul: bool, spec: Spec
    ) -> None: ...

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
) -> int:
    """Append the other process's rows (SQLite copies the records as they are) and its
    problems, numbered after this half's rows. Returns how many rows the table now has.

    A split load fills a new table, whose rows are numbered 1 to n without a gap (the
    sentinel row, dropped, was the last): its highest rowid is its count, read from the
    index's end instead of counting a million rows (30 ms, twice, while nothing else ran)."""
    path, other = half
    offset = con.execute("SELECT coalesce(max(rowid), 0) FROM rows").fetchone()[0]
    con.execute("ATTACH DATABASE ? AS half", (str(path),))
    try:
        con.execute("BEGIN")
        con.execute("INSERT INTO main.rows SELECT * FROM half.rows")
        con.execute("COMMIT")
    finally:
        con.execute("DETACH DATABASE half")
    result.problem_count += other.problem_count
    for mine, theirs in (
        (result.misfits, other.misfits),
        (result.missing, other.missing),
        (result.excel_errors, other.excel_errors),
    ):
        for label, count in theirs.items():
            mine[label] = mine.get(label, 0) + count
    for problem in other.problems[: max(0, PROBLEM_CAP - len(result.problems))]:
        problem.row += offset
        result.problems.append(problem)
    result.warnings.extend(other.warnings)
    return offset + other.rows


BATCH_ROWS = 512  # rows converted together: C-level maps, and the rows still in the CPU cache


class ConvertedRows:
    """Rows with the values of the columns that need it in the form SQLite stores (ISO dates,
    numbers); the others pass as they are, and so do all rows when none needs it. Rows are
    converted a batch at a time, column by column (:mod:`.column_batches`).

    Once the rows are read, :meth:`fitting` names the columns whose every value the
    conversion vouched for: the check after the load passes over them. With
    ``sentinel_last`` (the first half of a split file, see ``split_load``) the last row is the
    sentinel row, dropped after the load: it is passed on as written, which is what its
    conversion gives (no sentinel fits a type), and vouches for nothing."""

    def __init__(
        self,
        rows: Iterable[list],
        columns: list[Column],
        readings: list[Reading] | None,
        sentinel_last: bool = False,
    ) -> None:
        self._rows, self._columns = rows, columns
        self._pairs = (
            [
                (index, convert)
                for index, (column, reading) in enumerate(zip(columns, readings, strict=True))
                if (convert := column_converter(column.type, reading)) is not None
            ]
            if readings
            else []
        )
        self._sentinel = [SPLIT_SENTINEL] * len(columns) if sentinel_last else None
        self._held = False  # a sentinel row was held back: only the last row may be one

    def __iter__(self) -> Iterator[Sequence]:
        if not self._pairs:
            return iter(self._rows)
        return chain.from_iterable(self._batches())

    def _batches(self) -> Iterable[list]:
        width, pairs, rows = len(self._columns), self._pairs, iter(self._rows)
        while batch := list(islice(rows, BATCH_ROWS)):
            if self._held:  # the held row was not the last: a row of the file, to be checked
                for _index, convert in pairs:
                    convert.fits = False
            if min(map(len, batch)) != width or max(map(len, batch)) != width:
                yield list(_ragged_batch(batch, width, pairs))  # for SQLite to refuse
                continue
            sentinel = self._sentinel is not None and batch[-1] == self._sentinel
            held = batch.pop() if sentinel else None
            self._held = held is not None
            if batch:
                for index, convert in pairs:  # C-level maps out of the rows and back in
                    values = convert(list(map(itemgetter(index), batch)))
                    deque(map(setitem, batch, repeat(index), values), maxlen=0)
            if held is not None:
                batch.append(held)
            yield batch

    def fitting(self) -> set[str]:
        """The columns whose every value is known to fit its type (asked after the load)."""
        return {self._columns[i].name for i, convert in self._pairs if convert.fits}


def _ragged_batch(
    batch: list[list], width: int, pairs: list[tuple[int, Callable]]
) -> Iterable[Sequence]:
    """A batch with a row of the wrong length: its right rows converted one by one, the
    wrong one passed on as it is so that the insert stops at it (``RaggedRow``)."""
    for row in batch:
        if len(row) == width:
            for index, convert in pairs:
                row[index] = convert([row[index]])[0]
        yield row


def bulk_insert(
    con: sqlite3.Connection,
    columns: list[Column],
    rows: Iterable[list],
    should_stop: Callable[[], bool] | None,
    readings: list[Reading] | None = None,
    given: Collection[str] = (),
    sentinel_last: bool = False,
) -> set[str]:
    """One statement, one transaction, a stream of rows: no per-row Python on this side
    unless a column's values need converting (``readings``). The columns are named: a table
    appended to may hold them in another order. The columns ``given`` come as SQLite stores
    them: bound as they are, without :func:`value_expression`'s SQL; a yes/no column's SQL
    compares the words of its first rows first. Returns the names of the columns whose every
    value the conversion vouched for (see :class:`ConvertedRows`)."""
    rows = iter(rows)
    head = list(islice(rows, HEAD_ROWS))
    rows = ConvertedRows(chain(head, rows), columns, readings, sentinel_last)
    names = ", ".join(c.name for c in columns)
    values = ", ".join(
        f"?{i}"
        if c.name in given
        else _insert_expression(i, c.type, _words(head, i - 1) if c.type == "boolean" else ())
        for i, c in enumerate(columns, 1)
    )
    if should_stop is not None:
        con.set_progress_handler(should_stop, 200_000)
    con.execute("BEGIN")
    try:
        con.executemany(f"INSERT INTO rows ({names}) VALUES ({values})", rows)
    except sqlite3.ProgrammingError as exc:
        if con.in_transaction:  # SQLite rolls back by itself on a full disk
            con.execute("ROLLBACK")
        if "number of bindings" in str(exc):
            raise RaggedRow(str(exc)) from None
        raise
    except OverflowError as exc:  # an integer beyond 64 bits (the checked rows make it a float)
        if con.in_transaction:  # SQLite rolls back by itself on a full disk
            con.execute("ROLLBACK")
        raise StartAgain(str(exc)) from None
    except sqlite3.OperationalError as exc:
        if con.in_transaction:  # SQLite rolls back by itself on a full disk
            con.execute("ROLLBACK")
        if "interrupted" in str(exc):
            raise Stopped() from None
        raise
    finally:
        con.set_progress_handler(None, 0)
    con.execute("COMMIT")
    return rows.fitting()


HEAD_ROWS = 200  # the first rows, read before the insert is written: its yes/no words


def _words(head: list[list], index: int) -> list[str]:
    """The words the first rows write in a column, commonest first."""
    return [w for w, _ in Counter(r[index] for r in head if len(r) > index).most_common()]


def check_values(
    con: sqlite3.Connection,
    columns: list[Column],
    first_new: int,
    on_bad: str,
    nul: bool = True,
    markers: tuple[str, ...] = (),
) -> LoadResult:
    """Find the values that did not fit their type (and NUL characters in text), in one scan
    when there are none; list each bad value when there are. A missing marker (``markers``)
    in a typed column becomes empty and is counted, not listed."""
    result = LoadResult(rows=0)
    words = sorted({m.strip().lower() for m in markers if m.strip()})
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
    # One scan counts each column's misfits; only the columns that have some are read again.
    tallies = ", ".join(f"count(*) FILTER (WHERE {bad_value(c)})" for c in checked)
    counts = (
        con.execute(f"SELECT {tallies} FROM rows WHERE rowid >= ?", (first_new,)).fetchone()
        if checked
        else ()
    )
    con.execute("BEGIN")
    for column in (c for c, n in zip(checked, counts, strict=True) if n):
        bad = bad_value(column)
        if words:
            emptied = con.execute(
                f"UPDATE rows SET {column.name} = NULL WHERE rowid >= ? AND {bad} AND "
                f"lower(trim({column.name})) IN ({', '.join('?' * len(words))})",
                (first_new, *words),
            ).rowcount
            if emptied:
                result.missing[column.label] = emptied
        count = con.execute(
            f"SELECT count(*) FROM rows WHERE rowid >= ? AND {bad}", (first_new,)
        ).fetchone()[0]
        if not count:
            continue
        result.problem_count += count
        result.misfits[column.label] = count
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
                    "is an Excel error" if value in EXCEL_ERRORS else TYPE_MESSAGES[column.type],
                )
            )
        if on_bad == "empty":
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


def count_excel_errors(
    con: sqlite3.Connection, columns: list[Column], first_new: int
) -> dict[str, int]:
    """The Excel error cells (#DIV/0!, #N/A…) a sheet gave, per column label: kept as written
    (and flagged in a typed column; #N/A is a missing marker), and said in the result."""
    errors = sorted(EXCEL_ERRORS)
    places = ", ".join("?" * len(errors))
    counts = {}
    for column in columns:
        count = con.execute(
            f"SELECT count(*) FROM rows WHERE rowid >= ? AND {column.name} IN ({places})",
            (first_new, *errors),
        ).fetchone()[0]
        if count:
            counts[column.label] = count
    return counts


def append_rows(
    base: Path,
    base_columns: list[Column],
    fresh: Path,
    fresh_columns: list[Column],
    on_bad: str = "keep",
) -> LoadResult:
    """Make ``fresh`` hold ``base``'s rows followed by its own (columns paired by position),
    in the base's columns; all or nothing. The appended values go through the same check as an
    import into those types (``on_bad``, as for :func:`write_dataset`). Returns the
    check's result with the row count."""
    merged = fresh.with_name(fresh.name + ".merged")
    merged.unlink(missing_ok=True)
    try:
        copy_file(base, merged)
        con = connect(merged)
        try:
            con.execute("ATTACH DATABASE ? AS fresh", (str(fresh),))
            con.execute("DROP TABLE IF EXISTS rows_fts")
            drop_search_sets(con)
            first_new = con.execute("SELECT coalesce(max(rowid), 0) + 1 FROM rows").fetchone()[0]
            con.execute(
                f"INSERT INTO rows ({', '.join(c.name for c in base_columns)}) "
                f"SELECT {', '.join(c.name for c in fresh_columns)} FROM fresh.rows ORDER BY rowid"
            )
            con.execute("DETACH DATABASE fresh")
            result = check_values(con, base_columns, first_new, on_bad)
            if on_bad == "refuse" and result.problem_count:
                raise BadValues(result)
            build_search_index(con, base_columns)
            result.rows = con.execute("SELECT count(*) FROM rows").fetchone()[0]
        finally:
            con.close()
        durable_rename(merged, fresh)
    except BaseException:
        merged.unlink(missing_ok=True)
        raise
    return result
