"""Column profiles, computed in SQL (one query per column) and kept until the data changes."""

from __future__ import annotations

import math
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field

from ...lru import LRUCache
from ..storage import Column, bad_value, fits
from .browse import ensure_sort_index
from .scope import EVERY, Scope

HISTOGRAM_BINS = 20
TOP_VALUES = 10


@dataclass
class ColumnProfile:
    column: Column
    count: int
    empty: int
    distinct: int
    misfit: int = 0  # values kept as written that do not fit the type (left out of the figures)
    minimum: object = None
    maximum: object = None
    mean: float | None = None
    stddev: float | None = None
    quartiles: list[object] = field(default_factory=list)  # 25%, 50%, 75%
    top: list[tuple[object, int]] = field(default_factory=list)
    histogram: list[tuple[float, float, int]] = field(default_factory=list)  # (from, to, count)

    @property
    def numeric(self) -> bool:
        return self.column.type in ("integer", "real")

    @property
    def temporal(self) -> bool:
        return self.column.type in ("date", "datetime")


def _quantiles(
    con: sqlite3.Connection, c: str, filled: int, ok: str = "1", scope: Scope = EVERY
) -> list[object]:
    if not filled:
        return []
    out = []
    for q in (0.25, 0.5, 0.75):
        position = min(filled - 1, max(0, math.ceil(q * filled) - 1))
        out.append(
            con.execute(
                f"SELECT {c} FROM rows WHERE {scope.sql(f'{c} IS NOT NULL AND {ok}')} "
                f"ORDER BY {c} LIMIT 1 OFFSET ?",
                (*scope.params, position),
            ).fetchone()[0]
        )
    return out


def _histogram(
    con: sqlite3.Connection,
    expression: str,
    c: str,
    low: float,
    high: float,
    ok: str = "1",
    scope: Scope = EVERY,
) -> list[tuple[float, float, int]]:
    if low is None or high is None:
        return []
    if high == low:
        total = con.execute(
            f"SELECT count({c}) FROM rows WHERE {scope.sql(ok)}", scope.params
        ).fetchone()[0]
        return [(low, high, total)]
    width = (high - low) / HISTOGRAM_BINS
    counts = dict(
        con.execute(
            f"SELECT min(CAST(({expression} - ?) / ? AS INTEGER), ?) AS bin, count(*) "
            f"FROM rows WHERE {scope.sql(f'{c} IS NOT NULL AND {ok}')} GROUP BY bin",
            (low, width, HISTOGRAM_BINS - 1, *scope.params),
        ).fetchall()
    )
    return [
        (low + i * width, low + (i + 1) * width, counts.get(i, 0)) for i in range(HISTOGRAM_BINS)
    ]


def profile_column(con: sqlite3.Connection, column: Column, scope: Scope = EVERY) -> ColumnProfile:
    """One column's profile, over the rows of ``scope`` (all of them by default). The
    column's index is built first if missing (the same one a sort uses): with it, distinct
    values, quartiles and top values are walks along the index instead of a full sort each,
    which took a first profile of a million rows from 39 s to a few seconds."""
    c = column.name
    ensure_sort_index(con, c)
    p = scope.params
    total, filled, distinct = con.execute(
        f"SELECT count(*), count({c}), count(DISTINCT {c}) FROM rows WHERE {scope.sql()}", p
    ).fetchone()
    result = ColumnProfile(column, total, total - filled, distinct)
    ok = fits(column)
    if column.type != "text":
        result.misfit = con.execute(
            f"SELECT count(*) FROM rows WHERE {scope.sql(bad_value(column))}", p
        ).fetchone()[0]
        filled -= result.misfit
    if column.type in ("integer", "real"):
        low, high, mean, square = con.execute(
            f"SELECT min({c}), max({c}), avg({c}), avg({c} * {c}) FROM rows WHERE {scope.sql(ok)}",
            p,
        ).fetchone()
        result.minimum, result.maximum, result.mean = low, high, mean
        if mean is not None:
            variance = max(0.0, square - mean * mean) * (filled / (filled - 1) if filled > 1 else 0)
            result.stddev = math.sqrt(variance)
        result.quartiles = _quantiles(con, c, filled, ok, scope)
        result.histogram = _histogram(con, c, c, low, high, ok, scope)
    elif column.type in ("date", "datetime"):
        low, high, mean = con.execute(
            f"SELECT min({c}), max({c}), avg(julianday({c})) FROM rows WHERE {scope.sql(ok)}", p
        ).fetchone()
        result.minimum, result.maximum = low, high
        result.mean = mean
        result.quartiles = _quantiles(con, c, filled, ok, scope)
        if low is not None:
            day_low, day_high = con.execute(
                f"SELECT julianday(min({c})), julianday(max({c})) FROM rows WHERE {scope.sql(ok)}",
                p,
            ).fetchone()
            result.histogram = _histogram(con, f"julianday({c})", c, day_low, day_high, ok, scope)
    if column.type in ("text", "boolean", "integer") or distinct <= TOP_VALUES:
        result.top = con.execute(
            f"SELECT {c}, count(*) AS n FROM rows WHERE {scope.sql(f'{c} IS NOT NULL')} "
            f"GROUP BY {c} ORDER BY n DESC, {c} LIMIT ?",
            (*p, TOP_VALUES),
        ).fetchall()
    return result


def profile_view(
    con: sqlite3.Connection,
    columns: list[Column],
    scope: Scope = EVERY,
    progress: Callable[[int, Column], None] | None = None,
) -> list[ColumnProfile]:
    """Every column's profile over ``scope``; ``progress(done, column)`` is told before each
    column is started (for a profile running in the background)."""
    out = []
    for done, column in enumerate(columns):
        if progress is not None:
            progress(done, column)
        out.append(profile_column(con, column, scope))
    return out


class ProfileCache:
    """Profiles by dataset version and view: the first look computes them, later looks are
    free. The key holds the view's SQL and values, so each filtered view has its own."""

    def __init__(self, size: int = 32) -> None:
        self._cache: LRUCache[list[ColumnProfile]] = LRUCache(size)

    @staticmethod
    def key(version: str, columns: list[Column], scope: Scope = EVERY) -> tuple:
        return (version, scope.clause, scope.params, tuple(c.name for c in columns))

    def get(
        self,
        con: sqlite3.Connection,
        version: str,
        columns: list[Column],
        scope: Scope = EVERY,
    ) -> tuple[list[ColumnProfile], bool]:
        """The profiles, and whether they came from the cache."""
        return self._cache.get(
            self.key(version, columns, scope), lambda: profile_view(con, columns, scope)
        )

    def peek(
        self, version: str, columns: list[Column], scope: Scope = EVERY
    ) -> list[ColumnProfile] | None:
        """The profiles if they are kept already (nothing is computed)."""
        return self._cache.peek(self.key(version, columns, scope))

    def put(self, key: tuple, profiles: list[ColumnProfile]) -> None:
        """Keep profiles worked out elsewhere (in the background) under ``key``."""
        self._cache.put(key, profiles)
