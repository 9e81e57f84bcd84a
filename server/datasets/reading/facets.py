"""Facets: what one column holds in the current view (filters and search), as the most
common values with their counts, or for numbers and dates as ranges, each with the filters
that narrow the view to it.

A range's filters are the smallest and largest value actually in it ("at least" and "at
most"), so clicking it shows exactly the rows it counted, whatever the rounding of its edges.
Pure SQL over the dataset's connection; kept per view until the dataset changes.
"""

from __future__ import annotations

import math
import sqlite3
from dataclasses import dataclass, field
from datetime import date, timedelta

from ...lru import LRUCache
from ..storage import Column, fits
from .browse import View, ensure_sort_index, where

TOP = 10  # values shown; one more is read to know whether there are more
MAX_BINS = 12
RANGED = ("integer", "real", "date", "datetime")


@dataclass(frozen=True)
class FacetItem:
    label: str
    count: int
    filters: dict[str, str]  # query arguments that narrow the view to this item
    value: object = None  # the stored value (values facets) or None (ranges)


@dataclass
class Facet:
    column: Column
    kind: str  # "values" or "ranges"
    items: list[FacetItem] = field(default_factory=list)
    empty: int = 0  # rows of the view with no value in the column
    more: bool = False  # values facets: more values than shown
    period: str = ""  # ranges of dates: "day", "month" or "year"

    @property
    def blank(self) -> bool:
        """No value at all in this column for the view (only empty cells, or no rows)."""
        return not self.items


def _label(column: Column, value: object) -> str:
    if column.type == "boolean" and value in (0, 1):
        return "yes" if value == 1 else "no"
    return str(value)


def _filter_value(column: Column, value: object) -> str:
    if column.type == "boolean" and value in (0, 1):
        return "yes" if value == 1 else "no"
    if isinstance(value, float):
        return repr(value)
    return str(value)


def _values(con: sqlite3.Connection, column: Column, clause: str, params: list) -> Facet:
    c = column.name
    found = con.execute(
        f"SELECT {c}, count(*) AS n FROM rows WHERE ({clause}) AND {c} IS NOT NULL "
        f"GROUP BY {c} ORDER BY n DESC, {c} LIMIT ?",
        [*params, TOP + 1],
    ).fetchall()
    facet = Facet(column, "values", more=len(found) > TOP)
    for value, count in found[:TOP]:
        # "is" compares as the column stores; text that does not fit a typed column is kept
        # as written and cannot be asked for with "is", so it is counted but not clickable.
        clickable = column.type == "text" or (
            column.type == "boolean" and value in (0, 1) and isinstance(value, int)
        )
        filters = {f"{c}.eq": _filter_value(column, value)} if clickable else {}
        facet.items.append(FacetItem(_label(column, value), count, filters, value))
    return facet


def nice_step(low: float, high: float, bins: int = 10) -> float:
    """A round width (1, 2, 2.5 or 5 times a power of ten) giving at most ``bins`` ranges."""
    span = high - low
    if span <= 0:
        return 1.0
    raw = span / bins
    magnitude = 10 ** math.floor(math.log10(raw))
    return next(m * magnitude for m in (1, 2, 2.5, 5, 10, 20) if m * magnitude >= raw)


def _number(value: float) -> str:
    return f"{value:,.10g}"


def _ends(
    con: sqlite3.Connection, column: Column, clause: str, params: list
) -> tuple[object, object]:
    """The smallest and largest fitting value in the view: each the first step of a walk along
    the column's index (a min() with the type check would read every row)."""
    c, ok = column.name, fits(column)
    found = []
    for direction in ("ASC", "DESC"):
        row = con.execute(
            f"SELECT {c} FROM rows WHERE ({clause}) AND {c} IS NOT NULL AND {ok} "
            f"ORDER BY {c} {direction} LIMIT 1",
            params,
        ).fetchone()
        found.append(row[0] if row else None)
    return found[0], found[1]


def _count_ranges(
    con: sqlite3.Connection,
    column: Column,
    clause: str,
    params: list,
    ranges: list[tuple[str, object, object, bool]],
) -> list[FacetItem]:
    """One item per range (label, from, to, to included) holding values: each range is a
    stretch of the column's index, counted on its own, so nothing is sorted. Its filters are
    its smallest and largest value, which select exactly the rows counted."""
    c, ok = column.name, fits(column)
    items = []
    for label, low, high, closed in ranges:
        count, smallest, largest = con.execute(
            f"SELECT count(*), min({c}), max({c}) FROM rows WHERE ({clause}) AND {c} >= ? "
            f"AND {c} {'<=' if closed else '<'} ? AND {ok}",
            [*params, low, high],
        ).fetchone()
        if count:
            filters = {
                f"{c}.min": _filter_value(column, smallest),
                f"{c}.max": _filter_value(column, largest),
            }
            items.append(FacetItem(label, count, filters))
    return items


def _number_ranges(con: sqlite3.Connection, column: Column, clause: str, params: list) -> Facet:
    facet = Facet(column, "ranges")
    low, high = _ends(con, column, clause, params)
    if low is None:
        return facet
    step = nice_step(low, high)
    if column.type == "integer":
        step = max(1, math.ceil(step))
    start = math.floor(low / step) * step
    bins = min(int((high - start) // step) + 1, 4 * MAX_BINS)
    ranges = []
    for index in range(bins):
        edge = start + index * step
        label = f"{_number(edge)} to {_number(edge + step)}"
        if column.type == "integer" and step == 1:
            label = _number(edge)
        last = index == bins - 1
        ranges.append((label, low if index == 0 else edge, high if last else edge + step, last))
    facet.items = _count_ranges(con, column, clause, params, ranges)
    return facet


def _next_month(day: date) -> date:
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


def _date_ranges(con: sqlite3.Connection, column: Column, clause: str, params: list) -> Facet:
    facet = Facet(column, "ranges")
    low, high = _ends(con, column, clause, params)
    if low is None:
        return facet
    first, last = date.fromisoformat(str(low)[:10]), date.fromisoformat(str(high)[:10])
    span = (last - first).days
    ranges = []
    if span < 31:
        facet.period = "day"
        day = first
        while day <= last:
            after = day + timedelta(days=1)
            ranges.append((day.isoformat(), day.isoformat(), after.isoformat(), False))
            day = after
    elif span < 2 * 365:
        facet.period = "month"
        month = first.replace(day=1)
        while month <= last:
            after = _next_month(month)
            ranges.append((month.isoformat()[:7], month.isoformat(), after.isoformat(), False))
            month = after
    else:
        facet.period = "year"
        years = last.year - first.year + 1
        width = max(1, math.ceil(years / (3 * MAX_BINS)))  # past 36 years: several a range
        for year in range(first.year, last.year + 1, width):
            end = min(year + width, 10000)
            label = str(year) if width == 1 else f"{year} to {min(end - 1, last.year)}"
            ranges.append((label, f"{year:04d}-01-01", f"{end:04d}-01-01", False))
    # Values from the last day on (a time of day, or an odd form such as 2024-03-09T10:00)
    # sort after that day's own date: the last range reaches the largest value itself.
    if ranges:
        label, start, _, _ = ranges[-1]
        ranges[-1] = (label, start, high, True)
        label, _, end, closed = ranges[0]
        ranges[0] = (label, low, end, closed)
    facet.items = _count_ranges(con, column, clause, params, ranges)
    return facet


def facet(
    con: sqlite3.Connection, columns: list[Column], column: Column, view: View, searchable: bool
) -> Facet:
    """The facet of ``column`` for ``view`` (raises BadView for a view that cannot apply).

    Text and yes/no columns give their most common values; numbers and dates give ranges.
    The column's index (the one a sort uses) is built first if missing: the counts are then a
    walk along it."""
    clause, params = where(view, columns, searchable)
    ensure_sort_index(con, column.name)
    if column.type in ("integer", "real"):
        found = _number_ranges(con, column, clause, params)
    elif column.type in ("date", "datetime"):
        found = _date_ranges(con, column, clause, params)
    else:
        found = _values(con, column, clause, params)
    found.empty = con.execute(
        f"SELECT count(*) FROM rows WHERE ({clause}) AND {column.name} IS NULL", params
    ).fetchone()[0]
    return found


class FacetCache:
    """Facets by dataset version, column and view: the first look computes, later looks are
    free (a changed dataset has a new version, so old entries are never read again)."""

    def __init__(self, size: int = 512) -> None:
        self._cache: LRUCache[Facet] = LRUCache(size)

    def get(
        self,
        con: sqlite3.Connection,
        version: str,
        columns: list[Column],
        column: Column,
        view: View,
        searchable: bool,
    ) -> tuple[Facet, bool]:
        """The facet, and whether it came from the cache."""
        clause, params = where(view, columns, searchable)
        key = (version, column.name, column.type, clause, tuple(params))
        return self._cache.get(key, lambda: facet(con, columns, column, view, searchable))
