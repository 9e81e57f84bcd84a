"""Summaries (group-by and pivot, as Grist's summary tables): the view's rows grouped by one
or two columns (dates by day, week, month, quarter or year), with counts, distinct values,
sums, means, minimums, maximums and medians per group.

One SQL statement per summary, and one more per median: each group's values in order, the
middle picked as they stream past. Values kept as written that do not fit their
column's type never count in a sum, mean, minimum, maximum or median (as in profiles), and a
date that does not fit is grouped under its own text. Kept per view until the dataset changes.

A large view's summary is shared by two threads, each with its own connection (SQLite works
without Python's lock): one makes the groups whose first key sorts before a pivot value, the
other the rest (:func:`split_point`). Sorting the rows into groups is most of the work, and
each sorts about half. Every group is still made whole by one statement, reading its rows in
the same order, so every figure (a sum of decimals to the last digit, a median, a count of
distinct values) is the one a single statement gives.
"""

from __future__ import annotations

import functools
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ...lru import LRUCache
from ..storage import Column, fits
from .browse import View, where

if TYPE_CHECKING:
    from concurrent.futures import ThreadPoolExecutor

PERIODS = {
    "day": "day",
    "week": "week (from Monday)",
    "month": "month",
    "quarter": "quarter",
    "year": "year",
}
FUNCTIONS = {
    "count": "Count of rows",
    "distinct": "Distinct values",
    "sum": "Sum",
    "mean": "Mean",
    "min": "Minimum",
    "max": "Maximum",
    "median": "Median",
}
NUMBERS = ("integer", "real")
DATES = ("date", "datetime")
# The column types each function reads (count reads no column).
FUNCTION_TYPES = {
    "distinct": ("text", "integer", "real", "date", "datetime", "boolean"),
    "sum": NUMBERS,
    "mean": NUMBERS,
    "median": NUMBERS,
    "min": ("text", *NUMBERS, *DATES),
    "max": ("text", *NUMBERS, *DATES),
}
NUMBER_FUNCTIONS = ("sum", "mean", "median")
MAX_GROUPS = 5000  # groups read; a summary with more says it shows the first ones
MAX_MEASURES = 3
# From about this many rows in the view a summary is shared by two threads (below it, the
# second connection and the sample cost more than they save).
SHARE_FROM = 50_000
SAMPLE = 1000  # rows looked at, evenly spaced, to choose where to split the groups
# Which groups a half makes: those whose first key sorts before the pivot (empty keys sort
# first), or the others ({key}: the first key's SQL, see :func:`split_on`).
HALVES = {"low": "({key} < ? OR {key} IS NULL)", "high": "{key} >= ?"}
# Periods whose key is the stored text's first characters (a date that fits), else the value.
PREFIXES = {"day": 10, "month": 7, "year": 4}


class SummaryError(ValueError):
    """A summary that cannot be made as asked; the message says why, for a person."""


@dataclass(frozen=True)
class Grouping:
    column: Column
    period: str = ""  # dates only: a key of PERIODS ("" groups by the value itself)

    @property
    def label(self) -> str:
        return f"{self.column.label} ({self.period})" if self.period else self.column.label


@dataclass(frozen=True)
class Measure:
    function: str
    column: Column | None = None  # None for count

    @property
    def label(self) -> str:
        if self.column is None:
            return "Rows"
        return f"{FUNCTIONS[self.function]} of {self.column.label}"


@dataclass
class Summary:
    groupings: list[Grouping]
    measures: list[Measure]
    rows: list[tuple] = field(default_factory=list)  # (key, [key,] value, value, …)
    truncated: bool = False  # more than MAX_GROUPS groups: only the first are here
    # How a page showed it, made once and kept as long as the summary is cached.
    rendered: dict[str, str] = field(default_factory=dict, compare=False, repr=False)

    @property
    def headers(self) -> list[str]:
        return [g.label for g in self.groupings] + [m.label for m in self.measures]


def check(groupings: list[Grouping], measures: list[Measure]) -> None:
    """Raise SummaryError unless the groupings and measures make a summary."""
    if not groupings:
        raise SummaryError("Choose a column to group by.")
    if len(groupings) > 2:
        raise SummaryError("Group by one or two columns.")
    if len({g.column.name for g in groupings}) < len(groupings):
        raise SummaryError("Choose two different columns to group by.")
    for g in groupings:
        if g.period and g.period not in PERIODS:
            raise SummaryError(f"“{g.period}” is not a period: choose a day, week, month, …")
        if g.period and g.column.type not in DATES:
            raise SummaryError(f"{g.column.label} holds no dates: group it without a period.")
    if not measures:
        raise SummaryError("Choose what to compute for each group.")
    if len(measures) > MAX_MEASURES:
        raise SummaryError(f"Choose at most {MAX_MEASURES} things to compute.")
    for m in measures:
        if m.function not in FUNCTIONS:
            raise SummaryError(f"“{m.function[:30]}” is not something a summary computes.")
        if m.function == "count":
            continue
        if m.column is None:
            raise SummaryError(f"{FUNCTIONS[m.function]}: choose the column to compute it of.")
        if m.column.type not in FUNCTION_TYPES[m.function]:
            needed = "number" if m.function in NUMBER_FUNCTIONS else "number, date or text"
            raise SummaryError(
                f"{FUNCTIONS[m.function]} of {m.column.label}: that needs a {needed} column."
            )


def _key(g: Grouping, covered: bool = False) -> str:
    """SQL for a grouping's key. Dates that do not fit keep their own text as the key.

    A plain column's key is written ``+c`` (the same value) unless its index holds all the
    summary reads (``covered``): that stops SQLite from walking the index for the grouping and
    reading the rows in the index's random order, several times slower on a large file than
    one scan and a sort."""
    c = g.column.name
    if not g.period:
        return c if covered else f"+{c}"
    day = f"substr({c}, 1, 10)"
    expression = {
        "day": day,
        "week": f"date({day}, 'weekday 0', '-6 days')",
        "month": f"substr({c}, 1, 7)",
        "quarter": f"substr({c}, 1, 4) || '-Q' || ((CAST(substr({c}, 6, 2) AS INTEGER) + 2) / 3)",
        "year": f"substr({c}, 1, 4)",
    }[g.period]
    return f"CASE WHEN {fits(g.column)} THEN {expression} ELSE {c} END"


def _kept(column: Column) -> str:
    """The column's value where it fits its type, else NULL (left out of the figures)."""
    return (
        column.name if column.type == "text" else f"CASE WHEN {fits(column)} THEN {column.name} END"
    )


def _aggregate(m: Measure) -> str:
    """SQL for one measure over a group (a median is NULL here: see :func:`medians`)."""
    if m.function == "count":
        return "count(*)"
    c = m.column.name
    if m.function == "distinct":
        return f"count(DISTINCT {c})"
    if m.function == "median":
        return "NULL"
    value = _kept(m.column)
    if m.function == "sum":
        return f"total({value})" if m.column.type == "real" else f"sum({value})"
    return {"mean": f"avg({value})", "min": f"min({value})", "max": f"max({value})"}[m.function]


Half = tuple[str, object]  # a key of HALVES and the pivot: the groups one thread makes


def _covered(clause: str, groupings: list[Grouping], read: list[str]) -> bool:
    """One plain grouping, nothing else read and no filter: a walk along its index, no sort."""
    return (
        clause == "1"
        and len(groupings) == 1
        and not groupings[0].period
        and set(read) <= {groupings[0].column.name}
    )


def _read(measures: list[Measure]) -> list[str]:
    return sorted({m.column.name for m in measures if m.column is not None})


def split_on(g: Grouping, pivot: object) -> str:
    """SQL that sorts before ``pivot`` just when the grouping's key does: the key itself, or,
    for a day, month or year cut from the stored text, the plain value when the pivot is as
    long as such a key. A fitting date's key is then its first characters, and the date
    sorts before a pivot of that length just when they do; a value that does not fit is its
    own key. Comparing the values spares computing every row's key once more to split."""
    if g.period in PREFIXES and isinstance(pivot, str) and len(pivot) == PREFIXES[g.period]:
        return f"+{g.column.name}"
    return _key(g)


def _parts(
    columns: list[Column],
    view: View,
    searchable: bool,
    groupings: list[Grouping],
    read: list[str],
    half: Half | None = None,
) -> tuple[str, str, list]:
    """The grouping keys' names, the FROM source (a subquery of the view's rows with their
    keys and the columns read; with ``half``, only the rows of that half's groups) and its
    parameters."""
    clause, params = where(view, columns, searchable)
    names = [f"k{i}" for i in range(len(groupings))]
    covered = _covered(clause, groupings, read)
    keys = ", ".join(f"{_key(g, covered)} AS {n}" for g, n in zip(groupings, names, strict=True))
    if half is not None:
        side, pivot = half
        clause = f"({clause}) AND {HALVES[side].format(key=split_on(groupings[0], pivot))}"
        params = [*params, *([pivot] * HALVES[side].count("?"))]
    source = f"(SELECT {', '.join([keys, *read])} FROM rows WHERE {clause})"
    return ", ".join(names), source, params


def query(
    columns: list[Column],
    view: View,
    searchable: bool,
    groupings: list[Grouping],
    measures: list[Measure],
    half: Half | None = None,
) -> tuple[str, list]:
    """The summary's SQL and parameters (after :func:`check`; a median is NULL here, see
    :func:`median_query`); BadView for a bad view. With ``half``, only that half's groups."""
    by, source, params = _parts(columns, view, searchable, groupings, _read(measures), half)
    selected = ", ".join(_aggregate(m) for m in measures)
    sql = f"SELECT {by}, {selected} FROM {source} GROUP BY {by} ORDER BY {by} LIMIT ?"
    return sql, [*params, MAX_GROUPS + 1]


def median_query(
    columns: list[Column],
    view: View,
    searchable: bool,
    groupings: list[Grouping],
    measure: Measure,
    half: Half | None = None,
) -> tuple[str, list]:
    """SQL giving each group's fitting values of the median's column, in order, group after
    group: the medians are picked from it as it streams (:func:`medians`). With ``half``,
    only that half's groups."""
    by, source, params = _parts(columns, view, searchable, groupings, [measure.column.name], half)
    sql = (
        f"SELECT {by}, v FROM (SELECT {by}, {_kept(measure.column)} AS v FROM {source}) "
        f"WHERE v IS NOT NULL ORDER BY {by}, v"
    )
    return sql, params


def medians(con: sqlite3.Connection, sql: str, params: list, width: int) -> dict[tuple, object]:
    """The median of each group's values (the middle one, or the mean of the two in the
    middle, as statistics.median), read from :func:`median_query`'s rows one group at a time.
    Sorting once and one pass is quicker than numbering the rows with window functions."""
    found: dict[tuple, object] = {}
    current: tuple | None = None
    values: list = []

    def close() -> None:
        if values:
            n = len(values)
            middle = values[n // 2] if n % 2 else (values[n // 2 - 1] + values[n // 2]) / 2
            found[current] = middle

    for row in con.execute(sql, params):
        key = row[:width]
        if key != current:
            close()
            current, values = key, []
        values.append(row[width])
    close()
    return found


Opener = Callable[[], sqlite3.Connection]  # another connection to the same rows (same rules)


def summarize(
    con: sqlite3.Connection,
    columns: list[Column],
    view: View,
    searchable: bool,
    groupings: list[Grouping],
    measures: list[Measure],
    more: Opener | None = None,
) -> Summary:
    """The summary of ``view`` (raises SummaryError or BadView with a sentence). With
    ``more``, a large view's summary is shared with a second thread on the connection it
    opens (it must see the same rows as ``con``); it is closed before this returns."""
    check(groupings, measures)
    return _run(con, columns, view, searchable, groupings, measures, more)


def split_point(
    con: sqlite3.Connection,
    columns: list[Column],
    view: View,
    searchable: bool,
    groupings: list[Grouping],
    measures: list[Measure],
) -> object | None:
    """A value of the first key about half the view's rows sort before (empty keys first),
    judged from :data:`SAMPLE` evenly spaced rows; None when the view looks smaller than
    :data:`SHARE_FROM` rows, when no value splits the sample, or when the summary needs no
    sort (a walk along an index)."""
    clause, params = where(view, columns, searchable)
    if _covered(clause, groupings, _read(measures)):
        return None
    (last,) = con.execute("SELECT rowid FROM rows ORDER BY rowid DESC LIMIT 1").fetchone() or (0,)
    if last < SHARE_FROM:
        return None
    step = max(1, last // SAMPLE)
    keys = [
        key
        for (key,) in con.execute(
            "WITH RECURSIVE spaced(id) AS (SELECT ? UNION ALL SELECT id + ? FROM spaced "
            f"WHERE id + ? <= ?) SELECT {_key(groupings[0])} AS k0 FROM rows "
            f"WHERE rowid IN spaced AND {clause} ORDER BY k0",
            [step, step, step, last, *params],
        )
    ]
    if len(keys) * step < SHARE_FROM:
        return None
    best, distance = None, 1.0
    for i in range(1, len(keys)):
        if keys[i] != keys[i - 1] and abs(i / len(keys) - 0.5) < distance:
            best, distance = keys[i], abs(i / len(keys) - 0.5)
    return best


def _run(
    con: sqlite3.Connection,
    columns: list[Column],
    view: View,
    searchable: bool,
    groupings: list[Grouping],
    measures: list[Measure],
    more: Opener | None = None,
) -> Summary:
    pivot = None
    if more is not None:
        pivot = split_point(con, columns, view, searchable, groupings, measures)

    def groups(con: sqlite3.Connection, floats: bool, half: Half | None) -> list[tuple]:
        return _groups(con, columns, view, searchable, groupings, measures, floats, half)

    def made(floats: bool) -> list[tuple]:
        if pivot is None:
            return groups(con, floats, None)
        return _shared(con, more, lambda c, half: groups(c, floats, half), pivot)

    try:
        rows = made(False)
    except sqlite3.OperationalError as exc:
        if "integer overflow" not in str(exc):
            raise
        # A sum past what SQLite's whole numbers hold: add them as floating-point numbers
        # (in every group, as one statement would).
        rows = made(True)
    return Summary(groupings, measures, rows[:MAX_GROUPS], truncated=len(rows) > MAX_GROUPS)


@functools.cache
def _helpers() -> ThreadPoolExecutor:
    """The second thread of shared summaries (one per summary being made; more wait their
    turn), made when first needed: most starts never summarize a large view."""
    from concurrent.futures import ThreadPoolExecutor

    return ThreadPoolExecutor(max_workers=4, thread_name_prefix="summary-half")


def _shared(
    con: sqlite3.Connection,
    more: Opener,
    groups: Callable[[sqlite3.Connection, Half], list[tuple]],
    pivot: object,
) -> list[tuple]:
    """The low half's groups made here on ``con`` while a helper thread makes the high half's
    on a connection of its own; the low half's groups all sort first, so they go first."""
    other = more()
    try:
        high = _helpers().submit(groups, other, ("high", pivot))
        try:
            low = groups(con, ("low", pivot))
        finally:
            high.exception()  # waits: never close the other connection while its statement runs
        return low + high.result()
    finally:
        other.close()


def _groups(
    con: sqlite3.Connection,
    columns: list[Column],
    view: View,
    searchable: bool,
    groupings: list[Grouping],
    measures: list[Measure],
    floats: bool,
    half: Half | None,
) -> list[tuple]:
    """The groups (all, or one half's) with their figures, medians filled in."""
    sql, params = query(columns, view, searchable, groupings, measures, half)
    if floats:
        sql = sql.replace("sum(CASE", "total(CASE")
    rows = con.execute(sql, params).fetchall()
    width = len(groupings)
    for index, measure in enumerate(measures):
        if measure.function != "median":
            continue
        sql, params = median_query(columns, view, searchable, groupings, measure, half)
        found = medians(con, sql, params, width)
        rows = [
            (*row[: width + index], found.get(tuple(row[:width])), *row[width + index + 1 :])
            for row in rows
        ]
    return rows


class SummaryCache:
    """Summaries by dataset version and SQL: the first look computes, later looks are free."""

    def __init__(self, size: int = 64) -> None:
        self._cache: LRUCache[Summary] = LRUCache(size)

    def get(
        self,
        con: sqlite3.Connection,
        version: str,
        columns: list[Column],
        view: View,
        searchable: bool,
        groupings: list[Grouping],
        measures: list[Measure],
        more: Opener | None = None,
    ) -> tuple[Summary, bool]:
        """The summary, and whether it came from the cache (``more``: see :func:`summarize`)."""
        check(groupings, measures)
        sql, params = query(columns, view, searchable, groupings, measures)
        key = (version, sql, tuple(params), tuple(groupings), tuple(measures))
        return self._cache.get(
            key, lambda: _run(con, columns, view, searchable, groupings, measures, more)
        )


@dataclass
class Pivot:
    """A two-column summary's first measure laid out with the first grouping down the side
    and the second across the top (at most ``MAX_PIVOT_COLUMNS`` across)."""

    row_keys: list[object]
    column_keys: list[object]
    cells: dict[tuple[object, object], object]
    truncated: bool = False


MAX_PIVOT_COLUMNS = 40


def _sqlite_order(value: object) -> tuple:
    """SQLite's order of values of mixed types: empty, numbers, text, bytes."""
    if value is None:
        return (0, 0)
    if isinstance(value, int | float):
        return (1, value)
    return (2, str(value))


def pivot(summary: Summary) -> Pivot | None:
    """The summary as a pivot table (two groupings), else None."""
    if len(summary.groupings) != 2:
        return None
    row_keys: list[object] = []
    column_keys: list[object] = []
    cells: dict[tuple[object, object], object] = {}
    for first, second, value, *_ in summary.rows:
        if first not in row_keys:
            row_keys.append(first)
        if second not in column_keys:
            column_keys.append(second)
        cells[(first, second)] = value
    column_keys.sort(key=_sqlite_order)
    truncated = len(column_keys) > MAX_PIVOT_COLUMNS
    return Pivot(row_keys, column_keys[:MAX_PIVOT_COLUMNS], cells, truncated)
